import { randomBytes } from "node:crypto";
import type { FastifyInstance } from "fastify";
import { DEMO_BUILDING_PREFIX, findBusinessBySlug } from "./cli/businesses.ts";
import type { AppContext } from "./context.ts";
import type { Queryable } from "./db/database.ts";
import { buildApp } from "./http/app.ts";
import { DAY_MS, zonedParts, zonedTimeToUtc } from "./shared/time.ts";

/**
 * The demo business, "Café Regulars": a café with two locations, a coffee stamp card, points,
 * tiers, earning rules, staff, an API key and a few months of members' purchases. It is built
 * through the public API (in-process, `app.inject`), so the demo runs the same code as users do.
 */

export const DEMO_SLUG = "demo-cafe";
export { DEMO_BUILDING_PREFIX };
export const DEMO_OWNER_EMAIL = "demo@regulars.test";
export const DEMO_CASHIER_EMAIL = "cashier@regulars.test";
/** The documented password of the demo's owner and cashier. The demo is for trying Regulars out. */
export const DEMO_PASSWORD = "regulars-demo";
const TIME_ZONE = "Europe/Amsterdam";
const SEED = 20_260_301;
const HISTORY_DAYS = 84;

export interface DemoInfo {
  /** True when this call created the demo; false when it was already there. */
  created: boolean;
  businessId: string;
  slug: string;
  ownerEmail: string;
  cashierEmail: string;
  password: string;
  /** The demo's API key (manager role), known only to the call that created it. */
  apiKey: string | null;
  /** A demo customer's personal card link (`/card/demo-cafe#t=…`), also shown only once. */
  cardPath: string | null;
  members: number;
  purchases: number;
}

/** The demo business when it exists (its API key cannot be shown again), else null. */
export async function findDemo(db: Queryable): Promise<DemoInfo | null> {
  const business = await findBusinessBySlug(db, DEMO_SLUG);
  if (!business) return null;
  const count = async (table: "members" | "purchases") =>
    Number(
      (
        await db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll<number>().as("n"))
          .where("business_id", "=", business.id)
          .executeTakeFirstOrThrow()
      ).n,
    );
  return {
    created: false,
    businessId: business.id,
    slug: DEMO_SLUG,
    ownerEmail: DEMO_OWNER_EMAIL,
    cashierEmail: DEMO_CASHIER_EMAIL,
    password: DEMO_PASSWORD,
    apiKey: null,
    cardPath: null,
    members: await count("members"),
    purchases: await count("purchases"),
  };
}

/**
 * Creates the demo business, or does nothing when its slug exists. The members and purchases are
 * the same on every installation (a fixed seed); their dates lie in the weeks before the clock's now.
 *
 * @example const demo = await createDemo(ctx); console.log(demo.slug, demo.apiKey)
 */
export async function createDemo(ctx: AppContext): Promise<DemoInfo> {
  const existing = await findDemo(ctx.db);
  if (existing) return existing;
  const app = await buildApp(ctx, { rateLimitPerMinute: 1_000_000 });
  try {
    await app.ready();
    return await build(app, ctx, ctx.clock.now());
  } finally {
    await app.close();
  }
}

type Api = <T>(method: "GET" | "POST", url: string, body?: unknown) => Promise<T>;

function client(app: FastifyInstance, token?: string): Api {
  return async <T>(method: "GET" | "POST", url: string, body?: unknown) => {
    const res = await app.inject({
      method,
      url,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
    });
    if (res.statusCode >= 300) {
      throw new Error(`Creating the demo failed at ${method} ${url}: ${res.statusCode} ${res.body}`);
    }
    return res.json<T>();
  };
}

interface Created {
  id: string;
}

async function build(app: FastifyInstance, ctx: AppContext, now: Date): Promise<DemoInfo> {
  const signup = await client(app)<{ business: Created; token: string }>("POST", "/v1/businesses", {
    slug: `${DEMO_BUILDING_PREFIX}${randomBytes(4).toString("hex")}`,
    name: "Café Regulars",
    currency: "EUR",
    timezone: TIME_ZONE,
    locale: "en",
    owner: { email: DEMO_OWNER_EMAIL, name: "Dana Demo", password: DEMO_PASSWORD },
  });
  const api = client(app, signup.token);

  const locations = [
    await api<Created>("POST", "/v1/locations", { name: "Canal", address: "Prinsengracht 263, Amsterdam" }),
    await api<Created>("POST", "/v1/locations", { name: "Station", address: "Stationsplein 15, Amsterdam" }),
  ];
  const card = await api<Created>("POST", "/v1/stamp-cards", {
    name: "Coffee card",
    stamps_required: 10,
    earn_on: "item",
    item_match: { categories: ["coffee"] },
  });
  const tiers: [string, number, number, string[]][] = [
    ["Silver", 0, 10_000, ["1 point per €1"]],
    ["Gold", 25_000, 12_500, ["1.25 points per €1", "Free oat milk"]],
    ["Platinum", 75_000, 15_000, ["1.5 points per €1", "First seats at the latte-art workshop"]],
  ];
  for (const [index, [name, threshold, multiplier, benefits]] of tiers.entries()) {
    await api("POST", "/v1/tiers", {
      name,
      rank: index + 1,
      threshold,
      earn_multiplier_bp: multiplier,
      benefits,
    });
  }
  await api("POST", "/v1/rules", {
    name: "Morning rush",
    description: "Double points on weekdays from 07:00 to 09:00",
    trigger: "purchase",
    conditions: { days_of_week: [1, 2, 3, 4, 5], time_window: { from: "07:00", to: "09:00" } },
    effect: { type: "multiplier", factor_bp: 20_000 },
  });
  await api("POST", "/v1/rules", {
    name: "Welcome bonus",
    description: "50 points for joining",
    trigger: "signup",
    effect: { type: "fixed_points", points: 50 },
    cap: { period: "lifetime", max_times: 1 },
  });
  await api("POST", "/v1/rules", {
    name: "Review bonus",
    description: "25 points for a review, once a month",
    trigger: "event",
    event_type: "review_written",
    effect: { type: "fixed_points", points: 25 },
    cap: { period: "month", max_times: 1 },
  });
  const freeCoffee = await api<Created>("POST", "/v1/rewards", {
    name: "Free coffee",
    description: "Any coffee on the menu, for a full coffee card",
    type: "free_product",
    value: { product_name: "Any coffee" },
    stamp_card_id: card.id,
  });
  await api("POST", "/v1/rewards", {
    name: "€5 off",
    description: "€5 off your next order",
    type: "discount_amount",
    value: { amount_minor: 500 },
    cost_points: 500,
  });
  await api("POST", "/v1/rewards", {
    name: "Latte-art workshop",
    description: "Two hours behind the bar with our head barista, for 12 guests",
    type: "experience",
    value: { place: "Café Regulars, Prinsengracht 263", starts_at: workshopStart(now).toISOString() },
    stock: 12,
    cost_points: 1500,
  });
  await api("POST", "/v1/staff", {
    email: DEMO_CASHIER_EMAIL,
    name: "Casey Cashier",
    role: "cashier",
    password: DEMO_PASSWORD,
  });
  const key = await api<{ key: string }>("POST", "/v1/api-keys", {
    name: "Demo integration",
    role: "manager",
  });

  const { members, purchases, reviews } = history(
    now,
    locations.map((l) => l.id),
  );
  const memberIds: string[] = [];
  for (const member of members) memberIds.push((await api<Created>("POST", "/v1/members", member.body)).id);
  for (const [index, purchase] of purchases.entries()) {
    await api("POST", "/v1/purchases", {
      external_id: `demo-${String(index + 1).padStart(4, "0")}`,
      member_id: memberIds[purchase.member],
      amount_minor: purchase.items.reduce((sum, item) => sum + item.quantity * item.unit_price_minor, 0),
      currency: "EUR",
      items: purchase.items,
      location_id: purchase.location,
      occurred_at: purchase.occurredAt.toISOString(),
    });
  }
  for (const [index, review] of reviews.entries()) {
    await api("POST", "/v1/events", {
      external_id: `demo-review-${index + 1}`,
      member_id: memberIds[review.member],
      type: "review_written",
      properties: { stars: review.stars },
      occurred_at: review.occurredAt.toISOString(),
    });
  }
  await redeemFreeCoffees(api, memberIds, freeCoffee.id, locations[0]?.id);
  await api("POST", "/v1/program/publish", {});
  // Complete: the demo takes its handle (a demo-cafe made meanwhile by another process wins).
  await ctx.db
    .updateTable("businesses")
    .set({ slug: DEMO_SLUG })
    .where("id", "=", signup.business.id)
    .where(({ not, exists, selectFrom }) =>
      not(exists(selectFrom("businesses").select("id").where("slug", "=", DEMO_SLUG))),
    )
    .execute();
  const cardLink = await api<{ card_path: string }>("POST", `/v1/members/${memberIds[0]}/card-link`, {});
  return {
    created: true,
    businessId: signup.business.id,
    slug: DEMO_SLUG,
    ownerEmail: DEMO_OWNER_EMAIL,
    cashierEmail: DEMO_CASHIER_EMAIL,
    password: DEMO_PASSWORD,
    apiKey: key.key,
    cardPath: cardLink.card_path,
    members: members.length,
    purchases: purchases.length,
  };
}

/**
 * A few members with a full coffee card redeem their free coffee; the first ones have already
 * used the voucher at the counter, the others still hold it.
 */
async function redeemFreeCoffees(api: Api, memberIds: string[], rewardId: string, locationId?: string) {
  let redeemed = 0;
  for (const memberId of memberIds) {
    if (redeemed === MAX_DEMO_REDEMPTIONS) return;
    const available = await api<{ data: Created[] }>("GET", `/v1/members/${memberId}/available-rewards`);
    if (!available.data.some((reward) => reward.id === rewardId)) continue;
    const { voucher } = await api<{ voucher: { code: string } }>(
      "POST",
      `/v1/members/${memberId}/redemptions`,
      {
        reward_id: rewardId,
      },
    );
    redeemed++;
    if (redeemed <= 2) await api("POST", `/v1/vouchers/${voucher.code}/redeem`, { location_id: locationId });
  }
}

const MAX_DEMO_REDEMPTIONS = 4;

/** The workshop: a Saturday at 10:00, three to four weeks from now. */
function workshopStart(now: Date): Date {
  const day = zonedParts(new Date(now.getTime() + 21 * DAY_MS), TIME_ZONE);
  const date = new Date(Date.UTC(day.year, day.month - 1, day.day + ((6 - day.weekday + 7) % 7)));
  return zonedTimeToUtc(
    { year: date.getUTCFullYear(), month: date.getUTCMonth() + 1, day: date.getUTCDate(), hour: 10 },
    TIME_ZONE,
  );
}

interface Item {
  sku: string;
  name: string;
  category: string;
  quantity: number;
  unit_price_minor: number;
}

const MENU = {
  espresso: { sku: "espresso", name: "Espresso", category: "coffee", unit_price_minor: 260 },
  cappuccino: { sku: "cappuccino", name: "Cappuccino", category: "coffee", unit_price_minor: 340 },
  flatWhite: { sku: "flat-white", name: "Flat white", category: "coffee", unit_price_minor: 380 },
  oatLatte: { sku: "oat-latte", name: "Oat latte", category: "coffee", unit_price_minor: 410 },
  croissant: { sku: "croissant", name: "Croissant", category: "pastry", unit_price_minor: 290 },
  bananaBread: { sku: "banana-bread", name: "Banana bread", category: "pastry", unit_price_minor: 350 },
  sandwich: { sku: "sandwich", name: "Lunch sandwich", category: "lunch", unit_price_minor: 750 },
  beans: { sku: "beans-1kg", name: "House beans 1 kg", category: "beans", unit_price_minor: 1890 },
  officeBox: { sku: "office-box", name: "Office coffee box", category: "catering", unit_price_minor: 4800 },
} as const;
const COFFEES = [MENU.espresso, MENU.cappuccino, MENU.flatWhite, MENU.oatLatte];

/** How a kind of customer visits: how often, when (local hours), and what they buy. */
interface Habit {
  perWeek: number;
  weekdays: boolean;
  weekends: boolean;
  hours: [number, number];
  basket: (rng: () => number) => Item[];
}

const one = (item: (typeof COFFEES)[number] | (typeof MENU)[keyof typeof MENU], quantity = 1): Item => ({
  ...item,
  quantity,
});
const pick = <T>(rng: () => number, list: readonly T[]): T => list[Math.floor(rng() * list.length)] as T;

const HABITS: Record<string, Habit> = {
  commuter: {
    perWeek: 2.5,
    weekdays: true,
    weekends: false,
    hours: [7, 9],
    basket: (rng) => [one(pick(rng, COFFEES)), ...(rng() < 0.35 ? [one(MENU.croissant)] : [])],
  },
  weekend: {
    perWeek: 0.8,
    weekdays: false,
    weekends: true,
    hours: [10, 16],
    basket: (rng) => [one(pick(rng, COFFEES), 2), one(rng() < 0.5 ? MENU.croissant : MENU.bananaBread, 2)],
  },
  lunch: {
    perWeek: 1.2,
    weekdays: true,
    weekends: false,
    hours: [12, 14],
    basket: (rng) => [one(MENU.sandwich), one(pick(rng, COFFEES)), ...(rng() < 0.1 ? [one(MENU.beans)] : [])],
  },
  office: {
    perWeek: 1,
    weekdays: true,
    weekends: false,
    hours: [9, 11],
    basket: (rng) => [one(MENU.officeBox, rng() < 0.3 ? 2 : 1), one(pick(rng, COFFEES), 4)],
  },
  homeBrewer: {
    perWeek: 1,
    weekdays: true,
    weekends: true,
    hours: [10, 17],
    basket: (rng) => [one(MENU.beans), one(pick(rng, COFFEES))],
  },
  occasional: {
    perWeek: 0.3,
    weekdays: true,
    weekends: true,
    hours: [9, 18],
    basket: (rng) => [one(pick(rng, COFFEES)), ...(rng() < 0.2 ? [one(MENU.beans)] : [])],
  },
};

// 25 members: name, language, habit; "new" ones joined in the last three weeks.
const PEOPLE: [string, "en" | "nl" | "pl" | "pt-BR", keyof typeof HABITS, boolean?][] = [
  ["Anna de Vries", "nl", "commuter"],
  ["Daan Jansen", "nl", "commuter"],
  ["Emma Clarke", "en", "commuter"],
  ["Zofia Kowalska", "pl", "commuter"],
  ["Lucas Ferreira", "pt-BR", "lunch"],
  ["Sanne Bakker", "nl", "occasional"],
  ["Oliver Bennett", "en", "weekend"],
  ["Maja Wiśniewska", "pl", "weekend"],
  ["Fleur van Dijk", "nl", "weekend"],
  ["Ana Souza", "pt-BR", "weekend"],
  ["Lars Visser", "nl", "homeBrewer"],
  ["Jakub Nowak", "pl", "lunch"],
  ["Sophie Turner", "en", "lunch"],
  ["Thijs Smit", "nl", "homeBrewer"],
  ["Beatriz Lima", "pt-BR", "lunch"],
  ["Noor Mulder", "nl", "office"],
  ["James Whitfield", "en", "office"],
  ["Piotr Zieliński", "pl", "occasional"],
  ["João Oliveira", "pt-BR", "occasional"],
  ["Grace Mitchell", "en", "occasional"],
  ["Bram de Boer", "nl", "occasional"],
  ["Camila Rocha", "pt-BR", "occasional", true],
  ["Łucja Wójcik", "pl", "commuter", true],
  ["Eva Peters", "nl", "weekend", true],
  ["Rafael Alves", "pt-BR", "lunch", true],
];

interface DemoPurchase {
  member: number;
  location: string;
  occurredAt: Date;
  items: Item[];
}

/** The demo's members and their purchases, oldest first: the same for a given `now`. */
function history(now: Date, locations: string[]) {
  const rng = mulberry32(SEED);
  const members = PEOPLE.map(([name, locale, , isNew]) => {
    const joinedDaysAgo = isNew ? 7 + Math.floor(rng() * 14) : HISTORY_DAYS + 10 + Math.floor(rng() * 300);
    const birthday =
      rng() < 0.6
        ? `${1960 + Math.floor(rng() * 44)}-${pad(1 + Math.floor(rng() * 12))}-${pad(1 + Math.floor(rng() * 28))}`
        : undefined;
    return {
      joinedDaysAgo,
      location: pick(rng, locations),
      body: {
        name,
        email: emailOf(name),
        ...(rng() < 0.5 ? { phone: `+316${String(Math.floor(rng() * 1e8)).padStart(8, "0")}` } : {}),
        ...(birthday ? { birthday } : {}),
        locale,
        marketing_consent: rng() < 0.75,
        external_id: `demo-member-${slugOf(name)}`,
        joined_at: new Date(now.getTime() - joinedDaysAgo * DAY_MS).toISOString(),
      },
    };
  });
  const purchases: DemoPurchase[] = [];
  for (let daysAgo = HISTORY_DAYS; daysAgo >= 1; daysAgo--) {
    const day = zonedParts(new Date(now.getTime() - daysAgo * DAY_MS), TIME_ZONE);
    const weekend = day.weekday >= 6;
    PEOPLE.forEach(([, , habitName], index) => {
      const habit = HABITS[habitName] as Habit;
      const member = members[index];
      if (!member || daysAgo >= member.joinedDaysAgo) return;
      const days = (habit.weekdays ? 5 : 0) + (habit.weekends ? 2 : 0);
      const visits = (weekend ? habit.weekends : habit.weekdays) && rng() < habit.perWeek / days;
      if (!visits) return;
      const [from, to] = habit.hours;
      const minuteOfDay = from * 60 + Math.floor(rng() * (to - from) * 60);
      purchases.push({
        member: index,
        location: rng() < 0.8 ? member.location : pick(rng, locations),
        occurredAt: zonedTimeToUtc(
          {
            year: day.year,
            month: day.month,
            day: day.day,
            hour: Math.floor(minuteOfDay / 60),
            minute: minuteOfDay % 60,
          },
          TIME_ZONE,
        ),
        items: habit.basket(rng),
      });
    });
  }
  purchases.sort((a, b) => a.occurredAt.getTime() - b.occurredAt.getTime());
  // Some regulars wrote a review; the first wrote two in one month (the second earns nothing: the
  // review bonus is capped at once a month).
  const reviews = [0, 0, 2, 6, 11, 15, 19].map((member, i) => {
    const day = zonedParts(new Date(now.getTime() - (i === 1 ? 40 : 40 + 3 * i) * DAY_MS), TIME_ZONE);
    return {
      member,
      stars: 4 + Math.round(rng()),
      occurredAt: zonedTimeToUtc({ year: day.year, month: day.month, day: day.day, hour: 11 + i }, TIME_ZONE),
    };
  });
  return { members, purchases, reviews };
}

const pad = (n: number) => String(n).padStart(2, "0");

function slugOf(name: string): string {
  return name
    .normalize("NFD")
    .replace(/[\u0300-\u036f]/g, "")
    .replace(/ł/g, "l")
    .replace(/Ł/g, "L")
    .toLowerCase()
    .replace(/[^a-z]+/g, "-");
}

function emailOf(name: string): string {
  const [first, ...rest] = slugOf(name).split("-");
  return `${first}.${rest.join("")}@example.test`;
}

/** A small deterministic pseudo-random generator (Mulberry32): the demo is the same everywhere. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
