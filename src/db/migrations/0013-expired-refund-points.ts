import { type Kysely, sql } from "kysely";

/**
 * `refunds.points_expired`: the points of a refund's share of its purchase that had expired
 * unused before the refund. A refund does not take them from the member's other points (they were
 * never the member's to enjoy), but the purchase no longer earned them: the tier metric "points"
 * takes them off on the purchase's date, with what the refund took back or wrote off
 * (src/modules/tiers/metric.ts). A full refund after every point of its purchase expired leaves
 * the purchase counting nothing, as it does for spend and visits.
 *
 * Refunds recorded before this migration count 0, as they did.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table refunds add column points_expired integer not null default 0`.execute(db);
}
