import type { Db, Tx } from "../db/database.ts";
import { pointsBalance } from "../modules/ledger/index.ts";
import type { ProgramSnapshot } from "../modules/program/snapshot.ts";
import { stampBalances } from "../modules/stamps/ledger.ts";
import { tierMetric as metricOf } from "../modules/tiers/metric.ts";
import type { TierLevel } from "../modules/tiers/qualify.ts";
import { addDays } from "../shared/time.ts";

/** What a member holds right now: points, stamps per card, tier and the progress to the next one. */
export interface MemberSummary {
  points: {
    available: number;
    pending: number;
    debt: number;
    lifetime_earned: number;
    lifetime_spent: number;
    expiring_soon: { expires_at: string; points: number }[];
  };
  stamp_cards: {
    stamp_card_id: string;
    name: string;
    stamps: number;
    stamps_required: number;
    full_cards: number;
    stamps_on_current_card: number;
    stamps_to_next_reward: number;
  }[];
  tier: {
    current: { id: string; name: string; rank: number; earn_multiplier_bp: number } | null;
    expires_at: string | null;
    metric: "spend" | "points" | "visits";
    metric_value: number;
    next: { id: string; name: string; threshold: number; remaining: number } | null;
  } | null;
}

/**
 * Reads a member's summary. `tierMetric` is the member's qualification metric in the current
 * window (see tiers/metric.ts): pass it when just computed, or null to have it read.
 */
export async function memberSummary(
  db: Db | Tx,
  snapshot: ProgramSnapshot,
  member: { id: string; tier_id: string | null; tier_expires_at: Date | null },
  tierMetric: number | null,
  now: Date,
): Promise<MemberSummary> {
  const [points, stamps, metric] = await Promise.all([
    pointsBalance(
      db,
      snapshot.businessId,
      member.id,
      now,
      addDays(now, snapshot.config.points.expiring_soon_days),
    ),
    stampBalances(db, snapshot.businessId, member.id),
    tierMetric === null && snapshot.tiers.length > 0
      ? metricOf(db, snapshot, member.id, now)
      : Promise.resolve(tierMetric),
  ]);
  const stamp_cards = snapshot.stampCards.map((card) => {
    const count = stamps.get(card.id) ?? 0;
    const onCard = count % card.stamps_required;
    return {
      stamp_card_id: card.id,
      name: card.name,
      stamps: count,
      stamps_required: card.stamps_required,
      full_cards: Math.floor(count / card.stamps_required),
      stamps_on_current_card: onCard,
      stamps_to_next_reward: card.stamps_required - onCard,
    };
  });
  return { points, stamp_cards, tier: tierSummary(snapshot, member, metric) };
}

function tierSummary(
  snapshot: ProgramSnapshot,
  member: { tier_id: string | null; tier_expires_at: Date | null },
  metric: number | null,
): MemberSummary["tier"] {
  if (snapshot.tiers.length === 0) return null;
  const current = snapshot.tiers.find((t) => t.id === member.tier_id) ?? null;
  const next: TierLevel | undefined = snapshot.tiers.find((t) => t.rank > (current?.rank ?? 0));
  const value = metric ?? 0;
  return {
    current: current
      ? {
          id: current.id,
          name: current.name,
          rank: current.rank,
          earn_multiplier_bp: current.earn_multiplier_bp,
        }
      : null,
    expires_at: current ? (member.tier_expires_at?.toISOString() ?? null) : null,
    metric: snapshot.config.tiers.metric,
    metric_value: value,
    next: next
      ? {
          id: next.id,
          name: next.name,
          threshold: next.threshold,
          remaining: Math.max(0, next.threshold - value),
        }
      : null,
  };
}
