import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type Tenant, type TestApp } from "../helpers/api.ts";

/**
 * The running tier metric in the member's state row (migrations 0007 and 0009): a purchase adds to it while the
 * window stays the same, a change made under the member's lock (a refund) makes the next purchase
 * count the window again, and a new calendar year starts from nothing.
 */
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ now: "2026-12-28T12:00:00Z" });
});
afterAll(async () => t?.close());

async function total(tenant: Tenant, memberId: string) {
  const { rows } = await sql<{ value: string | null; from: Date | null; kind: string | null }>`
    select tier_metric_value as value, tier_metric_from as from, tier_metric_kind as kind from member_state
    where business_id = ${tenant.businessId} and member_id = ${memberId}`.execute(t.database.db);
  const row = rows[0];
  return {
    value: row?.value == null ? null : Number(row.value),
    from: row?.from ?? null,
    kind: row?.kind ?? null,
  };
}

describe("the running tier metric", () => {
  it("adds each purchase, is counted again after a refund, and starts anew with the year", async () => {
    const tenant = await t.signup();
    expect((await tenant.call("POST", "/v1/tiers", { name: "Gold", rank: 1, threshold: 5_000 })).status).toBe(
      201,
    );
    const member = await tenant.call("POST", "/v1/members", { name: "Tess Total", marketing_consent: false });
    const memberId = member.body.id as string;
    const buy = async (external_id: string, amount_minor: number) => {
      const res = await tenant.call("POST", "/v1/purchases", {
        external_id,
        member_id: memberId,
        amount_minor,
        currency: "EUR",
      });
      expect(res.status).toBe(201);
      return res.body.member.tier.metric_value as number;
    };

    expect(await buy("m-1", 3_000)).toBe(3_000);
    expect(await total(tenant, memberId)).toMatchObject({ value: 3_000, kind: "spend" });
    expect(await buy("m-2", 1_000)).toBe(4_000);
    expect((await total(tenant, memberId)).value).toBe(4_000);

    const refund = await tenant.call("POST", "/v1/refunds", {
      external_id: "r-1",
      purchase_external_id: "m-1",
      amount_minor: 1_000,
    });
    expect(refund.status).toBe(201);
    // The refund took the member's lock: the total no longer counts.
    expect((await total(tenant, memberId)).from).toBeNull();
    expect(await buy("m-3", 500)).toBe(3_500);

    // A new calendar year: the window starts again, and so does the total.
    t.clock.set(new Date("2027-01-03T12:00:00Z"));
    expect(await buy("m-4", 700)).toBe(700);
    const now = await total(tenant, memberId);
    expect(now.value).toBe(700);
    expect(now.from?.getUTCFullYear()).toBe(2026); // 1 January 2027 in the café's zone, east of UTC
  });
});
