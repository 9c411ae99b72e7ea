import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { engine } from "./db.ts";
import { TEST_DATABASE_URL, urlFor } from "./engines.ts";

/**
 * An empty database (no migrations yet) on this run's engine, for tests of what a fresh install
 * does: a temporary PGlite directory, or a new database on the PostgreSQL server. `variables` are
 * the environment variables that point the configuration at it; `cleanup` removes it.
 */
export async function emptyDatabase(
  prefix: string,
): Promise<{ variables: Record<string, string>; cleanup: () => Promise<void> }> {
  if (engine === "pglite") {
    const dir = mkdtempSync(join(tmpdir(), `regulars-${prefix}-`));
    return {
      variables: { DATA_DIR: join(dir, "data") },
      cleanup: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  const name = `regulars_t_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  return {
    variables: { DATABASE_URL: urlFor(name), DATABASE_POOL_SIZE: "4" },
    cleanup: async () => {
      const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await client.connect();
      await client.query(`drop database if exists ${name} with (force)`);
      await client.end();
    },
  };
}
