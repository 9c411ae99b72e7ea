import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type Tenant, type TestApp } from "../helpers/api.ts";
import { goldBoutique } from "../helpers/tiers.ts";

/**
 * A refund that undoes the qualification takes the tier back at once — the card, the next
 * purchase's multiplier and tier rule, and the tier-only rewards all see it — and records why. A
 * refund that does not undo it changes nothing: a partial one that leaves the metric at the
 * threshold, or one of a purchase made after the tier was last reached, however far the metric
 * has decayed since. The business is in Amsterdam: 1 January 2027 there is 2026-12-31T23:00Z.
 */

const END_2026 = "2026-12-31T23:00:00.000Z";
const END_2027 = "2027-12-31T23:00:00.000Z";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ now: "2026-06-01T10:00:00Z" });
});
afterAll(async () => t?.close());

let seq = 0;

async function ok(tenant: Tenant, method: "GET" | "POST" | "PUT", url: string, body?: unknown) {
  const res = await tenant.call(method, url, body);
  if (res.status >= 300) throw new Error(`${method} ${url} → ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** The tier tests' boutique (test/helpers/tiers.ts), counting spend by calendar year or over the last 12 months, and a member. */
async function boutique(period: "calendar_year" | "rolling_12_months" = "calendar_year") {
  const shop = await goldBoutique(await t.signup(), period);
  const member = (await ok(shop.tenant, "POST", "/v1/members", { marketing_consent: false })).id as string;
  return { ...shop, member };
}

async function purchase(tenant: Tenant, memberId: string, amount: number, occurredAt?: string) {
  const p = await ok(tenant, "POST", "/v1/purchases", {
    external_id: `till-${++seq}`,
    member_id: memberId,
    amount_minor: amount,
    currency: "EUR",
    ...(occurredAt ? { occurred_at: occurredAt } : {}),
  });
  return { ...p, external_id: `till-${seq}` };
}

function refund(tenant: Tenant, purchaseId: string, amount: number) {
  return ok(tenant, "POST", "/v1/refunds", {
    external_id: `back-${++seq}`,
    purchase_id: purchaseId,
    amount_minor: amount,
  });
}

async function reasons(tenant: Tenant, memberId: string): Promise<string[]> {
  const rows = await t.ctx.db
    .selectFrom("tier_changes")
    .select("reason")
    .where("business_id", "=", tenant.businessId)
    .where("member_id", "=", memberId)
    .orderBy("id")
    .execute();
  return rows.map((r) => r.reason);
}

const card = async (tenant: Tenant, memberId: string) =>
  (await ok(tenant, "GET", `/v1/members/${memberId}/card`)).tier;

describe("a calendar-year tier and a refund", () => {
  it("a full refund of the purchase that reached Gold takes Gold and all it gives back at once", async () => {
    t.clock.set(new Date("2026-06-01T10:00:00Z"));
    const { tenant, member, gold, lounge } = await boutique();
    const reached = await purchase(tenant, member, 60_000);
    expect(reached.member.tier).toMatchObject({ current: { name: "Gold" }, expires_at: END_2027 });
    expect((await ok(tenant, "GET", `/v1/members/${member}/available-rewards`)).data).toHaveLength(1);

    t.clock.set(new Date("2026-06-03T10:00:00Z"));
    const back = await refund(tenant, reached.purchase.id, 60_000);
    expect(back.member.tier).toMatchObject({ current: null, expires_at: null, metric_value: 0 });
    expect(back.member.tier_changed).toEqual({ from: gold, to: null });
    expect(await card(tenant, member)).toMatchObject({ current: null, expires_at: null });
    expect(await reasons(tenant, member)).toEqual([
      "Reached Gold with 60000 spend",
      `Gold taken back: the refund of purchase ${reached.external_id} leaves 0 spend, below Gold's 50000`,
    ]);

    // The next purchase earns no ×1.5 and no Gold rule; its points would pay for the lounge, which
    // is Gold's only.
    const next = await purchase(tenant, member, 2_000);
    expect(next.earned.points).toEqual([
      {
        points: 20,
        reason: "1 point per €1.00",
        reason_code: "earn_rate",
        reason_params: { points: 1, per_minor: 100, currency: "EUR" },
        rule_id: null,
      },
    ]);
    expect(next.member.tier.current).toBeNull();
    const offered = await ok(tenant, "GET", `/v1/members/${member}/available-rewards`);
    expect(offered.data.map((r: { id: string }) => r.id)).not.toContain(lounge);
    const refused = await tenant.call("POST", `/v1/members/${member}/redemptions`, { reward_id: lounge });
    expect([refused.status, refused.body.error.code]).toEqual([422, "reward_not_eligible"]);
  });

  it("a partial refund that leaves the threshold keeps Gold; a cent more moves the member to Silver", async () => {
    t.clock.set(new Date("2026-06-01T10:00:00Z"));
    const { tenant, member, gold, silver } = await boutique();
    const reached = await purchase(tenant, member, 60_000);

    const part = await refund(tenant, reached.purchase.id, 10_000);
    expect(part.member.tier).toMatchObject({
      current: { name: "Gold" },
      expires_at: END_2027,
      metric_value: 50_000,
    });
    expect(part.member.tier_changed).toBeNull();

    const cent = await refund(tenant, reached.purchase.id, 1);
    expect(cent.member.tier).toMatchObject({ current: { name: "Silver" }, expires_at: END_2027 });
    expect(cent.member.tier_changed).toEqual({ from: gold, to: silver });
    expect(await card(tenant, member)).toMatchObject({ current: { name: "Silver" }, expires_at: END_2027 });
    expect((await reasons(tenant, member)).at(-1)).toBe(
      `Gold taken back: the refund of purchase ${reached.external_id} leaves 49999 spend, below Gold's 50000; Silver, reached with 49999 spend`,
    );
    const next = await purchase(tenant, member, 1_000);
    expect(next.earned.points.map((l: { reason: string }) => l.reason)).toEqual([
      "1 point per €1.00",
      "Silver tier ×1.25",
    ]);
  });

  it("falls back on what last year reached, not on nothing", async () => {
    t.clock.set(new Date("2025-06-01T10:00:00Z"));
    const { tenant, member, silver } = await boutique();
    await purchase(tenant, member, 25_000);

    t.clock.set(new Date("2026-06-01T10:00:00Z"));
    const reached = await purchase(tenant, member, 60_000);
    expect(reached.member.tier).toMatchObject({ current: { name: "Gold" }, expires_at: END_2027 });
    const back = await refund(tenant, reached.purchase.id, 60_000);
    // Silver was reached in 2025: kept through 2026.
    expect(back.member.tier).toMatchObject({ current: { name: "Silver" }, expires_at: END_2026 });
    expect(back.member.tier_changed?.to).toBe(silver);
    expect(await card(tenant, member)).toMatchObject({ current: { name: "Silver" }, expires_at: END_2026 });
    expect((await reasons(tenant, member)).at(-1)).toBe(
      `Gold taken back: the refund of purchase ${reached.external_id} leaves 0 spend, below Gold's 50000; Silver, reached with 25000 spend in 2025`,
    );
  });

  it("keeps a Gold that last year's spend reached when this year's purchase is refunded, not when last year's is", async () => {
    t.clock.set(new Date("2025-06-01T10:00:00Z"));
    const { tenant, member, gold } = await boutique();
    const before = await purchase(tenant, member, 60_000);

    t.clock.set(new Date("2026-06-01T10:00:00Z"));
    const again = await purchase(tenant, member, 60_000);
    expect(again.member.tier).toMatchObject({ current: { name: "Gold" }, expires_at: END_2027 });
    const back = await refund(tenant, again.purchase.id, 60_000);
    expect(back.member.tier).toMatchObject({ current: { name: "Gold" }, expires_at: END_2027 });
    expect(back.member.tier_changed).toBeNull();
    expect(await reasons(tenant, member)).toEqual(["Reached Gold with 60000 spend"]);

    // Last year's purchase refunded too: neither year reaches a tier now.
    const undone = await refund(tenant, before.purchase.id, 60_000);
    expect(undone.member.tier).toMatchObject({ current: null, expires_at: null });
    expect(undone.member.tier_changed).toEqual({ from: gold, to: null });
    expect((await reasons(tenant, member)).at(-1)).toBe(
      `Gold taken back: the refund of purchase ${before.external_id} leaves 0 spend, below Gold's 50000`,
    );
  });
});

describe("a rolling tier and a refund", () => {
  it("keeps Gold when a purchase made after it was reached is refunded, the metric decayed since", async () => {
    t.clock.set(new Date("2026-06-01T10:00:00Z"));
    const { tenant, member, gold } = await boutique("rolling_12_months");
    // Reported late: a purchase of July 2025 reaches Gold on 1 June 2026, kept until 1 June 2027.
    const late = await purchase(tenant, member, 60_000, "2025-07-01T10:00:00Z");
    expect(late.member.tier).toMatchObject({
      current: { name: "Gold" },
      expires_at: "2027-06-01T10:00:00.000Z",
    });

    // In August that purchase has left the window: Gold holds on a metric of 100.00.
    t.clock.set(new Date("2026-08-01T10:00:00Z"));
    const later = await purchase(tenant, member, 10_000);
    expect(later.member.tier).toMatchObject({ current: { name: "Gold" }, metric_value: 10_000 });
    const back = await refund(tenant, later.purchase.id, 10_000);
    expect(back.member.tier).toMatchObject({
      current: { name: "Gold" },
      expires_at: "2027-06-01T10:00:00.000Z",
      metric_value: 0,
    });
    expect(back.member.tier_changed).toBeNull();

    // The purchase that reached Gold, refunded: Gold goes, months later though it is.
    const undone = await refund(tenant, late.purchase.id, 60_000);
    expect(undone.member.tier).toMatchObject({ current: null, expires_at: null });
    expect(undone.member.tier_changed).toEqual({ from: gold, to: null });
    expect(await card(tenant, member)).toMatchObject({ current: null });
    expect(await reasons(tenant, member)).toEqual([
      "Reached Gold with 60000 spend",
      `Gold taken back: the refund of purchase ${late.external_id} leaves 0 spend, below Gold's 50000`,
    ]);
  });

  it("reads the window at the last moment Gold was reached, and keeps the higher tier of then and now", async () => {
    t.clock.set(new Date("2026-06-01T10:00:00Z"));
    const { tenant, member } = await boutique("rolling_12_months");
    const first = await purchase(tenant, member, 60_000);
    t.clock.set(new Date("2026-06-10T10:00:00Z"));
    // Reached again on 10 June, with 850.00: kept until 10 June 2027.
    const second = await purchase(tenant, member, 25_000);
    expect(second.member.tier).toMatchObject({ expires_at: "2027-06-10T10:00:00.000Z" });

    t.clock.set(new Date("2026-07-01T10:00:00Z"));
    // 800.00 left on 10 June: Gold holds.
    const part = await refund(tenant, first.purchase.id, 5_000);
    expect(part.member.tier).toMatchObject({ current: { name: "Gold" } });
    expect(part.member.tier_changed).toBeNull();
    // 250.00 left then and now: Silver, reached now, kept 12 months from now.
    const rest = await refund(tenant, first.purchase.id, 55_000);
    expect(rest.member.tier).toMatchObject({
      current: { name: "Silver" },
      expires_at: "2027-07-01T10:00:00.000Z",
    });
    expect((await reasons(tenant, member)).at(-1)).toBe(
      `Gold taken back: the refund of purchase ${first.external_id} leaves 25000 spend, below Gold's 50000; Silver, reached with 25000 spend`,
    );
  });
});

describe("the points metric and a refund of points already spent", () => {
  /**
   * A café counting points (1 per €1, none pending) by calendar year: Silver from 200 points, Gold
   * from 500, and a reward worth `cost` points. The balance may go negative or not.
   */
  async function pointsCafe(cost: number, allowNegative = false) {
    const owner = await t.signup();
    const key = await ok(owner, "POST", "/v1/api-keys", { name: "Till", role: "manager" });
    const tenant = owner.as(key.key);
    const program = (await ok(tenant, "GET", "/v1/program")).config;
    await ok(tenant, "PUT", "/v1/program", {
      ...program,
      points: {
        ...program.points,
        earn_points: 1,
        earn_per_minor: 100,
        pending_days: 0,
        allow_negative_balance: allowNegative,
      },
      tiers: { metric: "points", period: "calendar_year" },
    });
    const silver = await ok(tenant, "POST", "/v1/tiers", { name: "Silver", rank: 1, threshold: 200 });
    const gold = await ok(tenant, "POST", "/v1/tiers", { name: "Gold", rank: 2, threshold: 500 });
    const reward = await ok(tenant, "POST", "/v1/rewards", {
      name: "Hamper",
      type: "free_product",
      value: { product_name: "Hamper" },
      cost_points: cost,
    });
    const member = (await ok(tenant, "POST", "/v1/members", { marketing_consent: false })).id as string;
    const redeem = () => ok(tenant, "POST", `/v1/members/${member}/redemptions`, { reward_id: reward.id });
    return { tenant, member, redeem, silver: silver.id as string, gold: gold.id as string };
  }

  /** The member's last tier change, as recorded. */
  async function lastChange(tenant: Tenant, memberId: string) {
    return t.ctx.db
      .selectFrom("tier_changes")
      .select(["to_tier_id", "metric_value", "reason"])
      .where("business_id", "=", tenant.businessId)
      .where("member_id", "=", memberId)
      .orderBy("id", "desc")
      .executeTakeFirst();
  }

  it("takes Gold back when the points that reached it were spent, then refunded in full", async () => {
    t.clock.set(new Date("2026-06-01T10:00:00Z"));
    const { tenant, member, redeem, gold } = await pointsCafe(600);
    const reached = await purchase(tenant, member, 60_000);
    expect(reached.member.tier).toMatchObject({ current: { name: "Gold" }, metric_value: 600 });
    await redeem();

    // Nothing is left to take: the 600 points are written off, and they leave the metric too.
    const back = await refund(tenant, reached.purchase.id, 60_000);
    expect(back.refund).toMatchObject({ points_reversed: 0, points_unrecovered: 600 });
    expect(back.member.tier).toMatchObject({ current: null, expires_at: null, metric_value: 0 });
    expect(back.member.tier_changed).toEqual({ from: gold, to: null });
    expect(await card(tenant, member)).toMatchObject({ current: null, expires_at: null, metric_value: 0 });
    expect(await lastChange(tenant, member)).toEqual({
      to_tier_id: null,
      metric_value: 0,
      reason: `Gold taken back: the refund of purchase ${reached.external_id} leaves 0 points, below Gold's 500`,
    });
    // The next purchase (the two-statement path, which counts the window again) agrees.
    const next = await purchase(tenant, member, 1_000);
    expect(next.member.tier).toMatchObject({ current: null, metric_value: 10 });
  });

  it("counts the whole refunded share once when part of it is taken back and part written off", async () => {
    t.clock.set(new Date("2026-06-01T10:00:00Z"));
    const { tenant, member, redeem, gold, silver } = await pointsCafe(500);
    const reached = await purchase(tenant, member, 60_000);
    await redeem();

    // Half comes back: 300 points are due, the member holds 100 of them.
    const half = await refund(tenant, reached.purchase.id, 30_000);
    expect(half.refund).toMatchObject({ points_reversed: 100, points_unrecovered: 200 });
    expect(half.member.tier).toMatchObject({
      current: { name: "Silver" },
      expires_at: END_2027,
      metric_value: 300,
    });
    expect(half.member.tier_changed).toEqual({ from: gold, to: silver });
    expect(await card(tenant, member)).toMatchObject({ current: { name: "Silver" }, metric_value: 300 });
    expect(await lastChange(tenant, member)).toEqual({
      to_tier_id: silver,
      metric_value: 300,
      reason: `Gold taken back: the refund of purchase ${reached.external_id} leaves 300 points, below Gold's 500; Silver, reached with 300 points`,
    });

    // The rest, with nothing left to take: all written off, and the purchase counts nothing.
    const rest = await refund(tenant, reached.purchase.id, 30_000);
    expect(rest.refund).toMatchObject({ points_reversed: 0, points_unrecovered: 300 });
    expect(rest.member.tier).toMatchObject({ current: null, metric_value: 0 });
    expect(rest.member.tier_changed).toEqual({ from: silver, to: null });
    expect(await card(tenant, member)).toMatchObject({ current: null, metric_value: 0 });
    expect((await lastChange(tenant, member))?.to_tier_id).toBeNull();
  });

  it("counts a reversal into a negative balance once (nothing is written off)", async () => {
    t.clock.set(new Date("2026-06-01T10:00:00Z"));
    const { tenant, member, redeem, gold, silver } = await pointsCafe(500, true);
    const reached = await purchase(tenant, member, 60_000);
    await redeem();

    const half = await refund(tenant, reached.purchase.id, 30_000);
    expect(half.refund).toMatchObject({ points_reversed: 300, points_unrecovered: 0 });
    // The member held 100 of the 300: the balance goes 200 below zero.
    expect(half.member.points).toMatchObject({ available: -200, debt: 200 });
    expect(half.member.tier).toMatchObject({ current: { name: "Silver" }, metric_value: 300 });
    expect(half.member.tier_changed).toEqual({ from: gold, to: silver });

    const rest = await refund(tenant, reached.purchase.id, 30_000);
    expect(rest.refund).toMatchObject({ points_reversed: 300, points_unrecovered: 0 });
    expect(rest.member.points).toMatchObject({ available: -500, debt: 500 });
    expect(rest.member.tier).toMatchObject({ current: null, metric_value: 0 });
    expect(await card(tenant, member)).toMatchObject({ current: null, metric_value: 0 });
    expect(await lastChange(tenant, member)).toMatchObject({ to_tier_id: null, metric_value: 0 });
  });
});
