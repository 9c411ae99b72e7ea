import { createHash } from "node:crypto";
import { mkdirSync } from "node:fs";
import { PGlite } from "@electric-sql/pglite";
import { btree_gin } from "@electric-sql/pglite/contrib/btree_gin";
import { pg_trgm } from "@electric-sql/pglite/contrib/pg_trgm";
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
import * as m0002 from "./migrations/0002-web.ts";
import * as m0003 from "./migrations/0003-purchase-path.ts";
import * as m0004 from "./migrations/0004-stored-answers.ts";
import * as m0005 from "./migrations/0005-lot-credits.ts";
import * as m0006 from "./migrations/0006-pending-until.ts";
import * as m0007 from "./migrations/0007-metric-totals.ts";
import * as m0008 from "./migrations/0008-unused-indexes.ts";
import * as m0009 from "./migrations/0009-member-state.ts";
import * as m0010 from "./migrations/0010-answer-retention.ts";
import * as m0011 from "./migrations/0011-reversal-dates.ts";
import * as m0012 from "./migrations/0012-unrecovered-points.ts";
import * as m0013 from "./migrations/0013-expired-refund-points.ts";
import * as m0014 from "./migrations/0014-client-keys.ts";
import * as m0015 from "./migrations/0015-unrecovered-stamps.ts";
import * as m0016 from "./migrations/0016-wallet-keys.ts";
import * as m0017 from "./migrations/0017-voucher-stock.ts";
import * as m0018 from "./migrations/0018-member-erasure.ts";
import * as m0019 from "./migrations/0019-stored-corrections.ts";
import * as m0020 from "./migrations/0020-adjustments-count.ts";
import * as m0021 from "./migrations/0021-reason-codes.ts";
import * as m0022 from "./migrations/0022-signup-keys.ts";
import * as m0023 from "./migrations/0023-member-search.ts";
import * as m0024 from "./migrations/0024-search-by-business.ts";
import * as m0025 from "./migrations/0025-settings-version.ts";
import * as m0026 from "./migrations/0026-job-health.ts";
import * as m0027 from "./migrations/0027-time-zone-changes.ts";
import * as m0029 from "./migrations/0029-lot-zones.ts";
import * as m0030 from "./migrations/0030-retention-watermark.ts";
import { PGliteDialect } from "./pglite-dialect.ts";
import { DURABLE_START_PARAMS, makeDurable } from "./pglite-durable.ts";
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

/**
 * The contrib extensions the migrations create, which PGlite loads only when named at start:
 * `pg_trgm` and `btree_gin` for the member search index (migration 0023).
 */
const PGLITE_EXTENSIONS = { pg_trgm, btree_gin };

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
    // Every parameterised statement is prepared (see `preparingPool`); generic plans make that pay
    // off. With the default (`auto`) the server re-plans a statement with many parameters on every
    // call, which took two thirds of the time of a purchase's read. Statements here look rows up by
    // business and key, so one plan serves every call.
    const pool = new pg.Pool({
      connectionString: options.url,
      max: options.poolSize ?? 10,
      options: PG_CONNECTION_OPTIONS,
      // TCP keepalive, first probe after 30 s idle: a connection whose peer vanished (failover, a
      // NAT that dropped the socket) fails instead of leaving its query waiting for ever.
      keepAlive: true,
      keepAliveInitialDelayMillis: 30_000,
      // An unreachable host fails in 10 s with a message (src/cli/failures.ts), not after the
      // system's two-minute TCP timeout.
      connectionTimeoutMillis: 10_000,
    });
    // An idle connection the server closes (restart, failover) must not crash the process; the
    // pool replaces it on the next checkout.
    pool.on("error", (error) => options.onIdleError?.(error));
    const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool: preparingPool(pool) }) });
    return { db, engine: "postgres", close: () => db.destroy() };
  }
  const parsers = { [INT8_OID]: parseInt8, [DATE_OID]: keepString, [NUMERIC_OID]: keepString };
  let pglite: PGlite;
  if ("dataDir" in options) {
    mkdirSync(options.dataDir, { recursive: true });
    pglite = await PGlite.create(options.dataDir, {
      parsers,
      extensions: PGLITE_EXTENSIONS,
      startParams: [...DURABLE_START_PARAMS],
    });
    makeDurable(pglite, options.dataDir);
  } else {
    pglite = await PGlite.create({
      parsers,
      extensions: PGLITE_EXTENSIONS,
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

/** Session settings of every connection to a PostgreSQL server (see `openDatabase`). */
export const PG_CONNECTION_OPTIONS = "-c plan_cache_mode=force_generic_plan";

const MAX_PREPARED_PER_CONNECTION = 500;

/** Statement names by SQL text, so a hot statement's text is not hashed on every call. */
const statementNames = new Map<string, string>();

/** The prepared statement's name for `text`: a hash of it, the same on every connection. */
function statementName(text: string): string {
  let name = statementNames.get(text);
  if (name === undefined) {
    name = `k${createHash("sha1").update(text).digest("hex").slice(0, 24)}`;
    // Texts are the application's own statements; the cap only guards against a runaway caller.
    if (statementNames.size < 10_000) statementNames.set(text, name);
  }
  return name;
}
const MAX_PREPARED_SQL_LENGTH = 8_000;

/**
 * Hands Kysely connections that send each statement as a named prepared statement, so the
 * server parses and plans it once per connection instead of on every call (it halves the server's
 * CPU for the short statements of a purchase). Names are a hash of the SQL text; the number of
 * statements prepared per connection is capped, and past the cap statements go unnamed.
 */
export function preparingPool(pool: pg.Pool): pg.Pool {
  const prepared = new WeakMap<pg.PoolClient, Set<string>>();
  const connect = pool.connect.bind(pool);
  const wrapped = Object.create(pool) as pg.Pool;
  wrapped.connect = (async () => {
    const client = await connect();
    if (!prepared.has(client)) {
      const names = new Set<string>();
      prepared.set(client, names);
      const query = client.query.bind(client) as (
        config: unknown,
        values?: unknown[],
      ) => Promise<pg.QueryResult>;
      (client as { query: unknown }).query = (text: unknown, values?: unknown[]) => {
        if (typeof text !== "string" || text.length > MAX_PREPARED_SQL_LENGTH || !values)
          return query(text, values);
        const name = statementName(text);
        if (!names.has(name)) {
          if (names.size >= MAX_PREPARED_PER_CONNECTION) return query(text, values);
          names.add(name);
        }
        return query({ name, text, values });
      };
    }
    return client;
  }) as pg.Pool["connect"];
  wrapped.end = pool.end.bind(pool);
  return wrapped;
}

const migrations: Record<string, Migration> = {
  "0001-initial": m0001,
  "0002-web": m0002,
  "0003-purchase-path": m0003,
  "0004-stored-answers": m0004,
  "0005-lot-credits": m0005,
  "0006-pending-until": m0006,
  "0007-metric-totals": m0007,
  "0008-unused-indexes": m0008,
  "0009-member-state": m0009,
  "0010-answer-retention": m0010,
  "0011-reversal-dates": m0011,
  "0012-unrecovered-points": m0012,
  "0013-expired-refund-points": m0013,
  "0014-client-keys": m0014,
  "0015-unrecovered-stamps": m0015,
  "0016-wallet-keys": m0016,
  "0017-voucher-stock": m0017,
  "0018-member-erasure": m0018,
  "0019-stored-corrections": m0019,
  "0020-adjustments-count": m0020,
  "0021-reason-codes": m0021,
  "0022-signup-keys": m0022,
  "0023-member-search": m0023,
  "0024-search-by-business": m0024,
  "0025-settings-version": m0025,
  "0026-job-health": m0026,
  "0027-time-zone-changes": m0027,
  "0029-lot-zones": m0029,
  "0030-retention-watermark": m0030,
};

class StaticProvider implements MigrationProvider {
  async getMigrations() {
    return migrations;
  }
}

/**
 * Applies every pending migration in order, each in its own transaction: a migration that fails
 * rolls back alone and leaves the ones before it applied, and each one's locks are let go when it
 * commits, not held until the last of an upgrade across many. (Kysely's `migrateToLatest` runs
 * them all in one transaction.) Forward-only: there are no down migrations.
 */
export async function migrateToLatest(
  db: Kysely<DB>,
  /** For tests: other migrations, recorded in another schema. */
  other?: { migrations: Record<string, Migration>; schema: string },
): Promise<string[]> {
  const migrator = new Migrator({
    db,
    provider: other ? { getMigrations: async () => other.migrations } : new StaticProvider(),
    migrationTableName: "schema_migrations",
    migrationLockTableName: "schema_migrations_lock",
    ...(other ? { migrationTableSchema: other.schema } : {}),
  });
  const applied: string[] = [];
  for (;;) {
    const { error, results } = await migrator.migrateUp();
    if (error) throw error instanceof Error ? error : new Error(String(error));
    const done = (results ?? []).filter((r) => r.status === "Success").map((r) => r.migrationName);
    if (done.length === 0) return applied;
    applied.push(...done);
  }
}
