import { execFile } from "node:child_process";
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
