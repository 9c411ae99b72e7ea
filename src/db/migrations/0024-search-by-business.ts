import { type Kysely, sql } from "kysely";

/**
 * The member search index keyed on the business as it is, not as text. Migration 0023 indexed
 * `(business_id::text, search)` and a search named its business as text, so that a plan made
 * without the values of its parameters (generic plans, as connections use) could not prefer the
 * B-tree on `business_id` and read every member of a large business. The cost was Citus: a query
 * that does not say `business_id = …` on the distribution column goes to every shard.
 *
 * Indexed as `(business_id, search)` (`btree_gin` has the GIN operator class for `uuid`), the
 * search index serves both conditions of a search, the business and the words, so the planner
 * prefers it to the B-tree, which serves only the first; and a search says `business_id = $1`,
 * which Citus routes to the business's shard. The plan test (test/db/member-search-plans)
 * holds the search to this index on both engines, before and after the tables are analyzed.
 *
 * Without a pending list (`fastupdate = off`): a new member's trigrams go into the index at once.
 * With one, until a vacuum merged it, the planner costed the index as too dear and read the
 * business's members through the B-tree, even after an analyze, and every search read the whole
 * list. It costs an enrolment about half a millisecond more (an import of 100,000 members about a
 * minute), which is paid once; searches are paid at every counter lookup.
 *
 * Built before the old one goes, so a search has an index at every moment of the migration.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create index members_search_business_idx on members using gin (business_id, search gin_trgm_ops) with (fastupdate = off)`.execute(
    db,
  );
  await sql`drop index if exists members_search_idx`.execute(db);
  await sql`alter index members_search_business_idx rename to members_search_idx`.execute(db);
}
