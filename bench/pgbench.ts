import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";

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
  transactions: number;
  command: string;
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
 * purchase bench. The database is dropped afterwards, also on failure.
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
      transactions: transactions ? Number(transactions[1]) : Number.NaN,
      command: `pgbench ${args.join(" ")}`,
    };
  } finally {
    await onServer(options.serverUrl, `drop database if exists ${options.database} with (force)`);
  }
}
