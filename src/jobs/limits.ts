import { sql } from "kysely";
import type { Tx } from "../db/database.ts";

/**
 * How long one member's transaction of a job (points expiry, tier sweep, birthdays) waits for a
 * lock before it gives up: a row held by an operator's open `psql` session, or by a stuck
 * request, then costs that one member a failure for this run, not the whole run its progress.
 */
export const JOB_LOCK_TIMEOUT_MS = 5_000;

/** How long one statement of a job's member transaction may run before the server cancels it. */
export const JOB_STATEMENT_TIMEOUT_MS = 60_000;

/**
 * Bounds the waits of a job's member transaction (`JOB_LOCK_TIMEOUT_MS`,
 * `JOB_STATEMENT_TIMEOUT_MS`), for this transaction only (`set local`): the first statement of
 * the transaction, before any lock is taken. A member that runs into either fails
 * (`MemberFailures`) and the run moves on to the next.
 *
 * @example await db.transaction().execute(async (tx) => { await limitWaits(tx); … })
 */
export async function limitWaits(tx: Tx): Promise<void> {
  await sql`select set_config('lock_timeout', ${String(JOB_LOCK_TIMEOUT_MS)}, true),
    set_config('statement_timeout', ${String(JOB_STATEMENT_TIMEOUT_MS)}, true)`.execute(tx);
}

/**
 * What tells a job's run to stop early, asked after each member it did (or failed): the
 * scheduler's cap on a run's time, or a lost lease. A run that stops says so (`more: true`); the
 * next run goes on from the start of what is still due.
 */
export type StopWhen = () => boolean;
