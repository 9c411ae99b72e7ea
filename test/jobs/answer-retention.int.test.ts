import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runJob, startScheduler, withLease } from "../../src/jobs/index.ts";
import { pruneAnswers } from "../../src/modules/idempotency/index.ts";
import { startTestApp, type Tenant, type TestApp } from "../helpers/api.ts";

const DAY = 86_400_000;

/** The database's clock, which the job leases keep their times by. */
async function dbNow(): Promise<Date> {
  return (await sql<{ now: Date }>`select now() as now`.execute(t.database.db)).rows[0]?.now as Date;
}

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ now: "2026-06-01T10:00:00Z" });
});
afterAll(async () => t?.close());

let seq = 0;

/** A business called through a manager's API key: the owner's session would expire over the weeks. */
async function shop(): Promise<{ tenant: Tenant; memberId: string }> {
  const owner = await t.signup();
  const key = await owner.call("POST", "/v1/api-keys", { name: "POS", role: "manager" });
  expect(key.status).toBe(201);
  const tenant = owner.as(key.body.key);
  const member = await tenant.call("POST", "/v1/members", { marketing_consent: false });
  expect(member.status).toBe(201);
  return { tenant, memberId: member.body.id };
}

function buy(tenant: Tenant, memberId: string, externalId: string, amount = 1_000) {
  return tenant.call("POST", "/v1/purchases", {
    external_id: externalId,
    member_id: memberId,
    amount_minor: amount,
    currency: "EUR",
  });
}

/** The stored answers of a business, by key: null once let go. */
async function answers(businessId: string): Promise<Record<string, string | null>> {
  const rows = await t.database.db
    .selectFrom("idempotency_keys")
    .select(["key", "response"])
    .where("business_id", "=", businessId)
    .execute();
  return Object.fromEntries(rows.map((r) => [r.key, r.response]));
}

async function pointsOf(tenant: Tenant, memberId: string): Promise<number> {
  const card = await tenant.call("GET", `/v1/members/${memberId}/card`);
  return card.body.points.available + card.body.points.pending;
}

describe("answer retention", () => {
  it("lets go of the answers older than the retention, in every business, keeping every key", async () => {
    const a = await shop();
    const b = await shop();
    const oldA = `old-a-${++seq}`;
    const oldB = `old-b-${seq}`;
    expect((await buy(a.tenant, a.memberId, oldA)).status).toBe(201);
    expect((await buy(b.tenant, b.memberId, oldB)).status).toBe(201);
    t.clock.advance(20 * DAY);
    const newA = `new-a-${seq}`;
    expect((await buy(a.tenant, a.memberId, newA)).status).toBe(201);
    t.clock.advance(10 * DAY + 1);

    // One key per statement: the walk through each business's keys in batches is exercised.
    const first = await pruneAnswers(t.database.db, t.clock.now(), 30, 1);
    expect(first.answers).toBe(2);
    expect(first.businesses).toBeGreaterThanOrEqual(2);
    const keptA = await answers(a.tenant.businessId);
    expect(Object.keys(keptA).sort()).toEqual([`purchase:${newA}`, `purchase:${oldA}`]);
    expect(keptA[`purchase:${oldA}`]).toBeNull();
    expect(JSON.parse(keptA[`purchase:${newA}`] ?? "null").purchase.external_id).toBe(newA);
    expect(await answers(b.tenant.businessId)).toEqual({ [`purchase:${oldB}`]: null });

    // Running it again changes nothing.
    expect((await pruneAnswers(t.database.db, t.clock.now(), 30)).answers).toBe(0);
    expect((await answers(a.tenant.businessId))[`purchase:${newA}`]).not.toBeNull();
  });

  it("refuses a purchase sent again after its answer was let go with 410, and counts it once", async () => {
    const { tenant, memberId } = await shop();
    const id = `late-${++seq}`;
    const first = await buy(tenant, memberId, id, 2_500);
    expect(first.status).toBe(201);
    const points = await pointsOf(tenant, memberId);
    expect(points).toBeGreaterThan(0);
    const doneAt = t.clock.now().toISOString();

    t.clock.advance(29 * DAY);
    await pruneAnswers(t.database.db, t.clock.now(), 30);
    const soon = await buy(tenant, memberId, id, 2_500);
    expect([soon.status, soon.headers["idempotent-replayed"]]).toEqual([200, "true"]);
    expect(soon.text).toBe(first.text);

    t.clock.advance(DAY + 1);
    expect((await pruneAnswers(t.database.db, t.clock.now(), 30)).answers).toBeGreaterThanOrEqual(1);
    const late = await buy(tenant, memberId, id, 2_500);
    expect(late.status).toBe(410);
    expect(late.body.error).toMatchObject({
      code: "idempotency_answer_expired",
      details: { external_id: id, done_at: doneAt },
    });
    expect(late.body.error.message).toContain("was not done again");
    // The same id with another purchase is still a different request.
    const other = await buy(tenant, memberId, id, 9_900);
    expect([other.status, other.body.error.code]).toEqual([409, "idempotency_key_reused"]);
    expect(await pointsOf(tenant, memberId)).toBe(points);
    const purchases = await tenant.call("GET", `/v1/purchases?member_id=${memberId}`);
    expect(purchases.body.data.map((p: { external_id: string }) => p.external_id)).toEqual([id]);
  });

  it("refuses a write under an Idempotency-Key the same way once its answer is gone", async () => {
    const { tenant, memberId } = await shop();
    const key = `adjust-${++seq}`;
    const body = { points: 40, reason: "Machine broke" };
    const headers = { "idempotency-key": key };
    const first = await tenant.call("POST", `/v1/members/${memberId}/adjustments`, body, headers);
    expect(first.status).toBe(201);
    t.clock.advance(31 * DAY);
    await pruneAnswers(t.database.db, t.clock.now(), 30);
    const again = await tenant.call("POST", `/v1/members/${memberId}/adjustments`, body, headers);
    expect([again.status, again.body.error.code]).toEqual([410, "idempotency_answer_expired"]);
    expect(await pointsOf(tenant, memberId)).toBe(40);
  });

  it("runs as a job under its lease, and the schedule runs it once a day, or never with 0 days", async () => {
    const db = t.database.db;
    const { tenant, memberId } = await shop();
    expect((await buy(tenant, memberId, `job-${++seq}`)).status).toBe(201);
    t.clock.advance(2 * DAY);
    await db.deleteFrom("job_leases").where("job", "=", "answer-retention").execute();

    // Kept for good: the schedule never runs it.
    const off = startScheduler(t.ctx, 3_600_000, () => {}, { answerRetentionDays: 0 });
    await off();
    expect(
      await db.selectFrom("job_leases").select("job").where("job", "=", "answer-retention").execute(),
    ).toEqual([]);

    const errors: unknown[] = [];
    const on = startScheduler(t.ctx, 3_600_000, (_, error) => errors.push(error), { answerRetentionDays: 1 });
    await on();
    expect(errors).toEqual([]);
    const lease = await db
      .selectFrom("job_leases")
      .selectAll()
      .where("job", "=", "answer-retention")
      .executeTakeFirstOrThrow();
    // The lease's times are the database's.
    expect(lease.last_run_at).not.toBeNull();
    expect(Math.abs((lease.last_run_at as Date).getTime() - (await dbNow()).getTime())).toBeLessThan(60_000);
    expect(lease.last_result).toMatchObject({ answers: expect.any(Number) });
    expect((lease.last_result as { answers: number }).answers).toBeGreaterThanOrEqual(1);
    expect(Object.values(await answers(tenant.businessId))).toEqual([null]);

    // Within a day the schedule leaves it alone; a day later it runs again.
    const tickAndRead = async () => {
      await startScheduler(t.ctx, 3_600_000, () => {}, { answerRetentionDays: 1 })();
      const row = await db
        .selectFrom("job_leases")
        .select("last_run_at")
        .where("job", "=", "answer-retention")
        .executeTakeFirstOrThrow();
      return row.last_run_at?.toISOString();
    };
    /** The last run ended `ms` before now, by the database's clock; returns when that is. */
    const ranBefore = async (ms: number) =>
      (
        await db
          .updateTable("job_leases")
          .set({ last_run_at: sql<Date>`now() - ${ms}::double precision * interval '1 millisecond'` })
          .where("job", "=", "answer-retention")
          .returning("last_run_at")
          .executeTakeFirstOrThrow()
      ).last_run_at?.toISOString();
    // A tick may come up to a minute early: a run 23 h 58 min ago leaves it alone.
    const ranAt = await ranBefore(DAY - 120_000);
    expect(await tickAndRead()).toBe(ranAt);
    const longAgo = await ranBefore(DAY - 59_000);
    const again = await tickAndRead();
    expect(again !== undefined && longAgo !== undefined && again > longAgo).toBe(true);

    // Another node holding the lease makes a run skip.
    await ranBefore(DAY + 1);
    await db
      .updateTable("job_leases")
      .set({ holder: "node-x", locked_until: sql<Date>`now() + interval '1 minute'` })
      .where("job", "=", "answer-retention")
      .execute();
    expect(await runJob(t.ctx, "answer-retention", "node-a", { answerRetentionDays: 1 })).toBeNull();
  });

  it("counts only a run that finished as the last run, so a failed one is tried again at the next tick", async () => {
    const db = t.ctx.db;
    const lastRun = async () =>
      (await db
        .selectFrom("job_leases")
        .select(["last_run_at", "locked_until"])
        .where("job", "=", "flaky")
        .executeTakeFirst()) ?? null;
    await expect(
      withLease(t.ctx, "flaky", "node-a", async () => {
        throw new Error("database gone");
      }),
    ).rejects.toThrow("database gone");
    expect(await lastRun()).toEqual({ last_run_at: null, locked_until: null });
    const before = await dbNow();
    expect(await withLease(t.ctx, "flaky", "node-a", async () => ({ ok: 1 }))).toEqual({ ok: 1 });
    expect((await lastRun())?.last_run_at?.getTime()).toBeGreaterThanOrEqual(before.getTime());
  });
});
