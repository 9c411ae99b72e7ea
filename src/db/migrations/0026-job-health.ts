import { type Kysely, sql } from "kysely";

/**
 * The scheduled jobs keep their last failure apart from their last success, and page through
 * their work by a key instead of leaving out the members that failed.
 *
 * - `job_leases` gets `last_failed_at`, `last_error` (what the safe error log keeps of it: type,
 *   message, code, constraint, table; never row values, and the run's figures, with how many
 *   members failed) and `consecutive_failures` (0 after a run that finished). `last_run_at` and
 *   `last_result` stay those of the last run that finished.
 * - The points expiry walks the due lots by `(expires_at, business_id, member_id)`, and the tier
 *   sweep the members whose tier ended by `(tier_expires_at, business_id, id)`: both indexes get
 *   those columns, so the next batch starts past the last one (and past the members that failed)
 *   without sorting all the lots or members that share one instant (a month's end, 1 January).
 *   The indexes keep their names and conditions. Rebuilding them blocks writes to `ledger_lots`
 *   and `members` while it lasts; both are partial (open lots with an expiry; members with a
 *   tier), so smaller than their tables.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table job_leases
    add column last_failed_at timestamptz,
    add column last_error jsonb,
    add column consecutive_failures integer not null default 0`.execute(db);
  await sql`drop index ledger_lots_expiry_idx`.execute(db);
  await sql`create index ledger_lots_expiry_idx on ledger_lots (expires_at, business_id, member_id)
    where points_remaining > 0 and expires_at is not null`.execute(db);
  await sql`drop index members_tier_expiry_idx`.execute(db);
  await sql`create index members_tier_expiry_idx on members (tier_expires_at, business_id, id)
    where tier_id is not null`.execute(db);
}
