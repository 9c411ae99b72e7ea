import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Response, startTestApp, type Tenant, type TestApp } from "../helpers/api.ts";
import { actorId, addStaff, type StaffMember } from "../helpers/staff.ts";

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

async function createLocation(tenant: Tenant, body: Record<string, unknown> = { name: "Centrum" }) {
  const res = await tenant.call("POST", "/v1/locations", body);
  expect(res.status).toBe(201);
  return res.body as { id: string; name: string; address: string | null; archived: boolean };
}

describe("locations", () => {
  it("adds a location and reads it back", async () => {
    const created = await createLocation(a, { name: " Centrum ", address: "Markt 1, Utrecht" });
    expect(created).toMatchObject({ name: "Centrum", address: "Markt 1, Utrecht", archived: false });
    expect(created.id).toMatch(/^[0-9a-f-]{36}$/);
    expect((await a.call("GET", `/v1/locations/${created.id}`)).body).toEqual(created);
    expect((await createLocation(a, { name: "No address" })).address).toBeNull();
  });

  it("renames, re-addresses, clears the address, archives and restores a location", async () => {
    const { id } = await createLocation(a);
    const renamed = await a.call("PATCH", `/v1/locations/${id}`, { name: "Oost", address: "Dorpsstraat 2" });
    expect(renamed.body).toMatchObject({ id, name: "Oost", address: "Dorpsstraat 2", archived: false });
    const cleared = await a.call("PATCH", `/v1/locations/${id}`, { address: null });
    expect(cleared.body).toMatchObject({ name: "Oost", address: null });
    expect((await a.call("PATCH", `/v1/locations/${id}`, { archived: true })).body.archived).toBe(true);
    const open = await a.call("GET", "/v1/locations?archived=false&limit=200");
    expect(open.body.data.map((l: { id: string }) => l.id)).not.toContain(id);
    const archived = await a.call("GET", "/v1/locations?archived=true&limit=200");
    expect(archived.body.data.map((l: { id: string }) => l.id)).toEqual([id]);
    expect((await a.call("PATCH", `/v1/locations/${id}`, { archived: false })).body).toMatchObject({
      name: "Oost",
      archived: false,
    });
  });

  it("lists locations in pages that cover each one once", async () => {
    const b = await t.signup();
    for (const name of ["One", "Two", "Three", "Four", "Five"]) await createLocation(b, { name });
    const names: string[] = [];
    let cursor: string | null = null;
    for (let pages = 0; pages < 5; pages++) {
      const url = `/v1/locations?limit=2${cursor ? `&cursor=${cursor}` : ""}`;
      const res: Response<{ data: { name: string }[]; next_cursor: string | null }> = await b.call(
        "GET",
        url,
      );
      expect(res.status).toBe(200);
      names.push(...res.body.data.map((l) => l.name));
      cursor = res.body.next_cursor;
      if (!cursor) break;
    }
    // Ids made within one millisecond (the test clock stands still) have no creation order.
    expect(names.sort()).toEqual(["Five", "Four", "One", "Three", "Two"]);
    // "%%%", written as a URL has it: a cursor that decodes and is none of ours.
    expect((await b.call("GET", "/v1/locations?cursor=%25%25%25")).body.error.code).toBe("invalid_cursor");
    // Sent raw, it does not decode at all.
    expect((await b.call("GET", "/v1/locations?cursor=%%%")).body.error.code).toBe("malformed_url");
    expect((await b.call("GET", "/v1/locations?limit=0")).status).toBe(400);
  });

  it("lets every role read locations but only managers and owners change them", async () => {
    const { id } = await createLocation(a, { name: "Shared" });
    for (const member of [cashier, manager]) {
      expect((await member.session.call("GET", "/v1/locations")).status).toBe(200);
      expect((await member.session.call("GET", `/v1/locations/${id}`)).body.name).toBe("Shared");
    }
    for (const [method, url, body] of [
      ["POST", "/v1/locations", { name: "Cashier's" }],
      ["PATCH", `/v1/locations/${id}`, { archived: true }],
    ] as const) {
      const res = await cashier.session.call(method, url, body);
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe("forbidden");
    }
    expect((await a.call("GET", `/v1/locations/${id}`)).body.archived).toBe(false);
    expect((await manager.session.call("POST", "/v1/locations", { name: "Manager's" })).status).toBe(201);
    const patched = await manager.session.call("PATCH", `/v1/locations/${id}`, { name: "Renamed" });
    expect(patched.body.name).toBe("Renamed");
  });

  it.each([
    ["POST", "an extra field", { name: "X", city: "Utrecht" }, ""],
    ["POST", "a missing name", { address: "Markt 1" }, "name"],
    ["POST", "an empty name", { name: "   " }, "name"],
    ["POST", "an overlong address", { name: "X", address: "x".repeat(301) }, "address"],
    ["PATCH", "an empty patch", {}, ""],
    ["PATCH", "an extra field", { name: "X", archived_at: "2026-01-01T00:00:00Z" }, ""],
    ["PATCH", "a non-boolean archived", { archived: "yes" }, "archived"],
  ] as const)("refuses a %s with %s and changes nothing", async (method, _label, body, path) => {
    const target = await createLocation(a, { name: "Untouched", address: "Here" });
    const before = (await a.call("GET", "/v1/locations?limit=200")).body.data;
    const url = method === "POST" ? "/v1/locations" : `/v1/locations/${target.id}`;
    const res = await a.call(method, url, body);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("validation_failed");
    expect(res.body.error.details.issues.map((i: { path: string }) => i.path)).toContain(path);
    expect((await a.call("GET", "/v1/locations?limit=200")).body.data).toEqual(before);
  });

  it("keeps businesses apart: another business's locations are not found", async () => {
    const { id } = await createLocation(a, { name: "Private" });
    const b = await t.signup();
    for (const [method, body] of [
      ["GET", undefined],
      ["PATCH", { name: "Hijacked", archived: true }],
    ] as const) {
      const res = await b.call(method, `/v1/locations/${id}`, body);
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe("location_not_found");
    }
    expect((await b.call("GET", "/v1/locations")).body.data).toEqual([]);
    expect((await a.call("GET", `/v1/locations/${id}`)).body).toMatchObject({
      name: "Private",
      archived: false,
    });
    const unknown = await a.call("GET", "/v1/locations/0193f1c2-7b4e-7c3a-9f2e-5a1b2c3d4e5f");
    expect(unknown.body.error.code).toBe("location_not_found");
  });

  it("audits adding and changing a location with who did it", async () => {
    const b = await t.signup();
    const ownerId = await actorId(b);
    const { id } = await createLocation(b, { name: "Zuid", address: "Laan 3" });
    await b.call("PATCH", `/v1/locations/${id}`, { archived: true });
    const rows = await t.database.db
      .selectFrom("audit_log")
      .selectAll()
      .where("business_id", "=", b.businessId)
      .where("target_id", "=", id)
      .orderBy("action")
      .execute();
    expect(rows.map((r) => [r.action, r.actor, r.target_type, r.data])).toEqual([
      ["location.created", `staff:${ownerId}`, "location", { name: "Zuid", address: "Laan 3" }],
      ["location.updated", `staff:${ownerId}`, "location", { archived: true }],
    ]);
  });
});
