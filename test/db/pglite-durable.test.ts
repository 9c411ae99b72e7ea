import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "kysely";
import { afterAll, describe, expect, it } from "vitest";
import { openDatabase } from "../../src/db/database.ts";
import { durableFlushes } from "../../src/db/pglite-durable.ts";

/**
 * The embedded database in a directory flushes each commit to disk (src/db/pglite-durable.ts):
 * PGlite alone runs with fsync off and a file system without fsync. Runs once: only the embedded
 * engine keeps its data in a directory.
 */
const dir = mkdtempSync(join(tmpdir(), "regulars-durable-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the embedded database on disk", () => {
  it("runs PostgreSQL with fsync on and flushes every commit, and keeps the data across a restart", async () => {
    const dataDir = join(dir, "data");
    const first = await openDatabase({ dataDir });
    try {
      const setting = async (name: string) =>
        (await sql<{ value: string }>`select current_setting(${name}) as value`.execute(first.db)).rows[0]
          ?.value;
      expect(await setting("fsync")).toBe("on");
      expect(await setting("wal_sync_method")).toBe("fsync");
      await sql`create table t (id int primary key)`.execute(first.db);
      if (!first.pglite) throw new Error("expected the embedded engine");
      const before = durableFlushes(first.pglite);
      for (let id = 1; id <= 5; id++) await sql`insert into t values (${id})`.execute(first.db);
      // One flush of the WAL per commit at least.
      expect(durableFlushes(first.pglite) - before).toBeGreaterThanOrEqual(5);
      // A read-only statement writes no WAL and flushes nothing.
      const idle = durableFlushes(first.pglite);
      await sql`select count(*) from t`.execute(first.db);
      expect(durableFlushes(first.pglite)).toBe(idle);
    } finally {
      await first.close();
    }
    const second = await openDatabase({ dataDir });
    try {
      const { rows } = await sql<{ n: number }>`select count(*)::int as n from t`.execute(second.db);
      expect(rows[0]?.n).toBe(5);
    } finally {
      await second.close();
    }
  });
});
