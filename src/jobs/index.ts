import { hostname } from "node:os";
import { type KyselyPlugin, sql } from "kysely";
import type { AppContext } from "../context.ts";
import type { Db } from "../db/database.ts";
import { logSafeError } from "../http/log-safe.ts";
import { followPendingTimeZones, type TimeZoneFollowRun } from "../modules/business/index.ts";
import { PRUNE_BATCH, pruneAnswers } from "../modules/idempotency/index.ts";
import { expireDue } from "../modules/ledger/index.ts";
import { getMemberForUpdate } from "../modules/members/index.ts";
import { evaluateTier } from "../modules/tiers/metric.ts";
import { MemberFailures } from "../shared/failures.ts";
import { newId } from "../shared/ids.ts";
import { giveBirthdays } from "../use-cases/birthdays.ts";
import { limitWaits, type StopWhen } from "./limits.ts";

/**
 * Scheduled work: expiring points, ending tiers whose retention ran out, birthday rewards,
 * finishing changes of a business's time zone that a request did not (`timezone-follow`), and
 * letting go of old idempotent answers (once a day).
 *
 * What the scheduler does, and no more: every node ticks every `JOBS_INTERVAL_SECONDS`; at a tick
 * each job runs on the node that takes its row in `job_leases`, and only when its last finished
 * run is an interval old (a day for the answer retention), so a job runs about once per interval
 * across all nodes, on one node at a time. One job's run is one chain on that node: it does all
 * businesses, one member per transaction. There is no fan-out of a job's work over nodes, no
 * queue, no backoff: a run that fails (or stops at `MAX_RUN_MS`) is simply tried again at the next
 * tick. That is enough because every job is idempotent and resumable (a run that stops half-way
 * is finished by the next), and it keeps the scheduler one small table that works the same on
 * PGlite and on PostgreSQL. All the lease's times are the database's (`now()`), so nodes whose
 * clocks differ still agree; the run itself is told the app's clock (`ctx.clock`), which tests set.
 */

export const LEASE_MS = 10 * 60_000;

/** How long one run may go on before it stops taking new members (`more: true`); the next tick goes on. */
export const MAX_RUN_MS = 15 * 60_000;

/**
 * How often the answer retention runs. A run reads only the keys stored since the last one, so it
 * could run more often; once a day keeps the answers no more than a day past their retention.
 */
export const ANSWER_RETENTION_EVERY_MS = 86_400_000;

/** How often a job runs when nobody says (the default `JOBS_INTERVAL_SECONDS`). */
export const DEFAULT_INTERVAL_MS = 300_000;

/**
 * A run is due once its last finished run is `everyMs` old, less a tenth (at most a minute): the
 * ticks of a node are not exactly an interval apart, and a run that ended a moment after the last
 * tick must not make the next one skip.
 */
function dueAfterMs(everyMs: number): number {
  return everyMs - Math.min(everyMs / 10, 60_000);
}

/**
 * Takes the lease of `job` until the database's `now() + LEASE_MS`, in one statement, if nobody
 * holds it and, with `everyMs`, if the last finished run ended that long ago (`dueAfterMs`).
 * False when another node holds it or the job is not due.
 */
async function acquire(db: Db, job: string, holder: string, everyMs: number): Promise<boolean> {
  await db
    .insertInto("job_leases")
    .values({ job, holder: null, locked_until: null, last_run_at: null, last_result: null })
    .onConflict((oc) => oc.column("job").doNothing())
    .execute();
  const due = dueAfterMs(everyMs);
  const row = await db
    .updateTable("job_leases")
    .set({ holder, locked_until: sql`now() + ${LEASE_MS}::double precision * interval '1 millisecond'` })
    .where("job", "=", job)
    .where((eb) => eb.or([eb("locked_until", "is", null), eb("locked_until", "<", sql<Date>`now()`)]))
    .where((eb) =>
      due > 0
        ? eb.or([
            eb("last_run_at", "is", null),
            eb("last_run_at", "<=", sql<Date>`now() - ${due}::double precision * interval '1 millisecond'`),
          ])
        : sql<boolean>`true`,
    )
    .returning("job")
    .executeTakeFirst();
  return row !== undefined;
}

/** Extends the lease `holder` still holds; false when it no longer holds it (it lapsed and another node took it). */
async function renew(db: Db, job: string, holder: string): Promise<boolean> {
  const row = await db
    .updateTable("job_leases")
    .set({ locked_until: sql`now() + ${LEASE_MS}::double precision * interval '1 millisecond'` })
    .where("job", "=", job)
    .where("holder", "=", holder)
    .where("locked_until", "is not", null)
    .returning("job")
    .executeTakeFirst();
  return row !== undefined;
}

/** How a run ended, for `release`. */
type Ending =
  | { kind: "finished"; result: unknown }
  | { kind: "stopped"; result: unknown }
  | { kind: "failed"; error: unknown };

/**
 * Lets the lease go and records the run, if `holder` still holds it (a node whose lease lapsed and
 * was taken changes nothing). A run that finished is the last run (`last_run_at`, `last_result`,
 * and the failures count starts again); one that stopped at its cap records its figures
 * (`more: true`) but is not the last run, so the next tick goes on with it; one that failed
 * records its error and when (`last_error`, `last_failed_at`), counts one more consecutive
 * failure, and leaves the last finished run's figures alone. Returns the consecutive failures.
 */
async function release(db: Db, job: string, holder: string, ending: Ending): Promise<number | undefined> {
  const row = await db
    .updateTable("job_leases")
    .set((eb) => ({
      locked_until: null,
      ...(ending.kind === "failed"
        ? {
            last_failed_at: sql<Date>`now()`,
            last_error: JSON.stringify(errorRecord(ending.error)),
            consecutive_failures: eb("consecutive_failures", "+", 1),
          }
        : {
            ...(ending.kind === "finished" ? { last_run_at: sql<Date>`now()` } : {}),
            last_result: JSON.stringify(ending.result ?? null),
            consecutive_failures: 0,
          }),
    }))
    .where("job", "=", job)
    .where("holder", "=", holder)
    .returning("consecutive_failures")
    .executeTakeFirst();
  return row?.consecutive_failures;
}

const MAX_ERROR_MESSAGE = 2_000;

/**
 * What `job_leases.last_error` keeps of an error: the fields the server's log keeps
 * (`logSafeError`: type, message, code, constraint, table, column; never a row's values), without
 * the stack, and the figures of a run that failed for some members (`JobRunFailed`).
 */
export function errorRecord(error: unknown): Record<string, unknown> {
  const strip = (e: Record<string, unknown>): Record<string, unknown> => {
    const { stack: _stack, cause, message, ...kept } = e;
    return {
      ...kept,
      message: String(message).slice(0, MAX_ERROR_MESSAGE),
      ...(cause ? { cause: strip(cause as Record<string, unknown>) } : {}),
    };
  };
  const record = strip(logSafeError(error));
  return error instanceof JobRunFailed ? { ...record, result: error.result } : record;
}

/**
 * A run that went through but failed for some members: the members it could not do, named by the
 * summary (`MemberFailures`), and its figures (`result`, with `failed`: how many), which the
 * lease keeps in `last_error`.
 */
export class JobRunFailed extends Error {
  constructor(
    summary: Error,
    readonly result: Record<string, unknown>,
  ) {
    super(summary.message, { cause: summary.cause });
    this.name = "JobRunFailed";
  }
}

/** The run's figures, or `JobRunFailed` when a member failed. */
function settle(
  failures: MemberFailures,
  done: number,
  result: Record<string, unknown>,
  more: boolean,
): Record<string, unknown> {
  const figures = more ? { ...result, more: true } : result;
  try {
    failures.throwIfAny(done);
  } catch (summary) {
    throw new JobRunFailed(summary as Error, { ...figures, failed: failures.count });
  }
  return figures;
}

/** What one run of `sweepTiers` did. */
export interface TierSweepRun {
  members: number;
  changed: number;
  failures: MemberFailures;
  /** It stopped (`stop`) with members maybe left to sweep. */
  more: boolean;
}

/**
 * Re-evaluates every member whose tier retention has ended, and throws at the end when a member
 * failed (see `sweepTiers`).
 */
export async function runTierSweep(
  ctx: AppContext,
  now: Date,
  batchSize = 200,
): Promise<{ members: number; changed: number }> {
  const run = await sweepTiers(ctx, now, { batchSize });
  run.failures.throwIfAny(run.members);
  return { members: run.members, changed: run.changed };
}

/**
 * Re-evaluates every member whose tier retention has ended (downgrades at period end; with a
 * calendar year, to what this year or the year just ended reached: see `nextTierState`). It reads
 * the due members `batchSize` at a time, in the order of their index (retention end, business,
 * member), each batch past the last, and takes each member in a transaction of its own, whose
 * waits are bounded (`limitWaits`): a transaction that held one member while it waited for
 * another could close a lock cycle with a batch of purchases (see `expireDue`). A member that
 * fails stays due for the next run; this one goes past it. An ended tier already counts for
 * nothing before the sweep gets to it (`refreshTier`, `effectiveTier`): the sweep records what the
 * members it finds now hold.
 */
export async function sweepTiers(
  ctx: AppContext,
  now: Date,
  options: { batchSize?: number; stop?: StopWhen } = {},
): Promise<TierSweepRun> {
  const batchSize = options.batchSize ?? 200;
  const run: TierSweepRun = {
    members: 0,
    changed: 0,
    failures: new MemberFailures("Tier sweep", "the others' tiers were swept"),
    more: false,
  };
  let after: { tier_expires_at: Date | null; business_id: string; id: string } | undefined;
  for (;;) {
    let q = ctx.db
      .selectFrom("members")
      .select(["tier_expires_at", "business_id", "id"])
      .where("tier_id", "is not", null)
      .where("tier_expires_at", "<=", now)
      .orderBy("tier_expires_at")
      .orderBy("business_id")
      .orderBy("id")
      .limit(batchSize);
    if (after) {
      const last = after;
      q = q.where(
        sql<boolean>`(tier_expires_at, business_id, id) > (${last.tier_expires_at}::timestamptz, ${last.business_id}::uuid, ${last.id}::uuid)`,
      );
    }
    const due = await q.execute();
    for (const [i, m] of due.entries()) {
      try {
        if (await sweepMember(m)) run.changed++;
        run.members++;
      } catch (error) {
        run.failures.add(m.business_id, m.id, error);
      }
      if (options.stop?.()) {
        run.more = i < due.length - 1 || due.length === batchSize;
        return run;
      }
    }
    after = due.at(-1);
    if (!after || due.length < batchSize) return run;
  }

  async function sweepMember(m: { business_id: string; id: string }): Promise<boolean> {
    return ctx.db.transaction().execute(async (tx) => {
      await limitWaits(tx);
      // The program first, then the member: the order every writer takes them (`SnapshotCache.load`).
      const snapshot = await ctx.snapshots.load(tx, m.business_id);
      const member = await getMemberForUpdate(tx, m.business_id, m.id);
      const result = await evaluateTier(tx, snapshot, member, now);
      // Every tier the evaluation leaves has a retention date ahead of now (the year just ended
      // keeps one until next 1 January), so the sweep never loops.
      if (
        result.state.tier_id !== null &&
        result.state.expires_at !== null &&
        result.state.expires_at <= now
      ) {
        throw new Error(`tier sweep made no progress for member ${m.id}`);
      }
      return result.changed !== null;
    });
  }
}

export type JobName = "points-expiry" | "tier-sweep" | "birthdays" | "timezone-follow" | "answer-retention";

export const JOBS: readonly JobName[] = [
  "points-expiry",
  "tier-sweep",
  "birthdays",
  "timezone-follow",
  "answer-retention",
];

/**
 * The figures of a `timezone-follow` run, or `JobRunFailed` when a business's page failed: its
 * change stays pending, and the next run goes on with it.
 */
function settleTimeZones(r: TimeZoneFollowRun): Record<string, unknown> {
  const figures = { businesses: r.businesses, pages: r.pages, ...(r.more ? { more: true } : {}) };
  const first = r.failures[0];
  if (!first) return figures;
  const why = first.error instanceof Error ? first.error.message : String(first.error);
  throw new JobRunFailed(
    new Error(
      `Time zone follow-up: ${r.failures.length} of ${r.businesses + r.failures.length} businesses failed (the others' changes went on); the first, business ${first.business}: ${why}`,
      { cause: first.error },
    ),
    { ...figures, failed: r.failures.length },
  );
}

/** What the jobs are told by the configuration. */
export interface JobSettings {
  /** Days an idempotent request's answer is kept (`ANSWER_RETENTION_DAYS`); 0 keeps them for good. */
  answerRetentionDays: number;
  /** How often the jobs run (`JOBS_INTERVAL_SECONDS`); `DEFAULT_INTERVAL_MS` when not given. */
  intervalMs?: number;
  /** The cap on one run's time (`MAX_RUN_MS` when not given). */
  maxRunMs?: number;
}

export const DEFAULT_JOB_SETTINGS: JobSettings = { answerRetentionDays: 30 };

/** What a run tells its caller while it lasts and when it fails. */
export interface LeaseEvents {
  /** A heartbeat found no statement of the run done since the last: the lease is left to lapse. */
  stalled?: (idleMs: number) => void;
  /** The run failed; `consecutiveFailures` counts this one (undefined if the lease was lost). */
  failed?: (error: unknown, consecutiveFailures: number | undefined) => void;
}

/**
 * Runs one job now if this node can take its lease and the job is due (its last finished run an
 * interval old: `settings.intervalMs`, a day for the answer retention); returns its figures, or
 * null when skipped. Throws when the run failed (`JobRunFailed` when some members did: its
 * figures say how many), after recording it in `job_leases`.
 */
export async function runJob(
  ctx: AppContext,
  job: JobName,
  holder = `${hostname()}:${process.pid}:${newId()}`,
  settings: JobSettings = DEFAULT_JOB_SETTINGS,
  events: LeaseEvents = {},
): Promise<unknown> {
  const everyMs =
    job === "answer-retention" ? ANSWER_RETENTION_EVERY_MS : (settings.intervalMs ?? DEFAULT_INTERVAL_MS);
  return withLease<unknown>(
    ctx,
    job,
    holder,
    async (now, run) => {
      const c = run.ctx;
      if (job === "points-expiry") {
        const r = await expireDue(c.db, now, { stop: run.stop });
        return run.outcome(settle(r.failures, r.members, { lots: r.lots, points: r.points }, r.more), r.more);
      }
      if (job === "tier-sweep") {
        const r = await sweepTiers(c, now, { stop: run.stop });
        return run.outcome(
          settle(r.failures, r.members, { members: r.members, changed: r.changed }, r.more),
          r.more,
        );
      }
      if (job === "timezone-follow") {
        const r = await followPendingTimeZones(c.db, c.clock, { stop: run.stop });
        return run.outcome(settleTimeZones(r), r.more);
      }
      if (job === "birthdays") {
        const r = await giveBirthdays(c, now, { stop: run.stop });
        return run.outcome(settle(r.failures, r.members, { members: r.members }, r.more), r.more);
      }
      const r = await pruneAnswers(c.db, now, settings.answerRetentionDays, PRUNE_BATCH, { stop: run.stop });
      return run.outcome(r, r.more === true);
    },
    { everyMs, maxRunMs: settings.maxRunMs ?? MAX_RUN_MS, events },
  );
}

/** What `withLease` hands the work. */
export interface LeaseRun {
  /** The context to do the work with: its statements count as the run's progress. */
  ctx: AppContext;
  /** True once the run should stop taking new work: past its time cap, or its lease lost. */
  stop: StopWhen;
  /** Marks the figures of a run that stopped before the end (`more`): not counted as the last run. */
  outcome<R>(result: R, more: boolean): R;
}

/** Counts the statements that came back: a run that makes them makes progress. */
class Progress implements KyselyPlugin {
  statements = 0;
  transformQuery: KyselyPlugin["transformQuery"] = (args) => args.node;
  transformResult: KyselyPlugin["transformResult"] = async (args) => {
    this.statements++;
    return args.result;
  };
}

/**
 * Runs `work` under the lease of `job` if this node can take it (and, with `everyMs`, if the job
 * is due); null otherwise. Every third of the lease, a heartbeat renews it, but only if a
 * statement of the run came back since the last heartbeat: a run that hangs (a lock never
 * granted, a connection gone) lets its lease lapse, so another node can take the job, and says so
 * (`events.stalled`). A run past `maxRunMs`, or whose lease another node took, is told to stop
 * (`LeaseRun.stop`). The lease is released with the run's figures, or its error (`release`).
 */
export async function withLease<R>(
  ctx: AppContext,
  job: string,
  holder: string,
  work: (now: Date, run: LeaseRun) => Promise<R>,
  options: { everyMs?: number; maxRunMs?: number; events?: LeaseEvents } = {},
): Promise<R | null> {
  if (!(await acquire(ctx.db, job, holder, options.everyMs ?? 0))) return null;
  const now = ctx.clock.now();
  const started = Date.now();
  const progress = new Progress();
  let lost = false;
  let stopped = false;
  let seen = 0;
  let quietSince = started;
  const heartbeat = setInterval(() => {
    if (progress.statements === seen) {
      options.events?.stalled?.(Date.now() - quietSince);
      return;
    }
    seen = progress.statements;
    quietSince = Date.now();
    // A failed renewal is tried again at the next heartbeat.
    renew(ctx.db, job, holder).then(
      (held) => {
        if (!held) lost = true;
      },
      () => {},
    );
  }, LEASE_MS / 3);
  heartbeat.unref();
  const maxRunMs = options.maxRunMs ?? MAX_RUN_MS;
  const run: LeaseRun = {
    ctx: { ...ctx, db: ctx.db.withPlugin(progress) },
    stop: () => lost || Date.now() - started >= maxRunMs,
    outcome: (result, more) => {
      stopped = more;
      return result;
    },
  };
  let result: R;
  try {
    result = await work(now, run);
  } catch (error) {
    clearInterval(heartbeat);
    const failures = await release(ctx.db, job, holder, { kind: "failed", error });
    options.events?.failed?.(error, failures);
    throw error;
  }
  clearInterval(heartbeat);
  await release(ctx.db, job, holder, { kind: stopped ? "stopped" : "finished", result });
  return result;
}

/**
 * Starts the schedule: every `intervalMs` each job runs on whichever node takes its lease, when
 * it is due (the answer retention once a day, and never when `answerRetentionDays` is 0). Each job
 * is a chain of its own on this node: a run that outlasts the interval is not queued behind (the
 * next tick after it does the work), and it holds up no other job. `onError` is told of a failed
 * run, with the job's consecutive failures; `onStall` of a run that made no progress for a third
 * of the lease. Returns a function that stops it (and waits for the runs in progress).
 */
export function startScheduler(
  ctx: AppContext,
  intervalMs: number,
  onError: (job: JobName, error: unknown, consecutiveFailures?: number) => void,
  settings: JobSettings = DEFAULT_JOB_SETTINGS,
  onStall: (job: JobName, idleMs: number) => void = () => {},
): () => Promise<void> {
  const running = new Map<JobName, Promise<void>>();
  const tick = () => {
    for (const job of JOBS) {
      if (job === "answer-retention" && settings.answerRetentionDays === 0) continue;
      if (running.has(job)) continue;
      let failures: number | undefined;
      const run = runJob(
        ctx,
        job,
        undefined,
        { ...settings, intervalMs },
        {
          stalled: (idleMs) => onStall(job, idleMs),
          failed: (_, n) => {
            failures = n;
          },
        },
      )
        .then(
          () => {},
          (error) => onError(job, error, failures),
        )
        .finally(() => running.delete(job));
      running.set(job, run);
    }
  };
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  tick();
  return async () => {
    clearInterval(timer);
    await Promise.all(running.values());
  };
}
