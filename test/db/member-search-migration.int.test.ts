import { type Kysely, sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { up } from "../../src/db/migrations/0023-member-search.ts";
import { up as up0024 } from "../../src/db/migrations/0024-search-by-business.ts";
import { memberSearchText } from "../../src/modules/members/index.ts";
import { startTestApp, type TestApp } from "../helpers/api.ts";

/**
 * Migration 0023 writes the search text of the members enrolled before it, from JavaScript (the
 * folding SQL cannot do the same way), a business at a time and a thousand members at a time;
 * then indexes it, and drops the name index no query used.
 */
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => t?.close());

async function indexes(): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`select indexname as name from pg_indexes
    where tablename = 'members' and schemaname = current_schema()`.execute(t.ctx.db);
  return rows.map((r) => r.name);
}

describe("migration 0023: the members' search text", () => {
  it("writes every member's search text as the application would, in batches, and indexes it", async () => {
    const shop = await t.signup({ timezone: "Europe/Berlin" });
    const other = await t.signup();
    const enrolled = await shop.call("POST", "/v1/members", {
      name: "Łukasz Wójcik",
      email: "lukasz@firma.pl",
      phone: "030 1234567",
      marketing_consent: false,
    });
    const gone = await shop.call("POST", "/v1/members", { name: "Weg Damit", marketing_consent: false });
    expect((await shop.call("POST", `/v1/members/${gone.body.id}/erase`, { reason: "asked" })).status).toBe(
      200,
    );
    await other.call("POST", "/v1/members", { name: "José Ramos", marketing_consent: false });
    // More than a batch, with names in both Unicode forms, as an import of a till's export left them.
    const now = t.clock.now();
    await sql`insert into members (business_id, id, code, name, email, phone, marketing_consent, attributes,
        joined_at, created_at, updated_at)
      select ${shop.businessId}::uuid, gen_random_uuid(), 'OLD' || g,
        case when g % 7 = 0 then null else (array['Zoë', ${"Jose\u0301"}, 'Groß', 'Anne-Marie'])[g % 4 + 1] || ' ' || g end,
        case when g % 3 = 0 then 'old' || g || '@example.de' end,
        case when g % 5 = 0 then '+4915' || lpad(g::text, 9, '0') end,
        false, '{}', ${now}, ${now}, ${now}
      from generate_series(1, 2500) g`.execute(t.ctx.db);
    await sql`insert into member_state (business_id, member_id, version)
      select business_id, id, 0 from members where code like 'OLD%'`.execute(t.ctx.db);
    // The database as it was before 0023.
    await sql`drop index members_search_idx`.execute(t.ctx.db);
    await sql`alter table members drop column search`.execute(t.ctx.db);
    await sql`create index members_name_idx on members (business_id, lower(name))`.execute(t.ctx.db);

    await up(t.database.db as unknown as Kysely<unknown>);

    const rows = await t.database.db
      .selectFrom("members")
      .select(["id", "name", "email", "phone", "erased_at", "search"])
      .execute();
    expect(rows.length).toBeGreaterThan(2500);
    for (const row of rows) {
      expect(row.search, JSON.stringify(row)).toBe(row.erased_at ? "" : memberSearchText(row));
    }
    expect(rows.find((r) => r.id === enrolled.body.id)?.search).toBe(
      "lukasz wojcik lukasz@firma.pl lukasz firma pl +49301234567 0301234567",
    );
    expect(rows.find((r) => r.name === "Jose\u0301 625")?.search).toBe(
      "jose 625 +4915000000625 015000000625",
    );
    expect(await indexes()).toContain("members_search_idx");
    expect(await indexes()).not.toContain("members_name_idx");
    const found = await shop.call("GET", `/v1/members?q=${encodeURIComponent("(030) 1234567")}`);
    expect(found.body.data.map((m: { id: string }) => m.id)).toEqual([enrolled.body.id]);
    const jose = await shop.call("GET", "/v1/members?q=jose%20625&limit=200");
    expect(jose.body.data.map((m: { name: string }) => m.name)).toEqual([
      "Jose\u0301 1625",
      "Jose\u0301 625",
    ]);
  });

  it("0024 keys the search index on the business as it is, so a search routes to one shard", async () => {
    const shop = await t.signup({ timezone: "Europe/Amsterdam" });
    const anna = await shop.call("POST", "/v1/members", { name: "Anna Kowalska", marketing_consent: false });
    // The index as 0023 left it.
    await sql`drop index members_search_idx`.execute(t.ctx.db);
    await sql`create index members_search_idx on members using gin ((business_id::text), search gin_trgm_ops)`.execute(
      t.ctx.db,
    );

    await up0024(t.database.db as unknown as Kysely<unknown>);

    const { rows } = await sql<{ def: string }>`select indexdef as def from pg_indexes
      where tablename = 'members' and indexname = 'members_search_idx' and schemaname = current_schema()`.execute(
      t.ctx.db,
    );
    expect(rows.map((r) => r.def)).toEqual([
      expect.stringMatching(
        /USING gin \(business_id, search gin_trgm_ops\) WITH \(gin_pending_list_limit='?64'?\)$/,
      ),
    ]);
    expect(await indexes()).not.toContain("members_search_business_idx");
    const found = await shop.call("GET", "/v1/members?q=kowal");
    expect(found.body.data.map((m: { id: string }) => m.id)).toEqual([anna.body.id]);
  });
});
