import { type Kysely, sql } from "kysely";

/**
 * A manual adjustment counts toward a points tier (`TIER_METRIC_TEXT.points`), as it already
 * counted in `lifetime_earned`: a −500 correcting an event recorded on the wrong member takes the
 * Gold it gave away, and a +500 for a purchase the till could not send counts as earned. The index
 * the metric reads entries by time from gets the kind; the running totals cached on the members'
 * state (migration 0007) are counted again on their next purchase.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`drop index ledger_entries_member_time_idx`.execute(db);
  await sql`create index ledger_entries_member_time_idx on ledger_entries (business_id, member_id, occurred_at)
    include (points) where kind in ('earn', 'reverse', 'adjust')`.execute(db);
  await sql`update member_state set tier_metric_from = null where tier_metric_kind = 'points'`.execute(db);
}
