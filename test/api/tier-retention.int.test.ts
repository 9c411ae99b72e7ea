import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runTierSweep } from "../../src/jobs/index.ts";
import { startTestApp, type Tenant, type TestApp } from "../helpers/api.ts";
import { goldBoutique } from "../helpers/tiers.ts";

/**
 * A tier counts only while its retention runs, whether or not the tier sweep has run: once it has
 * ended, pricing, tier rules, tier-only rewards and the member's card all see the tier as it now
 * stands. And a calendar-year tier that ends falls back on what the year just ended reached.
 * The business is in Amsterdam: 1 January 2028 there is 2027-12-31T23:00Z.
 */

const END_2027 = "2027-12-31T23:00:00.000Z";
const END_2028 = "2028-12-31T23:00:00.000Z";

// Each test starts an app of its own: the sweep goes over every business in the database.
let t: TestApp;
function ownApp() {
  beforeAll(async () => {
    t = await startTestApp({ now: "2026-06-01T10:00:00Z" });
  });
  afterAll(async () => t?.close());
}

let seq = 0;

async function ok(tenant: Tenant, method: "GET" | "POST", url: string, body?: unknown) {
  const res = await tenant.call(method, url, body);
  if (res.status >= 300) throw new Error(`${method} ${url} → ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** The tier tests' boutique (test/helpers/tiers.ts), counting spend by calendar year, set up on 1 June 2026. */
async function boutique() {
  t.clock.set(new Date("2026-06-01T10:00:00Z"));
  return goldBoutique(await t.signup());
}

async function member(tenant: Tenant): Promise<string> {
  return (await ok(tenant, "POST", "/v1/members", { marketing_consent: false })).id;
}

function purchase(tenant: Tenant, memberId: string, amount: number) {
  return tenant.call("POST", "/v1/purchases", {
    external_id: `till-${++seq}`,
    member_id: memberId,
    amount_minor: amount,
    currency: "EUR",
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

async function storedTier(tenant: Tenant, memberId: string) {
  return t.ctx.db
    .selectFrom("members")
    .select(["tier_id", "tier_expires_at"])
    .where("business_id", "=", tenant.businessId)
    .where("id", "=", memberId)
    .executeTakeFirstOrThrow();
}

describe("a tier whose retention has ended, before any sweep", () => {
  ownApp();
  it("earns no multiplier, matches no tier rule, opens no tier reward, and reads as ended", async () => {
    const { tenant, lounge } = await boutique();
    const [buyer, redeemer, reviewer] = [await member(tenant), await member(tenant), await member(tenant)];
    for (const m of [buyer, redeemer, reviewer]) {
      const reached = await purchase(tenant, m, 60_000);
      expect(reached.body.member.tier).toMatchObject({ current: { name: "Gold" }, expires_at: END_2027 });
    }
    const preview = () =>
      ok(tenant, "POST", "/v1/purchases/preview", { member_id: buyer, amount_minor: 1_000, currency: "EUR" });

    // The last second of 2027 in Amsterdam: Gold still pays its rule and its ×1.5 on all of it.
    t.clock.set(new Date(Date.parse(END_2027) - 1_000));
    expect((await preview()).points.map((l: { points: number }) => l.points)).toEqual([10, 100, 55]);

    // The first instant of 2028: Gold has ended, though no sweep has run.
    t.clock.set(new Date(END_2027));
    const card = await ok(tenant, "GET", `/v1/members/${buyer}/card`);
    expect(card.tier).toMatchObject({ current: null, expires_at: null });
    expect(await preview()).toEqual({
      points: [
        {
          points: 10,
          reason: "1 point per €1.00",
          reason_code: "earn_rate",
          reason_params: { points: 1, per_minor: 100, currency: "EUR" },
          rule_id: null,
        },
      ],
      stamps: [],
      total_points: 10,
    });

    const bought = await purchase(tenant, buyer, 1_000);
    expect(bought.status).toBe(201);
    expect(bought.body.earned.points.map((l: { reason: string }) => l.reason)).toEqual(["1 point per €1.00"]);
    expect(bought.body.member.tier).toMatchObject({ current: null, expires_at: null, metric_value: 1_000 });
    expect(bought.body.member.rewards_available.map((r: { id: string }) => r.id)).not.toContain(lounge);
    expect(await reasons(tenant, buyer)).toEqual([
      "Reached Gold with 60000 spend",
      "Gold ended; 0 spend in the current period",
    ]);
    expect(await storedTier(tenant, buyer)).toEqual({ tier_id: null, tier_expires_at: null });

    const offered = await ok(tenant, "GET", `/v1/members/${redeemer}/available-rewards`);
    expect(offered.data.map((r: { id: string }) => r.id)).not.toContain(lounge);
    const refused = await tenant.call("POST", `/v1/members/${redeemer}/redemptions`, { reward_id: lounge });
    expect(refused.status).toBe(422);
    expect(refused.body.error.code).toBe("reward_not_eligible");

    const review = await ok(tenant, "POST", "/v1/events", {
      external_id: `review-${++seq}`,
      member_id: reviewer,
      type: "review_written",
    });
    expect(review.event.points_earned).toBe(0);
    expect(review.member.tier.current).toBeNull();
    expect(await reasons(tenant, reviewer)).toEqual([
      "Reached Gold with 60000 spend",
      "Gold ended; 0 spend in the current period",
    ]);

    // The refused redemption wrote nothing: its member is the one left for the sweep.
    expect(await runTierSweep(t.ctx, t.clock.now())).toEqual({ members: 1, changed: 1 });
    expect(await storedTier(tenant, redeemer)).toEqual({ tier_id: null, tier_expires_at: null });
  });
});

describe("a calendar-year tier that ends falls back on the year just ended", () => {
  ownApp();
  it("keeps the Silver a Gold member of 2026 reached in 2027 until 1 January 2029: by the sweep and by a purchase", async () => {
    const { tenant, silver } = await boutique();
    const [swept, buyer] = [await member(tenant), await member(tenant)];
    for (const m of [swept, buyer]) expect((await purchase(tenant, m, 60_000)).status).toBe(201);

    t.clock.set(new Date("2027-06-01T10:00:00Z"));
    for (const m of [swept, buyer]) {
      const again = await purchase(tenant, m, 25_000);
      // Silver reached in 2027 changes nothing while Gold holds.
      expect(again.body.member.tier).toMatchObject({ current: { name: "Gold" }, expires_at: END_2027 });
    }

    t.clock.set(new Date(END_2027));
    // Read before any sweep: the card already shows Silver, kept through 2028.
    const card = await ok(tenant, "GET", `/v1/members/${swept}/card`);
    expect(card.tier).toMatchObject({ current: { name: "Silver" }, expires_at: END_2028, metric_value: 0 });

    const bought = await purchase(tenant, buyer, 1_000);
    expect(bought.status).toBe(201);
    expect(bought.body.earned.points).toEqual([
      {
        points: 10,
        reason: "1 point per €1.00",
        reason_code: "earn_rate",
        reason_params: { points: 1, per_minor: 100, currency: "EUR" },
        rule_id: null,
      },
      {
        points: 2,
        reason: "Silver tier ×1.25",
        reason_code: "tier_bonus",
        reason_params: { tier: "Silver", multiplier: 1.25 },
        rule_id: null,
      },
    ]);
    expect(bought.body.member.tier).toMatchObject({ current: { name: "Silver" }, expires_at: END_2028 });

    expect(await runTierSweep(t.ctx, t.clock.now())).toEqual({ members: 1, changed: 1 });
    for (const m of [swept, buyer]) {
      expect(await storedTier(tenant, m)).toEqual({ tier_id: silver, tier_expires_at: new Date(END_2028) });
      expect(await reasons(tenant, m)).toEqual([
        "Reached Gold with 60000 spend",
        "Gold ended; kept Silver, reached with 25000 spend in 2027",
      ]);
    }
    const changes = await t.ctx.db
      .selectFrom("tier_changes")
      .select("metric_value")
      .where("business_id", "=", tenant.businessId)
      .where("to_tier_id", "=", silver)
      .execute();
    expect(changes.map((c) => Number(c.metric_value))).toEqual([25_000, 25_000]);

    // Held through the last second of 2028, then gone: 2028 reached nothing.
    t.clock.set(new Date(Date.parse(END_2028) - 1_000));
    expect(await runTierSweep(t.ctx, t.clock.now())).toEqual({ members: 0, changed: 0 });
    expect((await ok(tenant, "GET", `/v1/members/${swept}/card`)).tier.current.name).toBe("Silver");
    t.clock.set(new Date(END_2028));
    expect((await ok(tenant, "GET", `/v1/members/${swept}/card`)).tier.current).toBeNull();
    expect(await runTierSweep(t.ctx, t.clock.now())).toEqual({ members: 2, changed: 2 });
    expect((await reasons(tenant, buyer)).at(-1)).toBe("Silver ended; 0 spend in the current period");
  });
});

describe("a purchase of last calendar year recorded this year (a till's offline queue)", () => {
  ownApp();

  it("gives the tier last year's total reaches, as it would have on time, through this year", async () => {
    const { tenant, silver, gold } = await boutique();
    const [onTime, late, bronzed] = [await member(tenant), await member(tenant), await member(tenant)];
    t.clock.set(new Date("2026-12-31T18:00:00Z"));
    const sale = (m: string) =>
      tenant.call("POST", "/v1/purchases", {
        external_id: `till-${++seq}`,
        member_id: m,
        amount_minor: 60_000,
        currency: "EUR",
        occurred_at: "2026-12-31T18:00:00Z",
      });
    expect((await sale(onTime)).status).toBe(201);
    // Silver, reached earlier in 2026, is held when the late sale arrives.
    expect((await purchase(tenant, bronzed, 25_000)).status).toBe(201);
    expect(await storedTier(tenant, bronzed)).toMatchObject({ tier_id: silver });

    t.clock.set(new Date("2027-01-01T08:00:00Z"));
    for (const [m, total] of [
      [late, 60_000],
      [bronzed, 85_000],
    ] as const) {
      const res = await sale(m);
      expect(res.status).toBe(201);
      expect(res.body.member.tier).toMatchObject({ current: { name: "Gold" }, expires_at: END_2027 });
      expect(res.body.member.tier_changed).toMatchObject({ to: gold });
      expect(await storedTier(tenant, m)).toEqual({ tier_id: gold, tier_expires_at: new Date(END_2027) });
      expect((await reasons(tenant, m)).at(-1)).toBe(`Reached Gold with ${total} spend in 2026`);
    }
    // On time, the same sale gave Gold until the end of 2027 as well.
    expect(await storedTier(tenant, onTime)).toEqual({ tier_id: gold, tier_expires_at: new Date(END_2027) });
  });
});

describe("a redemption by a member whose tier still holds", () => {
  ownApp();

  it("leaves the tier's retention as it is: using a tier does not renew it", async () => {
    t.clock.set(new Date("2026-03-02T09:00:00Z"));
    const { tenant, silver } = await goldBoutique(await t.signup(), "rolling_12_months");
    const gift = await ok(tenant, "POST", "/v1/rewards", {
      name: "Gift",
      type: "free_product",
      value: { product_name: "Gift" },
      cost_points: 10,
    });
    const m = await member(tenant);
    expect((await purchase(tenant, m, 25_000)).status).toBe(201);
    const reached = await storedTier(tenant, m);
    expect(reached.tier_id).toBe(silver);
    t.clock.set(new Date("2027-01-26T09:00:00Z"));
    expect((await tenant.call("POST", `/v1/members/${m}/redemptions`, { reward_id: gift.id })).status).toBe(
      201,
    );
    expect(await storedTier(tenant, m)).toEqual(reached);
    expect(await reasons(tenant, m)).toEqual(["Reached Silver with 25000 spend"]);
  });
});
