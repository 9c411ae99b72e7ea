import { type Kysely, sql } from "kysely";

/**
 * The tier metric "points" takes off, on the purchase's date, the points a refund could not take
 * back (`refunds.points_unrecovered`: the member had spent them and the balance may not go
 * negative), which no ledger entry records (src/modules/tiers/metric.ts). It finds them through
 * the member's refunded purchases in the window: this index holds those, and only those, so the
 * metric neither walks the member's other purchases nor fetches them from the table; each of them
 * leads to its refunds by `refunds_purchase_idx`.
 *
 * A purchase is written unrefunded, so recording one never writes to it; its first refund does
 * (which already rewrites `purchases_member_idx`, holding `refunded_minor`).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create index purchases_refunded_idx on purchases (business_id, member_id, occurred_at)
    include (id) where member_id is not null and refunded_minor > 0`.execute(db);
}
