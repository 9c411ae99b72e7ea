import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Response, startTestApp, type Tenant, type TestApp } from "../helpers/api.ts";

/**
 * Redemptions racing each other. On the PostgreSQL server the requests really run in parallel, on
 * 20 connections; PGlite has one connection, so there they run one after another and the same
 * invariants are asserted.
 */
const PARALLEL = process.env.TEST_ENGINE === "postgres";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ poolSize: 20 });
});
afterAll(async () => t?.close());

async function race<T>(tasks: (() => Promise<T>)[]): Promise<T[]> {
  if (PARALLEL) return Promise.all(tasks.map((task) => task()));
  const out: T[] = [];
  for (const task of tasks) out.push(await task());
  return out;
}

let purchaseNo = 0;

async function memberWithPoints(tenant: Tenant, points: number): Promise<string> {
  const m = await tenant.call("POST", "/v1/members", { marketing_consent: false });
  purchaseNo += 1;
  const res = await tenant.call("POST", "/v1/purchases", {
    external_id: `race-${purchaseNo}`,
    member_id: m.body.id,
    amount_minor: points * 100,
    currency: "EUR",
  });
  expect(res.status).toBe(201);
  return m.body.id;
}

async function reward(tenant: Tenant, extra: Record<string, unknown>): Promise<string> {
  const res = await tenant.call("POST", "/v1/rewards", {
    name: "Free latte",
    type: "free_product",
    value: { product_name: "Latte" },
    ...extra,
  });
  expect(res.status).toBe(201);
  return res.body.id;
}

const statuses = (responses: Response[]) =>
  responses.map((r) =>
    r.status === 201 || r.status === 200 ? r.status : `${r.status} ${r.body.error.code}`,
  );

const count = (values: unknown[], value: unknown) => values.filter((v) => v === value).length;

describe(`racing redemptions (${PARALLEL ? "in parallel" : "one after another"})`, () => {
  it("spends a balance of 120 on a reward of 50 exactly twice out of 20 attempts", async () => {
    const tenant = await t.signup();
    const memberId = await memberWithPoints(tenant, 120);
    const rewardId = await reward(tenant, { cost_points: 50 });
    const responses = await race(
      Array.from(
        { length: 20 },
        () => () => tenant.call("POST", `/v1/members/${memberId}/redemptions`, { reward_id: rewardId }),
      ),
    );
    const got = statuses(responses);
    expect(count(got, 201)).toBe(2);
    expect(count(got, "409 insufficient_points")).toBe(18);
    const account = await t.database.db
      .selectFrom("ledger_accounts")
      .select(["balance_points", "lifetime_spent_points"])
      .where("business_id", "=", tenant.businessId)
      .where("member_id", "=", memberId)
      .executeTakeFirstOrThrow();
    expect(account).toEqual({ balance_points: 20, lifetime_spent_points: 100 });
    const sums = await sql<{ entries: number; lots: number; vouchers: number }>`
      select
        (select coalesce(sum(points), 0) from ledger_entries where business_id = ${tenant.businessId} and member_id = ${memberId})::int as entries,
        (select coalesce(sum(points_remaining), 0) from ledger_lots where business_id = ${tenant.businessId} and member_id = ${memberId})::int as lots,
        (select count(*) from vouchers where business_id = ${tenant.businessId} and member_id = ${memberId})::int as vouchers`.execute(
      t.database.db,
    );
    expect(sums.rows[0]).toEqual({ entries: 20, lots: 20, vouchers: 2 });
  });

  it("issues exactly 3 vouchers of a reward with a stock of 3 to 10 members", async () => {
    const tenant = await t.signup();
    const rewardId = await reward(tenant, { cost_points: 10, stock: 3 });
    const members: string[] = [];
    for (let i = 0; i < 10; i++) members.push(await memberWithPoints(tenant, 20));
    const responses = await race(
      members.map(
        (memberId) => () =>
          tenant.call("POST", `/v1/members/${memberId}/redemptions`, { reward_id: rewardId }),
      ),
    );
    const got = statuses(responses);
    expect(count(got, 201)).toBe(3);
    expect(count(got, "409 reward_out_of_stock")).toBe(7);
    expect((await tenant.call("GET", `/v1/rewards/${rewardId}`)).body.stock).toBe(0);
    const vouchers = await t.database.db
      .selectFrom("vouchers")
      .select("member_id")
      .where("business_id", "=", tenant.businessId)
      .execute();
    expect(vouchers).toHaveLength(3);
    const spent = await t.database.db
      .selectFrom("ledger_accounts")
      .select("member_id")
      .where("business_id", "=", tenant.businessId)
      .where("lifetime_spent_points", ">", 0)
      .execute();
    expect(spent.map((s) => s.member_id).sort()).toEqual(vouchers.map((v) => v.member_id).sort());
  });

  it("confirms a voucher once and voids it at most once, however often it is tried", async () => {
    const tenant = await t.signup();
    const memberId = await memberWithPoints(tenant, 100);
    const rewardId = await reward(tenant, { cost_points: 10 });
    const issue = () => tenant.call("POST", `/v1/members/${memberId}/redemptions`, { reward_id: rewardId });
    const [used, voided] = [(await issue()).body.voucher.code, (await issue()).body.voucher.code];

    const confirms = statuses(
      await race(
        Array.from({ length: 8 }, () => () => tenant.call("POST", `/v1/vouchers/${used}/redeem`, {})),
      ),
    );
    expect(count(confirms, 200)).toBe(1);
    expect(count(confirms, "409 voucher_already_redeemed")).toBe(7);

    const voids = statuses(
      await race(
        Array.from(
          { length: 8 },
          () => () => tenant.call("POST", `/v1/vouchers/${voided}/void`, { reason: "double tap" }),
        ),
      ),
    );
    expect(count(voids, 200)).toBe(1);
    expect(count(voids, "409 voucher_voided")).toBe(7);
    const account = await t.database.db
      .selectFrom("ledger_accounts")
      .select("balance_points")
      .where("business_id", "=", tenant.businessId)
      .where("member_id", "=", memberId)
      .executeTakeFirstOrThrow();
    expect(account.balance_points).toBe(90);
  });
});
