import { sql } from "kysely";
import type { Db, Tx } from "../../db/database.ts";
import { AppError, conflict } from "../../shared/errors.ts";
import { fingerprint } from "../../shared/ids.ts";

export interface StoredResult<T> {
  status: number;
  body: T;
  replayed: boolean;
  /** On a replay: the answer's JSON as it was first sent, to send again byte for byte. */
  json?: string;
}

/**
 * The keys clients send (the `Idempotency-Key` header) are kept apart from the keys the server
 * makes itself (`purchase:<external id>`, `refund:…`, `event:…`, `birthday:<member>:<year>`), so a
 * client's key can never take one of the server's: a header `purchase:till-1-0042` on an
 * enrolment would otherwise make the purchase till-1-0042 a `409 idempotency_key_reused`, and one
 * named after a member's birthday would stop the birthday job. Stored as `client:<key>`
 * (migration 0014); messages show the key as the client sent it.
 */
export const CLIENT_KEY_PREFIX = "client:";

/** The stored key of a client's `Idempotency-Key` header (undefined: none sent). */
export function clientKey(header: string | undefined): string | undefined {
  return header === undefined ? undefined : `${CLIENT_KEY_PREFIX}${header}`;
}

/** The server's keys made of a request's `external_id`, and what each names. */
const EXTERNAL_ID_KEYS: Record<string, string> = {
  "purchase:": "purchase",
  "refund:": "refund",
  "event:": "event",
};

/**
 * A stored key as its sender knows it: a client's header without the prefixes the server put
 * before it (`client:`, `join:client:`, `wallet:<member>:client:`), or the `external_id` a
 * purchase, refund or event was sent with. A 409 names what the client sent, never an internal key.
 */
function shownKey(key: string): { message: string; details: Record<string, string> } {
  const client = key.indexOf(CLIENT_KEY_PREFIX);
  if (client >= 0) {
    const shown = key.slice(client + CLIENT_KEY_PREFIX.length);
    return {
      message: `The key "${shown}" was already used for a different request. Use a new key for a new operation.`,
      details: { key: shown },
    };
  }
  for (const [prefix, what] of Object.entries(EXTERNAL_ID_KEYS)) {
    if (!key.startsWith(prefix)) continue;
    const externalId = key.slice(prefix.length);
    return {
      message: `The external_id "${externalId}" was already used for a different ${what}. Send that ${what} again as it was, or give a new ${what} a new external_id.`,
      details: { external_id: externalId },
    };
  }
  return {
    message: `The key "${key}" was already used for a different request.`,
    details: { key },
  };
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
      .select(["operation", "request_hash", "status_code", "response", "created_at"])
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

/**
 * Whether something is stored under the key: a route whose work before its transaction is dear
 * (hashing a password) asks first, and leaves a retry to be answered from the key alone.
 *
 * @example if (!(await keyTaken(db, businessId, key))) hash = await hashPassword(password)
 */
export async function keyTaken(db: Db, businessId: string, key: string): Promise<boolean> {
  const row = await db
    .selectFrom("idempotency_keys")
    .select("key")
    .where("business_id", "=", businessId)
    .where("key", "=", key)
    .executeTakeFirst();
  return row !== undefined;
}

/** What identifies a request under a key: the operation and the request's content. */
export function requestFingerprint(operation: string, request: unknown): string {
  return fingerprint({ operation, request });
}

/**
 * The fingerprint of a request whose content was erased with its member (a join's name and
 * e-mail, an event's text): a fast hash of it would let anyone holding the database confirm a
 * guess of who it was. The key stays, so the request is still not done again: sent again, with any
 * content, it is answered `410 idempotency_answer_expired`.
 */
export const FORGOTTEN_REQUEST = "forgotten";

/** What is kept under a key: the request's fingerprint, and its answer until retention lets it go. */
export interface StoredAnswer {
  operation: string;
  request_hash: string;
  status_code: number;
  response: string | null;
  /** When the request was done (a `Date`, or ISO text when read through JSON). */
  created_at: Date | string;
}

/**
 * A request's stored result for replay; `409 idempotency_key_reused` when the request differs;
 * `410 idempotency_answer_expired` when it is the same request but its answer was let go
 * (`pruneAnswers`): the request is not done again either way.
 */
export function replay<T>(
  existing: StoredAnswer,
  key: string,
  operation: string,
  requestHash: string,
): StoredResult<T> {
  const shown = shownKey(key);
  const forgotten = existing.request_hash === FORGOTTEN_REQUEST;
  if (existing.operation !== operation || (existing.request_hash !== requestHash && !forgotten)) {
    throw conflict("idempotency_key_reused", shown.message, shown.details);
  }
  if (existing.response === null) {
    const doneAt = new Date(existing.created_at).toISOString();
    const [[name, value] = ["key", key]] = Object.entries(shown.details);
    throw new AppError(
      410,
      "idempotency_answer_expired",
      `The request under the ${name} "${value}" was done at ${doneAt}, and it was not done again. Its answer is no longer kept: answers to repeated requests are kept for a limited time (ANSWER_RETENTION_DAYS).`,
      { ...shown.details, done_at: doneAt },
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

const DAY_MS = 86_400_000;

/** One statement of `pruneAnswers`: the batch's last key (null past the end) and the answers let go. */
interface PrunedBatch {
  last: string | null;
  pruned: number;
}

/** How many keys one statement of `pruneAnswers` looks at. */
export const PRUNE_BATCH = 1000;

/**
 * Lets go of the answers stored more than `days` days before `now`, in every business: each
 * answer becomes null, while the key and the request's fingerprint stay, so the request still
 * counts once (`replay` then answers `410 idempotency_answer_expired`). The answers were most of
 * what a purchase keeps on disk (docs/operations.md).
 *
 * Each business's keys are walked in key order, `batchSize` keys per statement (and so per
 * transaction), every statement naming its business. A run that stops half-way loses nothing,
 * and the next one finishes it; running it twice changes nothing the second time.
 *
 * @example await pruneAnswers(db, new Date(), 30) // { businesses: 3, answers: 12840 }
 */
export async function pruneAnswers(
  db: Db,
  now: Date,
  days: number,
  batchSize = PRUNE_BATCH,
): Promise<{ businesses: number; answers: number }> {
  const before = new Date(now.getTime() - days * DAY_MS);
  const businesses = await db.selectFrom("businesses").select("id").orderBy("id").execute();
  let answers = 0;
  for (const { id } of businesses) {
    // Keys are never empty, so "" comes before the first. A plain `key > $n`, and the update's
    // `key = any(array(…))`, keep both parts index scans of this batch's keys, on a generic plan too
    // (a join to the batch was planned as a scan of the whole table).
    let after = "";
    for (;;) {
      const result: { rows: PrunedBatch[] } = await sql<PrunedBatch>`
        with batch as (
          select key from idempotency_keys
          where business_id = ${id} and key > ${after}
          order by key limit ${batchSize}),
        pruned as (
          update idempotency_keys set response = null
          where business_id = ${id} and key = any(array(select key from batch)) and created_at < ${before}
            and response is not null
          returning 1)
        select (select max(key) from batch) as last, (select count(*)::int from pruned) as pruned`.execute(
        db,
      );
      const row = result.rows[0];
      if (!row || row.last === null) break;
      answers += row.pruned;
      after = row.last;
    }
  }
  return { businesses: businesses.length, answers };
}
