import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../../src/db/database.ts";
import { startTestApp, type Tenant, type TestApp } from "../helpers/api.ts";
import { engine } from "../helpers/db.ts";

/**
 * The card's details rules ("keep an email or a phone", "the birthday is set once") hold for
 * changes sent at the same moment: each is decided on the member as locked, so the second sees
 * what the first wrote. On the PostgreSQL server the changes are held at the member's lock until
 * all of them wait there, then let go together; PGlite runs them one after another.
 */
let t: TestApp;
let biz: Tenant;
let seq = 0;

beforeAll(async () => {
  t = await startTestApp({ poolSize: 8 });
  biz = await t.signup();
  expect((await biz.call("POST", "/v1/program/publish")).status).toBe(200);
});
afterAll(async () => t?.close());

async function join(body: Record<string, unknown>): Promise<{ id: string; token: string }> {
  const res = await t.call("POST", `/v1/public/businesses/${biz.slug}/members`, {
    name: "Ana Souza",
    marketing_consent: false,
    ...body,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  const member = await biz.call("GET", `/v1/members/lookup?code=${res.body.member_code}`);
  return { id: member.body.id, token: res.body.card_token };
}

/** Waits (up to 10 s) until `n` statements of this database wait on a lock. */
async function waitingOnLocks(db: Db, n: number): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from pg_stat_activity
      where datname = current_database() and wait_event_type = 'Lock'`.execute(db);
    if ((rows[0]?.n ?? 0) >= n) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`${n} statements did not come to wait on a lock`);
}

/**
 * Sends the member's changes together. On the server, a transaction holds the member's lock (as
 * a purchase does) until every change waits for it.
 */
async function together(member: { id: string; token: string }, bodies: unknown[]) {
  const send = () =>
    Promise.all(
      bodies.map((body) =>
        t.call("PATCH", "/v1/wallet/me/details", body, { authorization: `Bearer ${member.token}` }),
      ),
    );
  if (engine !== "postgres") return send();
  let sent: ReturnType<typeof send> | undefined;
  await t.database.db.transaction().execute(async (tx) => {
    await sql`update member_state set version = version + 1
      where business_id = ${biz.businessId} and member_id = ${member.id}`.execute(tx);
    sent = send();
    await waitingOnLocks(t.database.db, bodies.length);
  });
  return (await sent) ?? [];
}

async function updates(memberId: string) {
  const res = await biz.call("GET", "/v1/audit-log?action=member.updated&limit=100");
  return (res.body.data as { target_id: string; data: { fields: string[] } }[])
    .filter((a) => a.target_id === memberId)
    .map((a) => a.data.fields);
}

describe("the card's details, changed twice at once", () => {
  it("keep an email or a phone: of two changes clearing one each, one is refused", async () => {
    const ana = await join({ email: `ana-${++seq}@example.com`, phone: `+31 6 3000000${seq}` });
    const answers = await together(ana, [{ email: null }, { phone: null }]);
    const outcome = answers.map((r) => [r.status, r.body.error?.code ?? null]).sort();
    expect(outcome).toEqual([
      [200, null],
      [400, "contact_required"],
    ]);
    const details = (await biz.call("GET", `/v1/members/${ana.id}`)).body;
    expect([details.email, details.phone].filter((c) => c !== null)).toHaveLength(1);
    expect(await updates(ana.id)).toHaveLength(1);
  });

  it("set the birthday once: of four birthdays sent together, one is taken", async () => {
    const ana = await join({ email: `ana-${++seq}@example.com` });
    const birthdays = ["1990-01-01", "1991-02-02", "1992-03-03", "1993-04-04"];
    const answers = await together(
      ana,
      birthdays.map((birthday) => ({ birthday })),
    );
    const outcome = answers.map((r) => [r.status, r.body.error?.code ?? null]).sort();
    expect(outcome).toEqual([
      [200, null],
      [409, "birthday_already_set"],
      [409, "birthday_already_set"],
      [409, "birthday_already_set"],
    ]);
    const taken = answers.find((r) => r.status === 200)?.body.birthday;
    expect((await biz.call("GET", `/v1/members/${ana.id}`)).body.birthday).toBe(taken);
    expect(await updates(ana.id)).toEqual([["birthday"]]);
  });
});
