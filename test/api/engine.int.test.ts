import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addLocalDays } from "../../src/shared/time.ts";
import { startTestApp, type Tenant, type TestApp } from "../helpers/api.ts";
import { addStaff } from "../helpers/staff.ts";

/** The loyalty engine end to end through the API: a café's card, rules, tiers, refunds, expiry. */

let t: TestApp;
beforeAll(async () => {
  // Monday 2 March 2026, 10:00 in Amsterdam.
  t = await startTestApp({ now: "2026-03-02T09:00:00Z" });
});
afterAll(async () => t?.close());

const DAY = 86_400_000;
let seq = 0;

async function ok(
  tenant: Tenant,
  method: "POST" | "PUT" | "PATCH",
  url: string,
  body: unknown,
  status = 201,
) {
  const res = await tenant.call(method, url, body);
  if (res.status !== status) throw new Error(`${method} ${url} → ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

async function cafe() {
  const tenant = await t.signup();
  const card = await ok(tenant, "POST", "/v1/stamp-cards", {
    name: "Coffee card",
    stamps_required: 10,
    earn_on: "item",
    item_match: { categories: ["coffee"] },
  });
  const member = await ok(tenant, "POST", "/v1/members", {
    name: "Anna",
    email: `anna${++seq}@example.test`,
    marketing_consent: true,
  });
  return { tenant, card, member };
}

function purchase(
  tenant: Tenant,
  memberId: string,
  amount: number,
  items: unknown[] = [],
  extra: Record<string, unknown> = {},
) {
  return ok(tenant, "POST", "/v1/purchases", {
    external_id: `p-${++seq}`,
    member_id: memberId,
    amount_minor: amount,
    currency: "EUR",
    items,
    ...extra,
  });
}

const latte = (quantity = 1) => ({ sku: "latte", category: "coffee", quantity, unit_price_minor: 350 });
const croissant = { sku: "croissant", category: "pastry", quantity: 1, unit_price_minor: 250 };

describe("a café's stamp card", () => {
  it("gives a stamp per coffee and offers the free coffee on the tenth", async () => {
    const { tenant, card, member } = await cafe();
    const reward = await ok(tenant, "POST", "/v1/rewards", {
      name: "Free coffee",
      type: "free_product",
      value: { product_name: "Any coffee" },
      stamp_card_id: card.id,
    });
    let last: any;
    for (let i = 0; i < 10; i++)
      last = await purchase(
        tenant,
        member.id,
        i === 9 ? 600 : 350,
        i === 9 ? [latte(), croissant] : [latte()],
      );
    expect(last.earned.stamps).toEqual([
      {
        stamp_card_id: card.id,
        stamps: 1,
        reason: "Coffee card",
        reason_code: "stamp_card",
        reason_params: { card: "Coffee card" },
        rule_id: null,
      },
    ]);
    expect(last.member.stamp_cards[0]).toMatchObject({
      stamps: 10,
      full_cards: 1,
      stamps_on_current_card: 0,
      stamps_to_next_reward: 10,
    });
    // With what it gives, for the counter to show beside it without reading the catalog again.
    expect(last.member.rewards_available).toEqual([
      {
        id: reward.id,
        name: "Free coffee",
        type: "free_product",
        value: { product_name: "Any coffee" },
        cost_points: null,
        stamp_card_id: card.id,
      },
    ]);
    const voucher = await ok(tenant, "POST", `/v1/members/${member.id}/redemptions`, {
      reward_id: reward.id,
    });
    expect(voucher.member.stamps).toBe(0);
  });

  it("takes back the stamp of a returned coffee, and all of a fully refunded purchase", async () => {
    const { tenant, card, member } = await cafe();
    const p = await purchase(tenant, member.id, 950, [latte(2), croissant]);
    expect(p.purchase.stamps_earned).toBe(2);
    const byLine = await ok(tenant, "POST", "/v1/refunds", {
      external_id: `r-${++seq}`,
      purchase_id: p.purchase.id,
      lines: [{ sku: "latte", quantity: 1 }],
    });
    expect(byLine.refund).toMatchObject({ amount_minor: 350, stamps_reversed: 1, points_reversed: 4 });
    expect(byLine.member.stamp_cards.find((c: any) => c.stamp_card_id === card.id).stamps).toBe(1);
    const rest = await ok(tenant, "POST", "/v1/refunds", {
      external_id: `r-${++seq}`,
      purchase_id: p.purchase.id,
      amount_minor: 600,
    });
    expect(rest.refund).toMatchObject({ stamps_reversed: 1, points_reversed: 5 });
    expect(rest.member.points.available).toBe(0);
    const more = await tenant.call("POST", "/v1/refunds", {
      external_id: `r-${++seq}`,
      purchase_id: p.purchase.id,
      amount_minor: 1,
    });
    expect(more.status).toBe(422);
    expect(more.body.error.code).toBe("refund_exceeds_purchase");
    const tooMany = await tenant.call("POST", "/v1/refunds", {
      external_id: `r-${++seq}`,
      purchase_id: p.purchase.id,
      lines: [{ sku: "latte", quantity: 5 }],
    });
    expect(tooMany.body.error.code).toBe("refund_quantity_exceeds_purchase");
  });
});

describe("refunds", () => {
  it("reverse points in proportion, and partial refunds add up to exactly the full amount", async () => {
    const { tenant, member } = await cafe();
    const p = await purchase(tenant, member.id, 9_999);
    expect(p.purchase.points_earned).toBe(99);
    const reversed: number[] = [];
    for (const amount of [3_333, 3_333, 3_333]) {
      const r = await ok(tenant, "POST", "/v1/refunds", {
        external_id: `r-${++seq}`,
        purchase_external_id: p.purchase.external_id,
        amount_minor: amount,
      });
      reversed.push(r.refund.points_reversed);
    }
    expect(reversed.reduce((a, b) => a + b, 0)).toBe(99);
    const card = await tenant.call("GET", `/v1/members/${member.id}/card`);
    expect(card.body.points.available).toBe(0);
  });

  it("is idempotent by its external id and refuses bad input", async () => {
    const { tenant, member } = await cafe();
    const p = await purchase(tenant, member.id, 1_000);
    const body = { external_id: `r-${++seq}`, purchase_id: p.purchase.id, amount_minor: 500 };
    const first = await tenant.call("POST", "/v1/refunds", body);
    const again = await tenant.call("POST", "/v1/refunds", body);
    expect([first.status, again.status]).toEqual([201, 200]);
    expect(again.body).toEqual(first.body);
    const cases: [unknown, number, string][] = [
      [{ external_id: "x1", purchase_id: p.purchase.id }, 422, "refund_needs_amount_or_lines"],
      [{ external_id: "x2", amount_minor: 5 }, 422, "refund_needs_purchase"],
      [{ external_id: "x3", purchase_id: p.purchase.id, amount_minor: 0 }, 400, "validation_failed"],
      [{ external_id: "x4", purchase_external_id: "nope", amount_minor: 5 }, 404, "purchase_not_found"],
      [
        { external_id: "x5", purchase_id: p.purchase.id, lines: [{ sku: "ghost", quantity: 1 }] },
        422,
        "refund_line_not_in_purchase",
      ],
      [{ ...body, amount_minor: 400 }, 409, "idempotency_key_reused"],
    ];
    for (const [bad, status, code] of cases) {
      const res = await tenant.call("POST", "/v1/refunds", bad);
      expect([res.status, res.body.error.code]).toEqual([status, code]);
    }
    const unknown = await tenant.call("POST", "/v1/refunds", cases[3]?.[0]);
    expect(unknown.body.error.message).toBe("No purchase with external_id nope in this business.");
    const card = await tenant.call("GET", `/v1/members/${member.id}/card`);
    expect(card.body.points.available).toBe(5);
  });
});

describe("earning rules", () => {
  it("doubles points in the morning rush on the business's clock, and the preview agrees", async () => {
    const { tenant, member } = await cafe();
    await ok(tenant, "POST", "/v1/rules", {
      name: "Morning rush",
      trigger: "purchase",
      conditions: { days_of_week: [1, 2, 3, 4, 5], time_window: { from: "07:00", to: "09:00" } },
      effect: { type: "multiplier", factor_bp: 20_000 },
    });
    const morning = "2026-03-02T07:30:00+01:00";
    const preview = await ok(
      tenant,
      "POST",
      "/v1/purchases/preview",
      { member_id: member.id, amount_minor: 1_000, currency: "EUR", occurred_at: morning },
      200,
    );
    const recorded = await purchase(tenant, member.id, 1_000, [], { occurred_at: morning });
    expect(recorded.earned.points).toEqual(preview.points);
    expect(recorded.purchase.points_earned).toBe(20);
    expect(recorded.earned.points.map((l: any) => l.reason)).toEqual(["1 point per €1.00", "Morning rush"]);
    const later = await purchase(tenant, member.id, 1_000, [], { occurred_at: "2026-03-02T09:00:00+01:00" });
    expect(later.purchase.points_earned).toBe(10);
  });

  it("gives a signup bonus as of the enrolment, whatever join date is given", async () => {
    const tenant = await t.signup();
    const config = (await tenant.call("GET", "/v1/program")).body.config;
    const points = { ...config.points, expiry: { policy: "days_after_earn", days: 365 } };
    await ok(tenant, "PUT", "/v1/program", { ...config, points }, 200);
    await ok(tenant, "POST", "/v1/rules", {
      name: "Launch bonus",
      trigger: "signup",
      effect: { type: "fixed_points", points: 100 },
      ends_at: new Date(t.clock.now().getTime() - 60_000).toISOString(),
    });
    await ok(tenant, "POST", "/v1/rules", {
      name: "Welcome",
      trigger: "signup",
      effect: { type: "fixed_points", points: 50 },
    });
    // A customer of three years, brought in from another system, after the launch offer closed.
    const member = await ok(tenant, "POST", "/v1/members", {
      name: "Olga",
      marketing_consent: false,
      joined_at: "2023-05-01T10:00:00Z",
    });
    expect(member.joined_at).toBe("2023-05-01T10:00:00.000Z");
    const card = (await tenant.call("GET", `/v1/members/${member.id}/card`)).body.points;
    expect([card.available, card.lifetime_earned]).toEqual([50, 50]);
    expect(await ok(tenant, "POST", "/v1/points/expire", undefined, 200)).toEqual({ lots: 0, points: 0 });
  });

  it("gives a signup bonus and an event reward capped once a month", async () => {
    const tenant = await t.signup();
    await ok(tenant, "POST", "/v1/rules", {
      name: "Welcome",
      trigger: "signup",
      effect: { type: "fixed_points", points: 50 },
    });
    await ok(tenant, "POST", "/v1/rules", {
      name: "Thanks for the review",
      trigger: "event",
      event_type: "review_written",
      effect: { type: "fixed_points", points: 25 },
      cap: { period: "month", max_times: 1 },
    });
    const member = await ok(tenant, "POST", "/v1/members", { name: "Ben", marketing_consent: false });
    const e1 = await ok(tenant, "POST", "/v1/events", {
      external_id: `e-${++seq}`,
      member_id: member.id,
      type: "review_written",
      properties: { stars: 5 },
    });
    const e2 = await ok(tenant, "POST", "/v1/events", {
      external_id: `e-${++seq}`,
      member_code: member.code,
      type: "review_written",
    });
    expect(e1.event.points_earned).toBe(25);
    expect(e2.event.points_earned).toBe(0);
    expect(e2.member.points.available).toBe(75);
    const history = await tenant.call("GET", `/v1/members/${member.id}/history`);
    expect(history.body.data.map((h: any) => [h.reason, h.points, h.source_type])).toEqual([
      ["Thanks for the review", 25, "event"],
      ["Welcome", 50, "signup"],
    ]);
    for (const item of history.body.data) expect(item.actor).toMatch(/^staff:/);
    // An event's line leads to the event: its external id, type and properties.
    const line = history.body.data.find((h: { source_type: string }) => h.source_type === "event");
    const event = await tenant.call("GET", `/v1/events/${line.source_id}`);
    expect(event.body).toEqual(e1.event);
    const none = await tenant.call("GET", `/v1/events/${member.id}`);
    expect([none.status, none.body.error.code]).toEqual([404, "event_not_found"]);
    const bad = await tenant.call("POST", "/v1/events", { external_id: "e-bad", type: "review_written" });
    expect(bad.body.error.code).toBe("member_required");
    // A property's name and value are refused with what is wrong, naming the property.
    for (const [properties, path, message] of [
      [
        { "Bad Key": 1 },
        "properties.Bad Key",
        "a property's name must be snake_case, e.g. stars or visit_count",
      ],
      [{ stars: null }, "properties.stars", "must be text (up to 500 characters), a number or true/false"],
      [{ stars: [5] }, "properties.stars", "must be text (up to 500 characters), a number or true/false"],
    ] as const) {
      const refused = await tenant.call("POST", "/v1/events", {
        external_id: "e-props",
        member_id: member.id,
        type: "review_written",
        properties,
      });
      expect([refused.status, refused.body.error.code]).toEqual([400, "validation_failed"]);
      expect(refused.body.error.details.issues[0].path).toBe(path);
      expect(refused.body.error.details.issues[0].message).toContain(message);
    }
    const future = await tenant.call("POST", "/v1/events", {
      external_id: "e-future",
      member_id: member.id,
      type: "review_written",
      occurred_at: new Date(t.clock.now().getTime() + 6 * 60_000).toISOString(),
    });
    expect([future.status, future.body.error.code]).toEqual([422, "occurred_at_in_future"]);
    // Dated before the member joined: each month's cap would be fresh, years back.
    const before = await tenant.call("POST", "/v1/events", {
      external_id: "e-2019",
      member_id: member.id,
      type: "review_written",
      occurred_at: "2019-01-15T12:00:00Z",
    });
    expect([before.status, before.body.error.code]).toEqual([422, "occurred_at_before_joined"]);
    // A till whose clock runs a few seconds behind the server's, which dated the enrolment.
    const skewed = await tenant.call("POST", "/v1/events", {
      external_id: "e-skewed",
      member_id: member.id,
      type: "newsletter_joined",
      occurred_at: new Date(Date.parse(member.joined_at) - 2_000).toISOString(),
    });
    expect(skewed.status).toBe(201);
    expect(before.body.error.details.joined_at).toBe(member.joined_at);
    expect((await tenant.call("GET", `/v1/members/${member.id}/card`)).body.points.available).toBe(75);
    // Every event is in the audit log, with what it earned.
    const audit = await tenant.call("GET", "/v1/audit-log");
    const recorded = audit.body.data.filter((a: { action: string }) => a.action === "event.recorded");
    expect(recorded.map((a: { data: { points_earned: number } }) => a.data.points_earned)).toEqual([
      0, 0, 25,
    ]);
  });
});

describe("tiers", () => {
  it("upgrade at once when spend crosses the threshold, the multiplier applies from the next purchase, and a refund that undoes it takes the tier back", async () => {
    const { tenant, member } = await cafe();
    await ok(tenant, "POST", "/v1/tiers", { name: "Silver", rank: 1, threshold: 0 });
    const gold = await ok(tenant, "POST", "/v1/tiers", {
      name: "Gold",
      rank: 2,
      threshold: 25_000,
      earn_multiplier_bp: 15_000,
    });
    const first = await purchase(tenant, member.id, 24_999);
    expect(first.member.tier.current.name).toBe("Silver");
    expect(first.member.tier.next).toMatchObject({ name: "Gold", remaining: 1 });
    const second = await purchase(tenant, member.id, 1);
    expect(second.member.tier_changed).toEqual({ from: expect.any(String), to: gold.id });
    expect(second.member.tier.expires_at).toBe("2027-12-31T23:00:00.000Z");
    const third = await purchase(tenant, member.id, 1_000);
    expect(third.earned.points.map((l: any) => l.points)).toEqual([10, 5]);
    // A refund that undoes the qualification takes Gold back at once, not when the period ends:
    // the 10.01 left this year reach Silver.
    const back = await ok(tenant, "POST", "/v1/refunds", {
      external_id: `r-${++seq}`,
      purchase_id: first.purchase.id,
      amount_minor: 24_999,
    });
    expect(back.member.tier).toMatchObject({ current: { name: "Silver" }, metric_value: 1_001 });
    const card = await tenant.call("GET", `/v1/members/${member.id}/card`);
    expect(card.body.tier.current.name).toBe("Silver");
  });
});

describe("pending points and expiry", () => {
  it("holds points during the return window, then expires them on time, once", async () => {
    const { tenant: owner, member } = await cafe();
    // Staff sessions last 30 days; an API key outlives the clock moves below.
    const key = await ok(owner, "POST", "/v1/api-keys", { name: "POS", role: "manager" });
    const tenant = owner.as(key.key);
    const program = (await tenant.call("GET", "/v1/program")).body.config;
    await ok(
      tenant,
      "PUT",
      "/v1/program",
      {
        ...program,
        points: { ...program.points, pending_days: 14, expiry: { policy: "days_after_earn", days: 30 } },
      },
      200,
    );
    const earned = t.clock.now();
    const p = await purchase(tenant, member.id, 5_000);
    expect(p.member.points).toMatchObject({ available: 0, pending: 50 });
    // Days of the business's calendar (Amsterdam), to the same time of day, across summer time too.
    const availableAt = addLocalDays(earned, 14, "Europe/Amsterdam");
    const expiresAt = addLocalDays(earned, 30, "Europe/Amsterdam");
    expect(p.earned.points_available_at).toBe(availableAt.toISOString());
    t.clock.set(availableAt);
    const released = await tenant.call("GET", `/v1/members/${member.id}/card`);
    expect(released.body.points).toMatchObject({ available: 50, pending: 0 });
    expect(released.body.points.expiring_soon).toEqual([{ expires_at: expiresAt.toISOString(), points: 50 }]);
    t.clock.set(new Date(expiresAt.getTime() - 1));
    expect((await ok(tenant, "POST", "/v1/points/expire", undefined, 200)).lots).toBe(0);
    t.clock.advance(1);
    expect(await ok(tenant, "POST", "/v1/points/expire", undefined, 200)).toEqual({ lots: 1, points: 50 });
    expect(await ok(tenant, "POST", "/v1/points/expire", undefined, 200)).toEqual({ lots: 0, points: 0 });
    const after = await tenant.call("GET", `/v1/members/${member.id}/history?type=points`);
    expect(after.body.data[0]).toMatchObject({ kind: "expire", points: -50, actor: "system:expiry" });
    // Each run by hand is audited under who ran it, with what it expired.
    const runs = await tenant.call("GET", "/v1/audit-log?action=points.expiry_run");
    expect(runs.body.data.map((a: { data: unknown }) => a.data)).toEqual([
      { lots: 0, points: 0 },
      { lots: 1, points: 50 },
      { lots: 0, points: 0 },
    ]);
    expect(runs.body.data[0].actor).toMatch(/^api_key:/);
  });

  it("counts an end-of-month expiry from when pending points can be spent, so none expire unspendable", async () => {
    const { tenant: owner, member } = await cafe();
    const key = await ok(owner, "POST", "/v1/api-keys", { name: "POS", role: "manager" });
    const tenant = owner.as(key.key);
    const program = (await tenant.call("GET", "/v1/program")).body.config;
    const points = {
      ...program.points,
      pending_days: 30,
      expiry: { policy: "end_of_month", months_after: 0 },
    };
    await ok(tenant, "PUT", "/v1/program", { ...program, points }, 200);
    const p = await purchase(tenant, member.id, 5_000);
    const spendable = addLocalDays(t.clock.now(), 30, "Europe/Amsterdam");
    expect(p.earned.points_available_at).toBe(spendable.toISOString());
    t.clock.set(spendable);
    const card = (await tenant.call("GET", `/v1/members/${member.id}/card`)).body;
    expect(card.points).toMatchObject({ available: 50, pending: 0 });
    // Spendable from early in the month after, until that month's end (Europe/Amsterdam).
    const [lot] = await t.database.db
      .selectFrom("ledger_lots")
      .select(["available_at", "expires_at"])
      .where("business_id", "=", tenant.businessId)
      .where("member_id", "=", member.id)
      .execute();
    expect(lot?.available_at.toISOString()).toBe(spendable.toISOString());
    expect(lot?.expires_at?.getTime()).toBeGreaterThan(spendable.getTime());
    expect((await ok(tenant, "POST", "/v1/points/expire", undefined, 200)).lots).toBe(0);
  });
});

describe("manual adjustments", () => {
  it("add and remove points with a reason, refuse overdrafts, and are for managers only", async () => {
    const { tenant, card, member } = await cafe();
    const add = await ok(tenant, "POST", `/v1/members/${member.id}/adjustments`, {
      points: 40,
      reason: "Coffee machine broke",
    });
    expect(add.member.points.available).toBe(40);
    const over = await tenant.call("POST", `/v1/members/${member.id}/adjustments`, {
      points: -41,
      reason: "Too much",
    });
    expect([over.status, over.body.error.code]).toEqual([409, "insufficient_points"]);
    const stamps = await ok(tenant, "POST", `/v1/members/${member.id}/adjustments`, {
      stamp_card_id: card.id,
      stamps: 3,
      reason: "Paper card moved over",
    });
    expect(stamps.member.stamp_cards[0].stamps).toBe(3);
    for (const bad of [
      { points: 0, reason: "zero" },
      { points: 5 },
      { points: 5, stamps: 1, stamp_card_id: card.id, reason: "both" },
      { stamps: 1, reason: "no card" },
    ]) {
      const res = await tenant.call("POST", `/v1/members/${member.id}/adjustments`, bad);
      expect(res.status).toBe(400);
    }
    const cashier = await addStaff(t, tenant, "cashier");
    const denied = await cashier.session.call("POST", `/v1/members/${member.id}/adjustments`, {
      points: 5,
      reason: "please",
    });
    expect(denied.status).toBe(403);
    const audit = await tenant.call("GET", "/v1/audit-log?action=member.adjusted");
    expect(audit.body.data).toHaveLength(2);
    const history = await tenant.call("GET", `/v1/members/${member.id}/history`);
    expect(history.body.data.map((h: any) => h.reason)).toEqual([
      "Paper card moved over",
      "Coffee machine broke",
    ]);
  });

  it("leave the lifetime figures as if neither happened when one corrects the other", async () => {
    const { tenant, member } = await cafe();
    const adjust = (points: number, reason: string) =>
      ok(tenant, "POST", `/v1/members/${member.id}/adjustments`, { points, reason });
    expect((await adjust(40, "Coffee machine broke")).member.points).toMatchObject({ lifetime_earned: 40 });
    const typo = await adjust(100, "typed 100, meant 10");
    expect(typo.member.points).toMatchObject({ available: 140, lifetime_earned: 140, lifetime_spent: 0 });
    const undone = await adjust(-100, "undo the typo");
    expect(undone.member.points).toMatchObject({ available: 40, lifetime_earned: 40, lifetime_spent: 0 });
  });
});

describe("tier metrics and windows", () => {
  it.each([
    ["visits", 3, [500, 500, 500], "Gold"],
    ["visits", 3, [500, 500], "Silver"],
    ["points", 30, [1_000, 1_000, 1_000], "Gold"],
    ["points", 30, [1_000, 1_999], "Silver"],
    ["spend", 3_000, [1_000, 2_000], "Gold"],
  ] as const)(
    "by %s with a threshold of %i, purchases of %j reach %s",
    async (metric, threshold, amounts, tier) => {
      const { tenant, member } = await cafe();
      const program = (await tenant.call("GET", "/v1/program")).body.config;
      await ok(tenant, "PUT", "/v1/program", { ...program, tiers: { metric, period: "calendar_year" } }, 200);
      await ok(tenant, "POST", "/v1/tiers", { name: "Silver", rank: 1, threshold: 0 });
      await ok(tenant, "POST", "/v1/tiers", { name: "Gold", rank: 2, threshold });
      let last: any;
      for (const amount of amounts) last = await purchase(tenant, member.id, amount);
      expect(last.member.tier.current.name).toBe(tier);
      expect(last.member.tier.metric).toBe(metric);
    },
  );

  it("counts only the last 12 months in a rolling window", async () => {
    const { tenant, member } = await cafe();
    const program = (await tenant.call("GET", "/v1/program")).body.config;
    await ok(
      tenant,
      "PUT",
      "/v1/program",
      { ...program, tiers: { metric: "spend", period: "rolling_12_months" } },
      200,
    );
    await ok(tenant, "POST", "/v1/tiers", { name: "Gold", rank: 1, threshold: 10_000 });
    const now = t.clock.now().getTime();
    const old = await purchase(tenant, member.id, 9_000, [], {
      occurred_at: new Date(now - 400 * DAY).toISOString(),
    });
    expect(old.member.tier.metric_value).toBe(0);
    const recent = await purchase(tenant, member.id, 9_000, [], {
      occurred_at: new Date(now - 30 * DAY).toISOString(),
    });
    expect(recent.member.tier).toMatchObject({ current: null, metric_value: 9_000 });
    const today = await purchase(tenant, member.id, 1_000);
    expect(today.member.tier.current.name).toBe("Gold");
    expect(today.member.tier.expires_at).toBe(new Date(now + 365 * DAY).toISOString());
  });
});
