import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JobRunFailed, runJob, runTierSweep, startScheduler } from "../../src/jobs/index.ts";
import { runExpiry } from "../../src/modules/ledger/index.ts";
import { runBirthdays } from "../../src/use-cases/birthdays.ts";
import { startTestApp, type Tenant, type TestApp } from "../helpers/api.ts";
import { blockedOnALock, engine } from "../helpers/db.ts";
import { goldBoutique } from "../helpers/tiers.ts";

/**
 * What the scheduled jobs record of their health (`job_leases`), and how they keep a run from
 * hanging: each member's transaction waits a bounded time, a run has a time cap, and one job's
 * run holds up no other job.
 */
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ now: "2026-06-01T10:00:00Z", poolSize: 8 });
});
afterAll(async () => t?.close());

const DAY = 86_400_000;
const HOUR = { answerRetentionDays: 30, intervalMs: 3_600_000 };

/** A business whose points expire 10 days after they are earned, with `members` members who each bought once. */
async function shop(members = 1): Promise<{ tenant: Tenant; members: string[] }> {
  const owner = await t.signup();
  const key = (await owner.call("POST", "/v1/api-keys", { name: "POS", role: "manager" })).body.key;
  const tenant = owner.as(key);
  const program = (await tenant.call("GET", "/v1/program")).body.config;
  const points = { ...program.points, pending_days: 0, expiry: { policy: "days_after_earn", days: 10 } };
  expect((await tenant.call("PUT", "/v1/program", { ...program, points })).status).toBe(200);
  const ids: string[] = [];
  for (let i = 0; i < members; i++) {
    ids.push((await tenant.call("POST", "/v1/members", { marketing_consent: false })).body.id);
  }
  for (const id of ids) await buy(tenant, id);
  return { tenant, members: ids };
}

let seq = 0;
async function buy(tenant: Tenant, member: string): Promise<void> {
  const res = await tenant.call("POST", "/v1/purchases", {
    external_id: `p-${++seq}`,
    member_id: member,
    amount_minor: 1_000,
    currency: "EUR",
  });
  expect(res.status).toBe(201);
}

async function leaseOf(job: string) {
  return t.database.db.selectFrom("job_leases").selectAll().where("job", "=", job).executeTakeFirstOrThrow();
}

/** The job's last finished run ended an hour ago (database time): it is due again. */
async function makeDue(job: string): Promise<void> {
  await t.database.db
    .updateTable("job_leases")
    .set({ last_run_at: sql<Date>`now() - interval '1 hour'` })
    .where("job", "=", job)
    .execute();
}

/** Makes every `expire` entry of `businessId` fail, with a detail that names a person. */
async function failExpiryOf(businessId: string): Promise<() => Promise<void>> {
  await sql
    .raw(`create or replace function health_fail() returns trigger language plpgsql as $$
      begin
        if new.business_id = '${businessId}' then
          raise exception 'disk on fire' using detail = 'Failing row contains (ann@example.nl, +31612345678)';
        end if;
        return new;
      end $$`)
    .execute(t.database.db);
  await sql`create trigger health_fail before insert on ledger_entries for each row
    when (new.kind = 'expire') execute function health_fail()`.execute(t.database.db);
  return async () => {
    await sql`drop trigger health_fail on ledger_entries`.execute(t.database.db);
  };
}

describe("a job's health in job_leases", () => {
  it("keeps the last finished run and the last failure apart, counts failures in a row, and holds no personal data", async () => {
    // Nothing else due in this database.
    await runExpiry(t.database.db, t.clock.now());
    await t.database.db.deleteFrom("job_leases").where("job", "=", "points-expiry").execute();
    const a = await shop();
    const b = await shop();
    t.clock.advance(11 * DAY);
    expect(await runJob(t.ctx, "points-expiry", "node-a", HOUR)).toEqual({ lots: 2, points: 20 });
    const good = await leaseOf("points-expiry");
    expect(good).toMatchObject({
      last_result: { lots: 2, points: 20 },
      consecutive_failures: 0,
      last_error: null,
      last_failed_at: null,
    });

    // Both earn again; then the first business's expiry fails.
    await buy(a.tenant, a.members[0] as string);
    await buy(b.tenant, b.members[0] as string);
    t.clock.advance(11 * DAY);
    const heal = await failExpiryOf(a.tenant.businessId);
    try {
      await makeDue("points-expiry");
      const ranAt = (await leaseOf("points-expiry")).last_run_at;
      const failure = await runJob(t.ctx, "points-expiry", "node-a", HOUR).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(JobRunFailed);
      expect((failure as Error).message).toContain(
        `Points expiry: 1 of 2 members failed (the others' points expired); the first, member ${a.members[0]} of business ${a.tenant.businessId}: disk on fire`,
      );
      const failed = await leaseOf("points-expiry");
      // The last finished run is still the last finished run.
      expect(failed).toMatchObject({
        locked_until: null,
        last_run_at: ranAt,
        last_result: { lots: 2, points: 20 },
        consecutive_failures: 1,
      });
      expect(failed.last_failed_at).not.toBeNull();
      expect(failed.last_error).toMatchObject({
        type: "JobRunFailed",
        message: expect.stringContaining("1 of 2 members failed"),
        cause: { message: "disk on fire", code: "P0001" },
        // What the failed run did: the other business's points expired.
        result: { lots: 1, points: 10, failed: 1 },
      });
      const stored = JSON.stringify(failed.last_error);
      for (const secret of ["ann@example.nl", "+31612345678", "stack", "Failing row"]) {
        expect(stored).not.toContain(secret);
      }

      // The scheduler tries again at its next tick, and says how many runs failed in a row.
      const errors: [string, unknown, number | undefined][] = [];
      await startScheduler(t.ctx, 3_600_000, (job, error, n) => errors.push([job, error, n]), HOUR)();
      expect(errors.map(([job, error, n]) => [job, error instanceof JobRunFailed, n])).toEqual([
        ["points-expiry", true, 2],
      ]);
      expect(await leaseOf("points-expiry")).toMatchObject({
        consecutive_failures: 2,
        last_error: { result: { lots: 0, points: 0, failed: 1 } },
      });
    } finally {
      await heal();
    }

    // The fault gone, the next run finishes: the count starts again; the last failure stays on record.
    expect(await runJob(t.ctx, "points-expiry", "node-a", HOUR)).toEqual({ lots: 1, points: 10 });
    const healed = await leaseOf("points-expiry");
    expect(healed).toMatchObject({
      last_result: { lots: 1, points: 10 },
      consecutive_failures: 0,
      last_error: { type: "JobRunFailed" },
    });
    expect(healed.last_run_at?.getTime()).toBeGreaterThan(good.last_run_at?.getTime() ?? 0);
  });
});

describe("a job's run", () => {
  it("stops at its time cap and says so; the next run goes on, and only the one that finishes is the last run", async () => {
    await runExpiry(t.database.db, t.clock.now());
    await t.database.db.deleteFrom("job_leases").where("job", "=", "points-expiry").execute();
    await shop(3);
    t.clock.advance(11 * DAY);
    // A cap of 0 ms: each run does one member, then stops.
    const capped = { ...HOUR, maxRunMs: 0 };
    const runs: unknown[] = [];
    for (let i = 0; i < 3; i++) {
      runs.push(await runJob(t.ctx, "points-expiry", `node-${i}`, capped));
      if (i < 2) {
        expect(await leaseOf("points-expiry")).toMatchObject({
          locked_until: null,
          last_run_at: null,
          last_result: { lots: 1, points: 10, more: true },
        });
      }
    }
    expect(runs).toEqual([
      { lots: 1, points: 10, more: true },
      { lots: 1, points: 10, more: true },
      { lots: 1, points: 10 },
    ]);
    expect((await leaseOf("points-expiry")).last_run_at).not.toBeNull();
  });

  it("waits a bounded time for each member's locks and statements, in the expiry, the tier sweep and the birthdays", async () => {
    const db = t.database.db;
    await sql`create table seen_limits (what text, lock_timeout text, statement_timeout text)`.execute(db);
    await sql`create or replace function seen_limits() returns trigger language plpgsql as $$
      begin
        insert into seen_limits values (TG_TABLE_NAME || ':' || coalesce(new.kind, ''),
          current_setting('lock_timeout'), current_setting('statement_timeout'));
        return new;
      end $$`.execute(db);
    await sql`create or replace function seen_tier_limits() returns trigger language plpgsql as $$
      begin
        insert into seen_limits values (TG_TABLE_NAME, current_setting('lock_timeout'),
          current_setting('statement_timeout'));
        return new;
      end $$`.execute(db);
    t.clock.set(new Date("2027-03-01T10:00:00Z"));
    const { tenant } = await goldBoutique(await t.signup());
    const program = (await tenant.call("GET", "/v1/program")).body.config;
    const points = { ...program.points, pending_days: 0, expiry: { policy: "days_after_earn", days: 10 } };
    expect((await tenant.call("PUT", "/v1/program", { ...program, points })).status).toBe(200);
    const rule = await tenant.call("POST", "/v1/rules", {
      name: "Happy birthday",
      trigger: "birthday",
      effect: { type: "fixed_points", points: 100 },
    });
    expect(rule.status).toBe(201);
    const member = (
      await tenant.call("POST", "/v1/members", { birthday: "1990-01-02", marketing_consent: false })
    ).body.id as string;
    const bought = await tenant.call("POST", "/v1/purchases", {
      external_id: "gold",
      member_id: member,
      amount_minor: 60_000,
      currency: "EUR",
    });
    expect(bought.body.member.tier.current.name).toBe("Gold");
    await sql`create trigger seen_limits after insert on ledger_entries for each row
      when (new.actor like 'system:%') execute function seen_limits()`.execute(db);
    await sql`create trigger seen_tier_limits after insert on tier_changes for each row
      execute function seen_tier_limits()`.execute(db);
    try {
      // Gold is held until the end of 2028; points expire after 10 days; the birthday is today.
      t.clock.set(new Date("2029-01-02T10:00:00Z"));
      expect((await runExpiry(db, t.clock.now(), { businessId: tenant.businessId })).lots).toBeGreaterThan(0);
      expect(await runTierSweep(t.ctx, t.clock.now())).toMatchObject({ changed: 1 });
      expect(await runBirthdays(t.ctx, t.clock.now())).toEqual({ members: 1 });
    } finally {
      await sql`drop trigger seen_limits on ledger_entries`.execute(db);
      await sql`drop trigger seen_tier_limits on tier_changes`.execute(db);
    }
    const { rows } = await sql<{ what: string; lock_timeout: string; statement_timeout: string }>`
      select distinct what, lock_timeout, statement_timeout from seen_limits order by what`.execute(db);
    expect(rows).toEqual([
      { what: "ledger_entries:earn", lock_timeout: "5s", statement_timeout: "1min" },
      { what: "ledger_entries:expire", lock_timeout: "5s", statement_timeout: "1min" },
      { what: "tier_changes", lock_timeout: "5s", statement_timeout: "1min" },
    ]);
  });

  it("gives up on a member whose row another session holds, and goes on with the others", async () => {
    await runExpiry(t.database.db, t.clock.now());
    const { tenant, members } = await shop(2);
    t.clock.advance(11 * DAY);
    const [held, free] = members as [string, string];
    const started = Date.now();
    let run: Promise<unknown> | undefined;
    await t.database.db.transaction().execute(async (tx) => {
      // An operator's open session holds the first member's row.
      await sql`select member_id from member_state
        where business_id = ${tenant.businessId} and member_id = ${held} for update`.execute(tx);
      run = runExpiry(t.database.db, t.clock.now(), { businessId: tenant.businessId });
      if (engine === "postgres") {
        await expect(run).rejects.toThrow(
          `Points expiry: 1 of 2 members failed (the others' points expired); the first, member ${held} of business ${tenant.businessId}: canceling statement due to lock timeout`,
        );
      }
    });
    const remaining = async () =>
      Object.fromEntries(
        (
          await t.database.db
            .selectFrom("ledger_lots")
            .select(["member_id", "points_remaining"])
            .where("business_id", "=", tenant.businessId)
            .execute()
        ).map((l) => [l.member_id, l.points_remaining]),
      );
    if (engine === "postgres") {
      expect(Date.now() - started).toBeLessThan(20_000);
      expect(await remaining()).toEqual({ [held]: 10, [free]: 0 });
    } else {
      // PGlite is one connection: the run goes after the transaction, and does both.
      expect(await run).toEqual({ lots: 2, points: 20 });
    }
    // The next run, the row let go, does the member.
    await runExpiry(t.database.db, t.clock.now(), { businessId: tenant.businessId });
    expect(await remaining()).toEqual({ [held]: 0, [free]: 0 });
  });

  it("holds up no other job on the node: each job runs on a chain of its own", async () => {
    const db = t.database.db;
    await runExpiry(db, t.clock.now());
    const { tenant, members } = await shop(1);
    t.clock.advance(11 * DAY);
    await db.deleteFrom("job_leases").execute();
    const errors: unknown[] = [];
    let stop: (() => Promise<void>) | undefined;
    const ran = async (job: string) =>
      (await db.selectFrom("job_leases").select("last_run_at").where("job", "=", job).executeTakeFirst())
        ?.last_run_at != null;
    try {
      await db.transaction().execute(async (tx) => {
        if (engine === "postgres") {
          // The expiry's one member is held: its run waits on the lock.
          await sql`select member_id from member_state
            where business_id = ${tenant.businessId} and member_id = ${members[0] as string} for update`.execute(
            tx,
          );
          stop = startScheduler(t.ctx, 3_600_000, (_, error) => errors.push(error), HOUR);
          await blockedOnALock(db);
          // Meanwhile the other jobs run, well within the expiry's lock timeout.
          for (const job of ["tier-sweep", "birthdays", "answer-retention"]) {
            await expect.poll(() => ran(job), { timeout: 3_000, interval: 50 }).toBe(true);
          }
          expect(await ran("points-expiry")).toBe(false);
        }
      });
      if (!stop) stop = startScheduler(t.ctx, 3_600_000, (_, error) => errors.push(error), HOUR);
    } finally {
      await stop?.();
    }
    // The lock let go, the expiry got its member (or fails to, and the next tick does it).
    if (errors.length > 0) expect(String(errors[0])).toContain("lock");
    else expect(await ran("points-expiry")).toBe(true);
    for (const job of ["tier-sweep", "birthdays", "answer-retention"]) expect(await ran(job)).toBe(true);
  });
});
