import { type Kysely, sql } from "kysely";

/**
 * `vouchers.stock_taken`: whether issuing the voucher took a unit of its reward's stock. A void
 * gives a unit back only then: a voucher issued while the reward was unlimited, voided after the
 * manager set a stock, took nothing and gives nothing back. Vouchers issued before this migration
 * count as having taken one, as the void treated them until now.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table vouchers add column stock_taken boolean not null default true`.execute(db);
}
