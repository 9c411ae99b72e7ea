import { type Kysely, sql } from "kysely";

/**
 * A member's tier metric (spend, visits or points in the tier window) kept as a running total on
 * the member row, so a purchase need not add up the whole window's purchases or entries:
 *
 * - `tier_metric_value`: the metric as the member's last purchase left it;
 * - `tier_metric_from`: the start of the window it is counted from;
 * - `tier_metric_kind`: what it counts (`spend`, `visits` or `points`).
 *
 * A purchase on the two-statement path (src/use-cases/purchase-fast-path.ts) uses the total when
 * its window starts at `tier_metric_from` and counts the same thing (a calendar-year window, all
 * year), and writes the new total under the member's version guard. Every other change of what
 * a member holds takes the member's lock, which clears `tier_metric_from` (`getMemberForUpdate`),
 * so the next purchase counts the window again. A rolling window starts anew at every purchase:
 * there the total is never used.
 *
 * Existing members start without a total; their next purchase counts it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  for (const column of [
    sql`alter table members add column tier_metric_value bigint`,
    sql`alter table members add column tier_metric_from timestamptz`,
    sql`alter table members add column tier_metric_kind text`,
  ]) {
    await column.execute(db);
  }
}
