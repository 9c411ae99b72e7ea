import { sql } from "kysely";
import type { Tx } from "../../db/database.ts";
import { conflict } from "../../shared/errors.ts";
import { fingerprint } from "../../shared/ids.ts";

export interface StoredResult<T> {
  status: number;
  body: T;
  replayed: boolean;
}

/**
 * Runs `work` at most once per (business, key). The first call runs it and stores its result in
 * the same transaction; a later call with the same key and the same request gets the stored result
 * back (`replayed: true`); the same key with a different request is a `409 idempotency_key_reused`.
 *
 * Concurrent calls with one key are serialized by a transaction-scoped advisory lock, so the
 * second waits for the first to commit and then replays it.
 *
 * @example await idempotent(tx, businessId, `purchase:${externalId}`, "purchase.record", body, () => record())
 */
export async function idempotent<T>(
  tx: Tx,
  businessId: string,
  key: string | undefined,
  operation: string,
  request: unknown,
  now: Date,
  work: () => Promise<{ status: number; body: T }>,
): Promise<StoredResult<T>> {
  if (key === undefined) return { ...(await work()), replayed: false };
  const requestHash = fingerprint({ operation, request });
  await sql`select pg_advisory_xact_lock(hashtextextended(${`${businessId}/${key}`}, 0))`.execute(tx);
  const existing = await tx
    .selectFrom("idempotency_keys")
    .select(["operation", "request_hash", "status_code", "response"])
    .where("business_id", "=", businessId)
    .where("key", "=", key)
    .executeTakeFirst();
  if (existing) {
    if (existing.operation !== operation || existing.request_hash !== requestHash) {
      throw conflict(
        "idempotency_key_reused",
        `The key "${key}" was already used for a different request. Use a new key for a new operation.`,
        { key },
      );
    }
    return { status: existing.status_code, body: existing.response as T, replayed: true };
  }
  const result = await work();
  await tx
    .insertInto("idempotency_keys")
    .values({
      business_id: businessId,
      key,
      operation,
      request_hash: requestHash,
      status_code: result.status,
      response: JSON.stringify(result.body),
      created_at: now,
    })
    .execute();
  return { ...result, replayed: false };
}
