import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import type { Profiler } from "node:inspector";
import { cpus, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { type EventLoopUtilization, monitorEventLoopDelay, performance } from "node:perf_hooks";
import { sql } from "kysely";
import { createContext } from "../src/context.ts";
import { type Database, migrateToLatest, openDatabase } from "../src/db/database.ts";
import { buildApp } from "../src/http/app.ts";
import { systemClock } from "../src/shared/clock.ts";
import {
  type PurchaseBatchStats,
  purchaseBatchStats,
  SLOW_STATEMENT_MS,
  slowStatementsSince,
} from "../src/use-cases/purchase-fast-path.ts";
import { type Cafe, setUpCafe } from "./cafe.ts";
import { CpuMonitor, type CpuUsage, PAUSE_MS, selfAndAncestors } from "./cpu.ts";
import { type CpuProfileSummary, startCpuProfile, summarizeCpuProfile } from "./cpu-profile.ts";
import { HttpClient } from "./http.ts";
import { runLoad } from "./load.ts";
import { onServer, type PgbenchResult, runPgbench } from "./pgbench.ts";
import { type PurchaseProfile, profilePurchases } from "./profile.ts";
import {
  type LatencySummary,
  mergeEpisodes,
  type Overlap,
  overlap,
  summarizeLatencies,
  table,
} from "./stats.ts";

/**
 * `npm run bench`: how many purchases per second the real server records, and how fast, on a
 * PostgreSQL server and on embedded PGlite, next to the machine's pgbench TPC-B baseline on the
 * same PostgreSQL, run before and after the purchases on PostgreSQL (the ratio takes the mean). The server, the load generator and PostgreSQL share the machine's cores.
 *
 * Settings (environment): BENCH_SECONDS (measured seconds per run, 20), BENCH_WARMUP_SECONDS (3),
 * BENCH_HISTORY_SECONDS (5: purchases before the runs, then ANALYZE; see `giveHistory`),
 * BENCH_PACED_SECONDS (10; 0 skips the paced runs), BENCH_CLIENTS (16), BENCH_POOL_SIZE (4),
 * BENCH_MEMBERS (1000), BENCH_ENGINES ("pgbench,postgres,pglite"), BENCH_AUTH ("api_key", or
 * "session" for the owner's session token), BENCH_PROFILE_PURCHASES (200; 0 skips the statement
 * profile), BENCH_CPU_PROFILE (1: profile the server's CPU during the flat-out PostgreSQL run),
 * BENCH_PAUSE_PROBE (0: no pause probe, so no DAMON figures either, for a run with the least
 * instrumentation), BENCH_DATABASE_URL, BENCH_PG_BIN, BENCH_KEEP_DATABASE (1: leave the
 * PostgreSQL run's database behind, to EXPLAIN its statements). docs/benchmarks.md describes the method and the figures.
 */

const TARGET_RATIO = 0.7;
const TARGET_P99_MS = 25;
const RESULT_FILE = resolve(import.meta.dirname, "../.tmp/bench-purchases.json");

/** A numeric setting from the environment, an integer within [min, max]. */
function setting(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name} must be a whole number from ${min} to ${max}; it is "${raw}".`);
  }
  return value;
}

const config = {
  serverUrl: process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres",
  pgBinDir: process.env.BENCH_PG_BIN ?? "/usr/lib/postgresql/15/bin",
  seconds: setting("BENCH_SECONDS", 20, 1, 600),
  warmupSeconds: setting("BENCH_WARMUP_SECONDS", 3, 0, 60),
  pacedSeconds: setting("BENCH_PACED_SECONDS", 10, 0, 600),
  historySeconds: setting("BENCH_HISTORY_SECONDS", 5, 0, 600),
  clients: setting("BENCH_CLIENTS", 16, 1, 256),
  // Twice the machine's cores: on 2 cores, 4 connections beat 16 by 10-15 % (docs/benchmarks.md).
  poolSize: setting("BENCH_POOL_SIZE", 4, 1, 90),
  members: setting("BENCH_MEMBERS", 1000, 1, 100_000),
  profilePurchases: setting("BENCH_PROFILE_PURCHASES", 200, 0, 10_000),
  engines: new Set((process.env.BENCH_ENGINES ?? "pgbench,postgres,pglite").split(",").map((e) => e.trim())),
  auth: process.env.BENCH_AUTH === "session" ? ("session" as const) : ("api_key" as const),
  cpuProfile: process.env.BENCH_CPU_PROFILE === "1",
  pauseProbe: process.env.BENCH_PAUSE_PROBE !== "0",
};

/** The event-loop delay monitor's timer interval (`monitorEventLoopDelay`). */
const EVENT_LOOP_RESOLUTION_MS = 10;

/** The paced run aims at this share of the flat-out rate. */
const PACED_SHARE = 0.5;
const PG_DATABASE = "regulars_bench";
const PGBENCH_DATABASE = "regulars_bench_pgbench";
const cores = cpus().length;

/** One load run: flat out, or paced at a fixed rate. */
interface LoadMeasurement {
  /** Aimed-at purchases per second when paced. */
  rate_per_s?: number;
  purchases_per_s: number;
  purchases: number;
  warmup_purchases: number;
  latency: LatencySummary;
  errors: number;
  error_samples: string[];
  cpu: CpuUsage;
  /** Share of the window the server's event loop (its one JavaScript thread) was busy. */
  event_loop_utilization: number;
  /**
   * How late the event loop's timers ran in the window: a long synchronous call on the server's
   * thread (a PGlite statement, a flush, a garbage collection) or a wait for a core holds up every
   * request behind it. `monitorEventLoopDelay` records the whole interval between its timer's
   * runs, its resolution included; these figures are the lateness alone (until the night of
   * 2026-11-23 the bench printed them 10 ms too high).
   */
  event_loop_delay: { p99_ms: number; max_ms: number };
  /** The purchase statements run in the window, and the purchases they carried (src/shared/batcher.ts). */
  batches: PurchaseBatchStats;
  /**
   * The kernel's DAMON thread in the window (when it runs): how often and how long it worked, and
   * how the purchases over the p99 target lined up with its work (`overlap`, bench/stats.ts).
   */
  kdamond?: { episodes: number; cpu_ms: number; over_target: Overlap };
  /**
   * How the purchases over the p99 target lined up with the purchase statements that took over
   * `SLOW_STATEMENT_MS` (a wait on a flush, a lock, a pause), and with those or DAMON's work.
   */
  stalls: { slow_statements: Overlap; slow_statements_or_kdamond: Overlap };
  cpu_profile?: CpuProfileSummary;
}

interface EngineResult extends LoadMeasurement {
  engine: "postgres" | "pglite";
  setup_s: number;
  /** The same server at a fraction of the flat-out rate: latency when not saturated. */
  paced?: LoadMeasurement;
  statement_profile?: PurchaseProfile;
}

function urlFor(database: string): string {
  const url = new URL(config.serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

const log = (line = "") => process.stdout.write(`${line}\n`);
const fixed = (value: number, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : "–");

/** Drives the server with the tills and measures the window. */
async function measureLoad(
  origin: string,
  token: string,
  cafe: Cafe,
  run: {
    engine: "postgres" | "pglite";
    pgDatabase?: string;
    seconds: number;
    rate?: number;
    profile: boolean;
  },
): Promise<LoadMeasurement> {
  // Every process of the run outlives its window: the first and last samples are enough, and
  // fewer samples disturb the run less (see SAMPLE_EVERY_MS).
  const monitor = new CpuMonitor({ server: process.pid }, run.pgDatabase, cores, 60_000, config.pauseProbe);
  let cpu: CpuUsage | undefined;
  let cpuStopped: Promise<CpuUsage> | undefined;
  let eluStart: EventLoopUtilization | undefined;
  let batchesStart: PurchaseBatchStats | undefined;
  let batches: PurchaseBatchStats | undefined;
  let windowStartMs = 0;
  let slowStatements: [number, number][] = [];
  let elu = Number.NaN;
  const delay = monitorEventLoopDelay({ resolution: EVENT_LOOP_RESOLUTION_MS });
  let profiling: Promise<() => Promise<Profiler.Profile>> | undefined;
  const result = await runLoad(
    {
      origin,
      token,
      memberIds: cafe.memberIds,
      clients: config.clients,
      warmup_ms: config.warmupSeconds * 1000,
      duration_ms: run.seconds * 1000,
      run_id: `${run.engine}-${run.rate ? "paced" : "flat"}-${Date.now().toString(36)}`,
      seed: (run.engine === "postgres" ? 1 : 2) + (run.rate ? 10 : 0),
      ...(run.rate ? { rate_per_s: run.rate } : {}),
    },
    (edge, clientPid) => {
      if (edge === "start") {
        monitor.name("load generator", clientPid);
        monitor.start();
        eluStart = performance.eventLoopUtilization();
        delay.enable();
        batchesStart = purchaseBatchStats();
        windowStartMs = performance.timeOrigin + performance.now();
        if (run.profile) profiling = startCpuProfile();
      } else {
        cpuStopped = monitor.stop();
        elu = performance.eventLoopUtilization(eluStart).utilization;
        delay.disable();
        const end = purchaseBatchStats();
        slowStatements = slowStatementsSince(windowStartMs);
        const start = batchesStart ?? end;
        batches = {
          reads: end.reads - start.reads,
          readItems: end.readItems - start.readItems,
          slowReads: end.slowReads - start.slowReads,
          writes: end.writes - start.writes,
          writeItems: end.writeItems - start.writeItems,
          slowWrites: end.slowWrites - start.slowWrites,
        };
      }
    },
  );
  if (cpuStopped) cpu = await cpuStopped;
  const stopProfile = profiling ? await profiling : undefined;
  const rawProfile = stopProfile ? await stopProfile() : undefined;
  // The whole profile, for Chrome's DevTools or speedscope: .tmp/bench-server.cpuprofile.
  if (rawProfile) {
    mkdirSync(resolve(RESULT_FILE, ".."), { recursive: true });
    writeFileSync(resolve(RESULT_FILE, "../bench-server.cpuprofile"), JSON.stringify(rawProfile));
  }
  const profile = rawProfile ? summarizeCpuProfile(rawProfile, result.latencies_ms.length) : undefined;
  const { kdamond: damon, ...cpuFigures } = cpu ?? {
    cores,
    machine_busy_pct: Number.NaN,
    parts: {},
    others: [],
    pauses: null,
  };
  return {
    ...(run.rate ? { rate_per_s: run.rate } : {}),
    purchases_per_s: (result.latencies_ms.length / result.measured_ms) * 1000,
    purchases: result.latencies_ms.length,
    warmup_purchases: result.warmup_purchases,
    latency: summarizeLatencies(result.latencies_ms),
    errors: result.errors,
    error_samples: result.error_samples,
    cpu: cpuFigures,
    event_loop_utilization: elu,
    event_loop_delay: {
      p99_ms: Math.max(0, delay.percentile(99) / 1e6 - EVENT_LOOP_RESOLUTION_MS),
      max_ms: Math.max(0, delay.max / 1e6 - EVENT_LOOP_RESOLUTION_MS),
    },
    batches: batches ?? { reads: 0, readItems: 0, slowReads: 0, writes: 0, writeItems: 0, slowWrites: 0 },
    stalls: {
      slow_statements: overlap(
        result.started_at_ms,
        result.latencies_ms,
        mergeEpisodes(slowStatements),
        TARGET_P99_MS,
      ),
      slow_statements_or_kdamond: overlap(
        result.started_at_ms,
        result.latencies_ms,
        mergeEpisodes([...slowStatements, ...(damon?.episodes ?? [])]),
        TARGET_P99_MS,
      ),
    },
    ...(damon
      ? {
          kdamond: {
            episodes: damon.episodes.length,
            cpu_ms: damon.cpu_ms,
            over_target: overlap(result.started_at_ms, result.latencies_ms, damon.episodes, TARGET_P99_MS),
          },
        }
      : {}),
    ...(profile ? { cpu_profile: profile } : {}),
  };
}

/**
 * Starts the server on `database`, sets the café up, drives the load flat out and then paced at
 * half the rate it reached, and measures both.
 */
async function benchEngine(
  engine: "postgres" | "pglite",
  database: Database,
  pgDatabase: string | undefined,
  afterLoad?: (cafe: Cafe, token: string) => Promise<Partial<EngineResult>>,
): Promise<EngineResult> {
  const ctx = createContext(database.db, systemClock, {
    signupsPerHour: 1_000_000,
    loginsPerMinute: 1_000_000,
  });
  let app: Awaited<ReturnType<typeof buildApp>> | undefined;
  try {
    await migrateToLatest(database.db);
    app = await buildApp(ctx, { logger: false, rateLimitPerMinute: 1_000_000_000 });
    const origin = await app.listen({ host: "127.0.0.1", port: 0 });
    const setupStart = performance.now();
    const setupApi = new HttpClient(origin, 16);
    const cafe = await setUpCafe(setupApi, config.members);
    setupApi.close();
    const setupSeconds = (performance.now() - setupStart) / 1000;
    const token = config.auth === "session" ? cafe.ownerToken : cafe.apiKey;
    const history = await giveHistory(origin, token, cafe, engine, database);
    log(
      `  set up the café and ${config.members} members in ${fixed(setupSeconds)} s, then ${history.purchases} purchases of history and ANALYZE in ${fixed(history.seconds)} s; running the load…`,
    );
    const common = { engine, ...(pgDatabase ? { pgDatabase } : {}) };
    await fromCheckpoint(engine, database);
    const flat = await measureLoad(origin, token, cafe, {
      ...common,
      seconds: config.seconds,
      profile: config.cpuProfile && engine === "postgres",
    });
    printLoad(flat);
    let paced: LoadMeasurement | undefined;
    if (config.pacedSeconds > 0 && flat.purchases_per_s > 0) {
      const rate = Math.max(1, Math.round(flat.purchases_per_s * PACED_SHARE));
      log(`  paced at ${rate} purchases/s (${PACED_SHARE * 100} % of that), ${config.pacedSeconds} s…`);
      await fromCheckpoint(engine, database);
      paced = await measureLoad(origin, token, cafe, {
        ...common,
        seconds: config.pacedSeconds,
        rate,
        profile: false,
      });
      printLoad(paced);
    }
    const extra = afterLoad ? await afterLoad(cafe, token) : {};
    return { engine, setup_s: setupSeconds, ...flat, ...(paced ? { paced } : {}), ...extra };
  } finally {
    await app?.close();
    await database.close();
  }
}

/**
 * Starts a measured run on the PostgreSQL server from a fresh checkpoint, as pgbench's run does
 * too. A purchase writes about 6 kB of WAL, so with the server's default `max_wal_size` a
 * checkpoint starts every minute or so of load; after one, the first change of every page writes
 * the whole page to the WAL. Where a checkpoint fell decided a run's result by up to a third
 * (docs/benchmarks.md). PGlite has no such WAL traffic to time.
 */
async function fromCheckpoint(engine: "postgres" | "pglite", database: Database): Promise<void> {
  if (engine === "postgres") await sql`checkpoint`.execute(database.db);
}

/**
 * A café that has been trading: purchases flat out for BENCH_HISTORY_SECONDS, then ANALYZE,
 * as autovacuum (PostgreSQL) or the server's upkeep (PGlite, src/db/upkeep.ts) would have run it
 * by then. Without it the planner has no statistics for the tables the setup just filled, and the
 * plans it picks for them are not the ones a database in use runs (docs/benchmarks.md).
 */
async function giveHistory(
  origin: string,
  token: string,
  cafe: Cafe,
  engine: "postgres" | "pglite",
  database: Database,
): Promise<{ purchases: number; seconds: number }> {
  const start = performance.now();
  let purchases = 0;
  if (config.historySeconds > 0) {
    const result = await runLoad(
      {
        origin,
        token,
        memberIds: cafe.memberIds,
        clients: config.clients,
        warmup_ms: 0,
        duration_ms: config.historySeconds * 1000,
        run_id: `${engine}-history-${Date.now().toString(36)}`,
        seed: engine === "postgres" ? 21 : 22,
      },
      () => {},
    );
    purchases = result.latencies_ms.length + result.warmup_purchases;
  }
  await sql`analyze`.execute(database.db);
  return { purchases, seconds: (performance.now() - start) / 1000 };
}

async function benchPostgres(): Promise<EngineResult> {
  await onServer(config.serverUrl, `drop database if exists ${PG_DATABASE} with (force)`);
  await onServer(config.serverUrl, `create database ${PG_DATABASE}`);
  try {
    const database = await openDatabase({ url: urlFor(PG_DATABASE), poolSize: config.poolSize });
    return await benchEngine("postgres", database, PG_DATABASE, async (cafe, token) => {
      if (config.profilePurchases === 0) return {};
      log(`  profiling ${config.profilePurchases} purchases one by one, statement by statement…`);
      const profile = await profilePurchases(urlFor(PG_DATABASE), cafe, token, config.profilePurchases);
      return { statement_profile: profile };
    });
  } finally {
    if (!process.env.BENCH_KEEP_DATABASE) {
      await onServer(config.serverUrl, `drop database if exists ${PG_DATABASE} with (force)`);
    }
  }
}

async function benchPglite(): Promise<EngineResult> {
  const dataDir = mkdtempSync(join(tmpdir(), "regulars-bench-pglite-"));
  try {
    return await benchEngine("pglite", await openDatabase({ dataDir }), undefined);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The commit the bench ran on, and whether src/ had changes not yet committed. */
function codeVersion(): string {
  try {
    const git = (...args: string[]) =>
      execFileSync("git", args, { cwd: resolve(import.meta.dirname, ".."), encoding: "utf8" }).trim();
    const dirty = git("status", "--porcelain", "--", "src").length > 0;
    return `${git("rev-parse", "--short", "HEAD")}${dirty ? " with uncommitted changes in src/" : ""}`;
  } catch {
    return "unknown (no git)";
  }
}

async function serverVersion(): Promise<string> {
  const database = await openDatabase({ url: config.serverUrl, poolSize: 1 });
  try {
    const { rows } = await sql<{ server_version: string }>`show server_version`.execute(database.db);
    return rows[0]?.server_version ?? "?";
  } finally {
    await database.close();
  }
}

/** CPU parts that do the work being measured, for the "CPU per operation" line. */
const WORKERS = ["server", "postgres backends", "pgbench", "load generator"];

function printCpu(cpu: CpuUsage, perSecond: number, unit: string): void {
  const parts = Object.entries(cpu.parts)
    .filter(([, pct]) => pct >= 0.5)
    .sort((a, b) => b[1] - a[1])
    .map(([name, pct]) => `${name} ${fixed(pct, 0)} %`)
    .join(", ");
  const others = cpu.others.map((o) => `${o.command} ${fixed(o.pct, 0)} %`).join(", ");
  log(
    `  CPU (100 % = one core; ${cores} cores): machine ${fixed(cpu.machine_busy_pct, 0)} % busy: ${parts}${others ? ` (${others})` : ""}`,
  );
  // % of a core ÷ operations per second = ms of a core per operation.
  const per = WORKERS.filter((w) => cpu.parts[w] !== undefined)
    .map((w) => `${w} ${fixed((10 * (cpu.parts[w] ?? 0)) / perSecond, 2)} ms`)
    .join(", ");
  log(`  CPU per ${unit}: ${per}`);
  if (!cpu.pauses) return;
  const { count, max_ms, total_ms } = cpu.pauses;
  log(
    `  The bench's process was held up ${count} times for over ${PAUSE_MS} ms${count > 0 ? ` (longest ${fixed(max_ms, 1)} ms, ${fixed(total_ms, 0)} ms in all)` : ""}.`,
  );
}

/**
 * The kernel's DAMON memory reclaim, when it is on: it stops processes while it scans their
 * pages, which shows in the latency (docs/benchmarks.md). Null when it is off or absent.
 */
function damonReclaim(): string | null {
  const root = "/sys/kernel/mm/damon/admin/kdamonds";
  try {
    for (const id of readdirSync(root)) {
      if (!/^\d+$/.test(id)) continue;
      if (readFileSync(`${root}/${id}/state`, "utf8").trim() !== "on") continue;
      const context = `${root}/${id}/contexts/0`;
      const read = (path: string) => readFileSync(`${context}/${path}`, "utf8").trim();
      const sampleMs = Number(read("monitoring_attrs/intervals/sample_us")) / 1000;
      let action = "";
      try {
        action = read("schemes/0/action");
      } catch {}
      return `kdamond ${id}, ${read("operations")}${action ? `, action ${action}` : ""}, a sample every ${fixed(sampleMs, 0)} ms`;
    }
  } catch {}
  return null;
}

function printLoad(result: LoadMeasurement): void {
  log(
    `  ${fixed(result.purchases_per_s)} purchases/s; latency p50 ${fixed(result.latency.p50_ms, 2)} ms, p95 ${fixed(result.latency.p95_ms, 2)} ms, p99 ${fixed(result.latency.p99_ms, 2)} ms; ${result.errors} errors`,
  );
  printCpu(result.cpu, result.purchases_per_s, "purchase");
  log(
    `  The server's event loop was busy ${fixed(100 * result.event_loop_utilization, 0)} % of the time; its timers ran up to ${fixed(result.event_loop_delay.max_ms)} ms late (p99 ${fixed(result.event_loop_delay.p99_ms)} ms).`,
  );
  if (result.kdamond) {
    const { episodes, cpu_ms, over_target } = result.kdamond;
    log(
      `  The kernel's DAMON thread worked ${episodes} times (${fixed(cpu_ms, 0)} ms of a core); ${fixed(over_target.slow_overlapping_pct, 0)} % of the ${over_target.slow} purchases over ${TARGET_P99_MS} ms were in flight while it did, against ${fixed(over_target.all_overlapping_pct, 0)} % of all purchases.`,
    );
  }
  const { slow_statements: slow, slow_statements_or_kdamond: either } = result.stalls;
  if (slow.slow > 0) {
    log(
      `  Of the ${slow.slow} purchases over ${TARGET_P99_MS} ms, ${fixed(slow.slow_overlapping_pct, 0)} % were in flight during a purchase statement over ${SLOW_STATEMENT_MS} ms (against ${fixed(slow.all_overlapping_pct, 0)} % of all purchases)${result.kdamond ? `, and ${fixed(either.slow_overlapping_pct, 0)} % during that or DAMON's work (against ${fixed(either.all_overlapping_pct, 0)} %)` : ""}.`,
    );
  }
  const { reads, readItems, slowReads, writes, writeItems, slowWrites } = result.batches;
  log(
    `  Batches: ${reads} reads carried ${fixed(readItems / reads)} purchases each, ${writes} writes ${fixed(writeItems / writes)}.`,
  );
  if (reads > 0)
    log(
      `  Statements over ${SLOW_STATEMENT_MS} ms from sending to answer: ${slowReads} reads (${fixed((100 * slowReads) / reads, 1)} %), ${slowWrites} writes (${fixed((100 * slowWrites) / Math.max(1, writes), 1)} %).`,
    );
  if (result.errors > 0) {
    log(`  ${result.errors} ERRORS; first answers:`);
    for (const sample of result.error_samples) log(`    ${sample}`);
  }
}

function printStatementProfile(profile: PurchaseProfile): void {
  log();
  log(
    `One purchase on PostgreSQL, statement by statement (${profile.purchases} purchases one after the other, no concurrency):`,
  );
  log(
    `  ${fixed(profile.statements_per_purchase)} statements and ${fixed(profile.wall_ms_mean, 2)} ms per purchase: ${fixed(profile.db_ms_mean, 2)} ms with a statement outstanding, ${fixed(profile.node_ms_mean, 2)} ms with none.`,
  );
  log(
    `  On a core per purchase: Node ${fixed(profile.node_cpu_ms_mean, 2)} ms, PostgreSQL ${fixed(profile.pg_cpu_ms_mean, 2)} ms; ready but waiting for a core: ${fixed(profile.runqueue_ms_mean, 2)} ms (these overlap a little: both cores work at once).`,
  );
  log(
    `  The most common sequence (${fixed(profile.typical_share_pct, 0)} % of the purchases): round trip ms, PostgreSQL CPU ms, statement`,
  );
  profile.typical.forEach((t, i) => {
    log(
      `  ${String(i + 1).padStart(3)}. ${fixed(t.ms, 3).padStart(6)} ${fixed(t.pg_cpu_ms, 3).padStart(6)}  ${t.sql}`,
    );
  });
  log(
    "  By statement, most time first (per purchase × mean round trip, PostgreSQL CPU, share of statement time):",
  );
  for (const s of profile.by_statement.slice(0, 12)) {
    log(
      `      ${fixed(s.per_purchase, 2).padStart(5)} × ${fixed(s.mean_ms, 3).padStart(6)} ms ${fixed(s.mean_pg_cpu_ms, 3).padStart(6)} ms ${fixed(s.share_pct, 0).padStart(3)} %  ${s.sql}`,
    );
  }
}

function printNodeTime(profile: CpuProfileSummary, title: string): void {
  log();
  log(title);
  log("  Self time by place (ms per purchase, share):");
  for (const p of profile.by_place.slice(0, 10)) {
    log(`    ${fixed(p.ms_per_unit, 3).padStart(6)} ms  ${fixed(p.pct, 0).padStart(3)} %  ${p.place}`);
  }
  log("  Self time by function:");
  for (const f of profile.by_function.slice(0, 10)) {
    log(`    ${fixed(f.ms_per_unit, 3).padStart(6)} ms  ${fixed(f.pct, 0).padStart(3)} %  ${f.name}`);
  }
  log("  Our functions by total time (callees included):");
  for (const f of profile.by_function_total.slice(0, 12)) {
    log(`    ${fixed(f.ms_per_unit, 3).padStart(6)} ms  ${fixed(f.pct, 0).padStart(3)} %  ${f.name}`);
  }
}

async function main(): Promise<void> {
  const cpuModel = cpus()[0]?.model ?? "unknown CPU";
  const version = await serverVersion();
  log(`Regulars purchase benchmark — ${new Date().toISOString()}`);
  log(
    `Machine: ${cores} cores (${cpuModel}), Node ${process.version}, PostgreSQL ${version} at ${new URL(config.serverUrl).host}.`,
  );
  const code = codeVersion();
  log(`Code: ${code}.`);
  log(
    `The server, the load generator and PostgreSQL share these ${cores} cores, so every figure below is for the whole stack on one small machine.`,
  );
  const damon = damonReclaim();
  if (damon)
    log(
      `Note: the kernel's DAMON memory reclaim is on (${damon}); it stops processes while it scans their pages, which adds to the latency (docs/benchmarks.md).`,
    );
  const quiet = new CpuMonitor({ bench: selfAndAncestors() }, undefined, cores);
  quiet.start();
  await new Promise((done) => setTimeout(done, 1500));
  const before = await quiet.stop();
  const othersBefore = before.machine_busy_pct - (before.parts.bench ?? 0);
  if (othersBefore > 10) {
    const who = before.others.map((o) => `${o.command} ${fixed(o.pct, 0)} %`).join(", ");
    log(
      `Warning: other work already keeps ${fixed(othersBefore, 0)} % of a core busy${who ? ` (${who})` : ""}; it will lower the figures.`,
    );
  }
  log(
    `${config.clients} clients, ${config.warmupSeconds} s warm-up + ${config.seconds} s measured per run; pool ${config.poolSize}; auth: ${config.auth === "api_key" ? "cashier API key" : "owner session token"}.`,
  );
  log();

  // The baseline runs before the purchases on PostgreSQL and again after them: this machine's speed
  // moves from minute to minute, and the ratio takes the mean of the two.
  const baselines: { tps: PgbenchResult; cpu: CpuUsage | undefined }[] = [];
  const runBaseline = async (when: string) => {
    const monitor = new CpuMonitor({}, PGBENCH_DATABASE, cores);
    let cpu: CpuUsage | undefined;
    let cpuStopped: Promise<CpuUsage> | undefined;
    log(
      `pgbench TPC-B ${when} (scale 10, ${config.clients} clients, 2 threads, ${config.seconds} s, prepared)…`,
    );
    const tps = await runPgbench({
      serverUrl: config.serverUrl,
      binDir: config.pgBinDir,
      database: PGBENCH_DATABASE,
      scale: 10,
      clients: config.clients,
      threads: 2,
      seconds: config.seconds,
      onWindow: (edge, pid) => {
        if (edge === "start") {
          if (pid) monitor.name("pgbench", pid);
          monitor.start();
        } else cpuStopped = monitor.stop();
      },
    });
    if (cpuStopped) cpu = await cpuStopped;
    log(
      `  ${fixed(tps.tps)} tps; latency p50 ${fixed(tps.latency.p50_ms, 2)} ms, p95 ${fixed(tps.latency.p95_ms, 2)} ms, p99 ${fixed(tps.latency.p99_ms, 2)} ms`,
    );
    if (cpu) printCpu(cpu, tps.tps, "TPC-B transaction");
    baselines.push({ tps, cpu });
  };
  if (config.engines.has("pgbench"))
    await runBaseline(config.engines.has("postgres") ? "before the purchases" : "");
  const results: EngineResult[] = [];
  if (config.engines.has("postgres")) {
    log(`Purchases on PostgreSQL (database ${PG_DATABASE})…`);
    results.push(await benchPostgres());
    if (config.engines.has("pgbench")) await runBaseline("after the purchases");
  }
  if (config.engines.has("pglite")) {
    log("Purchases on PGlite (embedded, one connection, in a temporary directory)…");
    results.push(await benchPglite());
  }
  const pgbench =
    baselines.length > 0
      ? {
          tps: baselines.reduce((s, b) => s + b.tps.tps, 0) / baselines.length,
          runs: baselines.map((b) => b.tps.tps),
          p99_ms: baselines.reduce((s, b) => s + b.tps.latency.p99_ms, 0) / baselines.length,
        }
      : undefined;

  const postgres = results.find((r) => r.engine === "postgres");
  const pglite = results.find((r) => r.engine === "pglite");
  if (postgres?.statement_profile) {
    const profile = postgres.statement_profile;
    printStatementProfile(profile);
    printNodeTime(
      profile.node_profile,
      `Node's time in those purchases (CPU profile of the server thread; ${fixed(profile.node_profile.busy_ms_per_unit, 2)} ms busy per purchase):`,
    );
  }
  if (postgres?.cpu_profile) {
    printNodeTime(
      postgres.cpu_profile,
      `The server thread under load (${fixed(postgres.cpu_profile.busy_pct, 0)} % busy; wall-clock samples, so a wait for a core shows up in the native call that made it, mostly writev):`,
    );
  }

  log();
  const rows: string[][] = [];
  for (const [i, b] of baselines.entries()) {
    const when = baselines.length > 1 ? (i === 0 ? ", before" : ", after") : "";
    const l = b.tps.latency;
    rows.push([
      `pgbench TPC-B (PostgreSQL)${when}`,
      fixed(b.tps.tps),
      fixed(l.p50_ms, 2),
      fixed(l.p95_ms, 2),
      fixed(l.p99_ms, 2),
      fixed(l.max_ms, 1),
      "0",
    ]);
  }
  const engineName = (r: EngineResult) => (r.engine === "postgres" ? "PostgreSQL" : "PGlite");
  const row = (label: string, m: LoadMeasurement) => [
    label,
    fixed(m.purchases_per_s),
    fixed(m.latency.p50_ms, 2),
    fixed(m.latency.p95_ms, 2),
    fixed(m.latency.p99_ms, 2),
    fixed(m.latency.max_ms, 1),
    String(m.errors),
  ];
  for (const r of results) {
    rows.push(row(`POST /v1/purchases, ${engineName(r)}, flat out`, r));
    if (r.paced)
      rows.push(row(`POST /v1/purchases, ${engineName(r)}, paced at ${r.paced.rate_per_s}/s`, r.paced));
  }
  log(table(["run", "per second", "p50 ms", "p95 ms", "p99 ms", "max ms", "errors"], rows));
  log();
  if (pgbench) {
    const each =
      pgbench.runs.length > 1
        ? ` (mean of ${pgbench.runs.map((t) => fixed(t)).join(" before and ")} after)`
        : "";
    log(`pgbench TPC-B: ${fixed(pgbench.tps)} tps${each}`);
    log(
      `pgbench TPC-B p99: ${fixed(pgbench.p99_ms, 2)} ms${pgbench.runs.length > 1 ? " (mean of the runs)" : ""}`,
    );
  }
  for (const r of [postgres, pglite]) {
    if (!r) continue;
    log(
      `purchases/s on ${engineName(r)}: ${fixed(r.purchases_per_s)} (p50 ${fixed(r.latency.p50_ms, 2)} ms, p99 ${fixed(r.latency.p99_ms, 2)} ms)`,
    );
    if (r.paced) {
      log(
        `  paced at ${r.paced.rate_per_s}/s on ${engineName(r)}: p50 ${fixed(r.paced.latency.p50_ms, 2)} ms, p99 ${fixed(r.paced.latency.p99_ms, 2)} ms`,
      );
    }
  }
  const ratio = postgres && pgbench ? postgres.purchases_per_s / pgbench.tps : Number.NaN;
  if (postgres && pgbench) log(`ratio to pgbench TPC-B: ${fixed(ratio, 2)}`);
  const verdict = (met: boolean) => (met ? "met" : "NOT met");
  if (postgres && pgbench)
    log(`target: ratio ≥ ${TARGET_RATIO.toFixed(2)} — ${verdict(ratio >= TARGET_RATIO)}`);
  if (postgres) {
    log(
      `target: p99 < ${TARGET_P99_MS} ms on PostgreSQL (16 clients flat out) — ${verdict(postgres.latency.p99_ms < TARGET_P99_MS)}`,
    );
    if (pgbench && pgbench.p99_ms >= TARGET_P99_MS) {
      log(
        `        (pgbench TPC-B's own p99 on this machine in this run, ${fixed(pgbench.p99_ms, 2)} ms, is above the target as well)`,
      );
    }
    if (postgres.paced) {
      log(
        `        p99 < ${TARGET_P99_MS} ms on PostgreSQL paced at ${postgres.paced.rate_per_s}/s — ${verdict(postgres.paced.latency.p99_ms < TARGET_P99_MS)}`,
      );
    }
  }
  log(
    `(The server, the load generator and PostgreSQL shared this machine's ${cores} cores; ${config.clients} clients.)`,
  );

  mkdirSync(resolve(RESULT_FILE, ".."), { recursive: true });
  writeFileSync(
    RESULT_FILE,
    `${JSON.stringify(
      {
        at: new Date().toISOString(),
        machine: {
          cores,
          cpu: cpuModel,
          node: process.version,
          postgres: version,
          busy_before_pct: othersBefore,
        },
        code,
        settings: { ...config, engines: [...config.engines] },
        pgbench: pgbench
          ? { tps: pgbench.tps, runs: baselines.map((b) => ({ ...b.tps, cpu: b.cpu })) }
          : undefined,
        results,
        ratio_to_pgbench: ratio,
        targets: {
          ratio: { target: TARGET_RATIO, met: ratio >= TARGET_RATIO },
          p99_ms: { target: TARGET_P99_MS, met: (postgres?.latency.p99_ms ?? Number.NaN) < TARGET_P99_MS },
        },
      },
      null,
      2,
    )}\n`,
  );
  log(`Results written to ${RESULT_FILE}.`);
  const errors = results.reduce((s, r) => s + r.errors + (r.paced?.errors ?? 0), 0);
  if (errors > 0) {
    log(`${errors} purchases failed: the figures above are not valid.`);
    process.exitCode = 1;
  }
}

await main().catch((error: unknown) => {
  // pg's errors carry the whole client; its message and code say what went wrong.
  const e = error as { message?: string; code?: string; stack?: string };
  process.stderr.write(
    `bench failed: ${e.code ? `[${e.code}] ` : ""}${e.stack ?? e.message ?? String(error)}\n`,
  );
  process.exitCode = 1;
});
