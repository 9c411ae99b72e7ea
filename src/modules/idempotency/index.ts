import type { Db, Tx } from "../../db/database.ts";
import { conflict } from "../../shared/errors.ts";
import { fingerprint } from "../../shared/ids.ts";

export interface StoredResult<T> {
  status: number;
  body: T;
  replayed: boolean;
  /** On a replay: the answer's JSON as it was first sent, to send again byte for byte. */
  json?: string;
}

/**
 * Runs `work` at most once per (business, key). The first call runs it and stores its result in
 * the same transaction; a later call with the same key and the same request gets the stored result
 * back (`replayed: true`); the same key with a different request is a `409 idempotency_key_reused`.
 *
 * The key is claimed first, by inserting its row: a concurrent call with the same key blocks on
 * the unique index until the first commits, then finds the stored result and replays it. (If the
 * first rolls back, the second claims the key and runs.) No advisory lock is needed, so this holds
 * on a distributed cluster too.
 *
 * @example await idempotent(tx, businessId, `purchase:${externalId}`, "purchase.record", body, now, () => record())
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
  const requestHash = requestFingerprint(operation, request);
  const claimed = await tx
    .insertInto("idempotency_keys")
    .values({
      business_id: businessId,
      key,
      operation,
      request_hash: requestHash,
      status_code: 0,
      response: "{}",
      created_at: now,
    })
    .onConflict((oc) => oc.columns(["business_id", "key"]).doNothing())
    .returning("key")
    .executeTakeFirst();
  if (!claimed) {
    const existing = await tx
      .selectFrom("idempotency_keys")
      .select(["operation", "request_hash", "status_code", "response"])
      .where("business_id", "=", businessId)
      .where("key", "=", key)
      .executeTakeFirstOrThrow();
    return replay<T>(existing, key, operation, requestHash);
  }
  const result = await work();
  await tx
    .updateTable("idempotency_keys")
    .set({ status_code: result.status, response: JSON.stringify(result.body) })
    .where("business_id", "=", businessId)
    .where("key", "=", key)
    .execute();
  return { ...result, replayed: false };
}

/** What identifies a request under a key: the operation and the request's content. */
export function requestFingerprint(operation: string, request: unknown): string {
  return fingerprint({ operation, request });
}

/** A request's stored result for replay, or `409 idempotency_key_reused` when the request differs. */
export function replay<T>(
  existing: { operation: string; request_hash: string; status_code: number; response: string },
  key: string,
  operation: string,
  requestHash: string,
): StoredResult<T> {
  if (existing.operation !== operation || existing.request_hash !== requestHash) {
    throw conflict(
      "idempotency_key_reused",
      `The key "${key}" was already used for a different request. Use a new key for a new operation.`,
      { key },
    );
  }
  return {
    status: existing.status_code,
    body: JSON.parse(existing.response) as T,
    replayed: true,
    json: existing.response,
  };
}

/**
 * Opens a transaction and runs `work` in it at most once per key (see `idempotent`): the shape of
 * every retryable write.
 *
 * @example await onceInTransaction(db, businessId, `refund:${id}`, "refund.record", body, now, (tx) => refund(tx))
 */
export function onceInTransaction<T>(
  db: Db,
  businessId: string,
  key: string | undefined,
  operation: string,
  request: unknown,
  now: Date,
  work: (tx: Tx) => Promise<{ status: number; body: T }>,
): Promise<StoredResult<T>> {
  return db
    .transaction()
    .execute((tx) => idempotent(tx, businessId, key, operation, request, now, () => work(tx)));
}
