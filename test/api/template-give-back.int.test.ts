import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { minorDigits } from "../../src/shared/money.ts";
import { PRICE_LEVELS, typicalMinor } from "../../src/shared/price-level.ts";
import { startTestApp, type Tenant, type TestApp } from "../helpers/api.ts";

/**
 * A template's defaults fit the business's currency: for every currency the sign-up page offers
 * (and every one in the price table, and one that is in neither), each template's defaults give
 * back between 1 % and 10 % of what a member spends, and every money default is a round amount.
 *
 * Give-back, as measured here: the value of the template's reward ÷ what a member spends to earn
 * it, for a member who makes typical purchases — the points the engine gives one typical purchase
 * ÷ the reward's price in points × the reward's value ÷ the purchase's amount. A gift that is not
 * paid for by spending (welcome stamps, birthday points) is left out. A tier's reward is measured
 * at the tier that may have it, with the tier's multiplier. Typical, in euros and sized to the
 * currency with the same price table (`typicalMinor`):
 * - café: a purchase is a coffee (€3), and the reward is a coffee;
 * - bakery: a purchase is a €10 basket, and the treat is a pastry worth €2.50;
 * - boutique: a purchase is €60, and the reward is its discount, at the lowest and the top tier;
 * - gym: a visit costs €15 (a drop-in), and the top tier's personal training session is worth €40.
 */

const SIGNUP_CURRENCIES = (() => {
  const source = readFileSync(join(import.meta.dirname, "../../web/src/dashboard/auth.tsx"), "utf8");
  const list = /const CURRENCIES = \[([^\]]*)\]/.exec(source)?.[1] ?? "";
  return [...list.matchAll(/"([A-Z]{3})"/g)].map((m) => m[1] as string);
})();
/** BHD is in no table: it counts as worth €1 a dinar, with its three minor digits. */
const CURRENCIES = [...new Set([...SIGNUP_CURRENCIES, ...Object.keys(PRICE_LEVELS), "BHD"])];

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => t?.close());

type Defaults = Record<string, Record<string, unknown>>;

async function defaultsOf(tenant: Tenant): Promise<Defaults> {
  const res = await tenant.call("GET", "/v1/program/templates");
  expect(res.status).toBe(200);
  return Object.fromEntries(
    res.body.data.map((d: { name: string; defaults: Record<string, unknown> }) => [d.name, d.defaults]),
  );
}

/** A round amount: at most two significant digits in whole units (7.50 €, 1,200 Ft, 600,000 Ft). */
function isRound(minor: number, currency: string): boolean {
  if (minor === 0) return true;
  const major = minor / 10 ** minorDigits(currency);
  const power = 10 ** (Math.floor(Math.log10(major)) - 1);
  return Math.abs(major / power - Math.round(major / power)) < 1e-9;
}

let purchases = 0;
async function buy(tenant: Tenant, memberId: string, amount_minor: number, currency: string) {
  purchases += 1;
  const res = await tenant.call("POST", "/v1/purchases", {
    external_id: `give-back-${purchases}`,
    member_id: memberId,
    amount_minor,
    currency,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { purchase: { points_earned: number }; member: { tier: { current: { name: string } } } };
}

async function member(tenant: Tenant): Promise<string> {
  const res = await tenant.call("POST", "/v1/members", { name: "Mia", marketing_consent: false });
  expect(res.status).toBe(201);
  return res.body.id;
}

const inRange = (giveBack: number) => giveBack >= 0.01 && giveBack <= 0.1;

describe("template defaults in every currency", () => {
  it("covers every currency of the sign-up page with a price level", () => {
    expect(SIGNUP_CURRENCIES.length).toBeGreaterThan(10);
    for (const currency of SIGNUP_CURRENCIES) expect(PRICE_LEVELS, currency).toHaveProperty(currency);
  });

  it("sizes a forint boutique and bakery in forints: 500 Ft a point, 5,000 Ft off, 200,000 Ft and 600,000 Ft", async () => {
    const tenant = await t.signup({ currency: "HUF" });
    const defaults = await defaultsOf(tenant);
    expect(defaults.bakery_points).toMatchObject({ earn_per_minor: 500, treat_cost_points: 100 });
    expect(defaults.boutique_tiers).toMatchObject({ earn_per_minor: 500, discount_minor: 5_000 });
    expect(defaults.boutique_tiers).toMatchObject({
      tiers: [{ threshold: 0 }, { threshold: 200_000 }, { threshold: 600_000 }],
    });
    // The review's repro: a 100 Ft purchase no longer earns a pastry at once.
    const bakery = await t.signup({ currency: "HUF" });
    expect((await bakery.call("POST", "/v1/program/templates/bakery_points", {})).status).toBe(201);
    const bought = await buy(bakery, await member(bakery), 100, "HUF");
    expect(bought.purchase.points_earned).toBe(0);
  });

  it.each(CURRENCIES)(
    "%s: every money default is a round amount, and café and gym are as in euros",
    async (currency) => {
      const tenant = await t.signup({ currency });
      const defaults = await defaultsOf(tenant);
      const bakery = defaults.bakery_points as { earn_per_minor: number };
      const boutique = defaults.boutique_tiers as {
        earn_per_minor: number;
        discount_minor: number;
        tiers: { threshold: number }[];
      };
      const money = [
        bakery.earn_per_minor,
        boutique.earn_per_minor,
        boutique.discount_minor,
        ...boutique.tiers.map((x) => x.threshold),
      ];
      for (const minor of money) expect(isRound(minor, currency), `${minor} ${currency}`).toBe(true);
      // Thresholds go up; the discount is worth more than a point's spend.
      expect(boutique.tiers.map((x) => x.threshold)).toEqual(
        [...boutique.tiers.map((x) => x.threshold)].sort((a, b) => a - b),
      );
      // Café and gym hold no money: their defaults are the same in every currency.
      const euro = await templateDefaultsIn("EUR");
      expect(defaults.cafe_stamp_card).toEqual(euro.cafe_stamp_card);
      expect(defaults.gym_tiers).toEqual(euro.gym_tiers);
    },
  );

  it.each(CURRENCIES)("%s: the bakery gives back 1–10 % on a typical basket", async (currency) => {
    const tenant = await t.signup({ currency });
    const applied = await tenant.call("POST", "/v1/program/templates/bakery_points", {});
    expect(applied.status, JSON.stringify(applied.body)).toBe(201);
    const basket = typicalMinor(10, currency);
    const pastry = typicalMinor(2.5, currency);
    const earned = (await buy(tenant, await member(tenant), basket, currency)).purchase.points_earned;
    const cost = applied.body.rewards[0].cost_points as number;
    const giveBack = ((earned / cost) * pastry) / basket;
    expect(inRange(giveBack), `${currency}: ${(giveBack * 100).toFixed(2)} %`).toBe(true);
  });

  it.each(CURRENCIES)(
    "%s: the boutique gives back 1–10 % on a typical purchase, in the lowest and the top tier",
    async (currency) => {
      const tenant = await t.signup({ currency });
      const applied = await tenant.call("POST", "/v1/program/templates/boutique_tiers", {});
      expect(applied.status, JSON.stringify(applied.body)).toBe(201);
      const reward = applied.body.rewards[0] as { cost_points: number; value: { amount_minor: number } };
      const purchase = typicalMinor(60, currency);
      const m = await member(tenant);
      const giveBack = (earned: number) =>
        ((earned / reward.cost_points) * reward.value.amount_minor) / purchase;
      const lowest = await buy(tenant, m, purchase, currency);
      expect(lowest.member.tier.current.name).toBe("Silver");
      expect(inRange(giveBack(lowest.purchase.points_earned)), currency).toBe(true);
      const top = applied.body.tiers[2] as { threshold: number; name: string };
      await buy(tenant, m, top.threshold, currency);
      const topTier = await buy(tenant, m, purchase, currency);
      expect(topTier.member.tier.current.name).toBe(top.name);
      const rate = giveBack(topTier.purchase.points_earned);
      expect(inRange(rate), `${currency}: ${(rate * 100).toFixed(2)} %`).toBe(true);
    },
  );

  it.each(CURRENCIES)("%s: the café and the gym give back 1–10 %", async (currency) => {
    const defaults = await templateDefaultsIn(currency);
    // Café: a stamp a visit, a coffee for a full card.
    const cafe = defaults.cafe_stamp_card as { stamps_required: number; min_spend_minor: number };
    const coffee = typicalMinor(3, currency);
    expect(cafe.min_spend_minor).toBeLessThanOrEqual(coffee);
    expect(inRange(coffee / (cafe.stamps_required * coffee))).toBe(true);
    // Gym: points a visit, times the top tier's multiplier (the engine rounds a tier's bonus down).
    const gym = defaults.gym_tiers as {
      points_per_visit: number;
      session_cost_points: number;
      tiers: { earn_multiplier_bp: number }[];
    };
    const multiplier = gym.tiers[2]?.earn_multiplier_bp ?? 10_000;
    const perVisit =
      gym.points_per_visit + Math.floor((gym.points_per_visit * (multiplier - 10_000)) / 10_000);
    const visits = Math.ceil(gym.session_cost_points / perVisit);
    const giveBack = typicalMinor(40, currency) / (visits * typicalMinor(15, currency));
    expect(inRange(giveBack), `${currency}: ${(giveBack * 100).toFixed(2)} %`).toBe(true);
  });
});

const byCurrency = new Map<string, Promise<Defaults>>();
/** The defaults `GET /v1/program/templates` answers a business in `currency`, read once. */
function templateDefaultsIn(currency: string): Promise<Defaults> {
  let defaults = byCurrency.get(currency);
  if (!defaults) {
    defaults = t.signup({ currency }).then(defaultsOf);
    byCurrency.set(currency, defaults);
  }
  return defaults;
}
