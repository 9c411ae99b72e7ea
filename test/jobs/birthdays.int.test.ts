import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runJob } from "../../src/jobs/index.ts";
import { pruneAnswers } from "../../src/modules/idempotency/index.ts";
import { runBirthdays } from "../../src/use-cases/birthdays.ts";
import { startTestApp, type TestApp } from "../helpers/api.ts";

let t: TestApp;
beforeAll(async () => {
  // 23:30 UTC on 27 February 2027 is already 28 February in Amsterdam; 2027 is not a leap year.
  t = await startTestApp({ now: "2027-02-27T23:30:00Z" });
});
afterAll(async () => t?.close());

describe("birthday rewards", () => {
  it("give birthday members their treat once a year, on the business's date", async () => {
    const owner = await t.signup();
    const key = (await owner.call("POST", "/v1/api-keys", { name: "POS", role: "manager" })).body.key;
    const tenant = owner.as(key);
    const rule = await tenant.call("POST", "/v1/rules", {
      name: "Happy birthday",
      trigger: "birthday",
      effect: { type: "fixed_points", points: 100 },
    });
    expect(rule.status).toBe(201);
    const bad = await tenant.call("POST", "/v1/rules", {
      name: "x",
      trigger: "birthday",
      event_type: "x",
      effect: { type: "fixed_points", points: 1 },
    });
    expect(bad.body.error.code).toBe("event_type_not_allowed");
    const born = async (birthday: string) =>
      (await tenant.call("POST", "/v1/members", { birthday, marketing_consent: false })).body.id as string;
    const today = await born("1990-02-28");
    const leapling = await born("1992-02-29");
    const other = await born("1990-03-01");
    const points = async (id: string) =>
      (await tenant.call("GET", `/v1/members/${id}/card`)).body.points.available;

    // 27 Feb 23:30 UTC is 28 Feb 00:30 in Amsterdam: the 28th's members and, in 2027, the leapling.
    expect(await runBirthdays(t.ctx, t.clock.now())).toEqual({ members: 2 });
    expect([await points(today), await points(leapling), await points(other)]).toEqual([100, 100, 0]);
    expect(await runJob(t.ctx, "birthdays", "node-a")).toEqual({ members: 0 });
    expect(await points(today)).toBe(100);
    const history = await tenant.call("GET", `/v1/members/${today}/history`);
    expect(history.body.data[0]).toMatchObject({
      reason: "Happy birthday",
      actor: "system:birthdays",
      source_type: "birthday",
      source_id: "2027",
    });

    t.clock.set(new Date("2027-03-01T12:00:00Z"));
    expect(await runBirthdays(t.ctx, t.clock.now())).toEqual({ members: 1 });
    expect(await points(other)).toBe(100);
    t.clock.set(new Date("2028-02-28T12:00:00Z"));
    // 2028 is a leap year: the 28th's members only; the leapling waits for the 29th.
    expect(await runBirthdays(t.ctx, t.clock.now())).toEqual({ members: 1 });
    expect(await points(today)).toBe(200);
    expect(await points(leapling)).toBe(100);
  });
});

describe("a birthday that fails", () => {
  it("does not cost the other members, of this business or another, their treat; the run says it failed", async () => {
    t.clock.set(new Date("2029-06-15T10:00:00Z"));
    const shops = [await t.signup(), await t.signup()];
    const ids: string[] = [];
    for (const shop of shops) {
      const rule = await shop.call("POST", "/v1/rules", {
        name: "Happy birthday",
        trigger: "birthday",
        effect: { type: "fixed_points", points: 100 },
      });
      expect(rule.status).toBe(201);
      for (const name of ["First", "Second"]) {
        const res = await shop.call("POST", "/v1/members", {
          name,
          birthday: "1990-06-15",
          marketing_consent: false,
        });
        ids.push(res.body.id);
      }
    }
    // The first shop's first member's birthday is already taken by something else under its key.
    const [a1] = ids as [string];
    await t.database.db
      .insertInto("idempotency_keys")
      .values({
        business_id: shops[0]?.businessId as string,
        key: `birthday:${a1}:2029`,
        operation: "something.else",
        request_hash: "x",
        status_code: 200,
        response: "{}",
        created_at: t.clock.now(),
      })
      .execute();

    await expect(runBirthdays(t.ctx, t.clock.now())).rejects.toThrow(
      `Birthdays: 1 of 4 members failed (the others got their treat); the first, member ${a1} of business ${shops[0]?.businessId}`,
    );
    const points = await Promise.all(
      ids.map(
        async (id, i) =>
          (await shops[i < 2 ? 0 : 1]?.call("GET", `/v1/members/${id}/card`))?.body.points.available,
      ),
    );
    expect(points).toEqual([0, 100, 100, 100]);
  });
});

describe("a treated member", () => {
  it("is not visited again by the next runs of the week: no transaction is opened for them", async () => {
    t.clock.set(new Date("2031-05-20T10:00:00Z"));
    const shop = await t.signup();
    await shop.call("POST", "/v1/rules", {
      name: "Happy birthday",
      trigger: "birthday",
      effect: { type: "fixed_points", points: 100 },
    });
    const id = (await shop.call("POST", "/v1/members", { birthday: "1990-05-20", marketing_consent: false }))
      .body.id as string;
    expect(await runBirthdays(t.ctx, t.clock.now())).toEqual({ members: 1 });
    // Were the member visited again, replaying this key would fail the run (another request's
    // fingerprint under the key); left alone, the run has nothing to do.
    await t.database.db
      .updateTable("idempotency_keys")
      .set({ request_hash: "changed" })
      .where("business_id", "=", shop.businessId)
      .where("key", "=", `birthday:${id}:2031`)
      .execute();
    t.clock.advance(3 * 86_400_000);
    expect(await runBirthdays(t.ctx, t.clock.now())).toEqual({ members: 0 });
    expect((await shop.call("GET", `/v1/members/${id}/card`)).body.points.available).toBe(100);
  });
});

describe("a birthday no run gave on the day", () => {
  it("is given by a run of the next days, once, and only to a member by then", async () => {
    // Amsterdam's spring day of 23 hours: a daily run at 22:30 UTC skips Sunday 30 March 2031.
    t.clock.set(new Date("2031-03-20T10:00:00Z"));
    const shop = await t.signup();
    await shop.call("POST", "/v1/rules", {
      name: "Happy birthday",
      trigger: "birthday",
      effect: { type: "fixed_points", points: 100 },
    });
    const enrol = async (birthday: string) =>
      (await shop.call("POST", "/v1/members", { birthday, marketing_consent: false })).body.id as string;
    const spring = await enrol("1990-03-30");
    const points = async (id: string) =>
      (await shop.call("GET", `/v1/members/${id}/card`)).body.points.available;
    for (const at of ["2031-03-28T22:30:00Z", "2031-03-29T22:30:00Z"]) {
      t.clock.set(new Date(at));
      expect(await runBirthdays(t.ctx, t.clock.now())).toEqual({ members: 0 });
    }
    // 30 March 22:30 UTC is already 31 March in Amsterdam (summer time): the 30th had no run.
    t.clock.set(new Date("2031-03-30T22:30:00Z"));
    expect(await runBirthdays(t.ctx, t.clock.now())).toEqual({ members: 1 });
    expect(await points(spring)).toBe(100);
    t.clock.set(new Date("2031-03-31T22:30:00Z"));
    expect(await runBirthdays(t.ctx, t.clock.now())).toEqual({ members: 0 });
    expect(await points(spring)).toBe(100);
    // A member who joins after their birthday waits for the next one.
    const late = await enrol("1990-03-29");
    expect(await runBirthdays(t.ctx, t.clock.now())).toEqual({ members: 0 });
    expect(await points(late)).toBe(0);
    // A week on, a birthday is no longer due.
    t.clock.set(new Date("2031-04-07T10:00:00Z"));
    const away = await enrol("1990-03-30");
    expect(await runBirthdays(t.ctx, t.clock.now())).toEqual({ members: 0 });
    expect(await points(away)).toBe(0);
  });

  it("is given by the rules of the day it fell on: not by a rule that started or was made since", async () => {
    t.clock.set(new Date("2033-03-01T12:00:00Z"));
    const shop = await t.signup();
    // A birthday offer made on 1 March that ended yesterday.
    await shop.call("POST", "/v1/rules", {
      name: "Old birthday treat",
      trigger: "birthday",
      ends_at: "2033-03-09T00:00:00+01:00",
      effect: { type: "fixed_points", points: 30 },
    });
    const id = (
      await shop.call("POST", "/v1/members", {
        birthday: "1990-03-07",
        marketing_consent: false,
        joined_at: "2033-03-01T00:00:00Z",
      })
    ).body.id as string;
    t.clock.set(new Date("2033-03-10T12:00:00Z"));
    // Made today: one that starts today, and one with no start, which the catch-up of the days
    // the job missed must not date back to the 7th.
    await shop.call("POST", "/v1/rules", {
      name: "New birthday treat",
      trigger: "birthday",
      starts_at: "2033-03-10T00:00:00+01:00",
      effect: { type: "fixed_points", points: 100 },
    });
    await shop.call("POST", "/v1/rules", {
      name: "Made today",
      trigger: "birthday",
      effect: { type: "fixed_points", points: 50 },
    });
    expect(await runBirthdays(t.ctx, t.clock.now())).toEqual({ members: 1 });
    const history = (await shop.call("GET", `/v1/members/${id}/history?type=points`)).body.data;
    expect(history.map((h: { reason: string; points: number }) => [h.reason, h.points])).toEqual([
      ["Old birthday treat", 30],
    ]);
  });

  it("given long ago, with its answer pruned, is not given again and does not fail the run", async () => {
    t.clock.set(new Date("2032-01-10T10:00:00Z"));
    // An API key outlives the clock's move (a staff session lasts 30 days).
    const owner = await t.signup();
    const shop = owner.as(
      (await owner.call("POST", "/v1/api-keys", { name: "POS", role: "manager" })).body.key,
    );
    await shop.call("POST", "/v1/rules", {
      name: "Happy birthday",
      trigger: "birthday",
      effect: { type: "fixed_points", points: 100 },
    });
    const id = (await shop.call("POST", "/v1/members", { birthday: "1990-01-10", marketing_consent: false }))
      .body.id as string;
    expect(await runBirthdays(t.ctx, t.clock.now())).toEqual({ members: 1 });
    t.clock.set(new Date("2032-03-10T10:00:00Z"));
    await pruneAnswers(t.database.db, t.clock.now(), 30);
    // The birthday is corrected to today: this year's treat was given already.
    expect((await shop.call("PATCH", `/v1/members/${id}`, { birthday: "1990-03-10" })).status).toBe(200);
    expect(await runBirthdays(t.ctx, t.clock.now())).toEqual({ members: 0 });
    expect((await shop.call("GET", `/v1/members/${id}/card`)).body.points.available).toBe(100);
  });
});

describe("a member erased, or whose birthday changed, after the run read them as due", () => {
  it("gets no treat and no key: the member is read again under their lock", async () => {
    t.clock.set(new Date("2034-07-10T10:00:00Z"));
    const shop = await t.signup();
    await shop.call("POST", "/v1/rules", {
      name: "Happy birthday",
      trigger: "birthday",
      effect: { type: "fixed_points", points: 100 },
    });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await shop.call("POST", "/v1/members", {
        birthday: "1990-07-10",
        marketing_consent: false,
      });
      expect(res.status).toBe(201);
      ids.push(res.body.id);
    }
    // The run takes them in id order: while the first gets their treat, the second is erased and
    // the third's birthday corrected (committed with the first's treat, before the run locks them).
    const [first, erased, moved] = ids.sort() as [string, string, string];
    const db = t.database.db;
    await sql
      .raw(`create or replace function birthday_meanwhile() returns trigger language plpgsql as $$
        begin
          update members set birthday = null, name = null, erased_at = now()
            where business_id = new.business_id and id = '${erased}';
          update members set birthday = '1990-08-01' where business_id = new.business_id and id = '${moved}';
          return new;
        end $$`)
      .execute(db);
    await sql
      .raw(`create trigger birthday_meanwhile after insert on ledger_entries for each row
        when (new.member_id = '${first}' and new.actor = 'system:birthdays') execute function birthday_meanwhile()`)
      .execute(db);
    try {
      expect(await runBirthdays(t.ctx, t.clock.now())).toEqual({ members: 1 });
    } finally {
      await sql`drop trigger birthday_meanwhile on ledger_entries`.execute(db);
    }
    const points = async (id: string) =>
      (await shop.call("GET", `/v1/members/${id}/card`)).body.points.available;
    expect([await points(first), await points(erased), await points(moved)]).toEqual([100, 0, 0]);
    const keys = await db
      .selectFrom("idempotency_keys")
      .select("key")
      .where("business_id", "=", shop.businessId)
      .where("operation", "=", "member.birthday")
      .execute();
    expect(keys.map((k) => k.key)).toEqual([`birthday:${first}:2034`]);
  });
});
