import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runTierSweep } from "../../src/jobs/index.ts";
import { rezoneLots } from "../../src/modules/ledger/index.ts";
import { rezoneTierEnds } from "../../src/modules/tiers/index.ts";
import { startTestApp, type Tenant, type TestApp } from "../helpers/api.ts";
import { logIn } from "../helpers/staff.ts";
import { goldBoutique } from "../helpers/tiers.ts";

/**
 * A business that changes its time zone (`PATCH /v1/business {timezone}`) takes its members' open
 * points along: every open lot gets the expiry its policy gives on the new clock, in the same
 * transaction, so an end of month is midnight where the business now is, as the card shows it;
 * members' calendar-year tiers likewise last until 1 January midnight on the new clock. Expired
 * and spent lots, release times, rolling tiers' ends and the history stay; one audit record counts
 * the lots and the tiers.
 */

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => t?.close());

let seq = 0;

async function ok(tenant: Tenant, method: "GET" | "POST" | "PUT" | "PATCH", url: string, body?: unknown) {
  const res = await tenant.call(method, url, body);
  if (res.status >= 300) throw new Error(`${method} ${url} → ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

type Expiry =
  | { policy: "never" }
  | { policy: "days_after_earn"; days: number }
  | { policy: "end_of_month"; months_after: number }
  | { policy: "end_of_year"; years_after: number };

/** A café signed up at `at` in `timezone` with `expiry`, and one member. */
async function cafe(at: string, expiry: Expiry, options: { timezone?: string; pending_days?: number } = {}) {
  t.clock.set(new Date(at));
  const owner = await t.signup({ timezone: options.timezone ?? "Europe/Amsterdam" });
  await setExpiry(owner, expiry, options.pending_days ?? 0);
  const member = (await ok(owner, "POST", "/v1/members", { name: "Anna", marketing_consent: false }))
    .id as string;
  const buy = async (amount_minor: number, occurred_at?: string) =>
    ok(owner, "POST", "/v1/purchases", {
      external_id: `p-${++seq}`,
      member_id: member,
      amount_minor,
      currency: "EUR",
      ...(occurred_at ? { occurred_at } : {}),
    });
  const lots = () =>
    t.database.db
      .selectFrom("ledger_lots")
      .select(["id", "points_initial", "points_remaining", "available_at", "expires_at"])
      .where("business_id", "=", owner.businessId)
      .orderBy("created_at")
      .orderBy("id")
      .execute();
  const expiries = async () => (await lots()).map((l) => l.expires_at?.toISOString() ?? null);
  const card = async () => (await ok(owner, "GET", `/v1/members/${member}/card`)).points;
  const moveTo = (timezone: string) => owner.call("PATCH", "/v1/business", { timezone });
  const rezoned = async () =>
    (await ok(owner, "GET", "/v1/audit-log?action=business.timezone_changed&limit=50")).data as {
      target_id: string;
      data: {
        from: string;
        to: string;
        lots: { moved: number; kept_passed: number; kept_unknown: number };
        tiers: { moved: number; kept_passed: number };
      };
    }[];
  return { owner, member, buy, lots, expiries, card, moveTo, rezoned };
}

async function setExpiry(owner: Tenant, expiry: Expiry, pendingDays = 0) {
  const program = (await ok(owner, "GET", "/v1/program")).config;
  await ok(owner, "PUT", "/v1/program", {
    ...program,
    points: { ...program.points, expiry, pending_days: pendingDays },
  });
}

/** The ledger's own rows, which a change of zone must leave as they are. */
async function ledgerRows(businessId: string) {
  const entries = await t.database.db
    .selectFrom("ledger_entries")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("business_id", "=", businessId)
    .executeTakeFirstOrThrow();
  const accounts = await t.database.db
    .selectFrom("ledger_accounts")
    .select(["member_id", "balance_points", "debt_points", "pending_until"])
    .where("business_id", "=", businessId)
    .orderBy("member_id")
    .execute();
  return { entries: Number(entries.n), accounts };
}

describe("a change of time zone moves the expiry of open points", () => {
  it("end of month: from midnight Amsterdam to midnight Lisbon, on the card and the wallet, with no entry", async () => {
    const c = await cafe("2026-04-10T09:00:00Z", { policy: "end_of_month", months_after: 0 });
    await c.buy(2_000);
    expect(await c.expiries()).toEqual(["2026-04-30T22:00:00.000Z"]);
    expect((await c.card()).expiring_soon).toEqual([{ expires_at: "2026-04-30T22:00:00.000Z", points: 20 }]);
    const before = await ledgerRows(c.owner.businessId);

    const res = await c.moveTo("Europe/Lisbon");
    expect(res.status).toBe(200);
    expect(res.body.timezone).toBe("Europe/Lisbon");

    expect(await c.expiries()).toEqual(["2026-04-30T23:00:00.000Z"]);
    const points = await c.card();
    expect(points.expiring_soon).toEqual([{ expires_at: "2026-04-30T23:00:00.000Z", points: 20 }]);
    expect(points.available).toBe(20);
    const link = await ok(c.owner, "POST", `/v1/members/${c.member}/card-link`);
    const wallet = await ok(c.owner.as(link.card_token), "GET", "/v1/wallet/card");
    expect(wallet.card.points.expiring_soon).toEqual([
      { expires_at: "2026-04-30T23:00:00.000Z", points: 20 },
    ]);
    expect(await ledgerRows(c.owner.businessId)).toEqual(before);
    const [record] = await c.rezoned();
    expect(record).toMatchObject({
      target_id: c.owner.businessId,
      data: {
        from: "Europe/Amsterdam",
        to: "Europe/Lisbon",
        lots: { moved: 1, kept_passed: 0, kept_unknown: 0 },
      },
    });
  });

  it("end of year: to midnight on 1 January wherever the business goes next", async () => {
    const c = await cafe("2026-06-01T09:00:00Z", { policy: "end_of_year", years_after: 0 });
    await c.buy(1_000);
    expect(await c.expiries()).toEqual(["2026-12-31T23:00:00.000Z"]);
    expect((await c.moveTo("Europe/Lisbon")).status).toBe(200);
    expect(await c.expiries()).toEqual(["2027-01-01T00:00:00.000Z"]);
    expect((await c.moveTo("America/New_York")).status).toBe(200);
    expect(await c.expiries()).toEqual(["2027-01-01T05:00:00.000Z"]);
    expect((await c.rezoned()).map((r) => [r.data.from, r.data.to, r.data.lots.moved])).toEqual([
      ["Europe/Lisbon", "America/New_York", 1],
      ["Europe/Amsterdam", "Europe/Lisbon", 1],
    ]);
  });

  it("N days: the same instant between zones whose summer time starts together, an hour off where it does not", async () => {
    // 20 March 13:00 in Amsterdam (CET) + 14 days = 3 April 13:00 CEST; New York was on summer
    // time already (since 8 March): 08:00 EDT + 14 days = 08:00 EDT, an hour later in UTC.
    const c = await cafe("2026-03-20T12:00:00Z", { policy: "days_after_earn", days: 14 });
    await c.buy(1_000);
    expect(await c.expiries()).toEqual(["2026-04-03T11:00:00.000Z"]);
    expect((await c.moveTo("Europe/Lisbon")).status).toBe(200);
    expect(await c.expiries()).toEqual(["2026-04-03T11:00:00.000Z"]);
    expect((await c.moveTo("America/New_York")).status).toBe(200);
    expect(await c.expiries()).toEqual(["2026-04-03T12:00:00.000Z"]);
    expect((await c.rezoned()).map((r) => r.data.lots.moved)).toEqual([1, 0]);
  });

  it("leaves expired lots (run or waiting for the run) and spent ones as they are", async () => {
    const c = await cafe("2026-03-05T09:00:00Z", { policy: "end_of_month", months_after: 0 });
    await c.buy(1_000, "2026-01-20T10:00:00Z"); // expired end of January: the run takes it
    expect((await ok(c.owner, "POST", "/v1/points/expire", {})).lots).toBe(1);
    await c.buy(1_500, "2026-02-20T10:00:00Z"); // expired end of February: waits for the run
    await c.buy(3_000); // spent below
    t.clock.advance(60_000);
    await c.buy(4_000); // open
    await ok(c.owner, "POST", `/v1/members/${c.member}/adjustments`, { points: -30, reason: "Correction" });
    const before = await c.lots();
    expect(before.map((l) => [l.points_remaining, l.expires_at?.toISOString()])).toEqual([
      [0, "2026-01-31T23:00:00.000Z"],
      [15, "2026-02-28T23:00:00.000Z"],
      [0, "2026-03-31T22:00:00.000Z"],
      [40, "2026-03-31T22:00:00.000Z"],
    ]);
    const ledger = await ledgerRows(c.owner.businessId);

    expect((await c.moveTo("Europe/Lisbon")).status).toBe(200);

    const after = await c.lots();
    expect(after.slice(0, 3)).toEqual(before.slice(0, 3));
    expect(after[3]).toEqual({ ...before[3], expires_at: new Date("2026-03-31T23:00:00.000Z") });
    expect(await ledgerRows(c.owner.businessId)).toEqual(ledger);
    expect((await c.rezoned())[0]?.data.lots).toEqual({ moved: 1, kept_passed: 0, kept_unknown: 0 });
    // The lot that waited expires at the next run, on the date it had.
    const run = await ok(c.owner, "POST", "/v1/points/expire", {});
    expect(run.lots).toBe(1);
  });

  it("counts a pending lot's month from its release, and keeps its release time and the account's", async () => {
    const c = await cafe(
      "2026-03-28T10:00:00Z",
      { policy: "end_of_month", months_after: 0 },
      { pending_days: 7 },
    );
    await c.buy(2_000);
    const [lot] = await c.lots();
    expect(lot?.available_at.toISOString()).toBe("2026-04-04T09:00:00.000Z");
    expect(lot?.expires_at?.toISOString()).toBe("2026-04-30T22:00:00.000Z");
    const pendingBefore = (await c.card()).pending_until;
    const ledger = await ledgerRows(c.owner.businessId);

    expect((await c.moveTo("Europe/Lisbon")).status).toBe(200);

    const [moved] = await c.lots();
    expect(moved).toEqual({ ...lot, expires_at: new Date("2026-04-30T23:00:00.000Z") });
    const points = await c.card();
    expect(points.pending_until).toEqual(pendingBefore);
    expect(points.pending).toBe(20);
    expect(await ledgerRows(c.owner.businessId)).toEqual(ledger);
  });

  it("moves points earned under an earlier policy by that policy (a policy change itself moves none)", async () => {
    const c = await cafe("2026-04-10T09:00:00Z", { policy: "end_of_month", months_after: 0 });
    await c.buy(1_000);
    await setExpiry(c.owner, { policy: "days_after_earn", days: 60 });
    // What `PUT /v1/program` does to points already earned: nothing.
    expect(await c.expiries()).toEqual(["2026-04-30T22:00:00.000Z"]);
    await c.buy(2_000);
    await setExpiry(c.owner, { policy: "never" });
    await c.buy(3_000);
    expect(await c.expiries()).toEqual(["2026-04-30T22:00:00.000Z", "2026-06-09T09:00:00.000Z", null]);

    expect((await c.moveTo("Europe/Lisbon")).status).toBe(200);

    // End of April in Lisbon; 60 days is the same instant there; never stays never.
    expect(await c.expiries()).toEqual(["2026-04-30T23:00:00.000Z", "2026-06-09T09:00:00.000Z", null]);
    expect((await c.rezoned())[0]?.data.lots).toEqual({ moved: 1, kept_passed: 0, kept_unknown: 0 });
  });
});

describe("what a change of time zone leaves", () => {
  it("keeps an expiry the new zone would put in the past: moving east in a month's last hour", async () => {
    const c = await cafe(
      "2026-03-10T10:00:00Z",
      { policy: "end_of_month", months_after: 0 },
      { timezone: "Europe/Lisbon" },
    );
    await c.buy(2_000);
    expect(await c.expiries()).toEqual(["2026-03-31T23:00:00.000Z"]);
    // 23:30 on 31 March in Lisbon: it is 00:30 on 1 April in Amsterdam.
    t.clock.set(new Date("2026-03-31T22:30:00Z"));

    expect((await c.moveTo("Europe/Amsterdam")).status).toBe(200);

    expect(await c.expiries()).toEqual(["2026-03-31T23:00:00.000Z"]);
    expect((await c.card()).available).toBe(20);
    expect((await ok(c.owner, "POST", "/v1/points/expire", {})).lots).toBe(0);
    expect((await c.rezoned())[0]?.data).toEqual({
      from: "Europe/Lisbon",
      to: "Europe/Amsterdam",
      lots: { moved: 0, kept_passed: 1, kept_unknown: 0 },
      tiers: { moved: 0, kept_passed: 0 },
    });
    t.clock.set(new Date("2026-03-31T23:00:00Z"));
    expect((await ok(c.owner, "POST", "/v1/points/expire", {})).lots).toBe(1);
  });

  it("changes nothing when the zone is the one the business has, and nothing more when sent again", async () => {
    const c = await cafe("2026-04-10T09:00:00Z", { policy: "end_of_month", months_after: 0 });
    await c.buy(1_000);
    const version = async () =>
      (
        await t.database.db
          .selectFrom("programs")
          .select("version")
          .where("business_id", "=", c.owner.businessId)
          .executeTakeFirstOrThrow()
      ).version;
    const versionBefore = await version();
    const lotsBefore = await c.lots();

    expect((await c.moveTo("Europe/Amsterdam")).status).toBe(200);
    expect(await c.lots()).toEqual(lotsBefore);
    expect(await c.rezoned()).toEqual([]);
    expect(await version()).toBe(versionBefore);

    const first = await c.moveTo("Europe/Lisbon");
    const again = await c.moveTo("Europe/Lisbon");
    expect([first.status, again.status]).toEqual([200, 200]);
    expect(again.body).toEqual(first.body);
    expect(await c.expiries()).toEqual(["2026-04-30T23:00:00.000Z"]);
    expect((await c.rezoned()).length).toBe(1);
    // The profile update itself is recorded each time, as before.
    const updates = (await ok(c.owner, "GET", "/v1/audit-log?action=business.updated&limit=50")).data;
    expect(updates.length).toBe(3);
  });

  it("refuses a zone that does not exist, and moves nothing", async () => {
    const c = await cafe("2026-04-10T09:00:00Z", { policy: "end_of_month", months_after: 0 });
    await c.buy(1_000);
    const lotsBefore = await c.lots();
    const res = await c.moveTo("Europe/Atlantis");
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("validation_failed");
    expect(JSON.stringify(res.body.error)).toContain("timezone");
    expect(await c.lots()).toEqual(lotsBefore);
    expect((await ok(c.owner, "GET", "/v1/business")).timezone).toBe("Europe/Amsterdam");
    expect(await c.rezoned()).toEqual([]);
  });

  it("is for the owner only", async () => {
    const c = await cafe("2026-04-10T09:00:00Z", { policy: "end_of_month", months_after: 0 });
    await c.buy(1_000);
    const key = (await ok(c.owner, "POST", "/v1/api-keys", { name: "POS", role: "manager" })).key;
    const res = await c.owner.as(key).call("PATCH", "/v1/business", { timezone: "Europe/Lisbon" });
    expect(res.status).toBe(403);
    expect(await c.expiries()).toEqual(["2026-04-30T22:00:00.000Z"]);
  });

  it("applies two changes at once one after the other, each from the zone the other left", async () => {
    const c = await cafe("2026-04-10T09:00:00Z", { policy: "end_of_month", months_after: 0 });
    await c.buy(1_000);
    const other = (await logIn(t, c.owner.slug, c.owner.ownerEmail, c.owner.password)).token as string;
    const [a, b] = await Promise.all([
      c.moveTo("Europe/Lisbon"),
      c.owner.as(other).call("PATCH", "/v1/business", { timezone: "America/New_York" }),
    ]);
    expect([a.status, b.status]).toEqual([200, 200]);
    const zone = (await ok(c.owner, "GET", "/v1/business")).timezone;
    const records = (await c.rezoned()).reverse();
    expect(records.map((r) => r.data.lots.moved)).toEqual([1, 1]);
    expect(records[0]?.data.from).toBe("Europe/Amsterdam");
    expect(records[1]?.data.from).toBe(records[0]?.data.to);
    expect(records[1]?.data.to).toBe(zone);
    expect(await c.expiries()).toEqual([
      zone === "Europe/Lisbon" ? "2026-04-30T23:00:00.000Z" : "2026-05-01T04:00:00.000Z",
    ]);
  });
});

/**
 * A boutique with Silver and Gold by spend (test/helpers/tiers.ts), signed up at `at` in `timezone`,
 * and what a tier test reads of it. The tier sweep goes over every business in the database: the
 * tests read their own members' tiers, not the sweep's counts.
 */
async function boutique(at: string, timezone = "Europe/Amsterdam") {
  t.clock.set(new Date(at));
  const owner = await t.signup({ timezone });
  const { tenant, silver, gold } = await goldBoutique(owner);
  const member = async () =>
    (await ok(tenant, "POST", "/v1/members", { marketing_consent: false })).id as string;
  const buy = (memberId: string, amount_minor: number) =>
    ok(tenant, "POST", "/v1/purchases", {
      external_id: `p-${++seq}`,
      member_id: memberId,
      amount_minor,
      currency: "EUR",
    });
  const tierOf = async (memberId: string) => {
    const row = await t.database.db
      .selectFrom("members")
      .select(["tier_id", "tier_expires_at"])
      .where("business_id", "=", owner.businessId)
      .where("id", "=", memberId)
      .executeTakeFirstOrThrow();
    return { tier_id: row.tier_id, tier_expires_at: row.tier_expires_at?.toISOString() ?? null };
  };
  const card = async (memberId: string) => (await ok(tenant, "GET", `/v1/members/${memberId}/card`)).tier;
  // The owner's session from the sign-up lasts 30 days; a test that moves the clock on logs in again.
  const moveTo = async (zone: string) => {
    const token = (await logIn(t, owner.slug, owner.ownerEmail, owner.password)).token as string;
    return owner.as(token).call("PATCH", "/v1/business", { timezone: zone });
  };
  const rezoned = async () =>
    (await ok(tenant, "GET", "/v1/audit-log?action=business.timezone_changed&limit=50")).data as {
      data: { from: string; to: string; tiers: { moved: number; kept_passed: number } };
    }[];
  const changes = async () =>
    (
      await t.database.db
        .selectFrom("tier_changes")
        .select("reason")
        .where("business_id", "=", owner.businessId)
        .orderBy("id")
        .execute()
    ).map((c) => c.reason);
  return { owner, tenant, silver, gold, member, buy, tierOf, card, moveTo, rezoned, changes };
}

describe("a change of time zone moves calendar-year tier ends", () => {
  it("keeps Gold until New Year's midnight in the new zone: the sweep an hour after the old one leaves it, at the new one ends it", async () => {
    const b = await boutique("2026-06-01T10:00:00Z");
    const [anna, bram, cleo] = [await b.member(), await b.member(), await b.member()];
    await b.buy(anna, 60_000);
    await b.buy(bram, 25_000);
    // 1 January 2028, midnight in Amsterdam.
    expect(await b.tierOf(anna)).toEqual({ tier_id: b.gold, tier_expires_at: "2027-12-31T23:00:00.000Z" });
    expect(await b.tierOf(bram)).toEqual({ tier_id: b.silver, tier_expires_at: "2027-12-31T23:00:00.000Z" });
    const reasons = await b.changes();

    expect((await b.moveTo("Europe/Lisbon")).status).toBe(200);

    // 1 January 2028, midnight in Lisbon; no tier change, and nobody gets a tier.
    expect(await b.tierOf(anna)).toEqual({ tier_id: b.gold, tier_expires_at: "2028-01-01T00:00:00.000Z" });
    expect(await b.tierOf(bram)).toEqual({ tier_id: b.silver, tier_expires_at: "2028-01-01T00:00:00.000Z" });
    expect(await b.tierOf(cleo)).toEqual({ tier_id: null, tier_expires_at: null });
    expect(await b.card(anna)).toMatchObject({
      current: { name: "Gold" },
      expires_at: "2028-01-01T00:00:00.000Z",
    });
    expect(await b.changes()).toEqual(reasons);
    expect((await b.rezoned())[0]?.data).toMatchObject({
      from: "Europe/Amsterdam",
      to: "Europe/Lisbon",
      tiers: { moved: 2, kept_passed: 0 },
    });

    // The last millisecond of 2027 in Lisbon, an hour after New Year in Amsterdam: still Gold.
    t.clock.set(new Date("2027-12-31T23:59:59.999Z"));
    await runTierSweep(t.ctx, t.clock.now());
    expect(await b.tierOf(anna)).toEqual({ tier_id: b.gold, tier_expires_at: "2028-01-01T00:00:00.000Z" });
    expect(await b.card(anna)).toMatchObject({ current: { name: "Gold" } });

    // New Year in Lisbon: nothing spent in 2027 or 2028 keeps a tier.
    t.clock.set(new Date("2028-01-01T00:00:00.000Z"));
    await runTierSweep(t.ctx, t.clock.now());
    expect(await b.tierOf(anna)).toEqual({ tier_id: null, tier_expires_at: null });
    expect(await b.tierOf(bram)).toEqual({ tier_id: null, tier_expires_at: null });
    expect((await b.changes()).slice(reasons.length)).toEqual([
      "Gold ended; 0 spend in the current period",
      "Silver ended; 0 spend in the current period",
    ]);
  });

  it("leaves a rolling tier's end, and moves a calendar year's from before the program went rolling", async () => {
    const b = await boutique("2026-06-01T10:00:00Z");
    const [anna, bram] = [await b.member(), await b.member()];
    await b.buy(anna, 60_000);
    const program = (await ok(b.tenant, "GET", "/v1/program")).config;
    await ok(b.tenant, "PUT", "/v1/program", {
      ...program,
      tiers: { ...program.tiers, period: "rolling_12_months" },
    });
    t.clock.advance(60_000);
    await b.buy(bram, 60_000);
    // Twelve months on, to the millisecond, on the Amsterdam clock.
    expect(await b.tierOf(bram)).toEqual({ tier_id: b.gold, tier_expires_at: "2027-06-01T10:01:00.000Z" });

    expect((await b.moveTo("Europe/Lisbon")).status).toBe(200);

    expect(await b.tierOf(anna)).toEqual({ tier_id: b.gold, tier_expires_at: "2028-01-01T00:00:00.000Z" });
    expect(await b.tierOf(bram)).toEqual({ tier_id: b.gold, tier_expires_at: "2027-06-01T10:01:00.000Z" });
    expect(await b.card(bram)).toMatchObject({ expires_at: "2027-06-01T10:01:00.000Z" });
    expect((await b.rezoned())[0]?.data.tiers).toEqual({ moved: 1, kept_passed: 0 });
  });

  it("keeps a tier end the new zone would put in the past: moving east in the year's last hour", async () => {
    const b = await boutique("2025-06-01T10:00:00Z", "Europe/Lisbon");
    const [anna, bram] = [await b.member(), await b.member()];
    await b.buy(anna, 60_000); // Gold in 2025: kept until 1 January 2027
    t.clock.set(new Date("2026-06-01T10:00:00Z"));
    await b.buy(bram, 60_000); // Gold in 2026: kept until 1 January 2028
    // 23:30 on 31 December 2026 in Lisbon: it is 00:30 on 1 January 2027 in Amsterdam.
    t.clock.set(new Date("2026-12-31T23:30:00Z"));

    expect((await b.moveTo("Europe/Amsterdam")).status).toBe(200);

    expect(await b.tierOf(anna)).toEqual({ tier_id: b.gold, tier_expires_at: "2027-01-01T00:00:00.000Z" });
    expect(await b.tierOf(bram)).toEqual({ tier_id: b.gold, tier_expires_at: "2027-12-31T23:00:00.000Z" });
    expect(await b.card(anna)).toMatchObject({ current: { name: "Gold" } });
    expect((await b.rezoned())[0]?.data.tiers).toEqual({ moved: 1, kept_passed: 1 });
    await runTierSweep(t.ctx, t.clock.now());
    expect(await b.tierOf(anna)).toEqual({ tier_id: b.gold, tier_expires_at: "2027-01-01T00:00:00.000Z" });

    // It ends at the end it kept: nothing was spent in 2026.
    t.clock.set(new Date("2027-01-01T00:00:00Z"));
    await runTierSweep(t.ctx, t.clock.now());
    expect(await b.tierOf(anna)).toEqual({ tier_id: null, tier_expires_at: null });
    expect(await b.tierOf(bram)).toEqual({ tier_id: b.gold, tier_expires_at: "2027-12-31T23:00:00.000Z" });
  });
});

describe("rezoneLots", () => {
  it("moves every open lot of the business, a page at a time, and only that business's", async () => {
    const c = await cafe("2026-04-10T09:00:00Z", { policy: "end_of_month", months_after: 0 });
    const bystander = await cafe("2026-04-10T09:00:00Z", { policy: "end_of_month", months_after: 0 });
    for (let i = 0; i < 5; i++) {
      await c.buy(1_000 + i * 100);
      await bystander.buy(1_000);
    }
    const theirs = await bystander.lots();
    const moved = await t.database.db
      .transaction()
      .execute((tx) =>
        rezoneLots(
          tx,
          c.owner.businessId,
          { policy: "end_of_month", months_after: 0 },
          { from: "Europe/Amsterdam", to: "Europe/Lisbon" },
          t.clock.now(),
          2,
        ),
      );
    expect(moved).toEqual({ moved: 5, kept_passed: 0, kept_unknown: 0 });
    expect(await c.expiries()).toEqual(Array(5).fill("2026-04-30T23:00:00.000Z"));
    expect(await bystander.lots()).toEqual(theirs);
  });
});

describe("rezoneTierEnds", () => {
  it("moves every calendar-year end of the business, a page at a time, and only that business's", async () => {
    const b = await boutique("2026-06-01T10:00:00Z");
    const bystander = await boutique("2026-06-01T10:00:00Z");
    const members: string[] = [];
    for (let i = 0; i < 5; i++) {
      const m = await b.member();
      await b.buy(m, 20_000 + i * 10_000);
      members.push(m);
    }
    const theirs = await bystander.member();
    await bystander.buy(theirs, 60_000);
    const moved = await t.database.db
      .transaction()
      .execute((tx) =>
        rezoneTierEnds(
          tx,
          b.owner.businessId,
          { from: "Europe/Amsterdam", to: "Europe/Lisbon" },
          t.clock.now(),
          2,
        ),
      );
    expect(moved).toEqual({ moved: 5, kept_passed: 0 });
    for (const m of members) {
      expect((await b.tierOf(m)).tier_expires_at).toBe("2028-01-01T00:00:00.000Z");
    }
    expect(await bystander.tierOf(theirs)).toEqual({
      tier_id: bystander.gold,
      tier_expires_at: "2027-12-31T23:00:00.000Z",
    });
  });
});
