import { sql } from "kysely";
import type { Db, Tx } from "../../db/database.ts";
import { limitWaits, type StopWhen } from "../../jobs/limits.ts";
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

/** How many keys one statement of `pruneAnswers` lets go of, at most. */
export const PRUNE_BATCH = 1000;

/**
 * How far before its watermark a run of `pruneAnswers` starts again. A key carries the instant its
 * request started (`created_at`), on its node's clock, and the request commits a little later: a
 * birthday's key carries the start of the job's run, which may last up to its 15-minute cap. An
 * hour covers that, with room for nodes whose clocks differ by minutes. A key committed after a run
 * had gone past its instant is let go by the next run if it is no older than this margin; the keys
 * in the margin that were let go already are read again, not written.
 */
export const PRUNE_MARGIN_MS = 3_600_000;

/**
 * The span of time a run's first statement looks at: a day and the margin, what a daily run has
 * to do. The next spans are sized to take about a batch each (`nextSpan`).
 */
const FIRST_SPAN_MS = DAY_MS + PRUNE_MARGIN_MS;

/** The BRIN index on `idempotency_keys (created_at)` (migration 0030). */
const CREATED_INDEX = "idempotency_keys_created_brin";

/** What one statement of `pruneAnswers` did: the keys it took, the answers let go, the last key's time. */
interface PrunedBatch {
  taken: number;
  pruned: number;
  last: Date | null;
}

/**
 * Lets go of the answers stored more than `days` days before `now`, in every business: each
 * answer becomes null, while the key and the request's fingerprint stay, so the request still
 * counts once (`replay` then answers `410 idempotency_answer_expired`). The answers were most of
 * what a purchase keeps on disk (docs/operations.md).
 *
 * A run reads only what is new since the last one: the keys stored from the watermark
 * (`answer_retention.pruned_before`, less `PRUNE_MARGIN_MS`) to `now - days`, found through the
 * BRIN index on `created_at`, whose new page ranges it summarizes first. It goes through that span
 * in time order, `batchSize` keys per statement at most, each statement in a transaction of its
 * own that also moves the watermark past what it did: a run that stops half-way (a crash, `stop`)
 * leaves the watermark where it stopped, and the next one goes on from there. An answer is let go
 * once, since only answers not let go yet are taken. Lowering `days` lets go of the answers
 * between the two limits at the next run; raising it lets go of nothing until `now - days` passes
 * the watermark, which never moves back.
 *
 * Each statement takes the keys of a span of time of every business at once, without naming one:
 * the index finds a span's keys of all businesses in the same pages, and a statement per business
 * would read those pages once per business. On Citus it runs on every shard, which is what a
 * maintenance job once a day should do. The very first run, with no watermark yet, reads the whole
 * table once to find its oldest key.
 *
 * @example await pruneAnswers(db, new Date(), 30) // { businesses: 3, answers: 12840 }
 */
export async function pruneAnswers(
  db: Db,
  now: Date,
  days: number,
  batchSize = PRUNE_BATCH,
  options: { stop?: StopWhen } = {},
): Promise<{ businesses: number; answers: number; more?: true }> {
  const before = new Date(now.getTime() - days * DAY_MS);
  const { count: businesses } = await db
    .selectFrom("businesses")
    .select((eb) => eb.fn.countAll<number>().as("count"))
    .executeTakeFirstOrThrow();
  await summarizeNewKeys(db);
  let from: Date = (await pruneStart(db)) ?? (await oldestKey(db)) ?? before;
  let answers = 0;
  let spanMs = FIRST_SPAN_MS;
  for (;;) {
    if (from >= before) {
      // Nothing due (the first run of an empty table, or `days` raised): the watermark still
      // records where the next run starts.
      await moveWatermark(db, before);
      return { businesses, answers };
    }
    if (options.stop?.()) return { businesses, answers, more: true };
    const to = new Date(Math.min(from.getTime() + spanMs, before.getTime()));
    const span = { from, to };
    const batch = await db.transaction().execute(async (tx) => {
      await limitWaits(tx);
      // Without statistics on `created_at` (PGlite before its first ANALYZE, a server before
      // autovacuum's), or once new keys in freed pages have made its correlation low, the planner
      // costs the BRIN index as if it matched every page and would read the whole table instead:
      // no statement of this transaction has any use for a sequential scan.
      await sql`select set_config('enable_seqscan', 'off', true)`.execute(tx);
      const done = await pruneSpan(tx, span.from, span.to, batchSize);
      // A full batch may have left keys of its last instant: the watermark stops just before it
      // (a millisecond before, as the instant came back as a Date, to the millisecond).
      const reached = done.taken >= batchSize && done.last ? new Date(done.last.getTime() - 1) : span.to;
      await moveWatermark(tx, reached);
      return { ...done, reached };
    });
    answers += batch.pruned;
    spanMs = nextSpan(spanMs, batch.taken, batchSize, batch.last ? batch.last.getTime() - from.getTime() : 0);
    from = batch.reached > from ? batch.reached : from;
  }
}

/**
 * The span of time the next statement looks at, so that it takes about nine tenths of a batch: a
 * full batch's keys took `coveredMs` from the span's start (an eighth of the span at least, so
 * that a batch of one key among sparse keys does not shrink it to nothing); a batch that was not
 * full had room, and the span grows by what was missing, at most twice (twice after no key).
 */
function nextSpan(spanMs: number, taken: number, batchSize: number, coveredMs: number): number {
  if (taken >= batchSize) return Math.max(1, Math.floor(coveredMs * 0.9), Math.floor(spanMs / 8));
  if (taken === 0) return spanMs * 2;
  return Math.max(1, Math.floor(spanMs * Math.min(2, (0.9 * batchSize) / taken)));
}

/**
 * Lets go of the answers of at most `batchSize` keys stored in `[from, to)`, the oldest first,
 * among those not let go yet. Both parts are planned on the batch's keys alone: the BRIN index's
 * pages for the span, then the primary key for each taken key.
 */
async function pruneSpan(tx: Tx, from: Date, to: Date, batchSize: number): Promise<PrunedBatch> {
  const result = await sql<PrunedBatch>`
    with batch as (
      select business_id, key, created_at from idempotency_keys
      where created_at >= ${from} and created_at < ${to} and response is not null
      order by created_at limit ${batchSize}),
    pruned as (
      update idempotency_keys k set response = null
      from batch b
      where k.business_id = b.business_id and k.key = b.key and k.response is not null
      returning 1)
    select (select count(*)::int from batch) as taken, (select count(*)::int from pruned) as pruned,
      (select max(created_at) from batch) as last`.execute(tx);
  const row = result.rows[0];
  return {
    taken: row?.taken ?? 0,
    pruned: row?.pruned ?? 0,
    last: row?.last ? new Date(row.last) : null,
  };
}

/** Where a run starts: the watermark less the margin; null before the first run. */
async function pruneStart(db: Db): Promise<Date | null> {
  const row = await db.selectFrom("answer_retention").select("pruned_before").executeTakeFirst();
  if (!row?.pruned_before) return null;
  return new Date(new Date(row.pruned_before).getTime() - PRUNE_MARGIN_MS);
}

/**
 * The time of the oldest stored key, for a first run (no watermark yet): every answer before it
 * was let go, trivially. It reads the whole table, once in the installation's life.
 */
async function oldestKey(db: Db): Promise<Date | null> {
  const row = await db
    .selectFrom("idempotency_keys")
    .select((eb) => eb.fn.min("created_at").as("oldest"))
    .executeTakeFirst();
  return row?.oldest ? new Date(row.oldest) : null;
}

/** Moves the watermark to `reached`, never back (a run with more `days`, or two runs at once). */
async function moveWatermark(db: Db | Tx, reached: Date): Promise<void> {
  await sql`insert into answer_retention (id, pruned_before, updated_at) values (true, ${reached}, now())
    on conflict (id) do update set
      pruned_before = greatest(answer_retention.pruned_before, excluded.pruned_before),
      updated_at = excluded.updated_at`.execute(db);
}

/**
 * Summarizes the page ranges of `idempotency_keys` that were added since the last summary (it
 * reads those pages only), so the run's statements skip them when they hold no key of the span.
 * An unsummarized range is read by every statement, which is correct but slower: so a run whose
 * summary could not be had (a VACUUM holding the table's lock past `limitWaits`, a database user
 * that does not own the table) goes on without it.
 */
async function summarizeNewKeys(db: Db): Promise<void> {
  try {
    await db.transaction().execute(async (tx) => {
      await limitWaits(tx);
      await sql`select brin_summarize_new_values(${CREATED_INDEX}::regclass)`.execute(tx);
    });
  } catch (error) {
    const code = typeof error === "object" && error !== null && "code" in error ? error.code : undefined;
    // lock_not_available, query_canceled (the statement timeout), insufficient_privilege.
    if (code !== "55P03" && code !== "57014" && code !== "42501") throw error;
  }
}
