import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type Tenant, type TestApp } from "../helpers/api.ts";
import { digestOf as digestIn } from "../helpers/digest.ts";
import { addStaff } from "../helpers/staff.ts";

/**
 * No business can read or change another's data. Business A gets one of everything; business B
 * then calls every route of the API with A's ids. Every call must fail (404, or 422 for an id
 * inside a body), every list must be free of A's ids, and A's rows must be byte-for-byte unchanged.
 * The test reads the route list from the OpenAPI document and fails when a route is not covered.
 */

let t: TestApp;
const digestOf = (businessId: string) => digestIn(t.database.db, businessId);
let a: Tenant;
let b: Tenant;
const A: Record<string, string> = {};
const ids: string[] = [];

beforeAll(async () => {
  t = await startTestApp();
  a = await t.signup();
  b = await t.signup();
  const post = async (tenant: Tenant, url: string, body: unknown) => {
    const res = await tenant.call("POST", url, body);
    if (res.status >= 300) throw new Error(`${url}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };
  A.location = (await post(a, "/v1/locations", { name: "Main street" })).id;
  A.staff = (await addStaff(t, a, "cashier")).id;
  A.apiKey = (await post(a, "/v1/api-keys", { name: "POS", role: "manager" })).id;
  A.card = (await post(a, "/v1/stamp-cards", { name: "Coffee", stamps_required: 2, earn_on: "visit" })).id;
  A.tier = (await post(a, "/v1/tiers", { name: "Gold", rank: 1, threshold: 0 })).id;
  A.rule = (
    await post(a, "/v1/rules", {
      name: "Bonus",
      trigger: "purchase",
      effect: { type: "fixed_points", points: 100 },
    })
  ).id;
  A.member = (
    await post(a, "/v1/members", { name: "Alice", email: "alice@a.test", marketing_consent: true })
  ).id;
  A.memberCode = (await a.call("GET", `/v1/members/${A.member}`)).body.code;
  A.reward = (
    await post(a, "/v1/rewards", {
      name: "Mug",
      type: "free_product",
      value: { product_name: "Mug" },
      cost_points: 10,
    })
  ).id;
  A.purchase = (
    await post(a, "/v1/purchases", {
      external_id: "a-1",
      member_id: A.member,
      amount_minor: 5_000,
      currency: "EUR",
      location_id: A.location,
    })
  ).purchase.id;
  A.event = (
    await post(a, "/v1/events", { external_id: "a-e", member_id: A.member, type: "review_written" })
  ).event.id;
  const voucher = (await post(a, `/v1/members/${A.member}/redemptions`, { reward_id: A.reward })).voucher;
  A.voucher = voucher.code;
  A.voucherId = voucher.id;
  B.member = (await post(b, "/v1/members", { name: "Bob", marketing_consent: false })).id;
  B.reward = (
    await post(b, "/v1/rewards", {
      name: "Cup",
      type: "free_product",
      value: { product_name: "Cup" },
      cost_points: 1,
    })
  ).id;
  ids.push(...Object.values(A));
});
afterAll(async () => t?.close());

const B: Record<string, string> = {};

type Case = { path: Record<string, string>; body?: () => unknown; expect?: number[] };
const NOT_FOUND = [404];

/** Every route: how B calls it with A's ids. Routes without ids of A are listed with no path ids. */
const cases: Record<string, Case | "list" | "own"> = {
  "POST /v1/businesses": "own",
  "POST /v1/auth/login": "own",
  "POST /v1/auth/logout": "own",
  "GET /v1/auth/me": "list",
  "GET /v1/business": "list",
  "PATCH /v1/business": "own",
  "GET /v1/staff": "list",
  "POST /v1/staff": "own",
  "GET /v1/staff/{id}": { path: { id: "staff" } },
  "PATCH /v1/staff/{id}": { path: { id: "staff" }, body: () => ({ name: "Mallory" }) },
  "POST /v1/staff/{id}/password": {
    path: { id: "staff" },
    body: () => ({ password: "a new long password" }),
  },
  "GET /v1/api-keys": "list",
  "POST /v1/api-keys": "own",
  "DELETE /v1/api-keys/{id}": { path: { id: "apiKey" } },
  "GET /v1/locations": "list",
  "POST /v1/locations": "own",
  "GET /v1/locations/{id}": { path: { id: "location" } },
  "PATCH /v1/locations/{id}": { path: { id: "location" }, body: () => ({ name: "Taken over" }) },
  "GET /v1/audit-log": "list",
  "GET /v1/members": "list",
  "POST /v1/members": "own",
  "GET /v1/members/lookup": "own",
  "GET /v1/members/{id}": { path: { id: "member" } },
  "PATCH /v1/members/{id}": { path: { id: "member" }, body: () => ({ name: "Mallory" }) },
  "GET /v1/members/{id}/export": { path: { id: "member" } },
  "POST /v1/members/{id}/erase": { path: { id: "member" }, body: () => ({ reason: "asked by Mallory" }) },
  "GET /v1/program": "list",
  "PUT /v1/program": "own",
  "POST /v1/program/publish": "own",
  "GET /v1/program/templates": "list",
  "POST /v1/program/templates/cafe_stamp_card": "own",
  "POST /v1/program/templates/bakery_points": "own",
  "POST /v1/program/templates/boutique_tiers": "own",
  "POST /v1/program/templates/gym_tiers": "own",
  "GET /v1/stamp-cards": "list",
  "POST /v1/stamp-cards": "own",
  "GET /v1/stamp-cards/{id}": { path: { id: "card" } },
  "PATCH /v1/stamp-cards/{id}": { path: { id: "card" }, body: () => ({ name: "Mine now" }) },
  "DELETE /v1/stamp-cards/{id}": { path: { id: "card" } },
  "GET /v1/tiers": "list",
  "POST /v1/tiers": "own",
  "GET /v1/tiers/{id}": { path: { id: "tier" } },
  "PATCH /v1/tiers/{id}": { path: { id: "tier" }, body: () => ({ name: "Mine now" }) },
  "DELETE /v1/tiers/{id}": { path: { id: "tier" } },
  "GET /v1/rules": "list",
  "POST /v1/rules": {
    path: {},
    body: () => ({
      name: "Steal",
      trigger: "purchase",
      effect: { type: "stamps", stamp_card_id: A.card, stamps: 1 },
    }),
    expect: [422],
  },
  "GET /v1/rules/{id}": { path: { id: "rule" } },
  "PATCH /v1/rules/{id}": { path: { id: "rule" }, body: () => ({ name: "Mine now" }) },
  "DELETE /v1/rules/{id}": { path: { id: "rule" } },
  "POST /v1/purchases": {
    path: {},
    body: () => ({ external_id: "b-1", member_id: A.member, amount_minor: 100, currency: "EUR" }),
  },
  "GET /v1/purchases": "list",
  "POST /v1/purchases/preview": {
    path: {},
    body: () => ({ member_id: A.member, amount_minor: 100, currency: "EUR" }),
  },
  "GET /v1/purchases/{id}": { path: { id: "purchase" } },
  "POST /v1/refunds": {
    path: {},
    body: () => ({ external_id: "b-r", purchase_id: A.purchase, amount_minor: 100 }),
  },
  "POST /v1/events": {
    path: {},
    body: () => ({ external_id: "b-e", member_id: A.member, type: "review_written" }),
  },
  "GET /v1/events/{id}": { path: { id: "event" } },
  "GET /v1/members/{id}/card": { path: { id: "member" } },
  "GET /v1/members/{id}/history": { path: { id: "member" } },
  "GET /v1/members/{id}/tier-changes": { path: { id: "member" } },
  "POST /v1/members/{id}/adjustments": {
    path: { id: "member" },
    body: () => ({ points: 5, reason: "free points" }),
  },
  "POST /v1/points/expire": "own",
  "GET /v1/rewards": "list",
  "POST /v1/rewards": {
    path: {},
    body: () => ({
      name: "Steal",
      type: "free_product",
      value: { product_name: "x" },
      stamp_card_id: A.card,
    }),
    expect: [422],
  },
  "GET /v1/rewards/{id}": { path: { id: "reward" } },
  "PATCH /v1/rewards/{id}": { path: { id: "reward" }, body: () => ({ name: "Mine now" }) },
  "DELETE /v1/rewards/{id}": { path: { id: "reward" } },
  "POST /v1/members/{id}/redemptions": { path: { id: "member" }, body: () => ({ reward_id: B.reward }) },
  "GET /v1/members/{id}/available-rewards": { path: { id: "member" } },
  "GET /v1/vouchers/{code}": { path: { code: "voucher" } },
  "GET /v1/members/{id}/vouchers": { path: { id: "member" } },
  "POST /v1/vouchers/{code}/redeem": { path: { code: "voucher" }, body: () => ({}) },
  "POST /v1/vouchers/{code}/void": { path: { code: "voucher" }, body: () => ({ reason: "mine" }) },
  "GET /v1/launch-kit": "list",
  "GET /v1/launch-kit/poster.pdf": "list",
  // The wallet: public pages show only what a published business publishes (checked in
  // wallet.int.test.ts); member routes take a member's card token, never a staff token.
  "GET /v1/public/businesses/{slug}": "own",
  "POST /v1/public/businesses/{slug}/members": "own",
  "GET /v1/public/businesses/{slug}/manifest.webmanifest": "own",
  "GET /v1/public/wallet-icons/{file}": "own",
  "GET /v1/wallet/card": { path: {}, expect: [401] },
  "POST /v1/wallet/redemptions": { path: {}, body: () => ({ reward_id: A.reward }), expect: [401] },
  "PATCH /v1/wallet/me": { path: {}, body: () => ({ locale: "en" }), expect: [401] },
  "GET /v1/wallet/me/details": { path: {}, expect: [401] },
  "PATCH /v1/wallet/me/details": { path: {}, body: () => ({ name: "Mallory" }), expect: [401] },
  "GET /v1/wallet/me/export": { path: {}, expect: [401] },
  "POST /v1/wallet/me/erase": { path: {}, body: () => ({ confirm: "ERASE" }), expect: [401] },
  "POST /v1/members/{id}/card-link": { path: { id: "member" } },
};

describe("isolation between businesses", () => {
  it("covers every route of the API", () => {
    const doc = t.app.swagger() as { paths: Record<string, Record<string, unknown>> };
    const routes = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
    );
    expect(routes.filter((r) => !(r in cases))).toEqual([]);
  });

  it("refuses every call of business B on business A's data, and A's rows stay the same", async () => {
    const before = await digestOf(a.businessId);
    for (const [route, c] of Object.entries(cases)) {
      const [method, template] = route.split(" ") as ["GET" | "POST" | "PUT" | "PATCH" | "DELETE", string];
      if (c === "own") continue;
      if (c === "list") {
        const res = await b.call(method, template);
        expect(res.status, route).toBe(200);
        for (const id of ids) expect(JSON.stringify(res.body), `${route} leaks ${id}`).not.toContain(id);
        continue;
      }
      const url = template.replace(/\{(\w+)\}/g, (_m, name: string) => A[c.path[name] ?? ""] ?? "missing");
      const res = await b.call(method, url, c.body?.());
      expect(c.expect ?? NOT_FOUND, `${route} → ${res.status} ${JSON.stringify(res.body)}`).toContain(
        res.status,
      );
      expect(JSON.stringify(res.body)).not.toContain("Alice");
    }
    // A bearer token of B with A's id in a query string finds nothing either.
    const lookup = await b.call("GET", `/v1/members/lookup?code=${A.memberCode}`);
    expect(lookup.status).toBe(404);
    const byMember = await b.call("GET", `/v1/purchases?member_id=${A.member}`);
    expect(byMember.body.data).toEqual([]);
    // B's member, with B's card token, cannot redeem A's reward or see A's card.
    await b.call("POST", "/v1/program/publish");
    const slugB = (await b.call("GET", "/v1/business")).body.slug;
    const joined = await t.call("POST", `/v1/public/businesses/${slugB}/members`, {
      name: "Bea",
      email: "bea@b.test",
      marketing_consent: false,
    });
    expect(joined.status).toBe(201);
    const asMemberB = { authorization: `Bearer ${joined.body.card_token}` };
    const redeem = await t.call("POST", "/v1/wallet/redemptions", { reward_id: A.reward }, asMemberB);
    expect(redeem.status).toBe(404);
    const cardB = await t.call("GET", "/v1/wallet/card", undefined, asMemberB);
    expect(cardB.status).toBe(200);
    for (const id of ids) expect(JSON.stringify(cardB.body), `wallet card leaks ${id}`).not.toContain(id);
    expect(await digestOf(a.businessId)).toEqual(before);
  });
});
