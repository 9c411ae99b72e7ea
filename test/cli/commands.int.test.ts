import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EngineName } from "../../src/db/database.ts";
import { BIN, CLI, cliDatabase, runNode } from "../helpers/cli.ts";
import { engine } from "../helpers/db.ts";

/**
 * The `regulars` command as an operator runs it, in its own process, on a database of this run's
 * engine: what it prints and the exit code it ends with. The database is migrated already, from
 * the run's template: a first start on an empty one (creating and migrating it) is tested in
 * server.int.test.ts, and running the migrations costs PGlite seconds per file.
 *
 * Most commands run as bin/regulars.mjs runs them (`node --import tsx src/cli/main.ts`), without
 * the wrapper's own process; the wrapper itself is run where it matters: a signal sent to it
 * during an import, and the server started in a terminal and stopped.
 */

/**
 * The cases the engine cannot change run in one project only: a check made before the database
 * is opened, a file or a code page refused, a wrong argument or business refused, a log level,
 * the demo's logins. What the engine does with them is tested in-process on both engines
 * (import.int.test.ts: an unknown business, a CDNOW log for a business in euros; demo.int.test.ts:
 * the demo); here it is the exit code and the lines an operator reads, the same on either. They
 * run on PostgreSQL, where a command starts faster.
 */
const ONCE: EngineName = "postgres";

/** `it` in the project of `only`; the other project has no such test. */
function itOn(only: EngineName, name: string, test: () => Promise<void>, timeout: number): void {
  if (engine === only) it(name, test, timeout);
}

let env: NodeJS.ProcessEnv;
let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  const database = await cliDatabase("cli");
  cleanup = database.cleanup;
  dir = mkdtempSync(join(tmpdir(), "regulars-cli-"));
  const { DATABASE_URL: _url, DATA_DIR: _dir, ...rest } = process.env;
  env = { ...rest, LOG_LEVEL: "silent", DEMO: "false", WEB: "false", PORT: "3000", ...database.variables };
});
afterAll(async () => {
  await cleanup?.();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs the command with `args` until it ends: its exit code and what it printed. */
function run(args: string[], extra: Record<string, string> = {}) {
  return runNode([...CLI, ...args], { ...env, ...extra });
}

function file(name: string, lines: string[]): string {
  const path = join(dir, name);
  writeFileSync(path, `${lines.join("\n")}\n`);
  return path;
}

/**
 * Runs `start` (through `command`) on a free port until its banner names the URL, asks it for
 * /health, then stops it with SIGTERM and resolves to everything it printed.
 */
function serve(
  command: string,
  args: string[],
  environment: NodeJS.ProcessEnv,
): Promise<{ output: string; health: number | undefined }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: { ...environment, PORT: "0" },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let output = "";
    let asked = false;
    let health: number | undefined;
    const timer = setTimeout(() => child.kill("SIGKILL"), 90_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString("utf8");
      const url = /Regulars is running at (http:\/\/\S+)/.exec(output)?.[1];
      if (!url || asked || !output.includes("OpenAPI JSON")) return;
      asked = true;
      fetch(`${url}/health`)
        .then((res) => {
          health = res.status;
          return res.text();
        })
        // The request's log lines are written as it completes; give them a moment to arrive.
        .then(() => new Promise((done) => setTimeout(done, 500)))
        .then(() => child.kill("SIGTERM"), reject);
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("error", reject);
    child.on("exit", () => {
      clearTimeout(timer);
      resolve({ output, health });
    });
  });
}

/** No stack trace: an expected failure is one clear line. */
const noStack = (text: string) => expect(text).not.toMatch(/^\s+at /m);

describe("the regulars command", () => {
  it("create-business ends with what to do next: import customers, start, log in", async () => {
    const result = await run(
      [
        "create-business",
        "--slug",
        "bakkerij-jan",
        "--name",
        "Bakkerij Jan",
        // In any case: the intent is plain.
        "--currency",
        "eur",
        "--timezone",
        "europe/amsterdam",
        "--locale",
        "nl",
        "--owner-email",
        "Jan@Bakkerij.test",
        "--owner-name",
        "Jan",
      ],
      { WEB: "true" },
    );
    expect(result.status).toBe(0);
    const next = result.stdout.slice(result.stdout.indexOf("Next:"));
    expect(next).toContain("npm run cli -- import-members customers.csv --business bakkerij-jan");
    expect(next).toContain("Start the server: npm start");
    expect(next).toContain(
      "Log in at http://127.0.0.1:3000/login: business bakkerij-jan, jan@bakkerij.test and the password above.",
    );
  }, 60_000);

  itOn(
    ONCE,
    "create-business names the option a wrong argument is about, and takes a password from the environment",
    async () => {
      // A wrong argument is a usage error (2), here a handle taken, with a currency that is none.
      const again = await run([
        "create-business",
        "--slug",
        "bakkerij-jan",
        "--name",
        "Bakkerij Jan",
        "--currency",
        "EURO",
        "--timezone",
        "Europe/Amsterdam",
        "--owner-email",
        "jan@bakkerij.test",
        "--owner-name",
        "Jan",
      ]);
      expect(again.status).toBe(2);
      // Each problem by the option to change, not by the API's body path.
      expect(again.stderr).toMatch(
        /^Refused \(validation_failed\):\n {2}--currency: must be an ISO-4217 currency code such as EUR or PLN\n/,
      );
      expect(again.stderr).not.toContain("body");
      // A password from the environment is used, and not printed (it never was on the command line).
      const fromEnv = await run(
        [
          "create-business",
          "--slug",
          "bakkerij-piet",
          "--name",
          "Bakkerij Piet",
          "--currency",
          "EUR",
          "--timezone",
          "Europe/Amsterdam",
          "--owner-email",
          "piet@bakkerij.test",
          "--owner-name",
          "Piet",
        ],
        { REGULARS_OWNER_PASSWORD: "piet-his-own-secret" },
      );
      expect(fromEnv.status).toBe(0);
      expect(fromEnv.stdout).not.toContain("Password");
      expect(fromEnv.stdout).not.toContain("piet-his-own-secret");
      expect(fromEnv.stdout).toContain("your password");
    },
    60_000,
  );

  itOn(
    ONCE,
    "demo prints the logins and the demo customer's card link",
    async () => {
      const demo = await run(["demo"]);
      expect(demo.status).toBe(0);
      expect(demo.stdout).toContain('Created the demo business "demo-cafe"');
      expect(demo.stdout).toMatch(
        /A customer {5}http:\/\/127\.0\.0\.1:3000\/card\/demo-cafe#t=rm_\S+ {3}\(their card/,
      );
    },
    120_000,
  );

  itOn(
    ONCE,
    "exits 2 for an unknown business, in imports as in expire",
    async () => {
      const members = file("members.csv", ["external_id,marketing_consent", "m-1,yes"]);
      const imported = await run(["import-members", members, "--business", "no-such-shop"]);
      expect(imported.status).toBe(2);
      expect(imported.stderr).toContain('No business with the slug "no-such-shop".');
      const expire = await run(["expire", "--business", "no-such-shop"]);
      expect(expire.status).toBe(2);
      expect(expire.stderr).toContain('No business with the slug "no-such-shop".');
    },
    60_000,
  );

  itOn(
    ONCE,
    "refuses the CDNOW log for a business that does not use US dollars, importing nothing (exit 2)",
    async () => {
      const log = file("cdnow.txt", [" 00004 0001 19970101  2   29.33", " 00018 0002 19970112  1   14.96"]);
      const result = await run(["import-cdnow", log, "--business", "bakkerij-jan"]);
      expect(result.status).toBe(2);
      expect(result.stderr).toContain(
        'The CDNOW log is in US dollars; the business "bakkerij-jan" records purchases in EUR, so nothing was imported.',
      );
      expect(result.stdout).not.toContain("imported");
    },
    60_000,
  );

  it("exits 3 when an import refused rows", async () => {
    const members = file("some-bad.csv", [
      "external_id,name,marketing_consent",
      'x-1,"Open,yes',
      "x-2,Fine,yes",
    ]);
    const result = await run(["import-members", members, "--business", "bakkerij-jan"]);
    expect(result.status).toBe(3);
    expect(result.stdout).toContain(
      "members:   1 imported, 0 updated, 0 skipped as already imported and unchanged, 1 refused (of 2)",
    );
    expect(result.stdout).toContain(
      "line 2: csv_malformed: Column name: the quote that opens its value is never closed.",
    );
  }, 60_000);

  itOn(
    ONCE,
    "exits 1 when the file cannot be read",
    async () => {
      const missing = await run(["import-members", join(dir, "missing.csv"), "--business", "bakkerij-jan"]);
      expect(missing.status).toBe(1);
      expect(missing.stderr.trim().split("\n").at(-1)).toBe(`${join(dir, "missing.csv")}: no such file.`);
      noStack(missing.stderr);
    },
    60_000,
  );

  it("says, when stopped during an import, that what was imported stays, and ends by the signal", async () => {
    // Sent through bin/regulars.mjs, as Ctrl-C in a terminal is, once a tenth of the rows are in:
    // enough rows that the rest take seconds more on either engine (PGlite imports one at a time).
    const count = engine === "pglite" ? 200 : 500;
    const rows = Array.from({ length: count }, (_, i) => `s-${i},Member ${i},no`);
    const members = file("stopped.csv", ["external_id,name,marketing_consent", ...rows]);
    const child = spawn(process.execPath, [BIN, "import-members", members, "--business", "bakkerij-jan"], {
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    const exited = new Promise<[number | null, string | null]>((done) =>
      child.on("close", (c, s) => done([c, s])),
    );
    // The progress line of the first tenth, or the end of a command that never got there.
    const tenth = await new Promise<boolean>((done) => {
      child.stderr.on("data", (chunk: Buffer) => {
        stderr += chunk.toString("utf8");
        if (stderr.includes("members: 10%")) done(true);
      });
      void exited.then(() => done(false));
    });
    expect(tenth, stderr).toBe(true);
    child.kill("SIGINT");
    const [code, signal] = await exited;
    expect({ code, signal }).toEqual({ code: null, signal: "SIGINT" });
    expect(stderr).toContain(
      "SIGINT: stopped. What was imported stays; run the same command again to finish (nothing is counted twice).",
    );
    // Run again, it finishes: the rows of the first run are there once.
    const again = await run(["import-members", members, "--business", "bakkerij-jan"]);
    expect(again.status, again.stderr).toBe(0);
    const counts = new RegExp(
      `members: {3}(\\d+) imported, 0 updated, (\\d+) skipped as already imported and unchanged, 0 refused \\(of ${count}\\)`,
    ).exec(again.stdout);
    expect(counts, again.stdout).not.toBeNull();
    const [imported, skipped] = [Number(counts?.[1]), Number(counts?.[2])];
    // Stopped midway: some rows were in before the signal, and some were not.
    expect(imported + skipped).toBe(count);
    expect(skipped).toBeGreaterThanOrEqual(count / 10);
    expect(imported).toBeGreaterThan(0);
  }, 180_000);

  it("says how it read a Dutch Excel file", async () => {
    const members = join(dir, "leden.csv");
    writeFileSync(
      members,
      Buffer.concat([
        Buffer.from([0xef, 0xbb, 0xbf]),
        Buffer.from("external_id;name;phone;marketing_consent\r\nb-1;Jürgen;06 12345678;ja\r\n"),
      ]),
    );
    const result = await run(["import-members", members, "--business", "bakkerij-jan"]);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("Read as CSV separated by semicolons (;), UTF-8 with a byte-order mark.");
    expect(result.stdout).toContain(
      "Local phone numbers read as NL (+31), from the business's time zone; --country changes it.",
    );
    expect(result.stdout).toContain(
      "members:   1 imported, 0 updated, 0 skipped as already imported and unchanged, 0 refused (of 1)",
    );
  }, 60_000);

  itOn(
    ONCE,
    "exits 1 for a code page it is not told, 2 for one it does not know, and reads the one it is told",
    async () => {
      const legacy = join(dir, "klienci.csv");
      writeFileSync(
        legacy,
        Buffer.from("external_id;name;marketing_consent\r\nb-2;\xa3ukasz;tak\r\n", "latin1"),
      );
      const refused = await run(["import-members", legacy, "--business", "bakkerij-jan"]);
      expect(refused.status).toBe(1);
      expect(refused.stderr).toContain(`${legacy}: line 2 is not UTF-8`);
      noStack(refused.stderr);
      const unknown = await run([
        "import-members",
        legacy,
        "--business",
        "bakkerij-jan",
        "--encoding",
        "nope",
      ]);
      expect(unknown.status).toBe(2);
      expect(unknown.stderr).toContain('--encoding "nope" is not an encoding this can read.');
      const read = await run([
        "import-members",
        legacy,
        "--business",
        "bakkerij-jan",
        "--encoding",
        "windows-1250",
      ]);
      expect(read.status).toBe(0);
      expect(read.stdout).toContain("Read as CSV separated by semicolons (;), Windows-1250.");
    },
    60_000,
  );

  itOn(
    ONCE,
    "start logs no requests in a terminal unless LOG_LEVEL asks, and logs them elsewhere",
    async () => {
      const { LOG_LEVEL: _level, ...unset } = env;
      // `script` gives the server a terminal, as `npm start` in a shell has.
      const inTerminal = await serve(
        "script",
        ["-qec", `${process.execPath} ${BIN} start`, "/dev/null"],
        unset,
      );
      expect(inTerminal.output).toContain(
        "Logging warnings and errors only, in this terminal; LOG_LEVEL=info logs every request.",
      );
      expect(inTerminal.health).toBe(200);
      expect(inTerminal.output).not.toContain("incoming request");
      const piped = await serve(process.execPath, [...CLI, "start"], unset);
      expect(piped.health).toBe(200);
      expect(piped.output).not.toContain("Logging warnings and errors only");
      // The banner is whole, then the requests: two JSON lines each.
      const banner = piped.output.indexOf("Regulars is running at");
      expect(banner).toBeGreaterThan(-1);
      expect(piped.output.indexOf('"msg":"incoming request"')).toBeGreaterThan(
        piped.output.indexOf("OpenAPI JSON"),
      );
      expect(piped.output).toContain('"msg":"request completed"');
    },
    120_000,
  );

  // The embedded database, whatever the project: DATABASE_URL is cleared.
  itOn(
    "pglite",
    "finds a port in use or a HOST that is no address before it makes the database and the demo",
    async () => {
      const holder: Server = createServer();
      await new Promise<void>((done) => holder.listen(0, "127.0.0.1", done));
      const port = (holder.address() as { port: number }).port;
      // A first start: the embedded database and the demo, whose API key and card link are shown once.
      const fresh = { DATABASE_URL: "", DATA_DIR: join(dir, "first-start"), DEMO: "true" };
      try {
        const taken = await run(["start"], { ...fresh, PORT: String(port) });
        expect(taken.status).toBe(1);
        expect(taken.stderr.trim()).toBe(
          `Cannot listen on 127.0.0.1:${port}: the port is in use (another server running?). Stop it, or set PORT to a free port.`,
        );
        expect(taken.stdout).not.toContain("Creating the demo");
      } finally {
        await new Promise((done) => holder.close(done));
      }
      const host = await run(["start"], { ...fresh, HOST: "example.invalid" });
      expect(host.status).toBe(1);
      expect(host.stderr.trim()).toBe(
        `Cannot listen on HOST "example.invalid": no such address (ENOTFOUND). Set HOST to one of this machine's addresses (127.0.0.1 for this machine only), or 0.0.0.0 for every one.`,
      );
      expect(host.stderr).not.toContain("database");
      // Nothing was made: the next start, on a free port, creates the demo and shows its secrets.
      expect(existsSync(fresh.DATA_DIR)).toBe(false);
    },
    60_000,
  );

  it("says in one line what keeps it from using the database, with what to do", async () => {
    if (engine === "pglite") {
      // A DATA_DIR with the operator's own files, which the database's would be strewn among.
      const home = join(dir, "home");
      mkdirSync(join(home, "photos"), { recursive: true });
      writeFileSync(join(home, "notes.txt"), "mine");
      const result = await run(["migrate"], { DATA_DIR: home });
      expect(result.status).toBe(1);
      expect(result.stderr.trim()).toBe(
        `DATA_DIR "${home}" has other files (notes.txt, photos) and no database: choose an empty or new directory for the database, e.g. DATA_DIR=${join(home, "regulars-data")}.`,
      );
      expect(readdirSync(home).sort()).toEqual(["notes.txt", "photos"]);
      const file = await run(["migrate"], { DATA_DIR: join(home, "notes.txt") });
      expect(file.status).toBe(1);
      expect(file.stderr.trim()).toMatch(/^DATA_DIR ".+notes\.txt" is a file, not a directory\./);
      return;
    }
    // TLS asked of a server without it (the test server has none).
    const url = new URL(env.DATABASE_URL as string);
    url.password = "secretpw";
    url.searchParams.set("sslmode", "require");
    const tls = await run(["migrate"], { DATABASE_URL: url.toString() });
    expect(tls.status).toBe(1);
    expect(tls.stderr).toContain(
      "The server does not support SSL connections. Remove sslmode from DATABASE_URL",
    );
    expect(tls.stderr).not.toContain("secretpw");
    noStack(tls.stderr);
    // A role that may not create tables (PostgreSQL 15 and later: not in public, by default), in a
    // new database, and the same role on this one, whose tables another role made.
    const role = `regulars_ro_${process.pid}`;
    const fresh = `regulars_ro_${process.pid}`;
    const admin = new pg.Client({ connectionString: env.DATABASE_URL });
    await admin.connect();
    try {
      await admin.query(`create role ${role} login`);
      await admin.query(`create database ${fresh}`);
      const empty = new URL(env.DATABASE_URL as string);
      empty.username = role;
      empty.pathname = `/${fresh}`;
      const denied = await run(["migrate"], { DATABASE_URL: empty.toString() });
      expect(denied.status).toBe(1);
      expect(denied.stderr.trim()).toMatch(
        /^Cannot use the database, PostgreSQL .+: permission denied for schema public\. The role of DATABASE_URL may not create tables: .+GRANT CREATE ON SCHEMA public TO <role>/,
      );
      expect((await run(["migrate"])).status).toBe(0); // The tables, made by the server's role.
      const theirs = new URL(env.DATABASE_URL as string);
      theirs.username = role;
      const notOwner = await run(["migrate"], { DATABASE_URL: theirs.toString() });
      expect(notOwner.status).toBe(1);
      expect(notOwner.stderr.trim()).toMatch(
        /^Cannot use the database, PostgreSQL .+: permission denied for table \w+\. The role of DATABASE_URL may not use the tables another role made/,
      );
    } finally {
      await admin.query(`drop database if exists ${fresh} with (force)`);
      await admin.query(`drop role if exists ${role}`);
      await admin.end();
    }
  }, 60_000);

  // Said before the database is opened: the engine changes nothing.
  itOn(
    ONCE,
    "says in one line, without a stack trace, that the port is in use (exit 1)",
    async () => {
      const holder: Server = createServer();
      await new Promise<void>((done) => holder.listen(0, "127.0.0.1", done));
      const port = (holder.address() as { port: number }).port;
      try {
        const result = await run(["start"], { PORT: String(port) });
        expect(result.status).toBe(1);
        expect(result.stderr.trim()).toBe(
          `Cannot listen on 127.0.0.1:${port}: the port is in use (another server running?). Stop it, or set PORT to a free port.`,
        );
      } finally {
        await new Promise((done) => holder.close(done));
      }
    },
    60_000,
  );
});
