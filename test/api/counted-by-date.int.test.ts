import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Actor } from "../../src/context.ts";
import { bindText } from "../../src/db/sql-text.ts";
import { TIER_METRIC_TEXT } from "../../src/modules/tiers/metric.ts";
import { purchaseBatchStats } from "../../src/use-cases/purchase-fast-path.ts";
import { type PurchaseResult, recordPurchase } from "../../src/use-cases/purchases.ts";
import { startTestApp, type Tenant, type TestApp } from "../helpers/api.ts";

/**
 * What a purchase counts is decided by when it happened, not when it was recorded: a purchase
 * backdated into an earlier cap period meets that period's cap (not the current one's), and a
 * refund takes its points out of the tier metric of the purchase's own window, as it does for
 * spend and visits. Both ways of recording a purchase (the two-statement path and the locked
 * path) are held to it.
 */

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => t?.close());

const PATHS = ["two-statement", "locked"] as const;
type Path = (typeof PATHS)[number];
let seq = 0;

async function ok(tenant: Tenant, method: "POST" | "PUT", url: string, body: unknown) {
  const res = await tenant.call(method, url, body);
  if (res.status >= 300) throw new Error(`${method} ${url} → ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** A café (Europe/Amsterdam) giving 1 point per €1, with one member, and a purchase recorder on `path`. */
async function cafe(path: Path, tiers?: { metric: "points"; threshold: number }) {
  const tenant = await t.signup();
  const program = (await tenant.call("GET", "/v1/program")).body.config;
  await ok(tenant, "PUT", "/v1/program", {
    ...program,
    points: { ...program.points, earn_points: 1, earn_per_minor: 100, pending_days: 0 },
    ...(tiers ? { tiers: { metric: tiers.metric, period: "calendar_year" } } : {}),
  });
  if (tiers) await ok(tenant, "POST", "/v1/tiers", { name: "Gold", rank: 1, threshold: tiers.threshold });
  const member = (await ok(tenant, "POST", "/v1/members", { name: "Anna", marketing_consent: false }))
    .id as string;
  const actor: Actor = { businessId: tenant.businessId, kind: "system", id: "test", role: "owner" };
  const buy = async (amount_minor: number, occurred_at?: string): Promise<PurchaseResult> => {
    const written = purchaseBatchStats().writeItems;
    const { result } = await recordPurchase(
      t.ctx,
      actor,
      {
        external_id: `p-${++seq}`,
        member_id: member,
        amount_minor,
        currency: "EUR",
        items: [],
        ...(occurred_at ? { occurred_at } : {}),
      },
      { lockedOnly: path === "locked" },
    );
    // Each path is the one under test: the two-statement path wrote it, the locked path did not.
    expect(purchaseBatchStats().writeItems - written).toBe(path === "locked" ? 0 : 1);
    return result;
  };
  return { tenant, member, buy };
}

describe("a purchase backdated into an earlier cap period", () => {
  /** Now: Monday 2 March 2026, 10:00 in Amsterdam; each purchase dated back falls in the period before. */
  const NOW = "2026-03-02T09:00:00Z";
  const cases = [
    { period: "day", before: "2026-03-01T09:00:00Z" },
    { period: "week", before: "2026-02-26T09:00:00Z" },
    { period: "month", before: "2026-02-20T09:00:00Z" },
    { period: "year", before: "2025-12-20T09:00:00Z" },
  ] as const;

  it.each(PATHS.flatMap((path) => cases.map((c) => ({ path, ...c }))))(
    "$path path, once a $period: meets its own period's cap, and leaves the current period's alone",
    async ({ path, period, before }) => {
      t.clock.set(new Date(NOW));
      const { tenant, buy } = await cafe(path);
      const rule = (
        await ok(tenant, "POST", "/v1/rules", {
          name: "Visit bonus",
          trigger: "purchase",
          effect: { type: "fixed_points", points: 10 },
          cap: { period, max_times: 1 },
        })
      ).id as string;
      const bonus = async (occurred_at?: string) =>
        (await buy(500, occurred_at)).earned.points
          .filter((l) => l.rule_id === rule)
          .reduce((s, l) => s + l.points, 0);

      expect(await bonus()).toBe(10);
      expect(await bonus()).toBe(0);
      // The period before had no bonus yet: this period's use is not its.
      const late = await buy(500, before);
      expect(late.earned.points.filter((l) => l.rule_id === rule).map((l) => l.points)).toEqual([10]);
      expect(await bonus(before)).toBe(0);
      expect(await bonus()).toBe(0);
      // A refund still gives the allowance back, in the period of the purchase refunded.
      await ok(tenant, "POST", "/v1/refunds", {
        external_id: `r-${++seq}`,
        purchase_id: late.purchase.id,
        amount_minor: 500,
      });
      expect(await bonus()).toBe(0);
      expect(await bonus(before)).toBe(10);
    },
  );

  it.each(PATHS)("%s path, once a lifetime: a purchase dated back meets the same cap", async (path) => {
    t.clock.set(new Date(NOW));
    const { tenant, buy } = await cafe(path);
    const rule = (
      await ok(tenant, "POST", "/v1/rules", {
        name: "Welcome purchase",
        trigger: "purchase",
        effect: { type: "fixed_points", points: 10 },
        cap: { period: "lifetime", max_times: 1 },
      })
    ).id as string;
    const bonus = async (occurred_at?: string) =>
      (await buy(500, occurred_at)).earned.points
        .filter((l) => l.rule_id === rule)
        .reduce((s, l) => s + l.points, 0);
    expect(await bonus()).toBe(10);
    expect(await bonus("2024-06-01T09:00:00Z")).toBe(0);
    expect(await bonus()).toBe(0);
  });
});

describe("the points metric after a refund", () => {
  it.each(PATHS)(
    "%s path: a refund of last year's purchase leaves this year's points alone",
    async (path) => {
      // Sunday 20 December 2026 in Amsterdam.
      t.clock.set(new Date("2026-12-20T12:00:00Z"));
      const { tenant, member, buy } = await cafe(path, { metric: "points", threshold: 40 });
      const december = await buy(2_000);
      expect(december.member?.tier?.metric_value).toBe(20);

      t.clock.set(new Date("2027-01-03T12:00:00Z"));
      const january = await buy(3_000);
      expect(january.member?.tier?.metric_value).toBe(30);

      // On 5 January the December purchase comes back: its points leave 2026's count, not 2027's.
      t.clock.set(new Date("2027-01-05T12:00:00Z"));
      const back = await ok(tenant, "POST", "/v1/refunds", {
        external_id: `r-${++seq}`,
        purchase_id: december.purchase.id,
        amount_minor: 2_000,
      });
      expect(back.refund.points_reversed).toBe(20);
      expect(back.member.tier.metric_value).toBe(30);
      // A refund of this year's purchase counts in this year, as before.
      const part = await ok(tenant, "POST", "/v1/refunds", {
        external_id: `r-${++seq}`,
        purchase_id: january.purchase.id,
        amount_minor: 1_000,
      });
      expect(part.member.tier.metric_value).toBe(20);
      // Counted over 2026 now that it has ended, the December purchase is gone from points as from
      // spend: the refund counts in its purchase's year, made later though it was.
      const in2026 = async (metric: "points" | "spend") => {
        const value = bindText<string>(TIER_METRIC_TEXT[metric], {
          business: tenant.businessId,
          member,
          from: new Date("2025-12-31T23:00:00Z"),
          now: new Date("2026-12-31T22:59:59.999Z"),
        });
        const { rows } = await sql<{ value: string }>`select ${value} as value`.execute(t.database.db);
        return Number(rows[0]?.value);
      };
      expect([await in2026("points"), await in2026("spend")]).toEqual([0, 0]);

      const reached = await buy(2_000);
      expect(reached.member?.tier).toMatchObject({ current: { name: "Gold" }, metric_value: 40 });
      const card = await tenant.call("GET", `/v1/members/${member}/card`);
      expect(card.body.tier.metric_value).toBe(40);
      // The member's history keeps each entry's own date: the reversal on the day of the refund.
      const history = await tenant.call("GET", `/v1/members/${member}/history`);
      const reversal = history.body.data.find(
        (h: { kind: string; points: number }) => h.kind === "reverse" && h.points === -20,
      );
      expect(reversal?.occurred_at).toBe("2027-01-05T12:00:00.000Z");
    },
  );
});

describe("the points metric after a refund of points already spent", () => {
  it.each(PATHS)(
    "%s path: points the refund could not take back leave the metric on the purchase's date",
    async (path) => {
      // Sunday 20 December 2026 in Amsterdam.
      t.clock.set(new Date("2026-12-20T12:00:00Z"));
      const { tenant, member, buy } = await cafe(path, { metric: "points", threshold: 40 });
      const reward = await ok(tenant, "POST", "/v1/rewards", {
        name: "Cake",
        type: "free_product",
        value: { product_name: "Cake" },
        cost_points: 20,
      });
      const redeem = () => ok(tenant, "POST", `/v1/members/${member}/redemptions`, { reward_id: reward.id });
      const december = await buy(2_000);
      await redeem();

      // Refunded on 3 January with its points spent: nothing to take back, and 2026 counts none
      // of them (2027 none either).
      t.clock.set(new Date("2027-01-03T12:00:00Z"));
      const back = await ok(tenant, "POST", "/v1/refunds", {
        external_id: `r-${++seq}`,
        purchase_id: december.purchase.id,
        amount_minor: 2_000,
      });
      expect(back.refund).toMatchObject({ points_reversed: 0, points_unrecovered: 20 });
      expect(back.member.tier.metric_value).toBe(0);
      const in2026 = bindText<string>(TIER_METRIC_TEXT.points, {
        business: tenant.businessId,
        member,
        from: new Date("2025-12-31T23:00:00Z"),
        now: new Date("2026-12-31T22:59:59.999Z"),
      });
      const { rows } = await sql<{ value: string }>`select ${in2026} as value`.execute(t.database.db);
      expect(Number(rows[0]?.value)).toBe(0);

      // This year: 30 points, 20 of them spent, then the purchase refunded in full. The 10 left
      // are taken back, 20 written off: the purchase counts nothing, and the next purchase's own
      // 40 reach Gold on their own.
      const january = await buy(3_000);
      expect(january.member?.tier?.metric_value).toBe(30);
      await redeem();
      const all = await ok(tenant, "POST", "/v1/refunds", {
        external_id: `r-${++seq}`,
        purchase_id: january.purchase.id,
        amount_minor: 3_000,
      });
      expect(all.refund).toMatchObject({ points_reversed: 10, points_unrecovered: 20 });
      expect(all.member.tier.metric_value).toBe(0);
      const next = await buy(4_000);
      expect(next.member?.tier).toMatchObject({ current: { name: "Gold" }, metric_value: 40 });
      const card = await tenant.call("GET", `/v1/members/${member}/card`);
      expect(card.body.tier.metric_value).toBe(40);
    },
  );
});

describe("the points metric after a refund of points that expired", () => {
  it.each(PATHS)(
    "%s path: the refunded share leaves the metric though its points expired, and nothing is taken for it",
    async (path) => {
      t.clock.set(new Date("2026-06-01T10:00:00Z"));
      const { tenant, member, buy } = await cafe(path, { metric: "points", threshold: 40 });
      const program = (await tenant.call("GET", "/v1/program")).body.config;
      await ok(tenant, "PUT", "/v1/program", {
        ...program,
        points: { ...program.points, expiry: { policy: "days_after_earn", days: 10 } },
      });
      const refund = async (purchaseId: string, amount_minor: number) =>
        ok(tenant, "POST", "/v1/refunds", {
          external_id: `r-${++seq}`,
          purchase_id: purchaseId,
          amount_minor,
        });
      const expire = async () => {
        t.clock.advance(11 * 24 * 3600 * 1000);
        return ok(tenant, "POST", "/v1/points/expire", {});
      };

      // 50 points, all expired: half the purchase refunded takes nothing from the member, and
      // the metric loses the half all the same, below Gold's 40.
      const bought = await buy(5_000);
      expect(bought.member?.tier).toMatchObject({ current: { name: "Gold" }, metric_value: 50 });
      expect(await expire()).toEqual({ lots: 1, points: 50 });
      const half = await refund(bought.purchase.id, 2_500);
      expect(half.refund).toMatchObject({ points_reversed: 0, points_unrecovered: 0, points_expired: 25 });
      expect(half.member.tier).toMatchObject({ current: null, metric_value: 25 });
      expect(half.member.tier_changed).toMatchObject({ from: expect.any(String), to: null });
      const rest = await refund(bought.purchase.id, 2_500);
      expect(rest.refund).toMatchObject({ points_reversed: 0, points_unrecovered: 0, points_expired: 25 });
      expect(rest.member.tier.metric_value).toBe(0);
      expect(rest.member.points.available).toBe(0);

      // 50 points, 20 taken back by a refund of 40 %, the other 30 expired: the rest of the
      // refund takes nothing, and the purchase counts nothing.
      const second = await buy(5_000);
      const part = await refund(second.purchase.id, 2_000);
      expect(part.refund).toMatchObject({ points_reversed: 20, points_expired: 0 });
      expect(part.member.tier.metric_value).toBe(30);
      expect(await expire()).toEqual({ lots: 1, points: 30 });
      const other = await buy(1_000);
      expect(other.member?.tier?.metric_value).toBe(40);
      const all = await refund(second.purchase.id, 3_000);
      expect(all.refund).toMatchObject({ points_reversed: 0, points_unrecovered: 0, points_expired: 30 });
      expect(all.member.tier.metric_value).toBe(10);
      expect(all.member.points.available).toBe(10);
    },
  );
});

describe("days of the program, counted in the business's calendar", () => {
  // 23:30 on Sunday 1 March 2026 in Amsterdam (winter time); summer time starts on 29 March.
  const EARNED = "2026-03-01T22:30:00Z";

  it.each(PATHS)(
    "%s path: 28 days pending and 30 days to expire end at 23:30 on their date, across the change to summer time",
    async (path) => {
      t.clock.set(new Date("2026-03-02T09:00:00Z"));
      const { tenant, member, buy } = await cafe(path);
      const program = (await tenant.call("GET", "/v1/program")).body.config;
      await ok(tenant, "PUT", "/v1/program", {
        ...program,
        points: { ...program.points, pending_days: 28, expiry: { policy: "days_after_earn", days: 30 } },
      });
      await buy(1_000, EARNED);
      const lot = await t.database.db
        .selectFrom("ledger_lots")
        .select(["available_at", "expires_at"])
        .where("business_id", "=", tenant.businessId)
        .where("member_id", "=", member)
        .executeTakeFirstOrThrow();
      // 23:30 CEST is 21:30 UTC: 24-hour days would have ended at 00:30 on the next date.
      expect([lot.available_at.toISOString(), lot.expires_at?.toISOString()]).toEqual([
        "2026-03-29T21:30:00.000Z",
        "2026-03-31T21:30:00.000Z",
      ]);
    },
  );

  it("a voucher valid 7 days is valid to the same time of day 7 dates later", async () => {
    t.clock.set(new Date("2026-03-25T11:00:00Z"));
    const { tenant, buy } = await cafe("locked");
    const reward = await ok(tenant, "POST", "/v1/rewards", {
      name: "Cookie",
      type: "free_product",
      value: { product_name: "Cookie" },
      cost_points: 10,
      voucher_valid_days: 7,
    });
    const bought = await buy(1_000);
    const voucher = await ok(tenant, "POST", `/v1/members/${bought.member?.id}/redemptions`, {
      reward_id: reward.id,
    });
    // Issued at 12:00 CET on 25 March: it is valid until 12:00 CEST on 1 April.
    expect(voucher.voucher.expires_at).toBe("2026-04-01T10:00:00.000Z");
  });
});

describe("an event dated last year", () => {
  it("counts for what last year reached, as a purchase does", async () => {
    t.clock.set(new Date("2025-12-10T10:00:00Z"));
    const tenant = await t.signup();
    const program = (await tenant.call("GET", "/v1/program")).body.config;
    await ok(tenant, "PUT", "/v1/program", {
      ...program,
      points: { ...program.points, pending_days: 0 },
      tiers: { metric: "points", period: "calendar_year" },
    });
    await ok(tenant, "POST", "/v1/tiers", { name: "Silver", rank: 1, threshold: 100 });
    await ok(tenant, "POST", "/v1/rules", {
      name: "Review",
      trigger: "event",
      event_type: "review_written",
      effect: { type: "fixed_points", points: 150 },
    });
    const byEvent = (await ok(tenant, "POST", "/v1/members", { name: "A", marketing_consent: false })).id;
    const byPurchase = (await ok(tenant, "POST", "/v1/members", { name: "B", marketing_consent: false })).id;
    // Both earned 150 points on 31 December, recorded on 2 January (a nightly sync after the holidays).
    t.clock.set(new Date("2026-01-02T10:00:00Z"));
    const event = await ok(tenant, "POST", "/v1/events", {
      external_id: "late-review",
      member_id: byEvent,
      type: "review_written",
      occurred_at: "2025-12-31T12:00:00Z",
    });
    expect(event.event.points_earned).toBe(150);
    await ok(tenant, "POST", "/v1/purchases", {
      external_id: "late-sale",
      member_id: byPurchase,
      amount_minor: 15_000,
      currency: "EUR",
      occurred_at: "2025-12-31T12:00:00Z",
    });
    for (const member of [byEvent, byPurchase]) {
      const card = (await tenant.call("GET", `/v1/members/${member}/card`)).body;
      expect(card.tier.current?.name, member).toBe("Silver");
      // Kept through 2026 on what 2025 reached (the end of 2026 in Amsterdam).
      expect(card.tier.expires_at, member).toBe("2026-12-31T23:00:00.000Z");
    }
  });
});
