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
 * With a small pending list (`gin_pending_list_limit` 64 kB, against 4 MB by default): a GIN
 * index gathers new entries in a list and merges them into its tree when the list is full. A
 * search reads the whole list, and the planner costs it so: with a list of megabytes (any large
 * import, until a vacuum merged it) it read the business's members through the B-tree instead,
 * even after an analyze. A list of 64 kB keeps searches through the index and costs an enrolment
 * little: merged in small batches, 20,000 members load about as fast as with the default list,
 * where no list at all (`fastupdate = off`) made them about three times slower.
 *
 * It builds the index in the migration's own transaction, which holds writes to `members` for as
 * long as the build takes (about 10 s for 350,000 members on a PostgreSQL server): run it outside
 * opening hours on a large installation (docs/operations.md).
 *
 * Built before the old one goes, so a search has an index at every moment of the migration.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create index members_search_business_idx on members using gin (business_id, search gin_trgm_ops) with (gin_pending_list_limit = 64)`.execute(
    db,
  );
  await sql`drop index if exists members_search_idx`.execute(db);
  await sql`alter index members_search_business_idx rename to members_search_idx`.execute(db);
}
