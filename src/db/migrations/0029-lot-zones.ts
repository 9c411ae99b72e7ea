import { type Kysely, sql } from "kysely";

/**
 * Each lot says which clock its expiry was reckoned on: `ledger_lots.zone`, the business's time
 * zone when the lot was earned. A change of time zone moves the lots on the old clock
 * (`rezoneLotsPage`) and marks them with the new one. Before this, the follow-up told them by id:
 * a lot with an id smaller than the change's was earned before it. Ids are made from each API
 * node's own clock, so with two nodes a few milliseconds apart a lot priced on the new clock could
 * sort before the change and move twice, or one priced on the old clock after it and never move.
 *
 * Lots earned before this migration keep `zone` null and are still told by id. A nullable column
 * without a default: no rewrite, quick on any table.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table ledger_lots add column zone text`.execute(db);
}
