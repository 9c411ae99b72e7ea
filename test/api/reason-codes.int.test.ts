import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CodedReason, english } from "../../src/shared/reason.ts";
import { startTestApp, type Tenant, type TestApp } from "../helpers/api.ts";
import { goldBoutique } from "../helpers/tiers.ts";

/**
 * Every line of a member's history and every tier change says why as data too: a code and its
 * figures (`src/shared/reason.ts`) beside the English text, so the dashboard words it in the
 * business's language. The text is always the code's English wording; a correction by hand keeps
 * staff's own words and no code.
 */

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ now: "2026-06-01T10:00:00Z" });
});
afterAll(async () => t?.close());

async function ok(tenant: Tenant, method: "GET" | "POST" | "PUT", url: string, body?: unknown) {
  const res = await tenant.call(method, url, body);
  if (res.status >= 300) throw new Error(`${method} ${url} → ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

interface Coded {
  reason: string;
  reason_code: string | null;
  reason_params: Record<string, unknown> | null;
}

const coded = (items: Coded[]) =>
  items.map((i) => ({ reason_code: i.reason_code, reason_params: i.reason_params }));

function wordedAsCoded(items: Coded[]): void {
  for (const item of items) {
    if (item.reason_code === null) continue;
    expect(english({ code: item.reason_code, params: item.reason_params } as CodedReason)).toBe(item.reason);
  }
}

describe("reasons as codes", () => {
  it("names the rate, the rule, its cap, the tier's bonus, the card, a refund, a redemption, a void and a tier's moves", async () => {
    const { tenant } = await goldBoutique(await t.signup());
    const card = await ok(tenant, "POST", "/v1/stamp-cards", {
      name: "Coffee card",
      stamps_required: 10,
      earn_on: "visit",
    });
    await ok(tenant, "POST", "/v1/rules", {
      name: "Daily bonus",
      trigger: "purchase",
      effect: { type: "fixed_points", points: 30 },
      cap: { period: "day", max_points: 20 },
    });
    const member = (await ok(tenant, "POST", "/v1/members", { marketing_consent: false })).id as string;
    const buy = (id: string, amount: number) =>
      ok(tenant, "POST", "/v1/purchases", {
        external_id: id,
        member_id: member,
        amount_minor: amount,
        currency: "EUR",
      });

    const first = await buy("till-1", 60_000);
    expect(coded(first.earned.points)).toEqual([
      { reason_code: "earn_rate", reason_params: { points: 1, per_minor: 100, currency: "EUR" } },
      { reason_code: "rule_capped", reason_params: { rule: "Daily bonus" } },
    ]);
    expect(first.earned.points[1]).toMatchObject({ points: 20, reason: "Daily bonus (capped)" });
    expect(coded(first.earned.stamps)).toEqual([
      { reason_code: "stamp_card", reason_params: { card: "Coffee card" } },
    ]);
    expect(first.earned.stamps[0].stamp_card_id).toBe(card.id);

    // Gold now: the tier's bonus and its rule; the capped rule gave all it may today.
    const second = await buy("till-2", 1_000);
    expect(coded(second.earned.points)).toEqual([
      { reason_code: "earn_rate", reason_params: { points: 1, per_minor: 100, currency: "EUR" } },
      { reason_code: "rule", reason_params: { rule: "Gold thank-you" } },
      { reason_code: "tier_bonus", reason_params: { tier: "Gold", multiplier: 1.5 } },
    ]);

    const reward = await ok(tenant, "POST", "/v1/rewards", {
      name: "Free latte",
      type: "free_product",
      value: { product_name: "Latte" },
      cost_points: 50,
    });
    const { voucher } = await ok(tenant, "POST", `/v1/members/${member}/redemptions`, {
      reward_id: reward.id,
    });
    await ok(tenant, "POST", `/v1/vouchers/${voucher.code}/void`, { reason: "wrong drink" });
    await ok(tenant, "POST", `/v1/members/${member}/adjustments`, {
      points: 5,
      reason: "Stamp missed on 3 May",
    });
    await ok(tenant, "POST", "/v1/refunds", {
      external_id: "back-1",
      purchase_id: first.purchase.id,
      amount_minor: 60_000,
      reason: "wrong size",
    });

    const history = (await ok(tenant, "GET", `/v1/members/${member}/history?limit=100`)).data as (Coded & {
      type: string;
      kind: string;
    })[];
    wordedAsCoded(history);
    const of = (type: string, kind: string) =>
      coded(history.filter((h) => h.type === type && h.kind === kind));
    expect(of("points", "reverse")).toEqual([
      { reason_code: "refund", reason_params: { purchase: "till-1", note: "wrong size" } },
    ]);
    expect(of("stamps", "reverse")).toEqual([
      {
        reason_code: "refund_stamps",
        reason_params: { card: "Coffee card", purchase: "till-1", note: "wrong size" },
      },
    ]);
    expect(of("points", "spend")).toEqual([
      { reason_code: "redeemed", reason_params: { reward: "Free latte" } },
    ]);
    expect(of("points", "restore")).toEqual([
      { reason_code: "voucher_voided", reason_params: { voucher: voucher.code, note: "wrong drink" } },
    ]);
    const adjusted = history.find((h) => h.kind === "adjust");
    expect(adjusted).toMatchObject({
      reason: "Stamp missed on 3 May",
      reason_code: null,
      reason_params: null,
    });

    const changes = (await ok(tenant, "GET", `/v1/members/${member}/tier-changes`)).data as Coded[];
    wordedAsCoded(changes);
    expect(coded(changes)).toEqual([
      {
        reason_code: "tier_taken_back",
        reason_params: {
          from: "Gold",
          cause: "refund",
          cause_ref: "till-1",
          left: 1_000,
          threshold: 50_000,
          unit: "spend",
          currency: "EUR",
          tier: null,
          reached: null,
          year: null,
        },
      },
      {
        reason_code: "tier_reached",
        reason_params: { tier: "Gold", metric: 60_000, unit: "spend", currency: "EUR", year: null },
      },
    ]);
    expect(changes[0]?.reason).toBe(
      "Gold taken back: the refund of purchase till-1 leaves 1000 spend, below Gold's 50000",
    );
  });

  it("words a correction that takes back a points tier with staff's words as its cause", async () => {
    const owner = await t.signup();
    const program = (await ok(owner, "GET", "/v1/program")).config;
    await ok(owner, "PUT", "/v1/program", {
      ...program,
      tiers: { metric: "points", period: "calendar_year" },
    });
    await ok(owner, "POST", "/v1/tiers", { name: "Gold", rank: 1, threshold: 500 });
    const member = (await ok(owner, "POST", "/v1/members", { marketing_consent: false })).id as string;
    await ok(owner, "POST", `/v1/members/${member}/adjustments`, { points: 500, reason: "Review bonus" });
    await ok(owner, "POST", `/v1/members/${member}/adjustments`, { points: -500, reason: "Wrong member" });
    const changes = (await ok(owner, "GET", `/v1/members/${member}/tier-changes`)).data as Coded[];
    wordedAsCoded(changes);
    expect(changes[0]).toMatchObject({
      reason: `Gold taken back: the correction "Wrong member" leaves 0 points, below Gold's 500`,
      reason_code: "tier_taken_back",
      reason_params: { cause: "correction", cause_ref: "Wrong member", left: 0, unit: "points" },
    });
  });
});
