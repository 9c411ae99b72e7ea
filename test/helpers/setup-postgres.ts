import pg from "pg";
import { migrateToLatest, openDatabase } from "../../src/db/database.ts";
import { TEMPLATE_DB, TEST_DATABASE_URL, urlFor } from "./engines.ts";

/**
 * Migrates a template database on the PostgreSQL server; each test file copies it. Fails the whole
 * run when the server cannot be reached: a skipped engine would hide failures.
 */
export default async function setup(): Promise<() => Promise<void>> {
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  try {
    await admin.connect();
  } catch (error) {
    throw new Error(
      `The PostgreSQL test server at ${TEST_DATABASE_URL} is unreachable (${String(error)}). ` +
        "Start it, or set TEST_DATABASE_URL to a server the tests may create databases on.",
    );
  }
  await dropTestDatabases(admin);
  await admin.query(`create database ${TEMPLATE_DB}`);
  const template = await openDatabase({ url: urlFor(TEMPLATE_DB), poolSize: 1 });
  await migrateToLatest(template.db);
  await template.close();
  await admin.end();
  return async () => {
    const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await client.connect();
    await dropTestDatabases(client);
    await client.end();
  };
}

async function dropTestDatabases(client: pg.Client): Promise<void> {
  const { rows } = await client.query<{ datname: string }>(
    "select datname from pg_database where datname like 'regulars_test_%' or datname like 'regulars_t_%'",
  );
  for (const row of rows) await client.query(`drop database if exists ${row.datname} with (force)`);
}
