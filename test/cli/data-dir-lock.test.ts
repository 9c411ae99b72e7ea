import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.ts";
import { startServer } from "../../src/server.ts";

/**
 * Only the embedded engine keeps its data in a directory, so this runs once, on PGlite: two
 * processes on one PGlite directory would each see their own copy of the data.
 */
const BIN = resolve(import.meta.dirname, "../../bin/regulars.mjs");
const dir = mkdtempSync(join(tmpdir(), "regulars-lock-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the embedded database directory", () => {
  it("is locked against a second process while the server runs", async () => {
    const config = loadConfig({ PORT: "0", LOG_LEVEL: "silent", DEMO: "false", DATA_DIR: join(dir, "data") });
    const server = await startServer(config, { handleSignals: false, print: () => {} });
    try {
      const other = spawnSync(process.execPath, [BIN, "migrate"], {
        env: { ...process.env, DATA_DIR: config.dataDir },
        encoding: "utf8",
      });
      expect(other.status).toBe(1);
      // One clear line, no stack trace: another process holding the database is expected.
      expect(other.stderr.trim()).toBe(
        `The database in ${config.dataDir} is in use by process ${process.pid} (a running server?). Stop it first: the embedded database serves one process at a time.`,
      );
    } finally {
      await server.close();
    }
    expect(existsSync(join(config.dataDir, "regulars.lock"))).toBe(false);
  }, 60_000);
});
