import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runTierSweep } from "../../src/jobs/index.ts";
import { runExpiry } from "../../src/modules/ledger/index.ts";
import { startTestApp, type TestApp } from "../helpers/api.ts";
import { engine } from "../helpers/db.ts";

/**
 * The expiry run and the tier sweep next to other writers. A batch of purchases locks several members in one
 * statement, in an order of its own; an expiry run that held one member while it waited for
 * another could close a cycle with such a batch, and PostgreSQL would abort one of the two with a
 * deadlock. Here a transaction plays that batch by hand: it holds the second member, waits until
 * the job is blocked on it, then takes the first member, which the job has finished already.
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
  throw new Error("the job never came to wait on the held member");
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

  it("the tier sweep too: one member at a time", async () => {
    const owner = await t.signup();
    const key = (await owner.call("POST", "/v1/api-keys", { name: "POS", role: "manager" })).body.key;
    const tenant = owner.as(key);
    const program = (await tenant.call("GET", "/v1/program")).body.config;
    const put = await tenant.call("PUT", "/v1/program", {
      ...program,
      tiers: { metric: "spend", period: "rolling_12_months" },
    });
    expect(put.status).toBe(200);
    const tier = await tenant.call("POST", "/v1/tiers", { name: "Gold", rank: 1, threshold: 10_000 });
    expect(tier.status).toBe(201);
    const member = async () =>
      (await tenant.call("POST", "/v1/members", { marketing_consent: false })).body.id as string;
    const [first, second] = [await member(), await member()];
    const buy = async (memberId: string, n: number) => {
      const res = await tenant.call("POST", "/v1/purchases", {
        external_id: `gold-${n}`,
        member_id: memberId,
        amount_minor: 10_000,
        currency: "EUR",
      });
      expect(res.status).toBe(201);
    };
    // The first member's Gold ends first, so the sweep comes to it first.
    await buy(first as string, 1);
    t.clock.advance(DAY);
    await buy(second as string, 2);
    t.clock.advance(400 * DAY);
    const tierOf = async (db: typeof t.database.db, memberId: string) =>
      (
        await db
          .selectFrom("members")
          .select("tier_id")
          .where("business_id", "=", tenant.businessId)
          .where("id", "=", memberId)
          .executeTakeFirstOrThrow()
      ).tier_id;
    expect(await tierOf(t.database.db, first as string)).toBe(tier.body.id);

    const lockState = (tx: typeof t.database.db, memberId: string) =>
      sql`select member_id from member_state
        where business_id = ${tenant.businessId} and member_id = ${memberId} for update`.execute(tx);
    let sweep: ReturnType<typeof runTierSweep> | undefined;
    await t.database.db.transaction().execute(async (tx) => {
      if (engine === "postgres") {
        await lockState(tx, second as string);
        sweep = runTierSweep(t.ctx, t.clock.now());
        await blockedOnALock();
        // The sweep has ended the first member's Gold and let the member go.
        await lockState(tx, first as string);
        expect(await tierOf(tx, first as string)).toBeNull();
      }
    });
    const result = await (sweep ?? runTierSweep(t.ctx, t.clock.now()));
    expect(result).toEqual({ members: 2, changed: 2 });
    expect(await tierOf(t.database.db, second as string)).toBeNull();
  });
});
