import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type Tenant, type TestApp } from "../helpers/api.ts";

/**
 * A manual adjustment counts toward a points tier as it counts in `lifetime_earned`: a correction
 * of an event recorded on the wrong member takes back the tier the event alone gave, at once, as
 * a refund does; points added by hand count as earned, and an upgrade they reach comes at once.
 */
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ now: "2026-06-01T10:00:00Z" });
});
afterAll(async () => t?.close());

async function ok(tenant: Tenant, method: "POST" | "PUT", url: string, body: unknown) {
  const res = await tenant.call(method, url, body);
  if (res.status >= 300) throw new Error(`${method} ${url} → ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** Tiers by points earned in the calendar year (Gold at 500), a 500-point review, one member. */
async function shop() {
  const tenant = await t.signup();
  const program = (await tenant.call("GET", "/v1/program")).body.config;
  await ok(tenant, "PUT", "/v1/program", {
    ...program,
    points: { ...program.points, earn_points: 1, earn_per_minor: 100, pending_days: 0 },
    tiers: { metric: "points", period: "calendar_year" },
  });
  await ok(tenant, "POST", "/v1/tiers", {
    name: "Gold",
    rank: 1,
    threshold: 500,
    earn_multiplier_bp: 20_000,
  });
  await ok(tenant, "POST", "/v1/rules", {
    name: "Review",
    trigger: "event",
    event_type: "review_written",
    effect: { type: "fixed_points", points: 500 },
  });
  const member = (await ok(tenant, "POST", "/v1/members", { name: "Ola", marketing_consent: false }))
    .id as string;
  return { tenant, member };
}

describe("an adjustment and a points tier", () => {
  it("a correction of a mistaken event takes back the Gold it gave, and the next purchase earns without it", async () => {
    const { tenant, member } = await shop();
    const event = await ok(tenant, "POST", "/v1/events", {
      external_id: "review-on-wrong-member",
      member_id: member,
      type: "review_written",
    });
    expect(event.member.tier.current.name).toBe("Gold");
    const corrected = await ok(tenant, "POST", `/v1/members/${member}/adjustments`, {
      points: -500,
      reason: "Review recorded on the wrong member",
    });
    expect(corrected.member.points).toMatchObject({ available: 0, lifetime_earned: 0 });
    expect(corrected.member.tier).toMatchObject({ current: null, metric_value: 0 });
    const card = (await tenant.call("GET", `/v1/members/${member}/card`)).body;
    expect(card.tier).toMatchObject({ current: null, metric_value: 0 });
    const bought = await ok(tenant, "POST", "/v1/purchases", {
      external_id: "after-correction",
      member_id: member,
      amount_minor: 1_000,
      currency: "EUR",
    });
    expect(bought.purchase.points_earned).toBe(10);
    // The member's tier changes say why Gold came and went, latest first.
    const changes = (await tenant.call("GET", `/v1/members/${member}/tier-changes`)).body;
    expect(
      changes.data.map(
        (c: { from_tier: { name: string } | null; to_tier: { name: string } | null; reason: string }) => [
          c.from_tier?.name ?? null,
          c.to_tier?.name ?? null,
          c.reason,
        ],
      ),
    ).toEqual([
      [
        "Gold",
        null,
        'Gold taken back: the correction "Review recorded on the wrong member" leaves 0 points, below Gold\'s 500',
      ],
      [null, "Gold", "Reached Gold with 500 points"],
    ]);
    expect(changes.next_cursor).toBeNull();
    const paged = (await tenant.call("GET", `/v1/members/${member}/tier-changes?limit=1`)).body;
    const rest = await tenant.call(
      "GET",
      `/v1/members/${member}/tier-changes?limit=1&cursor=${encodeURIComponent(paged.next_cursor)}`,
    );
    expect([...paged.data, ...rest.body.data]).toEqual(changes.data);
  });

  it("points added by hand count as earned: Gold at once, the card and lifetime_earned agree", async () => {
    const { tenant, member } = await shop();
    const added = await ok(tenant, "POST", `/v1/members/${member}/adjustments`, {
      points: 500,
      reason: "Till was down: 500 points for purchase 42",
    });
    expect(added.member.points).toMatchObject({ available: 500, lifetime_earned: 500 });
    expect(added.member.tier).toMatchObject({ current: { name: "Gold" }, metric_value: 500 });
    const bought = await ok(tenant, "POST", "/v1/purchases", {
      external_id: "gold-purchase",
      member_id: member,
      amount_minor: 1_000,
      currency: "EUR",
    });
    expect(bought.purchase.points_earned).toBe(20);
  });

  it("a correction that leaves the member above the threshold changes no tier", async () => {
    const { tenant, member } = await shop();
    await ok(tenant, "POST", `/v1/members/${member}/adjustments`, { points: 700, reason: "Welcome back" });
    const corrected = await ok(tenant, "POST", `/v1/members/${member}/adjustments`, {
      points: -100,
      reason: "Too much",
    });
    expect(corrected.member.tier).toMatchObject({ current: { name: "Gold" }, metric_value: 600 });
  });
});
