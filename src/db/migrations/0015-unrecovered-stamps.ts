import { type Kysely, sql } from "kysely";

/**
 * `refunds.stamps_unrecovered`: per stamp card, the stamps a refund should have taken back but
 * could not, because the member had already spent them on a reward (`{ "<card id>": 1 }`). When
 * that reward's voucher is voided, its stamps come back, and the refund takes them then
 * (`collectStampsWrittenOff`, src/use-cases/refunds.ts), as it does for points with
 * `points_unrecovered`: else a voided voucher would give back the stamp of a refunded purchase.
 *
 * Refunds recorded before this migration have none.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table refunds add column stamps_unrecovered jsonb not null default '{}'`.execute(db);
}
