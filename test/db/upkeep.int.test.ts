import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startUpkeep, upkeep } from "../../src/db/upkeep.ts";
import { startTestApp, type TestApp } from "../helpers/api.ts";
import { engine } from "../helpers/db.ts";

/**
 * The embedded database's stand-in for autovacuum (src/db/upkeep.ts): tables that changed enough
 * are analyzed, tables with enough dead rows vacuumed, the others left alone.
 */
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => t?.close());

interface TableStats {
  modified: number;
  dead: number;
  analyzed: boolean;
}

async function stats(table: string): Promise<TableStats | undefined> {
  const { rows } = await sql<TableStats>`select n_mod_since_analyze::int as modified, n_dead_tup::int as dead,
      (last_analyze is not null) as analyzed
    from pg_stat_user_tables where relname = ${table}`.execute(t.database.db);
  return rows[0];
}

/** Waits until the statistics collector has counted the changes (it reports about once a second). */
async function counted(table: string, check: (s: TableStats) => boolean): Promise<TableStats> {
  for (let i = 0; i < 100; i++) {
    const s = await stats(table);
    if (s && check(s)) return s;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the statistics of ${table} never showed the change`);
}

describe("database upkeep", () => {
  it("analyzes a table that changed, vacuums one with dead rows, and leaves the rest", async () => {
    await sql`create table upkeep_probe (id int primary key, v int)`.execute(t.database.db);
    await sql`create table upkeep_quiet (id int primary key)`.execute(t.database.db);
    await sql`insert into upkeep_quiet values (1)`.execute(t.database.db);
    await sql`insert into upkeep_probe select g, g from generate_series(1, 1000) g`.execute(t.database.db);
    await counted("upkeep_probe", (s) => s.modified >= 1000);

    const first = await upkeep(t.database.db);
    expect(first.analyzed).toContain("upkeep_probe");
    expect(first.vacuumed).not.toContain("upkeep_probe");
    expect(first.analyzed).not.toContain("upkeep_quiet");
    expect(await stats("upkeep_probe")).toMatchObject({ modified: 0, analyzed: true });

    // 400 of 1,000 rows updated: 400 dead rows, past 50 + 20 %.
    await sql`update upkeep_probe set v = v + 1 where id <= 400`.execute(t.database.db);
    await counted("upkeep_probe", (s) => s.dead >= 400);
    const second = await upkeep(t.database.db);
    expect(second.vacuumed).toContain("upkeep_probe");
    expect(await stats("upkeep_probe")).toMatchObject({ dead: 0, modified: 0 });

    // Nothing changed since: nothing to do.
    const third = await upkeep(t.database.db);
    expect(third.analyzed).not.toContain("upkeep_probe");
    expect(third.vacuumed).not.toContain("upkeep_probe");
  });

  it("runs on a schedule on PGlite only: a server has autovacuum", async () => {
    await sql`create table upkeep_scheduled (id int primary key)`.execute(t.database.db);
    await sql`insert into upkeep_scheduled select generate_series(1, 500)`.execute(t.database.db);
    await counted("upkeep_scheduled", (s) => s.modified >= 500);
    const stop = startUpkeep(t.database, 20, (error) => {
      throw error;
    });
    await new Promise((r) => setTimeout(r, 300));
    await stop();
    expect((await stats("upkeep_scheduled"))?.analyzed).toBe(engine === "pglite");
  });
});
