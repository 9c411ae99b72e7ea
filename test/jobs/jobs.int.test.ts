import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { LEASE_MS, runJob, runTierSweep, withLease } from "../../src/jobs/index.ts";
import { startTestApp, type TestApp } from "../helpers/api.ts";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ now: "2026-06-01T10:00:00Z" });
});
afterAll(async () => t?.close());

describe("scheduled jobs", () => {
  it("end a tier when its retention runs out, not before, and record why", async () => {
    const owner = await t.signup();
    const key = (await owner.call("POST", "/v1/api-keys", { name: "POS", role: "manager" })).body.key;
    const tenant = owner.as(key);
    await tenant.call("POST", "/v1/tiers", { name: "Silver", rank: 1, threshold: 0 });
    await tenant.call("POST", "/v1/tiers", { name: "Gold", rank: 2, threshold: 50_000 });
    const member = (await tenant.call("POST", "/v1/members", { marketing_consent: false })).body;
    const p = await tenant.call("POST", "/v1/purchases", {
      external_id: "big",
      member_id: member.id,
      amount_minor: 60_000,
      currency: "EUR",
    });
    expect(p.body.member.tier.current.name).toBe("Gold");
    expect(p.body.member.tier.expires_at).toBe("2027-12-31T23:00:00.000Z");

    t.clock.set(new Date("2027-12-31T22:59:59Z"));
    expect(await runTierSweep(t.ctx, t.clock.now())).toEqual({ members: 0, changed: 0 });
    t.clock.set(new Date("2027-12-31T23:00:00Z"));
    expect(await runTierSweep(t.ctx, t.clock.now())).toEqual({ members: 1, changed: 1 });
    const card = await tenant.call("GET", `/v1/members/${member.id}/card`);
    expect(card.body.tier.current.name).toBe("Silver");
    const changes = await t.database.db
      .selectFrom("tier_changes")
      .select("reason")
      .where("business_id", "=", tenant.businessId)
      .where("member_id", "=", member.id)
      .orderBy("created_at")
      .execute();
    // The purchase records Silver, which the member held before it (threshold 0), then Gold, in
    // one transaction (one time); the sweep ends Gold.
    const reasons = changes.map((c) => c.reason);
    expect([reasons.slice(0, 2).sort(), reasons.slice(2)]).toEqual([
      ["Reached Gold with 60000 spend", "Reached Silver with 0 spend"],
      ["Gold ended; 0 spend in the current period"],
    ]);
    // Silver at threshold 0 is kept with a new retention date, so the sweep has nothing left.
    expect(await runTierSweep(t.ctx, t.clock.now())).toEqual({ members: 0, changed: 0 });
  });

  it("end a rolling tier at the instant its purchase leaves the window, whatever second the sweep runs", async () => {
    t.clock.set(new Date("2026-06-01T10:00:00Z"));
    const owner = await t.signup({ timezone: "UTC" });
    const key = (await owner.call("POST", "/v1/api-keys", { name: "POS", role: "manager" })).body.key;
    const tenant = owner.as(key);
    const program = (await tenant.call("GET", "/v1/program")).body.config;
    const tiers = { metric: "spend", period: "rolling_12_months" };
    expect((await tenant.call("PUT", "/v1/program", { ...program, tiers })).status).toBe(200);
    await tenant.call("POST", "/v1/tiers", { name: "Gold", rank: 1, threshold: 50_000 });
    const buy = async (at: string, amount: number) => {
      t.clock.set(new Date(at));
      const member = (await tenant.call("POST", "/v1/members", { marketing_consent: false })).body
        .id as string;
      const res = await tenant.call("POST", "/v1/purchases", {
        external_id: `roll-${at}`,
        member_id: member,
        amount_minor: amount,
        currency: "EUR",
      });
      return { member, res };
    };
    const early = await buy("2026-06-01T10:00:30Z", 60_000);
    const late = await buy("2026-06-01T10:01:30Z", 60_000);
    expect(early.res.body.member.tier.expires_at).toBe("2027-06-01T10:00:30.000Z");
    const tierOf = async (member: string) =>
      (
        await t.database.db
          .selectFrom("members")
          .select(["tier_id", "tier_expires_at"])
          .where("business_id", "=", tenant.businessId)
          .where("id", "=", member)
          .executeTakeFirstOrThrow()
      ).tier_id;
    // Sweeps 15 seconds and a few minutes after each end: both lose Gold, neither gets a year more.
    t.clock.set(new Date("2027-06-01T10:00:45Z"));
    expect(await runTierSweep(t.ctx, t.clock.now())).toMatchObject({ members: 1, changed: 1 });
    t.clock.set(new Date("2027-06-01T10:05:45Z"));
    expect(await runTierSweep(t.ctx, t.clock.now())).toMatchObject({ members: 1, changed: 1 });
    expect([await tierOf(early.member), await tierOf(late.member)]).toEqual([null, null]);
    // A purchase twelve months and 20 seconds old no longer counts toward reaching the tier.
    const half = await buy("2026-06-02T10:00:30Z", 30_000);
    t.clock.set(new Date("2027-06-02T10:00:50Z"));
    const again = await tenant.call("POST", "/v1/purchases", {
      external_id: "roll-again",
      member_id: half.member,
      amount_minor: 30_000,
      currency: "EUR",
    });
    expect(again.body.member.tier).toMatchObject({ current: null, metric_value: 30_000 });
  });

  it("run a job on one node at a time, and take over a lease that timed out", async () => {
    const db = t.database.db;
    await db.deleteFrom("job_leases").where("job", "in", ["points-expiry", "tier-sweep"]).execute();
    await db
      .insertInto("job_leases")
      .values({
        job: "points-expiry",
        holder: "node-x",
        locked_until: sql<Date>`now() + interval '1 minute'`,
        last_run_at: null,
        last_result: null,
      })
      .execute();
    expect(await runJob(t.ctx, "points-expiry", "node-a")).toBeNull();
    // A minute on (the database's minute): node X's lease has run out.
    await db
      .updateTable("job_leases")
      .set({ locked_until: sql<Date>`now() - interval '1 millisecond'` })
      .where("job", "=", "points-expiry")
      .execute();
    expect(await runJob(t.ctx, "points-expiry", "node-a")).toEqual({ lots: 0, points: 0 });
    const lease = await db
      .selectFrom("job_leases")
      .selectAll()
      .where("job", "=", "points-expiry")
      .executeTakeFirstOrThrow();
    expect(lease).toMatchObject({
      holder: "node-a",
      locked_until: null,
      last_result: { lots: 0, points: 0 },
      consecutive_failures: 0,
    });
    const both = await Promise.all([
      runJob(t.ctx, "tier-sweep", "node-b"),
      runJob(t.ctx, "tier-sweep", "node-c"),
    ]);
    expect(both.filter((r) => r !== null)).toEqual([{ members: 0, changed: 0 }]);
  });

  it("run a job once per interval across the nodes, not once per node", async () => {
    const db = t.database.db;
    await db.deleteFrom("job_leases").where("job", "=", "tier-sweep").execute();
    const every = { answerRetentionDays: 30, intervalMs: 300_000 };
    expect(await runJob(t.ctx, "tier-sweep", "node-a", every)).toEqual({ members: 0, changed: 0 });
    // Another node's tick a moment later finds the job done for this interval.
    expect(await runJob(t.ctx, "tier-sweep", "node-b", every)).toBeNull();
    // An interval later (less the tenth a tick may come early), it is due again.
    const ranBefore = async (ms: number) =>
      db
        .updateTable("job_leases")
        .set({ last_run_at: sql<Date>`now() - ${ms}::double precision * interval '1 millisecond'` })
        .where("job", "=", "tier-sweep")
        .execute();
    await ranBefore(260_000);
    expect(await runJob(t.ctx, "tier-sweep", "node-b", every)).toBeNull();
    await ranBefore(271_000);
    expect(await runJob(t.ctx, "tier-sweep", "node-b", every)).toEqual({ members: 0, changed: 0 });
    expect(await runJob(t.ctx, "tier-sweep", "node-a", every)).toBeNull();
  });
});

describe("the job lease", () => {
  const leaseOf = (job: string) =>
    t.database.db
      .selectFrom("job_leases")
      .select(["holder", "locked_until"])
      .where("job", "=", job)
      .executeTakeFirstOrThrow();
  const dbNow = async () =>
    (await sql<{ now: Date }>`select now() as now`.execute(t.database.db)).rows[0]?.now as Date;
  /** The lease of `job` ran out a moment ago, as if its time had passed. */
  const runOut = (job: string) =>
    t.database.db
      .updateTable("job_leases")
      .set({ locked_until: sql<Date>`now() - interval '1 millisecond'` })
      .where("job", "=", job)
      .execute();
  const newJob = () => `lease-test-${Math.random().toString(36).slice(2, 8)}`;

  it("takes its times from the database, not from the node's clock", async () => {
    const job = newJob();
    // A node whose clock is years ahead (the test's clock stands in 2040).
    t.clock.set(new Date("2040-01-01T00:00:00Z"));
    const before = await dbNow();
    const seen = await withLease(t.ctx, job, "node-a", async (now) => {
      const until = (await leaseOf(job)).locked_until as Date;
      // The run itself is told the app's clock.
      return { now, until };
    });
    const after = await dbNow();
    expect(seen?.now.toISOString()).toBe("2040-01-01T00:00:00.000Z");
    expect(seen?.until.getTime()).toBeGreaterThanOrEqual(before.getTime() + LEASE_MS);
    expect(seen?.until.getTime()).toBeLessThanOrEqual(after.getTime() + LEASE_MS);
    const row = await t.database.db
      .selectFrom("job_leases")
      .select("last_run_at")
      .where("job", "=", job)
      .executeTakeFirstOrThrow();
    expect(row.last_run_at?.getTime()).toBeGreaterThanOrEqual(before.getTime());
    expect(row.last_run_at?.getTime()).toBeLessThanOrEqual(after.getTime());
    // Node X holds it for another minute of the database's time: the fast clock does not take it.
    await t.database.db
      .updateTable("job_leases")
      .set({ holder: "node-x", locked_until: sql<Date>`now() + interval '1 minute'` })
      .where("job", "=", job)
      .execute();
    expect(await withLease(t.ctx, job, "node-a", async () => "a ran")).toBeNull();
  });

  it("is renewed while the run makes progress, so no other node takes the job however long it runs", async () => {
    const job = newJob();
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
    try {
      const stalls: number[] = [];
      const result = await withLease(
        t.ctx,
        job,
        "node-a",
        async (_now, run) => {
          const first = (await leaseOf(job)).locked_until as Date;
          // A statement of the run comes back: the heartbeat renews the lease from then.
          await sql`select 1`.execute(run.ctx.db);
          await new Promise((resolve) => setTimeout(resolve, 20));
          vi.advanceTimersByTime(LEASE_MS / 3);
          await expect
            .poll(async () => ((await leaseOf(job)).locked_until as Date).getTime())
            .toBeGreaterThan(first.getTime());
          // Another node finds the job taken.
          expect(await withLease(t.ctx, job, "node-b", async () => "b ran")).toBeNull();
          return "a ran";
        },
        { events: { stalled: (idle) => stalls.push(idle) } },
      );
      expect(result).toBe("a ran");
      expect(stalls).toEqual([]);
      expect(await leaseOf(job)).toEqual({ holder: "node-a", locked_until: null });
      expect(await withLease(t.ctx, job, "node-b", async () => "b ran")).toBe("b ran");
    } finally {
      vi.useRealTimers();
    }
  });

  it("is left to lapse, with a warning, while the run makes no progress; a run that lost it is told to stop", async () => {
    const job = newJob();
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
    try {
      const stalls: number[] = [];
      let takenOver: unknown;
      const result = await withLease(
        t.ctx,
        job,
        "node-a",
        async (_now, run) => {
          const first = (await leaseOf(job)).locked_until as Date;
          // Two heartbeats with no statement of the run done (it waits on a lock, or on a dead
          // connection): the lease is not renewed, and each heartbeat says so.
          vi.advanceTimersByTime(LEASE_MS / 3);
          vi.advanceTimersByTime(LEASE_MS / 3);
          await new Promise((resolve) => setTimeout(resolve, 50));
          expect((await leaseOf(job)).locked_until).toEqual(first);
          expect(stalls).toHaveLength(2);
          expect(run.stop()).toBe(false);
          // The lease runs out and node B takes the job.
          await runOut(job);
          takenOver = await withLease(t.ctx, job, "node-b", async () => {
            // A's run moves again; at its next heartbeat it finds the lease gone, and is told to stop.
            await sql`select 1`.execute(run.ctx.db);
            vi.advanceTimersByTime(LEASE_MS / 3);
            await expect.poll(() => run.stop()).toBe(true);
            return "b ran";
          });
          return "a ran";
        },
        { events: { stalled: (idle) => stalls.push(idle) } },
      );
      expect([result, takenOver]).toEqual(["a ran", "b ran"]);
      // A's release after B's changed nothing: B's run is what the lease last recorded.
      const row = await t.database.db
        .selectFrom("job_leases")
        .select(["holder", "locked_until", "last_result"])
        .where("job", "=", job)
        .executeTakeFirstOrThrow();
      expect(row).toEqual({ holder: "node-b", locked_until: null, last_result: "b ran" });
    } finally {
      vi.useRealTimers();
    }
  });

  it("is taken over once a dead node's lease runs out, and the dead node's late heartbeat and release change nothing", async () => {
    const job = newJob();
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
    try {
      let takenOver: unknown;
      await withLease(t.ctx, job, "node-a", async (_now, run) => {
        // Node A hangs past its lease: B takes over.
        await sql`select 1`.execute(run.ctx.db);
        vi.advanceTimersByTime(100);
        await runOut(job);
        takenOver = await withLease(t.ctx, job, "node-b", async () => {
          const bHolds = (await leaseOf(job)).locked_until;
          // A's heartbeat fires (B's is due 100 ms later): it must not extend B's lease.
          vi.advanceTimersByTime(LEASE_MS / 3 - 100);
          await new Promise((resolve) => setTimeout(resolve, 50));
          expect(await leaseOf(job)).toEqual({ holder: "node-b", locked_until: bHolds });
          return "b ran";
        });
        return "a ran";
      });
      expect(takenOver).toBe("b ran");
      const row = await t.database.db
        .selectFrom("job_leases")
        .select(["holder", "locked_until", "last_result"])
        .where("job", "=", job)
        .executeTakeFirstOrThrow();
      expect(row).toEqual({ holder: "node-b", locked_until: null, last_result: "b ran" });
    } finally {
      vi.useRealTimers();
    }
  });
});
