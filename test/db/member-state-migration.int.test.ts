import { type Kysely, sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { up } from "../../src/db/migrations/0009-member-state.ts";
import type { MemberStateTable } from "../../src/db/schema.ts";
import { startTestApp, type TestApp } from "../helpers/api.ts";

/**
 * Migration 0009: what a purchase changes of a member (its version, first and last purchase, the
 * running tier metric) moves from `members` to `member_state`. The test puts a member's values
 * back on `members` as they were before the migration, runs it, and checks that nothing was lost
 * and that purchases go on from where they were.
 */
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ now: "2026-06-10T12:00:00Z" });
});
afterAll(async () => t?.close());

type State = Omit<MemberStateTable, "business_id" | "member_id">;

async function stateOf(businessId: string, memberId: string): Promise<State | undefined> {
  const { rows } = await sql<State>`select version, first_purchase_at, last_purchase_at, tier_metric_value,
      tier_metric_from, tier_metric_kind
    from member_state where business_id = ${businessId} and member_id = ${memberId}`.execute(t.database.db);
  return rows[0];
}

describe("migration 0009: member_state", () => {
  it("moves every member's version, purchase times and tier metric, and purchases carry on", async () => {
    const tenant = await t.signup();
    const gold = await tenant.call("POST", "/v1/tiers", { name: "Gold", rank: 1, threshold: 10_000 });
    expect(gold.status).toBe(201);
    const buyer = (await tenant.call("POST", "/v1/members", { name: "Mia Moved", marketing_consent: false }))
      .body;
    const idle = (await tenant.call("POST", "/v1/members", { name: "Ian Idle", marketing_consent: false }))
      .body;
    const buy = async (external_id: string, amount_minor: number) => {
      const res = await tenant.call("POST", "/v1/purchases", {
        external_id,
        member_id: buyer.id,
        amount_minor,
        currency: "EUR",
      });
      expect(res.status).toBe(201);
      return res;
    };
    await buy("moved-1", 4_000);
    t.clock.advance(3_600_000);
    await buy("moved-2", 3_000);
    const before = await stateOf(tenant.businessId, buyer.id);
    expect(before?.tier_metric_value).toBe(7000);
    expect(before?.first_purchase_at?.toISOString()).toBe("2026-06-10T12:00:00.000Z");
    expect(before?.last_purchase_at?.toISOString()).toBe("2026-06-10T13:00:00.000Z");

    // The schema and the data as they were before 0009.
    const db = t.database.db as unknown as Kysely<unknown>;
    await sql`alter table members add column version bigint not null default 0,
      add column first_purchase_at timestamptz, add column last_purchase_at timestamptz,
      add column tier_metric_value bigint, add column tier_metric_from timestamptz, add column tier_metric_kind text`.execute(
      db,
    );
    await sql`update members m set version = s.version, first_purchase_at = s.first_purchase_at,
      last_purchase_at = s.last_purchase_at, tier_metric_value = s.tier_metric_value,
      tier_metric_from = s.tier_metric_from, tier_metric_kind = s.tier_metric_kind
      from member_state s where s.business_id = m.business_id and s.member_id = m.id`.execute(db);
    await sql`drop table member_state`.execute(db);

    await up(db);

    expect(await stateOf(tenant.businessId, buyer.id)).toEqual(before);
    expect(await stateOf(tenant.businessId, idle.id)).toMatchObject({ version: 0, last_purchase_at: null });
    const { rows: columns } = await sql<{
      column_name: string;
    }>`select column_name from information_schema.columns
      where table_name = 'members' and column_name in ('version', 'first_purchase_at', 'tier_metric_value')`.execute(
      db,
    );
    expect(columns).toEqual([]);

    const shown = await tenant.call("GET", `/v1/members/${buyer.id}`);
    expect(shown.body).toMatchObject({
      first_purchase_at: "2026-06-10T12:00:00.000Z",
      last_purchase_at: "2026-06-10T13:00:00.000Z",
    });
    // The running total goes on: 7,000 + 3,000 crosses Gold's threshold.
    t.clock.advance(3_600_000);
    const third = await buy("moved-3", 3_000);
    expect(third.body.member.tier).toMatchObject({ current: { name: "Gold" }, metric_value: 10_000 });
    expect((await stateOf(tenant.businessId, buyer.id))?.tier_metric_value).toBe(10_000);
    expect((await tenant.call("GET", `/v1/members/${buyer.id}`)).body).toMatchObject({
      tier_id: gold.body.id,
      last_purchase_at: "2026-06-10T14:00:00.000Z",
    });
  });
});
