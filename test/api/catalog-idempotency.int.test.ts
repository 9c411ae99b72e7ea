import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { requestFingerprint } from "../../src/modules/idempotency/index.ts";
import { startTestApp, type TestApp } from "../helpers/api.ts";

/** Creating the program's parts is a write a client retries: a key makes it count once. */
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => t?.close());

const BODIES: Record<string, [Record<string, unknown>, Record<string, unknown>]> = {
  "/v1/stamp-cards": [
    { name: "Coffee card", stamps_required: 10, earn_on: "visit" },
    { name: "Tea card", stamps_required: 8, earn_on: "visit" },
  ],
  "/v1/tiers": [
    { name: "Gold", rank: 1, threshold: 1000 },
    { name: "Silver", rank: 2, threshold: 2000 },
  ],
  "/v1/rules": [
    {
      name: "Review bonus",
      trigger: "event",
      event_type: "review_written",
      effect: { type: "fixed_points", points: 5 },
    },
    {
      name: "Survey bonus",
      trigger: "event",
      event_type: "survey_answered",
      effect: { type: "fixed_points", points: 5 },
    },
  ],
  "/v1/rewards": [
    { name: "Mug", type: "perk", value: { perk: "priority_service" }, cost_points: 100 },
    { name: "Tote", type: "perk", value: { perk: "priority_service" }, cost_points: 200 },
  ],
};

describe("creating the program's parts with an Idempotency-Key", () => {
  it.each(Object.keys(BODIES))(
    "%s: a retry gets the first one back, another body under the key is refused",
    async (path) => {
      const tenant = await t.signup();
      const [first, other] = BODIES[path] as [Record<string, unknown>, Record<string, unknown>];
      const key = { "idempotency-key": `create-${path}` };
      const created = await tenant.call("POST", path, first, key);
      expect(created.status).toBe(201);
      const again = await tenant.call("POST", path, first, key);
      // The first answer, byte for byte (it was stored with its fields in another order once).
      expect([again.status, again.headers["idempotent-replayed"], again.text]).toEqual([
        200,
        "true",
        created.text,
      ]);
      const reused = await tenant.call("POST", path, other, key);
      expect([reused.status, reused.body.error.code]).toEqual([409, "idempotency_key_reused"]);
      const list = await tenant.call("GET", path);
      expect(list.body.data.map((row: { id: string }) => row.id)).toEqual([created.body.id]);
      // Without a key, each request creates.
      expect((await tenant.call("POST", path, other)).status).toBe(201);
      expect((await tenant.call("GET", path)).body.data).toHaveLength(2);
    },
  );
});

describe("adding a location or a staff member with an Idempotency-Key", () => {
  it("a location sent twice under one key is added once", async () => {
    const tenant = await t.signup();
    const before = (await tenant.call("GET", "/v1/locations")).body.data.length;
    const key = { "idempotency-key": "add-centrum" };
    const created = await tenant.call("POST", "/v1/locations", { name: "Centrum" }, key);
    expect(created.status).toBe(201);
    const again = await tenant.call("POST", "/v1/locations", { name: "Centrum" }, key);
    expect([again.status, again.headers["idempotent-replayed"], again.text]).toEqual([
      200,
      "true",
      created.text,
    ]);
    const reused = await tenant.call("POST", "/v1/locations", { name: "Zuid" }, key);
    expect([reused.status, reused.body.error.code]).toEqual([409, "idempotency_key_reused"]);
    expect((await tenant.call("GET", "/v1/locations")).body.data).toHaveLength(before + 1);
    // A key is the business's own: another business may use the same one.
    const other = await t.signup();
    expect((await other.call("POST", "/v1/locations", { name: "Centrum" }, key)).status).toBe(201);
  });

  it("a staff member sent twice under one key is added once, and the key keeps no trace of the password", async () => {
    const tenant = await t.signup();
    const key = { "idempotency-key": "hire-kim" };
    const kim = { email: "kim@shop.test", name: "Kim", role: "cashier", password: "first password 1" };
    const created = await tenant.call("POST", "/v1/staff", kim, key);
    expect(created.status).toBe(201);
    // The retry carries another password: the key answers with the first account, which keeps
    // the first password.
    const again = await tenant.call("POST", "/v1/staff", { ...kim, password: "second password 2" }, key);
    expect([again.status, again.headers["idempotent-replayed"], again.text]).toEqual([
      200,
      "true",
      created.text,
    ]);
    const login = (password: string) =>
      t.call("POST", "/v1/auth/login", { business: tenant.slug, email: kim.email, password });
    expect((await login("first password 1")).status).toBe(200);
    expect((await login("second password 2")).status).toBe(401);
    const reused = await tenant.call("POST", "/v1/staff", { ...kim, role: "manager" }, key);
    expect([reused.status, reused.body.error.code]).toEqual([409, "idempotency_key_reused"]);
    // Without a key, the same email again is the account that exists.
    const twice = await tenant.call("POST", "/v1/staff", kim);
    expect([twice.status, twice.body.error.code]).toEqual([409, "staff_email_taken"]);
    const staff = (await tenant.call("GET", "/v1/staff")).body.data as { email: string }[];
    expect(staff.filter((s) => s.email === kim.email)).toHaveLength(1);
    // What the key keeps: no fingerprint made from the password.
    const stored = await t.database.db
      .selectFrom("idempotency_keys")
      .select(["request_hash"])
      .where("business_id", "=", tenant.businessId)
      .where("key", "=", "client:hire-kim")
      .executeTakeFirstOrThrow();
    const { password: _password, ...account } = kim;
    expect(stored.request_hash).toBe(requestFingerprint("staff.create", account));
  });
});
