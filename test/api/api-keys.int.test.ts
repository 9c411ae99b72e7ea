import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sha256 } from "../../src/shared/ids.ts";
import { startTestApp, type Tenant, type TestApp } from "../helpers/api.ts";
import { actorId, addStaff } from "../helpers/staff.ts";

let t: TestApp;
let a: Tenant;
beforeAll(async () => {
  t = await startTestApp();
  a = await t.signup();
});
afterAll(async () => t?.close());

async function issue(tenant: Tenant, role: "manager" | "cashier", name = `${role} key`) {
  const res = await tenant.call("POST", "/v1/api-keys", { name, role });
  expect(res.status).toBe(201);
  return { id: res.body.id as string, key: res.body.key as string, as: tenant.as(res.body.key) };
}

describe("API keys", () => {
  it("refuses an Idempotency-Key, which it could not honour, and issues nothing", async () => {
    const before = (await a.call("GET", "/v1/api-keys")).body.data.length;
    const res = await a.call(
      "POST",
      "/v1/api-keys",
      { name: "Till 9", role: "cashier" },
      { "idempotency-key": "k-1" },
    );
    expect([res.status, res.body.error.code]).toEqual([400, "idempotency_key_not_supported"]);
    expect(res.body.error.message).toContain("revoke the key it made");
    expect((await a.call("GET", "/v1/api-keys")).body.data.length).toBe(before);
  });

  it("shows a new key once and stores only its hash", async () => {
    const res = await a.call("POST", "/v1/api-keys", { name: "Till 1", role: "cashier" });
    expect(res.status).toBe(201);
    const key: string = res.body.key;
    expect(key).toMatch(/^rk_[0-9a-f]{32}_[A-Za-z0-9_-]{43}$/);
    expect(res.body).toMatchObject({ name: "Till 1", role: "cashier", revoked: false, last_used_at: null });
    expect(key.startsWith(res.body.prefix)).toBe(true);
    expect(res.body.prefix.length).toBeLessThan(key.length - 32);

    const list = await a.call("GET", "/v1/api-keys");
    const listed = list.body.data.find((k: { id: string }) => k.id === res.body.id);
    expect(listed).toMatchObject({ name: "Till 1", prefix: res.body.prefix, revoked: false });
    expect(listed).not.toHaveProperty("key");
    expect(JSON.stringify(list.body)).not.toContain(key);

    const row = await t.database.db
      .selectFrom("api_keys")
      .selectAll()
      .where("business_id", "=", a.businessId)
      .where("id", "=", res.body.id)
      .executeTakeFirstOrThrow();
    expect(row.key_hash).toBe(sha256(key));
    expect(Object.values(row)).not.toContain(key);
    expect(row.created_by).toBe(await actorId(a));
  });

  it("authenticates a cashier key as a cashier and records its last use", async () => {
    const { id, as: cashierKey } = await issue(a, "cashier");
    const me = await cashierKey.call("GET", "/v1/auth/me");
    expect(me.body.actor).toEqual({ kind: "api_key", id, role: "cashier" });
    expect(me.body.staff).toBeNull();
    expect((await cashierKey.call("GET", "/v1/locations")).status).toBe(200);
    const create = await cashierKey.call("POST", "/v1/locations", { name: "Kiosk" });
    expect(create.status).toBe(403);
    expect(create.body.error.code).toBe("forbidden");
    const listed = (await a.call("GET", "/v1/api-keys?limit=200")).body.data.find(
      (k: { id: string }) => k.id === id,
    );
    expect(listed.last_used_at).toBe(t.clock.now().toISOString());
  });

  it("lets a manager key manage locations but not staff, keys or owner-only settings", async () => {
    const { as: managerKey } = await issue(a, "manager");
    expect((await managerKey.call("POST", "/v1/locations", { name: "Kiosk" })).status).toBe(201);
    expect((await managerKey.call("GET", "/v1/audit-log")).status).toBe(200);
    // It reads who is who (the names in a history), and changes no one.
    expect((await managerKey.call("GET", "/v1/staff")).status).toBe(200);
    for (const [method, url, body] of [
      [
        "POST",
        "/v1/staff",
        { email: "new@staff.test", name: "New", role: "owner", password: "long enough pw" },
      ],
      ["GET", "/v1/api-keys", undefined],
      ["POST", "/v1/api-keys", { name: "Escalate", role: "manager" }],
      ["PATCH", "/v1/business", { name: "Taken over" }],
    ] as const) {
      const res = await managerKey.call(method, url, body);
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe("forbidden");
    }
  });

  it("stops a revoked key at once; revoking it again changes nothing", async () => {
    const { id, as: key } = await issue(a, "manager");
    expect((await key.call("GET", "/v1/locations")).status).toBe(200);
    const revoked = await a.call("DELETE", `/v1/api-keys/${id}`);
    expect(revoked.status).toBe(204);
    const after = await key.call("GET", "/v1/locations");
    expect(after.status).toBe(401);
    expect(after.body.error.code).toBe("unauthorized");
    const revokedAt = t.clock.now().toISOString();
    t.clock.advance(60_000);
    expect((await a.call("DELETE", `/v1/api-keys/${id}`)).status).toBe(204);
    const listed = (await a.call("GET", "/v1/api-keys?limit=200")).body.data.find(
      (k: { id: string }) => k.id === id,
    );
    expect(listed).toMatchObject({ revoked: true, revoked_at: revokedAt });
    const audits = await a.call("GET", "/v1/audit-log?action=api_key.revoked");
    expect(audits.body.data.filter((e: { target_id: string }) => e.target_id === id)).toHaveLength(1);
  });

  it.each([
    ["an extra field", { name: "K", role: "cashier", scopes: ["all"] }, ""],
    ["the owner role", { name: "K", role: "owner" }, "role"],
    ["an unknown role", { name: "K", role: "admin" }, "role"],
    ["no role", { name: "K" }, "role"],
    ["an empty name", { name: " ", role: "cashier" }, "name"],
  ])("refuses %s with validation_failed and issues no key", async (_label, body, path) => {
    const before = (await a.call("GET", "/v1/api-keys?limit=200")).body.data.length;
    const res = await a.call("POST", "/v1/api-keys", body);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("validation_failed");
    expect(res.body.error.details.issues.map((i: { path: string }) => i.path)).toContain(path);
    expect((await a.call("GET", "/v1/api-keys?limit=200")).body.data).toHaveLength(before);
  });

  it("lets only owners issue, list and revoke keys", async () => {
    const { id } = await issue(a, "cashier");
    for (const role of ["cashier", "manager"] as const) {
      const member = await addStaff(t, a, role);
      for (const [method, url, body] of [
        ["GET", "/v1/api-keys", undefined],
        ["POST", "/v1/api-keys", { name: "Mine", role: "cashier" }],
        ["DELETE", `/v1/api-keys/${id}`, undefined],
      ] as const) {
        const res = await member.session.call(method, url, body);
        expect(res.status).toBe(403);
        expect(res.body.error.code).toBe("forbidden");
      }
    }
    const listed = (await a.call("GET", "/v1/api-keys?limit=200")).body.data.find(
      (k: { id: string }) => k.id === id,
    );
    expect(listed.revoked).toBe(false);
  });

  it("keeps businesses apart: another business cannot see or revoke a key", async () => {
    const { id, as: key } = await issue(a, "cashier");
    const b = await t.signup();
    const res = await b.call("DELETE", `/v1/api-keys/${id}`);
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe("api_key_not_found");
    expect((await b.call("GET", "/v1/api-keys")).body.data).toEqual([]);
    expect((await key.call("GET", "/v1/locations")).status).toBe(200);
    const unknown = await a.call("DELETE", "/v1/api-keys/0193f1c2-7b4e-7c3a-9f2e-5a1b2c3d4e5f");
    expect(unknown.body.error.code).toBe("api_key_not_found");
    expect((await a.call("DELETE", "/v1/api-keys/not-a-uuid")).status).toBe(400);
  });

  it("audits issuing and revoking, naming the key by its prefix only", async () => {
    const b = await t.signup();
    const ownerId = await actorId(b);
    const { id, key } = await issue(b, "manager", "Web shop");
    await b.call("DELETE", `/v1/api-keys/${id}`);
    const rows = await t.database.db
      .selectFrom("audit_log")
      .selectAll()
      .where("business_id", "=", b.businessId)
      .where("target_id", "=", id)
      .orderBy("action")
      .execute();
    expect(rows.map((r) => [r.action, r.actor, r.target_type])).toEqual([
      ["api_key.created", `staff:${ownerId}`, "api_key"],
      ["api_key.revoked", `staff:${ownerId}`, "api_key"],
    ]);
    expect(rows[0]?.data).toEqual({ name: "Web shop", role: "manager", prefix: key.slice(0, 42) });
    expect(JSON.stringify(rows)).not.toContain(key);
  });
});
