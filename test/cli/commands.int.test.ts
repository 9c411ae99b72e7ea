import { execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { emptyDatabase } from "../helpers/empty-database.ts";

/**
 * The `regulars` command as an operator runs it, in its own process, on an empty database of this
 * run's engine: what it prints and the exit code it ends with.
 */
const BIN = resolve(import.meta.dirname, "../../bin/regulars.mjs");
const exec = promisify(execFile);

let env: NodeJS.ProcessEnv;
let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  const empty = await emptyDatabase("cli");
  cleanup = empty.cleanup;
  dir = mkdtempSync(join(tmpdir(), "regulars-cli-"));
  const { DATABASE_URL: _url, DATA_DIR: _dir, ...rest } = process.env;
  env = { ...rest, LOG_LEVEL: "silent", DEMO: "false", WEB: "false", PORT: "3000", ...empty.variables };
});
afterAll(async () => {
  await cleanup?.();
  rmSync(dir, { recursive: true, force: true });
});

async function run(args: string[], extra: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await exec(process.execPath, [BIN, ...args], {
      env: { ...env, ...extra },
      encoding: "utf8",
    });
    return { status: 0, stdout, stderr };
  } catch (error) {
    const { code, stdout, stderr } = error as { code: number; stdout: string; stderr: string };
    return { status: code, stdout, stderr };
  }
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
  it("demo prints the logins and the demo customer's card link", async () => {
    const demo = await run(["demo"]);
    expect(demo.status).toBe(0);
    expect(demo.stdout).toContain('Created the demo business "demo-cafe"');
    expect(demo.stdout).toMatch(
      /A customer {5}http:\/\/127\.0\.0\.1:3000\/card\/demo-cafe#t=rm_\S+ {3}\(their card/,
    );
  }, 120_000);

  it("exits 2 for an unknown business, in imports as in expire", async () => {
    const members = file("members.csv", ["external_id,marketing_consent", "m-1,yes"]);
    const imported = await run(["import-members", members, "--business", "no-such-shop"]);
    expect(imported.status).toBe(2);
    expect(imported.stderr).toContain('No business with the slug "no-such-shop".');
    const expire = await run(["expire", "--business", "no-such-shop"]);
    expect(expire.status).toBe(2);
    expect(expire.stderr).toContain('No business with the slug "no-such-shop".');
  }, 60_000);

  it("refuses the CDNOW log for a business that does not use US dollars, importing nothing (exit 2)", async () => {
    const log = file("cdnow.txt", [" 00004 0001 19970101  2   29.33", " 00018 0002 19970112  1   14.96"]);
    const result = await run(["import-cdnow", log, "--business", "demo-cafe"]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(
      'The CDNOW log is in US dollars; the business "demo-cafe" records purchases in EUR, so nothing was imported.',
    );
    expect(result.stdout).not.toContain("imported");
  }, 60_000);

  it("exits 3 when an import refused rows and 1 when the file cannot be read", async () => {
    const members = file("some-bad.csv", [
      "external_id,name,marketing_consent",
      'b-1,"Open,yes',
      "b-2,Fine,yes",
    ]);
    const result = await run(["import-members", members, "--business", "demo-cafe"]);
    expect(result.status).toBe(3);
    expect(result.stdout).toContain("members:   1 imported, 0 skipped as already imported, 1 refused (of 2)");
    expect(result.stdout).toContain(
      "line 2: csv_malformed: Column name: the quote that opens its value is never closed.",
    );
    const missing = await run(["import-members", join(dir, "missing.csv"), "--business", "demo-cafe"]);
    expect(missing.status).toBe(1);
    expect(missing.stderr.trim().split("\n").at(-1)).toBe(`${join(dir, "missing.csv")}: no such file.`);
    noStack(missing.stderr);
  }, 60_000);

  it("create-business ends with what to do next: import customers, start, log in", async () => {
    const result = await run(
      [
        "create-business",
        "--slug",
        "bakkerij-jan",
        "--name",
        "Bakkerij Jan",
        "--currency",
        "EUR",
        "--timezone",
        "Europe/Amsterdam",
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
    expect(again.stderr).toMatch(/^Refused \(validation_failed\): /);
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
  }, 60_000);

  it("says how it read a Dutch Excel file, and exits 1 for a code page it is not told, 2 for one it does not know", async () => {
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
    expect(result.stdout).toContain("members:   1 imported, 0 skipped as already imported, 0 refused (of 1)");

    const legacy = join(dir, "klienci.csv");
    writeFileSync(
      legacy,
      Buffer.from("external_id;name;marketing_consent\r\nb-2;\xa3ukasz;tak\r\n", "latin1"),
    );
    const refused = await run(["import-members", legacy, "--business", "bakkerij-jan"]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain(`${legacy}: line 2 is not UTF-8`);
    noStack(refused.stderr);
    const unknown = await run(["import-members", legacy, "--business", "bakkerij-jan", "--encoding", "nope"]);
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
  }, 120_000);

  it("start logs no requests in a terminal unless LOG_LEVEL asks, and logs them elsewhere", async () => {
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
    const piped = await serve(process.execPath, [BIN, "start"], unset);
    expect(piped.health).toBe(200);
    expect(piped.output).not.toContain("Logging warnings and errors only");
    // The banner is whole, then the requests: two JSON lines each.
    const banner = piped.output.indexOf("Regulars is running at");
    expect(banner).toBeGreaterThan(-1);
    expect(piped.output.indexOf('"msg":"incoming request"')).toBeGreaterThan(
      piped.output.indexOf("OpenAPI JSON"),
    );
    expect(piped.output).toContain('"msg":"request completed"');
  }, 120_000);

  it("says in one line, without a stack trace, that the port is in use (exit 1)", async () => {
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
  }, 60_000);
});
