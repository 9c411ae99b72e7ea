import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listActiveStampCards } from "../../src/modules/stamps/index.ts";
import { startTestApp, type Tenant, type TestApp } from "../helpers/api.ts";
import { addStaff } from "../helpers/staff.ts";

// Signups are rate limited per client address (20 an hour), so tests share two businesses where
// they can and sign up their own only to see a list of their own.
let t: TestApp;
let a: Tenant;
let b: Tenant;
beforeAll(async () => {
  t = await startTestApp();
  a = await t.signup();
  b = await t.signup();
});
afterAll(async () => t?.close());

const COFFEE = { name: "Coffee card", stamps_required: 10, earn_on: "visit" };
const FOOD = {
  name: "Dog food card",
  stamps_required: 6,
  earn_on: "item",
  item_match: { brands: ["Acana"], categories: ["dog-food"] },
  max_stamps_per_purchase: 3,
};

/** Creates a card a second after the one before, so lists in creation order are predictable. */
async function createCard(tenant: Tenant, body: Record<string, unknown> = COFFEE): Promise<string> {
  t.clock.advance(1_000);
  const res = await tenant.call("POST", "/v1/stamp-cards", body);
  if (res.status !== 201) throw new Error(`create failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.id;
}

describe("stamp cards", () => {
  it("creates a visit card with defaults and reads it back", async () => {
    const tenant = await t.signup();
    const res = await tenant.call("POST", "/v1/stamp-cards", COFFEE);
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.any(String),
      ...COFFEE,
      min_spend_minor: 0,
      item_match: null,
      max_stamps_per_purchase: 10,
      archived_at: null,
      created_at: t.clock.now().toISOString(),
      updated_at: t.clock.now().toISOString(),
    });
    expect((await tenant.call("GET", `/v1/stamp-cards/${res.body.id}`)).body).toEqual(res.body);
    expect((await tenant.call("GET", "/v1/stamp-cards")).body.data).toEqual([res.body]);
    const audit = await t.ctx.db
      .selectFrom("audit_log")
      .select(["action", "target_id"])
      .where("business_id", "=", tenant.businessId)
      .where("action", "like", "stamp_card.%")
      .execute();
    expect(audit).toEqual([{ action: "stamp_card.created", target_id: res.body.id }]);
  });

  it("creates an item card with its item match and a purchase card with a minimum spend", async () => {
    const tenant = await t.signup();
    const food = await tenant.call("POST", "/v1/stamp-cards", FOOD);
    expect(food.status).toBe(201);
    expect(food.body).toMatchObject(FOOD);
    t.clock.advance(1_000);
    const lunch = await tenant.call("POST", "/v1/stamp-cards", {
      name: "Lunch",
      stamps_required: 5,
      earn_on: "purchase",
      min_spend_minor: 1_000,
    });
    expect(lunch.body).toMatchObject({ earn_on: "purchase", min_spend_minor: 1_000, item_match: null });
    const active = await listActiveStampCards(t.ctx.db, tenant.businessId);
    expect(active.map((c) => [c.name, c.item_match])).toEqual([
      ["Dog food card", { brands: ["Acana"], categories: ["dog-food"] }],
      ["Lunch", null],
    ]);
  });

  it.each([
    ["no item_match", {}],
    ["a null item_match", { item_match: null }],
    ["an empty item_match", { item_match: {} }],
    ["only empty lists", { item_match: { skus: [], brands: [] } }],
  ])("refuses an item card with %s: item_match_required", async (_label, patch) => {
    const before = (await a.call("GET", "/v1/stamp-cards?include_archived=true")).body.data.length;
    const { item_match: _m, ...base } = FOOD;
    const res = await a.call("POST", "/v1/stamp-cards", { ...base, ...patch });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe("item_match_required");
    expect((await a.call("GET", "/v1/stamp-cards?include_archived=true")).body.data).toHaveLength(before);
  });

  it("refuses an item match on a card that does not earn per item", async () => {
    const res = await a.call("POST", "/v1/stamp-cards", { ...COFFEE, item_match: { skus: ["LATTE"] } });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe("item_match_not_allowed");
  });

  it.each([
    ["zero stamps required", { stamps_required: 0 }, "stamps_required"],
    ["101 stamps required", { stamps_required: 101 }, "stamps_required"],
    ["an unknown earn_on", { earn_on: "minute" }, "earn_on"],
    ["a negative minimum spend", { min_spend_minor: -1 }, "min_spend_minor"],
    ["a fractional minimum spend", { min_spend_minor: 1.5 }, "min_spend_minor"],
    ["zero stamps per purchase", { max_stamps_per_purchase: 0 }, "max_stamps_per_purchase"],
    ["an empty name", { name: "  " }, "name"],
    ["an unknown item_match key", { earn_on: "item", item_match: { colour: ["red"] } }, "item_match"],
    ["an extra field", { colour: "red" }, ""],
  ])("refuses %s with validation_failed", async (_label, patch, path) => {
    const res = await a.call("POST", "/v1/stamp-cards", { ...COFFEE, ...patch });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("validation_failed");
    expect(res.body.error.details.issues.map((i: { path: string }) => i.path)).toContain(path);
  });

  it("changes the fields sent and checks the item match of the result", async () => {
    const tenant = a;
    const id = await createCard(tenant);
    t.clock.advance(1_000);
    const renamed = await tenant.call("PATCH", `/v1/stamp-cards/${id}`, {
      name: "Koffiekaart",
      stamps_required: 8,
    });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ name: "Koffiekaart", stamps_required: 8, earn_on: "visit" });
    expect(renamed.body.updated_at).not.toBe(renamed.body.created_at);

    const noMatch = await tenant.call("PATCH", `/v1/stamp-cards/${id}`, { earn_on: "item" });
    expect(noMatch.status).toBe(422);
    expect(noMatch.body.error.code).toBe("item_match_required");
    const toItem = await tenant.call("PATCH", `/v1/stamp-cards/${id}`, {
      earn_on: "item",
      item_match: { skus: ["LATTE"] },
    });
    expect(toItem.body).toMatchObject({ earn_on: "item", item_match: { skus: ["LATTE"] } });
    const clear = await tenant.call("PATCH", `/v1/stamp-cards/${id}`, { item_match: null });
    expect(clear.body.error.code).toBe("item_match_required");
    const back = await tenant.call("PATCH", `/v1/stamp-cards/${id}`, { earn_on: "visit" });
    expect(back.body).toMatchObject({ earn_on: "visit", item_match: null });
    const notAllowed = await tenant.call("PATCH", `/v1/stamp-cards/${id}`, { item_match: { skus: ["X"] } });
    expect(notAllowed.body.error.code).toBe("item_match_not_allowed");
    expect((await tenant.call("PATCH", `/v1/stamp-cards/${id}`, {})).status).toBe(400);
  });

  it("archives a card: gone from the active list, kept with collected stamps, frozen", async () => {
    const tenant = await t.signup();
    const id = await createCard(tenant);
    const other = await createCard(tenant, FOOD);
    const member = await tenant.call("POST", "/v1/members", { name: "Anna", marketing_consent: false });
    expect(member.status).toBe(201);
    await t.ctx.db
      .insertInto("stamp_balances")
      .values({
        business_id: tenant.businessId,
        member_id: member.body.id,
        stamp_card_id: id,
        stamps: 4,
        updated_at: t.clock.now(),
      })
      .execute();

    t.clock.advance(1_000);
    const archived = await tenant.call("DELETE", `/v1/stamp-cards/${id}`);
    expect(archived.status).toBe(200);
    expect(archived.body.archived_at).toBe(t.clock.now().toISOString());
    expect((await tenant.call("GET", "/v1/stamp-cards")).body.data.map((c: { id: string }) => c.id)).toEqual([
      other,
    ]);
    const all = await tenant.call("GET", "/v1/stamp-cards?include_archived=true");
    expect(all.body.data.map((c: { id: string }) => c.id)).toEqual([id, other]);
    expect((await listActiveStampCards(t.ctx.db, tenant.businessId)).map((c) => c.id)).toEqual([other]);
    expect((await tenant.call("GET", `/v1/stamp-cards/${id}`)).body.archived_at).not.toBeNull();

    const balance = await t.ctx.db
      .selectFrom("stamp_balances")
      .select("stamps")
      .where("business_id", "=", tenant.businessId)
      .where("stamp_card_id", "=", id)
      .executeTakeFirst();
    expect(balance?.stamps).toBe(4);

    const patch = await tenant.call("PATCH", `/v1/stamp-cards/${id}`, { name: "Again" });
    expect(patch.status).toBe(409);
    expect(patch.body.error.code).toBe("stamp_card_archived");
    t.clock.advance(1_000);
    const again = await tenant.call("DELETE", `/v1/stamp-cards/${id}`);
    expect(again.status).toBe(200);
    expect(again.body.archived_at).toBe(archived.body.archived_at);
  });

  it("lets a cashier read cards but not change them", async () => {
    const tenant = a;
    const id = await createCard(tenant);
    const cashier = (await addStaff(t, tenant, "cashier")).session;
    const list = await cashier.call("GET", "/v1/stamp-cards");
    expect(list.body.data.map((c: { id: string }) => c.id)).toContain(id);
    expect((await cashier.call("GET", `/v1/stamp-cards/${id}`)).status).toBe(200);
    for (const [method, url, body] of [
      ["POST", "/v1/stamp-cards", COFFEE],
      ["PATCH", `/v1/stamp-cards/${id}`, { name: "X" }],
      ["DELETE", `/v1/stamp-cards/${id}`, undefined],
    ] as const) {
      const res = await cashier.call(method, url, body);
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe("forbidden");
    }
    expect((await tenant.call("GET", `/v1/stamp-cards/${id}`)).body.archived_at).toBeNull();
    const manager = (await addStaff(t, tenant, "manager")).session;
    expect((await manager.call("POST", "/v1/stamp-cards", COFFEE)).status).toBe(201);
  });

  it("keeps cards to their business: another business gets stamp_card_not_found", async () => {
    const id = await createCard(a);
    for (const [method, body] of [
      ["GET", undefined],
      ["PATCH", { name: "Stolen" }],
      ["DELETE", undefined],
    ] as const) {
      const res = await b.call(method, `/v1/stamp-cards/${id}`, body);
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe("stamp_card_not_found");
    }
    const listed = (await b.call("GET", "/v1/stamp-cards?include_archived=true")).body.data;
    expect(listed.map((c: { id: string }) => c.id)).not.toContain(id);
    expect(await listActiveStampCards(t.ctx.db, b.businessId)).toEqual([]);
    expect((await a.call("GET", `/v1/stamp-cards/${id}`)).body).toMatchObject({
      name: COFFEE.name,
      archived_at: null,
    });
  });

  it("answers an unknown id with 404 and a malformed one with 400", async () => {
    const unknown = await a.call("GET", "/v1/stamp-cards/0193f1c2-7b4e-7c3a-9f2e-5a1b2c3d4e5f");
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe("stamp_card_not_found");
    expect((await a.call("GET", "/v1/stamp-cards/nope")).status).toBe(400);
  });
});
