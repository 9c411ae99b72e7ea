import { execFile } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { type LatencySummary, summarizeLatencies } from "./stats.ts";

const run = promisify(execFile);

export interface PgbenchOptions {
  /** The server, e.g. postgres://postgres@127.0.0.1:5432/postgres; the scratch database goes beside it. */
  serverUrl: string;
  binDir: string;
  database: string;
  scale: number;
  clients: number;
  threads: number;
  seconds: number;
  /** Called right before and right after the measured run (not the initialization). */
  onWindow?: (edge: "start" | "end", pgbenchPid?: number) => void;
}

export interface PgbenchResult {
  tps: number;
  latency_avg_ms: number;
  /** Every transaction's latency, from pgbench's per-transaction log (`-l`). */
  latency: LatencySummary;
  transactions: number;
  command: string;
}

/**
 * The latencies in pgbench's per-transaction logs (one file per thread under `dir`), in ms. A
 * line is `client transaction latency_us script epoch_s epoch_us`.
 *
 * @example await transactionLatencies("/tmp/pgbench-x") // [7.3, 8.1, …]
 */
export async function transactionLatencies(dir: string): Promise<number[]> {
  const latencies: number[] = [];
  for (const file of await readdir(dir)) {
    const text = await readFile(join(dir, file), "utf8");
    for (const line of text.split("\n")) {
      const field = line.split(" ")[2];
      if (field !== undefined) latencies.push(Number(field) / 1000);
    }
  }
  return latencies;
}

/** Runs `sql` on the server's maintenance database. */
export async function onServer(serverUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/**
 * The machine's baseline: pgbench's TPC-B-like script (5 statements in a transaction: three
 * updates, a select, an insert) on a scratch database, with the same number of clients as the
 * purchase bench, each transaction's latency logged (`-l`) so the baseline has percentiles as
 * the purchases do. The database and the logs are removed afterwards, also on failure.
 *
 * @example const { tps } = await runPgbench({ serverUrl, binDir, database: "x", scale: 10, clients: 16, threads: 2, seconds: 20 })
 */
export async function runPgbench(options: PgbenchOptions): Promise<PgbenchResult> {
  const url = new URL(options.serverUrl);
  const env = {
    ...process.env,
    PGHOST: url.hostname,
    PGPORT: url.port || "5432",
    PGUSER: decodeURIComponent(url.username || "postgres"),
    ...(url.password ? { PGPASSWORD: decodeURIComponent(url.password) } : {}),
  };
  const pgbench = join(options.binDir, "pgbench");
  await onServer(options.serverUrl, `drop database if exists ${options.database} with (force)`);
  await onServer(options.serverUrl, `create database ${options.database}`);
  const logs = await mkdtemp(join(tmpdir(), "regulars-pgbench-"));
  try {
    await run(pgbench, ["-i", "-q", "-s", String(options.scale), options.database], { env });
    // Like every measured run of the bench, from a fresh checkpoint (see `fromCheckpoint`).
    await onServer(options.serverUrl, "checkpoint");
    const args = [
      "-c",
      String(options.clients),
      "-j",
      String(options.threads),
      "-T",
      String(options.seconds),
      "-M",
      "prepared",
      "-l",
      `--log-prefix=${join(logs, "tx")}`,
      options.database,
    ];
    const running = run(pgbench, args, { env });
    options.onWindow?.("start", running.child.pid);
    const { stdout } = await running;
    options.onWindow?.("end");
    const tps = /tps = ([\d.]+) \(without initial connection time\)/.exec(stdout);
    if (!tps) throw new Error(`Could not find the TPS in pgbench's output:\n${stdout}`);
    const latency = /latency average = ([\d.]+) ms/.exec(stdout);
    const transactions = /number of transactions actually processed: (\d+)/.exec(stdout);
    return {
      tps: Number(tps[1]),
      latency_avg_ms: latency ? Number(latency[1]) : Number.NaN,
      latency: summarizeLatencies(await transactionLatencies(logs)),
      transactions: transactions ? Number(transactions[1]) : Number.NaN,
      command: `pgbench ${args.filter((a) => !a.startsWith("--log-prefix")).join(" ")}`,
    };
  } finally {
    await rm(logs, { recursive: true, force: true });
    await onServer(options.serverUrl, `drop database if exists ${options.database} with (force)`);
  }
}
