import { type Kysely, type Migration, sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrateToLatest } from "../../src/db/database.ts";
import type { DB } from "../../src/db/schema.ts";
import { startTestApp, type TestApp } from "../helpers/api.ts";

/**
 * Each migration runs in its own transaction: one that fails rolls back alone, the ones before it
 * stay applied (and their locks were let go as each committed), and the next run starts at the
 * one that failed.
 */
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => t?.close());

describe("migrations, one transaction each", () => {
  it("keeps the migrations before a failing one, and goes on from it once it is fixed", async () => {
    const db = t.database.db as Kysely<DB>;
    const schema = "steps_test";
    await sql.raw(`create schema ${schema}`).execute(db);
    const made: Record<string, Migration> = {
      "0001-first": {
        up: async (d) => void (await sql.raw(`create table ${schema}.first (id int)`).execute(d)),
      },
      "0002-second": {
        up: async (d) => void (await sql.raw(`create table ${schema}.second (id int)`).execute(d)),
      },
    };
    const failing: Migration = {
      up: async (d) => {
        await sql.raw(`create table ${schema}.third (id int)`).execute(d);
        throw new Error("the third migration fails half-way");
      },
    };
    await expect(
      migrateToLatest(db, { migrations: { ...made, "0003-third": failing }, schema }),
    ).rejects.toThrow("the third migration fails half-way");
    const recorded = async () =>
      (
        await sql
          .raw<{ name: string }>(`select name from ${schema}.schema_migrations order by name`)
          .execute(db)
      ).rows.map((r) => r.name);
    const tables = async () =>
      (
        await sql<{ name: string }>`select table_name as name from information_schema.tables
          where table_schema = ${schema} and table_name in ('first', 'second', 'third') order by 1`.execute(
          db,
        )
      ).rows.map((r) => r.name);
    expect(await recorded()).toEqual(["0001-first", "0002-second"]);
    expect(await tables()).toEqual(["first", "second"]);

    const fixed: Migration = {
      up: async (d) => void (await sql.raw(`create table ${schema}.third (id int)`).execute(d)),
    };
    expect(await migrateToLatest(db, { migrations: { ...made, "0003-third": fixed }, schema })).toEqual([
      "0003-third",
    ]);
    expect(await recorded()).toEqual(["0001-first", "0002-second", "0003-third"]);
    expect(await tables()).toEqual(["first", "second", "third"]);
    // Nothing left to do.
    expect(await migrateToLatest(db, { migrations: { ...made, "0003-third": fixed }, schema })).toEqual([]);
  });
});
