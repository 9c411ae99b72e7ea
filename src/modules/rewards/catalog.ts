import type { Actor } from "../../context.ts";
import type { Db, Tx } from "../../db/database.ts";
import type { RewardsTable } from "../../db/schema.ts";
import { AppError, conflict, invalid, notFound } from "../../shared/errors.ts";
import { newId } from "../../shared/ids.ts";
import { decodeCursor, toPage } from "../../shared/pagination.ts";
import { audit } from "../audit/index.ts";
import { lockProgram } from "../program/index.ts";
import { listActiveStampCards } from "../stamps/index.ts";
import { listActiveTiers } from "../tiers/index.ts";
import {
  type RewardInput,
  type RewardPatch,
  type RewardType,
  type RewardValue,
  RewardValues,
} from "./schema.ts";

/** Most rewards (not archived) a business can offer at once. */
export const MAX_ACTIVE_REWARDS = 500;

export interface RewardDto {
  id: string;
  name: string;
  description: string | null;
  type: RewardType;
  value: RewardValue;
  cost_points: number | null;
  stamp_card_id: string | null;
  eligible_tier_ids: string[];
  stock: number | null;
  per_member_limit: number | null;
  valid_from: string | null;
  valid_until: string | null;
  voucher_valid_days: number;
  active: boolean;
  archived_at: string | null;
  created_at: string;
  updated_at: string;
}

const iso = (date: Date | null) => date?.toISOString() ?? null;

export function rewardDto(row: RewardsTable): RewardDto {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    type: row.type,
    value: row.value as RewardValue,
    cost_points: row.cost_points,
    stamp_card_id: row.stamp_card_id,
    eligible_tier_ids: row.eligible_tier_ids as string[],
    stock: row.stock,
    per_member_limit: row.per_member_limit,
    valid_from: iso(row.valid_from),
    valid_until: iso(row.valid_until),
    voucher_valid_days: row.voucher_valid_days,
    active: row.active,
    archived_at: iso(row.archived_at),
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

/** The reward row, or 404 `reward_not_found` (also for another business's reward). */
export async function getRewardRow(db: Db | Tx, businessId: string, id: string): Promise<RewardsTable> {
  const row = await db
    .selectFrom("rewards")
    .selectAll()
    .where("business_id", "=", businessId)
    .where("id", "=", id)
    .executeTakeFirst();
  if (!row) throw notFound("reward", id);
  return row;
}

/**
 * One reward of the business, archived ones too.
 *
 * @example const reward = await getReward(db, actor.businessId, rewardId)
 */
export async function getReward(db: Db | Tx, businessId: string, id: string): Promise<RewardDto> {
  return rewardDto(await getRewardRow(db, businessId, id));
}

/**
 * The business's rewards, newest first, a page at a time; archived ones only when asked.
 *
 * @example await listRewards(db, actor.businessId, { limit: 50 })
 */
export async function listRewards(
  db: Db,
  businessId: string,
  query: { limit: number; cursor?: string | undefined; include_archived?: boolean | undefined },
): Promise<{ data: RewardDto[]; next_cursor: string | null }> {
  const scope = ["rewards", businessId, query.include_archived ?? false];
  const before = decodeCursor(query.cursor, scope);
  let q = db.selectFrom("rewards").selectAll().where("business_id", "=", businessId);
  if (!query.include_archived) q = q.where("archived_at", "is", null);
  if (before) q = q.where("id", "<", before);
  const rows = await q
    .orderBy("id", "desc")
    .limit(query.limit + 1)
    .execute();
  return toPage(rows, query.limit, rewardDto, scope);
}

type Terms = Pick<
  RewardsTable,
  "cost_points" | "stamp_card_id" | "valid_from" | "valid_until" | "eligible_tier_ids"
>;

/**
 * Checks what the schema cannot: one way to pay, known cards and tiers, a sensible date range.
 * References are checked when they are set, so a later archived card or tier does not block
 * unrelated changes.
 */
async function checkTerms(
  tx: Tx,
  businessId: string,
  terms: Terms,
  set: { card: boolean; tiers: boolean },
): Promise<void> {
  if ((terms.cost_points === null) === (terms.stamp_card_id === null)) {
    throw invalid("invalid_cost", "Set exactly one of cost_points and stamp_card_id.");
  }
  if (terms.valid_from && terms.valid_until && terms.valid_from >= terms.valid_until) {
    throw invalid("invalid_date_range", "valid_from must be before valid_until.");
  }
  if (set.card && terms.stamp_card_id !== null) {
    const cards = await listActiveStampCards(tx, businessId);
    if (!cards.some((c) => c.id === terms.stamp_card_id)) {
      throw invalid(
        "stamp_card_not_found",
        `No active stamp card with id ${terms.stamp_card_id} in this business.`,
      );
    }
  }
  const tierIds = terms.eligible_tier_ids as string[];
  if (set.tiers && tierIds.length > 0) {
    const active = new Set((await listActiveTiers(tx, businessId)).map((t) => t.id));
    const missing = tierIds.find((id) => !active.has(id));
    if (missing) throw invalid("tier_not_found", `No active tier with id ${missing} in this business.`);
  }
}

const toDate = (value: string | null) => (value === null ? null : new Date(value));

/**
 * Refuses dates that have already passed when they are sent (422, changing nothing): a reward
 * whose `valid_until` is gone could never be redeemed, and an experience whose `starts_at` is gone
 * (a workshop that already took place) offers nothing. Only what a request sets is checked, so a
 * reward that has since ended can still be renamed, extended or archived.
 */
function checkNotPast(sent: { valid_until?: Date | null; starts_at?: string | undefined }, now: Date): void {
  if (sent.valid_until && sent.valid_until <= now) {
    throw invalid(
      "valid_until_in_past",
      `valid_until (${sent.valid_until.toISOString()}) has already passed: no member could ever redeem the reward. Send a later end, or null for none.`,
      { valid_until: sent.valid_until.toISOString(), now: now.toISOString() },
    );
  }
  if (sent.starts_at !== undefined && new Date(sent.starts_at) <= now) {
    throw invalid(
      "starts_at_in_past",
      `The experience's value.starts_at (${sent.starts_at}) has already passed: it cannot be offered any more. Send a later start, or leave starts_at out.`,
      { starts_at: new Date(sent.starts_at).toISOString(), now: now.toISOString() },
    );
  }
}

const sameTime = (a: string, b: string | undefined) => b !== undefined && Date.parse(a) === Date.parse(b);

/** The start of an experience, from a reward's value; undefined for other types or none set. */
function startsAt(type: RewardType, value: unknown): string | undefined {
  if (type !== "experience" || typeof value !== "object" || value === null) return undefined;
  const at = (value as { starts_at?: unknown }).starts_at;
  return typeof at === "string" ? at : undefined;
}

/**
 * Adds a reward to the catalog, audited.
 *
 * @example await createReward(db, actor, { type: "free_product", value: { product_name: "Latte" }, name: "Free latte", cost_points: 100, ... }, now)
 */
export async function createReward(db: Db, actor: Actor, input: RewardInput, now: Date): Promise<RewardDto> {
  return db.transaction().execute((tx) => createRewardInTx(tx, actor, input, now));
}

/** Like `createReward`, inside the caller's transaction (a program template creates several things at once). */
export async function createRewardInTx(
  tx: Tx,
  actor: Actor,
  input: RewardInput,
  now: Date,
): Promise<RewardDto> {
  const row: RewardsTable = {
    business_id: actor.businessId,
    id: newId(now.getTime()),
    name: input.name,
    description: input.description,
    type: input.type,
    value: input.value,
    cost_points: input.cost_points,
    stamp_card_id: input.stamp_card_id,
    eligible_tier_ids: [...new Set(input.eligible_tier_ids)],
    stock: input.stock,
    per_member_limit: input.per_member_limit,
    valid_from: toDate(input.valid_from),
    valid_until: toDate(input.valid_until),
    voucher_valid_days: input.voucher_valid_days,
    active: input.active,
    archived_at: null,
    created_at: now,
    updated_at: now,
  };
  await lockProgram(tx, actor.businessId);
  await checkTerms(tx, actor.businessId, row, { card: true, tiers: true });
  checkNotPast({ valid_until: row.valid_until, starts_at: startsAt(input.type, input.value) }, now);
  const { count } = await tx
    .selectFrom("rewards")
    .select((eb) => eb.fn.countAll<number>().as("count"))
    .where("business_id", "=", actor.businessId)
    .where("archived_at", "is", null)
    .executeTakeFirstOrThrow();
  if (Number(count) >= MAX_ACTIVE_REWARDS) {
    throw conflict(
      "reward_catalog_full",
      `A business can offer at most ${MAX_ACTIVE_REWARDS} rewards at once; archive one first.`,
    );
  }
  await tx
    .insertInto("rewards")
    .values({
      ...row,
      value: JSON.stringify(row.value),
      eligible_tier_ids: JSON.stringify(row.eligible_tier_ids),
    })
    .execute();
  await audit(tx, actor, now, {
    action: "reward.created",
    targetType: "reward",
    targetId: row.id,
    data: { ...input },
  });
  return rewardDto(row);
}

/** A value that does not fit the type fails like any other invalid body field. */
function parseValue(type: RewardType, value: unknown): RewardValue {
  const parsed = RewardValues[type].safeParse(value);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((i) => ({
    in: "body",
    path: ["value", ...i.path].join("."),
    message: i.message,
  }));
  throw new AppError(
    400,
    "validation_failed",
    `Invalid body at "value": it does not fit a ${type} reward (${issues[0]?.message ?? "invalid"}).`,
    { issues },
  );
}

/**
 * Changes some fields of a reward that is not archived, audited. Vouchers already issued keep
 * what they promised.
 *
 * @example await updateReward(db, actor, rewardId, { stock: 10 }, now)
 */
export async function updateReward(
  db: Db,
  actor: Actor,
  id: string,
  patch: RewardPatch,
  now: Date,
): Promise<RewardDto> {
  return db.transaction().execute(async (tx) => {
    const current = await tx
      .selectFrom("rewards")
      .selectAll()
      .where("business_id", "=", actor.businessId)
      .where("id", "=", id)
      .forUpdate()
      .executeTakeFirst();
    if (!current) throw notFound("reward", id);
    if (current.archived_at) throw conflict("reward_archived", `Reward ${id} is archived and cannot change.`);
    const type = patch.type ?? current.type;
    const value = patch.value === undefined ? current.value : parseValue(type, patch.value);
    const { valid_from, valid_until, eligible_tier_ids, ...fields } = patch;
    const { business_id: _b, id: _i, created_at: _c, ...kept } = current;
    const next = {
      ...kept,
      ...fields,
      type,
      value,
      eligible_tier_ids: eligible_tier_ids ? [...new Set(eligible_tier_ids)] : current.eligible_tier_ids,
      valid_from: valid_from === undefined ? current.valid_from : toDate(valid_from),
      valid_until: valid_until === undefined ? current.valid_until : toDate(valid_until),
      updated_at: now,
    };
    await checkTerms(tx, actor.businessId, next, {
      card: patch.stamp_card_id !== undefined,
      tiers: eligible_tier_ids !== undefined,
    });
    // A date sent again as it is stored is no new mistake (a form sends back what it shows).
    const start = startsAt(next.type, next.value);
    checkNotPast(
      {
        valid_until: next.valid_until?.getTime() === current.valid_until?.getTime() ? null : next.valid_until,
        starts_at:
          start === undefined || sameTime(start, startsAt(current.type, current.value)) ? undefined : start,
      },
      now,
    );
    const row = await tx
      .updateTable("rewards")
      .set({
        ...next,
        value: JSON.stringify(next.value),
        eligible_tier_ids: JSON.stringify(next.eligible_tier_ids),
      })
      .where("business_id", "=", actor.businessId)
      .where("id", "=", id)
      .returningAll()
      .executeTakeFirstOrThrow();
    await audit(tx, actor, now, {
      action: "reward.updated",
      targetType: "reward",
      targetId: id,
      data: { ...patch },
    });
    return rewardDto(row);
  });
}

/**
 * Archives a reward: it can no longer be redeemed, while vouchers already issued stay valid.
 * Archiving an archived reward changes nothing.
 *
 * @example await archiveReward(db, actor, rewardId, now)
 */
export async function archiveReward(db: Db, actor: Actor, id: string, now: Date): Promise<RewardDto> {
  return db.transaction().execute(async (tx) => {
    const current = await getRewardRow(tx, actor.businessId, id);
    if (current.archived_at) return rewardDto(current);
    const row = await tx
      .updateTable("rewards")
      .set({ archived_at: now, updated_at: now })
      .where("business_id", "=", actor.businessId)
      .where("id", "=", id)
      .returningAll()
      .executeTakeFirstOrThrow();
    await audit(tx, actor, now, { action: "reward.archived", targetType: "reward", targetId: id });
    return rewardDto(row);
  });
}

/**
 * The reward a member asks for, if they may have it now: 404 `reward_not_found`, 422
 * `reward_inactive` (inactive, archived or outside its dates), 422 `reward_not_eligible` (the
 * member's tier is not among the eligible ones). `member` carries the tier as it stands at `now`:
 * one whose retention has ended must be re-evaluated first (`refreshTier`, src/modules/tiers).
 *
 * The row stays locked until the redemption commits (`for no key update`, the lock `takeStock`'s
 * update takes anyway), so what decides the redemption — stock, status, dates — is what it
 * commits against: a manager's change (`updateReward`, `archiveReward`) waits for the
 * redemption, or the redemption waits for it and reads it. Redemptions of one reward by
 * different members take turns from here to their commit. Lock order of a redemption: the
 * member (`getMemberForUpdate`), then this reward, then the member's points account; a void takes
 * the member, the voucher, the account, then the reward (`returnStock`). An account is only
 * taken by whoever holds its member, so a redemption that holds the reward never waits for one
 * that another transaction holds, and the orders cannot close a cycle.
 */
export async function getRedeemableReward(
  tx: Tx,
  businessId: string,
  id: string,
  member: { tier_id: string | null },
  now: Date,
): Promise<RewardsTable> {
  const reward = await tx
    .selectFrom("rewards")
    .selectAll()
    .where("business_id", "=", businessId)
    .where("id", "=", id)
    .forNoKeyUpdate()
    .executeTakeFirst();
  if (!reward) throw notFound("reward", id);
  if (!isOpen(reward, now)) {
    throw invalid("reward_inactive", `Reward "${reward.name}" cannot be redeemed now.`, {
      active: reward.active && reward.archived_at === null,
      valid_from: iso(reward.valid_from),
      valid_until: iso(reward.valid_until),
    });
  }
  if (!isEligible(reward, member.tier_id)) {
    throw invalid("reward_not_eligible", `Reward "${reward.name}" is for members of other tiers.`, {
      eligible_tier_ids: reward.eligible_tier_ids,
    });
  }
  return reward;
}

/** Active, not archived and within its validity dates at `now`. */
export function isOpen(
  reward: Pick<RewardsTable, "active" | "archived_at" | "valid_from" | "valid_until">,
  now: Date,
): boolean {
  return (
    reward.active &&
    reward.archived_at === null &&
    (reward.valid_from === null || reward.valid_from <= now) &&
    (reward.valid_until === null || now < reward.valid_until)
  );
}

/** True when the reward is for everyone or the member's tier is among its eligible tiers. */
export function isEligible(reward: Pick<RewardsTable, "eligible_tier_ids">, tierId: string | null): boolean {
  const tiers = reward.eligible_tier_ids as string[];
  return tiers.length === 0 || (tierId !== null && tiers.includes(tierId));
}

/**
 * Takes one unit of stock, when the reward has a stock; returns whether it took one. `reward` is
 * the row `getRedeemableReward` locked, so its stock is the one this transaction commits against
 * (a stock set or cleared meanwhile is seen, not missed); the update stays conditional
 * (`stock > 0`), so it can never oversell: 409 `reward_out_of_stock` once it is gone.
 */
export async function takeStock(tx: Tx, reward: RewardsTable): Promise<boolean> {
  if (reward.stock === null) return false;
  const row = await tx
    .updateTable("rewards")
    .set((eb) => ({ stock: eb("stock", "-", 1) }))
    .where("business_id", "=", reward.business_id)
    .where("id", "=", reward.id)
    .where("stock", ">", 0)
    .returning("stock")
    .executeTakeFirst();
  if (!row) throw conflict("reward_out_of_stock", `Reward "${reward.name}" is out of stock.`);
  return true;
}

/**
 * Puts back the unit a voided voucher took (`stock_taken`); rewards without a stock stay
 * unlimited.
 */
export async function returnStock(tx: Tx, businessId: string, rewardId: string): Promise<void> {
  await tx
    .updateTable("rewards")
    .set((eb) => ({ stock: eb("stock", "+", 1) }))
    .where("business_id", "=", businessId)
    .where("id", "=", rewardId)
    .where("stock", "is not", null)
    .execute();
}
