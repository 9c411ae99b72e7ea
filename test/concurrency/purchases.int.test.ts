import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { purchaseBatchStats } from "../../src/use-cases/purchase-fast-path.ts";
import { startTestApp, type TestApp } from "../helpers/api.ts";

/**
 * Purchases racing each other. On the PostgreSQL server the requests run truly in parallel on 20
 * connections; on PGlite they are interleaved by the app and queued by the single connection.
 */
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ poolSize: 20 });
});
afterAll(async () => t?.close());

describe("concurrent purchases", () => {
  it("count a purchase sent 20 times at once exactly once", async () => {
    const tenant = await t.signup();
    const member = (await tenant.call("POST", "/v1/members", { marketing_consent: false })).body;
    const body = { external_id: "double-click", member_id: member.id, amount_minor: 4_200, currency: "EUR" };
    const results = await Promise.all(
      Array.from({ length: 20 }, () => tenant.call("POST", "/v1/purchases", body)),
    );
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    expect(results.filter((r) => r.status === 200)).toHaveLength(19);
    const first = results.find((r) => r.status === 201)?.body;
    for (const r of results) expect(r.body).toEqual(first);
    const { rows } = await sql<{ n: number; points: number }>`
      select (select count(*)::int from purchases where business_id = ${tenant.businessId}) as n,
             (select coalesce(sum(points), 0)::int from ledger_entries where business_id = ${tenant.businessId}) as points`.execute(
      t.database.db,
    );
    expect(rows[0]).toEqual({ n: 1, points: 42 });
  });

  it("add up 30 different purchases of one member at once, with stamps and tier in step", async () => {
    const tenant = await t.signup();
    const card = (
      await tenant.call("POST", "/v1/stamp-cards", { name: "Visits", stamps_required: 10, earn_on: "visit" })
    ).body;
    await tenant.call("POST", "/v1/tiers", { name: "Silver", rank: 1, threshold: 0 });
    await tenant.call("POST", "/v1/tiers", { name: "Gold", rank: 2, threshold: 30_000 });
    const member = (await tenant.call("POST", "/v1/members", { marketing_consent: false })).body;
    const before = purchaseBatchStats();
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        tenant.call("POST", "/v1/purchases", {
          external_id: `p-${i}`,
          member_id: member.id,
          amount_minor: 1_000 + i,
          currency: "EUR",
        }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(Array(30).fill(201));
    // One member's purchases at one node take turns: each was read once and written once, none
    // failed its guard and started over.
    const after = purchaseBatchStats();
    expect(after.readItems - before.readItems).toBe(30);
    expect(after.writeItems - before.writeItems).toBe(30);
    const view = (await tenant.call("GET", `/v1/members/${member.id}/card`)).body;
    expect(view.points.available).toBe(300);
    expect(view.stamp_cards).toEqual([
      expect.objectContaining({ stamp_card_id: card.id, stamps: 30, full_cards: 3 }),
    ]);
    expect(view.tier.current.name).toBe("Gold");
    expect(view.tier.metric_value).toBe(30_000 + 435);
    // The balance seen after each purchase is distinct: every one saw the one before it.
    const seen = results.map((r) => r.body.member.points.available).sort((x: number, y: number) => x - y);
    expect(seen).toEqual(Array.from({ length: 30 }, (_, i) => (i + 1) * 10));
  });

  it("never double-refunds when the same purchase is refunded in parallel", async () => {
    const tenant = await t.signup();
    const member = (await tenant.call("POST", "/v1/members", { marketing_consent: false })).body;
    const p = (
      await tenant.call("POST", "/v1/purchases", {
        external_id: "big",
        member_id: member.id,
        amount_minor: 10_000,
        currency: "EUR",
      })
    ).body;
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        tenant.call("POST", "/v1/refunds", {
          external_id: `r-${i}`,
          purchase_id: p.purchase.id,
          amount_minor: 3_000,
        }),
      ),
    );
    expect(results.filter((r) => r.status === 201)).toHaveLength(3);
    expect(
      results.filter((r) => r.status === 422).every((r) => r.body.error.code === "refund_exceeds_purchase"),
    ).toBe(true);
    const view = (await tenant.call("GET", `/v1/members/${member.id}/card`)).body;
    expect(view.points.available).toBe(10);
  });
});
