import { readFileSync } from "node:fs";
import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import { createContext } from "../src/context.ts";
import { openDatabase, PG_CONNECTION_OPTIONS, preparingPool } from "../src/db/database.ts";
import type { DB } from "../src/db/schema.ts";
import { buildApp } from "../src/http/app.ts";
import { systemClock } from "../src/shared/clock.ts";
import { type Cafe, openingHourInstants, randomPurchase, seededRandom } from "./cafe.ts";
import { type CpuProfileSummary, startCpuProfile, summarizeCpuProfile } from "./cpu-profile.ts";

/**
 * One purchase, statement by statement: purchases are recorded one after the other (no
 * concurrency) through the real HTTP routes (`inject`, so no socket), on a pool whose connections
 * time every statement they send, BEGIN and COMMIT included. Besides wall-clock time, it reads the
 * CPU time the kernel accounts to Node's main thread and to each PostgreSQL backend
 * (/proc/<pid>/schedstat, in nanoseconds), so a purchase's time splits into Node on a core,
 * PostgreSQL on a core, waiting for a core, and the rest (loopback wake-ups, the WAL flush).
 */

export interface StatementTiming {
  sql: string;
  /** Round trip as Node sees it. */
  ms: number;
  /** CPU time of the backend that ran it. */
  pg_cpu_ms: number;
}

export interface StatementStats {
  sql: string;
  per_purchase: number;
  mean_ms: number;
  mean_pg_cpu_ms: number;
  /** Share of all statement time, in %. */
  share_pct: number;
}

export interface PurchaseProfile {
  purchases: number;
  wall_ms_mean: number;
  /** Time with a statement outstanding. */
  db_ms_mean: number;
  /** Time with none: Node working (or waiting for a core). */
  node_ms_mean: number;
  node_cpu_ms_mean: number;
  pg_cpu_ms_mean: number;
  /** Time Node's thread and the backends were ready to run but waited for a core. */
  runqueue_ms_mean: number;
  statements_per_purchase: number;
  by_statement: StatementStats[];
  /** The most common sequence of statements, in order, with its mean times and full text. */
  typical: (StatementTiming & { sql_full: string })[];
  typical_share_pct: number;
  /** Where Node's time went over the same purchases (CPU profile of this thread). */
  node_profile: CpuProfileSummary;
}

const WARMUP_PURCHASES = 30;
const SQL_PREVIEW_CHARS = 110;

/** The statement's text, one line, parameters as `?`, cut short: the key statements are grouped by. */
export function statementKey(sql: string): string {
  const flat = sql.replace(/\s+/g, " ").replace(/\$\d+/g, "?").trim();
  return flat.length > SQL_PREVIEW_CHARS ? `${flat.slice(0, SQL_PREVIEW_CHARS - 1)}…` : flat;
}

/** Time spent reading schedstat files, taken off the purchases' figures afterwards. */
const overhead = { ms: 0 };

/** Time a thread or process has run on a core, and waited for one, in ms (Linux schedstat). */
function schedstat(path: string): { cpu_ms: number; wait_ms: number } {
  const startedAt = performance.now();
  try {
    const [cpu, wait] = readFileSync(path, "utf8").trim().split(" ").map(Number);
    return { cpu_ms: (cpu ?? 0) / 1e6, wait_ms: (wait ?? 0) / 1e6 };
  } catch {
    return { cpu_ms: 0, wait_ms: 0 };
  } finally {
    overhead.ms += performance.now() - startedAt;
  }
}

const NODE_MAIN_THREAD = `/proc/self/task/${process.pid}/schedstat`;

type QueryFn = (...args: any[]) => any;

interface Sink {
  statements: StatementTiming[] | null;
  backends: Set<number>;
}

/**
 * A pool whose clients record each statement into `sink.statements`, when set. A pg client runs
 * one statement at a time and queues the rest in order (a use case may start several with
 * Promise.all), so a queued statement is counted from when the one before it finished: the times
 * of one purchase add up to the time it waited for PostgreSQL, never more.
 */
function timedPool(url: string, sink: Sink): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max: 2, options: PG_CONNECTION_OPTIONS });
  pool.on("connect", (client) => {
    const original = client.query.bind(client) as QueryFn;
    let backend = "";
    // Queued before any other statement of this connection, so it runs first.
    original("select pg_backend_pid() as pid").then((r: { rows: { pid: number }[] }) => {
      const pid = r.rows[0]?.pid ?? 0;
      sink.backends.add(pid);
      backend = `/proc/${pid}/schedstat`;
    });
    let pending = 0;
    let lastEnd = 0;
    let lastCpu = 0;
    const timed: QueryFn = (...args) => {
      const text: string = typeof args[0] === "string" ? args[0] : (args[0]?.text ?? "?");
      const bucket = sink.statements;
      if (pending === 0) {
        lastCpu = bucket ? schedstat(backend).cpu_ms : 0;
        lastEnd = performance.now();
      }
      pending++;
      const result = original(...args);
      if (result && typeof result.then === "function") {
        const done = (failed: boolean) => () => {
          pending--;
          const end = performance.now();
          const cpu = bucket ? schedstat(backend).cpu_ms : 0;
          bucket?.push({
            sql: failed ? `(failed) ${text}` : text,
            ms: end - lastEnd,
            pg_cpu_ms: cpu - lastCpu,
          });
          lastEnd = end;
          lastCpu = cpu;
        };
        result.then(done(false), done(true));
      }
      return result;
    };
    (client as unknown as { query: QueryFn }).query = timed;
  });
  return pool;
}

/**
 * Records `count` purchases for the café's members one by one and reports where their time went.
 *
 * @example const profile = await profilePurchases(url, cafe, cafe.apiKey, 200)
 */
export async function profilePurchases(
  url: string,
  cafe: Cafe,
  token: string,
  count: number,
): Promise<PurchaseProfile> {
  // Opening the database the normal way once installs pg's type parsers for this process.
  await (await openDatabase({ url, poolSize: 1 })).close();
  const sink: Sink = { statements: null, backends: new Set() };
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool: preparingPool(timedPool(url, sink)) }) });
  const ctx = createContext(db, systemClock, { signupsPerHour: 1_000_000, loginsPerMinute: 1_000_000 });
  const app = await buildApp(ctx, { logger: false, rateLimitPerMinute: 1_000_000_000 });
  await app.ready();
  const random = seededRandom(4242);
  const instants = openingHourInstants(random, Date.now(), WARMUP_PURCHASES + 2 * count);
  let next = 0;
  const purchase = async () => {
    const i = next++;
    const res = await app.inject({
      method: "POST",
      url: "/v1/purchases",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      payload: JSON.stringify(randomPurchase(random, cafe.memberIds, `profile-${i}`, instants[i]!)),
    });
    if (res.statusCode !== 201) throw new Error(`profile purchase failed: ${res.statusCode} ${res.body}`);
  };
  const purchases: Measured[] = [];
  let nodeProfile: CpuProfileSummary;
  try {
    for (let i = 0; i < WARMUP_PURCHASES; i++) await purchase();
    // First pass: statements and CPU accounting.
    for (let i = 0; i < count; i++) {
      const statements: StatementTiming[] = [];
      sink.statements = statements;
      const before = waits(sink.backends);
      const nodeBefore = schedstat(NODE_MAIN_THREAD);
      const overheadBefore = overhead.ms;
      const startedAt = performance.now();
      await purchase();
      const measuring = overhead.ms - overheadBefore;
      const wall = performance.now() - startedAt - measuring;
      const nodeAfter = schedstat(NODE_MAIN_THREAD);
      const after = waits(sink.backends);
      sink.statements = null;
      purchases.push({
        wall_ms: wall,
        node_cpu_ms: nodeAfter.cpu_ms - nodeBefore.cpu_ms - measuring,
        runqueue_ms: nodeAfter.wait_ms - nodeBefore.wait_ms + after - before,
        statements,
      });
    }
    // Second pass: a CPU profile, without the first pass's /proc reads in it.
    const stopProfile = await startCpuProfile();
    for (let i = 0; i < count; i++) await purchase();
    nodeProfile = summarizeCpuProfile(await stopProfile(), count);
  } finally {
    await app.close();
    await db.destroy();
  }
  return { ...analyse(purchases), node_profile: nodeProfile };
}

interface Measured {
  wall_ms: number;
  node_cpu_ms: number;
  runqueue_ms: number;
  statements: StatementTiming[];
}

/** Run-queue waits of the backends so far, in ms. */
function waits(backends: Set<number>): number {
  let sum = 0;
  for (const pid of backends) sum += schedstat(`/proc/${pid}/schedstat`).wait_ms;
  return sum;
}

function analyse(purchases: Measured[]): Omit<PurchaseProfile, "node_profile"> {
  const n = purchases.length;
  const mean = (values: number[]) => values.reduce((s, v) => s + v, 0) / Math.max(1, values.length);
  const dbMs = purchases.map((p) => p.statements.reduce((s, t) => s + t.ms, 0));
  const groups = new Map<string, StatementTiming[]>();
  for (const p of purchases) {
    for (const t of p.statements) {
      const key = statementKey(t.sql);
      groups.set(key, [...(groups.get(key) ?? []), t]);
    }
  }
  const totalDb = dbMs.reduce((s, v) => s + v, 0);
  const byStatement = [...groups.entries()]
    .map(([sql, runs]) => ({
      sql,
      per_purchase: runs.length / n,
      mean_ms: mean(runs.map((r) => r.ms)),
      mean_pg_cpu_ms: mean(runs.map((r) => r.pg_cpu_ms)),
      share_pct: (100 * runs.reduce((s, r) => s + r.ms, 0)) / totalDb,
    }))
    .sort((a, b) => b.share_pct - a.share_pct);

  // The typical purchase: the sequence of statements most purchases ran.
  const sequences = new Map<string, Measured[]>();
  for (const p of purchases) {
    const key = p.statements.map((t) => statementKey(t.sql)).join("\n");
    sequences.set(key, [...(sequences.get(key) ?? []), p]);
  }
  const [, mostCommon] = [...sequences.entries()].sort((a, b) => b[1].length - a[1].length)[0] ?? ["", []];
  const typical = (mostCommon[0]?.statements ?? []).map((t, i) => ({
    sql: statementKey(t.sql),
    sql_full: t.sql.replace(/\s+/g, " ").trim(),
    ms: mean(mostCommon.map((p) => p.statements[i]?.ms ?? 0)),
    pg_cpu_ms: mean(mostCommon.map((p) => p.statements[i]?.pg_cpu_ms ?? 0)),
  }));
  return {
    purchases: n,
    wall_ms_mean: mean(purchases.map((p) => p.wall_ms)),
    db_ms_mean: mean(dbMs),
    node_ms_mean: mean(purchases.map((p, i) => p.wall_ms - dbMs[i]!)),
    node_cpu_ms_mean: mean(purchases.map((p) => p.node_cpu_ms)),
    pg_cpu_ms_mean: mean(purchases.map((p) => p.statements.reduce((s, t) => s + t.pg_cpu_ms, 0))),
    runqueue_ms_mean: mean(purchases.map((p) => p.runqueue_ms)),
    statements_per_purchase: mean(purchases.map((p) => p.statements.length)),
    by_statement: byStatement,
    typical,
    typical_share_pct: (100 * mostCommon.length) / Math.max(1, n),
  };
}
