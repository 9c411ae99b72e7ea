import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { sql } from "kysely";
import pg from "pg";
import { inject } from "vitest";
import { type Database, type Db, type EngineName, openDatabase } from "../../src/db/database.ts";
import { PGLITE_TEMPLATE_FILE, TEST_DATABASE_URL, urlFor } from "./engines.ts";

/** The engine this test project runs on (set per Vitest project). */
export const engine: EngineName = process.env.TEST_ENGINE === "postgres" ? "postgres" : "pglite";

/**
 * A fresh, migrated database for one test file: a copy of the PGlite template, or a new database
 * on the PostgreSQL server created from the migrated template (dropped again on close).
 */
export async function openTestDatabase(options: { poolSize?: number } = {}): Promise<Database> {
  if (engine === "pglite") {
    const blob = new Blob([readFileSync(PGLITE_TEMPLATE_FILE)]);
    try {
      return await openDatabase({ memory: true, loadDataDir: blob });
    } catch (error) {
      // PGlite's start in WebAssembly failed once in hundreds of starts on a machine loaded with
      // several test runs; the database never opened, so a second start is a clean one.
      if (!String(error).includes("PGlite failed to initialize properly")) throw error;
      return openDatabase({ memory: true, loadDataDir: blob });
    }
  }
  const copy = await copyOfServerTemplate();
  const database = await openDatabase({ url: copy.url, poolSize: options.poolSize ?? 10 });
  return {
    ...database,
    close: async () => {
      await database.close();
      await copy.drop();
    },
  };
}

/** A database made on the PostgreSQL server for a test: its URL, and how to drop it again. */
export interface ServerDatabase {
  url: string;
  drop: () => Promise<void>;
}

/**
 * Makes the database `name` on the PostgreSQL server, a copy of `template` when one is named.
 *
 * @example const db = await createServerDatabase("regulars_t_1a2b"); … await db.drop()
 */
export async function createServerDatabase(name: string, template?: string): Promise<ServerDatabase> {
  await onServer(`create database ${name}${template ? ` template ${template}` : ""}`);
  return { url: urlFor(name), drop: () => onServer(`drop database if exists ${name} with (force)`) };
}

/**
 * A copy of this run's migrated template on the PostgreSQL server, named after the template so
 * the run's teardown drops it if the test does not.
 */
export function copyOfServerTemplate(): Promise<ServerDatabase> {
  const template = inject("pgTemplate");
  return createServerDatabase(`${template}_${randomBytes(6).toString("hex")}`, template);
}

async function onServer(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

/**
 * Waits (up to 10 s) until a statement of this database waits on a row lock: on the PostgreSQL
 * server, the moment a concurrency test knows the work it started is blocked where it meant.
 */
export async function blockedOnALock(db: Db): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from pg_stat_activity
      where datname = current_database() and wait_event_type = 'Lock'`.execute(db);
    if ((rows[0]?.n ?? 0) > 0) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error("no statement came to wait on a row lock");
}
