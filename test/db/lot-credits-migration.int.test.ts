import { type Kysely, sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { up } from "../../src/db/migrations/0005-lot-credits.ts";
import { startTestApp, type TestApp } from "../helpers/api.ts";

/**
 * Migration 0005: a lot's earning stops having allocations of its own. The earning allocations
 * written before it are removed; every other allocation stays, and each lot again holds its
 * initial points plus its allocations.
 */
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => t?.close());

interface LotCheck {
  lots: number;
  bad: number;
  allocations: number;
}

async function lotsOf(businessId: string): Promise<LotCheck> {
  const { rows } = await sql<LotCheck>`
    select count(*)::int as lots,
      (select count(*)::int from ledger_allocations where business_id = ${businessId}) as allocations,
      count(*) filter (where l.points_remaining <> l.points_initial +
        (select coalesce(sum(a.points), 0) from ledger_allocations a where a.business_id = l.business_id and a.lot_id = l.id)
      )::int as bad
    from ledger_lots l where l.business_id = ${businessId}`.execute(t.database.db);
  const check = rows[0];
  if (!check) throw new Error("no answer");
  return check;
}

describe("migration 0005: lot credits", () => {
  it("removes the earning allocations written before it and keeps the spends", async () => {
    const tenant = await t.signup();
    const created = await tenant.call("POST", "/v1/members", { name: "Olga Old", marketing_consent: false });
    expect(created.status).toBe(201);
    const memberId = created.body.id as string;
    const bought = await tenant.call("POST", "/v1/purchases", {
      external_id: "old-1",
      member_id: memberId,
      amount_minor: 2500,
      currency: "EUR",
    });
    expect(bought.status).toBe(201);
    expect(bought.body.purchase.points_earned).toBe(25);
    const taken = await tenant.call(
      "POST",
      `/v1/members/${memberId}/adjustments`,
      { points: -10, reason: "Typo at the till" },
      { "idempotency-key": "adjust-old-1" },
    );
    expect(taken.status).toBe(201);
    // The new code keeps the lot at 25 initial, 15 remaining, with the spend as its one allocation.
    expect(await lotsOf(tenant.businessId)).toEqual({ lots: 1, bad: 0, allocations: 1 });

    // The data as the code before 0005 wrote it: the earning entry allocated its points to its lot.
    await sql`insert into ledger_allocations (business_id, entry_id, lot_id, points, created_at)
      select e.business_id, e.id, l.id, e.points, e.created_at
      from ledger_entries e join ledger_lots l on l.business_id = e.business_id and l.source_id = e.source_id
      where e.business_id = ${tenant.businessId} and e.kind = 'earn'`.execute(t.database.db);
    expect(await lotsOf(tenant.businessId)).toEqual({ lots: 1, bad: 1, allocations: 2 });

    await up(t.database.db as unknown as Kysely<unknown>);
    expect(await lotsOf(tenant.businessId)).toEqual({ lots: 1, bad: 0, allocations: 1 });
    const card = await tenant.call("GET", `/v1/members/${memberId}/card`);
    expect(card.status).toBe(200);
    expect(card.body.points.available).toBe(15);
  });
});
