import { type Kysely, sql } from "kysely";

/**
 * What recording a purchase in two statements needs (see src/use-cases/purchase-fast-path.ts):
 * - `members.version`: moved by every transaction that changes what a member holds (points,
 *   stamps, tier, purchases, attributes), so a purchase can read the member's state, price it, and
 *   write it only if nothing changed in between;
 * - covering indexes, so the reads of a member's state (open lots, the tier metric, rule caps)
 *   are answered from the index instead of fetching every row of the member's history;
 * - no index on purchases by business and time alone: nothing reads it, and connections use
 *   generic plans (src/db/database.ts), which, on a table not yet analyzed, rated it as good as the
 *   member's index for a member's tier metric and then scanned the whole business's purchases
 *   (test/db/purchase-plans.int.test.ts);
 * - room in the pages of the rows every purchase updates (the member, the account, the stamp
 *   balances), so the new row version fits on the same page and no index has to change (a HOT
 *   update). Pages written before this migration get the room as they are rewritten.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table members add column version bigint not null default 0`.execute(db);
  for (const statement of [
    sql`alter table members set (fillfactor = 80)`,
    sql`alter table ledger_accounts set (fillfactor = 80)`,
    sql`alter table stamp_balances set (fillfactor = 80)`,
    sql`drop index purchases_occurred_idx`,
    sql`drop index purchases_member_idx`,
    sql`create index purchases_member_idx on purchases (business_id, member_id, occurred_at)
          include (amount_minor, refunded_minor) where member_id is not null`,
    sql`drop index ledger_lots_open_idx`,
    sql`create index ledger_lots_open_idx on ledger_lots (business_id, member_id)
          include (points_remaining, available_at, expires_at) where points_remaining > 0`,
    sql`drop index ledger_entries_member_time_idx`,
    sql`create index ledger_entries_member_time_idx on ledger_entries (business_id, member_id, occurred_at)
          include (points) where kind in ('earn', 'reverse')`,
    sql`drop index ledger_entries_rule_idx`,
    sql`create index ledger_entries_rule_idx on ledger_entries (business_id, member_id, rule_id, occurred_at)
          include (source_id, kind, points) where rule_id is not null`,
    sql`drop index stamp_entries_rule_idx`,
    sql`create index stamp_entries_rule_idx on stamp_entries (business_id, member_id, rule_id, occurred_at)
          include (source_id, kind) where rule_id is not null`,
  ]) {
    await statement.execute(db);
  }
}
