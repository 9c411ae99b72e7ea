import { type RawBuilder, sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Response, startTestApp, type Tenant, type TestApp } from "../helpers/api.ts";
import { blockedOnALock, engine } from "../helpers/db.ts";

/**
 * A redemption and a manager's change of the same reward at the same time. The redemption decides
 * from the reward's row (stock, status, dates), so it must decide from the row it commits
 * against: it locks the reward, and a change that commits while it runs is either waited for and
 * read, or waits for it. On the PostgreSQL server the two really overlap; PGlite has one
 * connection, so there the change commits first and the same outcome is asserted.
 */
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ poolSize: 20 });
});
afterAll(async () => t?.close());

let purchaseNo = 0;

async function memberWithPoints(tenant: Tenant, points: number): Promise<string> {
  const m = await tenant.call("POST", "/v1/members", { marketing_consent: false });
  purchaseNo += 1;
  const res = await tenant.call("POST", "/v1/purchases", {
    external_id: `stock-${purchaseNo}`,
    member_id: m.body.id,
    amount_minor: points * 100,
    currency: "EUR",
  });
  expect(res.status).toBe(201);
  return m.body.id;
}

async function reward(tenant: Tenant, extra: Record<string, unknown>): Promise<string> {
  const res = await tenant.call("POST", "/v1/rewards", {
    name: "Roastery tour",
    type: "experience",
    value: { place: "Roastery" },
    cost_points: 10,
    ...extra,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id;
}

const outcome = (r: Response) =>
  r.status === 201 || r.status === 200 ? r.status : `${r.status} ${r.body.error?.code}`;

async function vouchersOf(tenant: Tenant) {
  return t.database.db
    .selectFrom("vouchers")
    .select(["member_id", "stock_taken"])
    .where("business_id", "=", tenant.businessId)
    .execute();
}

async function stockOf(tenant: Tenant, rewardId: string): Promise<number | null> {
  return (await tenant.call("GET", `/v1/rewards/${rewardId}`)).body.stock;
}

describe("a redemption while the manager changes the reward", () => {
  it.each([
    // Read as unlimited, then closed: a voucher without a unit would go past the capacity just set.
    [
      "sets a stock of 0 on an unlimited reward",
      { stock: null },
      sql`stock = 0`,
      "409 reward_out_of_stock",
      0,
      [],
    ],
    // Read as unlimited, then limited: the voucher must take one of the units just set.
    ["sets a stock of 5 on an unlimited reward", { stock: null }, sql`stock = 5`, 201, 4, [true]],
    // Read with 3 left, then made unlimited: no false "out of stock", and no unit taken.
    ["makes a reward with 3 left unlimited", { stock: 3 }, sql`stock = null`, 201, null, [false]],
    ["deactivates the reward", { stock: null }, sql`active = false`, "422 reward_inactive", null, []],
    ["archives the reward", { stock: 2 }, sql`archived_at = now()`, "422 reward_inactive", 2, []],
  ] as [string, Record<string, unknown>, RawBuilder<unknown>, string | number, number | null, boolean[]][])(
    "goes by the change when the manager %s",
    async (_label, before, change, expected, stockAfter, taken) => {
      const tenant = await t.signup();
      const rewardId = await reward(tenant, before);
      const memberId = await memberWithPoints(tenant, 20);
      const redeem = () =>
        tenant.call("POST", `/v1/members/${memberId}/redemptions`, { reward_id: rewardId });
      let running: Promise<Response> | undefined;
      // The manager's change, as `PATCH /v1/rewards/:id` makes it (the row locked, then updated),
      // held open while the redemption starts.
      await t.database.db.transaction().execute(async (tx) => {
        await sql`select id from rewards where business_id = ${tenant.businessId} and id = ${rewardId}
          for update`.execute(tx);
        await sql`update rewards set ${change} where business_id = ${tenant.businessId} and id = ${rewardId}`.execute(
          tx,
        );
        if (engine === "postgres") {
          running = redeem();
          // The redemption waits for the change: it read nothing of the reward that is about to
          // change. (Unlocked, it read the reward as it was and did not wait.)
          await blockedOnALock(t.database.db);
        }
      });
      const res = await (running ?? redeem());
      expect(outcome(res), JSON.stringify(res.body)).toBe(expected);
      expect(await stockOf(tenant, rewardId)).toBe(stockAfter);
      expect((await vouchersOf(tenant)).map((v) => v.stock_taken)).toEqual(taken);
    },
  );
});

describe("redemptions racing edits of the reward's stock", () => {
  it("never takes stock below 0, and a voucher takes a unit exactly when its reward has a stock", async () => {
    const db = t.database.db;
    // Watchers in this test's own database: every change of a stock, and what each voucher found
    // when it was issued (the reward's stock as the issuing transaction sees it).
    await sql`create table test_stock_log (
      old_stock int, new_stock int, by_manager boolean, at timestamptz default clock_timestamp())`.execute(
      db,
    );
    await sql`create table test_voucher_check (voucher_id uuid, stock_taken boolean, stock_seen int)`.execute(
      db,
    );
    await sql`create function test_log_stock() returns trigger language plpgsql as $$
      begin
        insert into test_stock_log (old_stock, new_stock, by_manager)
        values (old.stock, new.stock, new.updated_at is distinct from old.updated_at);
        return new;
      end $$`.execute(db);
    await sql`create trigger test_log_stock after update of stock on rewards
      for each row when (old.stock is distinct from new.stock) execute function test_log_stock()`.execute(db);
    await sql`create function test_check_voucher() returns trigger language plpgsql as $$
      begin
        insert into test_voucher_check
        select new.id, new.stock_taken, r.stock from rewards r
        where r.business_id = new.business_id and r.id = new.reward_id;
        return new;
      end $$`.execute(db);
    await sql`create trigger test_check_voucher after insert on vouchers
      for each row execute function test_check_voucher()`.execute(db);
    try {
      const tenant = await t.signup();
      const rewardId = await reward(tenant, { stock: 4 });
      const members: string[] = [];
      for (let i = 0; i < 24; i++) members.push(await memberWithPoints(tenant, 10));

      const stocks = [null, 3, 0, null, 5, 1, null, 0, 2, null, 4, 0];
      const redemptions = members.map(
        (memberId) => () =>
          tenant.call("POST", `/v1/members/${memberId}/redemptions`, { reward_id: rewardId }),
      );
      const edit = async (stock: number | null) => {
        // Each change moves `updated_at`, which tells the watcher a manager's edit from a redemption's.
        t.clock.advance(1);
        const res = await tenant.call("PATCH", `/v1/rewards/${rewardId}`, { stock });
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        return res;
      };
      let responses: Response[];
      if (engine === "postgres") {
        // The redemptions all at once, the edits one after another alongside them.
        const editing = (async () => {
          for (const stock of stocks) await edit(stock);
        })();
        responses = await Promise.all(redemptions.map((redeem) => redeem()));
        await editing;
      } else {
        // One connection: an edit between every two redemptions.
        responses = [];
        for (const [i, redeem] of redemptions.entries()) {
          responses.push(await redeem());
          if (i % 2 === 1) await edit(stocks[(i - 1) / 2] ?? null);
        }
      }

      const outcomes = responses.map(outcome);
      expect(outcomes.filter((o) => o !== 201 && o !== "409 reward_out_of_stock")).toEqual([]);
      const vouchers = await vouchersOf(tenant);
      expect(vouchers).toHaveLength(outcomes.filter((o) => o === 201).length);
      // Some vouchers were issued, so the checks below check something.
      expect(outcomes.filter((o) => o === 201).length).toBeGreaterThan(0);

      const checks = await sql<{ stock_taken: boolean; stock_seen: number | null }>`
        select stock_taken, stock_seen from test_voucher_check`.execute(db);
      expect(checks.rows).toHaveLength(vouchers.length);
      // A voucher took a unit exactly when its reward had a stock as it was issued: none issued
      // past a stock just set, none charged to a stock just cleared.
      expect(checks.rows.filter((c) => c.stock_taken !== (c.stock_seen !== null))).toEqual([]);

      const log = await sql<{ old_stock: number | null; new_stock: number | null; by_manager: boolean }>`
        select old_stock, new_stock, by_manager from test_stock_log order by at`.execute(db);
      expect(log.rows.filter((l) => l.new_stock !== null && l.new_stock < 0)).toEqual([]);
      const taken = log.rows.filter((l) => !l.by_manager);
      // Every unit taken is one unit off a stock, and one voucher that says it took it.
      expect(taken.filter((l) => l.old_stock === null || l.new_stock !== l.old_stock - 1)).toEqual([]);
      expect(taken).toHaveLength(vouchers.filter((v) => v.stock_taken).length);
      const final = await stockOf(tenant, rewardId);
      expect(final === null || final >= 0).toBe(true);
    } finally {
      await sql`drop trigger test_check_voucher on vouchers`.execute(db);
      await sql`drop trigger test_log_stock on rewards`.execute(db);
      await sql`drop function test_check_voucher()`.execute(db);
      await sql`drop function test_log_stock()`.execute(db);
    }
  });
});
