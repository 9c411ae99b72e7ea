import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Actor } from "../../src/context.ts";
import { purchaseBatchStats } from "../../src/use-cases/purchase-fast-path.ts";
import { recordPurchase } from "../../src/use-cases/purchases.ts";
import { startTestApp, type Tenant, type TestApp } from "../helpers/api.ts";

/** Every answer that carries a member's summary says what the card says. */
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ now: "2026-03-02T09:00:00Z" });
});
afterAll(async () => t?.close());

let seq = 0;
async function ok(tenant: Tenant, method: "GET" | "POST" | "PUT" | "DELETE", url: string, body?: unknown) {
  const res = await tenant.call(method, url, body);
  if (res.status >= 300) throw new Error(`${method} ${url} → ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

describe("a write's answer", () => {
  it("shows pending points by release time and an archived card's stamps, as the card does", async () => {
    const tenant = await t.signup();
    const program = (await ok(tenant, "GET", "/v1/program")).config;
    await ok(tenant, "PUT", "/v1/program", { ...program, points: { ...program.points, pending_days: 14 } });
    const coffee = (
      await ok(tenant, "POST", "/v1/stamp-cards", { name: "Coffee", stamps_required: 10, earn_on: "visit" })
    ).id;
    const member = (await ok(tenant, "POST", "/v1/members", { name: "Anna", marketing_consent: false })).id;
    const buy = async (amount_minor: number) =>
      ok(tenant, "POST", "/v1/purchases", {
        external_id: `p-${++seq}`,
        member_id: member,
        amount_minor,
        currency: "EUR",
      });
    const card = async () => {
      const { id: _id, code: _code, ...summary } = await ok(tenant, "GET", `/v1/members/${member}/card`);
      return summary;
    };
    const held = (answer: { id: string; code?: string }) => {
      const {
        id: _id,
        code: _code,
        tier_changed: _t,
        rewards_available: _r,
        ...summary
      } = answer as Record<string, unknown>;
      return summary;
    };
    await buy(1_000);
    await buy(2_000);
    t.clock.advance(3600_000);
    await ok(tenant, "DELETE", `/v1/stamp-cards/${coffee}`);
    // The fast path.
    const written = purchaseBatchStats().writeItems;
    const fast = await buy(3_000);
    expect(purchaseBatchStats().writeItems - written).toBe(1);
    expect(fast.member.points.pending_until).toHaveLength(2);
    expect(fast.member.stamp_cards).toEqual([
      expect.objectContaining({ stamp_card_id: coffee, stamps: 2, archived: true }),
    ]);
    expect(held(fast.member)).toEqual(await card());
    // The locked path.
    t.clock.advance(60_000);
    const actor: Actor = { businessId: tenant.businessId, kind: "system", id: "test", role: "owner" };
    const locked = await recordPurchase(
      t.ctx,
      actor,
      { external_id: `p-${++seq}`, member_id: member, amount_minor: 500, currency: "EUR", items: [] },
      { lockedOnly: true },
    );
    expect(locked.result.member?.points.pending_until).toHaveLength(3);
    expect(held(locked.result.member as never)).toEqual(await card());
    // A refund.
    const refund = await ok(tenant, "POST", "/v1/refunds", {
      external_id: `r-${++seq}`,
      purchase_id: fast.purchase.id,
      amount_minor: 1_000,
    });
    expect(held(refund.member)).toEqual(await card());
    // An adjustment.
    const adjusted = await ok(tenant, "POST", `/v1/members/${member}/adjustments`, {
      stamp_card_id: coffee,
      stamps: 1,
      reason: "Paper card",
    });
    expect(held(adjusted.member)).toEqual(await card());
  });
});
