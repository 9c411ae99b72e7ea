import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";

/** The command line's help and usage errors, which need no database. */
const BIN = resolve(import.meta.dirname, "../../bin/regulars.mjs");

function run(...args: string[]) {
  const { status, stdout, stderr } = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8" });
  return { status, stdout, stderr };
}

describe("the command line's help and exit codes", () => {
  it("documents the exit codes in the overview and in every command's help", () => {
    const overview = run("--help");
    expect(overview.status).toBe(0);
    expect(overview.stdout).toContain("Exit codes: 0 done; 1 failed");
    expect(overview.stdout).toContain("2 usage error (an unknown command, option or business");
    expect(overview.stdout).toContain("3 an import finished but refused rows");
    const help = run("help", "import-members");
    expect(help.status).toBe(0);
    expect(help.stdout).toContain("Exit codes: 0 done");
    expect(help.stdout).not.toContain("Exits 0, or 3");
    expect(run("expire", "--help").stdout).toContain("or only in the one named by --business");
    // The poster's settings too: the owner who prints it is the one who needs PUBLIC_URL.
    const start = run("start", "--help").stdout;
    expect(start).toContain("PUBLIC_URL (unset: the address the dashboard was opened on;");
    expect(start).toContain("POSTER_FONTS (");
  }, 60_000);

  it("exits 2 for help on an unknown command, an unknown command, an unknown option or a missing file", () => {
    const topic = run("help", "nope");
    expect(topic).toMatchObject({ status: 2, stdout: "" });
    expect(topic.stderr).toContain('Unknown command "nope". The commands are: start, migrate, demo,');
    expect(run("nope").status).toBe(2);
    const option = run("expire", "--bogus");
    expect(option.status).toBe(2);
    expect(option.stderr).toContain("Usage: regulars expire [--business <slug>]");
    const noFile = run("import-members", "--business", "x");
    expect(noFile).toMatchObject({
      status: 2,
      stderr: expect.stringContaining("Expected 1 file argument, got 0."),
    });
    expect(run("help", "toString").status).toBe(2);
  }, 60_000);
});

describe("the command stopped by a signal", () => {
  it("ends by that signal, never with exit 0 as if it were done", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "regulars-signal-"));
    try {
      const child = spawn(process.execPath, [BIN, "demo"], {
        env: { ...process.env, DATABASE_URL: "", DATA_DIR: dataDir, LOG_LEVEL: "silent" },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let out = "";
      child.stdout.on("data", (d) => {
        out += d;
      });
      // Stopped while it works: once the new embedded database has files, it still has to
      // migrate it and create the demo, which takes seconds.
      await expect.poll(() => readdirSync(dataDir).length, { timeout: 30_000 }).toBeGreaterThan(0);
      child.kill("SIGTERM");
      const [code, signal] = await new Promise<[number | null, string | null]>((done) =>
        child.on("exit", (c, s) => done([c, s])),
      );
      expect(out).not.toContain("Created the demo business");
      expect({ code, signal }).toEqual({ code: null, signal: "SIGTERM" });
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});
