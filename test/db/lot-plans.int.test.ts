import { type Compilable, sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dueLotsQuery, openLotsQuery } from "../../src/modules/ledger/index.ts";
import { startTestApp, type TestApp } from "../helpers/api.ts";

/**
 * Connections plan statements generically, without the values of their parameters. The points
 * expiry's batch and a member's open lots (read by every redemption and refund) must still go
 * through the lots' partial indexes, never scan every lot ever written: here 20,000 lots, most of
 * them spent, of 400 members, before and after the table is analyzed.
 */

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => t?.close());

/** A parameter as a quoted SQL literal. */
function literal(value: unknown): string {
  const text = value instanceof Date ? value.toISOString() : String(value);
  return `'${text.replaceAll("'", "''")}'`;
}

/** The plan PostgreSQL chooses for `query` when it may not look at the values. */
async function genericPlan(name: string, query: Compilable): Promise<string> {
  const { sql: text, parameters } = query.compile();
  return t.ctx.db.transaction().execute(async (tx) => {
    await sql`set local plan_cache_mode = force_generic_plan`.execute(tx);
    await sql.raw(`prepare ${name} as ${text}`).execute(tx);
    try {
      const args = parameters.length > 0 ? `(${parameters.map(literal).join(", ")})` : "";
      const { rows } = await sql.raw<Record<string, string>>(`explain execute ${name}${args}`).execute(tx);
      return rows.map((r) => Object.values(r)[0]).join("\n");
    } finally {
      await sql.raw(`deallocate ${name}`).execute(tx);
    }
  });
}

describe("the lots' reads under generic plans", () => {
  it("find due and open lots through their indexes, before and after the table is analyzed", async () => {
    const tenant = await t.signup();
    const b = tenant.businessId;
    const now = t.clock.now();
    await sql`insert into members (business_id, id, code, marketing_consent, attributes, joined_at, created_at, updated_at)
      select ${b}::uuid, gen_random_uuid(), 'LOTS' || g, false, '{}', ${now}, ${now}, ${now}
      from generate_series(1, 400) g`.execute(t.ctx.db);
    // 50 lots a member, all but the latest spent; the latest expires in a month.
    await sql`insert into ledger_lots (business_id, id, member_id, source_type, source_id, points_initial,
        points_remaining, available_at, expires_at, created_at)
      select m.business_id, gen_random_uuid(), m.id, 'adjustment', gen_random_uuid()::text, 5,
        case when g = 50 then 5 else 0 end, ${now}::timestamptz - (50 - g) * interval '1 day',
        ${now}::timestamptz + interval '30 days' - (50 - g) * interval '1 day', ${now}
      from members m cross join generate_series(1, 50) g where m.business_id = ${b}`.execute(t.ctx.db);
    const member = (
      await sql<{ id: string }>`select id from members where business_id = ${b} and code = 'LOTS7'`.execute(
        t.ctx.db,
      )
    ).rows[0]?.id as string;
    for (const phase of ["not analyzed", "analyzed"]) {
      if (phase === "analyzed") await sql`analyze ledger_lots`.execute(t.ctx.db);
      for (const [name, query] of [
        ["due_all", dueLotsQuery(t.ctx.db, now, 500)],
        ["due_one", dueLotsQuery(t.ctx.db, now, 500, b)],
        ["open_lots", openLotsQuery(t.ctx.db, b, member)],
      ] as const) {
        const plan = await genericPlan(name, query);
        expect(plan, `${name}, ${phase}:\n${plan}`).not.toMatch(/Seq Scan on ledger_lots\b/);
        expect(plan, `${name}, ${phase}:\n${plan}`).toMatch(/ledger_lots_(expiry|open)_idx/);
      }
    }
    // And what they find: nothing due yet, and the member's one open lot.
    expect(await dueLotsQuery(t.ctx.db, now, 500, b).execute()).toEqual([]);
    expect(await openLotsQuery(t.ctx.db, b, member).execute()).toHaveLength(1);
  });
});
