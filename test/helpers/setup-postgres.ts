import { randomBytes } from "node:crypto";
import pg from "pg";
import type { TestProject } from "vitest/node";
import { migrateToLatest, openDatabase } from "../../src/db/database.ts";
import { TEST_DATABASE_URL, urlFor } from "./engines.ts";

declare module "vitest" {
  export interface ProvidedContext {
    pgTemplate: string;
  }
}

/**
 * Migrates a template database on the PostgreSQL server; each test file copies it. Names carry a
 * run id, so test runs side by side never touch each other's databases. Fails the whole run when
 * the server cannot be reached: a skipped engine would hide failures.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  try {
    await admin.connect();
  } catch (error) {
    throw new Error(
      `The PostgreSQL test server at ${TEST_DATABASE_URL} is unreachable (${String(error)}). ` +
        "Start it, or set TEST_DATABASE_URL to a server the tests may create databases on.",
    );
  }
  const template = `regulars_tpl_${randomBytes(4).toString("hex")}`;
  await admin.query(`create database ${template}`);
  await admin.end();
  const database = await openDatabase({ url: urlFor(template), poolSize: 1 });
  await migrateToLatest(database.db);
  await database.close();
  project.provide("pgTemplate", template);
  return async () => {
    const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await client.connect();
    const { rows } = await client.query<{ datname: string }>(
      "select datname from pg_database where datname = $1 or datname like $2",
      [template, `${template}_%`],
    );
    for (const row of rows) await client.query(`drop database if exists ${row.datname} with (force)`);
    await client.end();
  };
}
