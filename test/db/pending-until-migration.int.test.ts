import { type Kysely, sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backfillPendingUntil } from "../../src/db/migrations/0006-pending-until.ts";
import { startTestApp, type TestApp } from "../helpers/api.ts";

/**
 * Migration 0006: a purchase reads the member's pending lots only while the account's
 * `pending_until` lies ahead, so the accounts written before the column existed get it from
 * their lots.
 */
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ now: "2026-05-04T10:00:00Z" });
});
afterAll(async () => t?.close());

describe("migration 0006: pending_until", () => {
  it("gives old accounts the release time of their lots, so their pending points still count", async () => {
    const tenant = await t.signup();
    const program = (await tenant.call("GET", "/v1/program")).body.config;
    const set = await tenant.call("PUT", "/v1/program", {
      ...program,
      points: { ...program.points, pending_days: 7 },
    });
    expect(set.status).toBe(200);
    const created = await tenant.call("POST", "/v1/members", {
      name: "Pia Pending",
      marketing_consent: false,
    });
    const memberId = created.body.id as string;
    const buy = (external_id: string) =>
      tenant.call("POST", "/v1/purchases", {
        external_id,
        member_id: memberId,
        amount_minor: 1000,
        currency: "EUR",
      });
    expect((await buy("pending-1")).body.member.points).toMatchObject({ available: 0, pending: 10 });

    // The account as it was before 0006: no release time recorded.
    const forget = sql`update ledger_accounts set pending_until = null where business_id = ${tenant.businessId}`;
    await forget.execute(t.database.db);
    // Without it, the next purchase would not see the first one's pending points.
    await backfillPendingUntil(t.database.db as unknown as Kysely<unknown>);
    const { rows } = await sql<{ pending_until: Date }>`select pending_until from ledger_accounts
      where business_id = ${tenant.businessId} and member_id = ${memberId}`.execute(t.database.db);
    expect(rows[0]?.pending_until.toISOString()).toBe("2026-05-11T10:00:00.000Z");

    const second = await buy("pending-2");
    expect(second.status).toBe(201);
    expect(second.body.member.points).toMatchObject({ available: 0, pending: 20 });
  });

  it("leaves an account whose points are all released reading no pending lots", async () => {
    const tenant = await t.signup();
    const created = await tenant.call("POST", "/v1/members", {
      name: "Rob Released",
      marketing_consent: false,
    });
    const memberId = created.body.id as string;
    const first = await tenant.call("POST", "/v1/purchases", {
      external_id: "released-1",
      member_id: memberId,
      amount_minor: 1500,
      currency: "EUR",
    });
    expect(first.body.member.points).toMatchObject({ available: 15, pending: 0 });
    await backfillPendingUntil(t.database.db as unknown as Kysely<unknown>);
    const { rows } = await sql<{ pending_until: Date }>`select pending_until from ledger_accounts
      where business_id = ${tenant.businessId} and member_id = ${memberId}`.execute(t.database.db);
    expect(rows[0]?.pending_until.toISOString()).toBe("2026-05-04T10:00:00.000Z");
  });
});
