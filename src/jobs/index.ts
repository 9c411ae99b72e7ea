import { hostname } from "node:os";
import type { AppContext } from "../context.ts";
import { pruneAnswers } from "../modules/idempotency/index.ts";
import { runExpiry } from "../modules/ledger/index.ts";
import { getMemberForUpdate } from "../modules/members/index.ts";
import { evaluateTier } from "../modules/tiers/metric.ts";
import { MemberFailures } from "../shared/failures.ts";
import { newId } from "../shared/ids.ts";
import { runBirthdays } from "../use-cases/birthdays.ts";

/**
 * Scheduled work: expiring points, ending tiers whose retention ran out, birthday rewards, and
 * letting go of old idempotent answers (once a day). Each job takes a lease row in the database
 * before it runs, and renews it while the run lasts, so with many API nodes exactly one runs it
 * at a time, however long a run takes; a node that dies mid-run loses the lease when it times out. Every job is idempotent and batched, so a run that
 * stops half-way is simply finished by the next one.
 */

export const LEASE_MS = 10 * 60_000;

/** Takes the lease of `job` until `now + LEASE_MS`, or returns false when another node holds it. */
async function acquire(ctx: AppContext, job: string, holder: string, now: Date): Promise<boolean> {
  await ctx.db
    .insertInto("job_leases")
    .values({ job, holder: null, locked_until: null, last_run_at: null, last_result: null })
    .onConflict((oc) => oc.column("job").doNothing())
    .execute();
  const row = await ctx.db
    .updateTable("job_leases")
    .set({ holder, locked_until: new Date(now.getTime() + LEASE_MS) })
    .where("job", "=", job)
    .where((eb) => eb.or([eb("locked_until", "is", null), eb("locked_until", "<", now)]))
    .returning("job")
    .executeTakeFirst();
  return row !== undefined;
}

/** Extends the lease `holder` still holds, so a long run is not taken over while it lasts. */
async function renew(ctx: AppContext, job: string, holder: string): Promise<void> {
  await ctx.db
    .updateTable("job_leases")
    .set({ locked_until: new Date(ctx.clock.now().getTime() + LEASE_MS) })
    .where("job", "=", job)
    .where("holder", "=", holder)
    .where("locked_until", "is not", null)
    .execute();
}

/**
 * Lets the lease go. Only a run that finished counts as the last run (`due`): one that failed is
 * tried again at the next tick, not a day later.
 */
async function release(
  ctx: AppContext,
  job: string,
  holder: string,
  result: unknown,
  finished: boolean,
): Promise<void> {
  await ctx.db
    .updateTable("job_leases")
    .set({
      locked_until: null,
      ...(finished ? { last_run_at: ctx.clock.now() } : {}),
      last_result: JSON.stringify(result),
    })
    .where("job", "=", job)
    .where("holder", "=", holder)
    .execute();
}

/**
 * Re-evaluates every member whose tier retention has ended (downgrades at period end; with a
 * calendar year, to what this year or the year just ended reached: see `nextTierState`). It reads
 * the due members `batchSize` at a time and takes each in a transaction of its own: a transaction
 * that held one member while it waited for another could close a lock cycle with a batch of
 * purchases (see `runExpiry`). An ended tier already counts for nothing before the sweep gets to
 * it (`refreshTier`, `effectiveTier`): the sweep records what the members it finds now hold.
 */
export async function runTierSweep(
  ctx: AppContext,
  now: Date,
  batchSize = 200,
): Promise<{ members: number; changed: number }> {
  let members = 0;
  let changed = 0;
  const failed = new MemberFailures("Tier sweep", "the others' tiers were swept");
  for (let batch = 0; batch < 10_000; batch++) {
    let q = ctx.db
      .selectFrom("members")
      .select(["business_id", "id"])
      .where("tier_id", "is not", null)
      .where("tier_expires_at", "<=", now)
      .orderBy("tier_expires_at")
      .limit(batchSize);
    // A member that failed stays due: the rest of the run goes past it.
    if (failed.count > 0) {
      q = q.where((eb) =>
        eb.not(
          eb.or(
            failed.members.map((f) => eb.and([eb("business_id", "=", f.business), eb("id", "=", f.member)])),
          ),
        ),
      );
    }
    const due = await q.execute();
    if (due.length === 0) break;
    for (const m of due) {
      try {
        await sweepMember(m);
      } catch (error) {
        failed.add(m.business_id, m.id, error);
      }
    }
    if (due.length < batchSize) break;
  }
  failed.throwIfAny(members);
  return { members, changed };

  async function sweepMember(m: { business_id: string; id: string }): Promise<void> {
    await ctx.db.transaction().execute(async (tx) => {
      const member = await getMemberForUpdate(tx, m.business_id, m.id);
      const snapshot = await ctx.snapshots.load(tx, m.business_id);
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
      members++;
      if (result.changed) changed++;
    });
  }
}

export type JobName = "points-expiry" | "tier-sweep" | "birthdays" | "answer-retention";

/** What the jobs are told by the configuration. */
export interface JobSettings {
  /** Days an idempotent request's answer is kept (`ANSWER_RETENTION_DAYS`); 0 keeps them for good. */
  answerRetentionDays: number;
}

export const DEFAULT_JOB_SETTINGS: JobSettings = { answerRetentionDays: 30 };

/** How often the answer retention runs: it walks every stored key, so once a day is plenty. */
export const ANSWER_RETENTION_EVERY_MS = 86_400_000;

/** Runs one job now if this node can take its lease; returns its result, or null when skipped. */
export async function runJob(
  ctx: AppContext,
  job: JobName,
  holder = `${hostname()}:${process.pid}:${newId()}`,
  settings: JobSettings = DEFAULT_JOB_SETTINGS,
): Promise<unknown> {
  return withLease<unknown>(ctx, job, holder, (now) =>
    job === "points-expiry"
      ? runExpiry(ctx.db, now)
      : job === "tier-sweep"
        ? runTierSweep(ctx, now)
        : job === "birthdays"
          ? runBirthdays(ctx, now)
          : pruneAnswers(ctx.db, now, settings.answerRetentionDays),
  );
}

/**
 * Runs `work` under the lease of `job` if this node can take it, renewing the lease while the
 * work lasts and releasing it with the result after; null when another node holds the lease.
 */
export async function withLease<R>(
  ctx: AppContext,
  job: string,
  holder: string,
  work: (now: Date) => Promise<R>,
): Promise<R | null> {
  const now = ctx.clock.now();
  if (!(await acquire(ctx, job, holder, now))) return null;
  let result: R | null = null;
  let finished = false;
  // A third of the lease in, and every third after: a failed renewal is tried again next time.
  const heartbeat = setInterval(() => {
    renew(ctx, job, holder).catch(() => {});
  }, LEASE_MS / 3);
  heartbeat.unref();
  try {
    result = await work(now);
    finished = true;
    return result;
  } finally {
    clearInterval(heartbeat);
    await release(ctx, job, holder, result, finished);
  }
}

/** Whether `job` last ran `everyMs` or more before `now` (or never). */
async function due(ctx: AppContext, job: JobName, now: Date, everyMs: number): Promise<boolean> {
  const lease = await ctx.db
    .selectFrom("job_leases")
    .select("last_run_at")
    .where("job", "=", job)
    .executeTakeFirst();
  const last = lease?.last_run_at;
  return !last || now.getTime() - last.getTime() >= everyMs;
}

/**
 * Starts the schedule: every `intervalMs` each job runs on whichever node takes its lease (the
 * answer retention only once a day, and never when `answerRetentionDays` is 0).
 * Returns a function that stops it (and waits for a run in progress).
 */
export function startScheduler(
  ctx: AppContext,
  intervalMs: number,
  onError: (job: JobName, error: unknown) => void,
  settings: JobSettings = DEFAULT_JOB_SETTINGS,
): () => Promise<void> {
  let running: Promise<unknown> = Promise.resolve();
  let busy = false;
  const tick = () => {
    // A run that outlasts the interval is not queued behind: the next tick after it does the work.
    if (busy) return;
    busy = true;
    running = running.then(async () => {
      for (const job of ["points-expiry", "tier-sweep", "birthdays", "answer-retention"] as const) {
        try {
          if (job === "answer-retention") {
            if (settings.answerRetentionDays === 0) continue;
            if (!(await due(ctx, job, ctx.clock.now(), ANSWER_RETENTION_EVERY_MS))) continue;
          }
          await runJob(ctx, job, undefined, settings);
        } catch (error) {
          onError(job, error);
        }
      }
      busy = false;
    });
  };
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  tick();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
