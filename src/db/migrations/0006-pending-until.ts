import { type Kysely, sql } from "kysely";

/**
 * A purchase's read of the member's points no longer walks every lot the member holds:
 *
 * - `ledger_accounts.pending_until`: the latest release time (`available_at`) of any lot the
 *   member was ever credited. While it lies in the past, none of the member's points are pending,
 *   and the pending ones need no reading at all. With no pending period (the default), it never
 *   lies in the future.
 * - the open-lots index is keyed by expiry, so the lots that have expired (and wait for the
 *   expiry run) or expire soon are a range of it; never-expiring lots sort after it.
 *
 * The spendable points are then the account's balance (which equals the open lots' points, less
 * any debt: src/modules/ledger/index.ts) less what is pending or expired. A regular of a year
 * holds fifty lots or more; before, every purchase read them all, twice.
 *
 * On a large database, building the index reads every open lot, and the backfill every lot, once;
 * docs/operations.md says what to expect.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table ledger_accounts add column pending_until timestamptz`.execute(db);
  await backfillPendingUntil(db);
  for (const statement of [
    sql`drop index ledger_lots_open_idx`,
    sql`create index ledger_lots_open_idx on ledger_lots (business_id, member_id, expires_at)
          include (points_remaining, available_at) where points_remaining > 0`,
  ]) {
    await statement.execute(db);
  }
}

/** Sets every account's `pending_until` from the lots written before the column existed. */
export async function backfillPendingUntil(db: Kysely<unknown>): Promise<void> {
  await sql`update ledger_accounts a set pending_until = l.latest
    from (select business_id, member_id, max(available_at) as latest from ledger_lots
          group by business_id, member_id) l
    where a.business_id = l.business_id and a.member_id = l.member_id`.execute(db);
}
