import { type Kysely, sql } from "kysely";

/**
 * `members.erased_at`: when the member's personal data was erased at their request (GDPR
 * article 17; `eraseMember`, src/use-cases/member-data.ts). The row stays, without name, contact
 * details, birthday, attributes or card link and with a new code, so the ledger, purchases and
 * vouchers that name it keep adding up. A nullable column without a default: no rewrite.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table members add column erased_at timestamptz`.execute(db);
}
