import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type Tenant, type TestApp } from "../helpers/api.ts";
import { actorId, addStaff, logIn, STAFF_PASSWORD, type StaffMember } from "../helpers/staff.ts";

let t: TestApp;
let a: Tenant;
let cashier: StaffMember;
let manager: StaffMember;

beforeAll(async () => {
  t = await startTestApp();
  a = await t.signup();
  cashier = await addStaff(t, a, "cashier");
  manager = await addStaff(t, a, "manager");
});
afterAll(async () => t?.close());

async function staffCount(tenant: Tenant): Promise<number> {
  const res = await tenant.call("GET", "/v1/staff?limit=200");
  return res.body.data.length;
}

describe("staff", () => {
  it("adds staff who log in and act with their role", async () => {
    const me = await cashier.session.call("GET", "/v1/auth/me");
    expect(me.body.actor).toMatchObject({ kind: "staff", id: cashier.id, role: "cashier" });
    expect(me.body.staff).toMatchObject({ email: cashier.email, role: "cashier", disabled: false });
    expect((await manager.session.call("GET", "/v1/auth/me")).body.actor.role).toBe("manager");
  });

  it("stores the email in lower case and refuses it again as staff_email_taken", async () => {
    const res = await a.call("POST", "/v1/staff", {
      email: "Kim@Example.TEST",
      name: "Kim",
      role: "cashier",
      password: STAFF_PASSWORD,
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      email: "kim@example.test",
      name: "Kim",
      role: "cashier",
      disabled: false,
    });
    const before = await staffCount(a);
    const again = await a.call("POST", "/v1/staff", {
      email: "KIM@example.test",
      name: "Kim 2",
      role: "manager",
      password: STAFF_PASSWORD,
    });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe("staff_email_taken");
    expect(await staffCount(a)).toBe(before);
  });

  it("lists staff in pages that cover everyone once", async () => {
    const b = await t.signup();
    for (const role of ["cashier", "manager", "cashier"] as const) {
      await b.call("POST", "/v1/staff", {
        email: `${role}${Math.random()}@b.test`,
        name: role,
        role,
        password: STAFF_PASSWORD,
      });
    }
    const first = await b.call("GET", "/v1/staff?limit=3");
    expect(first.status).toBe(200);
    expect(first.body.data).toHaveLength(3);
    expect(first.body.next_cursor).toEqual(expect.any(String));
    const second = await b.call("GET", `/v1/staff?limit=3&cursor=${first.body.next_cursor}`);
    expect(second.body.data).toHaveLength(1);
    expect(second.body.next_cursor).toBeNull();
    const ids = [...first.body.data, ...second.body.data].map((s: { id: string }) => s.id);
    expect(new Set(ids).size).toBe(4);
    expect(JSON.stringify(first.body)).not.toContain("password");
    const bad = await b.call("GET", "/v1/staff?cursor=not-a-cursor");
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe("invalid_cursor");
  });

  it.each([
    ["an extra field", { admin: true }, ""],
    ["a bad email", { email: "not-an-email" }, "email"],
    ["a bad role", { role: "admin" }, "role"],
    ["a short password", { password: "short" }, "password"],
    ["an empty name", { name: "  " }, "name"],
  ])("refuses %s with validation_failed and adds no one", async (_label, patch, path) => {
    const before = await staffCount(a);
    const res = await a.call("POST", "/v1/staff", {
      email: "new.person@example.test",
      name: "New Person",
      role: "cashier",
      password: STAFF_PASSWORD,
      ...patch,
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("validation_failed");
    expect(res.body.error.details.issues.map((i: { path: string }) => i.path)).toContain(path);
    expect(await staffCount(a)).toBe(before);
  });

  it("gets and renames a staff member, and refuses a bad patch", async () => {
    const got = await a.call("GET", `/v1/staff/${cashier.id}`);
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ id: cashier.id, email: cashier.email, role: "cashier" });
    const renamed = await a.call("PATCH", `/v1/staff/${cashier.id}`, { name: "Carla" });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ name: "Carla", role: "cashier", disabled: false });
    for (const body of [{}, { email: "x@y.test" }, { role: "boss" }, { disabled: "yes" }]) {
      const res = await a.call("PATCH", `/v1/staff/${cashier.id}`, body);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe("validation_failed");
    }
    expect((await a.call("GET", `/v1/staff/${cashier.id}`)).body).toMatchObject({
      name: "Carla",
      email: cashier.email,
      role: "cashier",
    });
  });

  it("answers unknown ids with staff_not_found and malformed ids with validation_failed", async () => {
    const unknown = "0193f1c2-7b4e-7c3a-9f2e-5a1b2c3d4e5f";
    for (const [method, url, body] of [
      ["GET", `/v1/staff/${unknown}`, undefined],
      ["PATCH", `/v1/staff/${unknown}`, { name: "X" }],
      ["POST", `/v1/staff/${unknown}/password`, { password: STAFF_PASSWORD }],
    ] as const) {
      const res = await a.call(method, url, body);
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe("staff_not_found");
    }
    expect((await a.call("GET", "/v1/staff/42")).body.error.code).toBe("validation_failed");
  });

  it("lets only owners manage staff, and managers read who is who", async () => {
    for (const [method, url] of [
      ["GET", "/v1/staff"],
      ["GET", `/v1/staff/${cashier.id}`],
    ] as const) {
      expect((await manager.session.call(method, url)).status, url).toBe(200);
      const refused = await cashier.session.call(method, url);
      expect([refused.status, refused.body.error.code], url).toEqual([403, "forbidden"]);
    }
    for (const member of [cashier, manager]) {
      for (const [method, url, body] of [
        ["POST", "/v1/staff", { email: "x@y.test", name: "X", role: "owner", password: STAFF_PASSWORD }],
        ["PATCH", `/v1/staff/${member.id}`, { role: "owner" }],
        ["POST", `/v1/staff/${member.id}/password`, { password: STAFF_PASSWORD }],
      ] as const) {
        const res = await member.session.call(method, url, body);
        expect(res.status).toBe(403);
        expect(res.body.error.code).toBe("forbidden");
      }
    }
    expect((await a.call("GET", `/v1/staff/${manager.id}`)).body.role).toBe("manager");
  });

  it("changes a role with immediate effect on the member's session", async () => {
    const member = await addStaff(t, a, "cashier");
    expect((await member.session.call("POST", "/v1/locations", { name: "Back room" })).status).toBe(403);
    const res = await a.call("PATCH", `/v1/staff/${member.id}`, { role: "manager" });
    expect(res.body.role).toBe("manager");
    expect((await member.session.call("POST", "/v1/locations", { name: "Back room" })).status).toBe(201);
  });

  it("disabling a member ends their sessions and logins until re-enabled", async () => {
    const member = await addStaff(t, a, "cashier");
    const res = await a.call("PATCH", `/v1/staff/${member.id}`, { disabled: true });
    expect(res.status).toBe(200);
    expect(res.body.disabled).toBe(true);
    expect((await member.session.call("GET", "/v1/auth/me")).status).toBe(401);
    expect((await logIn(t, a.slug, member.email, STAFF_PASSWORD)).code).toBe("invalid_credentials");
    const revoked = await t.database.db
      .selectFrom("staff_sessions")
      .select("revoked_at")
      .where("business_id", "=", a.businessId)
      .where("staff_id", "=", member.id)
      .execute();
    expect(revoked.length).toBeGreaterThan(0);
    expect(revoked.every((s) => s.revoked_at !== null)).toBe(true);

    expect((await a.call("PATCH", `/v1/staff/${member.id}`, { disabled: false })).body.disabled).toBe(false);
    const login = await logIn(t, a.slug, member.email, STAFF_PASSWORD);
    expect(login.status).toBe(200);
    expect((await a.as(login.token ?? "").call("GET", "/v1/auth/me")).status).toBe(200);
  });

  it("resetting a password ends the member's sessions and only the new password works", async () => {
    const member = await addStaff(t, a, "manager");
    const newPassword = "a brand new password";
    const short = await a.call("POST", `/v1/staff/${member.id}/password`, { password: "short" });
    expect(short.status).toBe(400);
    expect((await member.session.call("GET", "/v1/auth/me")).status).toBe(200);
    const res = await a.call("POST", `/v1/staff/${member.id}/password`, { password: newPassword });
    expect(res.status).toBe(204);
    expect((await member.session.call("GET", "/v1/auth/me")).status).toBe(401);
    expect((await logIn(t, a.slug, member.email, STAFF_PASSWORD)).status).toBe(401);
    expect((await logIn(t, a.slug, member.email, newPassword)).status).toBe(200);
  });

  it("always keeps an active owner, and owners cannot demote or disable themselves", async () => {
    const b = await t.signup();
    const ownerId = await actorId(b);
    for (const patch of [{ role: "manager" }, { role: "cashier" }, { disabled: true }]) {
      const res = await b.call("PATCH", `/v1/staff/${ownerId}`, patch);
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe("last_owner");
    }
    const second = await addStaff(t, b, "manager");
    expect((await b.call("PATCH", `/v1/staff/${second.id}`, { role: "owner" })).body.role).toBe("owner");
    const self = await b.call("PATCH", `/v1/staff/${ownerId}`, { role: "manager" });
    expect(self.status).toBe(409);
    expect(self.body.error.code).toBe("own_owner_account");
    // A name change of one's own account is fine.
    expect((await b.call("PATCH", `/v1/staff/${ownerId}`, { name: "Olga" })).status).toBe(200);

    const demoted = await second.session.call("PATCH", `/v1/staff/${ownerId}`, { role: "manager" });
    expect(demoted.status).toBe(200);
    expect((await b.call("PATCH", `/v1/staff/${second.id}`, { name: "Sam" })).status).toBe(403);
    const last = await second.session.call("PATCH", `/v1/staff/${second.id}`, { disabled: true });
    expect(last.body.error.code).toBe("last_owner");
    const owners = await second.session.call("GET", "/v1/staff");
    expect(owners.body.data.filter((s: { role: string }) => s.role === "owner")).toHaveLength(1);
  });

  it("keeps businesses apart: another business's staff are not found", async () => {
    const b = await t.signup();
    for (const [method, url, body] of [
      ["GET", `/v1/staff/${cashier.id}`, undefined],
      ["PATCH", `/v1/staff/${cashier.id}`, { disabled: true }],
      ["POST", `/v1/staff/${cashier.id}/password`, { password: "taken over password" }],
    ] as const) {
      const res = await b.call(method, url, body);
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe("staff_not_found");
    }
    const list = await b.call("GET", "/v1/staff");
    expect(list.body.data.map((s: { id: string }) => s.id)).not.toContain(cashier.id);
    expect((await cashier.session.call("GET", "/v1/auth/me")).status).toBe(200);
    expect((await a.call("GET", `/v1/staff/${cashier.id}`)).body.disabled).toBe(false);
  });

  it("audits every staff change, without passwords", async () => {
    const b = await t.signup();
    const ownerId = await actorId(b);
    const created = await b.call("POST", "/v1/staff", {
      email: "audit@example.test",
      name: "Audited",
      role: "cashier",
      password: STAFF_PASSWORD,
    });
    const id = created.body.id;
    await b.call("PATCH", `/v1/staff/${id}`, { role: "manager", disabled: true });
    await b.call("POST", `/v1/staff/${id}/password`, { password: "another long password" });
    const rows = await t.database.db
      .selectFrom("audit_log")
      .selectAll()
      .where("business_id", "=", b.businessId)
      .where("target_id", "=", id)
      .execute();
    expect(rows.map((r) => r.action).sort()).toEqual([
      "staff.created",
      "staff.password_reset",
      "staff.updated",
    ]);
    expect(rows.every((r) => r.actor === `staff:${ownerId}` && r.target_type === "staff")).toBe(true);
    expect(rows.find((r) => r.action === "staff.updated")?.data).toEqual({ role: "manager", disabled: true });
    expect(JSON.stringify(rows)).not.toMatch(/password"|long password|staff password/);
  });
});
