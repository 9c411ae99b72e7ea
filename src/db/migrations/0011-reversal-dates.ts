import { type Kysely, sql } from "kysely";

/**
 * The tier metric "points" counts a refund's reversal on the date of the purchase it reverses
 * (as spend and visits count a refund), while the reversal entry keeps the date of the refund
 * (src/modules/tiers/metric.ts). To move each reversal to its purchase's date, the metric reads
 * the member's reversals since the window's start: this index finds them, and only them, without
 * fetching the member's earnings in the window from the table (the index on entries by time
 * covers earnings and reversals alike and cannot tell them apart).
 *
 * Only refunds write reversals, so the index stays small and a purchase never writes to it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create index ledger_entries_reversal_idx on ledger_entries (business_id, member_id, occurred_at)
    include (points, source_type, source_id) where kind = 'reverse'`.execute(db);
}
