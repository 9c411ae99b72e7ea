import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runExpiry } from "../../src/modules/ledger/index.ts";
import { startTestApp, type TestApp } from "../helpers/api.ts";
import { engine } from "../helpers/db.ts";

/**
 * The expiry run next to other writers. A batch of purchases locks several members in one
 * statement, in an order of its own; an expiry run that held one member while it waited for
 * another could close a cycle with such a batch, and PostgreSQL would abort one of the two with a
 * deadlock. Here a transaction plays that batch by hand: it holds the second member, waits until
 * the expiry run is blocked on it, then takes the first member, which the run has expired already.
 */
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ poolSize: 6 });
});
afterAll(async () => t?.close());

const DAY = 86_400_000;

/** Waits (up to 10 s) until a statement of this database waits on a row lock. */
async function blockedOnALock(): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from pg_stat_activity
      where datname = current_database() and wait_event_type = 'Lock'`.execute(t.database.db);
    if ((rows[0]?.n ?? 0) > 0) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error("the expiry run never came to wait on the held member");
}

describe("the expiry run", () => {
  it("holds one member at a time, so a writer holding another member never deadlocks with it", async () => {
    const owner = await t.signup();
    const key = (await owner.call("POST", "/v1/api-keys", { name: "POS", role: "manager" })).body.key;
    const tenant = owner.as(key);
    const program = (await tenant.call("GET", "/v1/program")).body.config;
    const put = await tenant.call("PUT", "/v1/program", {
      ...program,
      points: { ...program.points, pending_days: 0, expiry: { policy: "days_after_earn", days: 30 } },
    });
    expect(put.status).toBe(200);
    const member = async () =>
      (await tenant.call("POST", "/v1/members", { marketing_consent: false })).body.id as string;
    const [first, second] = [await member(), await member()];
    const buy = async (memberId: string, n: number) => {
      const res = await tenant.call("POST", "/v1/purchases", {
        external_id: `exp-${n}`,
        member_id: memberId,
        amount_minor: 1_000 * n,
        currency: "EUR",
      });
      expect(res.status).toBe(201);
    };
    // The first member's lot expires first, so the run comes to it first.
    await buy(first as string, 1);
    t.clock.advance(DAY);
    await buy(second as string, 2);
    t.clock.advance(31 * DAY);

    const lockState = (tx: typeof t.database.db, memberId: string) =>
      sql`select member_id from member_state
        where business_id = ${tenant.businessId} and member_id = ${memberId} for update`.execute(tx);
    let run: ReturnType<typeof runExpiry> | undefined;
    await t.database.db.transaction().execute(async (tx) => {
      if (engine === "postgres") {
        await lockState(tx, second as string);
        run = runExpiry(t.database.db, t.clock.now(), { businessId: tenant.businessId });
        await blockedOnALock();
        // The run has finished the first member and let it go: taking it does not wait.
        await lockState(tx, first as string);
        const expired = await tx
          .selectFrom("ledger_lots")
          .select("points_remaining")
          .where("business_id", "=", tenant.businessId)
          .where("member_id", "=", first as string)
          .executeTakeFirstOrThrow();
        expect(expired.points_remaining).toBe(0);
      }
    });
    // PGlite is one connection: there the run simply goes after the transaction.
    const result = await (run ?? runExpiry(t.database.db, t.clock.now(), { businessId: tenant.businessId }));
    expect(result).toEqual({ lots: 2, points: 30 });
    const balances = await t.database.db
      .selectFrom("ledger_accounts")
      .select(["member_id", "balance_points"])
      .where("business_id", "=", tenant.businessId)
      .execute();
    expect(balances.map((b) => b.balance_points)).toEqual([0, 0]);
    expect(await runExpiry(t.database.db, t.clock.now(), { businessId: tenant.businessId })).toEqual({
      lots: 0,
      points: 0,
    });
  });
});
