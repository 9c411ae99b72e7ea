import { type Kysely, sql } from "kysely";

/**
 * The answer retention works on what is new since its last run instead of walking every stored
 * key (`pruneAnswers`, src/modules/idempotency). Keys are the clients' strings, so the primary key
 * cannot find the old ones; the time they were stored can.
 *
 * - A BRIN index on `idempotency_keys (created_at)` finds the keys of a span of time by reading
 *   only the pages that hold them. A purchase pays nothing for it while its key goes to the
 *   table's last, unsummarized pages; a key written into a page of a summarized range (space that
 *   the retention freed and VACUUM handed out again) updates that range's summary in place, with
 *   no new index entry. Measured on a PostgreSQL 15 server, 20,000 single inserts three times
 *   each: at the table's end, the same WAL and time with and without it; into freed pages, 235
 *   bytes more WAL per insert (3,210 against 2,975) and no difference in time above the noise.
 * - The operator class is `minmax_multi`, not plain `minmax`: once the retention freed space in
 *   old pages and new keys filled it, a plain range summary spans from its oldest key to its
 *   newest, so after a few months nearly every range matched a day's span (96 % of the table's
 *   pages read for one day, in a simulation of 100 days with daily retention and VACUUM), while
 *   the summary of several intervals per range keeps it to the day's own pages (3 %).
 * - 32 pages per range (256 kB): finer ranges match fewer pages at a span's ends, and a bitmap
 *   scan reads the whole index, which at 32 pages is still a small fraction of the table.
 * - No `autosummarize`: every run summarizes the new ranges itself before it reads
 *   (`brin_summarize_new_values`, which reads only the pages added since), PGlite has no
 *   autovacuum to hand the work to, and VACUUM summarizes the full ranges it passes too.
 * - `answer_retention` holds one row for the installation: `pruned_before`, the instant before
 *   which every answer was let go, advanced in the transaction of each batch; null until the first
 *   run. One for the installation, not one per business: the index finds a span's keys of every
 *   business at once, and one statement per business would read the same pages once per business.
 *   Like `job_leases`, it is the installation's own (on Citus, a reference table).
 *
 * The index build reads `idempotency_keys` once and holds writes to it meanwhile (no sort: a
 * minute or so for tens of millions of keys); on a large database, run it outside opening hours.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create index idempotency_keys_created_brin on idempotency_keys
    using brin (created_at timestamptz_minmax_multi_ops) with (pages_per_range = 32)`.execute(db);
  await sql`create table answer_retention (
    id boolean primary key default true check (id),
    pruned_before timestamptz,
    updated_at timestamptz not null
  )`.execute(db);
}
