import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type Tenant, type TestApp } from "../helpers/api.ts";
import { addStaff } from "../helpers/staff.ts";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => t?.close());

const UNKNOWN_ID = "0193f1c2-7b4e-7c3a-9f2e-5a1b2c3d4e5f";

const latte = {
  name: "Free latte",
  type: "free_product",
  value: { product_name: "Latte", sku: "latte" },
  cost_points: 100,
};

async function createReward(tenant: Tenant, body: Record<string, unknown> = latte) {
  const res = await tenant.call("POST", "/v1/rewards", body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { id: string } & Record<string, unknown>;
}

async function stampCard(tenant: Tenant) {
  const res = await tenant.call("POST", "/v1/stamp-cards", {
    name: "Coffee card",
    stamps_required: 5,
    earn_on: "visit",
  });
  expect(res.status).toBe(201);
  return res.body.id as string;
}

async function tier(tenant: Tenant, rank = 1) {
  const res = await tenant.call("POST", "/v1/tiers", {
    name: `Tier ${rank}`,
    rank,
    threshold: rank * 10_000,
  });
  expect(res.status).toBe(201);
  return res.body.id as string;
}

describe("the reward catalog", () => {
  it.each([
    ["discount_amount", { amount_minor: 500 }],
    ["discount_percent", { percent: 10, max_discount_minor: 1000 }],
    ["discount_percent", { percent: 100 }],
    ["free_product", { product_name: "Croissant" }],
    ["experience", { starts_at: "2026-04-01T18:00:00+02:00", place: "The roastery" }],
    ["experience", {}],
    ["perk", { perk: "free_shipping" }],
    ["perk", { perk: "other", detail: "Skip the queue" }],
    ["donation", { cause: "Animal shelter", amount_minor: 250 }],
  ])("creates a %s reward with value %j and reads it back", async (type, value) => {
    const tenant = await t.signup();
    const created = await createReward(tenant, { name: "A reward", type, value, cost_points: 50 });
    expect(created).toMatchObject({
      name: "A reward",
      description: null,
      type,
      value,
      cost_points: 50,
      stamp_card_id: null,
      eligible_tier_ids: [],
      stock: null,
      per_member_limit: null,
      valid_from: null,
      valid_until: null,
      voucher_valid_days: 30,
      active: true,
      archived_at: null,
    });
    const read = await tenant.call("GET", `/v1/rewards/${created.id}`);
    expect(read.status).toBe(200);
    expect(read.body).toEqual(created);
  });

  it("creates a reward paid with a full stamp card, for some tiers, with stock, limit and dates", async () => {
    const tenant = await t.signup();
    const card = await stampCard(tenant);
    const gold = await tier(tenant);
    const created = await createReward(tenant, {
      name: "Roastery tour",
      description: "Behind the scenes with our roaster",
      type: "experience",
      value: { place: "Roastery" },
      stamp_card_id: card,
      eligible_tier_ids: [gold, gold],
      stock: 12,
      per_member_limit: 1,
      valid_from: "2026-03-01T00:00:00Z",
      valid_until: "2026-04-01T00:00:00Z",
      voucher_valid_days: 7,
      active: false,
    });
    expect(created).toMatchObject({
      cost_points: null,
      stamp_card_id: card,
      eligible_tier_ids: [gold],
      stock: 12,
      per_member_limit: 1,
      valid_from: "2026-03-01T00:00:00.000Z",
      valid_until: "2026-04-01T00:00:00.000Z",
      voucher_valid_days: 7,
      active: false,
    });
  });

  it.each([
    ["a value that does not fit the type", { value: { amount_minor: 100 } }, 400, "validation_failed"],
    ["an unknown type", { type: "cashback" }, 400, "validation_failed"],
    ["a percent of 0", { type: "discount_percent", value: { percent: 0 } }, 400, "validation_failed"],
    ["a percent above 100", { type: "discount_percent", value: { percent: 101 } }, 400, "validation_failed"],
    ["an unknown perk", { type: "perk", value: { perk: "massage" } }, 400, "validation_failed"],
    ["a cost of 0 points", { cost_points: 0 }, 400, "validation_failed"],
    ["a negative stock", { stock: -1 }, 400, "validation_failed"],
    ["a per-member limit of 0", { per_member_limit: 0 }, 400, "validation_failed"],
    ["an extra field", { colour: "red" }, 400, "validation_failed"],
    ["an extra field in value", { value: { product_name: "Latte", size: "XL" } }, 400, "validation_failed"],
    ["no cost at all", { cost_points: undefined }, 422, "invalid_cost"],
    ["both points and a stamp card", { stamp_card_id: UNKNOWN_ID }, 422, "invalid_cost"],
    ["an unknown stamp card", { cost_points: null, stamp_card_id: UNKNOWN_ID }, 422, "stamp_card_not_found"],
    ["an unknown tier", { eligible_tier_ids: [UNKNOWN_ID] }, 422, "tier_not_found"],
    [
      "valid_from after valid_until",
      { valid_from: "2026-05-01T00:00:00Z", valid_until: "2026-04-01T00:00:00Z" },
      422,
      "invalid_date_range",
    ],
    [
      "valid_from equal to valid_until",
      { valid_from: "2026-05-01T00:00:00Z", valid_until: "2026-05-01T00:00:00Z" },
      422,
      "invalid_date_range",
    ],
    [
      "a valid_until already past (a mistyped year)",
      { valid_until: "2020-01-01T00:00:00Z" },
      422,
      "valid_until_in_past",
    ],
    [
      "an experience that already took place",
      { type: "experience", value: { starts_at: "2026-03-01T18:00:00+01:00", place: "Roastery" } },
      422,
      "starts_at_in_past",
    ],
  ])("refuses %s and creates nothing", async (_label, patch, status, code) => {
    const tenant = await t.signup();
    const res = await tenant.call("POST", "/v1/rewards", { ...latte, ...patch });
    expect(res.status).toBe(status);
    expect(res.body.error.code).toBe(code);
    const list = await tenant.call("GET", "/v1/rewards?include_archived=true");
    expect(list.body.data).toHaveLength(0);
  });

  it("refuses an archived stamp card, and another business's card and tier", async () => {
    const tenant = await t.signup();
    const other = await t.signup();
    const archived = await stampCard(tenant);
    await tenant.call("DELETE", `/v1/stamp-cards/${archived}`);
    const foreignCard = await stampCard(other);
    const foreignTier = await tier(other);
    for (const [body, code] of [
      [{ ...latte, cost_points: null, stamp_card_id: archived }, "stamp_card_not_found"],
      [{ ...latte, cost_points: null, stamp_card_id: foreignCard }, "stamp_card_not_found"],
      [{ ...latte, eligible_tier_ids: [foreignTier] }, "tier_not_found"],
    ] as const) {
      const res = await tenant.call("POST", "/v1/rewards", body);
      expect(res.status).toBe(422);
      expect(res.body.error.code).toBe(code);
    }
  });

  it("changes the fields sent, clears fields sent as null, and switches the cost to a stamp card", async () => {
    const tenant = await t.signup();
    const card = await stampCard(tenant);
    const reward = await createReward(tenant, { ...latte, description: "Any size", stock: 5 });
    t.clock.advance(60_000);
    const res = await tenant.call("PATCH", `/v1/rewards/${reward.id}`, {
      name: "Free cappuccino",
      description: null,
      stock: null,
      value: { product_name: "Cappuccino" },
      cost_points: null,
      stamp_card_id: card,
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      name: "Free cappuccino",
      description: null,
      stock: null,
      type: "free_product",
      value: { product_name: "Cappuccino" },
      cost_points: null,
      stamp_card_id: card,
    });
    expect(res.body.updated_at).not.toBe(reward.updated_at);
    const changeType = await tenant.call("PATCH", `/v1/rewards/${reward.id}`, {
      type: "discount_amount",
      value: { amount_minor: 300 },
    });
    expect(changeType.status).toBe(200);
    expect(changeType.body).toMatchObject({ type: "discount_amount", value: { amount_minor: 300 } });
  });

  it.each([
    ["nothing", {}, 400, "validation_failed"],
    ["a type without a value", { type: "discount_amount" }, 400, "validation_failed"],
    [
      "a value that does not fit the current type",
      { value: { amount_minor: 100 } },
      400,
      "validation_failed",
    ],
    ["two ways to pay", { stamp_card_id: UNKNOWN_ID }, 422, "invalid_cost"],
    ["no way to pay", { cost_points: null }, 422, "invalid_cost"],
    ["an unknown tier", { eligible_tier_ids: [UNKNOWN_ID] }, 422, "tier_not_found"],
    ["an end before the existing start", { valid_until: "2026-01-01T00:00:00Z" }, 422, "invalid_date_range"],
    ["an end already past", { valid_until: "2026-03-01T00:00:00Z" }, 422, "valid_until_in_past"],
    [
      "an experience that already took place",
      { type: "experience", value: { starts_at: "2026-02-14T18:00:00Z" } },
      422,
      "starts_at_in_past",
    ],
  ])("refuses a change with %s and changes nothing", async (_label, patch, status, code) => {
    const tenant = await t.signup();
    const reward = await createReward(tenant, { ...latte, valid_from: "2026-02-01T00:00:00Z" });
    const res = await tenant.call("PATCH", `/v1/rewards/${reward.id}`, patch);
    expect(res.status).toBe(status);
    expect(res.body.error.code).toBe(code);
    expect((await tenant.call("GET", `/v1/rewards/${reward.id}`)).body).toEqual(reward);
  });

  it("refuses a new type without its value at value, with a reason a client can word, and changes nothing", async () => {
    const tenant = await t.signup();
    const reward = await createReward(tenant);
    const res = await tenant.call("PATCH", `/v1/rewards/${reward.id}`, {
      type: "perk",
      name: "Free delivery",
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("validation_failed");
    expect(res.body.error.message).toBe(
      'Invalid body at "value": must be sent with type "perk": a new type needs its value in the same request',
    );
    expect(res.body.error.details.issues).toEqual([
      {
        in: "body",
        path: "value",
        code: "custom",
        message: 'must be sent with type "perk": a new type needs its value in the same request',
        params: { reason: "type_needs_value" },
      },
    ]);
    expect((await tenant.call("GET", `/v1/rewards/${reward.id}`)).body).toEqual(reward);
  });

  it("refuses an end at the very moment of the request, and says what is wrong", async () => {
    const tenant = await t.signup();
    const now = t.clock.now().toISOString();
    const res = await tenant.call("POST", "/v1/rewards", { ...latte, valid_until: now });
    expect([res.status, res.body.error.code]).toEqual([422, "valid_until_in_past"]);
    expect(res.body.error.message).toContain("no member could ever redeem the reward");
    expect(res.body.error.details).toEqual({ valid_until: now, now });
    const soon = new Date(t.clock.now().getTime() + 1000).toISOString();
    expect((await tenant.call("POST", "/v1/rewards", { ...latte, valid_until: soon })).status).toBe(201);
  });

  it("lets a reward whose end or workshop has passed since be changed, and its dates be sent back unchanged", async () => {
    const tenant = await t.signup();
    const end = new Date(t.clock.now().getTime() + 60_000);
    const start = new Date(t.clock.now().getTime() + 30_000).toISOString();
    const reward = await createReward(tenant, {
      ...latte,
      type: "experience",
      value: { starts_at: start, place: "Roastery" },
      valid_until: end.toISOString(),
    });
    t.clock.advance(120_000);
    // A form sends back what it shows: the dates as they are stored are no new mistake.
    const renamed = await tenant.call("PATCH", `/v1/rewards/${reward.id}`, {
      name: "Roastery tour",
      valid_until: end.toISOString(),
      value: { starts_at: start, place: "Roastery" },
    });
    expect(renamed.status, JSON.stringify(renamed.body)).toBe(200);
    expect(renamed.body.name).toBe("Roastery tour");
    const later = new Date(t.clock.now().getTime() + 86_400_000).toISOString();
    const extended = await tenant.call("PATCH", `/v1/rewards/${reward.id}`, {
      valid_until: later,
      value: { starts_at: later, place: "Roastery" },
    });
    expect(extended.status).toBe(200);
    expect(extended.body.valid_until).toBe(later);
  });

  it("archives a reward once, keeps it readable, and refuses to change it", async () => {
    const tenant = await t.signup();
    const reward = await createReward(tenant);
    const archived = await tenant.call("DELETE", `/v1/rewards/${reward.id}`);
    expect(archived.status).toBe(200);
    expect(archived.body.archived_at).toBe(t.clock.now().toISOString());
    t.clock.advance(1000);
    const again = await tenant.call("DELETE", `/v1/rewards/${reward.id}`);
    expect(again.body).toEqual(archived.body);
    expect((await tenant.call("GET", `/v1/rewards/${reward.id}`)).body).toEqual(archived.body);
    const patch = await tenant.call("PATCH", `/v1/rewards/${reward.id}`, { name: "Back" });
    expect(patch.status).toBe(409);
    expect(patch.body.error.code).toBe("reward_archived");
    expect((await tenant.call("GET", "/v1/rewards")).body.data).toHaveLength(0);
    expect((await tenant.call("GET", "/v1/rewards?include_archived=true")).body.data).toHaveLength(1);
  });

  it("lists rewards newest first, a page at a time", async () => {
    const tenant = await t.signup();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      t.clock.advance(1);
      ids.push((await createReward(tenant, { ...latte, name: `Reward ${i}` })).id);
    }
    const first = await tenant.call("GET", "/v1/rewards?limit=2");
    expect(first.body.data.map((r: { id: string }) => r.id)).toEqual([ids[2], ids[1]]);
    const second = await tenant.call("GET", `/v1/rewards?limit=2&cursor=${first.body.next_cursor}`);
    expect(second.body.data.map((r: { id: string }) => r.id)).toEqual([ids[0]]);
    expect(second.body.next_cursor).toBeNull();
  });

  it("lets a cashier read the catalog but not change it", async () => {
    const tenant = await t.signup();
    const reward = await createReward(tenant);
    const cashier = (await addStaff(t, tenant, "cashier")).session;
    expect((await cashier.call("GET", "/v1/rewards")).body.data).toHaveLength(1);
    expect((await cashier.call("GET", `/v1/rewards/${reward.id}`)).status).toBe(200);
    for (const [method, url, body] of [
      ["POST", "/v1/rewards", latte],
      ["PATCH", `/v1/rewards/${reward.id}`, { name: "Mine" }],
      ["DELETE", `/v1/rewards/${reward.id}`, undefined],
    ] as const) {
      const res = await cashier.call(method, url, body);
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe("forbidden");
    }
  });

  it("audits every change of the catalog", async () => {
    const tenant = await t.signup();
    const reward = await createReward(tenant);
    await tenant.call("PATCH", `/v1/rewards/${reward.id}`, { stock: 3 });
    await tenant.call("DELETE", `/v1/rewards/${reward.id}`);
    const rows = await t.database.db
      .selectFrom("audit_log")
      .select(["action", "target_id"])
      .where("business_id", "=", tenant.businessId)
      .where("target_type", "=", "reward")
      .orderBy("id")
      .execute();
    expect(rows).toEqual([
      { action: "reward.created", target_id: reward.id },
      { action: "reward.updated", target_id: reward.id },
      { action: "reward.archived", target_id: reward.id },
    ]);
  });

  it("keeps each business's catalog to itself", async () => {
    const tenant = await t.signup();
    const other = await t.signup();
    const reward = await createReward(tenant);
    for (const [method, body] of [
      ["GET", undefined],
      ["PATCH", { name: "Stolen" }],
      ["DELETE", undefined],
    ] as const) {
      const res = await other.call(method, `/v1/rewards/${reward.id}`, body);
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe("reward_not_found");
    }
    expect((await other.call("GET", "/v1/rewards")).body.data).toHaveLength(0);
    expect((await tenant.call("GET", `/v1/rewards/${reward.id}`)).body).toEqual(reward);
  });
});

describe("a member's available rewards, a page at a time", () => {
  /** A member with `points` available and rewards of these prices, in a business of its own. */
  async function shop(points: number, prices: number[]) {
    const tenant = await t.signup();
    const member = (await tenant.call("POST", "/v1/members", { marketing_consent: false })).body.id as string;
    const bought = await tenant.call("POST", "/v1/purchases", {
      external_id: `p-${points}`,
      member_id: member,
      amount_minor: points * 100,
      currency: "EUR",
    });
    expect(bought.status).toBe(201);
    const ids: Record<string, string> = {};
    for (const price of prices) {
      ids[`R${price}`] = (await createReward(tenant, { ...latte, name: `R${price}`, cost_points: price })).id;
    }
    return { tenant, member, ids };
  }

  /** The names on the pages after `cursor`, to the end. */
  async function rest(tenant: Tenant, member: string, cursor: string | null): Promise<string[]> {
    const names: string[] = [];
    while (cursor) {
      const url = `/v1/members/${member}/available-rewards?limit=2&cursor=${encodeURIComponent(cursor)}`;
      const page = await tenant.call("GET", url);
      expect(page.status, JSON.stringify(page.body)).toBe(200);
      names.push(...page.body.data.map((r: { name: string }) => r.name));
      cursor = page.body.next_cursor;
    }
    return names;
  }

  const names = (body: { data: { name: string }[] }) => body.data.map((r) => r.name);

  it.each([
    // The old, position-based cursor skipped R30 here (it started after R20's new position).
    ["made dearer", { cost_points: 35 }, ["R30", "R35", "R40"]],
    // It showed R10 again here (R20 had moved in front of it).
    ["made cheaper", { cost_points: 5 }, ["R30", "R40"]],
    // It refused the cursor here (400 invalid_cursor: start again).
    ["archived", null, ["R30", "R40"]],
    ["made too dear for the member", { cost_points: 60 }, ["R30", "R40"]],
  ])(
    "goes on after the last reward's place when that reward is %s between two pages",
    async (_label, change, after) => {
      const { tenant, member, ids } = await shop(50, [10, 20, 30, 40]);
      const first = await tenant.call("GET", `/v1/members/${member}/available-rewards?limit=2`);
      expect(names(first.body)).toEqual(["R10", "R20"]);
      const changed =
        change === null
          ? await tenant.call("DELETE", `/v1/rewards/${ids.R20}`)
          : await tenant.call("PATCH", `/v1/rewards/${ids.R20}`, {
              ...change,
              name: `R${change.cost_points}`,
            });
      expect(changed.status).toBe(200);
      expect(await rest(tenant, member, first.body.next_cursor)).toEqual(after);
    },
  );

  it("goes on after the last reward's place when another reward's price or the balance changes", async () => {
    const { tenant, member, ids } = await shop(35, [10, 20, 30, 50]);
    const first = await tenant.call("GET", `/v1/members/${member}/available-rewards?limit=2`);
    expect(names(first.body)).toEqual(["R10", "R20"]);
    // R10 becomes dearer than the cursor's place: it shows again at its new place. R30 becomes
    // cheaper than it: it is not on the rest of this pass (it is in front of where the member
    // is), and a new listing shows it. Points bought meanwhile make R50 affordable.
    await tenant.call("PATCH", `/v1/rewards/${ids.R10}`, { name: "R25", cost_points: 25 });
    await tenant.call("PATCH", `/v1/rewards/${ids.R30}`, { name: "R15", cost_points: 15 });
    await tenant.call("POST", "/v1/purchases", {
      external_id: "p-more",
      member_id: member,
      amount_minor: 2000,
      currency: "EUR",
    });
    expect(await rest(tenant, member, first.body.next_cursor)).toEqual(["R25", "R50"]);
    const whole = await tenant.call("GET", `/v1/members/${member}/available-rewards`);
    expect(names(whole.body)).toEqual(["R15", "R20", "R25", "R50"]);
  });

  it("puts rewards paid with a stamp card after those paid in points, across pages", async () => {
    const { tenant, member } = await shop(50, [10, 20]);
    const card = await stampCard(tenant);
    const stamped = await tenant.call("POST", `/v1/members/${member}/adjustments`, {
      stamp_card_id: card,
      stamps: 5,
      reason: "Card from the old paper system",
    });
    expect(stamped.status).toBe(201);
    for (const n of [1, 2, 3]) {
      await createReward(tenant, { ...latte, name: `Card ${n}`, cost_points: null, stamp_card_id: card });
    }
    const whole = names((await tenant.call("GET", `/v1/members/${member}/available-rewards`)).body);
    expect(whole.slice(0, 2)).toEqual(["R10", "R20"]);
    expect(whole).toHaveLength(5);
    const first = await tenant.call("GET", `/v1/members/${member}/available-rewards?limit=2`);
    expect([...names(first.body), ...(await rest(tenant, member, first.body.next_cursor))]).toEqual(whole);
  });
});
