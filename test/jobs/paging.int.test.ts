import { type KyselyPlugin, sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sweepTiers } from "../../src/jobs/index.ts";
import { expireDue } from "../../src/modules/ledger/index.ts";
import { startTestApp, type Tenant, type TestApp } from "../helpers/api.ts";
import { goldBoutique } from "../helpers/tiers.ts";

/**
 * The points expiry and the tier sweep page through their work by a key (the index's order) and
 * go past the members that fail: no query carries the members that failed, so a business whose
 * members all fail costs each later batch nothing more, and the batch's statement stays one.
 */
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ now: "2026-06-01T10:00:00Z" });
});
afterAll(async () => t?.close());

const DAY = 86_400_000;

/** A Gold boutique whose points expire after 10 days, with `count` members who each bought twice, a day apart. */
async function shop(count: number): Promise<{ tenant: Tenant; members: string[] }> {
  const { tenant } = await goldBoutique(await t.signup());
  const program = (await tenant.call("GET", "/v1/program")).body.config;
  const points = { ...program.points, pending_days: 0, expiry: { policy: "days_after_earn", days: 10 } };
  expect((await tenant.call("PUT", "/v1/program", { ...program, points })).status).toBe(200);
  const members: string[] = [];
  for (let i = 0; i < count; i++) {
    members.push((await tenant.call("POST", "/v1/members", { marketing_consent: false })).body.id);
  }
  for (const day of [0, 1]) {
    for (const member of members) {
      const res = await tenant.call("POST", "/v1/purchases", {
        external_id: `p-${member}-${day}`,
        member_id: member,
        amount_minor: 30_000,
        currency: "EUR",
      });
      expect(res.status).toBe(201);
    }
    t.clock.advance(DAY);
  }
  return { tenant, members };
}

/** Records the number of parameters of every statement whose SQL matches. */
function recorder(match: RegExp): { plugin: KyselyPlugin; counts: number[] } {
  const counts: number[] = [];
  const executor = t.database.db.getExecutor();
  return {
    counts,
    plugin: {
      transformQuery(args) {
        const compiled = executor.compileQuery(args.node, args.queryId);
        if (match.test(compiled.sql)) counts.push(compiled.parameters.length);
        return args.node;
      },
      async transformResult(args) {
        return args.result;
      },
    },
  };
}

describe("a run whose members all fail in one business", () => {
  it("pages past them: every batch after the first is the same statement, and the other business is done", async () => {
    const failing = await shop(5);
    const other = await shop(1);
    const db = t.database.db;
    await sql
      .raw(`create or replace function paging_fail() returns trigger language plpgsql as $$
        begin
          if new.business_id = '${failing.tenant.businessId}' then raise exception 'disk on fire'; end if;
          return new;
        end $$`)
      .execute(db);
    await sql`create trigger paging_fail_expiry before insert on ledger_entries for each row
      when (new.kind = 'expire') execute function paging_fail()`.execute(db);
    await sql`create trigger paging_fail_tiers before insert on tier_changes for each row
      execute function paging_fail()`.execute(db);
    try {
      // Gold is held until the end of 2027 (bought with 600.00 in 2026); all points are due.
      t.clock.set(new Date("2028-01-05T10:00:00Z"));
      const lots = recorder(/^select ("expires_at", )?"business_id", "member_id" from "ledger_lots"/);
      const expiry = await expireDue(db.withPlugin(lots.plugin), t.clock.now(), { batchSize: 2 });
      // Each failing member is tried once, though each has two due lots.
      expect([expiry.failures.count, expiry.members, expiry.lots, expiry.more]).toEqual([5, 1, 2, false]);
      expect(lots.counts.length).toBeGreaterThan(4);
      expect(new Set(lots.counts.slice(1)).size).toBe(1);
      expect(lots.counts[1]).toBe((lots.counts[0] as number) + 3);

      const members = recorder(/^select ("tier_expires_at", )?"business_id", "id" from "members"/);
      const sweep = await sweepTiers({ ...t.ctx, db: db.withPlugin(members.plugin) }, t.clock.now(), {
        batchSize: 2,
      });
      expect([sweep.failures.count, sweep.members, sweep.changed]).toEqual([5, 1, 1]);
      expect(members.counts.length).toBeGreaterThan(2);
      expect(new Set(members.counts.slice(1)).size).toBe(1);
      expect(members.counts[1]).toBe((members.counts[0] as number) + 3);
    } finally {
      await sql`drop trigger paging_fail_expiry on ledger_entries`.execute(db);
      await sql`drop trigger paging_fail_tiers on tier_changes`.execute(db);
    }
    // The fault gone, the next runs do the members that failed.
    const again = await expireDue(db, t.clock.now(), { batchSize: 2 });
    expect([again.failures.count, again.members, again.lots]).toEqual([0, 5, 10]);
    const swept = await sweepTiers(t.ctx, t.clock.now(), { batchSize: 2 });
    expect([swept.failures.count, swept.members, swept.changed]).toEqual([0, 5, 5]);
    const left = await db
      .selectFrom("ledger_lots")
      .select((eb) => eb.fn.sum<number>("points_remaining").as("points"))
      .where("business_id", "in", [failing.tenant.businessId, other.tenant.businessId])
      .executeTakeFirstOrThrow();
    expect(Number(left.points)).toBe(0);
  });
});
