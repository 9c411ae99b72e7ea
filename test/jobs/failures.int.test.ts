import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runTierSweep } from "../../src/jobs/index.ts";
import { runExpiry } from "../../src/modules/ledger/index.ts";
import { startTestApp, type Tenant, type TestApp } from "../helpers/api.ts";
import { goldBoutique } from "../helpers/tiers.ts";

/**
 * One member the points expiry or the tier sweep cannot do (a bad row, a lock timeout, a bug)
 * costs no other member their turn, in its business or another: the run goes past it and says at
 * its end that it failed; the next run, the fault gone, does it.
 */
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ now: "2026-06-01T10:00:00Z" });
});
afterAll(async () => t?.close());

/** A boutique whose points expire after 10 days and a member who reached Gold, by 60.000 spend. */
async function shop(): Promise<{ tenant: Tenant; member: string }> {
  const { tenant } = await goldBoutique(await t.signup());
  const program = (await tenant.call("GET", "/v1/program")).body.config;
  const points = { ...program.points, expiry: { policy: "days_after_earn", days: 10 } };
  expect((await tenant.call("PUT", "/v1/program", { ...program, points })).status).toBe(200);
  const member = (await tenant.call("POST", "/v1/members", { marketing_consent: false })).body.id as string;
  const bought = await tenant.call("POST", "/v1/purchases", {
    external_id: `p-${member}`,
    member_id: member,
    amount_minor: 60_000,
    currency: "EUR",
  });
  expect(bought.body.member.tier.current.name).toBe("Gold");
  return { tenant, member };
}

describe("a member a job cannot do", () => {
  it("does not stop the points expiry or the tier sweep for the others; a later run does it", async () => {
    const [a, b] = [await shop(), await shop()];
    // Every write of the expiry and of a tier change fails for the first business only.
    await sql
      .raw(`create or replace function review_fail() returns trigger language plpgsql as $$
        begin
          if new.business_id = '${a.tenant.businessId}' then raise exception 'disk on fire'; end if;
          return new;
        end $$`)
      .execute(t.database.db);
    await sql`create trigger fail_expiry before insert on ledger_entries for each row
      when (new.kind = 'expire') execute function review_fail()`.execute(t.database.db);
    await sql`create trigger fail_tiers before insert on tier_changes for each row
      execute function review_fail()`.execute(t.database.db);
    try {
      // Gold is held until the end of 2027; points expire after 10 days.
      t.clock.set(new Date("2028-01-02T10:00:00Z"));
      await expect(runExpiry(t.database.db, t.clock.now())).rejects.toThrow(
        `Points expiry: 1 of 2 members failed (the others' points expired); the first, member ${a.member} of business ${a.tenant.businessId}: disk on fire`,
      );
      await expect(runTierSweep(t.ctx, t.clock.now())).rejects.toThrow(
        `Tier sweep: 1 of 2 members failed (the others' tiers were swept); the first, member ${a.member}`,
      );
      const kinds = async (s: { tenant: Tenant; member: string }) =>
        (await s.tenant.call("GET", `/v1/members/${s.member}/history?type=points`)).body.data.map(
          (e: { kind: string }) => e.kind,
        );
      expect(await kinds(b)).toEqual(["expire", "earn"]);
      expect(await kinds(a)).toEqual(["earn"]);
      const tierOf = async (s: { tenant: Tenant; member: string }) =>
        (
          await t.database.db
            .selectFrom("members")
            .select("tier_id")
            .where("business_id", "=", s.tenant.businessId)
            .where("id", "=", s.member)
            .executeTakeFirstOrThrow()
        ).tier_id;
      expect(await tierOf(b)).toBeNull();
      expect(await tierOf(a)).not.toBeNull();
    } finally {
      await sql`drop trigger fail_expiry on ledger_entries`.execute(t.database.db);
      await sql`drop trigger fail_tiers on tier_changes`.execute(t.database.db);
    }
    expect(await runExpiry(t.database.db, t.clock.now())).toEqual({ lots: 1, points: 600 });
    expect(await runTierSweep(t.ctx, t.clock.now())).toEqual({ members: 1, changed: 1 });
  });
});

describe("an expiry in the history", () => {
  it("names the business's own date: the day the card said the points expire", async () => {
    t.clock.set(new Date("2026-03-10T10:00:00Z"));
    const dates: string[] = [];
    for (const timezone of ["Europe/Amsterdam", "America/New_York"]) {
      const tenant = await t.signup({ timezone });
      const program = (await tenant.call("GET", "/v1/program")).body.config;
      const points = { ...program.points, expiry: { policy: "end_of_month", months_after: 0 } };
      expect((await tenant.call("PUT", "/v1/program", { ...program, points })).status).toBe(200);
      const member = (await tenant.call("POST", "/v1/members", { marketing_consent: false })).body
        .id as string;
      await tenant.call("POST", "/v1/purchases", {
        external_id: `eom-${timezone}`,
        member_id: member,
        amount_minor: 1_000,
        currency: "EUR",
      });
      const card = (await tenant.call("GET", `/v1/members/${member}/card`)).body;
      t.clock.set(new Date("2026-04-02T10:00:00Z"));
      await runExpiry(t.database.db, t.clock.now(), { businessId: tenant.businessId });
      t.clock.set(new Date("2026-03-10T10:00:00Z"));
      const history = (await tenant.call("GET", `/v1/members/${member}/history?type=points`)).body.data;
      dates.push(history[0].reason);
      // The card's "expiring soon" date, in the business's zone, is the date the history names.
      const expiring = new Date(card.points.expiring_soon[0].expires_at);
      const local = new Intl.DateTimeFormat("en-CA", { timeZone: timezone }).format(expiring);
      expect(history[0].reason).toBe(`10 points from purchase eom-${timezone} expired on ${local}`);
    }
    expect(dates).toEqual([
      "10 points from purchase eom-Europe/Amsterdam expired on 2026-04-01",
      "10 points from purchase eom-America/New_York expired on 2026-04-01",
    ]);
  });

  it("names what earned each lot: a purchase by its external id, an event by its type and id, the rest by kind", async () => {
    t.clock.set(new Date("2026-03-10T10:00:00Z"));
    const tenant = await t.signup();
    const program = (await tenant.call("GET", "/v1/program")).body.config;
    const points = {
      ...program.points,
      pending_days: 0,
      expiry: { policy: "end_of_month", months_after: 0 },
    };
    expect((await tenant.call("PUT", "/v1/program", { ...program, points })).status).toBe(200);
    const review = await tenant.call("POST", "/v1/rules", {
      name: "Review",
      trigger: "event",
      event_type: "review_written",
      effect: { type: "fixed_points", points: 5 },
    });
    expect(review.status).toBe(201);
    const member = (await tenant.call("POST", "/v1/members", { marketing_consent: false })).body.id as string;
    const sent = [
      await tenant.call("POST", "/v1/purchases", {
        external_id: "till-7-0001",
        member_id: member,
        amount_minor: 1_000,
        currency: "EUR",
      }),
      await tenant.call("POST", "/v1/events", {
        external_id: "rev-9",
        member_id: member,
        type: "review_written",
      }),
      await tenant.call(
        "POST",
        `/v1/members/${member}/adjustments`,
        { points: 3, reason: "Spilled coffee" },
        { "idempotency-key": "adj-1" },
      ),
    ];
    expect(sent.map((r) => r.status)).toEqual([201, 201, 201]);
    t.clock.set(new Date("2026-04-02T10:00:00Z"));
    expect(await runExpiry(t.database.db, t.clock.now(), { businessId: tenant.businessId })).toMatchObject({
      lots: 3,
    });
    const history = (await tenant.call("GET", `/v1/members/${member}/history?type=points`)).body.data as {
      kind: string;
      reason: string;
    }[];
    expect(
      history
        .filter((h) => h.kind === "expire")
        .map((h) => h.reason)
        .sort(),
    ).toEqual([
      "10 points from purchase till-7-0001 expired on 2026-04-01",
      "3 points from adjustment expired on 2026-04-01",
      "5 points from event review_written rev-9 expired on 2026-04-01",
    ]);
  });
});
