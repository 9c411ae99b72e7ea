import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Role } from "../../src/context.ts";
import { type Method, OWNER_PASSWORD, startTestApp, type Tenant, type TestApp } from "../helpers/api.ts";
import { digestOf as digestIn } from "../helpers/digest.ts";
import { addStaff, logIn, STAFF_PASSWORD } from "../helpers/staff.ts";

/**
 * Who may do what: owner > manager > cashier, for staff sessions and API keys alike. The table
 * below names, for every route of the OpenAPI document, the least role a café would expect to need
 * (from docs/api.md "Authentication and roles" and PRODUCT.md), not the role the code declares.
 * Each route is called with a well-formed request by every caller below that role (403 `forbidden`,
 * and the business's rows unchanged) and by the least role itself (allowed). Public routes need no
 * token; the wallet's routes take a member's card token and no staff token. The test fails when a
 * route of the API is missing from the table.
 */

let t: TestApp;
let owner: Tenant;
const digestOf = () => digestIn(t.database.db, owner.businessId);

const RANK: Record<Role, number> = { cashier: 0, manager: 1, owner: 2 };

/** Someone calling the API: a staff member's session or an API key, with its role. */
interface Caller {
  label: string;
  role: Role;
  kind: "session" | "key";
  token: string;
}
const callers: Caller[] = [];
/** Staff emails by role, to log in again (logout ends the session it is called with). */
const emails: Partial<Record<Role, string>> = {};
/** Ids of what the business already has, made by its owner. */
const F: Record<string, string> = {};
/** The personal card token of a member who joined on the public join page. */
let memberToken = "";
let n = 0;
const next = () => {
  n += 1;
  return n;
};

async function post(url: string, body?: unknown): Promise<any> {
  const res = await owner.call("POST", url, body);
  if (res.status >= 300) throw new Error(`${url}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}
const newCard = async () =>
  (await post("/v1/stamp-cards", { name: `Card ${next()}`, stamps_required: 5, earn_on: "visit" })).id;
const newTier = async () => {
  const rank = 10 + next();
  return (await post("/v1/tiers", { name: `Tier ${rank}`, rank, threshold: rank * 1_000 })).id;
};
const newRule = async () =>
  (
    await post("/v1/rules", {
      name: `Rule ${next()}`,
      trigger: "purchase",
      effect: { type: "fixed_points", points: 1 },
    })
  ).id;
const newReward = async () =>
  (
    await post("/v1/rewards", {
      name: `Reward ${next()}`,
      type: "free_product",
      value: { product_name: "Cookie" },
      cost_points: 10,
    })
  ).id;
const newApiKey = async () => (await post("/v1/api-keys", { name: `Key ${next()}`, role: "cashier" })).id;
const newVoucher = async (): Promise<string> =>
  (await post(`/v1/members/${F.member}/redemptions`, { reward_id: F.reward })).voucher.code;

beforeAll(async () => {
  t = await startTestApp();
  owner = await t.signup();
  emails.owner = owner.ownerEmail;
  callers.push({ label: "owner session", role: "owner", kind: "session", token: owner.token });
  for (const role of ["manager", "cashier"] as const) {
    const staff = await addStaff(t, owner, role);
    emails[role] = staff.email;
    callers.push({ label: `${role} session`, role, kind: "session", token: staff.session.token });
    const key = await post("/v1/api-keys", { name: `POS ${role}`, role });
    callers.push({ label: `${role} API key`, role, kind: "key", token: key.key });
  }
  F.staff = (await addStaff(t, owner, "cashier", "Target")).id;
  F.apiKey = await newApiKey();
  F.location = (await post("/v1/locations", { name: "Main street" })).id;
  F.card = await newCard();
  F.tier = (await post("/v1/tiers", { name: "Gold", rank: 1, threshold: 0 })).id;
  F.rule = await newRule();
  F.reward = await newReward();
  const member = await post("/v1/members", {
    name: "Alice",
    email: "alice@cafe.test",
    marketing_consent: true,
  });
  F.member = member.id;
  F.memberCode = member.code;
  F.purchase = (
    await post("/v1/purchases", {
      external_id: "setup-1",
      member_id: F.member,
      amount_minor: 5_000,
      currency: "EUR",
      location_id: F.location,
    })
  ).purchase.id;
  F.event = (
    await post("/v1/events", { external_id: "setup-e", member_id: F.member, type: "review_written" })
  ).event.id;
  await post(`/v1/members/${F.member}/adjustments`, { points: 1_000, reason: "enough to redeem" });
  F.voucher = await newVoucher();
  await post("/v1/program/publish");
  const joined = await t.call("POST", `/v1/public/businesses/${owner.slug}/members`, {
    name: "Wanda",
    email: "wanda@cafe.test",
    marketing_consent: false,
  });
  if (joined.status !== 201) throw new Error(`join failed: ${joined.status}`);
  memberToken = joined.body.card_token;
  const wanda = await owner.call("GET", `/v1/members/lookup?code=${joined.body.member_code}`);
  await post(`/v1/members/${wanda.body.id}/adjustments`, { points: 100, reason: "enough to redeem" });
  // Every caller once, so an API key's "last used" is written now and not during a digest.
  for (const c of callers) await t.call("GET", "/v1/auth/me", undefined, auth(c.token));
});
afterAll(async () => t?.close());

const auth = (token: string) => ({ authorization: `Bearer ${token}` });

/** A well-formed request; `token` overrides the caller's (for logout, which ends its session). */
interface Request {
  url: string;
  body?: unknown;
  token?: string;
}
/**
 * The least role a route needs; `public`: no token at all; `member`: the customer's own card token
 * (`rm_…`), never a staff token. `ok`: the answers that show the call was allowed (2xx unless said).
 */
interface Entry {
  least: Role | "public" | "member";
  req: (as?: Caller) => Request | Promise<Request>;
  ok?: number[];
}
const OK = [200, 201, 204];
const at = (url: string, body?: unknown) => () => ({ url, body });

/**
 * Every route and its least role. Cashiers record purchases, refunds and events, enrol and look
 * up members, redeem rewards and vouchers (docs/api.md); managers also configure the program
 * (settings, stamp cards, tiers, rules, rewards, locations), adjust balances and read the audit log;
 * owners also manage staff, API keys and the business profile, and publish the program.
 */
const table: Record<string, Entry> = {
  // Signing up and logging in come before any token.
  "POST /v1/businesses": {
    least: "public",
    req: () => {
      const slug = `new-${next()}-${owner.slug}`.slice(0, 40);
      return {
        url: "/v1/businesses",
        body: {
          slug,
          name: "Another café",
          currency: "EUR",
          timezone: "Europe/Amsterdam",
          locale: "nl",
          owner: { email: `owner@${slug}.test`, name: "Other owner", password: OWNER_PASSWORD },
        },
      };
    },
  },
  "POST /v1/auth/login": {
    least: "public",
    req: () => ({
      url: "/v1/auth/login",
      body: { business: owner.slug, email: owner.ownerEmail, password: OWNER_PASSWORD },
    }),
  },
  "POST /v1/auth/logout": {
    least: "cashier",
    req: async (as) => {
      if (as?.kind !== "session") return { url: "/v1/auth/logout" };
      const login = await logIn(t, owner.slug, emails[as.role] ?? "", STAFF_PASSWORD);
      return { url: "/v1/auth/logout", token: login.token };
    },
  },
  "GET /v1/auth/me": { least: "cashier", req: at("/v1/auth/me") },
  "GET /v1/business": { least: "cashier", req: at("/v1/business") },
  "PATCH /v1/business": { least: "owner", req: at("/v1/business", { name: "Café Renamed" }) },
  // Staff and API keys: the owner's alone.
  "GET /v1/staff": { least: "manager", req: at("/v1/staff") },
  "POST /v1/staff": {
    least: "owner",
    req: () => ({
      url: "/v1/staff",
      body: {
        email: `new-${next()}@${owner.slug}.test`,
        name: "New",
        role: "cashier",
        password: STAFF_PASSWORD,
      },
    }),
  },
  "GET /v1/staff/{id}": { least: "manager", req: () => at(`/v1/staff/${F.staff}`)() },
  "PATCH /v1/staff/{id}": {
    least: "owner",
    req: () => ({ url: `/v1/staff/${F.staff}`, body: { name: `Target ${next()}` } }),
  },
  "POST /v1/staff/{id}/password": {
    least: "owner",
    req: () => ({ url: `/v1/staff/${F.staff}/password`, body: { password: "a new long password" } }),
  },
  "GET /v1/api-keys": { least: "owner", req: at("/v1/api-keys") },
  "POST /v1/api-keys": {
    least: "owner",
    req: () => ({ url: "/v1/api-keys", body: { name: `Shop ${next()}`, role: "manager" } }),
  },
  "DELETE /v1/api-keys/{id}": {
    least: "owner",
    req: async () => ({ url: `/v1/api-keys/${await newApiKey()}` }),
  },
  // Locations: configured by managers, read by everyone.
  "GET /v1/locations": { least: "cashier", req: at("/v1/locations") },
  "POST /v1/locations": {
    least: "manager",
    req: () => ({ url: "/v1/locations", body: { name: `Shop ${next()}` } }),
  },
  "GET /v1/locations/{id}": { least: "cashier", req: () => at(`/v1/locations/${F.location}`)() },
  "PATCH /v1/locations/{id}": {
    least: "manager",
    req: () => ({ url: `/v1/locations/${F.location}`, body: { name: `Main street ${next()}` } }),
  },
  "GET /v1/audit-log": { least: "manager", req: at("/v1/audit-log") },
  // Members: enrolled, looked up and corrected at the counter.
  // Listing everyone's contact details is a manager's; a cashier searches (test/api/members).
  "GET /v1/members": { least: "manager", req: at("/v1/members") },
  "POST /v1/members": {
    least: "cashier",
    req: () => ({
      url: "/v1/members",
      body: { name: "Bea", email: `bea${next()}@cafe.test`, marketing_consent: false },
    }),
  },
  "GET /v1/members/lookup": { least: "cashier", req: () => at(`/v1/members/lookup?code=${F.memberCode}`)() },
  "GET /v1/members/{id}": { least: "cashier", req: () => at(`/v1/members/${F.member}`)() },
  // Contact details at the counter; the attributes, which rules can match on, need a manager
  // (test/api/members.int.test.ts).
  // A member's access and erasure requests are a manager's to handle.
  "GET /v1/members/{id}/export": { least: "manager", req: () => at(`/v1/members/${F.member}/export`)() },
  "POST /v1/members/{id}/erase": {
    least: "manager",
    req: async () => ({
      url: `/v1/members/${(await post("/v1/members", { name: "Eve", marketing_consent: false })).id}/erase`,
      body: { reason: "asked at the counter" },
    }),
  },
  "PATCH /v1/members/{id}": {
    least: "cashier",
    req: () => ({ url: `/v1/members/${F.member}`, body: { name: "Regular" } }),
  },
  // The program: read by all, changed by managers, put live by the owner.
  "GET /v1/program": { least: "cashier", req: at("/v1/program") },
  "PUT /v1/program": {
    least: "manager",
    req: async () => ({ url: "/v1/program", body: (await owner.call("GET", "/v1/program")).body.config }),
  },
  "POST /v1/program/publish": { least: "owner", req: at("/v1/program/publish") },
  "GET /v1/program/templates": { least: "cashier", req: at("/v1/program/templates") },
  // A template only starts an empty program: reaching `program_not_empty` shows the role passed.
  "POST /v1/program/templates/cafe_stamp_card": {
    least: "manager",
    req: at("/v1/program/templates/cafe_stamp_card", {}),
    ok: [409],
  },
  "POST /v1/program/templates/bakery_points": {
    least: "manager",
    req: at("/v1/program/templates/bakery_points", {}),
    ok: [409],
  },
  "POST /v1/program/templates/boutique_tiers": {
    least: "manager",
    req: at("/v1/program/templates/boutique_tiers", {}),
    ok: [409],
  },
  "POST /v1/program/templates/gym_tiers": {
    least: "manager",
    req: at("/v1/program/templates/gym_tiers", {}),
    ok: [409],
  },
  "GET /v1/stamp-cards": { least: "cashier", req: at("/v1/stamp-cards") },
  "POST /v1/stamp-cards": {
    least: "manager",
    req: () => ({
      url: "/v1/stamp-cards",
      body: { name: `Tea ${next()}`, stamps_required: 8, earn_on: "visit" },
    }),
  },
  "GET /v1/stamp-cards/{id}": { least: "cashier", req: () => at(`/v1/stamp-cards/${F.card}`)() },
  "PATCH /v1/stamp-cards/{id}": {
    least: "manager",
    req: () => ({ url: `/v1/stamp-cards/${F.card}`, body: { name: `Coffee ${next()}` } }),
  },
  "DELETE /v1/stamp-cards/{id}": {
    least: "manager",
    req: async () => ({ url: `/v1/stamp-cards/${await newCard()}` }),
  },
  "GET /v1/tiers": { least: "cashier", req: at("/v1/tiers") },
  "POST /v1/tiers": {
    least: "manager",
    req: () => {
      const rank = 10 + next();
      return { url: "/v1/tiers", body: { name: `Tier ${rank}`, rank, threshold: rank * 1_000 } };
    },
  },
  "GET /v1/tiers/{id}": { least: "cashier", req: () => at(`/v1/tiers/${F.tier}`)() },
  "PATCH /v1/tiers/{id}": {
    least: "manager",
    req: () => ({ url: `/v1/tiers/${F.tier}`, body: { name: `Gold ${next()}` } }),
  },
  "DELETE /v1/tiers/{id}": { least: "manager", req: async () => ({ url: `/v1/tiers/${await newTier()}` }) },
  "GET /v1/rules": { least: "cashier", req: at("/v1/rules") },
  "POST /v1/rules": {
    least: "manager",
    req: () => ({
      url: "/v1/rules",
      body: { name: `Bonus ${next()}`, trigger: "purchase", effect: { type: "fixed_points", points: 5 } },
    }),
  },
  "GET /v1/rules/{id}": { least: "cashier", req: () => at(`/v1/rules/${F.rule}`)() },
  "PATCH /v1/rules/{id}": {
    least: "manager",
    req: () => ({ url: `/v1/rules/${F.rule}`, body: { name: `Rule ${next()}` } }),
  },
  "DELETE /v1/rules/{id}": { least: "manager", req: async () => ({ url: `/v1/rules/${await newRule()}` }) },
  // At the counter.
  "POST /v1/purchases": {
    least: "cashier",
    req: () => ({
      url: "/v1/purchases",
      body: { external_id: `p-${next()}`, member_id: F.member, amount_minor: 450, currency: "EUR" },
    }),
  },
  // Every purchase names its member: listing them all is a manager's, one member's the counter's.
  "GET /v1/purchases": { least: "manager", req: at("/v1/purchases") },
  "GET /v1/purchases?member_id=": {
    least: "cashier",
    req: () => at(`/v1/purchases?member_id=${F.member}`)(),
  },
  "POST /v1/purchases/preview": {
    least: "cashier",
    req: () => ({
      url: "/v1/purchases/preview",
      body: { member_id: F.member, amount_minor: 450, currency: "EUR" },
    }),
  },
  "GET /v1/purchases/{id}": { least: "cashier", req: () => at(`/v1/purchases/${F.purchase}`)() },
  "GET /v1/events/{id}": { least: "cashier", req: () => at(`/v1/events/${F.event}`)() },
  "POST /v1/refunds": {
    least: "cashier",
    req: () => ({
      url: "/v1/refunds",
      body: { external_id: `r-${next()}`, purchase_id: F.purchase, amount_minor: 100 },
    }),
  },
  // Doubtful (matches the code and the docs, "cashiers record … events"): any event type, so any
  // event rule's points, with no manager in the loop.
  "POST /v1/events": {
    least: "cashier",
    req: () => ({
      url: "/v1/events",
      body: { external_id: `e-${next()}`, member_id: F.member, type: "review_written" },
    }),
  },
  "GET /v1/members/{id}/card": { least: "cashier", req: () => at(`/v1/members/${F.member}/card`)() },
  "GET /v1/members/{id}/history": { least: "cashier", req: () => at(`/v1/members/${F.member}/history`)() },
  "GET /v1/members/{id}/tier-changes": {
    least: "cashier",
    req: () => at(`/v1/members/${F.member}/tier-changes`)(),
  },
  // Points by hand are a manager's correction ("managers; audited").
  "POST /v1/members/{id}/adjustments": {
    least: "manager",
    req: () => ({ url: `/v1/members/${F.member}/adjustments`, body: { points: 5, reason: "goodwill" } }),
  },
  "POST /v1/points/expire": { least: "manager", req: at("/v1/points/expire") },
  "GET /v1/rewards": { least: "cashier", req: at("/v1/rewards") },
  "POST /v1/rewards": {
    least: "manager",
    req: () => ({
      url: "/v1/rewards",
      body: {
        name: `Cake ${next()}`,
        type: "free_product",
        value: { product_name: "Cake" },
        cost_points: 50,
      },
    }),
  },
  "GET /v1/rewards/{id}": { least: "cashier", req: () => at(`/v1/rewards/${F.reward}`)() },
  "PATCH /v1/rewards/{id}": {
    least: "manager",
    req: () => ({ url: `/v1/rewards/${F.reward}`, body: { name: `Cookie ${next()}` } }),
  },
  "DELETE /v1/rewards/{id}": {
    least: "manager",
    req: async () => ({ url: `/v1/rewards/${await newReward()}` }),
  },
  "POST /v1/members/{id}/redemptions": {
    least: "cashier",
    req: () => ({ url: `/v1/members/${F.member}/redemptions`, body: { reward_id: F.reward } }),
  },
  "GET /v1/members/{id}/available-rewards": {
    least: "cashier",
    req: () => at(`/v1/members/${F.member}/available-rewards`)(),
  },
  "GET /v1/vouchers/{code}": { least: "cashier", req: () => at(`/v1/vouchers/${F.voucher}`)() },
  "GET /v1/members/{id}/vouchers": { least: "cashier", req: () => at(`/v1/members/${F.member}/vouchers`)() },
  "POST /v1/vouchers/{code}/redeem": {
    least: "cashier",
    req: async () => ({ url: `/v1/vouchers/${await newVoucher()}/redeem`, body: {} }),
  },
  // A cashier within 10 minutes of issue (the undo at the counter); later, managers only (below).
  "POST /v1/vouchers/{code}/void": {
    least: "cashier",
    req: async () => ({ url: `/v1/vouchers/${await newVoucher()}/void`, body: { reason: "wrong reward" } }),
  },
  // Printing the poster and reading the join link: "Manager or owner".
  "GET /v1/launch-kit": { least: "manager", req: at("/v1/launch-kit") },
  "GET /v1/launch-kit/poster.pdf": { least: "manager", req: at("/v1/launch-kit/poster.pdf?size=a5") },
  // The customer's side.
  "GET /v1/public/businesses/{slug}": {
    least: "public",
    req: () => at(`/v1/public/businesses/${owner.slug}`)(),
  },
  "POST /v1/public/businesses/{slug}/members": {
    least: "public",
    req: () => ({
      url: `/v1/public/businesses/${owner.slug}/members`,
      body: { name: "Joe", email: `joe${next()}@cafe.test`, marketing_consent: true },
    }),
  },
  "GET /v1/public/businesses/{slug}/manifest.webmanifest": {
    least: "public",
    req: () => at(`/v1/public/businesses/${owner.slug}/manifest.webmanifest`)(),
  },
  "GET /v1/public/wallet-icons/{file}": { least: "public", req: at("/v1/public/wallet-icons/192.png") },
  "GET /v1/wallet/card": { least: "member", req: at("/v1/wallet/card") },
  "POST /v1/wallet/redemptions": {
    least: "member",
    req: () => at("/v1/wallet/redemptions", { reward_id: F.reward })(),
  },
  "PATCH /v1/wallet/me": { least: "member", req: at("/v1/wallet/me", { locale: "en" }) },
  "GET /v1/wallet/me/details": { least: "member", req: at("/v1/wallet/me/details") },
  "PATCH /v1/wallet/me/details": { least: "member", req: at("/v1/wallet/me/details", { name: "Fiona F." }) },
  "GET /v1/wallet/me/export": { least: "member", req: at("/v1/wallet/me/export") },
  // Unconfirmed: the member's token reaches the erasure, which asks for the confirmation (the
  // member stays, for the routes after this one).
  "POST /v1/wallet/me/erase": { least: "member", req: at("/v1/wallet/me/erase", {}), ok: [400] },
  // A new card link for a customer who lost their phone: the counter gives it.
  "POST /v1/members/{id}/card-link": {
    least: "cashier",
    req: () => at(`/v1/members/${F.member}/card-link`)(),
  },
};

async function send(method: Method, req: Request, token: string | undefined) {
  return t.call(method, req.url, req.body, token === undefined ? {} : auth(token));
}

describe("roles: owner > manager > cashier, for sessions and API keys", () => {
  it("covers every route of the API, and only those", () => {
    const doc = t.app.swagger() as { paths: Record<string, Record<string, unknown>> };
    const routes = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
    );
    expect(routes.filter((r) => !(r in table))).toEqual([]);
    // A key with a query (`GET /v1/purchases?member_id=`) is a second case of its route.
    expect(Object.keys(table).filter((r) => !routes.includes(r.split("?")[0] as string))).toEqual([]);
  });

  it("refuses every route below its least role with 403 and no change, and allows the least role", async () => {
    for (const [route, entry] of Object.entries(table)) {
      const method = route.split(" ")[0] as Method;
      if (entry.least === "public") {
        const res = await send(method, await entry.req(), undefined);
        expect(
          entry.ok ?? OK,
          `${route} without a token → ${res.status} ${res.text.slice(0, 200)}`,
        ).toContain(res.status);
        continue;
      }
      if (entry.least === "member") {
        const before = await digestOf();
        for (const token of [undefined, ...callers.map((c) => c.token)]) {
          const res = await send(method, await entry.req(), token);
          expect(res.status, `${route} with a staff token or none → ${res.text.slice(0, 200)}`).toBe(401);
          expect(res.body.error.code).toBe("unauthorized");
        }
        expect(await digestOf(), `${route}: a refused call changed something`).toEqual(before);
        const res = await send(method, await entry.req(), memberToken);
        expect(
          entry.ok ?? OK,
          `${route} with the member's token → ${res.status} ${res.text.slice(0, 200)}`,
        ).toContain(res.status);
        continue;
      }
      const least = entry.least;
      const below = callers.filter((c) => RANK[c.role] < RANK[least]);
      const requests = [];
      for (const c of below) requests.push({ c, req: await entry.req(c) });
      const before = await digestOf();
      for (const { c, req } of requests) {
        const res = await send(method, req, req.token ?? c.token);
        expect(res.status, `${route} as ${c.label} → ${res.text.slice(0, 200)}`).toBe(403);
        expect(res.body.error.code, `${route} as ${c.label}`).toBe("forbidden");
      }
      expect(await digestOf(), `${route}: a refused call changed something`).toEqual(before);
      const allowed = callers.filter((c) => c.role === least);
      expect(allowed.length, route).toBeGreaterThan(0);
      for (const c of allowed) {
        const req = await entry.req(c);
        const res = await send(method, req, req.token ?? c.token);
        expect(entry.ok ?? OK, `${route} as ${c.label} → ${res.status} ${res.text.slice(0, 200)}`).toContain(
          res.status,
        );
      }
    }
  });

  it("lets a cashier void a voucher only within 10 minutes of issue; a manager any time", async () => {
    const code = await newVoucher();
    t.clock.advance(11 * 60_000);
    // Each caller once after the clock moved, so no "last used" is written during the digest.
    for (const c of callers) await t.call("GET", "/v1/auth/me", undefined, auth(c.token));
    const before = await digestOf();
    for (const c of callers.filter((x) => x.role === "cashier")) {
      const res = await send("POST", { url: `/v1/vouchers/${code}/void`, body: { reason: "late" } }, c.token);
      expect(res.status, c.label).toBe(403);
      expect(res.body.error.code).toBe("forbidden");
    }
    expect(await digestOf()).toEqual(before);
    const manager = callers.find((c) => c.role === "manager" && c.kind === "key");
    const res = await send(
      "POST",
      { url: `/v1/vouchers/${code}/void`, body: { reason: "late" } },
      manager?.token,
    );
    expect(res.status).toBe(200);
    expect(res.body.voucher.status).toBe("voided");
  });
});
