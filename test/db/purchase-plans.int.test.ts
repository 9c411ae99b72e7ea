import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newId } from "../../src/shared/ids.ts";
import { FAST_PATH_SQL } from "../../src/use-cases/purchase-fast-path.ts";
import { startTestApp, type TestApp } from "../helpers/api.ts";

/**
 * Connections run statements with generic plans, chosen without the values of the parameters and,
 * on a young database, without statistics. The purchase's read must still find a member's
 * history through the member's indexes, never by scanning the whole business: here a business
 * with 4,000 purchases (with their ledger entries and lots) of 400 members, not yet analyzed, then
 * analyzed.
 */

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => t?.close());

/** The read's parameters: the business, and the batch of requests as JSON. */
const PARAMETER_TYPES = ["uuid", "jsonb"];

/** Text of a value as a quoted SQL literal. */
function literal(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

async function genericPlan(metric: "spend" | "visits" | "points", values: string[]): Promise<string> {
  return t.ctx.db.transaction().execute(async (tx) => {
    await sql`set local plan_cache_mode = force_generic_plan`.execute(tx);
    const name = `plan_check_${metric}`;
    await sql
      .raw(`prepare ${name} (${PARAMETER_TYPES.join(", ")}) as ${FAST_PATH_SQL.read[metric]}`)
      .execute(tx);
    try {
      const { rows } = await sql
        .raw<Record<string, string>>(`explain execute ${name}(${values.map(literal).join(", ")})`)
        .execute(tx);
      return rows.map((r) => Object.values(r)[0]).join("\n");
    } finally {
      await sql.raw(`deallocate ${name}`).execute(tx);
    }
  });
}

describe("the purchase's read under generic plans", () => {
  it("reads one member's history by the member, before and after the tables are analyzed", async () => {
    const tenant = await t.signup();
    const b = tenant.businessId;
    const now = t.clock.now();
    await sql`insert into members (business_id, id, code, marketing_consent, attributes, joined_at, created_at, updated_at)
      select ${b}::uuid, gen_random_uuid(), 'PLAN' || g, false, '{}', ${now}, ${now}, ${now}
      from generate_series(1, 400) g`.execute(t.ctx.db);
    await sql`insert into member_state (business_id, member_id, version)
      select business_id, id, 0 from members where business_id = ${b}`.execute(t.ctx.db);
    await sql`insert into purchases (business_id, id, external_id, member_id, amount_minor, currency, items, occurred_at,
        refunded_minor, points_earned, stamps_earned, actor, created_at)
      select ${b}::uuid, gen_random_uuid(), 'plan-' || g, m.id, 500, 'EUR', '[]', ${now}::timestamptz - g * interval '1 hour',
        0, 0, 0, 'test', ${now}
      from generate_series(1, 4000) g
      join lateral (select id from members where business_id = ${b} and code = 'PLAN' || (g % 400 + 1)) m on true`.execute(
      t.ctx.db,
    );
    await sql`insert into ledger_entries (business_id, id, member_id, kind, points, reason, actor, source_type,
        source_id, occurred_at, created_at)
      select business_id, gen_random_uuid(), member_id, 'earn', 5, 'test', 'test', 'purchase', id::text,
        occurred_at, created_at
      from purchases where business_id = ${b}`.execute(t.ctx.db);
    await sql`insert into ledger_lots (business_id, id, member_id, source_type, source_id, points_initial,
        points_remaining, available_at, expires_at, created_at)
      select business_id, gen_random_uuid(), member_id, 'purchase', id::text, 5, 5, occurred_at, null, created_at
      from purchases where business_id = ${b}`.execute(t.ctx.db);
    // One purchase in ten refunded, its points spent before: written off, with no entry.
    await sql`update purchases set refunded_minor = amount_minor
      where business_id = ${b} and external_id like '%0'`.execute(t.ctx.db);
    await sql`insert into refunds (business_id, id, purchase_id, external_id, amount_minor, lines, points_reversed,
        points_unrecovered, stamps_reversed, reason, actor, created_at)
      select business_id, gen_random_uuid(), id, 'back-' || external_id, amount_minor, null, 0, 5, 0, null, 'test',
        created_at
      from purchases where business_id = ${b} and refunded_minor > 0`.execute(t.ctx.db);
    const { rows } = await sql<{
      id: string;
    }>`select id from members where business_id = ${b} and code = 'PLAN7'`.execute(t.ctx.db);
    const request = (n: number, member: string | undefined, code: string | null) => ({
      n,
      member: member ?? null,
      code,
      key: `purchase:plan-check-${n}`,
      location: null,
      now,
      soon: new Date(now.getTime() + 30 * 86_400_000),
      win_from: new Date(now.getTime() - 365 * 86_400_000),
      rules: [newId()],
      since: [new Date(now.getTime() - 86_400_000)],
    });
    // A batch of two: one member by id, one by the code on the card.
    const values = [b, JSON.stringify([request(0, rows[0]?.id, null), request(1, undefined, "PLAN8")])];
    for (const phase of ["not analyzed", "analyzed"]) {
      if (phase === "analyzed")
        await sql`analyze purchases, refunds, members, member_state, ledger_lots, ledger_entries`.execute(
          t.ctx.db,
        );
      for (const metric of ["spend", "visits", "points"] as const) {
        const plan = await genericPlan(metric, values);
        expect(plan, `${metric}, ${phase}`).not.toMatch(
          /Seq Scan on (purchases|ledger_entries|ledger_lots)\b/,
        );
        // Each request looks its member up on its own (a lateral subquery), never by joining the
        // batch to a scan of all the business's members.
        expect(plan, `${metric}, ${phase}`).not.toMatch(
          /(Seq Scan|Bitmap Heap Scan) on (members|member_state)\b/,
        );
        // With statistics, by the primary key or the code. (Without, PostgreSQL 18 may rate the
        // members' name index as good; PGlite's tables get statistics from src/db/upkeep.ts.)
        if (phase === "analyzed") {
          const onMembers = plan.split("\n").filter((line) => / on members\b/.test(line));
          expect(onMembers.length, `${metric}, ${phase}:\n${plan}`).toBeGreaterThan(0);
          for (const line of onMembers)
            expect(line, `${metric}, ${phase}`).toMatch(/using members_(pkey|business_id_code_key)/);
        }
        if (metric === "points") {
          // The metric moves each refund's reversal to its purchase's date: it reads the member's
          // reversals by their own index, not from among every entry of the window.
          const reversals = plan.split("\n").filter((line) => / on ledger_entries e\b/.test(line));
          expect(reversals.length, `${metric}, ${phase}:\n${plan}`).toBeGreaterThan(0);
          for (const line of reversals)
            expect(line, `${metric}, ${phase}`).toMatch(/using ledger_entries_reversal_idx/);
          // It takes off the points refunds wrote off (no entry) through the member's refunded
          // purchases alone (an index of those, migration 0012), then their refunds by purchase.
          const refunded = plan.split("\n").filter((line) => / on purchases rp\b/.test(line));
          expect(refunded.length, `${metric}, ${phase}:\n${plan}`).toBeGreaterThan(0);
          for (const line of refunded)
            expect(line, `${metric}, ${phase}`).toMatch(/Index Only Scan using purchases_refunded_idx/);
          const refunds = plan.split("\n").filter((line) => / on refunds rf\b/.test(line));
          expect(refunds.length, `${metric}, ${phase}:\n${plan}`).toBeGreaterThan(0);
          for (const line of refunds)
            expect(line, `${metric}, ${phase}`).toMatch(/using refunds_purchase_idx/);
          continue;
        }
        // The metric reads the member's purchases by the member's index; a capped rule's usage
        // (alias p) finds the one purchase each of its entries came from by the primary key.
        const onPurchases = plan.split("\n").filter((line) => / on purchases\b/.test(line));
        expect(
          onPurchases.filter((line) => /using purchases_member_idx/.test(line)).length,
          `${metric}, ${phase}:\n${plan}`,
        ).toBeGreaterThan(0);
        for (const line of onPurchases)
          expect(line, `${metric}, ${phase}`).toMatch(
            /using purchases_member_idx|using purchases_pkey on purchases p(_\d+)? /,
          );
      }
    }
  });
});
