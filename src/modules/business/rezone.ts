import { type Selectable, sql } from "kysely";
import { type Actor, actorLabel } from "../../context.ts";
import type { Db, Tx } from "../../db/database.ts";
import type { BusinessRezonesTable } from "../../db/schema.ts";
import { limitWaits, type StopWhen } from "../../jobs/limits.ts";
import type { Clock } from "../../shared/clock.ts";
import { assert } from "../../shared/errors.ts";
import { newId } from "../../shared/ids.ts";
import { audit } from "../audit/index.ts";
import { rezoneLotsPage } from "../ledger/index.ts";
import { rezoneTierEndsPage } from "../tiers/index.ts";

/**
 * A change of a business's time zone, followed page by page (docs/api.md, "Changing the time
 * zone"). The change itself (`PATCH /v1/business {timezone}`) is one short transaction: the new
 * zone, its audit record (`business.timezone_changed`), and a row in `business_rezones` that says
 * what is left to move. Then members' calendar-year tier ends and open lots' expiries move to the
 * same date and time on the new clock, a page at a time (`followTimeZonePage`), each page a short
 * transaction of its own that also advances the row's cursors, so the follow-up goes on exactly
 * where it stopped after a crash. The request runs the pages right after its commit
 * (`followTimeZoneChanges`, for a while); the scheduled job `timezone-follow` finishes any change a
 * request did not (`followPendingTimeZones`). The last page records what moved
 * (`business.timezone_followed`).
 *
 * A business's changes are followed one after the other, in the order they were made: a second
 * change while the first is followed (Amsterdam to Lisbon, then to New York) waits, and then
 * moves from Lisbon to New York what the first moved to Lisbon, and what was earned on the Lisbon
 * clock meanwhile. Each page locks the business's pending changes first, so two followers (a
 * request and the job) take turns, page by page.
 */

/** How many lots or members one page moves. */
export const REZONE_PAGE_SIZE = 500;

/** How long a `PATCH /v1/business` follows its change before it answers (the job does the rest). */
export const FOLLOW_IN_REQUEST_MS = 10_000;

/** A change of time zone and how far its follow-up has got, as `PATCH /v1/business` answers it. */
export interface TimeZoneChangeDto {
  from: string;
  to: string;
  requested_at: string;
  /** When the last lot moved; null while lots and tier ends are still being moved. */
  done_at: string | null;
  lots: { moved: number; kept_passed: number };
  tiers: { moved: number; kept_passed: number };
}

function changeDto(row: Selectable<BusinessRezonesTable>): TimeZoneChangeDto {
  return {
    from: row.from_tz,
    to: row.to_tz,
    requested_at: row.requested_at.toISOString(),
    done_at: row.done_at?.toISOString() ?? null,
    lots: { moved: row.lots_moved, kept_passed: row.lots_kept_passed },
    tiers: { moved: row.tiers_moved, kept_passed: row.tiers_kept_passed },
  };
}

/**
 * Records a change of the business's zone from `from` to `to`, in the change's transaction, which
 * holds the program's lock and has read `from` under it: the row its follow-up works from, and the
 * audit record `business.timezone_changed` (`{from, to}`). Returns the change's id, made here, at
 * the end of the change. Each lot says the zone its expiry was reckoned on (`ledger_lots.zone`),
 * and the follow-up moves those on the old one; a lot from before lots said so is told by its id
 * (ids grow with time: one smaller than the change's was earned before it).
 *
 * @example const id = await recordTimeZoneChange(tx, actor, { from: "Europe/Amsterdam", to: "Europe/Lisbon" }, now)
 */
export async function recordTimeZoneChange(
  tx: Tx,
  actor: Actor,
  zones: { from: string; to: string },
  now: Date,
): Promise<string> {
  await audit(tx, actor, now, {
    action: "business.timezone_changed",
    targetType: "business",
    targetId: actor.businessId,
    data: { from: zones.from, to: zones.to },
  });
  const id = newId(now.getTime());
  await tx
    .insertInto("business_rezones")
    .values({
      business_id: actor.businessId,
      id,
      from_tz: zones.from,
      to_tz: zones.to,
      requested_at: now,
      actor: actorLabel(actor),
      tiers_end: null,
      tiers_after: null,
      lots_after: null,
      done_at: null,
    })
    .execute();
  return id;
}

/** The change `id` of the business and how far it has got. */
export async function timeZoneChange(db: Db, businessId: string, id: string): Promise<TimeZoneChangeDto> {
  const row = await db
    .selectFrom("business_rezones")
    .selectAll()
    .where("business_id", "=", businessId)
    .where("id", "=", id)
    .executeTakeFirstOrThrow();
  return changeDto(row);
}

/** What one page did: which change it worked on, and whether that change is now done. */
export interface FollowedPage {
  change: string;
  done: boolean;
}

/**
 * One page of the business's oldest pending change of time zone, in a transaction of its own
 * whose waits are bounded (`limitWaits`): the next `pageSize` members whose calendar-year tier
 * end moves (`rezoneTierEndsPage`), or, once they are all done, the next `pageSize` open lots
 * (`rezoneLotsPage`); with the cursors and counts advanced in the same transaction. The page that
 * finds no lot left marks the change done and records `business.timezone_followed`
 * (`{from, to, requested_at, lots: {moved, kept_passed}, tiers: {moved, kept_passed}}`). Null
 * when the business has no pending change.
 *
 * It takes the business's pending changes first (`for update`, in their order), so two followers
 * take turns; the page's lots and members after that. Nothing else takes those rows, and the
 * change's own transaction only adds one, so this first lock never waits long.
 *
 * @example await followTimeZonePage(db, businessId, clock.now()) // { change: "0193…", done: false }
 */
export async function followTimeZonePage(
  db: Db,
  businessId: string,
  now: Date,
  pageSize = REZONE_PAGE_SIZE,
): Promise<FollowedPage | null> {
  return db.transaction().execute(async (tx) => {
    await limitWaits(tx);
    const [change] = await tx
      .selectFrom("business_rezones")
      .selectAll()
      .where("business_id", "=", businessId)
      .where("done_at", "is", null)
      .orderBy("id")
      .forUpdate()
      .execute();
    if (!change) return null;
    const zones = { from: change.from_tz, to: change.to_tz };
    const row = tx
      .updateTable("business_rezones")
      .where("business_id", "=", businessId)
      .where("id", "=", change.id);
    if (!change.tiers_done) {
      const cursor = change.tiers_end ? { end: change.tiers_end, after: change.tiers_after } : null;
      const page = await rezoneTierEndsPage(tx, businessId, zones, cursor, now, pageSize);
      assert(
        page.next === null ||
          cursor === null ||
          page.next.end > cursor.end ||
          (page.next.after !== null && (cursor.after === null || page.next.after > cursor.after)),
        "a page of tier ends moves the cursor on",
      );
      await row
        .set((eb) => ({
          tiers_end: page.next?.end ?? null,
          tiers_after: page.next?.after ?? null,
          tiers_done: page.next === null,
          tiers_moved: eb("tiers_moved", "+", page.moved),
          tiers_kept_passed: eb("tiers_kept_passed", "+", page.kept_passed),
        }))
        .execute();
      return { change: change.id, done: false };
    }
    const page = await rezoneLotsPage(
      tx,
      businessId,
      { ...zones, before: change.id, after: change.lots_after },
      now,
      pageSize,
    );
    assert(page.done || page.last !== null, "a page of lots that is not the last moves the cursor on");
    const counts = await row
      .set((eb) => ({
        lots_after: page.last ?? change.lots_after,
        lots_moved: eb("lots_moved", "+", page.moved),
        lots_kept_passed: eb("lots_kept_passed", "+", page.kept_passed),
        ...(page.done ? { done_at: now } : {}),
      }))
      .returning(["tiers_moved", "tiers_kept_passed", "lots_moved", "lots_kept_passed"])
      .executeTakeFirstOrThrow();
    if (page.done) {
      // The follow-up is the system's work, whoever asked for the change (`change.actor`).
      const system: Actor = { businessId, kind: "system", id: "timezone", role: "owner" };
      await audit(tx, system, now, {
        action: "business.timezone_followed",
        targetType: "business",
        targetId: businessId,
        data: {
          from: change.from_tz,
          to: change.to_tz,
          requested_at: change.requested_at.toISOString(),
          lots: { moved: counts.lots_moved, kept_passed: counts.lots_kept_passed },
          tiers: { moved: counts.tiers_moved, kept_passed: counts.tiers_kept_passed },
        },
      });
    }
    return { change: change.id, done: page.done };
  });
}

/**
 * Follows the business's pending changes of time zone, page after page, until none is left or
 * `stop` says so (asked before each page); each page at the clock's time. `pending`: a change is
 * left to follow (stopped, or another follower holds the last one). A page that fails throws:
 * what the pages before it did stays done, and the next follower goes on from there.
 *
 * @example await followTimeZoneChanges(db, businessId, clock, { stop: () => Date.now() > deadline }) // { pages: 3, pending: false }
 */
export async function followTimeZoneChanges(
  db: Db,
  businessId: string,
  clock: Clock,
  options: { stop?: StopWhen; pageSize?: number } = {},
): Promise<{ pages: number; pending: boolean }> {
  let pages = 0;
  while (!options.stop?.()) {
    const page = await followTimeZonePage(db, businessId, clock.now(), options.pageSize);
    if (!page) return { pages, pending: false };
    pages++;
  }
  return { pages, pending: await hasPendingChange(db, businessId) };
}

async function hasPendingChange(db: Db, businessId: string): Promise<boolean> {
  const row = await db
    .selectFrom("business_rezones")
    .select("id")
    .where("business_id", "=", businessId)
    .where("done_at", "is", null)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

/** What one run of `followPendingTimeZones` did. */
export interface TimeZoneFollowRun {
  /** Businesses whose pending changes it finished. */
  businesses: number;
  pages: number;
  /** Businesses whose page failed: their change stays pending, for the next run. */
  failures: { business: string; error: unknown }[];
  /** It stopped (`stop`) with changes left. */
  more: boolean;
}

/**
 * Finishes every business's pending changes of time zone (the scheduled job `timezone-follow`):
 * those whose request was cut short (a crash, a restart, a page that failed, a request that
 * answered before the end). One business after the other, page by page (`followTimeZoneChanges`);
 * a business whose page fails costs no other its turn. `stop` is asked before each page.
 *
 * @example await followPendingTimeZones(db, clock) // { businesses: 1, pages: 12, failures: [], more: false }
 */
export async function followPendingTimeZones(
  db: Db,
  clock: Clock,
  options: { stop?: StopWhen; pageSize?: number } = {},
): Promise<TimeZoneFollowRun> {
  const run: TimeZoneFollowRun = { businesses: 0, pages: 0, failures: [], more: false };
  // A few rows at most: changes of time zone are rare, and a done one is left out by the index.
  const pending = await db
    .selectFrom("business_rezones")
    .select("business_id")
    .where("done_at", "is", null)
    .groupBy("business_id")
    .orderBy("business_id")
    .execute();
  for (const { business_id: businessId } of pending) {
    try {
      const followed = await followTimeZoneChanges(db, businessId, clock, options);
      run.pages += followed.pages;
      if (!followed.pending) run.businesses++;
    } catch (error) {
      run.failures.push({ business: businessId, error });
    }
    if (options.stop?.()) {
      run.more = await hasPendingAnywhere(db);
      return run;
    }
  }
  return run;
}

async function hasPendingAnywhere(db: Db): Promise<boolean> {
  const { rows } = await sql<{ pending: boolean }>`select exists (
    select from business_rezones where done_at is null) as pending`.execute(db);
  return rows[0]?.pending ?? false;
}
