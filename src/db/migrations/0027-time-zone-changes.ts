import { type Kysely, sql } from "kysely";

/**
 * A change of a business's time zone is recorded, and followed page by page: `business_rezones`
 * holds one row per change (`PATCH /v1/business {timezone}`), written in the change's own
 * transaction, and the work still to do for it. Each page of lots or members that moves to the new
 * clock is a short transaction of its own, which advances the row's cursors with the page, so a
 * follow-up cut short (a crash, a restart, a lock that timed out) goes on exactly where it stopped;
 * the scheduled job `timezone-follow` finishes what a request did not.
 *
 * - `id` orders a business's changes (one is followed after the other) and bounds the lots of the
 *   change: a lot with a smaller id was earned before it, on the old clock.
 * - `tiers_end`, `tiers_after`: where the members' pages have got to (the calendar-year end being
 *   walked, and the last member done with it); `tiers_done` once they are all done.
 * - `lots_after`: the last lot done; the lots follow the members.
 * - The counts say what moved and what kept its end because the new one had passed; `done_at`, when
 *   the last page was done (null while the change is followed).
 *
 * Keyed by business first, like every table but `businesses` (Citus: distributed by business).
 * New and empty, so quick on any database.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create table business_rezones (
    business_id uuid not null references businesses(id),
    id uuid not null,
    from_tz text not null,
    to_tz text not null,
    requested_at timestamptz not null,
    actor text not null,
    tiers_end timestamptz,
    tiers_after uuid,
    tiers_done boolean not null default false,
    lots_after uuid,
    tiers_moved integer not null default 0,
    tiers_kept_passed integer not null default 0,
    lots_moved integer not null default 0,
    lots_kept_passed integer not null default 0,
    done_at timestamptz,
    primary key (business_id, id)
  )`.execute(db);
  await sql`create index business_rezones_pending_idx on business_rezones (business_id, id)
    where done_at is null`.execute(db);
}
