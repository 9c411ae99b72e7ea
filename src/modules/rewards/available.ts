import type { Db, Tx } from "../../db/database.ts";
import { pointsBalance } from "../ledger/index.ts";
import { getMember } from "../members/index.ts";
import type { ProgramSnapshot } from "../program/snapshot.ts";
import { getStampCard } from "../stamps/index.ts";
import { stampBalances } from "../stamps/ledger.ts";
import { isEligible, MAX_ACTIVE_REWARDS, type RewardDto, rewardDto } from "./catalog.ts";

/**
 * The rewards the member could redeem right now: open, for their tier, in stock, under their
 * per-member limit and affordable with their available points or stamps. Cheapest in points first,
 * then stamp-card rewards. 404 `member_not_found` for a member of another business.
 *
 * @example const rewards = await availableRewards(db, snapshot, memberId, now) // shown after a purchase
 */
export async function availableRewards(
  db: Db | Tx,
  snapshot: ProgramSnapshot,
  memberId: string,
  now: Date,
  /** What the caller already knows of the member (right after a purchase), to skip reading it again. */
  known?: { tier_id: string | null; points_available: number; stamps: ReadonlyMap<string, number> },
): Promise<RewardDto[]> {
  const businessId = snapshot.businessId;
  const member = known ?? (await getMember(db, businessId, memberId));
  const [rewards, points, stamps] = await Promise.all([
    db
      .selectFrom("rewards as r")
      .selectAll("r")
      // The member's live vouchers of each limited reward, in the same round trip.
      .select((eb) =>
        eb
          .selectFrom("vouchers as v")
          .select(eb.fn.countAll<number>().as("n"))
          .whereRef("v.business_id", "=", "r.business_id")
          .whereRef("v.reward_id", "=", "r.id")
          .where("v.member_id", "=", memberId)
          .where("v.status", "!=", "voided")
          .where("r.per_member_limit", "is not", null)
          .as("held"),
      )
      .where("business_id", "=", businessId)
      .where("active", "=", true)
      .where("archived_at", "is", null)
      .where((eb) => eb.or([eb("valid_from", "is", null), eb("valid_from", "<=", now)]))
      .where((eb) => eb.or([eb("valid_until", "is", null), eb("valid_until", ">", now)]))
      .where((eb) => eb.or([eb("stock", "is", null), eb("stock", ">", 0)]))
      .orderBy("cost_points", (ob) => ob.asc().nullsLast())
      .orderBy("id")
      .limit(MAX_ACTIVE_REWARDS)
      .execute(),
    known ? { available: known.points_available } : pointsBalance(db, businessId, memberId, now, now),
    known ? known.stamps : stampBalances(db, businessId, memberId),
  ]);
  const required = new Map(snapshot.stampCards.map((c) => [c.id, c.stamps_required]));
  const out: RewardDto[] = [];
  for (const reward of rewards) {
    if (!isEligible(reward, member.tier_id)) continue;
    if (reward.per_member_limit !== null && Number(reward.held ?? 0) >= reward.per_member_limit) continue;
    if (reward.cost_points !== null) {
      if (points.available >= reward.cost_points) out.push(rewardDto(reward));
      continue;
    }
    const cardId = reward.stamp_card_id;
    if (cardId === null) continue;
    // A card archived after the reward was made is not in the snapshot; its stamps still count.
    const needed = required.get(cardId) ?? (await getStampCard(db, businessId, cardId)).stamps_required;
    if ((stamps.get(cardId) ?? 0) >= needed) out.push(rewardDto(reward));
  }
  return out;
}
