import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listActiveRules } from "../../src/modules/rules/index.ts";
import { startTestApp, type Tenant, type TestApp } from "../helpers/api.ts";
import { addStaff } from "../helpers/staff.ts";

// Signups are rate limited per client address (20 an hour): tests share two businesses, each with
// a stamp card, a tier and a location to point rules at.
let t: TestApp;
let a: Tenant;
let b: Tenant;
let cardA: string;
let tierA: string;
let locationA: string;
let cardB: string;
let tierB: string;
let locationB: string;

async function post(tenant: Tenant, url: string, body: unknown): Promise<string> {
  t.clock.advance(1_000);
  const res = await tenant.call("POST", url, body);
  if (res.status !== 201) throw new Error(`POST ${url} failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.id;
}

beforeAll(async () => {
  t = await startTestApp();
  a = await t.signup();
  b = await t.signup();
  const card = { name: "Coffee", stamps_required: 10, earn_on: "visit" };
  const tier = { name: "Gold", rank: 1, threshold: 0 };
  cardA = await post(a, "/v1/stamp-cards", card);
  tierA = await post(a, "/v1/tiers", tier);
  locationA = await post(a, "/v1/locations", { name: "Centrum" });
  cardB = await post(b, "/v1/stamp-cards", card);
  tierB = await post(b, "/v1/tiers", tier);
  locationB = await post(b, "/v1/locations", { name: "Rynek" });
});
afterAll(async () => t?.close());

const BASE = { name: "Base", trigger: "purchase", effect: { type: "fixed_points", points: 5 } };

const createRule = (tenant: Tenant, body: Record<string, unknown>) => post(tenant, "/v1/rules", body);

describe("earning rules", () => {
  it("creates a rule with defaults and reads it back", async () => {
    t.clock.advance(1_000);
    const res = await a.call("POST", "/v1/rules", BASE);
    expect(res.status).toBe(201);
    const now = t.clock.now().toISOString();
    expect(res.body).toEqual({
      id: expect.any(String),
      ...BASE,
      description: null,
      event_type: null,
      priority: 100,
      stop_processing: false,
      conditions: {},
      cap: null,
      starts_at: null,
      ends_at: null,
      active: true,
      archived_at: null,
      created_at: now,
      updated_at: now,
    });
    expect((await a.call("GET", `/v1/rules/${res.body.id}`)).body).toEqual(res.body);
    const audit = await t.ctx.db
      .selectFrom("audit_log")
      .select("action")
      .where("business_id", "=", a.businessId)
      .where("target_id", "=", res.body.id)
      .execute();
    expect(audit).toEqual([{ action: "rule.created" }]);
  });

  it("stores every kind of condition, effect and cap", async () => {
    const body = {
      name: "Happy hour on dog food",
      description: "Weekday mornings, Gold members, in the centre",
      trigger: "purchase",
      priority: 10,
      stop_processing: true,
      conditions: {
        min_spend_minor: 500,
        items: { brands: ["Acana"], min_quantity: 2 },
        days_of_week: [1, 2, 3, 4, 5],
        time_window: { from: "07:00", to: "09:00" },
        tier_ids: [tierA],
        first_purchase: false,
        location_ids: [locationA],
        member_attributes: [{ key: "dog", op: "eq", value: "yes" }],
      },
      effect: { type: "points_per_spend", points: 2, per_minor: 100, scope: "matching_items" },
      cap: { period: "day", max_times: 1, max_points: 500 },
      starts_at: "2026-03-01T00:00:00+01:00",
      ends_at: "2026-04-01T00:00:00+02:00",
    };
    t.clock.advance(1_000);
    const res = await a.call("POST", "/v1/rules", body);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      ...body,
      starts_at: "2026-02-28T23:00:00.000Z",
      ends_at: "2026-03-31T22:00:00.000Z",
    });
    const stamps = await a.call("POST", "/v1/rules", {
      name: "Stamp per visit",
      trigger: "purchase",
      effect: { type: "stamps", stamp_card_id: cardA, stamps: 1 },
    });
    expect(stamps.status).toBe(201);
    const review = await a.call("POST", "/v1/rules", {
      name: "Review",
      trigger: "event",
      event_type: "review_written",
      conditions: { event_properties: [{ key: "stars", op: "gte", value: 4 }] },
      effect: { type: "fixed_points", points: 50 },
      cap: { period: "lifetime", max_times: 1 },
    });
    expect(review.status).toBe(201);
    const double = await a.call("POST", "/v1/rules", {
      name: "Double Tuesdays",
      trigger: "purchase",
      conditions: { days_of_week: [2] },
      effect: { type: "multiplier", factor_bp: 20_000 },
    });
    expect(double.status).toBe(201);
  });

  it.each([
    ["trigger event without event_type", { trigger: "event" }, "event_type_required"],
    ["trigger event with a null event_type", { trigger: "event", event_type: null }, "event_type_required"],
    ["trigger purchase with an event_type", { event_type: "review_written" }, "event_type_not_allowed"],
    ["trigger signup with an event_type", { trigger: "signup", event_type: "x" }, "event_type_not_allowed"],
    [
      "a stamp effect on an unknown card",
      { effect: { type: "stamps", stamp_card_id: "0193f1c2-7b4e-7c3a-9f2e-5a1b2c3d4e5f", stamps: 1 } },
      "stamp_card_not_found",
    ],
    [
      "points on matching items without an items condition",
      { effect: { type: "points_per_spend", points: 1, per_minor: 100, scope: "matching_items" } },
      "items_condition_required",
    ],
    [
      "points on matching items with an items condition that names nothing",
      {
        conditions: { items: { skus: [], min_quantity: 1 } },
        effect: { type: "points_per_spend", points: 1, per_minor: 100, scope: "matching_items" },
      },
      "items_condition_required",
    ],
    [
      "a start after the end",
      { starts_at: "2026-05-01T00:00:00Z", ends_at: "2026-04-01T00:00:00Z" },
      "invalid_date_range",
    ],
    [
      "a start equal to the end",
      { starts_at: "2026-05-01T02:00:00+02:00", ends_at: "2026-05-01T00:00:00Z" },
      "invalid_date_range",
    ],
    [
      "an unknown tier",
      { conditions: { tier_ids: ["0193f1c2-7b4e-7c3a-9f2e-5a1b2c3d4e5f"] } },
      "tier_not_found",
    ],
    [
      "a stamp rule capped by points, which it never gives",
      {
        effect: { type: "stamps", stamp_card_id: "0193f1c2-7b4e-7c3a-9f2e-5a1b2c3d4e5f", stamps: 2 },
        cap: { period: "day", max_points: 2 },
      },
      "cap_points_on_stamps",
    ],
    [
      "an unknown location",
      { conditions: { location_ids: ["0193f1c2-7b4e-7c3a-9f2e-5a1b2c3d4e5f"] } },
      "location_not_found",
    ],
    [
      "a multiplier on an event",
      { trigger: "event", event_type: "review_written", effect: { type: "multiplier", factor_bp: 20_000 } },
      "multiplier_needs_purchase",
    ],
    [
      "a multiplier at signup",
      { trigger: "signup", effect: { type: "multiplier", factor_bp: 20_000 } },
      "multiplier_needs_purchase",
    ],
    [
      "a minimum spend on an event",
      { trigger: "event", event_type: "review_written", conditions: { min_spend_minor: 500 } },
      "condition_needs_purchase",
    ],
    [
      "items and a first purchase at signup",
      { trigger: "signup", conditions: { items: { skus: ["latte"] }, first_purchase: true } },
      "condition_needs_purchase",
    ],
    [
      "points per spend on a birthday",
      {
        trigger: "birthday",
        effect: { type: "points_per_spend", points: 1, per_minor: 100, scope: "order" },
      },
      "points_per_spend_needs_purchase",
    ],
    [
      "event properties on a purchase",
      { conditions: { event_properties: [{ key: "stars", op: "gte", value: 4 }] } },
      "condition_needs_event",
    ],
  ])("refuses %s with 422", async (_label, patch, code) => {
    const before = (await a.call("GET", "/v1/rules?include_archived=true")).body.data.length;
    const res = await a.call("POST", "/v1/rules", { ...BASE, ...patch });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe(code);
    expect((await a.call("GET", "/v1/rules?include_archived=true")).body.data).toHaveLength(before);
  });

  it("refuses a stamp card, tier or location of another business, and an archived stamp card", async () => {
    const cases = [
      [{ effect: { type: "stamps", stamp_card_id: cardB, stamps: 1 } }, "stamp_card_not_found"],
      [{ conditions: { tier_ids: [tierA, tierB] } }, "tier_not_found"],
      [{ conditions: { location_ids: [locationB] } }, "location_not_found"],
    ] as const;
    for (const [patch, code] of cases) {
      const res = await a.call("POST", "/v1/rules", { ...BASE, ...patch });
      expect(res.status).toBe(422);
      expect(res.body.error.code).toBe(code);
    }
    const card = await post(a, "/v1/stamp-cards", { name: "Old", stamps_required: 5, earn_on: "visit" });
    await a.call("DELETE", `/v1/stamp-cards/${card}`);
    const archived = await a.call("POST", "/v1/rules", {
      ...BASE,
      effect: { type: "stamps", stamp_card_id: card, stamps: 1 },
    });
    expect(archived.status).toBe(422);
    expect(archived.body.error.code).toBe("stamp_card_not_found");
  });

  it.each([
    ["an unknown trigger", { trigger: "anniversary" }, "trigger"],
    ["an unknown effect", { effect: { type: "cashback", percent: 5 } }, "effect.type"],
    [
      "an event type that is not snake_case",
      { trigger: "event", event_type: "Review Written" },
      "event_type",
    ],
    ["a cap without a limit", { cap: { period: "day" } }, "cap"],
    ["a priority above 1000", { priority: 1001 }, "priority"],
    ["a date without a time zone", { starts_at: "2026-05-01T00:00:00" }, "starts_at"],
    ["an unknown condition", { conditions: { weather: "sunny" } }, "conditions"],
    ["an extra field", { colour: "red" }, ""],
  ])("refuses %s with validation_failed", async (_label, patch, path) => {
    const res = await a.call("POST", "/v1/rules", { ...BASE, ...patch });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("validation_failed");
    expect(res.body.error.details.issues.map((i: { path: string }) => i.path)).toContain(path);
  });

  // An attribute condition that never holds, or holds for everyone without the attribute.
  it.each([
    ["eq without a value", { key: "vip", op: "eq" }],
    ["gt without a value", { key: "age", op: "gt" }],
    ["in with one value, not a list", { key: "city", op: "in", value: "Delft" }],
    ["in with an empty list", { key: "city", op: "in", value: [] }],
    ["gte with a list", { key: "age", op: "gte", value: [18, 21] }],
    ["lt with true", { key: "age", op: "lt", value: true }],
    ["exists with a value", { key: "vip", op: "exists", value: true }],
  ])("refuses an attribute condition, %s, with validation_failed", async (_label, condition) => {
    const res = await a.call("POST", "/v1/rules", {
      ...BASE,
      conditions: { member_attributes: [condition] },
    });
    expect([res.status, res.body.error.code]).toEqual([400, "validation_failed"]);
    expect(res.body.error.details.issues.map((i: { path: string }) => i.path)).toContain(
      "conditions.member_attributes.0.value",
    );
  });

  it("reads a rule stored under the earlier, laxer checks, and a purchase still runs it", async () => {
    const shop = await t.signup();
    const id = await createRule(shop, {
      ...BASE,
      conditions: { member_attributes: [{ key: "vip", op: "eq", value: true }] },
    });
    await t.database.db
      .updateTable("earning_rules")
      .set({ conditions: JSON.stringify({ member_attributes: [{ key: "vip", op: "eq" }] }) })
      .where("business_id", "=", shop.businessId)
      .where("id", "=", id)
      .execute();
    const read = await shop.call("GET", `/v1/rules/${id}`);
    expect([read.status, read.body.conditions]).toEqual([
      200,
      { member_attributes: [{ key: "vip", op: "eq" }] },
    ]);
    const member = await post(shop, "/v1/members", { name: "Vera", marketing_consent: false });
    const bought = await shop.call("POST", "/v1/purchases", {
      external_id: "lax-1",
      member_id: member,
      amount_minor: 500,
      currency: "EUR",
    });
    expect(bought.status).toBe(201);
    // A change must now make it whole.
    const patched = await shop.call("PATCH", `/v1/rules/${id}`, {
      conditions: { member_attributes: [{ key: "vip", op: "eq" }] },
    });
    expect([patched.status, patched.body.error.code]).toEqual([400, "validation_failed"]);
  });

  it("changes the fields sent and checks the rule as a whole", async () => {
    const id = await createRule(a, {
      ...BASE,
      description: "Five points",
      cap: { period: "week", max_times: 2 },
    });
    t.clock.advance(1_000);
    const res = await a.call("PATCH", `/v1/rules/${id}`, {
      name: "Welcome back",
      priority: 5,
      description: null,
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      name: "Welcome back",
      priority: 5,
      description: null,
      trigger: "purchase",
      cap: { period: "week", max_times: 2 },
      conditions: {},
      active: true,
    });
    expect(res.body.updated_at).toBe(t.clock.now().toISOString());

    const toEvent = await a.call("PATCH", `/v1/rules/${id}`, { trigger: "event" });
    expect(toEvent.status).toBe(422);
    expect(toEvent.body.error.code).toBe("event_type_required");
    const event = await a.call("PATCH", `/v1/rules/${id}`, {
      trigger: "event",
      event_type: "survey_answered",
    });
    expect(event.body).toMatchObject({ trigger: "event", event_type: "survey_answered" });
    const back = await a.call("PATCH", `/v1/rules/${id}`, { trigger: "purchase" });
    expect(back.body.error.code).toBe("event_type_not_allowed");
    const multiplier = await a.call("PATCH", `/v1/rules/${id}`, {
      effect: { type: "multiplier", factor_bp: 15_000 },
    });
    expect(multiplier.body.error.code).toBe("multiplier_needs_purchase");
    const ends = await a.call("PATCH", `/v1/rules/${id}`, { starts_at: "2026-06-01T00:00:00Z" });
    expect(ends.status).toBe(200);
    const range = await a.call("PATCH", `/v1/rules/${id}`, { ends_at: "2026-05-01T00:00:00Z" });
    expect(range.body.error.code).toBe("invalid_date_range");
    const cleared = await a.call("PATCH", `/v1/rules/${id}`, { cap: null, starts_at: null, active: false });
    expect(cleared.body).toMatchObject({ cap: null, starts_at: null, active: false });
    expect((await a.call("PATCH", `/v1/rules/${id}`, {})).status).toBe(400);
  });

  it("checks references only when they change, so a rule whose tier was archived can still be edited", async () => {
    const tier = await post(a, "/v1/tiers", { name: "Platinum", rank: 2, threshold: 100 });
    const id = await createRule(a, { ...BASE, conditions: { tier_ids: [tier] } });
    expect((await a.call("DELETE", `/v1/tiers/${tier}`)).status).toBe(200);
    const renamed = await a.call("PATCH", `/v1/rules/${id}`, { name: "Platinum bonus" });
    expect(renamed.status).toBe(200);
    const conditions = await a.call("PATCH", `/v1/rules/${id}`, { conditions: { tier_ids: [tier] } });
    expect(conditions.status).toBe(422);
    expect(conditions.body.error.code).toBe("tier_not_found");
  });

  it("lists rules in evaluation order and filters by trigger", async () => {
    const first = await createRule(b, { ...BASE, name: "Late", priority: 50 });
    const second = await createRule(b, { ...BASE, name: "Early", priority: 10 });
    const third = await createRule(b, { ...BASE, name: "Late too", priority: 50 });
    const signup = await createRule(b, { ...BASE, name: "Welcome", trigger: "signup", priority: 1 });
    const list = await b.call("GET", "/v1/rules");
    expect(list.body.data.map((r: { id: string }) => r.id)).toEqual([signup, second, first, third]);
    const purchases = await b.call("GET", "/v1/rules?trigger=purchase");
    expect(purchases.body.data.map((r: { id: string }) => r.id)).toEqual([second, first, third]);
    expect((await b.call("GET", "/v1/rules?trigger=refund")).status).toBe(400);
  });

  it("gives the engine only active, unarchived rules of a trigger and event type, parsed and in order", async () => {
    const tenant = await t.signup();
    const late = await createRule(tenant, {
      ...BASE,
      name: "Late",
      priority: 200,
      cap: { period: "day", max_points: 10 },
    });
    const early = await createRule(tenant, {
      ...BASE,
      name: "Early",
      priority: 1,
      starts_at: "2026-01-01T00:00:00Z",
      conditions: { days_of_week: [6, 7] },
    });
    const paused = await createRule(tenant, { ...BASE, name: "Paused", active: false });
    const archived = await createRule(tenant, { ...BASE, name: "Archived" });
    await tenant.call("DELETE", `/v1/rules/${archived}`);
    const review = await createRule(tenant, { ...BASE, trigger: "event", event_type: "review_written" });
    const survey = await createRule(tenant, { ...BASE, trigger: "event", event_type: "survey_answered" });

    const purchase = await listActiveRules(t.ctx.db, tenant.businessId, "purchase");
    expect(purchase.map((r) => r.id)).toEqual([early, late]);
    expect(purchase[0]).toMatchObject({
      conditions: { days_of_week: [6, 7] },
      effect: { type: "fixed_points", points: 5 },
      cap: null,
      starts_at: new Date("2026-01-01T00:00:00Z"),
      ends_at: null,
    });
    expect(purchase[1]?.cap).toEqual({ period: "day", max_points: 10 });
    expect(purchase.map((r) => r.id)).not.toContain(paused);
    expect(
      (await listActiveRules(t.ctx.db, tenant.businessId, "event", "review_written")).map((r) => r.id),
    ).toEqual([review]);
    expect((await listActiveRules(t.ctx.db, tenant.businessId, "event")).map((r) => r.id).sort()).toEqual(
      [review, survey].sort(),
    );
    expect(await listActiveRules(t.ctx.db, tenant.businessId, "signup")).toEqual([]);
  });

  it("archives a rule: out of the list and the engine, kept on record, frozen", async () => {
    const id = await createRule(b, { ...BASE, name: "Temporary" });
    t.clock.advance(1_000);
    const archived = await b.call("DELETE", `/v1/rules/${id}`);
    expect(archived.status).toBe(200);
    expect(archived.body.archived_at).toBe(t.clock.now().toISOString());
    expect((await b.call("GET", "/v1/rules")).body.data.map((r: { id: string }) => r.id)).not.toContain(id);
    expect(
      (await b.call("GET", "/v1/rules?include_archived=true")).body.data.map((r: { id: string }) => r.id),
    ).toContain(id);
    expect((await listActiveRules(t.ctx.db, b.businessId, "purchase")).map((r) => r.id)).not.toContain(id);
    const patch = await b.call("PATCH", `/v1/rules/${id}`, { name: "Again" });
    expect(patch.status).toBe(409);
    expect(patch.body.error.code).toBe("rule_archived");
    const again = await b.call("DELETE", `/v1/rules/${id}`);
    expect(again.body.archived_at).toBe(archived.body.archived_at);
    const audit = await t.ctx.db
      .selectFrom("audit_log")
      .select("action")
      .where("business_id", "=", b.businessId)
      .where("target_id", "=", id)
      .orderBy("created_at")
      .execute();
    expect(audit.map((x) => x.action)).toEqual(["rule.created", "rule.archived"]);
  });

  it("lets a cashier read rules but not change them", async () => {
    const id = await createRule(a, BASE);
    const cashier = (await addStaff(t, a, "cashier")).session;
    expect((await cashier.call("GET", "/v1/rules")).status).toBe(200);
    expect((await cashier.call("GET", `/v1/rules/${id}`)).status).toBe(200);
    for (const [method, url, body] of [
      ["POST", "/v1/rules", BASE],
      ["PATCH", `/v1/rules/${id}`, { name: "X" }],
      ["DELETE", `/v1/rules/${id}`, undefined],
    ] as const) {
      const res = await cashier.call(method, url, body);
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe("forbidden");
    }
    const manager = (await addStaff(t, a, "manager")).session;
    expect((await manager.call("PATCH", `/v1/rules/${id}`, { name: "Managed" })).status).toBe(200);
  });

  it("keeps rules to their business: another business gets rule_not_found", async () => {
    const id = await createRule(a, BASE);
    for (const [method, body] of [
      ["GET", undefined],
      ["PATCH", { name: "Stolen" }],
      ["DELETE", undefined],
    ] as const) {
      const res = await b.call(method, `/v1/rules/${id}`, body);
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe("rule_not_found");
    }
    expect(
      (await b.call("GET", "/v1/rules?include_archived=true")).body.data.map((r: { id: string }) => r.id),
    ).not.toContain(id);
    expect((await a.call("GET", `/v1/rules/${id}`)).body).toMatchObject({ name: "Base", archived_at: null });
    const unknown = await a.call("GET", "/v1/rules/0193f1c2-7b4e-7c3a-9f2e-5a1b2c3d4e5f");
    expect(unknown.body.error.code).toBe("rule_not_found");
  });

  it("documents every route in the OpenAPI document", async () => {
    const doc = t.app.swagger() as { paths: Record<string, Record<string, { description?: string }>> };
    for (const path of ["/v1/program", "/v1/stamp-cards/{id}", "/v1/tiers/{id}", "/v1/rules/{id}"]) {
      expect(doc.paths[path]).toBeDefined();
    }
    expect(doc.paths["/v1/rules"]?.post?.description).toContain("multiplier_needs_purchase");
  });
});
