import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recordPurchase } from "../../src/use-cases/purchases.ts";
import { walletRedeem } from "../../src/use-cases/wallet.ts";
import { startTestApp, type Tenant, type TestApp } from "../helpers/api.ts";

/**
 * A member whose data was erased (by their own card, or by staff) holds no card any more: nothing
 * new lands on them (a purchase from a counter that still shows the card, a correction, a
 * voucher), while the books about what came before still move (a refund, a purchase sent again).
 */

let t: TestApp;
let biz: Tenant;
let mug: string;
let seq = 0;

beforeAll(async () => {
  t = await startTestApp();
  biz = await t.signup();
  mug = (
    await biz.call("POST", "/v1/rewards", {
      name: "Mug",
      type: "free_product",
      value: { product_name: "Mug" },
      cost_points: 5,
    })
  ).body.id;
  expect((await biz.call("POST", "/v1/program/publish")).status).toBe(200);
});
afterAll(async () => t?.close());

/** A member who joined from the card and bought once (20 points), then deleted their card. */
async function erasedRegular() {
  const joined = await t.call("POST", `/v1/public/businesses/${biz.slug}/members`, {
    name: "Ana Souza",
    email: `ana-${++seq}@example.com`,
    marketing_consent: false,
  });
  expect(joined.status, JSON.stringify(joined.body)).toBe(201);
  const id = (await biz.call("GET", `/v1/members/lookup?code=${joined.body.member_code}`)).body.id as string;
  const purchase = {
    external_id: `before-${++seq}`,
    member_id: id,
    amount_minor: 2_000,
    currency: "EUR",
  };
  const bought = await biz.call("POST", "/v1/purchases", purchase);
  expect(bought.status).toBe(201);
  const erased = await t.call(
    "POST",
    "/v1/wallet/me/erase",
    { confirm: "ERASE" },
    {
      authorization: `Bearer ${joined.body.card_token}`,
    },
  );
  expect(erased.status).toBe(200);
  return { id, code: joined.body.member_code as string, purchase, bought: bought.body };
}

/** What the member holds and what was written for them: unchanged by a refused request. */
async function books(memberId: string) {
  const db = t.database.db;
  const [card, purchases, entries, vouchers] = await Promise.all([
    biz.call("GET", `/v1/members/${memberId}/card`).then((r) => r.body),
    db.selectFrom("purchases").select("id").where("member_id", "=", memberId).execute(),
    db.selectFrom("ledger_entries").select("id").where("member_id", "=", memberId).execute(),
    db.selectFrom("vouchers").select("id").where("member_id", "=", memberId).execute(),
  ]);
  return { points: card.points, stamps: card.stamp_cards, purchases, entries, vouchers };
}

describe("an erased member", () => {
  it("takes no purchase: 409 member_erased, and nothing is written", async () => {
    const ana = await erasedRegular();
    const before = await books(ana.id);
    expect(before.points.available).toBe(20);
    const res = await biz.call("POST", "/v1/purchases", {
      external_id: `after-${++seq}`,
      member_id: ana.id,
      amount_minor: 1_200,
      currency: "EUR",
    });
    expect([res.status, res.body.error?.code], JSON.stringify(res.body)).toEqual([409, "member_erased"]);
    expect(res.body.error.details.erased_at).toEqual(expect.any(String));
    expect(await books(ana.id)).toEqual(before);
    // Nothing kept under the purchase's id: sent without a member, it is recorded.
    const anonymous = await biz.call("POST", "/v1/purchases", {
      external_id: `after-${seq}`,
      amount_minor: 1_200,
      currency: "EUR",
    });
    expect([anonymous.status, anonymous.body.member]).toEqual([201, null]);
    // The card's old code finds no one.
    const byCode = await biz.call("POST", "/v1/purchases", {
      external_id: `after-${++seq}`,
      member_code: ana.code,
      amount_minor: 1_200,
      currency: "EUR",
    });
    expect([byCode.status, byCode.body.error?.code]).toEqual([404, "member_not_found"]);
  });

  it("takes no purchase on the locked path either", async () => {
    const ana = await erasedRegular();
    const before = await books(ana.id);
    const actor = { businessId: biz.businessId, kind: "system", id: "test", role: "owner" } as const;
    const input = {
      external_id: `locked-${++seq}`,
      member_id: ana.id,
      amount_minor: 1_200,
      currency: "EUR",
      items: [],
    };
    await expect(recordPurchase(t.ctx, actor, input, { lockedOnly: true })).rejects.toMatchObject({
      status: 409,
      code: "member_erased",
    });
    expect(await books(ana.id)).toEqual(before);
  });

  it("answers a purchase recorded before the erasure, sent again, with its first answer", async () => {
    const ana = await erasedRegular();
    const again = await biz.call("POST", "/v1/purchases", ana.purchase);
    expect(again.status, JSON.stringify(again.body)).toBe(200);
    expect(again.headers["idempotent-replayed"]).toBe("true");
    expect(again.body).toEqual(ana.bought);
  });

  it("still has an earlier purchase refunded: the books move back", async () => {
    const ana = await erasedRegular();
    const refund = await biz.call("POST", "/v1/refunds", {
      external_id: `r-${++seq}`,
      purchase_id: ana.bought.purchase.id,
      amount_minor: 1_000,
    });
    expect(refund.status, JSON.stringify(refund.body)).toBe(201);
    expect((await books(ana.id)).points.available).toBe(10);
  });

  it("gets no correction by hand, and nothing is written", async () => {
    const ana = await erasedRegular();
    const before = await books(ana.id);
    for (const body of [
      { points: 50, reason: "goodwill" },
      { points: -5, reason: "cleanup" },
    ]) {
      const res = await biz.call("POST", `/v1/members/${ana.id}/adjustments`, body);
      expect([res.status, res.body.error?.code], JSON.stringify(body)).toEqual([409, "member_erased"]);
    }
    expect(await books(ana.id)).toEqual(before);
  });

  it("redeems nothing, by staff or from the card, and nothing is written", async () => {
    const ana = await erasedRegular();
    const before = await books(ana.id);
    const staff = await biz.call("POST", `/v1/members/${ana.id}/redemptions`, { reward_id: mug });
    expect([staff.status, staff.body.error?.code]).toEqual([409, "member_erased"]);
    // The card's own redemption, had it started before the erasure: the member lock decides.
    await expect(walletRedeem(t.ctx, biz.businessId, ana.id, mug, "k-1")).rejects.toMatchObject({
      status: 409,
      code: "member_erased",
    });
    expect(await books(ana.id)).toEqual(before);
  });
});
