import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Actor } from "../../src/context.ts";
import { type PurchaseResult, recordPurchase } from "../../src/use-cases/purchases.ts";
import { recordRefund } from "../../src/use-cases/refunds.ts";
import { startTestApp, type Tenant, type TestApp } from "../helpers/api.ts";

/**
 * Property: a purchase recorded on the two-statement path gives exactly the answer, and leaves
 * exactly the state, that the locked path gives. Two members of one café receive the same random
 * purchases, refunds, passing days and changes of a tier's threshold: one through the two-statement path, one through the locked
 * path only; their answers are compared after each step, with ids taken out.
 */

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ now: "2026-03-02T06:30:00Z" });
});
afterAll(async () => t?.close());

async function ok(tenant: Tenant, method: "POST" | "PUT" | "PATCH", url: string, body: unknown) {
  const res = await tenant.call(method, url, body);
  if (res.status >= 300) throw new Error(`${method} ${url} → ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** A café with every part a purchase touches: pending points that expire, a card, tiers, capped rules, rewards. */
async function cafe(): Promise<{ tenant: Tenant; actor: Actor; members: [string, string]; gold: string }> {
  const tenant = await t.signup();
  const program = (await tenant.call("GET", "/v1/program")).body.config;
  await ok(tenant, "PUT", "/v1/program", {
    ...program,
    points: {
      ...program.points,
      pending_days: 1,
      expiry: { policy: "days_after_earn", days: 20 },
      expiring_soon_days: 30,
    },
  });
  const card = await ok(tenant, "POST", "/v1/stamp-cards", {
    name: "Coffee card",
    stamps_required: 5,
    earn_on: "item",
    item_match: { categories: ["coffee"] },
  });
  await ok(tenant, "POST", "/v1/tiers", {
    name: "Silver",
    rank: 1,
    threshold: 1_000,
    earn_multiplier_bp: 12_500,
  });
  const gold = await ok(tenant, "POST", "/v1/tiers", {
    name: "Gold",
    rank: 2,
    threshold: 5_000,
    earn_multiplier_bp: 15_000,
  });
  await ok(tenant, "POST", "/v1/rules", {
    name: "Big order",
    trigger: "purchase",
    conditions: { min_spend_minor: 1_500 },
    effect: { type: "fixed_points", points: 10 },
    cap: { period: "day", max_times: 1 },
  });
  await ok(tenant, "POST", "/v1/rules", {
    name: "Extra stamp on big orders",
    trigger: "purchase",
    conditions: { min_spend_minor: 2_000 },
    effect: { type: "stamps", stamp_card_id: card.id, stamps: 1 },
    cap: { period: "week", max_times: 2 },
  });
  // Purchases dated back (up to 25 days) land in last month's cap period, or last week's, or
  // yesterday's: each meets the cap of its own period.
  await ok(tenant, "POST", "/v1/rules", {
    name: "Monthly thanks",
    trigger: "purchase",
    conditions: { min_spend_minor: 1_000 },
    effect: { type: "fixed_points", points: 4 },
    cap: { period: "month", max_points: 10 },
  });
  await ok(tenant, "POST", "/v1/rewards", {
    name: "Cookie",
    type: "free_product",
    value: { product_name: "Cookie" },
    cost_points: 15,
  });
  await ok(tenant, "POST", "/v1/rewards", {
    name: "Free coffee",
    type: "free_product",
    value: { product_name: "Any coffee" },
    stamp_card_id: card.id,
  });
  const a = await ok(tenant, "POST", "/v1/members", { name: "Fast", marketing_consent: false });
  const b = await ok(tenant, "POST", "/v1/members", { name: "Locked", marketing_consent: false });
  const actor: Actor = { businessId: tenant.businessId, kind: "system", id: "test", role: "owner" };
  // The steps move the clock by up to weeks at a time, past the owner's 30-day session: the
  // program changes go through a manager's API key, which does not expire.
  const key = await ok(tenant, "POST", "/v1/api-keys", { name: "Back office", role: "manager" });
  return { tenant: tenant.as(key.key), actor, members: [a.id, b.id], gold: gold.id };
}

type Op =
  | { op: "purchase"; amount: number; coffees: number; backdateHours: number }
  | { op: "refund"; of: number; fraction: number }
  | { op: "advance"; hours: number }
  | { op: "gold"; threshold: number }
  | { op: "replay"; of: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      op: fc.constant("purchase" as const),
      amount: fc.integer({ min: 0, max: 3_000 }),
      coffees: fc.integer({ min: 0, max: 3 }),
      // -0.07 h: 4 minutes ahead of the server's clock, within the skew a till's clock may have.
      backdateHours: fc.constantFrom(0, 0, 0, 5, 30, 24 * 25, -0.07),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant("refund" as const),
      of: fc.nat(),
      fraction: fc.double({ min: 0.1, max: 1, noNaN: true }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant("advance" as const),
      hours: fc.integer({ min: 1, max: 24 * 12 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("replay" as const), of: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant("gold" as const),
      threshold: fc.constantFrom(2_000, 5_000, 8_000),
    }),
  },
);

/** The answer with what differs by construction (ids, codes, external ids) taken out. */
function comparable(result: PurchaseResult) {
  const {
    id: _id,
    external_id: _external,
    member_id: _member,
    created_at: _created,
    ...purchase
  } = result.purchase;
  const member = result.member ? { ...result.member, id: "", code: "" } : null;
  return { ...result, purchase, member };
}

describe("the two ways of recording a purchase", () => {
  it("give the same answer and the same state", async () => {
    const start = t.clock.now();
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 14 }), async (ops) => {
        t.clock.set(start);
        const { tenant, actor, members, gold } = await cafe();
        const sent: { amount: number; bodies: Parameters<typeof recordPurchase>[2][] }[] = [];
        let n = 0;
        for (const op of ops) {
          n++;
          if (op.op === "gold") {
            // A program change between purchases: the next read must see it on both paths.
            await ok(tenant, "PATCH", `/v1/tiers/${gold}`, { threshold: op.threshold });
            continue;
          }
          if (op.op === "advance") {
            t.clock.advance(op.hours * 3_600_000);
            continue;
          }
          if (op.op === "refund") {
            const target = sent[op.of % Math.max(1, sent.length)];
            if (!target || target.amount === 0) continue;
            const amount = Math.max(1, Math.floor(target.amount * op.fraction));
            for (const [i, body] of target.bodies.entries()) {
              await recordRefund(t.ctx, actor, {
                external_id: `r-${n}-${i}`,
                purchase_external_id: body.external_id,
                amount_minor: amount,
              }).catch((error: { code?: string }) => {
                // Both members' purchases refund alike; a refund past what is left is refused for both.
                if (error.code !== "refund_exceeds_purchase") throw error;
              });
            }
            continue;
          }
          if (op.op === "replay") {
            const target = sent[op.of % Math.max(1, sent.length)];
            if (!target) continue;
            const [fast, locked] = await Promise.all([
              recordPurchase(t.ctx, actor, target.bodies[0] as Parameters<typeof recordPurchase>[2]),
              recordPurchase(t.ctx, actor, target.bodies[1] as Parameters<typeof recordPurchase>[2], {
                lockedOnly: true,
              }),
            ]);
            expect(fast.replayed && locked.replayed).toBe(true);
            expect(comparable(fast.result)).toEqual(comparable(locked.result));
            continue;
          }
          const items =
            op.coffees > 0
              ? [{ sku: "latte", category: "coffee", quantity: op.coffees, unit_price_minor: 350 }]
              : [];
          const occurred_at = new Date(
            t.clock.now().getTime() - Math.round(op.backdateHours * 3_600_000),
          ).toISOString();
          const bodies = members.map((member_id, i) => ({
            external_id: `p-${n}-${i}`,
            member_id,
            amount_minor: op.amount,
            currency: "EUR",
            items,
            occurred_at,
          }));
          const fast = await recordPurchase(t.ctx, actor, bodies[0] as Parameters<typeof recordPurchase>[2]);
          const locked = await recordPurchase(
            t.ctx,
            actor,
            bodies[1] as Parameters<typeof recordPurchase>[2],
            {
              lockedOnly: true,
            },
          );
          expect(comparable(fast.result)).toEqual(comparable(locked.result));
          sent.push({ amount: op.amount, bodies });
        }
        runs++;
      }),
      {
        numRuns: 12,
        examples: [
          // (Run first, within numRuns.) A till's clock 4 minutes ahead: that purchase must count in the tier metric the next
          // purchase reads, on both paths.
          [
            [
              { op: "purchase", amount: 3_000, coffees: 0, backdateHours: 0 },
              { op: "purchase", amount: 3_000, coffees: 0, backdateHours: -0.07 },
              { op: "advance", hours: 1 },
              { op: "purchase", amount: 3_000, coffees: 1, backdateHours: 0 },
            ],
          ],
          // Capped rules used up this month, then purchases dated back into February and into
          // yesterday, one of them refunded: each meets its own period's cap on both paths.
          [
            [
              { op: "purchase", amount: 2_500, coffees: 0, backdateHours: 0 },
              { op: "purchase", amount: 2_500, coffees: 0, backdateHours: 0 },
              { op: "purchase", amount: 2_500, coffees: 0, backdateHours: 0 },
              { op: "purchase", amount: 2_500, coffees: 0, backdateHours: 24 * 25 },
              { op: "purchase", amount: 2_500, coffees: 0, backdateHours: 30 },
              { op: "refund", of: 3, fraction: 1 },
              { op: "purchase", amount: 2_500, coffees: 0, backdateHours: 24 * 25 },
              { op: "purchase", amount: 2_500, coffees: 0, backdateHours: 0 },
            ],
          ],
          // Gold's threshold lowered below what the Silver member already spent: the next purchase
          // is priced at Gold, with the upgrade recorded first, on both paths.
          [
            [
              { op: "purchase", amount: 3_000, coffees: 0, backdateHours: 0 },
              { op: "gold", threshold: 2_000 },
              { op: "purchase", amount: 1_000, coffees: 1, backdateHours: 0 },
              { op: "purchase", amount: 1_000, coffees: 0, backdateHours: 0 },
            ],
          ],
        ],
      },
    );
    expect(runs).toBe(12);
  });
});
