import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Actor } from "../../src/context.ts";
import { purchaseBatchStats } from "../../src/use-cases/purchase-fast-path.ts";
import { type PurchaseResult, recordPurchase } from "../../src/use-cases/purchases.ts";
import { startTestApp, type Tenant, type TestApp } from "../helpers/api.ts";
import { goldBoutique } from "../helpers/tiers.ts";

/**
 * A tier the member's metric already reaches, but that is not stored yet (a tier with threshold
 * 0, a threshold the owner lowered, a tier added later), prices the purchase, the event and the
 * preview, as the card shows it: the upgrade is recorded first. The purchase that itself crosses
 * a threshold still earns at the tier held before it. Both ways of recording a purchase (the
 * two-statement path and the locked path) are held to it.
 */

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ now: "2026-11-24T12:00:00Z" });
});
afterAll(async () => t?.close());

const PATHS = ["two-statement", "locked"] as const;
type Path = (typeof PATHS)[number];
let seq = 0;

async function ok(tenant: Tenant, method: "GET" | "POST" | "PUT" | "PATCH", url: string, body?: unknown) {
  const res = await tenant.call(method, url, body);
  if (res.status >= 300) throw new Error(`${method} ${url} → ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

async function member(tenant: Tenant): Promise<string> {
  return (await ok(tenant, "POST", "/v1/members", { marketing_consent: false })).id;
}

/** Records a purchase on `path`, and checks that path is the one that wrote it. */
async function buy(
  tenant: Tenant,
  path: Path,
  memberId: string,
  amount_minor: number,
): Promise<PurchaseResult> {
  const actor: Actor = { businessId: tenant.businessId, kind: "system", id: "test", role: "owner" };
  const written = purchaseBatchStats().writeItems;
  const { result } = await recordPurchase(
    t.ctx,
    actor,
    { external_id: `p-${++seq}`, member_id: memberId, amount_minor, currency: "EUR", items: [] },
    { lockedOnly: path === "locked" },
  );
  // The two-statement path settles these itself: a reached tier sends no purchase to the locked path.
  expect(purchaseBatchStats().writeItems - written).toBe(path === "locked" ? 0 : 1);
  return result;
}

async function preview(tenant: Tenant, memberId: string, amount_minor: number): Promise<number[]> {
  const body = await ok(tenant, "POST", "/v1/purchases/preview", {
    member_id: memberId,
    amount_minor,
    currency: "EUR",
  });
  return body.points.map((l: { points: number }) => l.points);
}

async function reasons(tenant: Tenant, memberId: string): Promise<string[]> {
  const rows = await t.ctx.db
    .selectFrom("tier_changes")
    .select("reason")
    .where("business_id", "=", tenant.businessId)
    .where("member_id", "=", memberId)
    .orderBy("id")
    .execute();
  return rows.map((r) => r.reason);
}

const cardTier = async (tenant: Tenant, memberId: string) =>
  (await ok(tenant, "GET", `/v1/members/${memberId}/card`)).tier.current?.name ?? null;

const points = (result: PurchaseResult) => result.earned.points.map((l) => l.points);

describe("a tier with threshold 0", () => {
  async function shop() {
    const tenant = await t.signup();
    const program = (await ok(tenant, "GET", "/v1/program")).config;
    await ok(tenant, "PUT", "/v1/program", {
      ...program,
      tiers: { metric: "spend", period: "calendar_year" },
    });
    const tier = await ok(tenant, "POST", "/v1/tiers", {
      name: "Member",
      rank: 1,
      threshold: 0,
      earn_multiplier_bp: 20_000,
    });
    await ok(tenant, "POST", "/v1/rules", {
      name: "Members' bonus",
      trigger: "purchase",
      conditions: { tier_ids: [tier.id] },
      effect: { type: "fixed_points", points: 50 },
    });
    return { tenant, tier: tier.id as string };
  }

  it.each(PATHS)("%s path: prices the first purchase with the tier the card shows", async (path) => {
    const { tenant, tier } = await shop();
    const m = await member(tenant);
    expect(await cardTier(tenant, m)).toBe("Member");
    expect(await preview(tenant, m, 1_000)).toEqual([10, 50, 60]);
    const first = await buy(tenant, path, m, 1_000);
    expect(points(first)).toEqual([10, 50, 60]);
    expect(first.purchase.points_earned).toBe(120);
    // The upgrade this purchase recorded before it was priced.
    expect(first.member?.tier_changed).toEqual({ from: null, to: tier });
    expect(first.member?.tier?.current?.name).toBe("Member");
    expect(await reasons(tenant, m)).toEqual(["Reached Member with 0 spend"]);
    const second = await buy(tenant, path, m, 1_000);
    expect(points(second)).toEqual([10, 50, 60]);
    expect(second.member?.tier_changed).toBeNull();
    expect(await reasons(tenant, m)).toEqual(["Reached Member with 0 spend"]);
  });

  it.each(PATHS)(
    "%s path: the purchase that crosses the next threshold earns at the reached tier, not the next",
    async (path) => {
      const { tenant } = await shop();
      const gold = await ok(tenant, "POST", "/v1/tiers", {
        name: "Gold",
        rank: 2,
        threshold: 10_000,
        earn_multiplier_bp: 30_000,
      });
      const m = await member(tenant);
      expect(await preview(tenant, m, 15_000)).toEqual([150, 50, 200]);
      const first = await buy(tenant, path, m, 15_000);
      // Member (×2 and its bonus), reached before the purchase; Gold, which it reaches, not yet.
      expect(points(first)).toEqual([150, 50, 200]);
      expect(first.member?.tier_changed).toEqual({ from: null, to: gold.id });
      expect(first.member?.tier?.current?.name).toBe("Gold");
      expect(await reasons(tenant, m)).toEqual([
        "Reached Member with 0 spend",
        "Reached Gold with 15000 spend",
      ]);
      const second = await buy(tenant, path, m, 1_000);
      expect(points(second)).toEqual([10, 20]);
    },
  );
});

describe("a threshold lowered to what the member already reached", () => {
  async function boutique() {
    const { tenant, silver, gold } = await goldBoutique(await t.signup());
    const m = await member(tenant);
    return { tenant, silver, gold, m };
  }

  it.each(PATHS)("%s path: the next purchase is priced at the new tier", async (path) => {
    const { tenant, silver, gold, m } = await boutique();
    expect(points(await buy(tenant, path, m, 30_000))).toEqual([300]);
    expect(await cardTier(tenant, m)).toBe("Silver");
    await ok(tenant, "PATCH", `/v1/tiers/${gold}`, { threshold: 25_000 });
    expect(await cardTier(tenant, m)).toBe("Gold");
    // 10 + 100 (Gold thank-you) + 55 (Gold ×1.5), not 10 + 2 (Silver ×1.25).
    expect(await preview(tenant, m, 1_000)).toEqual([10, 100, 55]);
    const next = await buy(tenant, path, m, 1_000);
    expect(points(next)).toEqual([10, 100, 55]);
    expect(next.member?.tier_changed).toEqual({ from: silver, to: gold });
    expect(next.member?.tier).toMatchObject({ current: { name: "Gold" }, metric_value: 31_000 });
    expect(await reasons(tenant, m)).toEqual([
      "Reached Silver with 30000 spend",
      "Reached Gold with 30000 spend",
    ]);
  });

  it("an event is priced at the new tier", async () => {
    const { tenant, gold, m } = await boutique();
    await buy(tenant, "locked", m, 30_000);
    await ok(tenant, "PATCH", `/v1/tiers/${gold}`, { threshold: 25_000 });
    const event = await ok(tenant, "POST", "/v1/events", {
      external_id: `e-${++seq}`,
      member_id: m,
      type: "review_written",
    });
    expect(event.earned.points.map((l: { points: number }) => l.points)).toEqual([40]);
    expect(event.member.tier.current.name).toBe("Gold");
    expect((await reasons(tenant, m)).at(-1)).toBe("Reached Gold with 30000 spend");
  });
});

describe("a tier held from the start, for the signup and birthday rules", () => {
  it("gives a new member the signup rule of the tier they hold at once (threshold 0)", async () => {
    const tenant = await t.signup();
    const tier = await ok(tenant, "POST", "/v1/tiers", { name: "Member", rank: 1, threshold: 0 });
    await ok(tenant, "POST", "/v1/rules", {
      name: "Members' welcome",
      trigger: "signup",
      conditions: { tier_ids: [tier.id] },
      effect: { type: "fixed_points", points: 25 },
    });
    const joined = await ok(tenant, "POST", "/v1/members", { marketing_consent: false });
    expect(joined.tier_id).toBe(tier.id);
    const card = await ok(tenant, "GET", `/v1/members/${joined.id}/card`);
    expect([card.points.available, card.tier.current.name]).toEqual([25, "Member"]);
  });
});
