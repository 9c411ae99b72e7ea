import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Method, startTestApp, type Tenant, type TestApp } from "../helpers/api.ts";
import { digestOf as digestIn } from "../helpers/digest.ts";

/**
 * No business can read or change another's data, also when the other's ids and codes travel in a
 * body or a query string rather than in the path (isolation.int.test.ts covers the paths). Business
 * B calls with A's location, tier, stamp card, purchase, member code, email and phone, and reward;
 * every call is refused with its documented error, the answer tells nothing of A that B did not
 * send, neither business changes, and B's rows never name one of A's ids. Then the same calls with
 * B's own ids succeed: the bodies are right, and only the foreign id made them fail.
 */

let t: TestApp;
let a: Tenant;
let b: Tenant;
const A: Record<string, string> = {};
const B: Record<string, string> = {};
const digestOf = (businessId: string) => digestIn(t.database.db, businessId);

async function post(tenant: Tenant, url: string, body: unknown) {
  const res = await tenant.call("POST", url, body);
  if (res.status >= 300) throw new Error(`${url}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

beforeAll(async () => {
  t = await startTestApp();
  a = await t.signup();
  b = await t.signup();
  for (const [tenant, ids, who] of [
    [a, A, "a"],
    [b, B, "b"],
  ] as const) {
    ids.location = (await post(tenant, "/v1/locations", { name: `Shop ${who}` })).id;
    ids.tier = (await post(tenant, "/v1/tiers", { name: `Gold ${who}`, rank: 1, threshold: 1_000 })).id;
    ids.card = (
      await post(tenant, "/v1/stamp-cards", { name: `Coffee ${who}`, stamps_required: 5, earn_on: "visit" })
    ).id;
    ids.reward = (
      await post(tenant, "/v1/rewards", {
        name: `Mug ${who}`,
        type: "free_product",
        value: { product_name: "Mug" },
        cost_points: 1,
      })
    ).id;
    ids.rule = (
      await post(tenant, "/v1/rules", {
        name: `Bonus ${who}`,
        trigger: "purchase",
        effect: { type: "fixed_points", points: 10 },
      })
    ).id;
  }
  const alice = await post(a, "/v1/members", {
    name: "Alice Aardvark",
    email: "alice.aardvark@a.test",
    phone: "+31612345678",
    marketing_consent: true,
  });
  A.member = alice.id;
  A.memberCode = alice.code;
  A.email = alice.email;
  A.phone = alice.phone;
  A.purchaseExternalId = "a-purchase-1";
  A.purchase = (
    await post(a, "/v1/purchases", {
      external_id: A.purchaseExternalId,
      member_id: A.member,
      amount_minor: 5_000,
      currency: "EUR",
      location_id: A.location,
    })
  ).purchase.id;

  const bob = await post(b, "/v1/members", {
    name: "Bob Badger",
    email: "bob.badger@b.test",
    phone: "+48601234567",
    marketing_consent: false,
  });
  B.member = bob.id;
  B.memberCode = bob.code;
  B.email = bob.email;
  B.phone = bob.phone;
  B.purchaseExternalId = "b-purchase-1";
  B.purchase = (
    await post(b, "/v1/purchases", {
      external_id: B.purchaseExternalId,
      member_id: B.member,
      amount_minor: 5_000,
      currency: "EUR",
      location_id: B.location,
    })
  ).purchase.id;
  // B's member has points (the rule's 10) for B's own voucher, confirmed at the counter below.
  B.voucher = (await post(b, `/v1/members/${B.member}/redemptions`, { reward_id: B.reward })).voucher.code;
});
afterAll(async () => t?.close());

/** What of A must never reach B: ids, codes, the member's contact details and name. */
const secretsOfA = () => [...Object.values(A), "Alice", "Aardvark", "alice"];

interface Case {
  name: string;
  method: Method;
  /** The URL and body, built from A's ids (`of = A`) or, for the control call, from B's (`of = B`). */
  url: (of: Record<string, string>) => string;
  body?: (of: Record<string, string>) => unknown;
  /** The refusal: status and error code, or a 200 list that must come back empty. */
  refused: { status: number; code: string } | { status: 200; empty: true };
  /** Status of the same call with B's own ids. */
  control: number;
}

const purchase = (externalId: string, extra: (of: Record<string, string>) => Record<string, unknown>) => ({
  url: () => "/v1/purchases",
  body: (of: Record<string, string>) => ({
    external_id: externalId,
    amount_minor: 1_000,
    currency: "EUR",
    ...extra(of),
  }),
});

const cases: Case[] = [
  {
    name: "A's location_id in B's purchase of B's member",
    method: "POST",
    ...purchase("b-loc-1", (of) => ({ member_id: B.member, location_id: of.location })),
    refused: { status: 404, code: "location_not_found" },
    control: 201,
  },
  {
    name: "A's location_id in B's anonymous purchase",
    method: "POST",
    ...purchase("b-loc-2", (of) => ({ location_id: of.location })),
    refused: { status: 404, code: "location_not_found" },
    control: 201,
  },
  {
    name: "A's location_id in B's purchase preview",
    method: "POST",
    url: () => "/v1/purchases/preview",
    body: (of) => ({ member_id: B.member, amount_minor: 1_000, currency: "EUR", location_id: of.location }),
    refused: { status: 404, code: "location_not_found" },
    control: 200,
  },
  {
    name: "A's member code as member_code in B's purchase",
    method: "POST",
    ...purchase("b-code-1", (of) => ({ member_code: of.memberCode })),
    refused: { status: 404, code: "member_not_found" },
    control: 201,
  },
  {
    name: "A's member code, in lower case, as member_code in B's purchase",
    method: "POST",
    ...purchase("b-code-2", (of) => ({ member_code: of.memberCode?.toLowerCase() })),
    refused: { status: 404, code: "member_not_found" },
    control: 201,
  },
  {
    name: "A's member code as member_code in B's purchase preview",
    method: "POST",
    url: () => "/v1/purchases/preview",
    body: (of) => ({ member_code: of.memberCode, amount_minor: 1_000, currency: "EUR" }),
    refused: { status: 404, code: "member_not_found" },
    control: 200,
  },
  {
    name: "A's member code as member_code in B's event",
    method: "POST",
    url: () => "/v1/events",
    body: (of) => ({ external_id: "b-event-1", member_code: of.memberCode, type: "review_written" }),
    refused: { status: 404, code: "member_not_found" },
    control: 201,
  },
  {
    name: "A's purchase external id in B's refund",
    method: "POST",
    url: () => "/v1/refunds",
    body: (of) => ({
      external_id: "b-refund-1",
      purchase_external_id: of.purchaseExternalId,
      amount_minor: 100,
    }),
    refused: { status: 404, code: "purchase_not_found" },
    control: 201,
  },
  {
    name: "A's stamp_card_id in B's adjustment of B's member",
    method: "POST",
    url: () => `/v1/members/${B.member}/adjustments`,
    body: (of) => ({ stamp_card_id: of.card, stamps: 2, reason: "a lost card" }),
    refused: { status: 422, code: "stamp_card_not_found" },
    control: 201,
  },
  {
    name: "A's tier in B's new rule's conditions.tier_ids",
    method: "POST",
    url: () => "/v1/rules",
    body: (of) => ({
      name: "Gold bonus",
      trigger: "purchase",
      conditions: { tier_ids: [of.tier] },
      effect: { type: "fixed_points", points: 5 },
    }),
    refused: { status: 422, code: "tier_not_found" },
    control: 201,
  },
  {
    name: "B's and A's tiers together in B's new rule's conditions.tier_ids",
    method: "POST",
    url: () => "/v1/rules",
    body: (of) => ({
      name: "Gold bonus, twice",
      trigger: "purchase",
      conditions: { tier_ids: [B.tier, of.tier] },
      effect: { type: "fixed_points", points: 5 },
    }),
    refused: { status: 422, code: "tier_not_found" },
    control: 201,
  },
  {
    name: "A's location in B's new rule's conditions.location_ids",
    method: "POST",
    url: () => "/v1/rules",
    body: (of) => ({
      name: "Shop bonus",
      trigger: "purchase",
      conditions: { location_ids: [B.location, of.location] },
      effect: { type: "fixed_points", points: 5 },
    }),
    refused: { status: 422, code: "location_not_found" },
    control: 201,
  },
  {
    name: "A's tier in B's rule changed (PATCH conditions.tier_ids)",
    method: "PATCH",
    url: () => `/v1/rules/${B.rule}`,
    body: (of) => ({ conditions: { tier_ids: [of.tier] } }),
    refused: { status: 422, code: "tier_not_found" },
    control: 200,
  },
  {
    name: "A's location in B's rule changed (PATCH conditions.location_ids)",
    method: "PATCH",
    url: () => `/v1/rules/${B.rule}`,
    body: (of) => ({ conditions: { location_ids: [of.location] } }),
    refused: { status: 422, code: "location_not_found" },
    control: 200,
  },
  {
    name: "A's tier in B's new reward's eligible_tier_ids",
    method: "POST",
    url: () => "/v1/rewards",
    body: (of) => ({
      name: "Gold cup",
      type: "free_product",
      value: { product_name: "Cup" },
      cost_points: 5,
      eligible_tier_ids: [of.tier],
    }),
    refused: { status: 422, code: "tier_not_found" },
    control: 201,
  },
  {
    name: "A's tier in B's reward changed (PATCH eligible_tier_ids)",
    method: "PATCH",
    url: () => `/v1/rewards/${B.reward}`,
    body: (of) => ({ eligible_tier_ids: [B.tier, of.tier] }),
    refused: { status: 422, code: "tier_not_found" },
    control: 200,
  },
  {
    name: "B's member redeeming A's reward at the counter",
    method: "POST",
    url: () => `/v1/members/${B.member}/redemptions`,
    body: (of) => ({ reward_id: of.reward }),
    refused: { status: 404, code: "reward_not_found" },
    control: 201,
  },
  {
    name: "lookup by A's member's email",
    method: "GET",
    url: (of) => `/v1/members/lookup?email=${encodeURIComponent(of.email ?? "")}`,
    refused: { status: 404, code: "member_not_found" },
    control: 200,
  },
  {
    name: "lookup by A's member's email, in upper case",
    method: "GET",
    url: (of) => `/v1/members/lookup?email=${encodeURIComponent(of.email?.toUpperCase() ?? "")}`,
    refused: { status: 404, code: "member_not_found" },
    control: 200,
  },
  {
    name: "lookup by A's member's phone",
    method: "GET",
    url: (of) => `/v1/members/lookup?phone=${encodeURIComponent(of.phone ?? "")}`,
    refused: { status: 404, code: "member_not_found" },
    control: 200,
  },
  {
    name: "lookup by A's member's phone, in another notation",
    method: "GET",
    url: (of) =>
      `/v1/members/lookup?phone=${encodeURIComponent(`${of.phone?.slice(0, 3)} ${of.phone?.slice(3)}`)}`,
    refused: { status: 404, code: "member_not_found" },
    control: 200,
  },
  ...(
    [
      ["name", (of: Record<string, string>) => (of === A ? "Alice" : "Bob")],
      ["surname", (of: Record<string, string>) => (of === A ? "aardvark" : "badger")],
      ["email prefix", (of: Record<string, string>) => of.email?.slice(0, 8) ?? ""],
      ["phone digits", (of: Record<string, string>) => of.phone?.slice(-9) ?? ""],
      ["card code", (of: Record<string, string>) => of.memberCode ?? ""],
    ] as const
  ).map(
    ([what, q]): Case => ({
      name: `search by A's member's ${what}`,
      method: "GET",
      url: (of) => `/v1/members?q=${encodeURIComponent(q(of))}`,
      refused: { status: 200, empty: true },
      control: 200,
    }),
  ),
  // Last: the control confirms B's voucher, so nothing can be confirmed after it.
  {
    name: "A's location_id when B confirms B's voucher at the counter",
    method: "POST",
    url: () => `/v1/vouchers/${B.voucher}/redeem`,
    body: (of) => ({ location_id: of.location }),
    refused: { status: 404, code: "location_not_found" },
    control: 200,
  },
];

/** Rows of the business whose text names one of `needles`, as "table: needle". */
async function rowsNaming(businessId: string, needles: string[]): Promise<string[]> {
  const db = t.database.db;
  const tables = await sql<{ table_name: string }>`
    select table_name from information_schema.columns
    where column_name = 'business_id' and table_schema = current_schema() order by table_name`.execute(db);
  const found: string[] = [];
  for (const { table_name } of tables.rows) {
    for (const needle of needles) {
      const row = await sql<{ n: number }>`
        select count(*)::int as n from ${sql.table(table_name)} x
        where business_id = ${businessId} and strpos(x::text, ${needle}) > 0`.execute(db);
      if ((row.rows[0]?.n ?? 0) > 0) found.push(`${table_name}: ${needle}`);
    }
  }
  return found;
}

const flat = (text: string) => text.toLowerCase().replace(/\s/g, "");

/** A's ids and contact details, which no row of B may hold. */
const idsOfA = () =>
  ["location", "tier", "card", "reward", "rule", "member", "purchase", "email", "phone"].map((key) => {
    const value = A[key];
    if (value === undefined) throw new Error(`A has no ${key}`);
    return value;
  });

describe("isolation between businesses: ids and codes in bodies and query strings", () => {
  it("refuses each call of business B with business A's ids, and neither business changes", async () => {
    const beforeA = await digestOf(a.businessId);
    const beforeB = await digestOf(b.businessId);
    const failures: string[] = [];
    for (const c of cases) {
      const url = c.url(A);
      const body = c.body?.(A);
      const res = await b.call(c.method, url, body);
      // What B sent, decoded and without spaces: an answer may echo it in its normal form.
      const sent = flat(decodeURIComponent(url) + JSON.stringify(body ?? null));
      const got = `${res.status} ${res.text}`;
      if ("code" in c.refused) {
        if (res.status !== c.refused.status || res.body?.error?.code !== c.refused.code) {
          failures.push(`${c.name}: expected ${c.refused.status} ${c.refused.code}, got ${got}`);
        }
      } else if (res.status !== 200 || res.body?.data?.length !== 0) {
        failures.push(`${c.name}: expected 200 and no members, got ${got}`);
      }
      // The answer may repeat what B sent, and nothing else of A.
      for (const secret of secretsOfA()) {
        if (!sent.includes(flat(secret)) && res.text.includes(secret)) {
          failures.push(`${c.name}: the answer shows A's ${secret}: ${got}`);
        }
      }
    }
    expect(failures).toEqual([]);
    expect(await digestOf(a.businessId)).toEqual(beforeA);
    expect(await digestOf(b.businessId)).toEqual(beforeB);
    expect(await rowsNaming(b.businessId, idsOfA())).toEqual([]);
  });

  it("accepts the same calls with B's own ids, and still no row of B names A's", async () => {
    const beforeA = await digestOf(a.businessId);
    for (const c of cases) {
      const res = await b.call(c.method, c.url(B), c.body?.(B));
      expect(res.status, `${c.name} with B's ids: ${res.status} ${res.text}`).toBe(c.control);
      if (!("code" in c.refused)) {
        expect(
          res.body.data.map((m: { id: string }) => m.id),
          c.name,
        ).toEqual([B.member]);
      }
      if (c.url(B).startsWith("/v1/members/lookup")) expect(res.body.id, c.name).toBe(B.member);
    }
    expect(await digestOf(a.businessId)).toEqual(beforeA);
    expect(await rowsNaming(b.businessId, idsOfA())).toEqual([]);
    // The scan does see ids in rows: B's purchases name B's location.
    expect(await rowsNaming(b.businessId, [B.location ?? ""])).toContain(`purchases: ${B.location}`);
  });
});
