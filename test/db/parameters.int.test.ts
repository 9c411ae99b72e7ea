import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../../src/db/database.ts";
import { openTestDatabase } from "../helpers/db.ts";

/**
 * Values reach the database unchanged, whatever they contain. On PGlite, statements run prepared
 * with their values written as quoted literals (src/db/pglite-dialect.ts); on the PostgreSQL server,
 * as protocol parameters. Both must store and return exactly what was sent.
 */

let database: Database;
beforeAll(async () => {
  database = await openTestDatabase();
  await sql`create table if not exists parameter_check (
    id int primary key, t text, j jsonb, u uuid[], a text[], at timestamptz, n bigint, b boolean, bin bytea)`.execute(
    database.db,
  );
});
afterAll(async () => {
  await sql`drop table if exists parameter_check`.execute(database.db);
  await database?.close();
});

const tricky = [
  "plain",
  "it's",
  "''",
  "'); drop table parameter_check; --",
  "back\\slash \\' \\\\",
  'double "quotes" and {braces}, commas',
  "NULL",
  "ünïcödé ✓ 🍪 żółć",
  "line\nbreak\ttab",
  "",
];

describe("statement parameters", () => {
  it("store and return every kind of value exactly", async () => {
    for (const [i, t] of tricky.entries()) {
      const row = {
        id: i,
        t,
        j: { text: t, list: [t, null, 1.5], nested: { ok: true } },
        u: ["01a20657-fad4-7000-9516-cb808eda95c4", null],
        a: [t, null, "NULL", "{x}", 'a"b'],
        at: new Date(Date.UTC(2026, 10, 23, 10, 0, 0, 123)),
        n: 9_007_199_254_740_991,
        b: i % 2 === 0,
        bin: Buffer.from([0, 1, 2, 255, 39, 92]),
      };
      await sql`insert into parameter_check (id, t, j, u, a, at, n, b, bin)
        values (${row.id}, ${row.t}, ${JSON.stringify(row.j)}, ${row.u}, ${row.a}, ${row.at}, ${row.n}, ${row.b}, ${row.bin})`.execute(
        database.db,
      );
      const { rows } = await sql<typeof row>`select * from parameter_check where id = ${i}`.execute(
        database.db,
      );
      expect(rows[0]?.t).toBe(t);
      expect(rows[0]?.j).toEqual(row.j);
      expect(rows[0]?.u).toEqual(row.u);
      expect(rows[0]?.a).toEqual(row.a);
      expect(rows[0]?.at?.getTime()).toBe(row.at.getTime());
      expect(Number(rows[0]?.n)).toBe(row.n);
      expect(rows[0]?.b).toBe(row.b);
      expect(Buffer.from(rows[0]?.bin ?? []).equals(row.bin)).toBe(true);
      // The same value as a condition finds the row.
      const found = await sql<{
        id: number;
      }>`select id from parameter_check where t = ${t} and ${t} = any(a)`.execute(database.db);
      expect(found.rows.map((r) => r.id)).toEqual([i]);
    }
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from parameter_check`.execute(
      database.db,
    );
    expect(rows[0]?.n).toBe(tricky.length);
  });

  it("refuses a NUL character in text on both engines, and writes nothing", async () => {
    await expect(
      sql`insert into parameter_check (id, t) values (${1000}, ${"before\u0000after"})`.execute(database.db),
    ).rejects.toThrow();
    const { rows } = await sql<{
      n: number;
    }>`select count(*)::int as n from parameter_check where id = 1000`.execute(database.db);
    expect(rows[0]?.n).toBe(0);
  });
});
