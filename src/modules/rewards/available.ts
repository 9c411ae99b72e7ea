import { type RawBuilder, sql } from "kysely";
import type { Db, Tx } from "../../db/database.ts";
import { bindText } from "../../db/sql-text.ts";
import { notFound } from "../../shared/errors.ts";
import { pointsBalance } from "../ledger/index.ts";
import { selectMembers } from "../members/index.ts";
import type { ProgramSnapshot } from "../program/snapshot.ts";
import { stampBalances } from "../stamps/ledger.ts";
import { reachedTier } from "../tiers/metric.ts";
import { isEligible, type RewardDto, rewardDto } from "./catalog.ts";
import type { RewardValue } from "./schema.ts";

/**
 * The rewards the member could redeem right now: open, for their tier (as it stands now: one whose
 * retention has ended no longer counts, one reached since it was stored does), in stock, under their per-member limit and affordable
 * with their available points or stamps. Cheapest in points first, then stamp-card rewards. 404
 * `member_not_found` for a member of another business.
 *
 * @example const rewards = await availableRewards(db, snapshot, memberId, now)
 */
export async function availableRewards(
  db: Db | Tx,
  snapshot: ProgramSnapshot,
  memberId: string,
  now: Date,
): Promise<RewardDto[]> {
  const businessId = snapshot.businessId;
  const member = await selectMembers(db)
    .where("members.business_id", "=", businessId)
    .where("id", "=", memberId)
    .executeTakeFirst();
  if (!member) throw notFound("member", memberId);
  const [candidates, points, stamps, tier] = await Promise.all([
    sql<{
      rewards: RewardCandidate[];
    }>`select ${rewardCandidatesSql(businessId, memberId, now)} as rewards`.execute(db),
    pointsBalance(db, businessId, memberId, now, now),
    stampBalances(db, businessId, memberId),
    reachedTier(db, snapshot, member, now),
  ]);
  const picked = pickAvailable(candidates.rows[0]?.rewards ?? [], {
    tier_id: tier.tier_id,
    points_available: points.available,
    stamps,
  });
  if (picked.length === 0) return [];
  const rows = await db
    .selectFrom("rewards")
    .selectAll()
    .where("business_id", "=", businessId)
    .where(
      "id",
      "in",
      picked.map((r) => r.id),
    )
    .execute();
  const byId = new Map(rows.map((r) => [r.id, r]));
  return picked.flatMap((r) => {
    const row = byId.get(r.id);
    return row ? [rewardDto(row)] : [];
  });
}

/** A reward as the counter needs it, with what decides whether this member can take it now. */
export interface RewardCandidate {
  id: string;
  name: string;
  type: string;
  /** What it gives (the counter shows "€10.00 off"). */
  value: RewardValue;
  cost_points: number | null;
  stamp_card_id: string | null;
  eligible_tier_ids: string[];
  per_member_limit: number | null;
  /** The member's vouchers of it that are not voided. */
  held: number;
  /** Stamps a full card of its stamp card takes (archived cards included). */
  stamps_required: number | null;
}

/**
 * The open, in-stock rewards of the business with this member's holdings, as the text of one
 * JSON array expression (slots: business, member, now; see src/db/sql-text.ts). The purchase's
 * read (src/use-cases/purchase-fast-path.ts) uses the same text.
 */
export const REWARD_CANDIDATES_TEXT = `(select coalesce(json_agg(json_build_object(
      'id', r.id, 'name', r.name, 'type', r.type, 'value', r.value, 'cost_points', r.cost_points, 'stamp_card_id', r.stamp_card_id,
      'eligible_tier_ids', r.eligible_tier_ids, 'per_member_limit', r.per_member_limit,
      'held', case when r.per_member_limit is null then 0 else (
        select count(*) from vouchers v
        where v.business_id = r.business_id and v.reward_id = r.id and v.member_id = {{member}} and v.status <> 'voided') end,
      'stamps_required', sc.stamps_required) order by r.cost_points nulls last, r.id), '[]')
    from rewards r
    left join stamp_cards sc on sc.business_id = r.business_id and sc.id = r.stamp_card_id
    where r.business_id = {{business}} and r.active and r.archived_at is null
      and (r.valid_from is null or r.valid_from <= {{now}}) and (r.valid_until is null or r.valid_until > {{now}})
      and (r.stock is null or r.stock > 0))`;

/**
 * The open, in-stock rewards of the business with this member's holdings, as one JSON array: a
 * scalar SQL expression a caller reads in the same round trip as the member's balances.
 */
export function rewardCandidatesSql(
  businessId: string,
  memberId: string,
  now: Date,
): RawBuilder<RewardCandidate[]> {
  return bindText<RewardCandidate[]>(REWARD_CANDIDATES_TEXT, { business: businessId, member: memberId, now });
}

/** The candidates this member can redeem now: eligible, under the limit, and affordable. */
export function pickAvailable(
  candidates: readonly RewardCandidate[],
  member: { tier_id: string | null; points_available: number; stamps: ReadonlyMap<string, number> },
): RewardCandidate[] {
  return candidates.filter((r) => {
    if (!isEligible(r, member.tier_id)) return false;
    if (r.per_member_limit !== null && r.held >= r.per_member_limit) return false;
    if (r.cost_points !== null) return member.points_available >= r.cost_points;
    return (
      r.stamp_card_id !== null &&
      r.stamps_required !== null &&
      (member.stamps.get(r.stamp_card_id) ?? 0) >= r.stamps_required
    );
  });
}
