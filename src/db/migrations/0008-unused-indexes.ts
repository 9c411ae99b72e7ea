import { type Kysely, sql } from "kysely";

/**
 * Drops two indexes nothing reads: ledger entries and lots by their source. Refunds find a
 * purchase's lot among the member's open lots, and no query looks entries up by source. Every
 * purchase paid for them: 3.3 index entries of its 20, and 8 % of the database's CPU for the
 * purchase's write (measured on the bench's database, the write replayed in rolled-back
 * transactions with and without them).
 *
 * Stamp entries keep theirs: a refund reads the stamps its purchase gave by source.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`drop index if exists ledger_entries_source_idx`.execute(db);
  await sql`drop index if exists ledger_lots_source_idx`.execute(db);
}
