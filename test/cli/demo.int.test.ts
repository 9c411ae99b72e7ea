import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasAnyBusiness } from "../../src/cli/businesses.ts";
import {
  createDemo,
  DEMO_BUILDING_PREFIX,
  DEMO_CASHIER_EMAIL,
  DEMO_OWNER_EMAIL,
  DEMO_PASSWORD,
  DEMO_SLUG,
  type DemoInfo,
  findDemo,
} from "../../src/demo.ts";
import { startTestApp, type TestApp } from "../helpers/api.ts";

let t: TestApp;
let demo: DemoInfo;
let token: string;
beforeAll(async () => {
  t = await startTestApp({ now: "2026-03-02T09:00:00Z" });
  demo = await createDemo(t.ctx);
  const login = await t.call("POST", "/v1/auth/login", {
    business: DEMO_SLUG,
    email: DEMO_OWNER_EMAIL,
    password: DEMO_PASSWORD,
  });
  token = login.body.token;
}, 120_000);
afterAll(async () => t?.close());

const get = async (url: string, bearer = token) =>
  (await t.call("GET", url, undefined, { authorization: `Bearer ${bearer}` })).body;

/** Row counts of every table of the demo business: what a second run must leave as it was. */
async function counts(businessId: string) {
  const tables = [
    "members",
    "purchases",
    "ledger_entries",
    "stamp_entries",
    "vouchers",
    "rewards",
    "tiers",
    "earning_rules",
    "stamp_cards",
    "locations",
    "staff",
    "api_keys",
    "audit_log",
  ] as const;
  const result: Record<string, number> = {};
  for (const table of tables) {
    const row = await t.database.db
      .selectFrom(table)
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("business_id", "=", businessId)
      .executeTakeFirstOrThrow();
    result[table] = Number(row.n);
  }
  return result;
}

describe("the demo business", () => {
  it("is created with documented logins and a working API key", async () => {
    expect(demo).toMatchObject({
      created: true,
      slug: "demo-cafe",
      ownerEmail: "demo@regulars.test",
      cashierEmail: "cashier@regulars.test",
      password: DEMO_PASSWORD,
      members: 25,
    });
    expect(demo.purchases).toBeGreaterThan(150);
    expect(token).toMatch(/^rs_/);
    expect(await get("/v1/business", demo.apiKey ?? "")).toMatchObject({
      slug: "demo-cafe",
      name: "Café Regulars",
      currency: "EUR",
      timezone: "Europe/Amsterdam",
      locale: "en",
    });
    const cashier = await t.call("POST", "/v1/auth/login", {
      business: DEMO_SLUG,
      email: DEMO_CASHIER_EMAIL,
      password: DEMO_PASSWORD,
    });
    expect(cashier.body.staff.role).toBe("cashier");
  });

  it("has two locations, a coffee card, three tiers, three rules and three rewards", async () => {
    expect((await get("/v1/locations")).data.map((l: any) => l.name)).toEqual(["Canal", "Station"]);
    expect((await get("/v1/stamp-cards")).data).toMatchObject([
      { name: "Coffee card", stamps_required: 10, earn_on: "item", item_match: { categories: ["coffee"] } },
    ]);
    expect(
      (await get("/v1/tiers")).data.map((x: any) => [x.name, x.threshold, x.earn_multiplier_bp]),
    ).toEqual([
      ["Silver", 0, 10_000],
      ["Gold", 25_000, 12_500],
      ["Platinum", 75_000, 15_000],
    ]);
    const rules = (await get("/v1/rules")).data;
    expect(rules.map((r: any) => [r.name, r.trigger])).toEqual([
      ["Morning rush", "purchase"],
      ["Welcome bonus", "signup"],
      ["Review bonus", "event"],
    ]);
    expect(rules[2]).toMatchObject({ event_type: "review_written", cap: { period: "month", max_times: 1 } });
    const rewards = (await get("/v1/rewards")).data;
    expect(rewards.map((r: any) => [r.name, r.type, r.cost_points, r.stock]).sort()).toEqual([
      ["Free coffee", "free_product", null, null],
      ["Latte-art workshop", "experience", 1500, 12],
      ["€5 off", "discount_amount", 500, null],
    ]);
  });

  it("has members with a history in the past that earned points, stamps and tiers", async () => {
    const members = (await get("/v1/members?limit=100")).data;
    expect(members).toHaveLength(25);
    const now = t.clock.now().getTime();
    const purchases = (await get("/v1/purchases?limit=200")).data;
    expect(purchases.every((p: any) => new Date(p.occurred_at).getTime() < now)).toBe(true);
    const ledger = await t.database.db
      .selectFrom("ledger_entries")
      .select(["reason", (eb) => eb.fn.countAll<number>().as("n")])
      .where("business_id", "=", demo.businessId)
      .groupBy("reason")
      .execute();
    const reasons = Object.fromEntries(ledger.map((r) => [r.reason, Number(r.n)]));
    expect(reasons["Welcome bonus"]).toBe(25);
    expect(reasons["Morning rush"]).toBeGreaterThan(0);
    expect(reasons["Review bonus"]).toBe(6); // Seven reviews; one is the second of a month.
    const tiers = new Set(members.map((m: any) => m.tier_id));
    expect(tiers.size).toBe(3);
    const vouchers = await t.database.db
      .selectFrom("vouchers")
      .select("status")
      .where("business_id", "=", demo.businessId)
      .execute();
    expect(vouchers.map((v) => v.status).sort()).toEqual(["issued", "issued", "redeemed", "redeemed"]);
  });

  it("gives one demo customer a working personal card link", async () => {
    expect(demo.cardPath).toMatch(/^\/card\/demo-cafe#t=rm_/);
    const token = demo.cardPath!.split("#t=")[1];
    const card = await t.call("GET", "/v1/wallet/card", undefined, { authorization: `Bearer ${token}` });
    expect(card.status).toBe(200);
    expect(card.body.business.slug).toBe("demo-cafe");
  });

  it("changes nothing when it runs again", async () => {
    const before = await counts(demo.businessId);
    const again = await createDemo(t.ctx);
    expect(again).toEqual({ ...demo, created: false, apiKey: null, cardPath: null });
    expect(await counts(demo.businessId)).toEqual(before);
    expect(await findDemo(t.database.db)).toEqual(again);
  });
});

describe("a first start stopped while the demo was being built", () => {
  it("leaves no half-built demo-cafe, and the next start builds the demo whole", async () => {
    const fresh = await startTestApp({ now: "2026-03-02T09:00:00Z" });
    try {
      // What a build stopped half-way leaves: a business under the building handle, unpublished.
      const partial = await fresh.signup({ slug: `${DEMO_BUILDING_PREFIX}0badf00d` });
      await partial.call("POST", "/v1/members", { name: "Anna de Vries", marketing_consent: false });
      expect(await findDemo(fresh.database.db)).toBeNull();
      expect(await hasAnyBusiness(fresh.database.db)).toBe(false);

      const demo = await createDemo(fresh.ctx);
      expect(demo).toMatchObject({ created: true, slug: DEMO_SLUG });
      expect(demo.apiKey).toMatch(/^rk_/);
      expect(demo.cardPath).toMatch(new RegExp(`^/card/${DEMO_SLUG}#t=rm_`));
      const page = await fresh.call("GET", `/v1/public/businesses/${DEMO_SLUG}`);
      expect(page.status).toBe(200);
      expect((await findDemo(fresh.database.db))?.businessId).toBe(demo.businessId);
      expect(await hasAnyBusiness(fresh.database.db)).toBe(true);
    } finally {
      await fresh.close();
    }
  }, 120_000);
});
