import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type Tenant, type TestApp } from "../helpers/api.ts";
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

describe("audit log", () => {
  it("lists actions newest first, in pages, with who did them", async () => {
    const b = await t.signup();
    const ownerId = await actorId(b);
    // Each write a second later: ids, and so the order, follow the clock.
    for (const name of ["One", "Two", "Three"]) {
      t.clock.advance(1000);
      await b.call("POST", "/v1/locations", { name });
    }
    const first = await b.call("GET", "/v1/audit-log?limit=2");
    expect(first.status).toBe(200);
    expect(first.body.data.map((e: { data: { name: string } }) => e.data.name)).toEqual(["Three", "Two"]);
    expect(first.body.data[0]).toMatchObject({
      actor: `staff:${ownerId}`,
      action: "location.created",
      target_type: "location",
      created_at: t.clock.now().toISOString(),
    });
    const rest = await b.call("GET", `/v1/audit-log?limit=2&cursor=${first.body.next_cursor}`);
    expect(rest.body.data.map((e: { action: string }) => e.action)).toEqual([
      "location.created",
      "business.created",
    ]);
    expect(rest.body.next_cursor).toBeNull();
  });

  it("filters by action", async () => {
    await a.call("POST", "/v1/locations", { name: "Filtered" });
    const res = await a.call("GET", "/v1/audit-log?action=staff.created&limit=200");
    expect(res.body.data.map((e: { target_id: string }) => e.target_id).sort()).toEqual(
      [cashier.id, manager.id].sort(),
    );
    expect((await a.call("GET", "/v1/audit-log?action=nothing.ever")).body.data).toEqual([]);
    expect((await a.call("GET", "/v1/audit-log?action=")).status).toBe(400);
  });

  it("is open to managers and owners, not cashiers", async () => {
    expect((await manager.session.call("GET", "/v1/audit-log")).status).toBe(200);
    const res = await cashier.session.call("GET", "/v1/audit-log");
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe("forbidden");
  });

  it("shows each business only its own actions", async () => {
    const b = await t.signup();
    const res = await b.call("GET", "/v1/audit-log?limit=200");
    expect(res.body.data.map((e: { action: string }) => e.action)).toEqual(["business.created"]);
    expect(res.body.data[0].target_id).toBe(b.businessId);
  });
});
