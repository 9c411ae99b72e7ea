import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bindText } from "../../src/db/sql-text.ts";
import { TIER_METRIC_TEXT } from "../../src/modules/tiers/metric.ts";
import { addLocalDays } from "../../src/shared/time.ts";
import { startTestApp, type Tenant, type TestApp } from "../helpers/api.ts";
import { addStaff } from "../helpers/staff.ts";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => t?.close());

const UNKNOWN_ID = "0193f1c2-7b4e-7c3a-9f2e-5a1b2c3d4e5f";
const DAY_MS = 86_400_000;
let purchaseNo = 0;

async function member(tenant: Tenant) {
  const res = await tenant.call("POST", "/v1/members", { name: "Mia Member", marketing_consent: false });
  expect(res.status).toBe(201);
  return res.body.id as string;
}

/** Records a purchase of `euros` for the member: 1 point per euro, and a stamp on every visit card. */
async function buy(tenant: Tenant, memberId: string, euros: number) {
  purchaseNo += 1;
  const res = await tenant.call("POST", "/v1/purchases", {
    external_id: `pos-${purchaseNo}`,
    member_id: memberId,
    amount_minor: euros * 100,
    currency: "EUR",
  });
  expect(res.status).toBe(201);
}

async function reward(tenant: Tenant, extra: Record<string, unknown> = {}) {
  const res = await tenant.call("POST", "/v1/rewards", {
    name: "Free latte",
    type: "free_product",
    value: { product_name: "Latte" },
    cost_points: 50,
    ...extra,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id as string;
}

async function stampCard(tenant: Tenant, stampsRequired = 3) {
  const res = await tenant.call("POST", "/v1/stamp-cards", {
    name: "Coffee card",
    stamps_required: stampsRequired,
    earn_on: "visit",
  });
  expect(res.status).toBe(201);
  return res.body.id as string;
}

const redeem = (tenant: Tenant, memberId: string, rewardId: string, headers: Record<string, string> = {}) =>
  tenant.call("POST", `/v1/members/${memberId}/redemptions`, { reward_id: rewardId }, headers);

async function redeemed(tenant: Tenant, memberId: string, rewardId: string) {
  const res = await redeem(tenant, memberId, rewardId);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { voucher: { id: string; code: string } & Record<string, unknown> } & Record<
    string,
    unknown
  >;
}

/** What the member holds, read straight from the tables: the ground truth the API must keep. */
async function holdings(tenant: Tenant, memberId: string) {
  const db = t.database.db;
  const [account, lots, stamps, vouchers, rewards] = await Promise.all([
    db
      .selectFrom("ledger_accounts")
      .select(["balance_points", "lifetime_spent_points"])
      .where("business_id", "=", tenant.businessId)
      .where("member_id", "=", memberId)
      .executeTakeFirst(),
    db
      .selectFrom("ledger_lots")
      .select(["id", "points_remaining", "expires_at"])
      .where("business_id", "=", tenant.businessId)
      .where("member_id", "=", memberId)
      .orderBy("id")
      .execute(),
    db
      .selectFrom("stamp_balances")
      .select(["stamp_card_id", "stamps"])
      .where("business_id", "=", tenant.businessId)
      .where("member_id", "=", memberId)
      .execute(),
    db
      .selectFrom("vouchers")
      .select(["id", "status"])
      .where("business_id", "=", tenant.businessId)
      .where("member_id", "=", memberId)
      .execute(),
    db.selectFrom("rewards").select(["id", "stock"]).where("business_id", "=", tenant.businessId).execute(),
  ]);
  return { account, lots, stamps, vouchers, rewards };
}

describe("redeeming a reward", () => {
  it("spends points and issues a voucher with the new balance", async () => {
    const tenant = await t.signup();
    const m = await member(tenant);
    await buy(tenant, m, 120);
    const rewardId = await reward(tenant);
    const res = await redeem(tenant, m, rewardId);
    expect(res.status).toBe(201);
    const now = t.clock.now();
    expect(res.body).toEqual({
      voucher: {
        id: expect.any(String),
        code: expect.stringMatching(/^[2-9A-HJKMNP-Z]{10}$/),
        reward: { id: rewardId, name: "Free latte", type: "free_product", value: { product_name: "Latte" } },
        member_id: m,
        status: "issued",
        points_spent: 50,
        stamps_spent: 0,
        // 30 dates later in Amsterdam, at the same time of day (across summer time too).
        expires_at: addLocalDays(now, 30, "Europe/Amsterdam").toISOString(),
        created_at: now.toISOString(),
        redeemed_at: null,
        redeemed_location_id: null,
        voided_at: null,
        void_reason: null,
      },
      member: { id: m, points_available: 70, stamps: null },
    });
    const row = await t.database.db
      .selectFrom("vouchers as v")
      .innerJoin("ledger_entries as e", (j) =>
        j.onRef("e.business_id", "=", "v.business_id").onRef("e.id", "=", "v.ledger_entry_id"),
      )
      .select(["e.kind", "e.points", "e.source_type", "e.source_id"])
      .where("v.business_id", "=", tenant.businessId)
      .where("v.id", "=", res.body.voucher.id)
      .executeTakeFirstOrThrow();
    expect(row).toEqual({
      kind: "spend",
      points: -50,
      source_type: "voucher",
      source_id: res.body.voucher.id,
    });
    const audit = await tenant.call("GET", "/v1/audit-log?action=reward.redeemed");
    expect(audit.body.data).toMatchObject([{ target_type: "voucher", target_id: res.body.voucher.id }]);
  });

  it("pays with a full stamp card and keeps the stamps beyond it", async () => {
    const tenant = await t.signup();
    const card = await stampCard(tenant, 3);
    const m = await member(tenant);
    for (let i = 0; i < 4; i++) await buy(tenant, m, 5);
    const rewardId = await reward(tenant, { cost_points: null, stamp_card_id: card });
    const res = await redeem(tenant, m, rewardId);
    expect(res.status).toBe(201);
    expect(res.body.voucher).toMatchObject({ points_spent: 0, stamps_spent: 3, status: "issued" });
    expect(res.body.member).toEqual({ id: m, points_available: 20, stamps: 1 });
    const h = await holdings(tenant, m);
    expect(h.stamps).toEqual([{ stamp_card_id: card, stamps: 1 }]);
  });

  it("refuses a redemption above the points balance and changes nothing", async () => {
    const tenant = await t.signup();
    const m = await member(tenant);
    await buy(tenant, m, 40);
    const rewardId = await reward(tenant, { stock: 5 });
    const before = await holdings(tenant, m);
    const res = await redeem(tenant, m, rewardId);
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({
      code: "insufficient_points",
      details: { available: 40, needed: 50 },
    });
    expect(await holdings(tenant, m)).toEqual(before);
  });

  it("refuses a redemption without a full stamp card and changes nothing", async () => {
    const tenant = await t.signup();
    const card = await stampCard(tenant, 3);
    const m = await member(tenant);
    await buy(tenant, m, 5);
    await buy(tenant, m, 5);
    const rewardId = await reward(tenant, { cost_points: null, stamp_card_id: card, stock: 2 });
    const before = await holdings(tenant, m);
    const res = await redeem(tenant, m, rewardId);
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({ code: "insufficient_stamps", details: { stamps: 2, needed: 3 } });
    expect(await holdings(tenant, m)).toEqual(before);
  });

  it("stops at the stock, across members", async () => {
    const tenant = await t.signup();
    const rewardId = await reward(tenant, { stock: 1 });
    const [a, b] = [await member(tenant), await member(tenant)];
    await buy(tenant, a, 100);
    await buy(tenant, b, 100);
    await redeemed(tenant, a, rewardId);
    expect((await tenant.call("GET", `/v1/rewards/${rewardId}`)).body.stock).toBe(0);
    const res = await redeem(tenant, b, rewardId);
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe("reward_out_of_stock");
    expect((await holdings(tenant, b)).account?.balance_points).toBe(100);
  });

  it("stops at the per-member limit, and a voided voucher no longer counts", async () => {
    const tenant = await t.signup();
    const rewardId = await reward(tenant, { per_member_limit: 2 });
    const m = await member(tenant);
    await buy(tenant, m, 300);
    await redeemed(tenant, m, rewardId);
    const second = await redeemed(tenant, m, rewardId);
    const third = await redeem(tenant, m, rewardId);
    expect(third.status).toBe(409);
    expect(third.body.error).toMatchObject({ code: "reward_limit_reached", details: { held: 2, limit: 2 } });
    const voided = await tenant.call("POST", `/v1/vouchers/${second.voucher.code}/void`, {
      reason: "mistake",
    });
    expect(voided.status).toBe(200);
    expect((await redeem(tenant, m, rewardId)).status).toBe(201);
  });

  it("lets only members of the eligible tiers redeem", async () => {
    const tenant = await t.signup();
    const gold = await tenant.call("POST", "/v1/tiers", { name: "Gold", rank: 1, threshold: 10_000 });
    const rewardId = await reward(tenant, { eligible_tier_ids: [gold.body.id] });
    const [goldMember, plain] = [await member(tenant), await member(tenant)];
    await buy(tenant, goldMember, 120);
    await buy(tenant, plain, 90);
    expect((await tenant.call("GET", `/v1/members/${goldMember}`)).body.tier_id).toBe(gold.body.id);
    expect((await redeem(tenant, goldMember, rewardId)).status).toBe(201);
    const res = await redeem(tenant, plain, rewardId);
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe("reward_not_eligible");
  });

  it("opens a tier's rewards to a member who reached it before the tier existed, as the card shows", async () => {
    const tenant = await t.signup();
    const m = await member(tenant);
    await buy(tenant, m, 150);
    // The manager adds Gold at €100 after the member's purchases: nothing stored them as Gold.
    const gold = await tenant.call("POST", "/v1/tiers", { name: "Gold", rank: 1, threshold: 10_000 });
    const rewardId = await reward(tenant, { name: "Gold gift", eligible_tier_ids: [gold.body.id] });
    const card = (await tenant.call("GET", `/v1/members/${m}/card`)).body;
    expect(card.tier.current.id).toBe(gold.body.id);
    const offered = (await tenant.call("GET", `/v1/members/${m}/available-rewards`)).body;
    expect(offered.data.map((r: { id: string }) => r.id)).toEqual([rewardId]);
    expect((await redeem(tenant, m, rewardId)).status).toBe(201);
    // The upgrade is recorded, with its reason, by the redemption that relied on it.
    expect((await tenant.call("GET", `/v1/members/${m}`)).body.tier_id).toBe(gold.body.id);
    const changes = await t.database.db
      .selectFrom("tier_changes")
      .select(["to_tier_id", "reason"])
      .where("business_id", "=", tenant.businessId)
      .where("member_id", "=", m)
      .execute();
    expect(changes.map((c) => c.to_tier_id)).toEqual([gold.body.id]);
    // A member below the threshold still may not.
    const plain = await member(tenant);
    await buy(tenant, plain, 90);
    const refused = await redeem(tenant, plain, rewardId);
    expect([refused.status, refused.body.error.code]).toEqual([422, "reward_not_eligible"]);
  });

  it.each([
    ["inactive", () => ({ active: false }), 0],
    ["not yet valid", () => ({ valid_from: new Date(t.clock.now().getTime() + DAY_MS).toISOString() }), 0],
    // A past end is refused when it is set (422 valid_until_in_past): this one passes afterwards.
    [
      "no longer valid",
      () => ({ valid_until: new Date(t.clock.now().getTime() + 1000).toISOString() }),
      1000,
    ],
  ])("refuses a reward that is %s", async (_label, extra, later) => {
    const tenant = await t.signup();
    const m = await member(tenant);
    await buy(tenant, m, 100);
    const rewardId = await reward(tenant, extra());
    t.clock.advance(later);
    const res = await redeem(tenant, m, rewardId);
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe("reward_inactive");
  });

  it("refuses an archived reward, an unknown reward and an unknown member", async () => {
    const tenant = await t.signup();
    const m = await member(tenant);
    await buy(tenant, m, 100);
    const rewardId = await reward(tenant);
    await tenant.call("DELETE", `/v1/rewards/${rewardId}`);
    const archived = await redeem(tenant, m, rewardId);
    expect([archived.status, archived.body.error.code]).toEqual([422, "reward_inactive"]);
    const unknown = await redeem(tenant, m, UNKNOWN_ID);
    expect([unknown.status, unknown.body.error.code]).toEqual([404, "reward_not_found"]);
    const noMember = await redeem(tenant, UNKNOWN_ID, rewardId);
    expect([noMember.status, noMember.body.error.code]).toEqual([404, "member_not_found"]);
    const extra = await tenant.call("POST", `/v1/members/${m}/redemptions`, { reward_id: rewardId, qty: 2 });
    expect([extra.status, extra.body.error.code]).toEqual([400, "validation_failed"]);
  });

  it("issues one voucher for a redemption retried with the same Idempotency-Key", async () => {
    const tenant = await t.signup();
    const m = await member(tenant);
    await buy(tenant, m, 120);
    const rewardId = await reward(tenant);
    const key = { "idempotency-key": "redeem-1" };
    const first = await redeem(tenant, m, rewardId, key);
    const again = await redeem(tenant, m, rewardId, key);
    expect(first.status).toBe(201);
    expect(again.status).toBe(200);
    expect(again.headers["idempotent-replayed"]).toBe("true");
    expect(again.body).toEqual(first.body);
    const other = await reward(tenant, { name: "Other" });
    const reused = await redeem(tenant, m, other, key);
    expect([reused.status, reused.body.error.code]).toEqual([409, "idempotency_key_reused"]);
    const h = await holdings(tenant, m);
    expect(h.vouchers).toHaveLength(1);
    expect(h.account?.balance_points).toBe(70);
  });

  it("lists the rewards the member can redeem now", async () => {
    const tenant = await t.signup();
    const card = await stampCard(tenant, 3);
    const gold = await tenant.call("POST", "/v1/tiers", { name: "Gold", rank: 1, threshold: 1_000_000 });
    const m = await member(tenant);
    await buy(tenant, m, 60);
    await buy(tenant, m, 60);
    const cheap = await reward(tenant, { name: "Cheap", cost_points: 50, per_member_limit: 1 });
    const fits = await reward(tenant, { name: "Exact", cost_points: 120 });
    await reward(tenant, { name: "Too dear", cost_points: 121 });
    await reward(tenant, { name: "Gold only", eligible_tier_ids: [gold.body.id] });
    await reward(tenant, { name: "Gone", stock: 0 });
    await reward(tenant, { name: "Off", active: false });
    await reward(tenant, { name: "Card", cost_points: null, stamp_card_id: card });
    const list = async () =>
      (await tenant.call("GET", `/v1/members/${m}/available-rewards`)).body.data.map(
        (r: { id: string }) => r.id,
      );
    expect(await list()).toEqual([cheap, fits]);
    await redeemed(tenant, m, cheap);
    expect(await list()).toEqual([]);
    const missing = await tenant.call("GET", `/v1/members/${UNKNOWN_ID}/available-rewards`);
    expect(missing.body.error.code).toBe("member_not_found");
  });
});

describe("vouchers", () => {
  async function issued(tenant: Tenant, extra: Record<string, unknown> = {}) {
    const m = await member(tenant);
    await buy(tenant, m, 120);
    const rewardId = await reward(tenant, extra);
    const res = await redeemed(tenant, m, rewardId);
    return { memberId: m, rewardId, code: res.voucher.code, id: res.voucher.id };
  }

  it("finds a voucher by its code in any case, and lists a member's vouchers by status", async () => {
    const tenant = await t.signup();
    const v = await issued(tenant);
    const found = await tenant.call("GET", `/v1/vouchers/${v.code.toLowerCase()}`);
    expect(found.status).toBe(200);
    expect(found.body).toMatchObject({ id: v.id, code: v.code, status: "issued" });
    t.clock.advance(1000);
    const second = await redeemed(tenant, v.memberId, v.rewardId);
    await tenant.call("POST", `/v1/vouchers/${second.voucher.code}/redeem`);
    const list = async (q: string) =>
      (await tenant.call("GET", `/v1/members/${v.memberId}/vouchers${q}`)).body.data.map(
        (x: { id: string }) => x.id,
      );
    expect(await list("")).toEqual([second.voucher.id, v.id]);
    expect(await list("?status=issued")).toEqual([v.id]);
    expect(await list("?status=redeemed")).toEqual([second.voucher.id]);
    expect(await list("?limit=1")).toEqual([second.voucher.id]);
    const missing = await tenant.call("GET", "/v1/vouchers/NOPE2345");
    expect([missing.status, missing.body.error.code]).toEqual([404, "voucher_not_found"]);
  });

  it("is confirmed at the counter once", async () => {
    const tenant = await t.signup();
    const location = await tenant.call("POST", "/v1/locations", { name: "Main street" });
    const v = await issued(tenant);
    t.clock.advance(60_000);
    const res = await tenant.call("POST", `/v1/vouchers/${v.code}/redeem`, { location_id: location.body.id });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      status: "redeemed",
      redeemed_at: t.clock.now().toISOString(),
      redeemed_location_id: location.body.id,
    });
    const again = await tenant.call("POST", `/v1/vouchers/${v.code}/redeem`, {});
    expect([again.status, again.body.error.code]).toEqual([409, "voucher_already_redeemed"]);
    const voidIt = await tenant.call("POST", `/v1/vouchers/${v.code}/void`, { reason: "late" });
    expect([voidIt.status, voidIt.body.error.code]).toEqual([409, "voucher_already_redeemed"]);
  });

  it("replays a confirmation retried with the same Idempotency-Key", async () => {
    const tenant = await t.signup();
    const v = await issued(tenant);
    const key = { "idempotency-key": "counter-1" };
    const first = await tenant.call("POST", `/v1/vouchers/${v.code}/redeem`, {}, key);
    const again = await tenant.call("POST", `/v1/vouchers/${v.code}/redeem`, {}, key);
    expect(first.status).toBe(200);
    expect(again.status).toBe(200);
    expect(again.headers["idempotent-replayed"]).toBe("true");
    expect(again.body).toEqual(first.body);
  });

  it("refuses an unknown or archived location and stays issued", async () => {
    const tenant = await t.signup();
    const v = await issued(tenant);
    const res = await tenant.call("POST", `/v1/vouchers/${v.code}/redeem`, { location_id: UNKNOWN_ID });
    expect([res.status, res.body.error.code]).toEqual([404, "location_not_found"]);
    expect((await tenant.call("GET", `/v1/vouchers/${v.code}`)).body.status).toBe("issued");
  });

  it("expires at expires_at, unused and not refunded", async () => {
    const tenant = await t.signup();
    const v = await issued(tenant, { voucher_valid_days: 2 });
    t.clock.advance(2 * DAY_MS - 1000);
    expect((await tenant.call("GET", `/v1/vouchers/${v.code}`)).body.status).toBe("issued");
    t.clock.advance(1000);
    expect((await tenant.call("GET", `/v1/vouchers/${v.code}`)).body.status).toBe("expired");
    const list = await tenant.call("GET", `/v1/members/${v.memberId}/vouchers?status=expired`);
    expect(list.body.data).toHaveLength(1);
    const before = await holdings(tenant, v.memberId);
    for (const [action, body] of [
      ["redeem", {}],
      ["void", { reason: "too late" }],
    ] as const) {
      const res = await tenant.call("POST", `/v1/vouchers/${v.code}/${action}`, body);
      expect([res.status, res.body.error.code]).toEqual([410, "voucher_expired"]);
    }
    expect(await holdings(tenant, v.memberId)).toEqual(before);
  });

  it("gives back the very same points, lots and expiry dates when voided, and the stock", async () => {
    const tenant = await t.signup();
    const program = await tenant.call("GET", "/v1/program");
    const config = program.body.config;
    config.points.expiry = { policy: "days_after_earn", days: 90 };
    expect((await tenant.call("PUT", "/v1/program", config)).status).toBe(200);
    const m = await member(tenant);
    await buy(tenant, m, 30);
    t.clock.advance(DAY_MS);
    await buy(tenant, m, 40);
    const rewardId = await reward(tenant, { stock: 4 });
    const before = await holdings(tenant, m);
    const res = await redeemed(tenant, m, rewardId);
    const during = await holdings(tenant, m);
    expect(during.lots.map((l) => l.points_remaining)).toEqual([0, 20]);
    expect(during.rewards).toEqual([{ id: rewardId, stock: 3 }]);
    t.clock.advance(5 * 60_000);
    const voided = await tenant.call("POST", `/v1/vouchers/${res.voucher.code}/void`, {
      reason: "wrong item",
    });
    expect(voided.status).toBe(200);
    expect(voided.body.voucher).toMatchObject({
      status: "voided",
      voided_at: t.clock.now().toISOString(),
      void_reason: "wrong item",
    });
    expect(voided.body.member).toEqual({ id: m, points_available: 70, stamps: null });
    const after = await holdings(tenant, m);
    expect(after.lots).toEqual(before.lots);
    expect(after.account).toEqual(before.account);
    expect(after.rewards).toEqual([{ id: rewardId, stock: 4 }]);
    const restore = await t.database.db
      .selectFrom("ledger_entries")
      .select(["kind", "points", "source_id"])
      .where("business_id", "=", tenant.businessId)
      .where("kind", "=", "restore")
      .execute();
    expect(restore).toEqual([{ kind: "restore", points: 50, source_id: res.voucher.id }]);
    const twice = await tenant.call("POST", `/v1/vouchers/${res.voucher.code}/void`, { reason: "again" });
    expect([twice.status, twice.body.error.code]).toEqual([409, "voucher_voided"]);
    const use = await tenant.call("POST", `/v1/vouchers/${res.voucher.code}/redeem`, {});
    expect([use.status, use.body.error.code]).toEqual([409, "voucher_voided"]);
  });

  it("gives back only the stock a voucher took: one issued while the reward was unlimited gives none", async () => {
    const tenant = await t.signup();
    const m = await member(tenant);
    await buy(tenant, m, 200);
    const rewardId = await reward(tenant);
    const unlimited = await redeemed(tenant, m, rewardId);
    // The manager then closes the reward: none left.
    expect((await tenant.call("PATCH", `/v1/rewards/${rewardId}`, { stock: 0 })).status).toBe(200);
    expect(
      (await tenant.call("POST", `/v1/vouchers/${unlimited.voucher.code}/void`, { reason: "undo" })).status,
    ).toBe(200);
    expect((await tenant.call("GET", `/v1/rewards/${rewardId}`)).body.stock).toBe(0);
    const closed = await redeem(tenant, m, rewardId);
    expect([closed.status, closed.body.error.code]).toEqual([409, "reward_out_of_stock"]);
    // A voucher that took a unit gives it back.
    expect((await tenant.call("PATCH", `/v1/rewards/${rewardId}`, { stock: 1 })).status).toBe(200);
    const counted = await redeemed(tenant, m, rewardId);
    expect((await tenant.call("GET", `/v1/rewards/${rewardId}`)).body.stock).toBe(0);
    expect(
      (await tenant.call("POST", `/v1/vouchers/${counted.voucher.code}/void`, { reason: "undo" })).status,
    ).toBe(200);
    expect((await tenant.call("GET", `/v1/rewards/${rewardId}`)).body.stock).toBe(1);
  });

  it.each([
    ["the whole cost was owed", 100, 100],
    ["the refund took part of the lot and owed the rest", 60, 100],
  ])("settles a refund's debt from the points a void gives back (%s)", async (_case, cost, refunded) => {
    const tenant = await t.signup();
    const config = (await tenant.call("GET", "/v1/program")).body.config;
    config.points.expiry = { policy: "days_after_earn", days: 10 };
    config.points.allow_negative_balance = true;
    expect((await tenant.call("PUT", "/v1/program", config)).status).toBe(200);
    const m = await member(tenant);
    purchaseNo += 1;
    const bought = await tenant.call("POST", "/v1/purchases", {
      external_id: `pos-${purchaseNo}`,
      member_id: m,
      amount_minor: 10_000,
      currency: "EUR",
    });
    const res = await redeemed(tenant, m, await reward(tenant, { cost_points: cost }));
    const refund = await tenant.call("POST", "/v1/refunds", {
      external_id: `refund-${purchaseNo}`,
      purchase_id: bought.body.purchase.id,
      amount_minor: refunded * 100,
    });
    expect(refund.status, JSON.stringify(refund.body)).toBe(201);
    const voided = await tenant.call("POST", `/v1/vouchers/${res.voucher.code}/void`, { reason: "undo" });
    expect(voided.status).toBe(200);
    // Earned 100, refunded 100, the reward undone: the member holds nothing and owes nothing.
    expect(voided.body.member.points_available).toBe(0);
    const db = t.database.db;
    const account = () =>
      db
        .selectFrom("ledger_accounts")
        .select(["balance_points", "debt_points"])
        .where("business_id", "=", tenant.businessId)
        .where("member_id", "=", m)
        .executeTakeFirstOrThrow();
    expect(await account()).toEqual({ balance_points: 0, debt_points: 0 });
    expect((await holdings(tenant, m)).lots.map((l) => l.points_remaining)).toEqual([0]);
    // Every entry's allocations add up to its points: the debt is booked as settled.
    const unbooked = await db
      .selectFrom("ledger_entries as e")
      .leftJoin("ledger_allocations as a", (join) =>
        join.onRef("a.business_id", "=", "e.business_id").onRef("a.entry_id", "=", "e.id"),
      )
      .select([
        "e.kind",
        "e.points",
        (eb) => eb.fn.coalesce(eb.fn.sum<number>("a.points"), eb.lit(0)).as("booked"),
      ])
      .where("e.business_id", "=", tenant.businessId)
      .where("e.kind", "in", ["spend", "reverse", "restore"])
      .groupBy(["e.id", "e.kind", "e.points"])
      .execute();
    for (const entry of unbooked) expect(Number(entry.booked), entry.kind).toBe(entry.points);
    // Nothing is left to expire and turn into a negative balance later.
    t.clock.advance(11 * DAY_MS);
    expect((await tenant.call("POST", "/v1/points/expire")).status).toBe(200);
    expect(await account()).toEqual({ balance_points: 0, debt_points: 0 });
    const card = await tenant.call("GET", `/v1/members/${m}/card`);
    expect(card.body.points.available).toBe(0);
  });

  it("gives back the stamps of a stamp-card voucher when voided", async () => {
    const tenant = await t.signup();
    const card = await stampCard(tenant, 3);
    const m = await member(tenant);
    for (let i = 0; i < 3; i++) await buy(tenant, m, 5);
    const rewardId = await reward(tenant, { cost_points: null, stamp_card_id: card });
    const res = await redeemed(tenant, m, rewardId);
    expect(res.member).toMatchObject({ stamps: 0 });
    const voided = await tenant.call("POST", `/v1/vouchers/${res.voucher.code}/void`, { reason: "undo" });
    expect(voided.body.member).toEqual({ id: m, points_available: 15, stamps: 3 });
    const entries = await t.database.db
      .selectFrom("stamp_entries")
      .select(["kind", "stamps"])
      .where("business_id", "=", tenant.businessId)
      .where("source_id", "=", res.voucher.id)
      .orderBy("id")
      .execute();
    expect(entries).toEqual([
      { kind: "redeem", stamps: -3 },
      { kind: "restore", stamps: 3 },
    ]);
  });

  it("lets a cashier void within 10 minutes of issue, and only a manager later", async () => {
    const tenant = await t.signup();
    const cashier = (await addStaff(t, tenant, "cashier")).session;
    const manager = (await addStaff(t, tenant, "manager")).session;
    const a = await issued(tenant);
    const b = await issued(tenant);
    t.clock.advance(10 * 60_000);
    expect((await cashier.call("POST", `/v1/vouchers/${a.code}/void`, { reason: "undo" })).status).toBe(200);
    t.clock.advance(1000);
    const late = await cashier.call("POST", `/v1/vouchers/${b.code}/void`, { reason: "undo" });
    expect([late.status, late.body.error.code]).toEqual([403, "forbidden"]);
    expect((await tenant.call("GET", `/v1/vouchers/${b.code}`)).body.status).toBe("issued");
    expect((await manager.call("POST", `/v1/vouchers/${b.code}/void`, { reason: "refund" })).status).toBe(
      200,
    );
    const missingReason = await manager.call("POST", `/v1/vouchers/${b.code}/void`, {});
    expect([missingReason.status, missingReason.body.error.code]).toEqual([400, "validation_failed"]);
  });

  it("audits confirmations and voids", async () => {
    const tenant = await t.signup();
    const a = await issued(tenant);
    const b = await issued(tenant);
    await tenant.call("POST", `/v1/vouchers/${a.code}/redeem`, {});
    await tenant.call("POST", `/v1/vouchers/${b.code}/void`, { reason: "undo" });
    const rows = await t.database.db
      .selectFrom("audit_log")
      .select(["action", "target_id"])
      .where("business_id", "=", tenant.businessId)
      .where("action", "in", ["voucher.redeemed", "voucher.voided"])
      .orderBy("id")
      .execute();
    expect(rows).toEqual([
      { action: "voucher.redeemed", target_id: a.id },
      { action: "voucher.voided", target_id: b.id },
    ]);
  });
});

describe("a voucher voided after its points' purchase was refunded", () => {
  /** A business whose points may (or may not) go negative, expiring after `expiryDays`, and a member. */
  async function shop(allowNegative = false, expiryDays: number | null = null) {
    const tenant = await t.signup();
    const config = (await tenant.call("GET", "/v1/program")).body.config;
    config.points.allow_negative_balance = allowNegative;
    if (expiryDays !== null) config.points.expiry = { policy: "days_after_earn", days: expiryDays };
    expect((await tenant.call("PUT", "/v1/program", config)).status).toBe(200);
    return { tenant, m: await member(tenant) };
  }

  async function purchase(tenant: Tenant, memberId: string, euros: number) {
    purchaseNo += 1;
    const res = await tenant.call("POST", "/v1/purchases", {
      external_id: `pos-${purchaseNo}`,
      member_id: memberId,
      amount_minor: euros * 100,
      currency: "EUR",
    });
    expect(res.status).toBe(201);
    return { id: res.body.purchase.id as string, externalId: `pos-${purchaseNo}` };
  }

  async function refund(tenant: Tenant, purchaseId: string, euros: number) {
    purchaseNo += 1;
    const res = await tenant.call("POST", "/v1/refunds", {
      external_id: `refund-${purchaseNo}`,
      purchase_id: purchaseId,
      amount_minor: euros * 100,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.refund as { id: string; points_reversed: number; points_unrecovered: number };
  }

  async function voidIt(tenant: Tenant, code: string) {
    const res = await tenant.call("POST", `/v1/vouchers/${code}/void`, { reason: "undo" });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body as { member: { points_available: number } };
  }

  async function refundRow(id: string) {
    return t.database.db
      .selectFrom("refunds")
      .select(["points_reversed", "points_unrecovered"])
      .where("id", "=", id)
      .executeTakeFirstOrThrow();
  }

  /** The points tier metric over all time (`TIER_METRIC_TEXT`): earnings net of refunds. */
  async function pointsMetric(tenant: Tenant, memberId: string) {
    const value = bindText<string>(TIER_METRIC_TEXT.points, {
      business: tenant.businessId,
      member: memberId,
      from: new Date("2000-01-01T00:00:00Z"),
      now: t.clock.now(),
    });
    const { rows } = await sql<{ value: string }>`select ${value} as value`.execute(t.database.db);
    return Number(rows[0]?.value);
  }

  /** The ledger's invariants for one member; returns the balance. */
  async function soundBalance(tenant: Tenant, memberId: string) {
    const { rows } = await sql<{
      entries: number;
      balance: number;
      debt: number;
      lots: number;
      unbooked: number;
    }>`
      select
        (select coalesce(sum(points), 0)::int from ledger_entries where business_id = ${tenant.businessId} and member_id = ${memberId}) as entries,
        (select balance_points from ledger_accounts where business_id = ${tenant.businessId} and member_id = ${memberId}) as balance,
        (select debt_points from ledger_accounts where business_id = ${tenant.businessId} and member_id = ${memberId}) as debt,
        (select coalesce(sum(points_remaining), 0)::int from ledger_lots where business_id = ${tenant.businessId} and member_id = ${memberId}) as lots,
        (select count(*)::int from ledger_entries e where e.business_id = ${tenant.businessId} and e.member_id = ${memberId}
           and e.kind in ('spend', 'reverse', 'restore')
           and e.points <> (select coalesce(sum(a.points), 0) from ledger_allocations a
                            where a.business_id = e.business_id and a.entry_id = e.id)) as unbooked`.execute(
      t.database.db,
    );
    const r = rows[0];
    expect(r).toBeDefined();
    expect(r?.entries).toBe(r?.balance);
    expect((r?.lots ?? 0) - (r?.debt ?? 0)).toBe(r?.balance);
    expect(r?.unbooked).toBe(0);
    return r?.balance;
  }

  const pointsHistory = async (tenant: Tenant, memberId: string) =>
    (await tenant.call("GET", `/v1/members/${memberId}/history?type=points`)).body.data.map(
      (h: { kind: string; points: number; reason: string; source_type: string; source_id: string }) => ({
        kind: h.kind,
        points: h.points,
        reason: h.reason,
        source_type: h.source_type,
        source_id: h.source_id,
      }),
    );

  it("takes back the points a full refund wrote off: earned 600, spent 600, refunded, voided, holds 0", async () => {
    const { tenant, m } = await shop();
    const bought = await purchase(tenant, m, 600);
    const voucher = (await redeemed(tenant, m, await reward(tenant, { cost_points: 600 }))).voucher;
    const back = await refund(tenant, bought.id, 600);
    // Nothing to take back, and the balance may not go negative: written off.
    expect([back.points_reversed, back.points_unrecovered]).toEqual([0, 600]);
    const metric = await pointsMetric(tenant, m);
    expect(metric).toBe(0);

    const voided = await voidIt(tenant, voucher.code);
    expect(voided.member.points_available).toBe(0);
    expect(await soundBalance(tenant, m)).toBe(0);
    expect(await refundRow(back.id)).toEqual({ points_reversed: 600, points_unrecovered: 0 });
    // The written-off points became a reversal: the metric counted them already, and still does.
    expect(await pointsMetric(tenant, m)).toBe(metric);
    expect((await pointsHistory(tenant, m)).slice(0, 2)).toEqual([
      {
        kind: "reverse",
        points: -600,
        reason: `Refund of purchase ${bought.externalId}: points given back by voided voucher ${voucher.code} taken back`,
        source_type: "refund",
        source_id: back.id,
      },
      {
        kind: "restore",
        points: 600,
        reason: `Voucher ${voucher.code} voided: undo`,
        source_type: "voucher",
        source_id: voucher.id,
      },
    ]);
    const card = await tenant.call("GET", `/v1/members/${m}/card`);
    expect(card.body.points).toMatchObject({ available: 0, lifetime_spent: 0 });
    const audit = await t.database.db
      .selectFrom("audit_log")
      .select("data")
      .where("business_id", "=", tenant.businessId)
      .where("action", "=", "voucher.voided")
      .executeTakeFirstOrThrow();
    expect(audit.data).toMatchObject({ points_restored: 600, points_taken_by_refunds: 600 });
  });

  it.each([
    // [what, reward cost, refunded euros of 600, at the refund [reversed, written off], after the void [balance, reversed, written off]]
    [
      "a half refund with every point spent: only its written-off half goes",
      600,
      300,
      [0, 300],
      [300, 300, 0],
    ],
    ["a full refund that took back half: only the written-off half goes", 300, 600, [300, 300], [0, 600, 0]],
    ["a refund that wrote nothing off: the void changes nothing new", 300, 300, [300, 0], [300, 300, 0]],
  ] as const)("%s", async (_what, cost, euros, atRefund, afterVoid) => {
    const { tenant, m } = await shop();
    const bought = await purchase(tenant, m, 600);
    const voucher = (await redeemed(tenant, m, await reward(tenant, { cost_points: cost }))).voucher;
    const back = await refund(tenant, bought.id, euros);
    expect([back.points_reversed, back.points_unrecovered]).toEqual(atRefund);
    const metric = await pointsMetric(tenant, m);
    const reversals = async () =>
      (await pointsHistory(tenant, m)).filter((h: { kind: string }) => h.kind === "reverse");
    const before = await reversals();

    const voided = await voidIt(tenant, voucher.code);
    const [balance, reversed, unrecovered] = afterVoid;
    expect(voided.member.points_available).toBe(balance);
    expect(await soundBalance(tenant, m)).toBe(balance);
    expect(await refundRow(back.id)).toEqual({ points_reversed: reversed, points_unrecovered: unrecovered });
    expect(await pointsMetric(tenant, m)).toBe(metric);
    const collected = atRefund[1] - unrecovered;
    expect((await reversals()).length).toBe(before.length + (collected > 0 ? 1 : 0));
    if (collected === 0) expect(await reversals()).toEqual(before);
  });

  it("collects for the oldest refund first, and no more than each void gives back", async () => {
    const { tenant, m } = await shop();
    const bought = await purchase(tenant, m, 600);
    const big = (await redeemed(tenant, m, await reward(tenant, { cost_points: 400 }))).voucher;
    const small = (await redeemed(tenant, m, await reward(tenant, { cost_points: 200 }))).voucher;
    const first = await refund(tenant, bought.id, 300);
    const second = await refund(tenant, bought.id, 300);
    expect([first.points_unrecovered, second.points_unrecovered]).toEqual([300, 300]);
    const metric = await pointsMetric(tenant, m);

    expect((await voidIt(tenant, small.code)).member.points_available).toBe(0);
    expect(await refundRow(first.id)).toEqual({ points_reversed: 200, points_unrecovered: 100 });
    expect(await refundRow(second.id)).toEqual({ points_reversed: 0, points_unrecovered: 300 });
    expect(await pointsMetric(tenant, m)).toBe(metric);

    expect((await voidIt(tenant, big.code)).member.points_available).toBe(0);
    expect(await refundRow(first.id)).toEqual({ points_reversed: 300, points_unrecovered: 0 });
    expect(await refundRow(second.id)).toEqual({ points_reversed: 300, points_unrecovered: 0 });
    expect(await pointsMetric(tenant, m)).toBe(metric);
    expect(await soundBalance(tenant, m)).toBe(0);
    const taken = (await pointsHistory(tenant, m)).filter((h: { kind: string }) => h.kind === "reverse");
    expect(taken.map((h: { points: number; source_id: string }) => [h.points, h.source_id])).toEqual([
      [-300, second.id],
      [-100, first.id],
      [-200, first.id],
    ]);
  });

  it("takes back only what came back to the refunded purchase's lot, not the other purchase's points", async () => {
    const { tenant, m } = await shop();
    const refunded = await purchase(tenant, m, 100);
    await purchase(tenant, m, 500);
    const voucher = (await redeemed(tenant, m, await reward(tenant, { cost_points: 600 }))).voucher;
    const back = await refund(tenant, refunded.id, 100);
    expect([back.points_reversed, back.points_unrecovered]).toEqual([0, 100]);
    expect((await voidIt(tenant, voucher.code)).member.points_available).toBe(500);
    expect(await refundRow(back.id)).toEqual({ points_reversed: 100, points_unrecovered: 0 });
    expect(await soundBalance(tenant, m)).toBe(500);
  });

  it("collects from the voucher's other points too for a refund made after it: as if never redeemed", async () => {
    const { tenant, m } = await shop();
    await purchase(tenant, m, 100);
    const refunded = await purchase(tenant, m, 100);
    // 100 of the first purchase and 50 of the second on the voucher; the second's other 50 on another.
    const voucher = (await redeemed(tenant, m, await reward(tenant, { cost_points: 150 }))).voucher;
    await redeemed(tenant, m, await reward(tenant, { cost_points: 50 }));
    const back = await refund(tenant, refunded.id, 100);
    expect([back.points_reversed, back.points_unrecovered]).toEqual([0, 100]);
    const metric = await pointsMetric(tenant, m);

    // Without the voucher: 200 earned, 50 spent, the refund takes 100 of the 150 left.
    expect((await voidIt(tenant, voucher.code)).member.points_available).toBe(50);
    expect(await refundRow(back.id)).toEqual({ points_reversed: 100, points_unrecovered: 0 });
    expect(await soundBalance(tenant, m)).toBe(50);
    expect(await pointsMetric(tenant, m)).toBe(metric);
  });

  it("collects nothing from a voucher redeemed after the refund: the refund wrote nothing off for it", async () => {
    const { tenant, m } = await shop();
    const refunded = await purchase(tenant, m, 100);
    await redeemed(tenant, m, await reward(tenant, { cost_points: 100 }));
    const back = await refund(tenant, refunded.id, 100);
    expect([back.points_reversed, back.points_unrecovered]).toEqual([0, 100]);
    await purchase(tenant, m, 100);
    const later = (await redeemed(tenant, m, await reward(tenant, { cost_points: 100 }))).voucher;

    expect((await voidIt(tenant, later.code)).member.points_available).toBe(100);
    expect(await refundRow(back.id)).toEqual({ points_reversed: 0, points_unrecovered: 100 });
    expect(await soundBalance(tenant, m)).toBe(100);
  });

  it("leaves points given back to an expired lot to the expiry run", async () => {
    const { tenant, m } = await shop(false, 10);
    const bought = await purchase(tenant, m, 600);
    const voucher = (await redeemed(tenant, m, await reward(tenant, { cost_points: 600 }))).voucher;
    t.clock.advance(11 * DAY_MS);
    const back = await refund(tenant, bought.id, 600);
    expect([back.points_reversed, back.points_unrecovered]).toEqual([0, 600]);
    expect((await voidIt(tenant, voucher.code)).member.points_available).toBe(0);
    // Without the voucher the 600 would have expired before the refund: they count as expired.
    expect(await refundRow(back.id)).toEqual({ points_reversed: 0, points_unrecovered: 0 });
    expect((await tenant.call("POST", "/v1/points/expire")).body).toEqual({ lots: 1, points: 600 });
    expect(await soundBalance(tenant, m)).toBe(0);
  });

  it.each([
    // [what, the refund's day, at the refund [reversed, written off], after the void [reversed, written off, expired]]
    [
      "the voucher's lot expired before the refund: what it took elsewhere goes back, and counts as expired",
      11,
      [50, 10],
      [0, 0, 100],
    ],
    [
      "the voucher's lot expired after the refund: the refund takes the lot's points instead of the others'",
      6,
      [90, 10],
      [100, 0, 0],
    ],
  ] as const)("%s", async (_what, refundDay, atRefund, afterVoid) => {
    const { tenant, m } = await shop(false, 10);
    const start = t.clock.now().getTime();
    const bought = await purchase(tenant, m, 100);
    const voucher = (
      await redeemed(tenant, m, await reward(tenant, { cost_points: 60, voucher_valid_days: 90 }))
    ).voucher;
    t.clock.set(new Date(start + 5 * DAY_MS));
    await purchase(tenant, m, 50);
    t.clock.set(new Date(start + refundDay * DAY_MS));
    await tenant.call("POST", "/v1/points/expire");
    const back = await refund(tenant, bought.id, 100);
    expect([back.points_reversed, back.points_unrecovered]).toEqual(atRefund);
    const metric = await pointsMetric(tenant, m);

    t.clock.set(new Date(start + 11 * DAY_MS));
    await voidIt(tenant, voucher.code);
    await tenant.call("POST", "/v1/points/expire");
    // Had the voucher never been redeemed, the second purchase's 50 would be untouched.
    expect(await soundBalance(tenant, m)).toBe(50);
    const row = await t.database.db
      .selectFrom("refunds")
      .select(["points_reversed", "points_unrecovered", "points_expired"])
      .where("id", "=", back.id)
      .executeTakeFirstOrThrow();
    expect([row.points_reversed, row.points_unrecovered, row.points_expired]).toEqual(afterVoid);
    expect(await pointsMetric(tenant, m)).toBe(metric);
  });

  it("gives each lot back its own points when the refund wrote nothing off, too", async () => {
    const { tenant, m } = await shop(false, 365);
    const start = t.clock.now().getTime();
    const first = await purchase(tenant, m, 100);
    const voucher = (
      await redeemed(tenant, m, await reward(tenant, { cost_points: 60, voucher_valid_days: 90 }))
    ).voucher;
    t.clock.set(new Date(start + 5 * DAY_MS));
    const second = await purchase(tenant, m, 100);
    // The refund takes the first lot's 40 and 60 of the second's: nothing written off.
    const back = await refund(tenant, first.id, 100);
    expect([back.points_reversed, back.points_unrecovered]).toEqual([100, 0]);
    await voidIt(tenant, voucher.code);
    expect(await soundBalance(tenant, m)).toBe(100);
    const lots = await t.database.db
      .selectFrom("ledger_lots")
      .select(["source_id", "points_remaining"])
      .where("business_id", "=", tenant.businessId)
      .where("member_id", "=", m)
      .execute();
    // As if never redeemed: the refunded purchase's lot is empty, the later one whole.
    expect(Object.fromEntries(lots.map((l) => [l.source_id, l.points_remaining]))).toEqual({
      [first.id]: 0,
      [second.id]: 100,
    });
    expect(await refundRow(back.id)).toEqual({ points_reversed: 100, points_unrecovered: 0 });
  });

  it("gives each lot back its own points: what the refund took from a later purchase returns to it, with its expiry", async () => {
    const { tenant, m } = await shop(false, 365);
    const start = t.clock.now().getTime();
    const first = await purchase(tenant, m, 100);
    const voucher = (
      await redeemed(tenant, m, await reward(tenant, { cost_points: 60, voucher_valid_days: 90 }))
    ).voucher;
    t.clock.set(new Date(start + 5 * DAY_MS));
    const second = await purchase(tenant, m, 50);
    t.clock.set(new Date(start + 6 * DAY_MS));
    // The first purchase's lot holds 40: the refund takes them, then the second's 50, and writes 10 off.
    const back = await refund(tenant, first.id, 100);
    expect([back.points_reversed, back.points_unrecovered]).toEqual([90, 10]);
    const metric = await pointsMetric(tenant, m);

    await voidIt(tenant, voucher.code);
    expect(await soundBalance(tenant, m)).toBe(50);
    const lots = await t.database.db
      .selectFrom("ledger_lots")
      .select(["source_id", "points_remaining", "expires_at"])
      .where("business_id", "=", tenant.businessId)
      .where("member_id", "=", m)
      .execute();
    const held = Object.fromEntries(lots.map((l) => [l.source_id, l.points_remaining]));
    // As if never redeemed: the refund emptied the first purchase's lot and left the second's alone.
    expect(held).toEqual({ [first.id]: 0, [second.id]: 50 });
    const card = (await tenant.call("GET", `/v1/members/${m}/card`)).body;
    expect(card.points.available).toBe(50);
    expect(card.points.expiring_soon).toEqual([]);
    expect(await refundRow(back.id)).toEqual({ points_reversed: 100, points_unrecovered: 0 });
    expect(await pointsMetric(tenant, m)).toBe(metric);
    // Nothing moves twice: a second void is refused and changes nothing.
    expect((await tenant.call("POST", `/v1/vouchers/${voucher.code}/void`, { reason: "again" })).status).toBe(
      409,
    );
    expect(await soundBalance(tenant, m)).toBe(50);
  });

  it("with a negative balance allowed, settles the refund's debt and changes the refund not at all", async () => {
    const { tenant, m } = await shop(true);
    const bought = await purchase(tenant, m, 600);
    const voucher = (await redeemed(tenant, m, await reward(tenant, { cost_points: 600 }))).voucher;
    const back = await refund(tenant, bought.id, 600);
    expect([back.points_reversed, back.points_unrecovered]).toEqual([600, 0]);
    const metric = await pointsMetric(tenant, m);
    expect((await voidIt(tenant, voucher.code)).member.points_available).toBe(0);
    expect(await soundBalance(tenant, m)).toBe(0);
    expect(await refundRow(back.id)).toEqual({ points_reversed: 600, points_unrecovered: 0 });
    expect(await pointsMetric(tenant, m)).toBe(metric);
    expect(
      (await pointsHistory(tenant, m)).map((h: { kind: string; points: number }) => [h.kind, h.points]),
    ).toEqual([
      ["restore", 600],
      ["reverse", -600],
      ["spend", -600],
      ["earn", 600],
    ]);
  });
});

describe("a stamp voucher voided after a refund", () => {
  async function setup() {
    const tenant = await t.signup();
    const card = await stampCard(tenant, 3);
    const free = await reward(tenant, { cost_points: null, stamp_card_id: card });
    const m = await member(tenant);
    const purchase = async () => {
      purchaseNo += 1;
      const res = await tenant.call("POST", "/v1/purchases", {
        external_id: `pos-${purchaseNo}`,
        member_id: m,
        amount_minor: 500,
        currency: "EUR",
      });
      expect(res.status).toBe(201);
      return res.body.purchase.id as string;
    };
    const refund = async (purchaseId: string) => {
      purchaseNo += 1;
      const res = await tenant.call("POST", "/v1/refunds", {
        external_id: `refund-${purchaseNo}`,
        purchase_id: purchaseId,
        amount_minor: 500,
      });
      expect(res.status).toBe(201);
      return res.body.refund as { id: string; stamps_reversed: number };
    };
    const stamps = async () =>
      (await holdings(tenant, m)).stamps.find((s) => s.stamp_card_id === card)?.stamps ?? 0;
    const refundRow = (id: string) =>
      t.database.db
        .selectFrom("refunds")
        .select(["stamps_reversed", "stamps_unrecovered"])
        .where("id", "=", id)
        .executeTakeFirstOrThrow();
    const voidIt = async (code: string) => {
      const res = await tenant.call("POST", `/v1/vouchers/${code}/void`, { reason: "wrong reward" });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return res.body;
    };
    return { tenant, card, free, m, purchase, refund, stamps, refundRow, voidIt };
  }

  it("gives back no stamp of a purchase refunded meanwhile: as if never redeemed", async () => {
    const { tenant, card, free, m, purchase, refund, stamps, refundRow, voidIt } = await setup();
    await purchase();
    await purchase();
    const third = await purchase();
    const voucher = (await redeemed(tenant, m, free)).voucher;
    expect(await stamps()).toBe(0);
    const back = await refund(third);
    // Nothing to take: the stamps are on the voucher.
    expect(back.stamps_reversed).toBe(0);
    expect(await refundRow(back.id)).toEqual({ stamps_reversed: 0, stamps_unrecovered: { [card]: 1 } });

    await voidIt(voucher.code);
    // Two purchases remain: two stamps, not a full card.
    expect(await stamps()).toBe(2);
    expect(await refundRow(back.id)).toEqual({ stamps_reversed: 1, stamps_unrecovered: {} });
    const history = await tenant.call("GET", `/v1/members/${m}/history?type=stamps`);
    expect(history.body.data[0]).toMatchObject({
      kind: "reverse",
      stamps: -1,
      source_type: "refund",
      source_id: back.id,
    });
  });

  it("gives back every stamp when the refund came before the redemption, or took its stamp", async () => {
    const { tenant, free, m, purchase, refund, stamps, voidIt } = await setup();
    const first = await purchase();
    await purchase();
    await purchase();
    await purchase();
    // The refund finds its stamp in the balance and takes it: 3 left, a full card.
    expect((await refund(first)).stamps_reversed).toBe(1);
    const voucher = (await redeemed(tenant, m, free)).voucher;
    expect(await stamps()).toBe(0);
    await voidIt(voucher.code);
    expect(await stamps()).toBe(3);
  });

  it("collects nothing with a voucher redeemed after the refund", async () => {
    const { tenant, card, free, m, purchase, refund, stamps, refundRow, voidIt } = await setup();
    await purchase();
    await purchase();
    const third = await purchase();
    await redeemed(tenant, m, free);
    const back = await refund(third);
    expect(await refundRow(back.id)).toEqual({ stamps_reversed: 0, stamps_unrecovered: { [card]: 1 } });
    await purchase();
    await purchase();
    await purchase();
    const later = (await redeemed(tenant, m, free)).voucher;
    await voidIt(later.code);
    expect(await stamps()).toBe(3);
    expect(await refundRow(back.id)).toEqual({ stamps_reversed: 0, stamps_unrecovered: { [card]: 1 } });
  });
});

describe("isolation", () => {
  it("hides a business's rewards, members and vouchers from another business", async () => {
    const tenant = await t.signup();
    const other = await t.signup();
    const m = await member(tenant);
    await buy(tenant, m, 120);
    const rewardId = await reward(tenant);
    const v = await redeemed(tenant, m, rewardId);
    const otherMember = await member(other);
    await buy(other, otherMember, 120);
    const otherReward = await reward(other);

    const expectations = [
      [await redeem(other, m, otherReward), "member_not_found"],
      [await redeem(other, otherMember, rewardId), "reward_not_found"],
      [await other.call("GET", `/v1/vouchers/${v.voucher.code}`), "voucher_not_found"],
      [await other.call("POST", `/v1/vouchers/${v.voucher.code}/redeem`, {}), "voucher_not_found"],
      [await other.call("POST", `/v1/vouchers/${v.voucher.code}/void`, { reason: "x" }), "voucher_not_found"],
      [await other.call("GET", `/v1/members/${m}/vouchers`), "member_not_found"],
      [await other.call("GET", `/v1/members/${m}/available-rewards`), "member_not_found"],
    ] as const;
    for (const [res, code] of expectations) {
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe(code);
    }
    expect((await tenant.call("GET", `/v1/vouchers/${v.voucher.code}`)).body.status).toBe("issued");
  });
});
