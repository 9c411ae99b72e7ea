import { sql } from "kysely";
import type { Database, Db } from "./database.ts";

/**
 * Upkeep of the embedded database. A PostgreSQL server's autovacuum analyzes and vacuums tables
 * as they change; PGlite runs no background workers, so without this its tables would never get
 * statistics (the planner would keep guessing that a business has one member and scan an index of
 * all of them for each lookup) and dead rows left by updates would never be cleared.
 *
 * `upkeep` does what autovacuum would, with its default thresholds: a table is analyzed once
 * 50 rows + 10 % of it changed since the last analyze, and vacuumed (and analyzed) once 50 rows +
 * 20 % of it are dead. The server runs it on PGlite 5 s after start and then every minute
 * (`startUpkeep`). Only the tables
 * that crossed a threshold are touched, and vacuum skips the pages no change has reached, so a run
 * costs in proportion to what changed.
 */

const ANALYZE_BASE = 50;
const ANALYZE_SHARE = 0.1;
const VACUUM_BASE = 50;
const VACUUM_SHARE = 0.2;

/** The first run after start; the statistics of what the start wrote are counted by then. */
const FIRST_RUN_MS = 5_000;

export interface UpkeepResult {
  analyzed: string[];
  vacuumed: string[];
}

/** Table names here come from the catalog, but are quoted all the same. */
const quoted = (name: string) => `"${name.replaceAll('"', '""')}"`;

export async function upkeep(db: Db): Promise<UpkeepResult> {
  const { rows } = await sql<{
    name: string;
    live: number;
    dead: number;
    modified: number;
  }>`select relname as name, n_live_tup::int as live, n_dead_tup::int as dead, n_mod_since_analyze::int as modified
    from pg_stat_user_tables where schemaname = current_schema() order by relname`.execute(db);
  const result: UpkeepResult = { analyzed: [], vacuumed: [] };
  for (const table of rows) {
    if (table.dead > VACUUM_BASE + VACUUM_SHARE * table.live) {
      await sql.raw(`vacuum (analyze) ${quoted(table.name)}`).execute(db);
      result.vacuumed.push(table.name);
      result.analyzed.push(table.name);
    } else if (table.modified > ANALYZE_BASE + ANALYZE_SHARE * table.live) {
      await sql.raw(`analyze ${quoted(table.name)}`).execute(db);
      result.analyzed.push(table.name);
    }
  }
  return result;
}

/**
 * Runs `upkeep` every `intervalMs` on an embedded database (a server has autovacuum: nothing to
 * do). Returns a function that stops it and waits for a run in progress.
 */
export function startUpkeep(
  database: Database,
  intervalMs: number,
  onError: (error: unknown) => void,
): () => Promise<void> {
  if (database.engine !== "pglite") return async () => {};
  let running: Promise<unknown> = Promise.resolve();
  const tick = () => {
    running = running.then(() => upkeep(database.db)).catch(onError);
  };
  // A first run soon after start, so a new database (the demo, a restore) gets its statistics early.
  const first = setTimeout(tick, Math.min(intervalMs, FIRST_RUN_MS));
  const timer = setInterval(tick, intervalMs);
  first.unref();
  timer.unref();
  return async () => {
    clearTimeout(first);
    clearInterval(timer);
    await running;
  };
}
