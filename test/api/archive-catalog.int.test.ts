import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type Tenant, type TestApp } from "../helpers/api.ts";

/**
 * Archiving a rule or a stamp card takes effect on the very next purchase, on every node: it
 * moves the program's version, so no snapshot cache keeps pricing with what was archived.
 */
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ now: "2026-03-02T09:00:00Z" });
});
afterAll(async () => t?.close());

let seq = 0;
async function ok(tenant: Tenant, method: "POST" | "DELETE", url: string, body?: unknown) {
  const res = await tenant.call(method, url, body);
  if (res.status >= 300) throw new Error(`${method} ${url} → ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

async function cafe() {
  const tenant = await t.signup();
  const member = (await ok(tenant, "POST", "/v1/members", { name: "Anna", marketing_consent: false }))
    .id as string;
  const buy = async () =>
    ok(tenant, "POST", "/v1/purchases", {
      external_id: `p-${++seq}`,
      member_id: member,
      amount_minor: 500,
      currency: "EUR",
    });
  return { tenant, member, buy };
}

describe("archiving what a purchase is priced with", () => {
  it("an archived earning rule gives nothing on the next purchase", async () => {
    const { tenant, buy } = await cafe();
    const rule = (
      await ok(tenant, "POST", "/v1/rules", {
        name: "Bonus",
        trigger: "purchase",
        effect: { type: "fixed_points", points: 100 },
      })
    ).id as string;
    const bonus = (body: { earned: { points: { rule_id: string | null; points: number }[] } }) =>
      body.earned.points.filter((p) => p.rule_id === rule).map((p) => p.points);
    expect(bonus(await buy())).toEqual([100]);
    await ok(tenant, "DELETE", `/v1/rules/${rule}`);
    expect(bonus(await buy())).toEqual([]);
  });

  it("a rule that stops the others but stamps an archived card no longer stops them", async () => {
    const { tenant, buy } = await cafe();
    const card = (
      await ok(tenant, "POST", "/v1/stamp-cards", {
        name: "Tea",
        stamps_required: 5,
        earn_on: "item",
        item_match: { skus: ["tea"] },
      })
    ).id as string;
    await ok(tenant, "POST", "/v1/rules", {
      name: "Extra stamp",
      trigger: "purchase",
      priority: 1,
      stop_processing: true,
      effect: { type: "stamps", stamp_card_id: card, stamps: 1 },
    });
    const bonus = (
      await ok(tenant, "POST", "/v1/rules", {
        name: "Bonus 20",
        trigger: "purchase",
        priority: 50,
        effect: { type: "fixed_points", points: 20 },
      })
    ).id as string;
    const bonusOf = (body: { earned: { points: { rule_id: string | null; points: number }[] } }) =>
      body.earned.points.filter((p) => p.rule_id === bonus).map((p) => p.points);
    expect(bonusOf(await buy())).toEqual([]);
    await ok(tenant, "DELETE", `/v1/stamp-cards/${card}`);
    const after = await buy();
    expect(bonusOf(after)).toEqual([20]);
    expect(after.earned.stamps).toEqual([]);
  });

  it("an archived stamp card gives no stamp on the next purchase", async () => {
    const { tenant, buy } = await cafe();
    const card = (
      await ok(tenant, "POST", "/v1/stamp-cards", { name: "Coffee", stamps_required: 3, earn_on: "visit" })
    ).id as string;
    const stamps = (body: { earned: { stamps: { stamp_card_id: string; stamps: number }[] } }) =>
      body.earned.stamps.filter((s) => s.stamp_card_id === card).map((s) => s.stamps);
    expect(stamps(await buy())).toEqual([1]);
    await ok(tenant, "DELETE", `/v1/stamp-cards/${card}`);
    expect(stamps(await buy())).toEqual([]);
  });
});

describe("stamps on a card archived since", () => {
  async function stampsOf(tenant: Tenant, member: string, card: string): Promise<number> {
    const row = await t.database.db
      .selectFrom("stamp_balances")
      .select("stamps")
      .where("business_id", "=", tenant.businessId)
      .where("member_id", "=", member)
      .where("stamp_card_id", "=", card)
      .executeTakeFirst();
    return row?.stamps ?? 0;
  }

  async function archivedCard() {
    const { tenant, member, buy } = await cafe();
    const card = (
      await ok(tenant, "POST", "/v1/stamp-cards", { name: "Coffee", stamps_required: 3, earn_on: "visit" })
    ).id as string;
    await buy();
    const second = (await buy()).purchase.id as string;
    await ok(tenant, "DELETE", `/v1/stamp-cards/${card}`);
    expect(await stampsOf(tenant, member, card)).toBe(2);
    return { tenant, member, card, second };
  }

  it("go back with a refund of the purchase that earned them: they still pay for rewards", async () => {
    const { tenant, member, card, second } = await archivedCard();
    const refund = await ok(tenant, "POST", "/v1/refunds", {
      external_id: `r-${++seq}`,
      purchase_id: second,
      amount_minor: 500,
    });
    expect([refund.refund.stamps_reversed, await stampsOf(tenant, member, card)]).toEqual([1, 1]);
  });

  it("can be corrected by a manager, up and down", async () => {
    const { tenant, member, card } = await archivedCard();
    const adjust = (stamps: number) =>
      tenant.call("POST", `/v1/members/${member}/adjustments`, {
        stamp_card_id: card,
        stamps,
        reason: "counted twice",
      });
    expect((await adjust(-1)).status).toBe(201);
    expect((await adjust(2)).status).toBe(201);
    expect(await stampsOf(tenant, member, card)).toBe(3);
    const tooMany = await adjust(-4);
    expect([tooMany.status, tooMany.body.error.code]).toEqual([409, "insufficient_stamps"]);
    const unknown = await tenant.call("POST", `/v1/members/${member}/adjustments`, {
      stamp_card_id: "0b5c7d1e-2f3a-4b5c-8d6e-7f8091a2b3c4",
      stamps: 1,
      reason: "no such card",
    });
    expect([unknown.status, unknown.body.error.code]).toEqual([422, "stamp_card_not_found"]);
  });
});
