import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Actor } from "../../src/context.ts";
import { runJob, runTierSweep } from "../../src/jobs/index.ts";
import {
  followTimeZoneChanges,
  followTimeZonePage,
  REZONE_PAGE_SIZE,
  updateBusiness,
} from "../../src/modules/business/index.ts";
import { recordTimeZoneChange } from "../../src/modules/business/rezone.ts";
import { expireDue, rezoneLotsPage, runExpiry } from "../../src/modules/ledger/index.ts";
import { lockProgram } from "../../src/modules/program/index.ts";
import { rezoneTierEndsPage } from "../../src/modules/tiers/index.ts";
import { newId } from "../../src/shared/ids.ts";
import { startTestApp, type Tenant, type TestApp } from "../helpers/api.ts";
import { blockedOnALock, engine } from "../helpers/db.ts";
import { logIn } from "../helpers/staff.ts";
import { goldBoutique } from "../helpers/tiers.ts";

/**
 * A business that changes its time zone (`PATCH /v1/business {timezone}`) takes its members' open
 * points along: every open lot's expiry keeps its date and time, read on the new clock, so an end
 * of month is midnight where the business now is, as the card shows it; members' calendar-year
 * tiers likewise last until 1 January midnight on the new clock. The change is one short
 * transaction; lots and tier ends move after it, a page per transaction, resumable by the
 * scheduled job. Expired and spent lots, release times, rolling tiers' ends and the history stay.
 */

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ poolSize: 4 });
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

interface Moved {
  moved: number;
  kept_passed: number;
}

/** The audit records of the business's changes of zone, and of their follow-ups, newest first. */
async function auditOf(owner: Tenant) {
  const read = async (action: string) =>
    (await ok(owner, "GET", `/v1/audit-log?action=${action}&limit=50`)).data as {
      actor: string;
      target_id: string;
      data: { from: string; to: string; requested_at?: string; lots?: Moved; tiers?: Moved };
    }[];
  return {
    changed: await read("business.timezone_changed"),
    followed: await read("business.timezone_followed"),
  };
}

/**
 * Records a change of zone as the PATCH does, and does not follow it: a request cut short right
 * after its commit. Returns the change's id.
 */
async function recordOnly(businessId: string, timezone: string): Promise<string> {
  const actor: Actor = { businessId, kind: "system", id: "test", role: "owner" };
  const { timeZoneChange } = await updateBusiness(t.database.db, actor, { timezone }, t.clock.now());
  if (!timeZoneChange) throw new Error("the zone did not change");
  return timeZoneChange;
}

/** Runs the scheduled job `timezone-follow` now (its lease let go first). */
async function runFollowJob() {
  await t.database.db.deleteFrom("job_leases").where("job", "=", "timezone-follow").execute();
  return runJob(t.ctx, "timezone-follow", "node-a", { answerRetentionDays: 30 });
}

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
  // The owner's session from the sign-up lasts 30 days; a test that moves the clock on logs in again.
  const moveTo = async (timezone: string) => {
    const token = (await logIn(t, owner.slug, owner.ownerEmail, owner.password)).token as string;
    return owner.as(token).call("PATCH", "/v1/business", { timezone });
  };
  return { owner, member, buy, lots, expiries, card, moveTo, audit: () => auditOf(owner) };
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

const NONE = { moved: 0, kept_passed: 0 };

describe("a change of time zone moves open points' expiry to the same date and time on the new clock", () => {
  it("end of month: from midnight Amsterdam to midnight Lisbon, on the card and the wallet, with no entry", async () => {
    const c = await cafe("2026-04-10T09:00:00Z", { policy: "end_of_month", months_after: 0 });
    await c.buy(2_000);
    expect(await c.expiries()).toEqual(["2026-04-30T22:00:00.000Z"]);
    expect((await c.card()).expiring_soon).toEqual([{ expires_at: "2026-04-30T22:00:00.000Z", points: 20 }]);
    const before = await ledgerRows(c.owner.businessId);

    const res = await c.moveTo("Europe/Lisbon");
    expect(res.status).toBe(200);
    expect(res.body.timezone).toBe("Europe/Lisbon");
    // The lots moved before the answer: it says so.
    const now = t.clock.now().toISOString();
    expect(res.body.timezone_change).toEqual({
      from: "Europe/Amsterdam",
      to: "Europe/Lisbon",
      requested_at: now,
      done_at: now,
      lots: { moved: 1, kept_passed: 0 },
      tiers: NONE,
    });

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
    const { changed, followed } = await c.audit();
    expect(changed).toMatchObject([
      { target_id: c.owner.businessId, data: { from: "Europe/Amsterdam", to: "Europe/Lisbon" } },
    ]);
    expect(changed[0]?.actor).toMatch(/^staff:/);
    expect(followed).toMatchObject([
      {
        actor: "system:timezone",
        target_id: c.owner.businessId,
        data: {
          from: "Europe/Amsterdam",
          to: "Europe/Lisbon",
          requested_at: now,
          lots: { moved: 1, kept_passed: 0 },
          tiers: NONE,
        },
      },
    ]);
  });

  it("end of year: to midnight on 1 January wherever the business goes next", async () => {
    const c = await cafe("2026-06-01T09:00:00Z", { policy: "end_of_year", years_after: 0 });
    await c.buy(1_000);
    expect(await c.expiries()).toEqual(["2026-12-31T23:00:00.000Z"]);
    expect((await c.moveTo("Europe/Lisbon")).status).toBe(200);
    expect(await c.expiries()).toEqual(["2027-01-01T00:00:00.000Z"]);
    expect((await c.moveTo("America/New_York")).status).toBe(200);
    expect(await c.expiries()).toEqual(["2027-01-01T05:00:00.000Z"]);
    const { changed, followed } = await c.audit();
    expect(changed.map((r) => [r.data.from, r.data.to])).toEqual([
      ["Europe/Lisbon", "America/New_York"],
      ["Europe/Amsterdam", "Europe/Lisbon"],
    ]);
    expect(followed.map((r) => r.data.lots?.moved)).toEqual([1, 1]);
  });

  it("moves a month's or a year's end by the offset only: points earned at 00:30 on the 1st keep their month and year", async () => {
    // 00:30 on 1 January 2026 in Amsterdam is still 2025 in Lisbon; the points stay valid until
    // 1 January 2028, midnight, now Lisbon's: an hour more, not a year less.
    const year = await cafe("2025-12-31T23:30:00Z", { policy: "end_of_year", years_after: 1 });
    await year.buy(1_000);
    expect(await year.expiries()).toEqual(["2027-12-31T23:00:00.000Z"]);
    // 00:30 on 1 April in Amsterdam, end of next month: 1 June.
    const month = await cafe("2026-03-31T22:30:00Z", { policy: "end_of_month", months_after: 1 });
    await month.buy(1_000);
    expect(await month.expiries()).toEqual(["2026-05-31T22:00:00.000Z"]);

    t.clock.set(new Date("2026-04-10T10:00:00Z"));
    expect((await year.moveTo("Europe/Lisbon")).status).toBe(200);
    expect((await month.moveTo("Europe/Lisbon")).status).toBe(200);

    expect(await year.expiries()).toEqual(["2028-01-01T00:00:00.000Z"]);
    expect(await month.expiries()).toEqual(["2026-05-31T23:00:00.000Z"]);
    // Back east: back to the instants they had.
    expect((await year.moveTo("Europe/Amsterdam")).status).toBe(200);
    expect((await month.moveTo("Europe/Amsterdam")).status).toBe(200);
    expect(await year.expiries()).toEqual(["2027-12-31T23:00:00.000Z"]);
    expect(await month.expiries()).toEqual(["2026-05-31T22:00:00.000Z"]);
  });

  it("N days: the same time of day on the new clock", async () => {
    // 20 March 13:00 in Amsterdam + 14 days = 3 April 13:00 CEST (11:00 UTC); 13:00 in Lisbon is
    // 12:00 UTC, and 13:00 in New York 17:00 UTC.
    const c = await cafe("2026-03-20T12:00:00Z", { policy: "days_after_earn", days: 14 });
    await c.buy(1_000);
    expect(await c.expiries()).toEqual(["2026-04-03T11:00:00.000Z"]);
    expect((await c.moveTo("Europe/Berlin")).status).toBe(200);
    expect(await c.expiries()).toEqual(["2026-04-03T11:00:00.000Z"]);
    expect((await c.moveTo("Europe/Lisbon")).status).toBe(200);
    expect(await c.expiries()).toEqual(["2026-04-03T12:00:00.000Z"]);
    expect((await c.moveTo("America/New_York")).status).toBe(200);
    expect(await c.expiries()).toEqual(["2026-04-03T17:00:00.000Z"]);
    expect((await c.audit()).followed.map((r) => r.data.lots?.moved)).toEqual([1, 1, 0]);
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
    expect((await c.audit()).followed[0]?.data.lots).toEqual({ moved: 1, kept_passed: 0 });
    // The lot that waited expires at the next run, on the date it had.
    const run = await ok(c.owner, "POST", "/v1/points/expire", {});
    expect(run.lots).toBe(1);
  });

  it("keeps a pending lot's release time and the account's, and moves its expiry", async () => {
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

  it("moves points earned under an earlier policy the same way (a policy change itself moves none)", async () => {
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

    // Midnight on 1 May and 11:00 on 9 June, now Lisbon's; never stays never.
    expect(await c.expiries()).toEqual(["2026-04-30T23:00:00.000Z", "2026-06-09T10:00:00.000Z", null]);
    expect((await c.audit()).followed[0]?.data.lots).toEqual({ moved: 2, kept_passed: 0 });
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

    const res = await c.moveTo("Europe/Amsterdam");
    expect(res.status).toBe(200);
    expect(res.body.timezone_change).toMatchObject({ lots: { moved: 0, kept_passed: 1 }, tiers: NONE });

    expect(await c.expiries()).toEqual(["2026-03-31T23:00:00.000Z"]);
    expect((await c.card()).available).toBe(20);
    expect((await ok(c.owner, "POST", "/v1/points/expire", {})).lots).toBe(0);
    expect((await c.audit()).followed[0]?.data).toEqual({
      from: "Europe/Lisbon",
      to: "Europe/Amsterdam",
      requested_at: "2026-03-31T22:30:00.000Z",
      lots: { moved: 0, kept_passed: 1 },
      tiers: NONE,
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

    const same = await c.moveTo("Europe/Amsterdam");
    expect(same.status).toBe(200);
    expect(same.body.timezone_change).toBeUndefined();
    expect(await c.lots()).toEqual(lotsBefore);
    expect(await c.audit()).toEqual({ changed: [], followed: [] });
    expect(await version()).toBe(versionBefore);

    const first = await c.moveTo("Europe/Lisbon");
    const again = await c.moveTo("Europe/Lisbon");
    expect([first.status, again.status]).toEqual([200, 200]);
    const { timezone_change: change, ...business } = first.body;
    expect(change).toMatchObject({ lots: { moved: 1, kept_passed: 0 } });
    expect(again.body).toEqual(business);
    expect(await c.expiries()).toEqual(["2026-04-30T23:00:00.000Z"]);
    const { changed, followed } = await c.audit();
    expect([changed.length, followed.length]).toEqual([1, 1]);
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
    expect(await c.audit()).toEqual({ changed: [], followed: [] });
    const pending = await t.database.db
      .selectFrom("business_rezones")
      .select("id")
      .where("business_id", "=", c.owner.businessId)
      .execute();
    expect(pending).toEqual([]);
  });

  it("is for the owner only", async () => {
    const c = await cafe("2026-04-10T09:00:00Z", { policy: "end_of_month", months_after: 0 });
    await c.buy(1_000);
    const key = (await ok(c.owner, "POST", "/v1/api-keys", { name: "POS", role: "manager" })).key;
    const res = await c.owner.as(key).call("PATCH", "/v1/business", { timezone: "Europe/Lisbon" });
    expect(res.status).toBe(403);
    expect(await c.expiries()).toEqual(["2026-04-30T22:00:00.000Z"]);
    expect(await c.audit()).toEqual({ changed: [], followed: [] });
  });

  it("applies two changes at once one after the other, each from the zone the other left", async () => {
    const c = await cafe("2026-04-10T09:00:00Z", { policy: "end_of_month", months_after: 0 });
    await c.buy(1_000);
    const other = (await logIn(t, c.owner.slug, c.owner.ownerEmail, c.owner.password)).token as string;
    const [a, b] = await Promise.all([
      c.owner.call("PATCH", "/v1/business", { timezone: "Europe/Lisbon" }),
      c.owner.as(other).call("PATCH", "/v1/business", { timezone: "America/New_York" }),
    ]);
    expect([a.status, b.status]).toEqual([200, 200]);
    const zone = (await ok(c.owner, "GET", "/v1/business")).timezone;
    const { changed, followed } = await c.audit();
    expect(changed.length).toBe(2);
    const [first, second] = [...followed].reverse();
    expect([first?.data.from, first?.data.to]).toEqual([changed[1]?.data.from, changed[1]?.data.to]);
    expect(first?.data.from).toBe("Europe/Amsterdam");
    expect(second?.data.from).toBe(first?.data.to);
    expect(second?.data.to).toBe(zone);
    expect(followed.map((r) => r.data.lots?.moved)).toEqual([1, 1]);
    expect(await c.expiries()).toEqual([
      zone === "Europe/Lisbon" ? "2026-04-30T23:00:00.000Z" : "2026-05-01T04:00:00.000Z",
    ]);
  });
});

describe("a change of time zone, page by page", () => {
  it("moves a page per transaction, each committed on its own, with purchases going on between them", async () => {
    const c = await cafe("2026-04-10T09:00:00Z", { policy: "end_of_month", months_after: 0 });
    for (let i = 0; i < 5; i++) await c.buy(1_000 + i * 100);
    const earned = (await c.lots()).map((l) => l.id);
    const change = await recordOnly(c.owner.businessId, "Europe/Lisbon");
    // The change alone moves nothing.
    expect(await c.expiries()).toEqual(Array(5).fill("2026-04-30T22:00:00.000Z"));
    const moved = async () =>
      (await c.lots()).filter(
        (l) => earned.includes(l.id) && l.expires_at?.toISOString() === "2026-04-30T23:00:00.000Z",
      ).length;
    const page = () => followTimeZonePage(t.database.db, c.owner.businessId, t.clock.now(), 2);

    // The members first (none holds a tier here), then the lots, two at a time.
    expect(await page()).toEqual({ change, done: false });
    expect(await moved()).toBe(0);
    expect(await page()).toEqual({ change, done: false });
    expect(await moved()).toBe(2);
    // A purchase between two pages: on the new clock already, and no page of this change moves it.
    await c.buy(2_000);
    expect((await c.expiries()).at(-1)).toBe("2026-04-30T23:00:00.000Z");
    expect(await page()).toEqual({ change, done: false });
    expect(await moved()).toBe(4);
    expect(await page()).toEqual({ change, done: true });
    expect(await moved()).toBe(5);
    expect(await page()).toBeNull();
    expect(await c.expiries()).toEqual(Array(6).fill("2026-04-30T23:00:00.000Z"));
    expect((await c.audit()).followed[0]?.data.lots).toEqual({ moved: 5, kept_passed: 0 });
  });

  it("moves at most a page of lots or members in each transaction, at the default page size too", async () => {
    expect(REZONE_PAGE_SIZE).toBe(500);
    const b = await boutique("2026-06-01T10:00:00Z");
    const members: string[] = [];
    for (let i = 0; i < 3; i++) {
      const m = await b.member();
      await b.buy(m, 60_000);
      members.push(m);
    }
    const bystander = await boutique("2026-06-01T10:00:00Z");
    const theirs = await bystander.member();
    await bystander.buy(theirs, 60_000);
    const ends = async () => Promise.all(members.map(async (m) => (await b.tierOf(m)).tier_expires_at));
    expect(await ends()).toEqual(Array(3).fill("2027-12-31T23:00:00.000Z"));
    await recordOnly(b.owner.businessId, "Europe/Lisbon");

    let cursor: { end: Date; after: string | null } | null = null;
    const counts: number[] = [];
    do {
      const pageOf: Awaited<ReturnType<typeof rezoneTierEndsPage>> = await t.database.db
        .transaction()
        .execute((tx) =>
          rezoneTierEndsPage(
            tx,
            b.owner.businessId,
            { from: "Europe/Amsterdam", to: "Europe/Lisbon" },
            cursor,
            t.clock.now(),
            2,
          ),
        );
      counts.push(pageOf.moved);
      cursor = pageOf.next;
    } while (cursor !== null);
    // Next year's end (nobody) and the year after's: two members, then one.
    expect(counts).toEqual([2, 1]);
    expect(await ends()).toEqual(Array(3).fill("2028-01-01T00:00:00.000Z"));
    expect(await bystander.tierOf(theirs)).toEqual({
      tier_id: bystander.gold,
      tier_expires_at: "2027-12-31T23:00:00.000Z",
    });
    // The follow-up finds them moved already and moves none again.
    await followTimeZoneChanges(t.database.db, b.owner.businessId, t.clock);
    expect(await ends()).toEqual(Array(3).fill("2028-01-01T00:00:00.000Z"));
    expect((await b.audit()).followed[0]?.data.tiers).toEqual(NONE);
  });

  it("goes on after a follow-up cut short, from where it stopped, in the scheduled job: nothing moves twice", async () => {
    const b = await boutique("2026-06-01T10:00:00Z");
    await setExpiry(b.tenant, { policy: "end_of_month", months_after: 0 });
    const members: string[] = [];
    for (let i = 0; i < 3; i++) {
      const m = await b.member();
      await b.buy(m, 60_000);
      members.push(m);
    }
    const lotsOf = async () =>
      (
        await t.database.db
          .selectFrom("ledger_lots")
          .select(["member_id", "expires_at"])
          .where("business_id", "=", b.owner.businessId)
          .orderBy("id")
          .execute()
      ).map((l) => [l.member_id, l.expires_at?.toISOString()]);
    expect(await lotsOf()).toEqual(members.map((m) => [m, "2026-06-30T22:00:00.000Z"]));
    const change = await recordOnly(b.owner.businessId, "Europe/Lisbon");

    // A request that did a page of two members, then died.
    const page = () => followTimeZonePage(t.database.db, b.owner.businessId, t.clock.now(), 2);
    expect(await page()).toEqual({ change, done: false });
    expect((await b.tierOf(members[0] as string)).tier_expires_at).toBe("2028-01-01T00:00:00.000Z");
    expect((await b.tierOf(members[2] as string)).tier_expires_at).toBe("2027-12-31T23:00:00.000Z");
    // A member joins and buys on the new clock meanwhile.
    const late = await b.member();
    await b.buy(late, 60_000);
    expect(await b.tierOf(late)).toEqual({ tier_id: b.gold, tier_expires_at: "2028-01-01T00:00:00.000Z" });

    // The job: the third member, then the lots (one page each).
    expect(await runFollowJob()).toEqual({ businesses: 1, pages: 2 });

    for (const m of [...members, late]) {
      expect(await b.tierOf(m)).toEqual({ tier_id: b.gold, tier_expires_at: "2028-01-01T00:00:00.000Z" });
    }
    // Every lot at midnight on 1 July in Lisbon: the three moved once, the late one not at all.
    expect(await lotsOf()).toEqual([...members, late].map((m) => [m, "2026-06-30T23:00:00.000Z"]));
    const { followed } = await b.audit();
    expect(followed).toMatchObject([
      { data: { lots: { moved: 3, kept_passed: 0 }, tiers: { moved: 3, kept_passed: 0 } } },
    ]);
    // The job's next run finds nothing to do.
    expect(await runFollowJob()).toEqual({ businesses: 0, pages: 0 });
  });

  it("follows a second change made while the first is followed after it, from the zone the first left", async () => {
    const c = await cafe("2026-04-10T09:00:00Z", { policy: "end_of_month", months_after: 0 });
    for (let i = 0; i < 3; i++) await c.buy(1_000);
    const first = await recordOnly(c.owner.businessId, "Europe/Lisbon");
    const page = () => followTimeZonePage(t.database.db, c.owner.businessId, t.clock.now(), 1);
    expect(await page()).toEqual({ change: first, done: false }); // members: none
    expect(await page()).toEqual({ change: first, done: false }); // the first lot
    expect(await c.expiries()).toEqual([
      "2026-04-30T23:00:00.000Z",
      "2026-04-30T22:00:00.000Z",
      "2026-04-30T22:00:00.000Z",
    ]);
    await c.buy(1_000); // on the Lisbon clock
    const second = await recordOnly(c.owner.businessId, "America/New_York");
    expect(second > first).toBe(true);
    await c.buy(1_000); // on the New York clock

    const followed = await followTimeZoneChanges(t.database.db, c.owner.businessId, t.clock);
    expect(followed.pending).toBe(false);

    // Midnight on 1 May in New York, for every lot, each moved by the reading it had.
    expect(await c.expiries()).toEqual(Array(5).fill("2026-05-01T04:00:00.000Z"));
    const records = (await c.audit()).followed.reverse();
    expect(records.map((r) => [r.data.from, r.data.to, r.data.lots?.moved])).toEqual([
      ["Europe/Amsterdam", "Europe/Lisbon", 3],
      ["Europe/Lisbon", "America/New_York", 4],
    ]);
  });

  it("answers while its follow-up waits on a lock, says that it goes on, and the job finishes it", async () => {
    const c = await cafe("2026-04-10T09:00:00Z", { policy: "end_of_month", months_after: 0 });
    await c.buy(1_000);
    const [lot] = await c.lots();
    let answer: Awaited<ReturnType<typeof c.moveTo>> | undefined;
    await t.database.db.transaction().execute(async (tx) => {
      if (engine === "postgres") {
        // A redemption holding the lot: the page waits its lock timeout (5 s), then gives up.
        await tx
          .selectFrom("ledger_lots")
          .select("id")
          .where("business_id", "=", c.owner.businessId)
          .where("id", "=", lot?.id as string)
          .forUpdate()
          .execute();
        answer = await c.moveTo("Europe/Lisbon");
      }
    });
    if (engine === "postgres") {
      expect(answer?.status).toBe(200);
      expect(answer?.body.timezone).toBe("Europe/Lisbon");
      expect(answer?.body.timezone_change).toMatchObject({ done_at: null, lots: NONE });
      expect(await c.expiries()).toEqual(["2026-04-30T22:00:00.000Z"]);
      expect((await c.audit()).followed).toEqual([]);
      await runFollowJob();
    } else {
      // PGlite is one connection: nothing can hold the lot while the request runs.
      answer = await c.moveTo("Europe/Lisbon");
      expect(answer.body.timezone_change).toMatchObject({ lots: { moved: 1, kept_passed: 0 } });
      expect(answer.body.timezone_change.done_at).not.toBeNull();
    }
    expect(await c.expiries()).toEqual(["2026-04-30T23:00:00.000Z"]);
    expect((await c.audit()).followed[0]?.data.lots).toEqual({ moved: 1, kept_passed: 0 });
  });
});

describe("which lots a change of time zone moves", () => {
  it("those whose expiry was reckoned on the old clock, by the zone each lot records, whatever its id says", async () => {
    const c = await cafe("2026-04-10T09:00:00Z", { policy: "end_of_month", months_after: 0 });
    await c.buy(1_000);
    await c.buy(2_000);
    const change = await recordOnly(c.owner.businessId, "Europe/Lisbon");
    await c.buy(3_000);
    const [early, legacy, late] = await c.lots();
    const zones = async () =>
      (
        await t.database.db
          .selectFrom("ledger_lots")
          .select("zone")
          .where("business_id", "=", c.owner.businessId)
          .orderBy("created_at")
          .orderBy("id")
          .execute()
      ).map((l) => l.zone);
    // Each lot records the clock it was earned on.
    expect(await zones()).toEqual(["Europe/Amsterdam", "Europe/Amsterdam", "Europe/Lisbon"]);
    expect(await c.expiries()).toEqual([
      "2026-04-30T22:00:00.000Z",
      "2026-04-30T22:00:00.000Z",
      "2026-04-30T23:00:00.000Z",
    ]);
    expect(early!.id < change && legacy!.id < change && late!.id > change).toBe(true);
    // Two API nodes a few milliseconds apart: one whose clock is behind wrote a lot on the new
    // clock with an id before the change's; one whose clock is ahead, a lot on the old clock with
    // an id after it. And a lot from before lots recorded their zone.
    const set = (id: string, zone: string | null, expires: string) =>
      t.database.db
        .updateTable("ledger_lots")
        .set({ zone, expires_at: new Date(expires) })
        .where("business_id", "=", c.owner.businessId)
        .where("id", "=", id)
        .execute();
    await set(early!.id, "Europe/Lisbon", "2026-04-30T23:00:00Z");
    await set(late!.id, "Europe/Amsterdam", "2026-04-30T22:00:00Z");
    await set(legacy!.id, null, "2026-04-30T22:00:00Z");
    while (await followTimeZonePage(t.database.db, c.owner.businessId, t.clock.now())) {}
    // Every lot ends at midnight in Lisbon, once, and says so.
    expect(await c.expiries()).toEqual([
      "2026-04-30T23:00:00.000Z",
      "2026-04-30T23:00:00.000Z",
      "2026-04-30T23:00:00.000Z",
    ]);
    expect(await zones()).toEqual(["Europe/Lisbon", "Europe/Lisbon", "Europe/Lisbon"]);
    expect((await c.audit()).followed[0]?.data.lots).toEqual({ moved: 2, kept_passed: 0 });
  });
});

describe("the expiry run next to a change of time zone", () => {
  it("does not expire a lot a page has moved later while the run waited for it", async () => {
    const c = await cafe("2026-04-10T09:00:00Z", { policy: "end_of_month", months_after: 0 });
    await c.buy(2_000);
    expect(await c.expiries()).toEqual(["2026-04-30T22:00:00.000Z"]);
    // The page runs a minute before midnight in Amsterdam; the run, ten minutes after it.
    const pageAt = new Date("2026-04-30T21:59:00Z");
    const runAt = new Date("2026-04-30T22:10:00Z");
    const change = {
      from: "Europe/Amsterdam",
      to: "Europe/Lisbon",
      before: newId(runAt.getTime()),
      after: null,
    };
    let run: ReturnType<typeof runExpiry> | undefined;
    await t.database.db.transaction().execute(async (tx) => {
      const page = await rezoneLotsPage(tx, c.owner.businessId, change, pageAt);
      expect(page).toMatchObject({ moved: 1, kept_passed: 0, done: true });
      if (engine === "postgres") {
        // The run reads the lot as due (the move is not committed), then waits for its lock.
        run = runExpiry(t.database.db, runAt, { businessId: c.owner.businessId });
        await blockedOnALock(t.database.db);
      }
    });
    // Once the page commits, the run re-reads the lot: no longer due. (PGlite is one connection:
    // there the run simply goes after the page.)
    const result = await (run ?? runExpiry(t.database.db, runAt, { businessId: c.owner.businessId }));
    expect(result).toEqual({ lots: 0, points: 0 });
    const [lot] = await c.lots();
    expect([lot?.points_remaining, lot?.expires_at?.toISOString()]).toEqual([20, "2026-04-30T23:00:00.000Z"]);
    // It expires at the moved instant.
    const at = new Date("2026-04-30T23:00:00Z");
    expect(await runExpiry(t.database.db, at, { businessId: c.owner.businessId })).toEqual({
      lots: 1,
      points: 20,
    });
  });
});

describe("a purchase or an adjustment priced while the zone changes", () => {
  /**
   * Holds a change of zone open as `PATCH /v1/business` makes it (the program's lock, the change's
   * row, the new zone), runs `during` while it is uncommitted, and then commits it and follows it.
   * On the PostgreSQL server `during` starts a request that reads the old zone and must wait for
   * the change before it writes; PGlite is one connection, where the request goes after the commit.
   */
  async function changeAround<T>(
    c: Awaited<ReturnType<typeof cafe>>,
    to: string,
    during: () => Promise<T>,
  ): Promise<T> {
    const actor: Actor = { businessId: c.owner.businessId, kind: "system", id: "test", role: "owner" };
    let pending: Promise<T> | undefined;
    await t.database.db.transaction().execute(async (tx) => {
      await lockProgram(tx, c.owner.businessId);
      await recordTimeZoneChange(tx, actor, { from: "Europe/Amsterdam", to }, t.clock.now());
      await tx.updateTable("businesses").set({ timezone: to }).where("id", "=", c.owner.businessId).execute();
      if (engine === "postgres") {
        pending = during();
        await blockedOnALock(t.database.db);
      }
    });
    const answer = await (pending ?? during());
    while (await followTimeZonePage(t.database.db, c.owner.businessId, t.clock.now())) {}
    return answer;
  }

  it("a purchase read on the old clock is priced again on the new one: its points expire at midnight Lisbon", async () => {
    const c = await cafe("2026-04-10T09:00:00Z", { policy: "end_of_month", months_after: 0 });
    await c.buy(1_000);
    expect(await c.expiries()).toEqual(["2026-04-30T22:00:00.000Z"]);
    const bought = await changeAround(c, "Europe/Lisbon", () => c.buy(2_000));
    expect(bought.purchase.points_earned).toBe(20);
    // The first lot moved with the change; the second was earned on the new clock.
    expect(await c.expiries()).toEqual(["2026-04-30T23:00:00.000Z", "2026-04-30T23:00:00.000Z"]);
    expect((await c.card()).expiring_soon).toEqual([{ expires_at: "2026-04-30T23:00:00.000Z", points: 30 }]);
  });

  it("an adjustment waits for the change, then reckons its lot's expiry on the new clock", async () => {
    const c = await cafe("2026-04-10T09:00:00Z", { policy: "end_of_month", months_after: 0 });
    const res = await changeAround(c, "Europe/Lisbon", () =>
      c.owner.call("POST", `/v1/members/${c.member}/adjustments`, { points: 50, reason: "a lost card" }),
    );
    expect(res.status).toBe(201);
    expect(await c.expiries()).toEqual(["2026-04-30T23:00:00.000Z"]);
  });
});

describe("the expiry run across a change of time zone", () => {
  it("words each member's expiry on the business's clock as it is when that member's points expire", async () => {
    const c = await cafe("2026-04-10T09:00:00Z", { policy: "end_of_month", months_after: 0 });
    await c.buy(2_000);
    const second = (await ok(c.owner, "POST", "/v1/members", { name: "Bo", marketing_consent: false }))
      .id as string;
    await ok(c.owner, "POST", "/v1/purchases", {
      external_id: `p-${++seq}`,
      member_id: second,
      amount_minor: 1_000,
      currency: "EUR",
    });
    expect(await c.expiries()).toEqual(["2026-04-30T22:00:00.000Z", "2026-04-30T22:00:00.000Z"]);
    const at = new Date("2026-04-30T22:30:00Z");
    const lisbon = () =>
      t.database.db
        .updateTable("businesses")
        .set({ timezone: "Europe/Lisbon" })
        .where("id", "=", c.owner.businessId)
        .execute();
    if (engine === "postgres") {
      // The run expires Anna's points, then waits for Bo (held, as a refund would hold him), and
      // the zone changes meanwhile.
      let run: ReturnType<typeof runExpiry> | undefined;
      await t.database.db.transaction().execute(async (tx) => {
        await tx
          .updateTable("member_state")
          .set({ version: sql<number>`version + 1` })
          .where("business_id", "=", c.owner.businessId)
          .where("member_id", "=", second)
          .execute();
        run = runExpiry(t.database.db, at, { businessId: c.owner.businessId });
        await blockedOnALock(t.database.db);
        await lisbon();
      });
      expect(await run).toEqual({ lots: 2, points: 30 });
    } else {
      // PGlite is one connection: the run goes member by member, the change between two runs.
      expect(
        await expireDue(t.database.db, at, { businessId: c.owner.businessId, maxMembers: 1 }),
      ).toMatchObject({
        lots: 1,
        more: true,
      });
      await lisbon();
      expect(await runExpiry(t.database.db, at, { businessId: c.owner.businessId })).toMatchObject({
        lots: 1,
      });
    }
    const entries = await t.database.db
      .selectFrom("ledger_entries")
      .select(["member_id", "reason_params"])
      .where("business_id", "=", c.owner.businessId)
      .where("kind", "=", "expire")
      .execute();
    const dates = Object.fromEntries(
      entries.map((e) => [e.member_id, (e.reason_params as { date: string }).date]),
    );
    // Midnight in Amsterdam (22:00 UTC) is 1 May there, and still 30 April at 23:00 in Lisbon.
    expect(dates).toEqual({ [c.member]: "2026-05-01", [second]: "2026-04-30" });
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
  const changes = async () =>
    (
      await t.database.db
        .selectFrom("tier_changes")
        .select("reason")
        .where("business_id", "=", owner.businessId)
        .orderBy("id")
        .execute()
    ).map((c) => c.reason);
  return {
    owner,
    tenant,
    silver,
    gold,
    member,
    buy,
    tierOf,
    card,
    moveTo,
    changes,
    audit: () => auditOf(tenant),
  };
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

    const res = await b.moveTo("Europe/Lisbon");
    expect(res.status).toBe(200);
    expect(res.body.timezone_change).toMatchObject({ tiers: { moved: 2, kept_passed: 0 }, lots: NONE });

    // 1 January 2028, midnight in Lisbon; no tier change, and nobody gets a tier.
    expect(await b.tierOf(anna)).toEqual({ tier_id: b.gold, tier_expires_at: "2028-01-01T00:00:00.000Z" });
    expect(await b.tierOf(bram)).toEqual({ tier_id: b.silver, tier_expires_at: "2028-01-01T00:00:00.000Z" });
    expect(await b.tierOf(cleo)).toEqual({ tier_id: null, tier_expires_at: null });
    expect(await b.card(anna)).toMatchObject({
      current: { name: "Gold" },
      expires_at: "2028-01-01T00:00:00.000Z",
    });
    expect(await b.changes()).toEqual(reasons);
    expect((await b.audit()).followed[0]?.data).toMatchObject({
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
    expect((await b.audit()).followed[0]?.data.tiers).toEqual({ moved: 1, kept_passed: 0 });
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
    expect((await b.audit()).followed[0]?.data.tiers).toEqual({ moved: 1, kept_passed: 1 });
    await runTierSweep(t.ctx, t.clock.now());
    expect(await b.tierOf(anna)).toEqual({ tier_id: b.gold, tier_expires_at: "2027-01-01T00:00:00.000Z" });

    // It ends at the end it kept: nothing was spent in 2026.
    t.clock.set(new Date("2027-01-01T00:00:00Z"));
    await runTierSweep(t.ctx, t.clock.now());
    expect(await b.tierOf(anna)).toEqual({ tier_id: null, tier_expires_at: null });
    expect(await b.tierOf(bram)).toEqual({ tier_id: b.gold, tier_expires_at: "2027-12-31T23:00:00.000Z" });
  });
});
