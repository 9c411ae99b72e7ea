import { type Compilable, sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { searchMembersQuery, withSearchPlanner } from "../../src/modules/members/index.ts";
import { searchTerms } from "../../src/modules/members/search.ts";
import { startTestApp, type TestApp } from "../helpers/api.ts";

/**
 * A member search reads the members it finds through the trigram index on the business and their
 * search text (`members_search_idx`, migration 0024), never every member of the business: here 20,000
 * members, next to 200 small businesses, under the generic plans connections use (planned without
 * the values of the parameters), before and after the tables are analyzed and vacuumed. Its
 * purchase times (`member_state`) are read for the page found, not for every member.
 */

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => t?.close());

/** A parameter as a quoted SQL literal (arrays as PostgreSQL array literals). */
function literal(value: unknown): string {
  const text = Array.isArray(value)
    ? `{${value.map((v) => `"${String(v).replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`).join(",")}}`
    : String(value);
  return `'${text.replaceAll("'", "''")}'`;
}

/** The plan PostgreSQL chooses for `query` when it may not look at the values. */
async function genericPlan(name: string, query: Compilable): Promise<string> {
  const { sql: text, parameters } = query.compile();
  // As a search runs (`withSearchPlanner`).
  return withSearchPlanner(t.ctx.db, async (tx) => {
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

describe("member search under generic plans", () => {
  it("goes through the search index, before and after the tables are analyzed and vacuumed", {
    timeout: 120_000,
  }, async () => {
    const tenant = await t.signup({ timezone: "Europe/Amsterdam" });
    const other = await t.signup();
    const b = tenant.businessId;
    const now = t.clock.now();
    for (const [business, count] of [
      [b, 20_000],
      [other.businessId, 2_000],
    ] as const) {
      await sql`insert into members (business_id, id, code, name, email, phone, marketing_consent, attributes,
          joined_at, created_at, updated_at, search)
        select ${business}::uuid, gen_random_uuid(), 'PLAN' || g, n, e, p, false, '{}', ${now}, ${now}, ${now},
          lower(n) || ' ' || e || ' ' || p || ' 0' || substr(p, 4)
        from generate_series(1, ${count}::int) g,
          lateral (select (array['Anna', 'Jan', 'Piet', 'Kees', 'Eva'])[g % 5 + 1] || ' ' ||
            (array['de Vries', 'Jansen', 'Bakker', 'Visser', 'Smit', 'Meijer'])[(g / 5) % 6 + 1] || ' ' || g as n,
            'user' || g || '@example' || (g % 50) || '.nl' as e,
            '+3161' || lpad(g::text, 7, '0') as p) x`.execute(t.ctx.db);
      await sql`insert into member_state (business_id, member_id, version)
        select business_id, id, 0 from members where business_id = ${business}::uuid and code like 'PLAN%'`.execute(
        t.ctx.db,
      );
    }
    // And many small businesses, as an installation has: planned without the values, a business
    // looks small, and reading all its members by a B-tree cheap.
    await sql`insert into businesses (id, slug, name, currency, timezone, locale, created_at, updated_at)
      select gen_random_uuid(), 'plan-small-' || g, 'Small ' || g, 'EUR', 'Europe/Amsterdam', 'nl', ${now}, ${now}
      from generate_series(1, 200) g`.execute(t.ctx.db);
    await sql`insert into members (business_id, id, code, name, marketing_consent, attributes, joined_at, created_at,
        updated_at, search)
      select b.id, gen_random_uuid(), 'SMALL' || g, 'Anna Jansen ' || g, false, '{}', ${now}, ${now}, ${now},
        'anna jansen ' || g
      from businesses b cross join generate_series(1, 10) g where b.slug like 'plan-small-%'`.execute(
      t.ctx.db,
    );
    await sql`insert into member_state (business_id, member_id, version)
      select business_id, id, 0 from members where code like 'SMALL%'`.execute(t.ctx.db);
    const someone = (
      await sql<{ id: string }>`select id from members where business_id = ${b} and code = 'PLAN77'`.execute(
        t.ctx.db,
      )
    ).rows[0]?.id as string;
    const shapes = [
      ["one_word", searchTerms("quist", undefined), undefined],
      ["two_words", searchTerms("jansen 1234", undefined), undefined],
      ["many_words", searchTerms("anna de vries jansen 12", undefined), undefined],
      ["short", searchTerms("an", undefined), undefined],
      ["phone", searchTerms("06 1000 0077", "Europe/Amsterdam"), undefined],
      ["email", searchTerms("user77@example27.nl", undefined), undefined],
      ["next_page", searchTerms("jansen", undefined), someone],
    ] as const;
    for (const phase of ["not analyzed", "analyzed", "vacuumed"]) {
      if (phase === "analyzed")
        for (const table of ["members", "member_state"]) await sql.raw(`analyze ${table}`).execute(t.ctx.db);
      // Vacuum also writes the search index's own statistics (its entries and pages).
      if (phase === "vacuumed") await sql`vacuum members`.execute(t.ctx.db);
      for (const [name, terms, after] of shapes) {
        const plan = await genericPlan(name, searchMembersQuery(t.ctx.db, b, terms, 21, after));
        const says = `${name}, ${phase}:\n${plan}`;
        expect(plan, says).toMatch(/Bitmap Index Scan on members_search_idx/);
        // The business by its column, which Citus routes to the business's shard, in every read
        // of the members.
        expect(plan, says).toMatch(/Index Cond: \(\(business_id = \$\d+\) AND \(search ~~ /);
        expect(plan, says).not.toMatch(/business_id\)::text/);
        expect(plan, says).not.toMatch(/Seq Scan on (members|member_state)\b/);
        // The purchase times of the page found, by key: not a scan of the business's states.
        expect(plan, says).not.toMatch(
          /Scan on member_state s\b[\s\S]*Index Cond: \(business_id = \$\d+\)\n/,
        );
        expect(plan, says).toMatch(/member_state_pkey on member_state s[\s\S]*member_id = /);
      }
    }
    // And what they find.
    const found = await searchMembersQuery(
      t.ctx.db,
      b,
      searchTerms("06 1000 0077", "Europe/Amsterdam"),
      21,
    ).execute();
    expect(found.map((m) => m.code)).toEqual(["PLAN77"]);
  });
});
