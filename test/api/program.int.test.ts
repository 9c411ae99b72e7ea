import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_PROGRAM, getProgram } from "../../src/modules/program/index.ts";
import { startTestApp, type TestApp } from "../helpers/api.ts";
import { addStaff } from "../helpers/staff.ts";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => t?.close());

const CHANGED = {
  ...DEFAULT_PROGRAM,
  points: { ...DEFAULT_PROGRAM.points, earn_points: 2, expiry: { policy: "days_after_earn", days: 365 } },
  tiers: { metric: "visits", period: "rolling_12_months" },
};

describe("program settings", () => {
  it("starts with the default program at version 1, readable by a cashier", async () => {
    const tenant = await t.signup();
    const cashier = await addStaff(t, tenant, "cashier");
    const res = await cashier.session.call("GET", "/v1/program");
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ version: 1, config: DEFAULT_PROGRAM });
    expect(res.body.updated_at).toBe("2026-03-02T09:00:00.000Z");
  });

  it("replaces the whole document, raises the version and audits the change", async () => {
    const tenant = await t.signup();
    t.clock.advance(60_000);
    const res = await tenant.call("PUT", "/v1/program", CHANGED);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ version: 2, updated_at: t.clock.now().toISOString(), config: CHANGED });
    expect((await tenant.call("GET", "/v1/program")).body.config).toEqual(CHANGED);
    expect(await getProgram(t.ctx.db, tenant.businessId)).toEqual(CHANGED);
    expect((await tenant.call("PUT", "/v1/program", DEFAULT_PROGRAM)).body.version).toBe(3);
    const audits = await t.ctx.db
      .selectFrom("audit_log")
      .select(["action", "target_type"])
      .where("business_id", "=", tenant.businessId)
      .where("action", "=", "program.updated")
      .execute();
    expect(audits).toHaveLength(2);
  });

  it.each([
    ["a missing section", { points: DEFAULT_PROGRAM.points, tiers: DEFAULT_PROGRAM.tiers }, "refunds"],
    ["an unknown field", { ...DEFAULT_PROGRAM, theme: "dark" }, ""],
    [
      "an unknown tier metric",
      { ...DEFAULT_PROGRAM, tiers: { metric: "age", period: "calendar_year" } },
      "tiers.metric",
    ],
    [
      "a zero earning base",
      { ...DEFAULT_PROGRAM, points: { ...DEFAULT_PROGRAM.points, earn_per_minor: 0 } },
      "points.earn_per_minor",
    ],
  ])("refuses %s with validation_failed and changes nothing", async (_label, body, path) => {
    const tenant = await t.signup();
    const res = await tenant.call("PUT", "/v1/program", body);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("validation_failed");
    expect(res.body.error.details.issues.map((i: { path: string }) => i.path)).toContain(path);
    expect((await tenant.call("GET", "/v1/program")).body.version).toBe(1);
  });

  it.each([
    [30, 30, 422],
    [31, 30, 422],
    [29, 30, 200],
  ])(
    "takes a pending period of %i days with points expiring after %i only if shorter (%i)",
    async (pending, days, status) => {
      const tenant = await t.signup();
      const res = await tenant.call("PUT", "/v1/program", {
        ...DEFAULT_PROGRAM,
        points: {
          ...DEFAULT_PROGRAM.points,
          pending_days: pending,
          expiry: { policy: "days_after_earn", days },
        },
      });
      expect(res.status).toBe(status);
      if (status === 422) {
        expect([res.body.error.code, res.body.error.details]).toEqual([
          "pending_outlasts_expiry",
          { pending_days: pending, expiry_days: days },
        ]);
        expect((await tenant.call("GET", "/v1/program")).body.version).toBe(1);
      }
    },
  );

  it("refuses a document read at an older version (If-Match) with 409 program_changed, and changes nothing", async () => {
    const tenant = await t.signup();
    const read = (await tenant.call("GET", "/v1/program")).body;
    expect(read.version).toBe(1);
    // Another manager changes the settings meanwhile.
    expect((await tenant.call("PUT", "/v1/program", CHANGED)).body.version).toBe(2);
    const stale = await tenant.call("PUT", "/v1/program", read.config, { "if-match": String(read.version) });
    expect([stale.status, stale.body.error.code, stale.body.error.details.version]).toEqual([
      409,
      "program_changed",
      2,
    ]);
    expect((await tenant.call("GET", "/v1/program")).body).toMatchObject({ version: 2, config: CHANGED });
    // At the current version, quoted as an ETag or not, it goes through.
    const current = await tenant.call("GET", "/v1/program");
    expect(current.headers.etag).toBe('"2"');
    const fresh = await tenant.call("PUT", "/v1/program", DEFAULT_PROGRAM, {
      "if-match": String(current.headers.etag),
    });
    expect([fresh.status, fresh.body.version, fresh.headers.etag]).toEqual([200, 3, '"3"']);
    const bad = await tenant.call("PUT", "/v1/program", DEFAULT_PROGRAM, { "if-match": "latest" });
    expect([bad.status, bad.body.error.code]).toEqual([400, "validation_failed"]);
  });

  it("takes a settings change read before a tier, card, rule or reward changed: those are not in the document", async () => {
    const tenant = await t.signup();
    const read = await tenant.call("GET", "/v1/program");
    expect([read.body.version, read.headers.etag]).toEqual([1, '"1"']);
    // Meanwhile another manager (or the same one, in another tab) works on the catalog.
    const made = async (path: string, body: Record<string, unknown>) => {
      const res = await tenant.call("POST", path, body);
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      return res.body.id as string;
    };
    const tier = await made("/v1/tiers", { name: "Regular", rank: 1, threshold: 0 });
    expect((await tenant.call("PATCH", `/v1/tiers/${tier}`, { name: "Regulars" })).status).toBe(200);
    await made("/v1/stamp-cards", { name: "Coffee", stamps_required: 10, earn_on: "visit" });
    await made("/v1/rules", {
      name: "Review",
      trigger: "event",
      event_type: "review_written",
      effect: { type: "fixed_points", points: 50 },
    });
    await made("/v1/rewards", {
      name: "Free latte",
      type: "free_product",
      value: { product_name: "Latte" },
      cost_points: 100,
    });
    const unchanged = await tenant.call("GET", "/v1/program");
    expect([unchanged.body.version, unchanged.headers.etag]).toEqual([1, '"1"']);

    const saved = await tenant.call("PUT", "/v1/program", CHANGED, { "if-match": String(read.headers.etag) });
    expect([saved.status, saved.body.version, saved.headers.etag]).toEqual([200, 2, '"2"']);
    expect((await tenant.call("GET", "/v1/program")).body.config).toEqual(CHANGED);
    // A purchase after it is priced with the new settings and the catalog: the snapshot moved on.
    const member = await made("/v1/members", { name: "Ana", marketing_consent: false });
    const bought = await tenant.call("POST", "/v1/purchases", {
      external_id: "after-settings",
      member_id: member,
      amount_minor: 1000,
      currency: "EUR",
    });
    expect(bought.status, JSON.stringify(bought.body)).toBe(201);
    // Two points per euro (CHANGED), and a stamp on the card made meanwhile.
    expect([bought.body.purchase.points_earned, bought.body.purchase.stamps_earned]).toEqual([20, 1]);
  });

  it("lets a manager change the program but not a cashier", async () => {
    const tenant = await t.signup();
    const cashier = await addStaff(t, tenant, "cashier");
    const refused = await cashier.session.call("PUT", "/v1/program", CHANGED);
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe("forbidden");
    const manager = await addStaff(t, tenant, "manager");
    expect((await manager.session.call("PUT", "/v1/program", CHANGED)).status).toBe(200);
  });

  it("keeps each business's program to itself", async () => {
    const a = await t.signup();
    const b = await t.signup();
    await a.call("PUT", "/v1/program", CHANGED);
    expect((await b.call("GET", "/v1/program")).body).toMatchObject({ version: 1, config: DEFAULT_PROGRAM });
  });
});
