import { execFile, execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, statfsSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { copyOfServerTemplate, engine } from "./db.ts";
import { PGLITE_TEMPLATE_FILE } from "./engines.ts";

/**
 * The `regulars` command in a process of its own, for tests: the databases it runs on and the two
 * ways to start it.
 */

const ROOT = resolve(import.meta.dirname, "../..");

/** The operator's command: bin/regulars.mjs, which starts the CLI in a second process. */
export const BIN = join(ROOT, "bin/regulars.mjs");

/**
 * Node's arguments that run the CLI as bin/regulars.mjs runs it (`node --import tsx
 * src/cli/main.ts`), in one process instead of two: for tests that are not about the wrapper.
 */
export const CLI = [
  "--import",
  pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href,
  join(ROOT, "src/cli/main.ts"),
];

/**
 * Where the embedded databases of these tests go: in memory (/dev/shm) when it has room, else the
 * temporary directory. The CLI's PGlite flushes each commit to disk, and its whole directory at
 * every start (src/db/pglite-durable.ts): on a disk that doubled the time of a command here, and
 * it is nothing these tests check (test/db/pglite-durable.test.ts tests the flushing).
 */
function databaseRoot(): string {
  try {
    const { bavail, bsize } = statfsSync("/dev/shm");
    if (bavail * bsize > 2 * 1024 ** 3) return "/dev/shm";
  } catch {
    // No /dev/shm on this machine.
  }
  return tmpdir();
}

export interface CliDatabase {
  /** The environment variables that point the CLI at it (DATA_DIR, or DATABASE_URL). */
  variables: Record<string, string>;
  cleanup: () => Promise<void>;
}

/**
 * A migrated database for the CLI on this run's engine, copied from the run's template: a PGlite
 * directory, or a database on the PostgreSQL server. For tests of what a command does; a first
 * start on an empty database is tested in test/cli/server.int.test.ts.
 */
export async function cliDatabase(prefix: string): Promise<CliDatabase> {
  if (engine === "pglite") {
    const dir = mkdtempSync(join(databaseRoot(), `regulars-${prefix}-`));
    const dataDir = join(dir, "data");
    mkdirSync(dataDir);
    // The template is PGDATA as PGlite dumped it, the leading "/" of its paths dropped here.
    execFileSync("tar", ["-xf", PGLITE_TEMPLATE_FILE, "-C", dataDir], { stdio: "ignore" });
    if (!existsSync(join(dataDir, "PG_VERSION"))) throw new Error(`${PGLITE_TEMPLATE_FILE}: no PGDATA in it`);
    return {
      variables: { DATA_DIR: dataDir },
      cleanup: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  const copy = await copyOfServerTemplate();
  return { variables: { DATABASE_URL: copy.url, DATABASE_POOL_SIZE: "4" }, cleanup: copy.drop };
}

export interface Run {
  /** The exit code (-1 when a signal ended the process). */
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs `node <args>` in `env` until it ends: its exit code and what it printed. */
export async function runNode(args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((done) => {
    execFile(process.execPath, args, { env, encoding: "utf8" }, (error, stdout, stderr) => {
      const code = (error as { code?: unknown } | null)?.code;
      done({ status: error ? (typeof code === "number" ? code : -1) : 0, stdout, stderr });
    });
  });
}
