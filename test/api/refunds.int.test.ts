import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type Tenant, type TestApp } from "../helpers/api.ts";

/**
 * Returns by line: what comes back adds up to exactly the purchase once everything is returned,
 * however the shares round, and stamps come back only as far as the items kept no longer earn them.
 */

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ now: "2026-03-02T09:00:00Z" });
});
afterAll(async () => t?.close());

let seq = 0;

async function ok(tenant: Tenant, method: "POST" | "PUT", url: string, body: unknown) {
  const res = await tenant.call(method, url, body);
  if (res.status >= 300) throw new Error(`${method} ${url} → ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

type Item = { sku: string; category?: string; quantity: number; unit_price_minor: number };
/** A refund by lines (`{ sku: quantity }`) or by amount, and what it should refund (or refuse). */
type Step = { lines: Record<string, number> } | { amount: number };
type Expect = { amount: number } | { error: string };

/** A business giving 1 point per minor unit, counting visits for its one tier, and a member. */
async function shop() {
  const tenant = await t.signup();
  const program = (await tenant.call("GET", "/v1/program")).body.config;
  await ok(tenant, "PUT", "/v1/program", {
    ...program,
    points: { ...program.points, earn_points: 1, earn_per_minor: 1 },
    tiers: { ...program.tiers, metric: "visits" },
  });
  await ok(tenant, "POST", "/v1/tiers", { name: "Regular", rank: 1, threshold: 1 });
  const member = await ok(tenant, "POST", "/v1/members", { name: "Anna", marketing_consent: false });
  return { tenant, member };
}

function refund(tenant: Tenant, purchaseId: string, step: Step) {
  return tenant.call("POST", "/v1/refunds", {
    external_id: `r-${++seq}`,
    purchase_id: purchaseId,
    ...("lines" in step
      ? { lines: Object.entries(step.lines).map(([sku, quantity]) => ({ sku, quantity })) }
      : { amount_minor: step.amount }),
  });
}

const each = (price: number, ...skus: string[]) =>
  skus.map((sku) => ({ sku, quantity: 1, unit_price_minor: price }));

describe("refunds by line", () => {
  const cases: {
    name: string;
    paid: number;
    items: Item[];
    steps: [Step, Expect][];
    /** Whether the purchase ends fully refunded. */
    full: boolean;
  }[] = [
    {
      name: "three items of 50 paid 100, returned one by one",
      paid: 100,
      items: each(50, "A", "B", "C"),
      steps: [
        [{ lines: { A: 1 } }, { amount: 33 }],
        [{ lines: { B: 1 } }, { amount: 34 }],
        [{ lines: { C: 1 } }, { amount: 33 }],
      ],
      full: true,
    },
    {
      name: "three items of 500 paid 1000, returned in another order",
      paid: 1_000,
      items: each(500, "A", "B", "C"),
      steps: [
        [{ lines: { C: 1 } }, { amount: 333 }],
        [{ lines: { A: 1 } }, { amount: 334 }],
        [{ lines: { B: 1 } }, { amount: 333 }],
      ],
      full: true,
    },
    {
      name: "three of one item paid 100, returned one at a time",
      paid: 100,
      items: [{ sku: "A", quantity: 3, unit_price_minor: 50 }],
      steps: [
        [{ lines: { A: 1 } }, { amount: 33 }],
        [{ lines: { A: 1 } }, { amount: 34 }],
        [{ lines: { A: 1 } }, { amount: 33 }],
      ],
      full: true,
    },
    {
      name: "seven items of 10 paid 20, returned unevenly",
      paid: 20,
      items: each(10, "A", "B", "C", "D", "E", "F", "G"),
      steps: [
        [{ lines: { A: 1 } }, { amount: 3 }],
        [{ lines: { B: 1, C: 1 } }, { amount: 6 }],
        [{ lines: { D: 1 } }, { amount: 2 }],
        [{ lines: { E: 1, F: 1, G: 1 } }, { amount: 9 }],
      ],
      full: true,
    },
    {
      // Which latte came back cannot be told: each is worth its share of what the lattes cost.
      name: "one sku on two lines, the second free: every unit is worth the average",
      paid: 700,
      items: [
        { sku: "LATTE", quantity: 2, unit_price_minor: 350 },
        { sku: "LATTE", quantity: 1, unit_price_minor: 0 },
      ],
      steps: [
        [{ lines: { LATTE: 1 } }, { amount: 233 }],
        [{ lines: { LATTE: 1 } }, { amount: 234 }],
        [{ lines: { LATTE: 1 } }, { amount: 233 }],
      ],
      full: true,
    },
    {
      name: "one sku on two lines, the free one first: a return is never worth nothing",
      paid: 700,
      items: [
        { sku: "LATTE", quantity: 1, unit_price_minor: 0 },
        { sku: "LATTE", quantity: 2, unit_price_minor: 350 },
      ],
      steps: [
        [{ lines: { LATTE: 2 } }, { amount: 467 }],
        [{ lines: { LATTE: 2 } }, { error: "refund_quantity_exceeds_purchase" }],
        [{ lines: { LATTE: 1 } }, { amount: 233 }],
      ],
      full: true,
    },
    {
      name: "one sku at two prices next to another item, paid below the list",
      paid: 900,
      items: [
        { sku: "BUN", quantity: 1, unit_price_minor: 400 },
        { sku: "BUN", quantity: 1, unit_price_minor: 200 },
        { sku: "JAM", quantity: 1, unit_price_minor: 400 },
      ],
      steps: [
        // A bun is 300 of the 1000 listed, paid at 90 %: 270.
        [{ lines: { BUN: 1 } }, { amount: 270 }],
        [{ lines: { JAM: 1 } }, { amount: 360 }],
        [{ lines: { BUN: 1 } }, { amount: 270 }],
      ],
      full: true,
    },
    {
      // The README's purchase: tax or a charge on top of the items' prices comes back with them.
      name: "two lattes of 350 paid 850, above the list: returning both refunds the purchase",
      paid: 850,
      items: [{ sku: "LATTE", category: "coffee", quantity: 2, unit_price_minor: 350 }],
      steps: [
        [{ lines: { LATTE: 1 } }, { amount: 425 }],
        [{ lines: { LATTE: 1 } }, { amount: 425 }],
      ],
      full: true,
    },
    {
      name: "paid above the list, returned in uneven parts",
      paid: 1_000,
      items: each(300, "A", "B", "C"),
      steps: [
        [{ lines: { A: 1 } }, { amount: 333 }],
        [{ lines: { B: 1, C: 1 } }, { amount: 667 }],
      ],
      full: true,
    },
    {
      name: "a partial return stays proportional",
      paid: 100,
      items: each(50, "A", "B", "C"),
      steps: [[{ lines: { A: 1, B: 1 } }, { amount: 67 }]],
      full: false,
    },
    {
      name: "lines, then an amount, then lines: the last one takes only what is left",
      paid: 100,
      items: each(50, "A", "B", "C"),
      steps: [
        [{ lines: { A: 1 } }, { amount: 33 }],
        [{ amount: 30 }, { amount: 30 }],
        [{ lines: { B: 1 } }, { amount: 34 }],
        [{ lines: { C: 1 } }, { amount: 3 }],
        [{ amount: 1 }, { error: "refund_exceeds_purchase" }],
      ],
      full: true,
    },
    {
      name: "lines, then the rest by amount: never more than the purchase",
      paid: 100,
      items: each(50, "A", "B", "C"),
      steps: [
        [{ lines: { A: 1, B: 1 } }, { amount: 67 }],
        [{ amount: 34 }, { error: "refund_exceeds_purchase" }],
        [{ amount: 33 }, { amount: 33 }],
        [{ lines: { C: 1 } }, { error: "refund_exceeds_purchase" }],
      ],
      full: true,
    },
    {
      name: "an amount first, then every line",
      paid: 100,
      items: each(50, "A", "B", "C"),
      steps: [
        [{ amount: 20 }, { amount: 20 }],
        [{ lines: { A: 1 } }, { amount: 33 }],
        [{ lines: { B: 1 } }, { amount: 34 }],
        [{ lines: { C: 1 } }, { amount: 13 }],
      ],
      full: true,
    },
  ];

  it.each(cases)("$name", async ({ paid, items, steps, full }) => {
    const { tenant, member } = await shop();
    const p = await ok(tenant, "POST", "/v1/purchases", {
      external_id: `p-${++seq}`,
      member_id: member.id,
      amount_minor: paid,
      currency: "EUR",
      items,
    });
    expect(p.purchase.points_earned).toBe(paid);
    let refunded = 0;
    let pointsReversed = 0;
    for (const [step, want] of steps) {
      const res = await refund(tenant, p.purchase.id, step);
      if ("error" in want) {
        expect([res.status, res.body.error.code]).toEqual([422, want.error]);
        continue;
      }
      expect(res.status).toBe(201);
      expect(res.body.refund.amount_minor).toBe(want.amount);
      refunded += want.amount;
      pointsReversed += res.body.refund.points_reversed;
      expect(res.body.purchase.refunded_minor).toBe(refunded);
      expect(refunded).toBeLessThanOrEqual(paid);
      // 1 point per minor unit: the member keeps exactly the points of what is not refunded.
      expect(res.body.member.points.available).toBe(paid - refunded);
    }
    expect(refunded === paid).toBe(full);
    expect(pointsReversed).toBe(refunded);
    const card = (await tenant.call("GET", `/v1/members/${member.id}/card`)).body;
    expect(card.points.available).toBe(paid - refunded);
    expect(card.tier.metric_value).toBe(full ? 0 : 1);
  });
});

describe("a refund of a large purchase", () => {
  it("keeps floor(points × kept ÷ paid) exactly, past 2^53", async () => {
    const tenant = await t.signup();
    const program = (await tenant.call("GET", "/v1/program")).body.config;
    await ok(tenant, "PUT", "/v1/program", {
      ...program,
      points: { ...program.points, earn_points: 1, earn_per_minor: 15, pending_days: 0 },
    });
    const member = await ok(tenant, "POST", "/v1/members", { name: "Anna", marketing_consent: false });
    const p = await ok(tenant, "POST", "/v1/purchases", {
      external_id: `p-${++seq}`,
      member_id: member.id,
      amount_minor: 7_476_553_230,
      currency: "EUR",
    });
    expect(p.purchase.points_earned).toBe(498_436_882);
    const r = await ok(tenant, "POST", "/v1/refunds", {
      external_id: `r-${++seq}`,
      purchase_id: p.purchase.id,
      amount_minor: 2_015_137_125,
    });
    // 498,436,882 × 5,461,416,105 ÷ 7,476,553,230 is 364,094,407 exactly; in floats, a hair less.
    expect([r.refund.points_reversed, r.member.points.available]).toEqual([134_342_475, 364_094_407]);
  });
});

describe("the first purchase after a refund", () => {
  /** A rule of 100 points on a first purchase, and a till selling to `memberId` a minute apart. */
  async function welcomeShop(tenant: Tenant, memberId: string) {
    await ok(tenant, "POST", "/v1/rules", {
      name: "Welcome purchase",
      trigger: "purchase",
      conditions: { first_purchase: true },
      effect: { type: "fixed_points", points: 100 },
    });
    return (amount: number) => {
      t.clock.advance(60_000);
      return ok(tenant, "POST", "/v1/purchases", {
        external_id: `p-${++seq}`,
        member_id: memberId,
        amount_minor: amount,
        currency: "EUR",
      });
    };
  }

  it("is the earliest purchase the member kept: a full refund of the first makes the next one first", async () => {
    const { tenant, member } = await shop();
    const buy = await welcomeShop(tenant, member.id);
    const first = await buy(10);
    expect(first.purchase.points_earned).toBe(110);
    // A partial refund keeps the purchase, and the first purchase with it.
    expect((await refund(tenant, first.purchase.id, { amount: 5 })).status).toBe(201);
    expect((await buy(10)).purchase.points_earned).toBe(10);
    const kept = await tenant.call("GET", `/v1/members/${member.id}`);
    expect(kept.body.first_purchase_at).toBe(first.purchase.occurred_at);
    // Refunded in full, it is as if it never happened: the purchase after it was the first.
    expect((await refund(tenant, first.purchase.id, { amount: 5 })).status).toBe(201);
    const after = await tenant.call("GET", `/v1/members/${member.id}`);
    expect(after.body.first_purchase_at).not.toBe(first.purchase.occurred_at);
    expect(after.body.first_purchase_at).not.toBeNull();
    expect((await buy(10)).purchase.points_earned).toBe(10);
  });

  it("gives the welcome bonus again when the only purchase was refunded in full, once", async () => {
    const { tenant, member } = await shop();
    const buy = await welcomeShop(tenant, member.id);
    const first = await buy(10);
    expect((await refund(tenant, first.purchase.id, { amount: 10 })).status).toBe(201);
    expect((await tenant.call("GET", `/v1/members/${member.id}`)).body.first_purchase_at).toBeNull();
    expect((await buy(10)).purchase.points_earned).toBe(110);
    expect((await buy(10)).purchase.points_earned).toBe(10);
    // The bonus of the refunded purchase went back with it: one bonus in all.
    const card = (await tenant.call("GET", `/v1/members/${member.id}/card`)).body;
    expect(card.points.available).toBe(120);
  });
});

describe("stamps taken back by a return", () => {
  const latte = (quantity: number) => ({ sku: "latte", category: "coffee", quantity, unit_price_minor: 300 });
  const cake = { sku: "cake", category: "pastry", quantity: 1, unit_price_minor: 400 };
  const cases: {
    name: string;
    cap: number;
    items: Item[];
    earned: number;
    /** Each return, and the stamps it takes back. */
    steps: [Step, number][];
  }[] = [
    {
      name: "one of five lattes under a cap of 3 keeps all 3",
      cap: 3,
      items: [latte(5)],
      earned: 3,
      steps: [[{ lines: { latte: 1 } }, 0]],
    },
    {
      name: "lattes returned one by one take stamps back only below the cap",
      cap: 3,
      items: [latte(5)],
      earned: 3,
      steps: [
        [{ lines: { latte: 1 } }, 0],
        [{ lines: { latte: 1 } }, 0],
        [{ lines: { latte: 1 } }, 1],
        [{ lines: { latte: 2 } }, 2],
      ],
    },
    {
      name: "three of five lattes at once take back one",
      cap: 3,
      items: [latte(5), cake],
      earned: 3,
      steps: [
        [{ lines: { latte: 3 } }, 1],
        [{ lines: { cake: 1 } }, 0],
        [{ lines: { latte: 2 } }, 2],
      ],
    },
    {
      name: "below the cap, each returned latte takes its stamp",
      cap: 10,
      items: [latte(2), cake],
      earned: 2,
      steps: [
        [{ lines: { latte: 1 } }, 1],
        [{ lines: { cake: 1 } }, 0],
        [{ lines: { latte: 1 } }, 1],
      ],
    },
    {
      name: "a return after a refund by amount never takes back more than is left",
      cap: 3,
      items: [latte(5)],
      earned: 3,
      steps: [
        [{ amount: 600 }, 2],
        [{ lines: { latte: 2 } }, 0],
        [{ lines: { latte: 2 } }, 1],
      ],
    },
    {
      name: "every latte returned while the cake is kept takes all the stamps",
      cap: 3,
      items: [latte(5), cake],
      earned: 3,
      steps: [
        [{ lines: { latte: 4 } }, 2],
        [{ lines: { latte: 1 } }, 1],
        [{ lines: { cake: 1 } }, 0],
      ],
    },
  ];

  it.each(cases)("$name", async ({ cap, items, earned, steps }) => {
    const tenant = await t.signup();
    const card = await ok(tenant, "POST", "/v1/stamp-cards", {
      name: "Coffee",
      stamps_required: 10,
      earn_on: "item",
      item_match: { categories: ["coffee"] },
      max_stamps_per_purchase: cap,
    });
    const member = await ok(tenant, "POST", "/v1/members", { name: "Anna", marketing_consent: false });
    const paid = items.reduce((s, i) => s + i.quantity * i.unit_price_minor, 0);
    const p = await ok(tenant, "POST", "/v1/purchases", {
      external_id: `p-${++seq}`,
      member_id: member.id,
      amount_minor: paid,
      currency: "EUR",
      items,
    });
    expect(p.purchase.stamps_earned).toBe(earned);
    let stamps = earned;
    for (const [step, reversed] of steps) {
      const res = await refund(tenant, p.purchase.id, step);
      expect(res.status).toBe(201);
      stamps -= reversed;
      expect([res.body.refund.stamps_reversed, stampsOf(res.body.member, card.id)]).toEqual([
        reversed,
        stamps,
      ]);
    }
  });
});

function stampsOf(member: { stamp_cards: { stamp_card_id: string; stamps: number }[] }, cardId: string) {
  return member.stamp_cards.find((c) => c.stamp_card_id === cardId)?.stamps ?? 0;
}

describe("a capped rule after a refund", () => {
  /** Earned by the rule in each purchase's answer. */
  const bonusOf = (
    body: { earned: { points: { rule_id: string | null; points: number }[] } },
    rule: string,
  ) => body.earned.points.filter((p) => p.rule_id === rule).reduce((s, p) => s + p.points, 0);

  it.each([
    // [cap, refund of the first purchase (of 500), bonus the second purchase gets, how]
    ["a full refund gives the day's points back", { max_points: 10 }, 500, 10, "plain"],
    ["a half refund gives half of them back", { max_points: 10 }, 250, 5, "plain"],
    ["no refund gives nothing back", { max_points: 10 }, 0, 0, "plain"],
    ["a full refund gives the day's time back", { max_times: 1 }, 500, 10, "plain"],
    ["a partial refund keeps the time used", { max_times: 1 }, 100, 0, "plain"],
    // The member kept the bonus: it stays used.
    ["a refund of points already spent gives no time back", { max_times: 1 }, 500, 0, "spent"],
    ["a refund of points already spent gives no points back", { max_points: 10 }, 500, 0, "spent"],
    [
      "a refund that keeps points (the business's choice) gives no time back",
      { max_times: 1 },
      500,
      0,
      "kept",
    ],
    ["a half refund that keeps points gives no points back", { max_points: 10 }, 250, 0, "kept"],
  ] as const)("%s", async (_name, cap, refunded, bonus, how) => {
    const { tenant, member } = await shop();
    if (how === "kept") {
      const program = (await tenant.call("GET", "/v1/program")).body.config;
      await ok(tenant, "PUT", "/v1/program", {
        ...program,
        refunds: { ...program.refunds, reverse_points: false },
      });
    }
    const rule = (
      await ok(tenant, "POST", "/v1/rules", {
        name: "Daily bonus",
        trigger: "purchase",
        effect: { type: "fixed_points", points: 10 },
        cap: { period: "day", ...cap },
      })
    ).id as string;
    seq++;
    const buy = (n: number) =>
      ok(tenant, "POST", "/v1/purchases", {
        external_id: `cap-${seq}-${n}`,
        member_id: member.id,
        amount_minor: 500,
        currency: "EUR",
      });
    const first = await buy(1);
    expect(bonusOf(first, rule)).toBe(10);
    if (how === "spent") {
      // Every point of the purchase goes on a reward before the refund.
      const reward = await ok(tenant, "POST", "/v1/rewards", {
        name: "Hamper",
        type: "free_product",
        value: { product_name: "Hamper" },
        cost_points: first.purchase.points_earned,
      });
      await ok(tenant, "POST", `/v1/members/${member.id}/redemptions`, { reward_id: reward.id });
    }
    if (refunded > 0) {
      const back = await ok(tenant, "POST", "/v1/refunds", {
        external_id: `cap-refund-${seq}`,
        purchase_id: first.purchase.id,
        amount_minor: refunded,
      });
      if (how !== "plain") expect(back.refund.points_reversed).toBe(0);
    }
    // The preview and the purchase itself agree.
    const preview = await tenant.call("POST", "/v1/purchases/preview", {
      member_id: member.id,
      amount_minor: 500,
      currency: "EUR",
    });
    expect(
      preview.body.points
        .filter((p: { rule_id: string }) => p.rule_id === rule)
        .reduce((s: number, p: { points: number }) => s + p.points, 0),
    ).toBe(bonus);
    expect(bonusOf(await buy(2), rule)).toBe(bonus);
  });
});

describe("a refund after the purchase's points expired", () => {
  const DAY_MS = 86_400_000;

  it.each([
    // [what, the run swept the lot, points spent from it first, refunded share, reversed, unrecovered, left]
    ["unused and swept: nothing to take back", true, 0, 1, 0, 0, 50],
    ["unused, past expiry, not swept yet", false, 0, 1, 0, 0, 50],
    ["half refunded, unused and swept", true, 0, 0.5, 0, 0, 50],
    ["60 spent, 40 expired: only the 60 come back, from the later purchase", true, 60, 1, 50, 10, 0],
  ])("%s", async (_what, swept, spent, share, reversed, unrecovered, left) => {
    const { tenant, member } = await shop();
    const program = (await tenant.call("GET", "/v1/program")).body.config;
    await ok(tenant, "PUT", "/v1/program", {
      ...program,
      points: { ...program.points, expiry: { policy: "days_after_earn", days: 10 } },
    });
    seq++;
    const first = await ok(tenant, "POST", "/v1/purchases", {
      external_id: `exp-${seq}-1`,
      member_id: member.id,
      amount_minor: 100,
      currency: "EUR",
    });
    if (spent > 0) {
      const reward = await ok(tenant, "POST", "/v1/rewards", {
        name: "Cookie",
        type: "free_product",
        value: { product_name: "Cookie" },
        cost_points: spent,
      });
      await ok(tenant, "POST", `/v1/members/${member.id}/redemptions`, { reward_id: reward.id });
    }
    t.clock.advance(5 * DAY_MS);
    await ok(tenant, "POST", "/v1/purchases", {
      external_id: `exp-${seq}-2`,
      member_id: member.id,
      amount_minor: 50,
      currency: "EUR",
    });
    t.clock.advance(6 * DAY_MS);
    if (swept) expect((await tenant.call("POST", "/v1/points/expire")).status).toBe(200);
    const refund = await ok(tenant, "POST", "/v1/refunds", {
      external_id: `exp-refund-${seq}`,
      purchase_id: first.purchase.id,
      amount_minor: 100 * share,
    });
    expect([refund.refund.points_reversed, refund.refund.points_unrecovered]).toEqual([
      reversed,
      unrecovered,
    ]);
    const card = await tenant.call("GET", `/v1/members/${member.id}/card`);
    expect(card.body.points.available).toBe(left);
    t.clock.advance(30 * DAY_MS);
  });
});

describe("a capped rule's usage", () => {
  async function capped(tenant: Tenant, cap: Record<string, unknown>, effect: Record<string, unknown>) {
    return (await ok(tenant, "POST", "/v1/rules", { name: "Bonus", trigger: "purchase", effect, cap }))
      .id as string;
  }
  const buy = (tenant: Tenant, memberId: string, amount: number, extra: Record<string, unknown> = {}) =>
    tenant.call("POST", "/v1/purchases", {
      external_id: `use-${++seq}`,
      member_id: memberId,
      amount_minor: amount,
      currency: "EUR",
      ...extra,
    });

  it("counts for a lifetime purchases dated as early as the API takes, before 1970 too", async () => {
    const { tenant, member } = await shop();
    const rule = await capped(
      tenant,
      { period: "lifetime", max_times: 1 },
      { type: "fixed_points", points: 100 },
    );
    const early = await buy(tenant, member.id, 1_000, { occurred_at: "1969-12-31T12:00:00Z" });
    expect(early.status).toBe(201);
    expect(early.body.earned.points.filter((p: { rule_id: string }) => p.rule_id === rule)).toHaveLength(1);
    const later = await buy(tenant, member.id, 1_000);
    expect(later.body.earned.points.filter((p: { rule_id: string }) => p.rule_id === rule)).toEqual([]);
  });

  it("adds up past 32 bits: a member whose capped rule gave billions still buys", async () => {
    const { tenant, member } = await shop();
    const program = (await tenant.call("GET", "/v1/program")).body.config;
    await ok(tenant, "PUT", "/v1/program", { ...program, points: { ...program.points, earn_points: 0 } });
    const rule = await capped(
      tenant,
      { period: "year", max_times: 10 },
      { type: "points_per_spend", points: 1000, per_minor: 1, scope: "order" },
    );
    for (let i = 0; i < 3; i++) expect((await buy(tenant, member.id, 999_000)).status).toBe(201);
    const preview = await tenant.call("POST", "/v1/purchases/preview", {
      member_id: member.id,
      amount_minor: 1_000,
      currency: "EUR",
    });
    expect(preview.status).toBe(200);
    const fourth = await buy(tenant, member.id, 1_000);
    expect(fourth.status).toBe(201);
    expect(fourth.body.earned.points).toEqual([
      {
        points: 1_000_000,
        reason: "Bonus",
        reason_code: "rule",
        reason_params: { rule: "Bonus" },
        rule_id: rule,
      },
    ]);
  });
});
