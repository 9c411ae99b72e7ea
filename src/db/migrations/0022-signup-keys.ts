import { type Kysely, sql } from "kysely";

/**
 * Sign-up can be retried (`POST /v1/businesses` with an `Idempotency-Key`): the business keeps
 * the SHA-256 of the key it was created under and the fingerprint of the request (without the
 * password), so the same request again within a day logs its owner in instead of answering
 * `409 slug_taken`. A sign-up has no business to scope its key by yet, so the key is unique over
 * all businesses: `businesses` is the one table keyed without a business (a reference table on
 * Citus), like its `slug`. Businesses signed up without a key, and all earlier ones, keep nulls.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table businesses add column signup_key_hash text, add column signup_request_hash text`.execute(
    db,
  );
  await sql`create unique index businesses_signup_key on businesses (signup_key_hash)
    where signup_key_hash is not null`.execute(db);
}
