import { randomBytes } from "node:crypto";
import type { HttpClient } from "./http.ts";

/**
 * The café the bench runs: set up through the public API exactly as a business would, so the
 * purchases it measures run the same rules, stamp card and tiers as a real program.
 */

export const CAFE_TIME_ZONE = "Europe/Amsterdam";

/** Setup requests in flight at once (member enrolment). */
const SETUP_CONCURRENCY = 16;

export interface Cafe {
  businessId: string;
  /** The owner's session token (used for setup). */
  ownerToken: string;
  /** A cashier-role API key, as a POS integration would hold. */
  apiKey: string;
  memberIds: string[];
}

interface Created {
  id: string;
}

/**
 * Signs the café up and builds its program: 1 point per €1, a 10-stamp coffee card, three tiers by
 * spend, three purchase rules (weekday morning double points, a pastry bonus, a daily capped
 * big-order bonus), a cashier API key and `memberCount` members.
 *
 * @example const cafe = await setUpCafe(new HttpClient(url, 16), 1000)
 */
export async function setUpCafe(api: HttpClient, memberCount: number): Promise<Cafe> {
  const slug = `bench-${randomBytes(4).toString("hex")}`;
  const signup = await api.postJson<{ business: Created; token: string }>("/v1/businesses", {
    slug,
    name: "Café Benchmark",
    currency: "EUR",
    timezone: CAFE_TIME_ZONE,
    locale: "en",
    owner: { email: `owner@${slug}.test`, name: "Bea Bench", password: "correct horse battery" },
  });
  const owner = signup.token;
  await api.postJson(
    "/v1/stamp-cards",
    { name: "Coffee card", stamps_required: 10, earn_on: "item", item_match: { categories: ["coffee"] } },
    owner,
  );
  const tiers: [string, number, number][] = [
    ["Silver", 0, 10_000],
    ["Gold", 25_000, 12_500],
    ["Platinum", 75_000, 15_000],
  ];
  for (const [index, [name, threshold, multiplier]] of tiers.entries()) {
    await api.postJson(
      "/v1/tiers",
      { name, rank: index + 1, threshold, earn_multiplier_bp: multiplier, benefits: [] },
      owner,
    );
  }
  const rules = [
    {
      name: "Morning rush",
      trigger: "purchase",
      conditions: { days_of_week: [1, 2, 3, 4, 5], time_window: { from: "07:00", to: "09:00" } },
      effect: { type: "multiplier", factor_bp: 20_000 },
    },
    {
      name: "Pastry bonus",
      trigger: "purchase",
      conditions: { items: { categories: ["pastry"] } },
      effect: { type: "points_per_spend", points: 1, per_minor: 100, scope: "matching_items" },
    },
    {
      name: "Big order",
      trigger: "purchase",
      conditions: { min_spend_minor: 1500 },
      effect: { type: "fixed_points", points: 10 },
      cap: { period: "day", max_times: 1 },
    },
  ];
  for (const rule of rules) await api.postJson("/v1/rules", rule, owner);
  const key = await api.postJson<{ key: string }>(
    "/v1/api-keys",
    { name: "Till integration", role: "cashier" },
    owner,
  );

  const memberIds: string[] = new Array(memberCount);
  let next = 0;
  const enrol = async () => {
    while (next < memberCount) {
      const i = next++;
      const member = await api.postJson<Created>(
        "/v1/members",
        {
          name: `Member ${i + 1}`,
          email: `member${i + 1}@${slug}.test`,
          marketing_consent: i % 3 === 0,
        },
        owner,
      );
      memberIds[i] = member.id;
    }
  };
  await Promise.all(Array.from({ length: SETUP_CONCURRENCY }, enrol));
  return { businessId: signup.business.id, ownerToken: owner, apiKey: key.key, memberIds };
}

interface CatalogItem {
  sku: string;
  name: string;
  category: string;
  unit_price_minor: number;
}

/** What the café sells; coffee earns stamps, pastry earns the bonus. */
const CATALOG: readonly CatalogItem[] = [
  { sku: "espresso", name: "Espresso", category: "coffee", unit_price_minor: 250 },
  { sku: "cappuccino", name: "Cappuccino", category: "coffee", unit_price_minor: 320 },
  { sku: "latte", name: "Caffè latte", category: "coffee", unit_price_minor: 350 },
  { sku: "flat-white", name: "Flat white", category: "coffee", unit_price_minor: 360 },
  { sku: "croissant", name: "Croissant", category: "pastry", unit_price_minor: 280 },
  { sku: "pain-choc", name: "Pain au chocolat", category: "pastry", unit_price_minor: 300 },
  { sku: "banana-bread", name: "Banana bread", category: "pastry", unit_price_minor: 350 },
  { sku: "tea", name: "Fresh mint tea", category: "tea", unit_price_minor: 280 },
  { sku: "sandwich", name: "Club sandwich", category: "lunch", unit_price_minor: 750 },
];

/** A small, seedable generator (mulberry32), so each run sends the same kind of traffic. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const WEEK_MS = 7 * 24 * 3_600_000;
const localHour = new Intl.DateTimeFormat("en-GB", {
  timeZone: CAFE_TIME_ZONE,
  hour: "numeric",
  hourCycle: "h23",
});

/**
 * `count` instants in the past week within the café's opening hours (07:00–18:00 local), so about
 * one purchase in eight falls in the weekday morning rush.
 */
export function openingHourInstants(random: () => number, now: number, count: number): string[] {
  const out: string[] = [];
  while (out.length < count) {
    const at = new Date(now - 60_000 - Math.floor(random() * WEEK_MS));
    const hour = Number(localHour.format(at));
    if (hour >= 7 && hour < 18) out.push(at.toISOString());
  }
  return out;
}

/** A till's purchase: 1–4 line items of 1–2 units for a random member. */
export function randomPurchase(
  random: () => number,
  memberIds: readonly string[],
  externalId: string,
  occurredAt: string,
) {
  const lines = 1 + Math.floor(random() * 4);
  const items = Array.from({ length: lines }, () => {
    const item = CATALOG[Math.floor(random() * CATALOG.length)]!;
    return { ...item, quantity: 1 + Math.floor(random() * 2) };
  });
  return {
    external_id: externalId,
    member_id: memberIds[Math.floor(random() * memberIds.length)]!,
    amount_minor: items.reduce((sum, i) => sum + i.quantity * i.unit_price_minor, 0),
    currency: "EUR",
    items,
    occurred_at: occurredAt,
  };
}
