import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type Tenant, type TestApp } from "../helpers/api.ts";

/**
 * `POST /v1/points/expire`: a manager's "expire now" does at most `limit` members per request and
 * says `more` when some are left, and is audited with what it did, also when some members failed.
 */
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ now: "2026-06-01T10:00:00Z" });
});
afterAll(async () => t?.close());

const DAY = 86_400_000;

/** A business whose points expire after 10 days, with `count` members of 10 points each, all due. */
async function shop(count: number): Promise<{ tenant: Tenant; members: string[] }> {
  const owner = await t.signup();
  const key = (await owner.call("POST", "/v1/api-keys", { name: "POS", role: "manager" })).body.key;
  const tenant = owner.as(key);
  const program = (await tenant.call("GET", "/v1/program")).body.config;
  const points = { ...program.points, pending_days: 0, expiry: { policy: "days_after_earn", days: 10 } };
  expect((await tenant.call("PUT", "/v1/program", { ...program, points })).status).toBe(200);
  const members: string[] = [];
  for (let i = 0; i < count; i++) {
    const member = (await tenant.call("POST", "/v1/members", { marketing_consent: false })).body.id;
    const res = await tenant.call("POST", "/v1/purchases", {
      external_id: `p-${member}`,
      member_id: member,
      amount_minor: 1_000,
      currency: "EUR",
    });
    expect(res.status).toBe(201);
    members.push(member);
  }
  t.clock.advance(11 * DAY);
  return { tenant, members };
}

async function audits(businessId: string): Promise<unknown[]> {
  const rows = await t.database.db
    .selectFrom("audit_log")
    .select(["data", "id"])
    .where("business_id", "=", businessId)
    .where("action", "=", "points.expiry_run")
    .orderBy("id")
    .execute();
  return rows.map((r) => r.data);
}

async function pointsLeft(businessId: string): Promise<number> {
  const rows = await t.database.db
    .selectFrom("ledger_lots")
    .select("points_remaining")
    .where("business_id", "=", businessId)
    .execute();
  return rows.reduce((sum, r) => sum + r.points_remaining, 0);
}

describe("POST /v1/points/expire", () => {
  it("expires at most `limit` members a request, says `more` until none are left, and audits each request", async () => {
    const { tenant } = await shop(3);
    const first = await tenant.call("POST", "/v1/points/expire?limit=1");
    expect([first.status, first.body]).toEqual([200, { lots: 1, points: 10, more: true }]);
    const second = await tenant.call("POST", "/v1/points/expire?limit=2");
    expect([second.status, second.body]).toEqual([200, { lots: 2, points: 20 }]);
    const third = await tenant.call("POST", "/v1/points/expire");
    expect([third.status, third.body]).toEqual([200, { lots: 0, points: 0 }]);
    expect(await audits(tenant.businessId)).toEqual([
      { lots: 1, points: 10, more: true },
      { lots: 2, points: 20 },
      { lots: 0, points: 0 },
    ]);
    expect(await pointsLeft(tenant.businessId)).toBe(0);
  });

  it("refuses a limit that is not a whole number from 1 to 1000, and expires nothing", async () => {
    const { tenant } = await shop(1);
    for (const limit of ["0", "1001", "-1", "1.5", "many", ""]) {
      const res = await tenant.call("POST", `/v1/points/expire?limit=${limit}`);
      expect([limit, res.status, res.body.error?.code]).toEqual([limit, 400, "validation_failed"]);
    }
    const other = await tenant.call("POST", "/v1/points/expire?batch=5");
    expect([other.status, other.body.error?.code]).toEqual([400, "validation_failed"]);
    expect(await pointsLeft(tenant.businessId)).toBe(10);
    expect(await audits(tenant.businessId)).toEqual([]);
  });

  it("answers and audits what it did when some members failed; their points stay due", async () => {
    const { tenant, members } = await shop(2);
    const [broken] = members as [string];
    const db = t.database.db;
    await sql
      .raw(`create or replace function route_fail() returns trigger language plpgsql as $$
        begin
          if new.member_id = '${broken}' then raise exception 'disk on fire'; end if;
          return new;
        end $$`)
      .execute(db);
    await sql`create trigger route_fail before insert on ledger_entries for each row
      when (new.kind = 'expire') execute function route_fail()`.execute(db);
    try {
      const res = await tenant.call("POST", "/v1/points/expire");
      expect([res.status, res.body]).toEqual([200, { lots: 1, points: 10, members_failed: 1 }]);
      expect(await audits(tenant.businessId)).toEqual([{ lots: 1, points: 10, members_failed: 1 }]);
    } finally {
      await sql`drop trigger route_fail on ledger_entries`.execute(db);
    }
    expect(await pointsLeft(tenant.businessId)).toBe(10);
    const again = await tenant.call("POST", "/v1/points/expire");
    expect([again.status, again.body]).toEqual([200, { lots: 1, points: 10 }]);
    expect(await pointsLeft(tenant.businessId)).toBe(0);
  });

  it("says, when the database gives up after members were done, that their points stay expired (503)", async () => {
    const { tenant } = await shop(2);
    const db = t.database.db;
    await sql
      .raw(`create or replace function route_busy() returns trigger language plpgsql as $$
        begin raise exception 'test: deadlock' using errcode = '40P01'; end $$`)
      .execute(db);
    await sql`create trigger route_busy before insert on audit_log for each row
      when (new.action = 'points.expiry_run') execute function route_busy()`.execute(db);
    try {
      const res = await tenant.call("POST", "/v1/points/expire");
      expect(res.status).toBe(503);
      expect(res.headers["retry-after"]).toBe("1");
      expect(res.body.error.code).toBe("database_busy");
      expect(res.body.error.message).toContain("points it expired stay expired");
      expect(res.body.error.message).not.toContain("nothing of it was recorded");
    } finally {
      await sql`drop trigger route_busy on audit_log`.execute(db);
    }
    // The members' transactions had committed: their points are gone, and a second call finds none.
    expect(await pointsLeft(tenant.businessId)).toBe(0);
    const again = await tenant.call("POST", "/v1/points/expire");
    expect([again.status, again.body]).toEqual([200, { lots: 0, points: 0 }]);
  });
});
