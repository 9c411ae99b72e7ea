import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { transientDatabaseFailure } from "../../src/shared/errors.ts";
import { type Response, startTestApp, type Tenant, type TestApp } from "../helpers/api.ts";

/**
 * When PostgreSQL gives up on a transaction that could go through if sent again (a deadlock, a
 * serialization conflict, a lock or statement timeout), the client gets a 503 `database_busy` with
 * `Retry-After`, nothing of the request is kept, and the retry with the same key lands once. The
 * failure is the database's own: a trigger raises the SQLSTATE inside the request's transaction.
 */
let t: TestApp;
let a: Tenant;
beforeAll(async () => {
  t = await startTestApp();
  a = await t.signup();
});
afterAll(async () => t?.close());

/** Makes every insert into `table` fail with `sqlstate` until the returned function is called. */
async function failInserts(table: "locations" | "purchases", sqlstate: string): Promise<() => Promise<void>> {
  const db = t.database.db;
  await sql
    .raw(`create or replace function test_give_up() returns trigger language plpgsql as $$
      begin raise exception 'test: the database gives up' using errcode = '${sqlstate}'; end $$`)
    .execute(db);
  await sql
    .raw(`create trigger test_give_up before insert on ${table} for each row execute function test_give_up()`)
    .execute(db);
  return async () => {
    await sql.raw(`drop trigger test_give_up on ${table}`).execute(db);
  };
}

describe("a request the database gives up on", () => {
  it.each([
    ["40P01", "a deadlock"],
    ["40001", "a conflict"],
    ["55P03", "a lock waited on too long"],
    ["57014", "a statement that ran too long"],
  ])(
    "answers 503 database_busy for SQLSTATE %s (%s), keeps nothing, and lands once when retried",
    async (state, words) => {
      const restore = await failInserts("locations", state);
      const key = `busy-location-${state}`;
      let res: Response;
      try {
        res = await a.call("POST", "/v1/locations", { name: `Depot ${state}` }, { "idempotency-key": key });
      } finally {
        await restore();
      }
      expect(res.status).toBe(503);
      expect(res.headers["retry-after"]).toBe("1");
      expect(res.body.error.code).toBe("database_busy");
      expect(res.body.error.message).toContain(words);
      expect(res.body.error.message).toContain("nothing of it was recorded");
      expect(res.body.error.details).toEqual({ retry_after_seconds: 1 });
      const listed = await a.call("GET", "/v1/locations?limit=200");
      expect(listed.body.data.map((l: { name: string }) => l.name)).not.toContain(`Depot ${state}`);

      const retried = await a.call(
        "POST",
        "/v1/locations",
        { name: `Depot ${state}` },
        { "idempotency-key": key },
      );
      expect(retried.status).toBe(201);
      const again = await a.call(
        "POST",
        "/v1/locations",
        { name: `Depot ${state}` },
        { "idempotency-key": key },
      );
      expect(again.status).toBe(200);
      expect(again.body.id).toBe(retried.body.id);
      const after = await a.call("GET", "/v1/locations?limit=200");
      expect(after.body.data.filter((l: { name: string }) => l.name === `Depot ${state}`)).toHaveLength(1);
    },
  );

  it("answers 503 for a purchase whose write the database refuses, and the retry earns the points once", async () => {
    const m = await a.call("POST", "/v1/members", { name: "Bo Busy", marketing_consent: false });
    expect(m.status).toBe(201);
    const body = { external_id: "busy-1", member_id: m.body.id, amount_minor: 1250, currency: "EUR" };
    const restore = await failInserts("purchases", "40P01");
    let res: Response;
    try {
      res = await a.call("POST", "/v1/purchases", body);
    } finally {
      await restore();
    }
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe("database_busy");
    const card = await a.call("GET", `/v1/members/${m.body.id}/card`);
    expect(card.body.points.available).toBe(0);
    expect((await a.call("GET", `/v1/purchases?member_id=${m.body.id}`)).body.data).toEqual([]);

    const retried = await a.call("POST", "/v1/purchases", body);
    expect(retried.status).toBe(201);
    expect(retried.body.member.points.available).toBe(12);
    expect((await a.call("POST", "/v1/purchases", body)).status).toBe(200);
    expect((await a.call("GET", `/v1/members/${m.body.id}/card`)).body.points.available).toBe(12);
  });

  it("still answers 500 internal_error for a failure a retry would not get past", async () => {
    const restore = await failInserts("locations", "23514");
    let res: Response;
    try {
      res = await a.call("POST", "/v1/locations", { name: "Never" });
    } finally {
      await restore();
    }
    expect(res.status).toBe(500);
    expect(res.body.error.code).toBe("internal_error");
    expect(res.headers["retry-after"]).toBeUndefined();
    expect(transientDatabaseFailure({ code: "23514" })).toBeUndefined();
    expect(transientDatabaseFailure(null)).toBeUndefined();
  });
});
