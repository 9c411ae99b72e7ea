import { type Kysely, sql } from "kysely";

/**
 * What the web app needs:
 * - a member's personal card link: the SHA-256 of its secret, unique within the business, so a
 *   customer can open their card without an account (the secret itself is never stored);
 * - when a business published its program: the join page is open only after that. Businesses
 *   that existed before this migration were already live, so they count as published at creation.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table members add column card_token_hash text`.execute(db);
  await sql`create unique index members_card_token_key on members (business_id, card_token_hash) where card_token_hash is not null`.execute(
    db,
  );
  await sql`alter table businesses add column published_at timestamptz`.execute(db);
  await sql`update businesses set published_at = created_at`.execute(db);
}
