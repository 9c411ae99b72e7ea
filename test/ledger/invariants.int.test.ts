import fc from "fast-check";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Actor, type AppContext, createContext } from "../../src/context.ts";
import type { Database } from "../../src/db/database.ts";
import { bindText } from "../../src/db/sql-text.ts";
import { signup } from "../../src/modules/business/index.ts";
import { pointsBalance, runExpiry } from "../../src/modules/ledger/index.ts";
import { DEFAULT_PROGRAM } from "../../src/modules/program/config.ts";
import { createReward, RewardInput } from "../../src/modules/rewards/index.ts";
import { TIER_METRIC_TEXT } from "../../src/modules/tiers/metric.ts";
import { FixedClock } from "../../src/shared/clock.ts";
import { AppError } from "../../src/shared/errors.ts";
import { type CodedReason, english, REASON_CODES } from "../../src/shared/reason.ts";
import { adjustBalance, enrollMember } from "../../src/use-cases/member-points.ts";
import { recordPurchase } from "../../src/use-cases/purchases.ts";
import { redeemReward, voidVoucher } from "../../src/use-cases/redemptions.ts";
import { recordRefund } from "../../src/use-cases/refunds.ts";
import { openTestDatabase } from "../helpers/db.ts";

/**
 * Property: whatever sequence of purchases, refunds, spends, adjustments, redemptions and voids,
 * clock moves, expiry runs and replays happens to a member, the ledger's invariants hold after
 * every step.
 */

type Op =
  | { op: "purchase"; amount: number; coffees: number }
  | { op: "refund"; of: number; fraction: number }
  | { op: "spend"; points: number }
  | { op: "adjust"; points: number }
  | { op: "advance"; days: number }
  | { op: "expire" }
  | { op: "replay"; of: number }
  | { op: "redeem"; cost: number | "all" }
  | { op: "void"; of: number };

/** One arbitrary per kind of step. */
const arbs: { [K in Op["op"]]: fc.Arbitrary<Extract<Op, { op: K }>> } = {
  purchase: fc.record({
    op: fc.constant("purchase" as const),
    amount: fc.integer({ min: 0, max: 20_000 }),
    coffees: fc.integer({ min: 0, max: 3 }),
  }),
  refund: fc.record({
    op: fc.constant("refund" as const),
    of: fc.nat(),
    fraction: fc.double({ min: 0.01, max: 1, noNaN: true }),
  }),
  spend: fc.record({ op: fc.constant("spend" as const), points: fc.integer({ min: 1, max: 120 }) }),
  adjust: fc.record({
    op: fc.constant("adjust" as const),
    points: fc.integer({ min: -50, max: 100 }).filter((p) => p !== 0),
  }),
  advance: fc.record({ op: fc.constant("advance" as const), days: fc.integer({ min: 0, max: 40 }) }),
  expire: fc.constant({ op: "expire" as const }),
  replay: fc.record({ op: fc.constant("replay" as const), of: fc.nat() }),
  redeem: fc.record({
    op: fc.constant("redeem" as const),
    // "all": a reward that costs every point the member has, so a refund after it has to write
    // points off (unless the balance may go negative), and a void then gives them back.
    cost: fc.oneof(fc.integer({ min: 1, max: 150 }), fc.constant("all" as const)),
  }),
  void: fc.record({ op: fc.constant("void" as const), of: fc.nat() }),
};

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: arbs.purchase },
  { weight: 3, arbitrary: arbs.refund },
  { weight: 3, arbitrary: arbs.spend },
  { weight: 1, arbitrary: arbs.adjust },
  { weight: 2, arbitrary: arbs.advance },
  { weight: 1, arbitrary: arbs.expire },
  { weight: 1, arbitrary: arbs.replay },
  { weight: 2, arbitrary: arbs.redeem },
  { weight: 2, arbitrary: arbs.void },
);

/**
 * Mostly redemptions, refunds and voids: a refund after a redemption has points to write off, and
 * a void then gives them back to the refunded purchase's lot.
 */
const voucherOpArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant("purchase" as const),
      amount: fc.integer({ min: 1_000, max: 20_000 }),
      coffees: fc.integer({ min: 0, max: 3 }),
    }),
  },
  { weight: 3, arbitrary: arbs.redeem },
  // Refunds of a half or all: a small share of a purchase takes back next to no points.
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant("refund" as const),
      of: fc.nat(),
      fraction: fc.constantFrom(0.5, 1),
    }),
  },
  { weight: 3, arbitrary: arbs.void },
  { weight: 1, arbitrary: arbs.spend },
  // Days, not months: points that expire before the void are not given back for a refund to take.
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant("advance" as const), days: fc.integer({ min: 0, max: 5 }) }),
  },
  { weight: 1, arbitrary: arbs.expire },
);

let database: Database;
let ctx: AppContext;
let clock: FixedClock;
beforeAll(async () => {
  database = await openTestDatabase();
  clock = new FixedClock(new Date("2026-01-05T10:00:00Z"));
  ctx = createContext(database.db, clock);
});
afterAll(async () => database?.close());

let seq = 0;
async function newMember(
  allowNegative: boolean,
  pendingDays: number,
  expiryDays = 30,
): Promise<{ actor: Actor; memberId: string }> {
  seq++;
  const { business, owner } = await signup(
    database.db,
    {
      slug: `prop-${seq}-${Date.now().toString(36)}`,
      name: "Prop",
      currency: "EUR",
      timezone: "Europe/Amsterdam",
      locale: "en",
      owner: { email: "o@prop.test", name: "O", password: "long enough password" },
      program: {
        ...DEFAULT_PROGRAM,
        points: {
          ...DEFAULT_PROGRAM.points,
          pending_days: pendingDays,
          allow_negative_balance: allowNegative,
          expiry: { policy: "days_after_earn", days: expiryDays },
        },
      },
    },
    clock.now(),
  );
  const actor: Actor = { businessId: business.id, kind: "staff", id: owner.id, role: "owner" };
  const { body } = await enrollMember(ctx, actor, { marketing_consent: false }, undefined);
  return { actor, memberId: body.id };
}

async function checkInvariants(businessId: string, memberId: string, allowNegative: boolean): Promise<void> {
  const db = database.db;
  const { rows } = await sql<{
    entries: number;
    balance: number;
    debt: number;
    lots: number;
    bad_lots: number;
    bad_stamps: number;
    released_late: number;
    invented: number;
  }>`
    select
      (select coalesce(sum(points), 0)::int from ledger_entries where business_id = ${businessId} and member_id = ${memberId}) as entries,
      coalesce((select balance_points::int from ledger_accounts where business_id = ${businessId} and member_id = ${memberId}), 0) as balance,
      coalesce((select debt_points::int from ledger_accounts where business_id = ${businessId} and member_id = ${memberId}), 0) as debt,
      (select coalesce(sum(points_remaining), 0)::int from ledger_lots where business_id = ${businessId} and member_id = ${memberId}) as lots,
      (select count(*)::int from ledger_lots l where business_id = ${businessId} and member_id = ${memberId}
         and (points_remaining < 0 or points_remaining > points_initial or points_remaining <> points_initial +
              (select coalesce(sum(a.points), 0) from ledger_allocations a where a.business_id = l.business_id and a.lot_id = l.id)
           or points_initial <> (select coalesce(sum(e.points), 0) from ledger_entries e
              where e.business_id = l.business_id and e.member_id = l.member_id and e.source_type = l.source_type
                and e.source_id = l.source_id and e.kind in ('earn', 'adjust') and e.points > 0))) as bad_lots,
      (select count(*)::int from stamp_balances b where business_id = ${businessId} and member_id = ${memberId}
         and stamps <> (select coalesce(sum(e.stamps), 0) from stamp_entries e where e.business_id = b.business_id and e.member_id = b.member_id and e.stamp_card_id = b.stamp_card_id)) as bad_stamps,
      (select count(*)::int from ledger_lots l where business_id = ${businessId} and member_id = ${memberId}
         and l.available_at > coalesce((select pending_until from ledger_accounts a
           where a.business_id = l.business_id and a.member_id = l.member_id), '-infinity')) as released_late,
      -- A purchase whose refunds wrote points off holds no usable points: what a void gives back
      -- to its lot goes to those refunds first.
      (select count(*)::int from purchases p where p.business_id = ${businessId} and p.member_id = ${memberId}
         and exists (select 1 from refunds f where f.business_id = p.business_id and f.purchase_id = p.id and f.points_unrecovered > 0)
         and exists (select 1 from ledger_lots l where l.business_id = p.business_id and l.member_id = p.member_id
           and l.source_type = 'purchase' and l.source_id = p.id::text and l.points_remaining > 0
           and (l.expires_at is null or l.expires_at > ${clock.now()}))) as invented`.execute(db);
  const r = rows[0];
  expect(r).toBeDefined();
  if (!r) return;
  expect(r.entries).toBe(r.balance);
  expect(r.lots - r.debt).toBe(r.balance);
  expect(r.bad_lots).toBe(0);
  expect(r.bad_stamps).toBe(0);
  // A purchase reads pending lots only while the account's pending_until lies ahead.
  expect(r.released_late).toBe(0);
  expect(r.invented).toBe(0);
  if (!allowNegative) expect(r.debt).toBe(0);
  expect(r.debt).toBeGreaterThanOrEqual(0);
}

async function balanceSnapshot(businessId: string): Promise<string> {
  const { rows } =
    await sql`select (select coalesce(sum(points), 0) from ledger_entries where business_id = ${businessId}) as e,
    (select count(*) from ledger_entries where business_id = ${businessId}) as n,
    (select count(*) from purchases where business_id = ${businessId}) as p`.execute(database.db);
  return JSON.stringify(rows);
}

/** Each refund's points, taken back or written off: a void may move them from one to the other, never change the sum. */
async function refundPoints(businessId: string): Promise<Map<string, number>> {
  const rows = await database.db
    .selectFrom("refunds")
    .select(["id", "points_reversed", "points_unrecovered", "points_expired"])
    .where("business_id", "=", businessId)
    .execute();
  return new Map(rows.map((r) => [r.id, r.points_reversed + r.points_unrecovered + r.points_expired]));
}

async function expiredByRefunds(businessId: string): Promise<number> {
  const row = await database.db
    .selectFrom("refunds")
    .select((eb) => eb.fn.coalesce(eb.fn.sum<number>("points_expired"), eb.lit(0)).as("points"))
    .where("business_id", "=", businessId)
    .executeTakeFirst();
  return Number(row?.points ?? 0);
}

async function reversedByRefunds(businessId: string): Promise<number> {
  const row = await database.db
    .selectFrom("refunds")
    .select((eb) => eb.fn.coalesce(eb.fn.sum<number>("points_reversed"), eb.lit(0)).as("points"))
    .where("business_id", "=", businessId)
    .executeTakeFirst();
  return Number(row?.points ?? 0);
}

/** The points tier metric over all time: earnings net of refunds, taken back or written off. */
async function pointsMetric(businessId: string, memberId: string): Promise<number> {
  const value = bindText<string>(TIER_METRIC_TEXT.points, {
    business: businessId,
    member: memberId,
    from: new Date("2000-01-01T00:00:00Z"),
    now: clock.now(),
  });
  const { rows } = await sql<{ value: string }>`select ${value} as value`.execute(database.db);
  return Number(rows[0]?.value);
}

const coverage = { shortfalls: 0, earnings: 0, collections: 0, expiredOnVoid: 0 };
const expectedErrors = new Set(["insufficient_points", "voucher_expired"]);

/** Runs one random sequence on a new member, checking the invariants after every step. */
async function runSequence(
  ops: Op[],
  allowNegative: boolean,
  pendingDays: number,
  expiryDays = 30,
): Promise<void> {
  const { actor, memberId } = await newMember(allowNegative, pendingDays, expiryDays);
  const purchases: {
    external_id: string;
    body: Parameters<typeof recordPurchase>[2];
    refunded: number;
  }[] = [];
  const vouchers: string[] = [];
  let n = 0;
  for (const op of ops) {
    n++;
    try {
      switch (op.op) {
        case "purchase": {
          const items =
            op.coffees > 0
              ? [
                  {
                    sku: "latte",
                    category: "coffee",
                    quantity: op.coffees,
                    unit_price_minor: Math.floor(op.amount / op.coffees),
                  },
                ]
              : [];
          const body = {
            external_id: `p-${n}`,
            member_id: memberId,
            amount_minor: op.amount,
            currency: "EUR",
            items,
          };
          const { result } = await recordPurchase(ctx, actor, body);
          if ((result.member?.points.debt ?? 1) === 0 && result.earned.points.length > 0) coverage.earnings++;
          purchases.push({ external_id: body.external_id, body, refunded: 0 });
          break;
        }
        case "refund": {
          const target = purchases[op.of % Math.max(1, purchases.length)];
          // A share of the purchase, at most what is left of it.
          const left = (target?.body.amount_minor ?? 0) - (target?.refunded ?? 0);
          if (!target || left <= 0) break;
          const amount = Math.min(left, Math.max(1, Math.floor(target.body.amount_minor * op.fraction)));
          const { result } = await recordRefund(ctx, actor, {
            external_id: `r-${n}`,
            purchase_external_id: target.external_id,
            amount_minor: amount,
          });
          target.refunded += amount;
          if (result.refund.points_unrecovered > 0 || (result.member?.points.debt ?? 0) > 0)
            coverage.shortfalls++;
          break;
        }
        case "spend":
          await adjustBalance(ctx, actor, memberId, { points: -op.points, reason: "spend test" }, `s-${n}`);
          break;
        case "adjust":
          await adjustBalance(ctx, actor, memberId, { points: op.points, reason: "adjust test" }, `a-${n}`);
          break;
        case "advance":
          clock.advance(op.days * 86_400_000);
          break;
        case "expire":
          await runExpiry(database.db, clock.now(), { businessId: actor.businessId, batchSize: 3 });
          break;
        case "replay": {
          const target = purchases[op.of % Math.max(1, purchases.length)];
          if (!target) break;
          const before = await balanceSnapshot(actor.businessId);
          const { replayed } = await recordPurchase(ctx, actor, target.body);
          expect(replayed).toBe(true);
          expect(await balanceSnapshot(actor.businessId)).toBe(before);
          break;
        }
        case "redeem": {
          const cost =
            op.cost === "all"
              ? (await pointsBalance(database.db, actor.businessId, memberId, clock.now(), clock.now()))
                  .available
              : op.cost;
          if (cost <= 0) break;
          const input = RewardInput.parse({
            name: `Reward ${n}`,
            type: "free_product",
            value: { product_name: "Cake" },
            cost_points: cost,
          });
          const reward = await createReward(database.db, actor, input, clock.now());
          const { body } = await redeemReward(ctx, actor, memberId, { reward_id: reward.id });
          vouchers.push(body.voucher.code);
          break;
        }
        case "void": {
          if (vouchers.length === 0) break;
          const [code] = vouchers.splice(op.of % vouchers.length, 1);
          const before = {
            refunds: await refundPoints(actor.businessId),
            reversed: await reversedByRefunds(actor.businessId),
            expired: await expiredByRefunds(actor.businessId),
            metric: await pointsMetric(actor.businessId, memberId),
          };
          await voidVoucher(ctx, actor, code ?? "", { reason: "void test" });
          // A refund that collects what it wrote off moves it to its reversal, and one whose
          // purchase's points come back expired moves what it took to expired: the sum it took
          // off, and with it the points metric, stay.
          expect(await refundPoints(actor.businessId)).toEqual(before.refunds);
          expect(await pointsMetric(actor.businessId, memberId)).toBe(before.metric);
          if ((await reversedByRefunds(actor.businessId)) > before.reversed) coverage.collections++;
          if ((await expiredByRefunds(actor.businessId)) > before.expired) coverage.expiredOnVoid++;
          break;
        }
      }
    } catch (error) {
      if (!(error instanceof AppError && expectedErrors.has(error.code))) throw error;
    }
    await checkInvariants(actor.businessId, memberId, allowNegative);
  }
  // After a final expiry run nothing past its expiry still holds points.
  await runExpiry(database.db, clock.now(), { businessId: actor.businessId });
  const { rows } = await sql<{ n: number }>`select count(*)::int as n from ledger_lots
  where business_id = ${actor.businessId} and expires_at <= ${clock.now()} and points_remaining > 0`.execute(
    database.db,
  );
  expect(rows[0]?.n).toBe(0);
  await checkInvariants(actor.businessId, memberId, allowNegative);
  await checkReasons(actor.businessId);
}

/**
 * Every reason the server wrote carries its code, and its text is that code's English wording of
 * its figures (what a screen words in another language says the same); only staff's own words
 * (a correction by hand) have none.
 */
async function checkReasons(businessId: string): Promise<void> {
  const { rows } = await sql<{
    kind: string;
    reason: string;
    reason_code: string | null;
    reason_params: unknown;
  }>`
    select kind, reason, reason_code, reason_params from ledger_entries where business_id = ${businessId}
    union all select kind, reason, reason_code, reason_params from stamp_entries where business_id = ${businessId}
    union all select 'tier', reason, reason_code, reason_params from tier_changes where business_id = ${businessId}`.execute(
    database.db,
  );
  for (const row of rows) {
    if (row.kind === "adjust") {
      expect(row.reason_code).toBeNull();
      continue;
    }
    expect(REASON_CODES).toContain(row.reason_code);
    expect(english({ code: row.reason_code, params: row.reason_params } as CodedReason)).toBe(row.reason);
  }
}

const runs = (numRuns: number) => ({
  numRuns: Number(process.env.FC_RUNS ?? numRuns),
  seed: Number(process.env.FC_SEED ?? 4242),
  endOnFailure: true,
});

describe("ledger invariants under random operations", () => {
  it("hold after every step, and replays change nothing", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(opArb, { minLength: 1, maxLength: 24 }),
        fc.boolean(),
        fc.constantFrom(0, 0, 0, 7),
        (ops, neg, pending) => runSequence(ops, neg, pending),
      ),
      runs(30),
    );
    // The runs must reach the hard paths, or the property proves little.
    expect(coverage.shortfalls).toBeGreaterThan(0);
  }, 240_000);

  it("hold when vouchers are voided after refunds of the points they paid with", async () => {
    const before = coverage.collections;
    await fc.assert(
      fc.asyncProperty(
        fc.array(voucherOpArb, { minLength: 12, maxLength: 24 }),
        fc.boolean(),
        fc.constant(0),
        (ops, neg, pending) => runSequence(ops, neg, pending),
      ),
      runs(30),
    );
    // Some voids must give back points a refund had written off, or this proves little.
    expect(coverage.collections - before).toBeGreaterThan(0);
  }, 240_000);

  it("hold when vouchers are voided after their points expired and their purchase was refunded", async () => {
    const before = coverage.expiredOnVoid;
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof(
            { weight: 4, arbitrary: voucherOpArb },
            {
              weight: 1,
              arbitrary: fc.record({
                op: fc.constant("advance" as const),
                days: fc.integer({ min: 2, max: 6 }),
              }),
            },
          ),
          { minLength: 12, maxLength: 24 },
        ),
        // Points that live a week, so lots expire between a redemption, a refund and a void.
        (ops) => runSequence(ops, false, 0, 7),
      ),
      runs(30),
    );
    // Some voids must give points back to a lot that had expired before its refund.
    expect(coverage.expiredOnVoid - before).toBeGreaterThan(0);
  }, 240_000);
});

describe("refunds of points already spent", () => {
  it.each([
    [true, -90, 90, 0],
    [false, 0, 0, 90],
  ])(
    "with negative balances allowed=%s the balance is %i, the debt %i, written off %i",
    async (allowNegative, balance, debt, unrecovered) => {
      const { actor, memberId } = await newMember(allowNegative, 0);
      await recordPurchase(ctx, actor, {
        external_id: "big",
        member_id: memberId,
        amount_minor: 10_000,
        currency: "EUR",
        items: [],
      });
      await adjustBalance(ctx, actor, memberId, { points: -90, reason: "spent on a reward" }, "spend-90");
      const { result } = await recordRefund(ctx, actor, {
        external_id: "ref",
        purchase_external_id: "big",
        amount_minor: 10_000,
      });
      expect(result.refund.points_reversed).toBe(100 - unrecovered);
      expect(result.refund.points_unrecovered).toBe(unrecovered);
      expect(result.member?.points.available).toBe(balance);
      expect(result.member?.points.debt).toBe(debt);
      await checkInvariants(actor.businessId, memberId, allowNegative);
      // New points settle the debt first.
      const next = await recordPurchase(ctx, actor, {
        external_id: "next",
        member_id: memberId,
        amount_minor: 12_000,
        currency: "EUR",
        items: [],
      });
      expect(next.result.member?.points.available).toBe(balance + 120);
      expect(next.result.member?.points.debt).toBe(0);
      await checkInvariants(actor.businessId, memberId, allowNegative);
    },
  );
});
