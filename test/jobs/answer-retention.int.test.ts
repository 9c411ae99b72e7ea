import {
  type CompiledQuery,
  createQueryId,
  type KyselyPlugin,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  type QueryResult,
  type RootOperationNode,
  sql,
  type UnknownRow,
} from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../../src/db/database.ts";
import { runJob, startScheduler, withLease } from "../../src/jobs/index.ts";
import { PRUNE_MARGIN_MS, pruneAnswers } from "../../src/modules/idempotency/index.ts";
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

/** Where the answers were let go up to (`answer_retention.pruned_before`). */
async function watermark(): Promise<Date | null> {
  const row = await t.database.db.selectFrom("answer_retention").select("pruned_before").executeTakeFirst();
  return row?.pruned_before ?? null;
}

/**
 * Stores `count` keys of `businessId` directly, the first at `from` and the others `stepMs` apart
 * (in time order, as requests append them), each with a 200-byte answer; returns their keys.
 */
async function storeKeys(businessId: string, prefix: string, count: number, from: Date, stepMs: number) {
  await sql`insert into idempotency_keys (business_id, key, operation, request_hash, status_code, response, created_at)
    select ${businessId}::uuid, ${prefix} || '-' || i, 'purchase.record', md5(i::text), 201,
      '{"purchase":"' || repeat('x', 180) || '"}', ${from}::timestamptz + i * ${stepMs}::double precision * interval '1 millisecond'
    from generate_series(0, ${count} - 1) i`.execute(t.database.db);
  return Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
}

/** The keys of a business whose answer was let go. */
async function letGo(businessId: string): Promise<string[]> {
  const rows = await t.database.db
    .selectFrom("idempotency_keys")
    .select("key")
    .where("business_id", "=", businessId)
    .where("response", "is", null)
    .execute();
  return rows.map((r) => r.key).sort();
}

/** Records the statements sent through a database (the run's own, compiled as it sent them). */
class Statements implements KyselyPlugin {
  readonly sent: CompiledQuery[] = [];
  constructor(private readonly db: Db) {}
  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    this.sent.push(this.db.getExecutor().compileQuery(args.node, createQueryId()));
    return args.node;
  }
  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return args.result;
  }
  /** The statements that let answers go, one per batch. */
  batches(): CompiledQuery[] {
    return this.sent.filter((q) => q.sql.includes("update idempotency_keys"));
  }
}

/** A parameter written as a literal, for `execute probe(…)`. */
function literal(value: unknown): string {
  const text = value instanceof Date ? value.toISOString() : String(value);
  return `'${text.replaceAll("'", "''")}'`;
}

interface PlanNode {
  "Node Type": string;
  "Relation Name"?: string;
  "Index Name"?: string;
  "Actual Rows"?: number;
  "Actual Loops"?: number;
  "Rows Removed by Index Recheck"?: number;
  "Rows Removed by Filter"?: number;
  "Exact Heap Blocks"?: number;
  "Lossy Heap Blocks"?: number;
  Plans?: PlanNode[];
}

function* nodes(plan: PlanNode): Generator<PlanNode> {
  yield plan;
  for (const child of plan.Plans ?? []) yield* nodes(child);
}

/**
 * The plans of `statements` as the application runs them: each prepared, with a generic plan
 * (as both engines' connections are set up), under the run's own setting (`enable_seqscan` off),
 * and executed with `analyze` in a transaction that is rolled back.
 */
async function plans(statements: CompiledQuery[], analyze: boolean): Promise<PlanNode[]> {
  const found: PlanNode[] = [];
  await t.database.db
    .transaction()
    .execute(async (tx) => {
      await sql`select set_config('enable_seqscan', 'off', true), set_config('plan_cache_mode', 'force_generic_plan', true)`.execute(
        tx,
      );
      for (const statement of statements) {
        await sql.raw(`prepare retention_probe as ${statement.sql}`).execute(tx);
        const options = analyze ? "analyze, buffers, format json" : "format json";
        const { rows } = await sql
          .raw<{ "QUERY PLAN": unknown }>(
            `explain (${options}) execute retention_probe(${statement.parameters.map(literal).join(", ")})`,
          )
          .execute(tx);
        await sql.raw("deallocate retention_probe").execute(tx);
        const json = rows[0]?.["QUERY PLAN"];
        const parsed = (typeof json === "string" ? JSON.parse(json) : json) as { Plan: PlanNode }[];
        found.push(parsed[0]?.Plan as PlanNode);
      }
      throw new RolledBack();
    })
    .catch((error) => {
      if (!(error instanceof RolledBack)) throw error;
    });
  return found;
}
class RolledBack extends Error {}

/**
 * The nodes of a plan that look for keys of `idempotency_keys`: its scans and the index scans
 * under them, but not the update itself nor its look-ups of the taken keys by primary key.
 */
function keyScans(plan: PlanNode): PlanNode[] {
  return [...nodes(plan)].filter((n) => {
    if (n["Node Type"] === "ModifyTable" || (n["Index Name"] ?? "").endsWith("_pkey")) return false;
    return (
      n["Relation Name"] === "idempotency_keys" || (n["Index Name"] ?? "").startsWith("idempotency_keys")
    );
  });
}

describe("answer retention from a watermark", () => {
  it("finds a span's keys through the BRIN index on both engines, and a second run reads only what is new", async () => {
    const db = t.database.db;
    const { businessId } = await t.signup();
    const start = t.clock.now();
    // 50,000 keys over 100 days, 500 a day.
    await storeKeys(businessId, "bulk", 50_000, start, (100 * DAY) / 50_000);
    t.clock.advance(99 * DAY + 30 * DAY);

    const first = new Statements(db);
    const run1 = await pruneAnswers(db.withPlugin(first), t.clock.now(), 30);
    expect(run1.answers).toBe(49_500);
    expect(run1.more).toBeUndefined();
    expect((await letGo(businessId)).length).toBe(49_500);
    expect(await watermark()).toEqual(new Date(t.clock.now().getTime() - 30 * DAY));
    // The run turns sequential scans off in its transactions, and each batch is bounded.
    expect(first.sent.some((q) => q.sql.includes("'enable_seqscan', 'off'"))).toBe(true);
    expect(first.batches().length).toBeGreaterThanOrEqual(50);

    // The batches' plans read the keys through the BRIN index, never the whole table: before an
    // ANALYZE has seen these keys, and after.
    for (const analyzed of [false, true]) {
      if (analyzed) await sql`analyze idempotency_keys`.execute(db);
      for (const plan of await plans(first.batches(), false)) {
        const scans = keyScans(plan);
        expect(scans.map((n) => n["Node Type"])).toEqual(["Bitmap Heap Scan", "Bitmap Index Scan"]);
        expect(scans[1]?.["Index Name"]).toBe("idempotency_keys_created_brin");
      }
    }

    // A day later, one day of keys is new: the second run reads those pages, not the 49,500 keys
    // the first run passed.
    t.clock.advance(DAY);
    const second = new Statements(db);
    expect((await pruneAnswers(db.withPlugin(second), t.clock.now(), 30)).answers).toBe(500);
    expect((await letGo(businessId)).length).toBe(50_000);
    let examined = 0;
    let blocks = 0;
    for (const plan of await plans(second.batches(), true)) {
      for (const n of keyScans(plan)) {
        expect(n["Node Type"]).not.toBe("Seq Scan");
        if (n["Node Type"] !== "Bitmap Heap Scan") continue;
        examined +=
          (n["Actual Rows"] ?? 0) * (n["Actual Loops"] ?? 1) +
          (n["Rows Removed by Index Recheck"] ?? 0) +
          (n["Rows Removed by Filter"] ?? 0);
        blocks += (n["Exact Heap Blocks"] ?? 0) + (n["Lossy Heap Blocks"] ?? 0);
      }
    }
    const { pages } = (
      await sql<{ pages: number }>`select pg_relation_size('idempotency_keys') / 8192 as pages`.execute(db)
    ).rows[0] as { pages: number };
    // The day's 500 keys and the margin's, and the rest of the page ranges they share.
    expect(examined).toBeGreaterThanOrEqual(500);
    expect(examined).toBeLessThan(5_000);
    expect(blocks).toBeLessThan(pages / 10);
  }, 120_000);

  it("keeps its watermark through a run that stops or fails half-way, and the next run finishes it", async () => {
    const db = t.database.db;
    const { businessId } = await t.signup();
    // Ten keys a minute apart, stored after the watermark, and due a day later.
    await pruneAnswers(db, t.clock.now(), 30);
    const start = new Date(((await watermark()) as Date).getTime() + 60_000);
    const keys = await storeKeys(businessId, "resume", 10, start, 60_000);
    t.clock.advance(DAY);

    const timeOf = (n: number) => start.getTime() + n * 60_000;

    // Stopped after four statements of one key each (some of a run's spans hold no key).
    let asked = 0;
    const stopped = await pruneAnswers(db, t.clock.now(), 30, 1, { stop: () => ++asked > 4 });
    expect(stopped.more).toBe(true);
    const n1 = stopped.answers;
    expect(n1).toBeGreaterThan(0);
    expect(n1).toBeLessThan(keys.length);
    expect(await letGo(businessId)).toEqual(keys.slice(0, n1).sort());
    // Every key before the watermark was let go, and the next key is not before it.
    const afterStop = (await watermark())?.getTime() as number;
    expect(afterStop).toBeGreaterThanOrEqual(timeOf(n1 - 1) - 1);
    expect(afterStop).toBeLessThanOrEqual(timeOf(n1));

    // Failing in the statement after the first that let an answer go: that answer and its
    // watermark stay, the failed statement never ran.
    let letOne = false;
    const failing: KyselyPlugin = {
      transformQuery(args) {
        const text = db.getExecutor().compileQuery(args.node, createQueryId()).sql;
        if (text.includes("update idempotency_keys") && letOne) throw new Error("connection lost");
        return args.node;
      },
      transformResult: async (args) => {
        const row = args.result.rows[0] as { pruned?: number } | undefined;
        if ((row?.pruned ?? 0) > 0) letOne = true;
        return args.result;
      },
    };
    await expect(pruneAnswers(db.withPlugin(failing), t.clock.now(), 30, 1)).rejects.toThrow(
      "connection lost",
    );
    expect(await letGo(businessId)).toEqual(keys.slice(0, n1 + 1).sort());
    const afterFailure = (await watermark())?.getTime() as number;
    expect(afterFailure).toBeGreaterThanOrEqual(timeOf(n1) - 1);
    expect(afterFailure).toBeLessThanOrEqual(timeOf(n1 + 1));

    // The next run lets go of the rest, each answer once.
    expect(await pruneAnswers(db, t.clock.now(), 30, 1)).toMatchObject({ answers: keys.length - n1 - 1 });
    expect(await letGo(businessId)).toEqual([...keys].sort());
    expect(await watermark()).toEqual(new Date(t.clock.now().getTime() - 30 * DAY));
  });

  it("lets go of the answers between the two limits when the retention is lowered, and never moves back", async () => {
    const { businessId } = await t.signup();
    const start = t.clock.now();
    // Four keys, 10 days apart: 35, 25, 15 and 5 days old at the end.
    for (const n of [0, 1, 2, 3])
      await storeKeys(businessId, `age-${35 - n * 10}`, 1, new Date(start.getTime() + n * 10 * DAY), 0);
    t.clock.advance(35 * DAY);
    expect((await pruneAnswers(t.database.db, t.clock.now(), 30)).answers).toBe(1);
    expect(await letGo(businessId)).toEqual(["age-35-0"]);

    expect((await pruneAnswers(t.database.db, t.clock.now(), 10)).answers).toBe(2);
    expect(await letGo(businessId)).toEqual(["age-15-0", "age-25-0", "age-35-0"]);
    const lowered = await watermark();
    expect(lowered).toEqual(new Date(t.clock.now().getTime() - 10 * DAY));

    // Raised again: nothing more is let go, and the watermark stays where the lower one left it.
    expect((await pruneAnswers(t.database.db, t.clock.now(), 30)).answers).toBe(0);
    expect(await watermark()).toEqual(lowered);
    expect(await letGo(businessId)).toEqual(["age-15-0", "age-25-0", "age-35-0"]);
  });

  it("lets go of a key that committed after the run passed its time, within the margin", async () => {
    const { businessId } = await t.signup();
    t.clock.advance(31 * DAY);
    await pruneAnswers(t.database.db, t.clock.now(), 30);
    const mark = (await watermark()) as Date;
    expect(mark).toEqual(new Date(t.clock.now().getTime() - 30 * DAY));
    // Requests that started before the watermark and committed after the run: one within the
    // margin, one older than it.
    await storeKeys(businessId, "late", 1, new Date(mark.getTime() - PRUNE_MARGIN_MS + 60_000), 0);
    await storeKeys(businessId, "too-late", 1, new Date(mark.getTime() - PRUNE_MARGIN_MS - 60_000), 0);
    t.clock.advance(DAY);
    expect((await pruneAnswers(t.database.db, t.clock.now(), 30)).answers).toBe(1);
    // Only a key older than the margin when it commits is left: the margin outlasts any
    // transaction that stores a key.
    expect(await letGo(businessId)).toEqual(["late-0"]);
  });
});
