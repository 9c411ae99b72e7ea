import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type Tenant, type TestApp } from "../helpers/api.ts";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => t?.close());

async function member(tenant: Tenant, extra: Record<string, unknown> = {}) {
  const res = await tenant.call("POST", "/v1/members", {
    name: "Mia Member",
    marketing_consent: false,
    ...extra,
  });
  expect(res.status).toBe(201);
  return res.body as { id: string; code: string };
}

describe("recording purchases", () => {
  it("earns one point per euro, rounded down, and shows the new balance", async () => {
    const tenant = await t.signup();
    const m = await member(tenant);
    const res = await tenant.call("POST", "/v1/purchases", {
      external_id: "pos-1",
      member_id: m.id,
      amount_minor: 1250,
      currency: "EUR",
    });
    expect(res.status).toBe(201);
    expect(res.body.purchase.points_earned).toBe(12);
    expect(res.body.earned.points).toEqual([
      {
        points: 12,
        reason: "1 point per €1.00",
        reason_code: "earn_rate",
        reason_params: { points: 1, per_minor: 100, currency: "EUR" },
        rule_id: null,
      },
    ]);
    expect(res.body.member.points.available).toBe(12);
  });

  it("counts a purchase sent twice once, and refuses the same external id with another amount", async () => {
    const tenant = await t.signup();
    const m = await member(tenant);
    const body = { external_id: "pos-2", member_code: m.code, amount_minor: 1000, currency: "EUR" };
    const first = await tenant.call("POST", "/v1/purchases", body);
    const again = await tenant.call("POST", "/v1/purchases", body);
    expect(first.status).toBe(201);
    expect(again.status).toBe(200);
    expect(again.headers["idempotent-replayed"]).toBe("true");
    expect(again.body).toEqual(first.body);
    // The stored answer goes out again byte for byte, key order included.
    expect(again.text).toBe(first.text);
    const changed = await tenant.call("POST", "/v1/purchases", { ...body, amount_minor: 2000 });
    expect(changed.status).toBe(409);
    expect(changed.body.error.code).toBe("idempotency_key_reused");
    const list = await tenant.call("GET", `/v1/purchases?member_id=${m.id}`);
    expect(list.body.data).toHaveLength(1);
  });

  it("records an anonymous purchase without points", async () => {
    const tenant = await t.signup();
    const res = await tenant.call("POST", "/v1/purchases", {
      external_id: "anon-1",
      amount_minor: 500,
      currency: "EUR",
    });
    expect(res.status).toBe(201);
    expect(res.body.member).toBeNull();
    expect(res.body.purchase.member_id).toBeNull();
  });

  it.each([
    ["another currency", { currency: "PLN" }, 422, "currency_mismatch"],
    ["an unknown currency", { currency: "XYZ" }, 400, "validation_failed"],
    ["a lowercase currency", { currency: "eur" }, 400, "validation_failed"],
    ["a negative amount", { amount_minor: -1 }, 400, "validation_failed"],
    ["an absurd amount", { amount_minor: 1e15 }, 400, "validation_failed"],
    ["a fractional amount", { amount_minor: 10.5 }, 400, "validation_failed"],
    ["an unknown member", { member_id: "0193f1c2-7b4e-7c3a-9f2e-5a1b2c3d4e5f" }, 404, "member_not_found"],
    ["an unknown member code", { member_code: "NOBODY42" }, 404, "member_not_found"],
    ["a future time", { occurred_at: "2030-01-01T00:00:00Z" }, 422, "occurred_at_in_future"],
    ["an extra field", { tip: 100 }, 400, "validation_failed"],
  ])("refuses %s and records nothing", async (_label, patch, status, code) => {
    const tenant = await t.signup();
    const res = await tenant.call("POST", "/v1/purchases", {
      external_id: "bad",
      amount_minor: 500,
      currency: "EUR",
      ...patch,
    });
    expect(res.status).toBe(status);
    expect(res.body.error.code).toBe(code);
    const list = await tenant.call("GET", "/v1/purchases");
    expect(list.body.data).toHaveLength(0);
  });
});

describe("a member named by a code nobody has", () => {
  it.each(["/v1/purchases", "/v1/purchases/preview"])("is a 404 that names the code: %s", async (url) => {
    const tenant = await t.signup();
    const res = await tenant.call("POST", url, {
      ...(url.endsWith("preview") ? {} : { external_id: "by-code" }),
      member_code: "NOBODY42",
      amount_minor: 100,
      currency: "EUR",
    });
    expect([res.status, res.body.error]).toEqual([
      404,
      { code: "member_not_found", message: "No member with code NOBODY42 in this business." },
    ]);
  });
});

describe("a purchase that would earn more points than one sale may", () => {
  it("is refused whole, in preview too, and records nothing", async () => {
    const tenant = await t.signup();
    const config = (await tenant.call("GET", "/v1/program")).body.config;
    // A rate meant per euro typed per cent: 1,000 points per cent.
    config.points.earn_points = 1_000;
    config.points.earn_per_minor = 1;
    expect((await tenant.call("PUT", "/v1/program", config)).status).toBe(200);
    const m = await member(tenant);
    const at = (amount_minor: number) => ({ member_id: m.id, amount_minor, currency: "EUR" });
    // 1,000,000 cents earn exactly the most one purchase may: taken.
    const most = await tenant.call("POST", "/v1/purchases", { external_id: "most", ...at(1_000_000) });
    expect([most.status, most.body.purchase?.points_earned]).toEqual([201, 1_000_000_000]);
    const before = await tenant.call("GET", `/v1/members/${m.id}/card`);
    for (const [url, body] of [
      ["/v1/purchases", { external_id: "too-much", ...at(1_000_001) }],
      ["/v1/purchases", { external_id: "far-too-much", ...at(3_000_000_000) }],
      ["/v1/purchases/preview", at(1_000_001)],
    ] as const) {
      const res = await tenant.call("POST", url, body);
      expect([res.status, res.body.error?.code, res.body.error?.details], url).toEqual([
        422,
        "points_too_large",
        { points: body.amount_minor * 1_000, max: 1_000_000_000 },
      ]);
    }
    expect((await tenant.call("GET", "/v1/purchases")).body.data).toHaveLength(1);
    expect((await tenant.call("GET", `/v1/members/${m.id}/card`)).body).toEqual(before.body);
  });
});

describe("reading purchases", () => {
  it("reads one purchase, pages through the list newest first, and refuses bad ids and cursors", async () => {
    const tenant = await t.signup();
    const m = await member(tenant);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      t.clock.advance(1_000);
      const res = await tenant.call("POST", "/v1/purchases", {
        external_id: `list-${i}`,
        member_id: m.id,
        amount_minor: 100 * (i + 1),
        currency: "EUR",
      });
      ids.push(res.body.purchase.id);
    }
    const one = await tenant.call("GET", `/v1/purchases/${ids[2]}`);
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({
      id: ids[2],
      external_id: "list-2",
      amount_minor: 300,
      member_id: m.id,
      points_earned: 3,
    });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: any = await tenant.call("GET", `/v1/purchases?limit=2${cursor ? `&cursor=${cursor}` : ""}`);
      expect(page.status).toBe(200);
      seen.push(...page.body.data.map((p: { id: string }) => p.id));
      cursor = page.body.next_cursor;
    } while (cursor);
    expect(seen).toEqual([...ids].reverse());
    const unknown = await tenant.call("GET", "/v1/purchases/0193f1c2-7b4e-7c3a-9f2e-5a1b2c3d4e5f");
    expect([unknown.status, unknown.body.error.code]).toEqual([404, "purchase_not_found"]);
    const notUuid = await tenant.call("GET", "/v1/purchases/123");
    expect([notUuid.status, notUuid.body.error.code]).toEqual([400, "validation_failed"]);
    const badCursor = await tenant.call("GET", "/v1/purchases?cursor=nonsense");
    expect([badCursor.status, badCursor.body.error.code]).toEqual([400, "invalid_cursor"]);
  });
});
