import fc from "fast-check";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Actor, type AppContext, createContext } from "../../src/context.ts";
import type { Database } from "../../src/db/database.ts";
import { signup } from "../../src/modules/business/index.ts";
import { runExpiry } from "../../src/modules/ledger/index.ts";
import { DEFAULT_PROGRAM } from "../../src/modules/program/config.ts";
import { FixedClock } from "../../src/shared/clock.ts";
import { AppError } from "../../src/shared/errors.ts";
import { adjustBalance, enrollMember } from "../../src/use-cases/member-points.ts";
import { recordPurchase } from "../../src/use-cases/purchases.ts";
import { recordRefund } from "../../src/use-cases/refunds.ts";
import { openTestDatabase } from "../helpers/db.ts";

/**
 * Property: whatever sequence of purchases, refunds, spends, adjustments, clock moves, expiry
 * runs and replays happens to a member, the ledger's invariants hold after every step.
 */

type Op =
  | { op: "purchase"; amount: number; coffees: number }
  | { op: "refund"; of: number; fraction: number }
  | { op: "spend"; points: number }
  | { op: "adjust"; points: number }
  | { op: "advance"; days: number }
  | { op: "expire" }
  | { op: "replay"; of: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      op: fc.constant("purchase" as const),
      amount: fc.integer({ min: 0, max: 20_000 }),
      coffees: fc.integer({ min: 0, max: 3 }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant("refund" as const),
      of: fc.nat(),
      fraction: fc.double({ min: 0.01, max: 1, noNaN: true }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({ op: fc.constant("spend" as const), points: fc.integer({ min: 1, max: 120 }) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant("adjust" as const),
      points: fc.integer({ min: -50, max: 100 }).filter((p) => p !== 0),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ op: fc.constant("advance" as const), days: fc.integer({ min: 0, max: 40 }) }),
  },
  { weight: 1, arbitrary: fc.constant({ op: "expire" as const }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("replay" as const), of: fc.nat() }) },
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
          expiry: { policy: "days_after_earn", days: 30 },
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
           where a.business_id = l.business_id and a.member_id = l.member_id), '-infinity')) as released_late`.execute(
    db,
  );
  const r = rows[0];
  expect(r).toBeDefined();
  if (!r) return;
  expect(r.entries).toBe(r.balance);
  expect(r.lots - r.debt).toBe(r.balance);
  expect(r.bad_lots).toBe(0);
  expect(r.bad_stamps).toBe(0);
  // A purchase reads pending lots only while the account's pending_until lies ahead.
  expect(r.released_late).toBe(0);
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

const coverage = { shortfalls: 0, earnings: 0 };
const expectedErrors = new Set(["insufficient_points", "refund_exceeds_purchase"]);

describe("ledger invariants under random operations", () => {
  it("hold after every step, and replays change nothing", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(opArb, { minLength: 1, maxLength: 24 }),
        fc.boolean(),
        fc.constantFrom(0, 0, 0, 7),
        async (ops, allowNegative, pendingDays) => {
          const { actor, memberId } = await newMember(allowNegative, pendingDays);
          const purchases: { external_id: string; body: Parameters<typeof recordPurchase>[2] }[] = [];
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
                  if ((result.member?.points.debt ?? 1) === 0 && result.earned.points.length > 0)
                    coverage.earnings++;
                  purchases.push({ external_id: body.external_id, body });
                  break;
                }
                case "refund": {
                  const target = purchases[op.of % Math.max(1, purchases.length)];
                  if (!target || target.body.amount_minor === 0) break;
                  const amount = Math.max(1, Math.floor(target.body.amount_minor * op.fraction));
                  const { result } = await recordRefund(ctx, actor, {
                    external_id: `r-${n}`,
                    purchase_external_id: target.external_id,
                    amount_minor: amount,
                  });
                  if (result.refund.points_unrecovered > 0 || (result.member?.points.debt ?? 0) > 0)
                    coverage.shortfalls++;
                  break;
                }
                case "spend":
                  await adjustBalance(
                    ctx,
                    actor,
                    memberId,
                    { points: -op.points, reason: "spend test" },
                    `s-${n}`,
                  );
                  break;
                case "adjust":
                  await adjustBalance(
                    ctx,
                    actor,
                    memberId,
                    { points: op.points, reason: "adjust test" },
                    `a-${n}`,
                  );
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
        },
      ),
      { numRuns: 30, seed: Number(process.env.FC_SEED ?? 4242), endOnFailure: true },
    );
    // The runs must reach the hard paths, or the property proves little.
    expect(coverage.shortfalls).toBeGreaterThan(0);
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
