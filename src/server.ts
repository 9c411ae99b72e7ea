import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { hasAnyBusiness } from "./cli/businesses.ts";
import {
  checkDataDir,
  databaseFailure,
  dataDirFailure,
  ExpectedFailure,
  listenFailure,
} from "./cli/failures.ts";
import { type Config, describeDatabase, isLoopbackHost } from "./config.ts";
import { createContext } from "./context.ts";
import { type Database, migrateToLatest, openDatabase } from "./db/database.ts";
import { startUpkeep } from "./db/upkeep.ts";
import { createDemo, type DemoInfo, findDemo } from "./demo.ts";
import { buildApp } from "./http/app.ts";
import { startScheduler } from "./jobs/index.ts";
import { type Clock, systemClock } from "./shared/clock.ts";
import { ensureWebBuilt, WEB_DIST } from "./web.ts";

const LOCK_FILE = "regulars.lock";

/**
 * Opens the configured database: the PostgreSQL server at DATABASE_URL, or PGlite in DATA_DIR.
 * PGlite serves one process, so its directory is locked (`regulars.lock` holds the pid) and a
 * second server or CLI command on it stops with a clear message instead of corrupting it.
 *
 * @example const database = await openConfiguredDatabase(loadConfig())
 */
export async function openConfiguredDatabase(config: Config): Promise<Database> {
  if (config.databaseUrl) return openDatabase({ url: config.databaseUrl, poolSize: config.databasePoolSize });
  // A directory that is not the database's (the home folder, `.`) is refused before PGlite
  // writes its 20 files among the user's.
  checkDataDir(config.dataDir);
  const release = lockDataDir(config.dataDir);
  try {
    let database: Database;
    try {
      database = await openDatabase({ dataDir: config.dataDir });
    } catch (error) {
      throw dataDirFailure(error, config.dataDir);
    }
    return {
      ...database,
      close: async () => {
        await database.close();
        release();
      },
    };
  } catch (error) {
    release();
    throw error;
  }
}

function lockDataDir(dataDir: string): () => void {
  try {
    mkdirSync(dataDir, { recursive: true });
  } catch (error) {
    throw dataDirFailure(error, dataDir);
  }
  const lock = join(dataDir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(lock, String(process.pid), { flag: "wx" });
      return () => rmSync(lock, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw dataDirFailure(error, dataDir);
      const pid = Number(readFileSync(lock, "utf8"));
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) {
        throw new ExpectedFailure(
          `The database in ${dataDir} is in use by process ${pid} (a running server?). Stop it first: the embedded database serves one process at a time.`,
        );
      }
      rmSync(lock, { force: true }); // Left behind by a process that died.
    }
  }
  throw new ExpectedFailure(`Could not lock ${lock}.`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

export interface RunningServer {
  app: FastifyInstance;
  database: Database;
  /** The base URL it listens on, e.g. http://127.0.0.1:3000 */
  url: string;
  /** The demo business, when the installation has one. */
  demo: DemoInfo | null;
  /** Stops accepting requests, lets running ones finish, then closes the database. */
  close(): Promise<void>;
}

/** How often the embedded database's tables are checked for analyze and vacuum (src/db/upkeep.ts). */
const UPKEEP_INTERVAL_MS = 60_000;

/**
 * Starts the API: opens and migrates the database, creates the demo business on a first start
 * (when `config.demo` is on and there is no business yet), listens, and prints a short banner.
 * `handleSignals` (on by default) closes everything gracefully on SIGINT/SIGTERM.
 *
 * @example const server = await startServer(loadConfig()); // ... await server.close()
 */
export async function startServer(
  config: Config,
  options: { clock?: Clock; handleSignals?: boolean; print?: (line: string) => void } = {},
): Promise<RunningServer> {
  const print = options.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  // A port in use or a HOST that is no address is said at once, before the database, the demo
  // and the web app take their seconds, and before the demo's one-time secrets are made.
  await probeListen(config);
  // The first start on PGlite takes several seconds (creating the database, then the demo): say so.
  print(
    config.databaseUrl
      ? "Starting Regulars on the PostgreSQL server of DATABASE_URL…"
      : `Starting Regulars on the embedded database in ${config.dataDir}…`,
  );
  const database = await openConfiguredDatabase(config);
  let app: FastifyInstance | undefined;
  let demo: DemoInfo | null = null;
  let shown = false;
  try {
    try {
      await migrateToLatest(database.db);
    } catch (error) {
      throw databaseFailure(error, config, "migrate");
    }
    const ctx = createContext(database.db, options.clock ?? systemClock);
    const firstStart = config.demo && !(await hasAnyBusiness(database.db));
    if (firstStart) print("Creating the demo business (first start)…");
    demo = firstStart ? await createDemo(ctx) : config.demo ? await findDemo(database.db) : null;
    if (config.web) await ensureWebBuilt(print);
    app = await buildApp(ctx, {
      ...(config.web ? { webDist: WEB_DIST } : {}),
      logger: config.logLevel !== "silent",
      rateLimitPerMinute: config.rateLimitPerMinute,
      trustProxy: config.trustProxy,
      publicUrl: config.publicUrl,
    });
    // buildApp logs at info; the configured level applies to the server and every request logger.
    app.log.level = config.logLevel;
    let address: string;
    try {
      address = await app.listen({ port: config.port, host: config.host });
    } catch (error) {
      throw listenFailure(error, config);
    }
    const log = app.log;
    const stopJobs =
      config.jobsIntervalSeconds > 0
        ? startScheduler(
            ctx,
            config.jobsIntervalSeconds * 1000,
            // docs/operations.md ("Job health") says what to alert on.
            (job, error, consecutiveFailures) =>
              log.error(
                { err: error, job, consecutive_failures: consecutiveFailures },
                "scheduled job failed",
              ),
            { answerRetentionDays: config.answerRetentionDays },
            (job, idleMs) =>
              log.warn(
                { job, idle_seconds: Math.round(idleMs / 1000) },
                "scheduled job made no progress; its lease is left to lapse",
              ),
          )
        : async () => {};
    // PGlite has no autovacuum: the server gives its tables statistics and clears dead rows.
    const stopUpkeep = startUpkeep(database, UPKEEP_INTERVAL_MS, (error) =>
      log.error({ err: error }, "database upkeep failed"),
    );
    const url = address.replace("://[::1]", "://localhost").replace("://0.0.0.0", "://localhost");
    const running: RunningServer = {
      app,
      database,
      url,
      demo,
      close: once(async () => {
        await stopJobs();
        await stopUpkeep();
        await app?.close();
        await database.close();
      }),
    };
    for (const line of banner(config, url, demo)) print(line);
    shown = true;
    if (options.handleSignals ?? true) closeOnSignals(running, print);
    return running;
  } catch (error) {
    // The demo was made but the banner never came: its API key and card link exist only here.
    if (demo?.created && !shown) for (const line of demoSecrets(config, demo)) print(line);
    await app?.close();
    await database.close();
    throw error;
  }
}

/**
 * Listens on HOST and PORT for a moment, and stops: a port in use or an address this machine does
 * not have fails here, within a second, as an `ExpectedFailure` that says what to change.
 */
async function probeListen(config: Config): Promise<void> {
  const probe = createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      probe.once("error", reject);
      probe.listen({ port: config.port, host: config.host, exclusive: true }, resolve);
    });
  } catch (error) {
    throw listenFailure(error, config);
  }
  await new Promise<void>((resolve) => probe.close(() => resolve()));
}

/** The demo's one-time secrets, for a start that made the demo and then failed. */
function demoSecrets(config: Config, demo: DemoInfo): string[] {
  const host = ["0.0.0.0", "::"].includes(config.host) ? "localhost" : config.host;
  const base = `http://${host.includes(":") ? `[${host}]` : host}:${config.port}`;
  return [
    "",
    `The demo business "${demo.slug}" was created, but the server did not start (below). Its secrets, shown only now:`,
    ...(demo.apiKey ? [`  API key      ${demo.apiKey}`] : []),
    ...(demo.cardPath ? [`  A customer   ${base}${demo.cardPath}   (their card, once the server runs)`] : []),
    "",
  ];
}

/** The lines printed when the server is up. Never a secret of the operator's (URLs are masked). */
export function banner(config: Config, url: string, demo: DemoInfo | null): string[] {
  const lines = [
    "",
    `Regulars is running at ${url}`,
    ...(config.web
      ? [`  Dashboard    ${url}/app`, `  Counter      ${url}/counter`]
      : ["  Web app      off (WEB=false)"]),
    `  API          ${url}/v1`,
    `  API docs     ${url}/docs`,
    `  OpenAPI JSON ${url}/docs/json`,
    `  Database     ${describeDatabase(config)}`,
  ];
  if (demo) {
    lines.push(
      "",
      `Demo business "${demo.slug}"${demo.created ? " (created now)" : " (the logins as created; a password changed since is not shown)"}:`,
      `  Owner login  ${demo.ownerEmail} / ${demo.password}`,
      `  Cashier      ${demo.cashierEmail} / ${demo.password}${config.web ? `   (counter screen: ${url}/counter)` : ""}`,
      demo.apiKey
        ? `  API key      ${demo.apiKey}   (shown once; it is stored hashed)`
        : `  API key      shown once, when the demo was created. A new one: ${config.web ? "the dashboard's Settings, or " : ""}POST /v1/api-keys with the owner's token (Try, below)`,
      ...(demo.cardPath && config.web
        ? [
            `  A customer   ${url}${demo.cardPath}   (their card; shown once)`,
            `  Join page    ${url}/join/${demo.slug}`,
          ]
        : config.web
          ? [
              `  A customer   a card link was shown once, when the demo was created. A new one: at ${url}/counter (the cashier's login), find a member, "Show a new card link"`,
              `  Join page    ${url}/join/${demo.slug}`,
            ]
          : []),
      `  Try          curl -s -X POST ${url}/v1/auth/login -H 'content-type: application/json' \\`,
      `                 -d '{"business":"${demo.slug}","email":"${demo.ownerEmail}","password":"${demo.password}"}'`,
    );
    if (!isLoopbackHost(config.host)) {
      lines.push(
        `  Note         HOST is ${config.host}: anyone who reaches this server can log in to the demo with the`,
        "               passwords above, which are in the README. Keep the demo to a test installation, or change",
        "               its passwords (the dashboard's Settings).",
      );
    }
  }
  lines.push("");
  return lines;
}

function closeOnSignals(server: RunningServer, print: (line: string) => void): void {
  let closing = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (closing) {
      print(`${signal} again: exiting at once.`);
      process.exit(1);
    }
    closing = true;
    print(`${signal}: finishing running requests, then closing the database…`);
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        print(`Shutdown failed: ${String(error)}`);
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", onSignal).on("SIGTERM", onSignal);
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let result: Promise<void> | undefined;
  return () => {
    result ??= fn();
    return result;
  };
}
