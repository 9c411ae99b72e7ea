import { mkdirSync } from "node:fs";
import { PGlite } from "@electric-sql/pglite";
import {
  Kysely,
  type Migration,
  type MigrationProvider,
  Migrator,
  PostgresDialect,
  type Transaction,
} from "kysely";
import pg from "pg";
import * as m0001 from "./migrations/0001-initial.ts";
import { PGliteDialect } from "./pglite-dialect.ts";
import type { DB } from "./schema.ts";

export type Db = Kysely<DB>;
export type Tx = Transaction<DB>;
/** Anything that can run a query: the database itself or an open transaction. */
export type Queryable = Kysely<DB>;

export type EngineName = "pglite" | "postgres";

export interface Database {
  db: Db;
  engine: EngineName;
  close(): Promise<void>;
  /** The PGlite instance, when the engine is embedded (used to snapshot test templates). */
  pglite?: PGlite;
}

export type DatabaseOptions =
  | { url: string; poolSize?: number; onIdleError?: (error: Error) => void }
  | { dataDir: string }
  | { memory: true; loadDataDir?: Blob | File };

const INT8_OID = 20;
const DATE_OID = 1082;
const NUMERIC_OID = 1700;

// Counts and sums come back as int8; they stay far below 2^53, so numbers are exact.
const parseInt8 = (value: string) => Number(value);
const keepString = (value: string) => value;

/**
 * Opens the database: a PostgreSQL server when a URL is given, otherwise PGlite in a directory
 * (or in memory for tests).
 *
 * @example const { db, close } = await openDatabase({ dataDir: "./data" });
 */
export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  if ("url" in options) {
    pg.types.setTypeParser(INT8_OID, parseInt8);
    pg.types.setTypeParser(DATE_OID, keepString);
    const pool = new pg.Pool({ connectionString: options.url, max: options.poolSize ?? 10 });
    // An idle connection the server closes (restart, failover) must not crash the process; the
    // pool replaces it on the next checkout.
    pool.on("error", (error) => options.onIdleError?.(error));
    const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
    return { db, engine: "postgres", close: () => db.destroy() };
  }
  const parsers = { [INT8_OID]: parseInt8, [DATE_OID]: keepString, [NUMERIC_OID]: keepString };
  let pglite: PGlite;
  if ("dataDir" in options) {
    mkdirSync(options.dataDir, { recursive: true });
    pglite = await PGlite.create(options.dataDir, { parsers });
  } else {
    pglite = await PGlite.create({
      parsers,
      ...(options.loadDataDir ? { loadDataDir: options.loadDataDir } : {}),
    });
  }
  const db = new Kysely<DB>({ dialect: new PGliteDialect(pglite) });
  return {
    db,
    engine: "pglite",
    pglite,
    close: async () => {
      await db.destroy();
      await pglite.close();
    },
  };
}

const migrations: Record<string, Migration> = {
  "0001-initial": m0001,
};

class StaticProvider implements MigrationProvider {
  async getMigrations() {
    return migrations;
  }
}

/**
 * Applies every pending migration, each in its own transaction, in order. Forward-only: there are
 * no down migrations.
 */
export async function migrateToLatest(db: Kysely<DB>): Promise<string[]> {
  const migrator = new Migrator({
    db,
    provider: new StaticProvider(),
    migrationTableName: "schema_migrations",
    migrationLockTableName: "schema_migrations_lock",
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((r) => r.status === "Success").map((r) => r.migrationName);
}
