import { type Kysely, sql } from "kysely";

/**
 * Every reason the server writes gets its code and figures beside its English text
 * (`src/shared/reason.ts`), so a screen says it in the business's language. Older rows keep a
 * null code and are shown by their text, as are the reasons staff typed.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  for (const table of ["ledger_entries", "stamp_entries", "tier_changes"]) {
    await sql`alter table ${sql.table(table)} add column reason_code text, add column reason_params jsonb`.execute(
      db,
    );
  }
}
