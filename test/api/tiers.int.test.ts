import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listActiveTiers } from "../../src/modules/tiers/index.ts";
import { startTestApp, type Tenant, type TestApp } from "../helpers/api.ts";
import { addStaff } from "../helpers/staff.ts";

// Signups are rate limited per client address (20 an hour): tests that need a ladder of their own
// sign up, the others share two businesses.
let t: TestApp;
let a: Tenant;
let b: Tenant;
beforeAll(async () => {
  t = await startTestApp();
  a = await t.signup();
  b = await t.signup();
});
afterAll(async () => t?.close());

const SILVER = { name: "Silver", rank: 1, threshold: 0 };
const GOLD = {
  name: "Gold",
  rank: 2,
  threshold: 50_000,
  earn_multiplier_bp: 15_000,
  benefits: ["Free refill"],
};
const PLATINUM = { name: "Platinum", rank: 3, threshold: 200_000, earn_multiplier_bp: 20_000 };

async function createTier(tenant: Tenant, body: Record<string, unknown>): Promise<string> {
  t.clock.advance(1_000);
  const res = await tenant.call("POST", "/v1/tiers", body);
  if (res.status !== 201) throw new Error(`create failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.id;
}

const ids = (res: { body: { data: { id: string }[] } }) => res.body.data.map((x) => x.id);

describe("tiers", () => {
  it("creates tiers with defaults and lists them by rank", async () => {
    const tenant = await t.signup();
    const gold = await tenant.call("POST", "/v1/tiers", GOLD);
    expect(gold.status).toBe(201);
    expect(gold.body).toEqual({
      id: expect.any(String),
      ...GOLD,
      archived_at: null,
      created_at: t.clock.now().toISOString(),
      updated_at: t.clock.now().toISOString(),
    });
    const silver = await tenant.call("POST", "/v1/tiers", SILVER);
    expect(silver.body).toMatchObject({ ...SILVER, earn_multiplier_bp: 10_000, benefits: [] });
    const list = await tenant.call("GET", "/v1/tiers");
    expect(list.body.data.map((x: { name: string }) => x.name)).toEqual(["Silver", "Gold"]);
    expect((await tenant.call("GET", `/v1/tiers/${gold.body.id}`)).body).toEqual(gold.body);
    const active = await listActiveTiers(t.ctx.db, tenant.businessId);
    expect(active.map((x) => [x.name, x.rank, x.benefits])).toEqual([
      ["Silver", 1, []],
      ["Gold", 2, ["Free refill"]],
    ]);
    const audit = await t.ctx.db
      .selectFrom("audit_log")
      .select("action")
      .where("business_id", "=", tenant.businessId)
      .where("action", "=", "tier.created")
      .execute();
    expect(audit).toHaveLength(2);
  });

  it("refuses a rank taken by an active tier, on create and on change", async () => {
    const tenant = await t.signup();
    await createTier(tenant, SILVER);
    const gold = await createTier(tenant, GOLD);
    const create = await tenant.call("POST", "/v1/tiers", { ...PLATINUM, rank: 2 });
    expect(create.status).toBe(409);
    expect(create.body.error.code).toBe("tier_rank_taken");
    const change = await tenant.call("PATCH", `/v1/tiers/${gold}`, { rank: 1 });
    expect(change.status).toBe(409);
    expect(change.body.error.code).toBe("tier_rank_taken");
    expect(ids(await tenant.call("GET", "/v1/tiers"))).toHaveLength(2);
  });

  it.each([
    ["a higher rank with a lower threshold", { ...PLATINUM, threshold: 10_000 }],
    ["a higher rank with the same threshold", { ...PLATINUM, threshold: 50_000 }],
    ["a lower rank with a higher threshold", { name: "Bronze", rank: 1, threshold: 60_000 }],
  ])("refuses %s: tier_thresholds_not_increasing", async (_label, body) => {
    const tenant = a;
    const before = await listActiveTiers(t.ctx.db, tenant.businessId);
    if (before.length === 0) await createTier(tenant, GOLD);
    const res = await tenant.call("POST", "/v1/tiers", body);
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe("tier_thresholds_not_increasing");
    expect(await listActiveTiers(t.ctx.db, tenant.businessId)).toHaveLength(1);
  });

  it("checks the order of thresholds again when a tier changes", async () => {
    const tenant = await t.signup();
    const silver = await createTier(tenant, SILVER);
    const gold = await createTier(tenant, GOLD);
    await createTier(tenant, PLATINUM);
    const tooHigh = await tenant.call("PATCH", `/v1/tiers/${gold}`, { threshold: 200_000 });
    expect(tooHigh.status).toBe(422);
    expect(tooHigh.body.error.code).toBe("tier_thresholds_not_increasing");
    const moved = await tenant.call("PATCH", `/v1/tiers/${gold}`, { rank: 4 });
    expect(moved.body.error.code).toBe("tier_thresholds_not_increasing");
    t.clock.advance(1_000);
    const ok = await tenant.call("PATCH", `/v1/tiers/${gold}`, {
      name: "Goud",
      threshold: 100_000,
      benefits: ["Gratis koffie", "Voorrang"],
    });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({
      name: "Goud",
      rank: 2,
      threshold: 100_000,
      benefits: ["Gratis koffie", "Voorrang"],
    });
    expect(ok.body.updated_at).toBe(t.clock.now().toISOString());
    expect((await tenant.call("PATCH", `/v1/tiers/${silver}`, { threshold: 99_999 })).status).toBe(200);
    expect((await tenant.call("PATCH", `/v1/tiers/${silver}`, {})).status).toBe(400);
  });

  it.each([
    ["rank 0", { rank: 0 }, "rank"],
    ["a negative threshold", { threshold: -1 }, "threshold"],
    ["a multiplier below ×1", { earn_multiplier_bp: 9_999 }, "earn_multiplier_bp"],
    ["a multiplier above ×10", { earn_multiplier_bp: 100_001 }, "earn_multiplier_bp"],
    ["21 benefits", { benefits: Array.from({ length: 21 }, (_, i) => `Benefit ${i}`) }, "benefits"],
    ["an empty benefit", { benefits: [""] }, "benefits.0"],
    ["an extra field", { colour: "gold" }, ""],
  ])("refuses %s with validation_failed", async (_label, patch, path) => {
    const res = await b.call("POST", "/v1/tiers", { ...GOLD, ...patch });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("validation_failed");
    expect(res.body.error.details.issues.map((i: { path: string }) => i.path)).toContain(path);
  });

  it("archives an empty tier, frees its rank and refuses a tier members are in", async () => {
    const tenant = await t.signup();
    await createTier(tenant, SILVER);
    const gold = await createTier(tenant, GOLD);
    const member = await tenant.call("POST", "/v1/members", { name: "Anna", marketing_consent: true });
    await t.ctx.db
      .updateTable("members")
      .set({ tier_id: gold })
      .where("business_id", "=", tenant.businessId)
      .where("id", "=", member.body.id)
      .execute();
    const inUse = await tenant.call("DELETE", `/v1/tiers/${gold}`);
    expect(inUse.status).toBe(409);
    expect(inUse.body.error).toMatchObject({
      code: "tier_in_use",
      details: { name: "Gold", members: 1 },
    });
    expect(inUse.body.error.message).toContain('tier "Gold"');

    await t.ctx.db
      .updateTable("members")
      .set({ tier_id: null })
      .where("business_id", "=", tenant.businessId)
      .where("id", "=", member.body.id)
      .execute();
    t.clock.advance(1_000);
    const archived = await tenant.call("DELETE", `/v1/tiers/${gold}`);
    expect(archived.status).toBe(200);
    expect(archived.body.archived_at).toBe(t.clock.now().toISOString());
    expect((await tenant.call("GET", "/v1/tiers")).body.data.map((x: { name: string }) => x.name)).toEqual([
      "Silver",
    ]);
    const all = await tenant.call("GET", "/v1/tiers?include_archived=true");
    expect(all.body.data.map((x: { name: string }) => x.name)).toEqual(["Silver", "Gold"]);

    const patch = await tenant.call("PATCH", `/v1/tiers/${gold}`, { name: "Again" });
    expect(patch.status).toBe(409);
    expect(patch.body.error.code).toBe("tier_archived");
    const again = await tenant.call("DELETE", `/v1/tiers/${gold}`);
    expect(again.body.archived_at).toBe(archived.body.archived_at);

    // The archived tier's rank and threshold no longer constrain the ladder.
    const newGold = await tenant.call("POST", "/v1/tiers", { ...GOLD, threshold: 1 });
    expect(newGold.status).toBe(201);
    expect((await listActiveTiers(t.ctx.db, tenant.businessId)).map((x) => x.id)).toEqual([
      all.body.data[0].id,
      newGold.body.id,
    ]);
  });

  it("lets a cashier read tiers but not change them", async () => {
    const tenant = b;
    const id = await createTier(tenant, { name: "Regular", rank: 10, threshold: 5 });
    const cashier = (await addStaff(t, tenant, "cashier")).session;
    expect(ids(await cashier.call("GET", "/v1/tiers"))).toContain(id);
    expect((await cashier.call("GET", `/v1/tiers/${id}`)).status).toBe(200);
    for (const [method, url, body] of [
      ["POST", "/v1/tiers", { ...GOLD, rank: 11, threshold: 10 }],
      ["PATCH", `/v1/tiers/${id}`, { name: "X" }],
      ["DELETE", `/v1/tiers/${id}`, undefined],
    ] as const) {
      const res = await cashier.call(method, url, body);
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe("forbidden");
    }
    const manager = (await addStaff(t, tenant, "manager")).session;
    expect((await manager.call("PATCH", `/v1/tiers/${id}`, { name: "Vaste klant" })).status).toBe(200);
  });

  it("keeps tiers to their business: another business gets tier_not_found", async () => {
    const id = (await listActiveTiers(t.ctx.db, a.businessId))[0]?.id;
    expect(id).toBeDefined();
    for (const [method, body] of [
      ["GET", undefined],
      ["PATCH", { name: "Stolen" }],
      ["DELETE", undefined],
    ] as const) {
      const res = await b.call(method, `/v1/tiers/${id}`, body);
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe("tier_not_found");
    }
    expect(ids(await b.call("GET", "/v1/tiers?include_archived=true"))).not.toContain(id);
    // The same rank is free in another business.
    expect((await b.call("POST", "/v1/tiers", { ...GOLD, rank: 2, threshold: 1 })).status).toBe(201);
  });
});
