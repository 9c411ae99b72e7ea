import { sql } from "kysely";
import { z } from "zod";
import type { Actor } from "../../context.ts";
import type { Db, Tx } from "../../db/database.ts";
import type { TiersTable } from "../../db/schema.ts";
import { assert, conflict, invalid, notFound } from "../../shared/errors.ts";
import { newId } from "../../shared/ids.ts";
import { decodeKeyCursor, type PageRequest, toPage } from "../../shared/pagination.ts";
import { audit } from "../audit/index.ts";
import { lockProgram } from "../program/index.ts";
import { rezonedRetentionEnds } from "./qualify.ts";

/**
 * Tiers: a ladder of levels (Silver, Gold, …) a member climbs by the program's tier metric. Active
 * tiers have distinct ranks (1 = lowest) and thresholds that increase strictly with rank.
 */

/** Most active tiers a business can have. */
export const MAX_ACTIVE_TIERS = 20;

const Benefits = z.array(z.string());

/** Largest threshold: spend in minor units summed over a period stays well below it. */
export const MAX_TIER_THRESHOLD = 1_000_000_000_000;

const TierFields = {
  name: z.string().trim().min(1).max(60),
  rank: z.int().min(1).max(100).describe("1 = the lowest tier; unique among active tiers"),
  threshold: z
    .int()
    .min(0)
    .max(MAX_TIER_THRESHOLD)
    .describe(
      "What the program's tier metric must reach: minor units of spend, points, or visits. Increases strictly with rank.",
    ),
  earn_multiplier_bp: z
    .int()
    .min(10_000)
    .max(100_000)
    .describe(
      "Multiplies the points a purchase earns (the base rate's and the earning rules'), in basis points: 10000 = ×1, 15000 = ×1.5",
    ),
  benefits: z.array(z.string().trim().min(1).max(120)).max(20).describe("Short lines shown to members"),
};

/** The body that creates a tier. */
export const TierInput = z.strictObject({
  ...TierFields,
  earn_multiplier_bp: TierFields.earn_multiplier_bp.default(10_000),
  benefits: TierFields.benefits.default([]),
});
export type TierInput = z.infer<typeof TierInput>;

/** The body that changes some fields of a tier. */
export const TierPatch = z
  .strictObject(TierFields)
  .partial()
  .refine((p) => Object.keys(p).length > 0, { error: "send at least one field to change" });
export type TierPatch = z.infer<typeof TierPatch>;

/** An active tier as qualification sees it. */
export interface Tier extends TierInput {
  id: string;
  created_at: Date;
}

export interface TierDto extends TierInput {
  id: string;
  archived_at: string | null;
  created_at: string;
  updated_at: string;
}

function toTier(row: TiersTable): Tier {
  return {
    id: row.id,
    name: row.name,
    rank: row.rank,
    threshold: row.threshold,
    earn_multiplier_bp: row.earn_multiplier_bp,
    benefits: Benefits.parse(row.benefits),
    created_at: row.created_at,
  };
}

export function tierDto(row: TiersTable): TierDto {
  return {
    ...toTier(row),
    archived_at: row.archived_at?.toISOString() ?? null,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

/**
 * The business's active tiers, lowest rank first.
 *
 * @example const [lowest, ...higher] = await listActiveTiers(tx, businessId)
 */
export async function listActiveTiers(tx: Db | Tx, businessId: string): Promise<Tier[]> {
  const rows = await tx
    .selectFrom("tiers")
    .selectAll()
    .where("business_id", "=", businessId)
    .where("archived_at", "is", null)
    .orderBy("rank")
    .execute();
  return rows.map(toTier);
}

/** Every tier of the business by rank (archived ones only when asked, after the active one of a rank). */
export async function listTiers(
  db: Db | Tx,
  businessId: string,
  options: { includeArchived?: boolean },
  page: PageRequest,
): Promise<{ data: TierDto[]; next_cursor: string | null }> {
  let query = db.selectFrom("tiers").selectAll().where("business_id", "=", businessId);
  if (!options.includeArchived) query = query.where("archived_at", "is", null);
  const scope = ["tiers", businessId, options.includeArchived ?? false];
  // By rank; within a rank the active tier, then archived ones newest first: the key as a tuple,
  // from the cursor's own values (a tier re-ranked or archived between two pages moves alone).
  const after = decodeKeyCursor(page.cursor, scope, ["number", "boolean", "number", "uuid"]);
  if (after !== undefined) {
    const [rank, archived, archivedKey, id] = after;
    query = query.where(
      sql<boolean>`(rank, archived_at is not null, coalesce(-extract(epoch from archived_at), 0), id) >
        (${rank}::int, ${archived}::boolean, ${archivedKey}::numeric, ${id}::uuid)`,
    );
  }
  const rows = await query
    .orderBy("rank")
    .orderBy(sql`archived_at is not null`)
    .orderBy(sql`coalesce(-extract(epoch from archived_at), 0)`)
    .orderBy("id")
    .limit(page.limit + 1)
    .execute();
  return toPage(rows, page.limit, tierDto, scope, (row) => [
    row.rank,
    row.archived_at !== null,
    row.archived_at === null ? 0 : -row.archived_at.getTime() / 1000,
    row.id,
  ]);
}

async function findRow(db: Db | Tx, businessId: string, id: string): Promise<TiersTable> {
  const row = await db
    .selectFrom("tiers")
    .selectAll()
    .where("business_id", "=", businessId)
    .where("id", "=", id)
    .executeTakeFirst();
  if (!row) throw notFound("tier", id);
  return row;
}

/** One tier of the business (archived too), or 404 `tier_not_found`. */
export async function getTier(db: Db | Tx, businessId: string, id: string): Promise<TierDto> {
  return tierDto(await findRow(db, businessId, id));
}

/** Refuses a ladder whose ranks repeat (409) or whose thresholds do not increase with rank (422). */
function assertLadder(tiers: Pick<Tier, "name" | "rank" | "threshold">[], changed: TierInput): void {
  if (tiers.filter((t) => t.rank === changed.rank).length > 1) {
    throw conflict("tier_rank_taken", `Rank ${changed.rank} is taken by another active tier.`, {
      rank: changed.rank,
    });
  }
  const sorted = [...tiers].sort((a, b) => a.rank - b.rank);
  for (let i = 1; i < sorted.length; i++) {
    const lower = sorted[i - 1];
    const higher = sorted[i];
    if (lower && higher && lower.threshold >= higher.threshold) {
      throw invalid(
        "tier_thresholds_not_increasing",
        `Thresholds must increase with rank: "${higher.name}" (rank ${higher.rank}) needs a threshold above ${lower.threshold}, the threshold of "${lower.name}" (rank ${lower.rank}).`,
        {
          lower: { rank: lower.rank, threshold: lower.threshold },
          higher: { rank: higher.rank, threshold: higher.threshold },
        },
      );
    }
  }
}

/**
 * Adds a tier to the ladder, audited, inside the caller's transaction (the route's, which also
 * keeps its idempotency key; a program template's, which creates several things at once).
 *
 * @example await createTierInTx(tx, actor, { name: "Gold", rank: 2, threshold: 50_000, earn_multiplier_bp: 15_000, benefits: [] }, now)
 */
export async function createTierInTx(tx: Tx, actor: Actor, input: TierInput, now: Date): Promise<TierDto> {
  await lockProgram(tx, actor.businessId);
  const active = await listActiveTiers(tx, actor.businessId);
  if (active.length >= MAX_ACTIVE_TIERS) {
    throw conflict(
      "tier_limit_reached",
      `A business can have at most ${MAX_ACTIVE_TIERS} active tiers; archive one first.`,
    );
  }
  const id = newId(now.getTime());
  assertLadder([...active, input], input);
  const row: TiersTable = {
    business_id: actor.businessId,
    id,
    ...input,
    archived_at: null,
    created_at: now,
    updated_at: now,
  };
  await tx
    .insertInto("tiers")
    .values({ ...row, benefits: JSON.stringify(input.benefits) })
    .execute();
  await audit(tx, actor, now, {
    action: "tier.created",
    targetType: "tier",
    targetId: id,
    data: { ...input },
  });
  return tierDto(row);
}

/**
 * Changes some fields of an active tier, audited. Members keep their tier until qualification
 * runs again.
 *
 * @example await updateTier(db, actor, tierId, { threshold: 60_000 }, now)
 */
export async function updateTier(
  db: Db,
  actor: Actor,
  id: string,
  patch: TierPatch,
  now: Date,
): Promise<TierDto> {
  return db.transaction().execute(async (tx) => {
    await lockProgram(tx, actor.businessId);
    const current = await findRow(tx, actor.businessId, id);
    if (current.archived_at) throw conflict("tier_archived", `Tier ${id} is archived and cannot change.`);
    const merged: TierInput = { ...toTier(current), ...patch };
    const others = (await listActiveTiers(tx, actor.businessId)).filter((t) => t.id !== id);
    assertLadder([...others, merged], merged);
    const { benefits, ...fields } = patch;
    const row = await tx
      .updateTable("tiers")
      .set({
        ...fields,
        ...(benefits === undefined ? {} : { benefits: JSON.stringify(benefits) }),
        updated_at: now,
      })
      .where("business_id", "=", actor.businessId)
      .where("id", "=", id)
      .returningAll()
      .executeTakeFirstOrThrow();
    await audit(tx, actor, now, {
      action: "tier.updated",
      targetType: "tier",
      targetId: id,
      data: { ...patch },
    });
    return tierDto(row);
  });
}

/**
 * Archives a tier nobody is in (409 `tier_in_use` otherwise, with the tier's `name` and its
 * `members` count in the details). Archiving an archived tier changes nothing.
 *
 * @example await archiveTier(db, actor, tierId, now)
 */
export async function archiveTier(db: Db, actor: Actor, id: string, now: Date): Promise<TierDto> {
  return db.transaction().execute(async (tx) => {
    await lockProgram(tx, actor.businessId);
    const current = await findRow(tx, actor.businessId, id);
    if (current.archived_at) return tierDto(current);
    // Members hold their current tier as a reference; a tier must be emptied before it goes.
    const { count } = await tx
      .selectFrom("members")
      .select((eb) => eb.fn.countAll<number>().as("count"))
      .where("business_id", "=", actor.businessId)
      .where("tier_id", "=", id)
      .executeTakeFirstOrThrow();
    if (Number(count) > 0) {
      throw conflict(
        "tier_in_use",
        `${count} member(s) are in tier "${current.name}"; it can be archived once nobody is in it.`,
        { name: current.name, members: Number(count) },
      );
    }
    const row = await tx
      .updateTable("tiers")
      .set({ archived_at: now, updated_at: now })
      .where("business_id", "=", actor.businessId)
      .where("id", "=", id)
      .returningAll()
      .executeTakeFirstOrThrow();
    await audit(tx, actor, now, { action: "tier.archived", targetType: "tier", targetId: id });
    return tierDto(row);
  });
}

/** What one page of `rezoneTierEndsPage` did, and where the next one starts. */
export interface RezonedTierEndsPage {
  /** Members whose calendar-year tier now lasts until the start of that year on the new clock. */
  moved: number;
  /** Members whose end on the new clock would already have passed: they keep theirs, still ahead. */
  kept_passed: number;
  /** Where the next page starts: after this member among those with this end; null when done. */
  next: { end: Date; after: string | null } | null;
}

/**
 * One page of a change of the business's time zone for its members' tiers, in the caller's
 * transaction: the next `pageSize` members who hold a tier until the first instant of a year on
 * the old clock (next year's or the year after's, still ahead at `now`: `rezonedRetentionEnds`),
 * by that end and then id, starting at `cursor` (null: at the first end). Each moves to the first
 * instant of that year on the new clock, unless that has passed (a move east in the last hour of
 * a year): then the member keeps theirs, still ahead, so no zone change ends a tier on the spot.
 *
 * Only calendar-year ends move, and they are told by their instant: an end at the start of a year
 * on the old clock is a calendar year's (a program that has gone rolling since leaves members the
 * end they had). A rolling tier's end (12 months after the tier was reached, to the millisecond)
 * stays; so does one written since the change, on the new clock: the start of a year there is no
 * start of a year on the old one, so a page that runs minutes after the change, or again after a
 * crash, can never move an end twice. An end already past stays too: the sweep or the member's
 * next use re-evaluates it. No tier change is recorded: the member holds the same tier.
 *
 * A page reads members along the index on `(tier_expires_at, business_id, id)`, an end after the
 * other while it has room, and locks them by id, then writes them with one update per end.
 *
 * @example await rezoneTierEndsPage(tx, businessId, { from: "Europe/Amsterdam", to: "Europe/Lisbon" }, null, now) // { moved: 40, kept_passed: 0, next: null }
 */
export async function rezoneTierEndsPage(
  tx: Tx,
  businessId: string,
  zones: { from: string; to: string },
  cursor: { end: Date; after: string | null } | null,
  now: Date,
  pageSize = 500,
): Promise<RezonedTierEndsPage> {
  assert(Number.isInteger(pageSize) && pageSize > 0 && pageSize <= 5000, "a page holds 1 to 5000 members");
  const ends = zones.from === zones.to ? [] : rezonedRetentionEnds(zones.from, zones.to, now);
  const done: RezonedTierEndsPage = { moved: 0, kept_passed: 0, next: null };
  // The end the cursor is at, or the first after it (one that has passed since is gone from the list).
  const first = cursor ? ends.findIndex((e) => e.was.getTime() >= cursor.end.getTime()) : 0;
  if (first < 0) return done;
  let after = cursor && ends[first]?.was.getTime() === cursor.end.getTime() ? cursor.after : null;
  let room = pageSize;
  for (const end of ends.slice(first)) {
    let page = tx
      .selectFrom("members")
      .select("id")
      .where("tier_expires_at", "=", end.was)
      .where("business_id", "=", businessId)
      .where("tier_id", "is not", null)
      .orderBy("id")
      .limit(room);
    if (after !== null) page = page.where("id", ">", after);
    const ids = (await page.execute()).map((m) => m.id);
    if (end.outcome === "passed") done.kept_passed += ids.length;
    else if (ids.length > 0) done.moved += await moveTierEnds(tx, businessId, ids, end, now);
    const last = ids.at(-1);
    if (last !== undefined && ids.length === room) return { ...done, next: { end: end.was, after: last } };
    room -= ids.length;
    after = null;
  }
  return done;
}

/** Moves the end of the members `ids` that still hold a tier until `end.was`, under their locks. */
async function moveTierEnds(
  tx: Tx,
  businessId: string,
  ids: readonly string[],
  end: { was: Date; next: Date },
  now: Date,
): Promise<number> {
  // Under the lock, each member as they are now: a purchase or the sweep may have moved the end.
  const held = await tx
    .selectFrom("members")
    .select("id")
    .where("business_id", "=", businessId)
    .where("id", "in", ids)
    .where("tier_id", "is not", null)
    .where("tier_expires_at", "=", end.was)
    .orderBy("id")
    .forNoKeyUpdate()
    .execute();
  if (held.length === 0) return 0;
  await tx
    .updateTable("members")
    .set({ tier_expires_at: end.next, updated_at: now })
    .where("business_id", "=", businessId)
    .where(
      "id",
      "in",
      held.map((m) => m.id),
    )
    .execute();
  return held.length;
}
