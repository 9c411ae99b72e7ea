import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runTierSweep } from "../../src/jobs/index.ts";
import { runExpiry } from "../../src/modules/ledger/index.ts";
import { startTestApp, type TestApp } from "../helpers/api.ts";
import { blockedOnALock, engine } from "../helpers/db.ts";

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

/**
 * A business with the program changed by `program`, and two members who each bought, a day
 * apart (the first member's lot or tier ends first, so a job comes to that member first); then
 * the clock moves on by `later`.
 */
async function twoBuyers(program: (config: any) => unknown, amounts: [number, number], later: number) {
  const owner = await t.signup();
  const key = (await owner.call("POST", "/v1/api-keys", { name: "POS", role: "manager" })).body.key;
  const tenant = owner.as(key);
  const config = (await tenant.call("GET", "/v1/program")).body.config;
  expect((await tenant.call("PUT", "/v1/program", program(config))).status).toBe(200);
  const tier = await tenant.call("POST", "/v1/tiers", { name: "Gold", rank: 1, threshold: 10_000 });
  expect(tier.status).toBe(201);
  const member = async () =>
    (await tenant.call("POST", "/v1/members", { marketing_consent: false })).body.id as string;
  const members = [await member(), await member()] as const;
  for (const [n, memberId] of members.entries()) {
    const res = await tenant.call("POST", "/v1/purchases", {
      external_id: `buy-${n}`,
      member_id: memberId,
      amount_minor: amounts[n],
      currency: "EUR",
    });
    expect(res.status).toBe(201);
    t.clock.advance(DAY);
  }
  t.clock.advance(later);
  /** Takes the member's lock, as a batch of purchases would. */
  const lockState = (tx: typeof t.database.db, memberId: string) =>
    sql`select member_id from member_state
      where business_id = ${tenant.businessId} and member_id = ${memberId} for update`.execute(tx);
  return { tenant, first: members[0], second: members[1], gold: tier.body.id as string, lockState };
}

describe("the expiry run", () => {
  it("holds one member at a time, so a writer holding another member never deadlocks with it", async () => {
    const { tenant, first, second, lockState } = await twoBuyers(
      (config) => ({
        ...config,
        points: { ...config.points, pending_days: 0, expiry: { policy: "days_after_earn", days: 30 } },
      }),
      [1_000, 2_000],
      30 * DAY,
    );
    let run: ReturnType<typeof runExpiry> | undefined;
    await t.database.db.transaction().execute(async (tx) => {
      if (engine === "postgres") {
        await lockState(tx, second);
        run = runExpiry(t.database.db, t.clock.now(), { businessId: tenant.businessId });
        await blockedOnALock(t.database.db);
        // The run has finished the first member and let it go: taking it does not wait.
        await lockState(tx, first);
        const expired = await tx
          .selectFrom("ledger_lots")
          .select("points_remaining")
          .where("business_id", "=", tenant.businessId)
          .where("member_id", "=", first)
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
    const { tenant, first, second, gold, lockState } = await twoBuyers(
      (config) => ({ ...config, tiers: { metric: "spend", period: "rolling_12_months" } }),
      [10_000, 10_000],
      399 * DAY,
    );
    const tierOf = async (db: typeof t.database.db, memberId: string) =>
      (
        await db
          .selectFrom("members")
          .select("tier_id")
          .where("business_id", "=", tenant.businessId)
          .where("id", "=", memberId)
          .executeTakeFirstOrThrow()
      ).tier_id;
    expect(await tierOf(t.database.db, first)).toBe(gold);

    let sweep: ReturnType<typeof runTierSweep> | undefined;
    await t.database.db.transaction().execute(async (tx) => {
      if (engine === "postgres") {
        await lockState(tx, second);
        sweep = runTierSweep(t.ctx, t.clock.now());
        await blockedOnALock(t.database.db);
        // The sweep has ended the first member's Gold and let the member go.
        await lockState(tx, first);
        expect(await tierOf(tx, first)).toBeNull();
      }
    });
    const result = await (sweep ?? runTierSweep(t.ctx, t.clock.now()));
    expect(result).toEqual({ members: 2, changed: 2 });
    expect(await tierOf(t.database.db, second)).toBeNull();
  });
});
