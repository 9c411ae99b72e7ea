import { type Kysely, sql } from "kysely";
import { memberSearchText } from "../../modules/members/search.ts";

/**
 * Member search through an index. Until now a search (`GET /v1/members?q=`) tested the name, the
 * email and the phone of every member of the business (`lower(name) like '% x%'`, `phone like
 * '%digits%'`), which no index serves: at 100,000 members each search read them all (100–170 ms),
 * and on the embedded engine every counter purchase waited behind it. It also missed what differs
 * only in diacritics ("lukasz" for "Łukasz"), the second part of a hyphenated name and any part of
 * an email but its start.
 *
 * - `members.search`: the member's name, email and phone folded for search (lowercase, without
 *   diacritics, ł→l, ß→ss…; `memberSearchText`, src/modules/members/search.ts), written from now
 *   on with those fields, and empty for an erased member. The folding is JavaScript's
 *   (`normalize("NFKD")`, Unicode's marks, `toLowerCase`): SQL's `lower` depends on the database's
 *   locale and has no NFKD mark class, so it would not give the same text. So the column is added
 *   empty (a default: no rewrite) and written here from JavaScript, business by business, a
 *   thousand members at a time by id, so the memory and each statement stay small however many
 *   members there are.
 * - `members_search_idx`: a GIN index on `(business_id::text, search gin_trgm_ops)` (`pg_trgm`
 *   for the trigrams, `btree_gin` for the business in a GIN index: both ship with PostgreSQL's
 *   contrib and with PGlite, and are trusted extensions, which a database owner may create). It
 *   leads with the business, as every index does (Citus), and serves `search like '%text%'`
 *   within one business. The business is there as text so that a search names it in a form only
 *   this index serves: connections plan statements once, without the values of their parameters
 *   (generic plans), and with `business_id = $1` the planner, guessing a business to be of
 *   average size, would read the business's members through a B-tree instead, every one of them
 *   in a large business (src/modules/members/index.ts, `searchMembersQuery`).
 * - `members_name_idx` (`business_id, lower(name)`) goes: no query uses it, and it was paid for
 *   on every enrolment and change of name.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create extension if not exists pg_trgm`.execute(db);
  await sql`create extension if not exists btree_gin`.execute(db);
  await sql`alter table members add column search text not null default ''`.execute(db);
  const businesses = await sql<{ id: string }>`select id from businesses order by id`.execute(db);
  for (const { id: business } of businesses.rows) await writeSearchTexts(db, business);
  // Built after the backfill: once over the written rows, rather than entry by entry.
  await sql`create index members_search_idx on members using gin ((business_id::text), search gin_trgm_ops)`.execute(
    db,
  );
  await sql`drop index if exists members_name_idx`.execute(db);
}

const BATCH = 1000;

/**
 * Writes the search text of the business's members that are not erased, `BATCH` at a time. (Also
 * for a test of an earlier migration that changes members' fields, run again on a database this
 * one has already migrated: on an upgrade, this runs after it.)
 */
export async function writeSearchTexts(db: Kysely<unknown>, business: string): Promise<void> {
  let after: string | undefined;
  for (;;) {
    const { rows } = await sql<{
      id: string;
      name: string | null;
      email: string | null;
      phone: string | null;
    }>`
      select id, name, email, phone from members
      where business_id = ${business} and erased_at is null ${after === undefined ? sql`` : sql`and id > ${after}`}
      order by id limit ${BATCH}`.execute(db);
    const texts = rows.map((row) => ({ id: row.id, search: memberSearchText(row) })).filter((r) => r.search);
    if (texts.length > 0) {
      await sql`update members m set search = v.search
        from jsonb_to_recordset(${JSON.stringify(texts)}::jsonb) as v(id uuid, search text)
        where m.business_id = ${business} and m.id = v.id`.execute(db);
    }
    after = rows.at(-1)?.id;
    if (rows.length < BATCH) return;
  }
}
