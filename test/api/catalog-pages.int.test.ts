import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type Tenant, type TestApp } from "../helpers/api.ts";

/**
 * The program's catalogs page with cursors like every other list: pages of two, followed to the
 * end, give exactly the whole list in its order, archived rows included where asked for.
 */

let t: TestApp;
let tenant: Tenant;
let member: string;
beforeAll(async () => {
  t = await startTestApp();
  tenant = await t.signup();
  const post = async (url: string, body: unknown) => {
    const res = await tenant.call("POST", url, body);
    if (res.status !== 201) throw new Error(`${url}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.id as string;
  };
  for (const [n, priority] of [
    [1, 50],
    [2, 10],
    [3, 50],
    [4, 30],
    [5, 10],
  ] as const) {
    const id = await post("/v1/rules", {
      name: `Rule ${n}`,
      trigger: "purchase",
      priority,
      effect: { type: "fixed_points", points: n },
    });
    if (n === 3) await tenant.call("DELETE", `/v1/rules/${id}`);
  }
  for (const n of [1, 2, 3, 4, 5]) {
    const id = await post("/v1/stamp-cards", { name: `Card ${n}`, stamps_required: 5, earn_on: "visit" });
    if (n === 2) await tenant.call("DELETE", `/v1/stamp-cards/${id}`);
  }
  // Two archived tiers at rank 2 and an active one there: active first, then the newest archived.
  for (const [n, rank, archive] of [
    [1, 1, false],
    [2, 2, true],
    [3, 2, true],
    [4, 2, false],
    [5, 3, false],
  ] as const) {
    t.clock.advance(1_000);
    const id = await post("/v1/tiers", { name: `Tier ${n}`, rank, threshold: rank * 1_000 + n });
    if (archive) await tenant.call("DELETE", `/v1/tiers/${id}`);
  }
  member = await post("/v1/members", { name: "Pia", marketing_consent: false });
  await tenant.call("POST", "/v1/purchases", {
    external_id: "p-1",
    member_id: member,
    amount_minor: 10_000,
    currency: "EUR",
  });
  for (const cost of [30, 10, 20, 40, 10_000]) {
    await post("/v1/rewards", {
      name: `Reward ${cost}`,
      type: "free_product",
      value: { product_name: "x" },
      cost_points: cost,
    });
  }
});
afterAll(async () => t?.close());

/** Follows `next_cursor` from the first page (of `limit`) to the last; the ids of every page. */
async function follow(url: string, limit: number): Promise<string[][]> {
  const pages: string[][] = [];
  let cursor: string | null = null;
  const join = url.includes("?") ? "&" : "?";
  do {
    const res: { status: number; body: { data: { id: string }[]; next_cursor: string | null } } =
      await tenant.call(
        "GET",
        `${url}${join}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
      );
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    pages.push(res.body.data.map((r) => r.id));
    cursor = res.body.next_cursor;
    expect(pages.length).toBeLessThan(20);
  } while (cursor);
  return pages;
}

describe("catalog pages", () => {
  it.each([
    ["/v1/rules", 4],
    ["/v1/rules?include_archived=true", 5],
    ["/v1/rules?trigger=purchase&include_archived=true", 5],
    ["/v1/stamp-cards", 4],
    ["/v1/stamp-cards?include_archived=true", 5],
    ["/v1/tiers", 3],
    ["/v1/tiers?include_archived=true", 5],
    ["/v1/members/{member}/available-rewards", 4],
  ])("%s pages through all %i in order", async (template, count) => {
    const url = template.replace("{member}", member);
    const whole = await tenant.call("GET", url);
    expect(whole.body.next_cursor).toBeNull();
    const ids = whole.body.data.map((r: { id: string }) => r.id);
    expect(ids).toHaveLength(count);
    const pages = await follow(url, 2);
    expect(pages.flat()).toEqual(ids);
    expect(pages.map((p) => p.length)).toEqual(
      Array.from({ length: Math.ceil(count / 2) }, (_, i) => Math.min(2, count - 2 * i)),
    );
  });

  it("orders tiers by rank, the active tier of a rank before its archived ones, newest archived first", async () => {
    const res = await tenant.call("GET", "/v1/tiers?include_archived=true");
    expect(res.body.data.map((r: { name: string }) => r.name)).toEqual([
      "Tier 1",
      "Tier 4",
      "Tier 3",
      "Tier 2",
      "Tier 5",
    ]);
  });

  it.each([
    ["/v1/rules?cursor=nonsense", "invalid_cursor"],
    ["/v1/tiers?limit=0", "validation_failed"],
    ["/v1/stamp-cards?limit=201", "validation_failed"],
    ["/v1/members/{member}/available-rewards?limit=501", "validation_failed"],
    [
      `/v1/members/{member}/available-rewards?cursor=${Buffer.from("0193f1c2-7b4e-7c3a-9f2e-5a1b2c3d4e5f").toString("base64url")}`,
      "invalid_cursor",
    ],
  ])("refuses %s", async (template, code) => {
    const res = await tenant.call("GET", template.replace("{member}", member));
    expect([res.status, res.body.error.code]).toEqual([400, code]);
  });
});

describe("a cursor belongs to its list", () => {
  /** The cursor after the first row of `url`'s first page of one. */
  const cursorOf = async (url: string, who: Tenant = tenant) => {
    const res = await who.call("GET", `${url}${url.includes("?") ? "&" : "?"}limit=1`);
    expect(res.body.next_cursor, url).toBeTruthy();
    return encodeURIComponent(res.body.next_cursor);
  };

  it("refuses a cursor of another list, another filter or another business, never an empty last page", async () => {
    const other = await t.signup();
    for (const n of [1, 2]) {
      await other.call("POST", "/v1/rules", {
        name: `R${n}`,
        trigger: "purchase",
        effect: { type: "fixed_points", points: 1 },
      });
    }
    const cases: [string, string][] = [
      ["/v1/rules", `/v1/tiers?cursor=${await cursorOf("/v1/rules")}`],
      ["/v1/rules", `/v1/stamp-cards?cursor=${await cursorOf("/v1/rules")}`],
      ["/v1/purchases", `/v1/members?cursor=${await cursorOf("/v1/members/" + member + "/history")}`],
      ["/v1/rules", `/v1/rules?include_archived=true&cursor=${await cursorOf("/v1/rules")}`],
      ["another business", `/v1/rules?cursor=${await cursorOf("/v1/rules", other)}`],
      [
        "another filter of one history",
        `/v1/members/${member}/history?type=points&cursor=${await cursorOf(`/v1/members/${member}/history`)}`,
      ],
    ];
    for (const [, url] of cases) {
      const res = await tenant.call("GET", url);
      expect([res.status, res.body.error?.code], url).toEqual([400, "invalid_cursor"]);
    }
    const foreign = await tenant.call("GET", `/v1/rules?cursor=${await cursorOf("/v1/rules", other)}`);
    expect(foreign.body.error.message).toContain("another list, another business or other filters");
  });

  it("a rule re-prioritised between two pages does not hide the rest of the list", async () => {
    const shop = await t.signup();
    const ids: string[] = [];
    for (const priority of [10, 20, 30, 40, 50, 60]) {
      const res = await shop.call("POST", "/v1/rules", {
        name: `P${priority}`,
        trigger: "purchase",
        priority,
        effect: { type: "fixed_points", points: 1 },
      });
      ids.push(res.body.id);
    }
    const first = await shop.call("GET", "/v1/rules?limit=2");
    expect(first.body.data.map((r: { name: string }) => r.name)).toEqual(["P10", "P20"]);
    expect((await shop.call("PATCH", `/v1/rules/${ids[1]}`, { priority: 100 })).status).toBe(200);
    const names: string[] = [];
    let cursor: string | null = first.body.next_cursor;
    while (cursor) {
      const page = await shop.call("GET", `/v1/rules?limit=2&cursor=${encodeURIComponent(cursor)}`);
      expect(page.status).toBe(200);
      names.push(...page.body.data.map((r: { name: string }) => r.name));
      cursor = page.body.next_cursor;
    }
    // Every rule after the cursor's place is there; the moved one shows again at its new place.
    expect(names).toEqual(["P30", "P40", "P50", "P60", "P20"]);
  });
});
