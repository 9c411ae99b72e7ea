import { sql } from "kysely";
import type { Db, Tx } from "../db/database.ts";
import { pointsStateSql, toPointsBalance } from "../modules/ledger/index.ts";
import { isPending } from "../modules/ledger/lots.ts";
import type { ProgramSnapshot } from "../modules/program/snapshot.ts";
import { pickAvailable, type RewardCandidate, rewardCandidatesSql } from "../modules/rewards/index.ts";
import { stampBalancesSql } from "../modules/stamps/ledger.ts";
import {
  applyTierMetric,
  lastYearMetricSql,
  needsLastYear,
  type StoredTier,
  tierEnded,
  tierMetricSql,
  tierTransition,
} from "../modules/tiers/metric.ts";
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
    /** Each release time of open pending lots, earliest first, the first `PENDING_UNTIL_SHOWN`. */
    pending_until: { available_at: string; points: number }[];
  };
  /** The active cards, then the archived ones the member still holds stamps on (`archived`). */
  stamp_cards: {
    stamp_card_id: string;
    name: string;
    stamps: number;
    stamps_required: number;
    full_cards: number;
    stamps_on_current_card: number;
    stamps_to_next_reward: number;
    archived: boolean;
  }[];
  tier: {
    current: { id: string; name: string; rank: number; earn_multiplier_bp: number } | null;
    expires_at: string | null;
    metric: "spend" | "points" | "visits";
    metric_value: number;
    next: { id: string; name: string; threshold: number; remaining: number } | null;
  } | null;
}

/** Release times shown in a summary's `points.pending_until`: the earliest; `pending` counts them all. */
export const PENDING_UNTIL_SHOWN = 10;

export interface MemberState {
  points: MemberSummary["points"];
  stamps: Map<string, number>;
  metric: number;
  /** Last calendar year's metric, read only when the tier's evaluation needs it (`needsLastYear`). */
  lastYearMetric: number | null;
  rewards: RewardCandidate[];
}

/**
 * Reads everything a member's summary needs — points and lots, stamps, the tier metric (and last
 * year's, when an ended calendar-year tier needs it) and, when asked, the reward candidates — in
 * one statement, each part written by its own module.
 */
async function readMemberState(
  db: Db | Tx,
  snapshot: ProgramSnapshot,
  member: { id: string } & StoredTier,
  now: Date,
  withRewards: boolean,
  withLastYear = false,
): Promise<MemberState> {
  const b = snapshot.businessId;
  const memberId = member.id;
  const metric = snapshot.tiers.length > 0 ? tierMetricSql(snapshot, memberId, now) : sql<number>`0`;
  const lastYear =
    (withLastYear && snapshot.tiers.length > 0) || needsLastYear(snapshot, member, now)
      ? lastYearMetricSql(snapshot, memberId, now)
      : sql<null>`null::bigint`;
  const rewards = withRewards ? rewardCandidatesSql(b, memberId, now) : sql<RewardCandidate[]>`'[]'::json`;
  const { rows } = await sql<{
    points: Parameters<typeof toPointsBalance>[0];
    stamps: Record<string, number>;
    metric: number;
    last_year: number | null;
    rewards: RewardCandidate[];
  }>`select ${pointsStateSql(b, memberId)} as points, ${stampBalancesSql(b, memberId)} as stamps,
            ${metric} as metric, ${lastYear} as last_year, ${rewards} as rewards`.execute(db);
  const row = rows[0];
  const points = row?.points ?? { account: null, lots: [] };
  return {
    points: {
      ...toPointsBalance(points, now, addDays(now, snapshot.config.points.expiring_soon_days)),
      pending_until: pendingUntil(
        points.lots
          .filter((l) =>
            isPending(
              {
                ...l,
                available_at: new Date(l.available_at),
                expires_at: l.expires_at === null ? null : new Date(l.expires_at),
              },
              now,
            ),
          )
          .map((l) => [l.available_at, l.points_remaining]),
      ),
    },
    stamps: new Map(Object.entries(row?.stamps ?? {})),
    metric: Number(row?.metric ?? 0),
    lastYearMetric: row?.last_year === null || row?.last_year === undefined ? null : Number(row.last_year),
    rewards: row?.rewards ?? [],
  };
}

/**
 * Pending points by release time: the points of the given pending lots (`[available_at, points]`)
 * summed per release time, earliest first, the first `PENDING_UNTIL_SHOWN`. The fast purchase path
 * builds its answer's with it too (src/use-cases/purchase-fast-path.ts).
 */
export function pendingUntil(
  lots: Iterable<readonly [string | Date, number]>,
): MemberSummary["points"]["pending_until"] {
  const byTime = new Map<number, number>();
  for (const [availableAt, points] of lots) {
    const at = new Date(availableAt).getTime();
    byTime.set(at, (byTime.get(at) ?? 0) + points);
  }
  return [...byTime.entries()]
    .sort(([a], [b]) => a - b)
    .slice(0, PENDING_UNTIL_SHOWN)
    .map(([at, points]) => ({ available_at: new Date(at).toISOString(), points }));
}

function stampCardHolding(card: { id: string; name: string; stamps_required: number }, count: number) {
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
}

export function compose(
  snapshot: ProgramSnapshot,
  state: MemberState,
  tier: { tier_id: string | null; tier_expires_at: Date | null },
): MemberSummary {
  const stamp_cards = [
    ...snapshot.stampCards.map((card) => ({
      ...stampCardHolding(card, state.stamps.get(card.id) ?? 0),
      archived: false,
    })),
    // An archived card earns nothing, but the stamps on it still pay for its reward.
    ...snapshot.archivedStampCards
      .filter((card) => (state.stamps.get(card.id) ?? 0) > 0)
      .map((card) => ({ ...stampCardHolding(card, state.stamps.get(card.id) ?? 0), archived: true })),
  ];
  return { points: state.points, stamp_cards, tier: tierSummary(snapshot, tier, state.metric) };
}

/**
 * A member's summary for reading (the card): a tier the member has reached shows at once, and one
 * whose retention ended shows as it now stands — as the sweep will leave it, and as pricing and
 * the rewards on offer see it (`effectiveTier`, src/modules/tiers/metric.ts). Reading never
 * writes.
 */
export async function memberCardSummary(
  db: Db | Tx,
  snapshot: ProgramSnapshot,
  member: { id: string; tier_id: string | null; tier_expires_at: Date | null },
  now: Date,
): Promise<MemberSummary> {
  const state = await readMemberState(db, snapshot, member, now, false);
  const next = tierTransition(snapshot, member, state.metric, now, state.lastYearMetric).state;
  // A tier that ended and is reached again shows its new date, not the one just past.
  const shown =
    next.tier_id === member.tier_id && !tierEnded(member, now)
      ? member
      : { tier_id: next.tier_id, tier_expires_at: next.expires_at };
  return compose(snapshot, state, shown);
}

/**
 * Reads a member's summary as stored (no tier re-evaluation): for a member whose tier is current,
 * as after `refreshTier` under the member's lock.
 */
export async function memberSummary(
  db: Db | Tx,
  snapshot: ProgramSnapshot,
  member: { id: string; tier_id: string | null; tier_expires_at: Date | null },
  now: Date,
): Promise<MemberSummary> {
  return compose(snapshot, await readMemberState(db, snapshot, member, now, false), member);
}

/**
 * After a change to a member (purchase, refund, event): reads the member's state in one round
 * trip, moves the tier for the new metric (writing only when it changes), and returns the summary
 * and, when asked, the rewards the member can now redeem. `lastYear`: the change is dated in the
 * previous calendar year (`datedLastYear`), so what that year reached counts too. Call it inside
 * the member's lock.
 */
export async function settleMember(
  tx: Tx,
  snapshot: ProgramSnapshot,
  member: { id: string; tier_id: string | null; tier_expires_at: Date | null },
  now: Date,
  options: { rewards: boolean; lastYear?: boolean },
): Promise<{
  summary: MemberSummary;
  tierChanged: { from: string | null; to: string | null } | null;
  rewards: RewardCandidate[];
}> {
  const state = await readMemberState(tx, snapshot, member, now, options.rewards, options.lastYear);
  const tier = await applyTierMetric(tx, snapshot, member, state.metric, now, state.lastYearMetric);
  const summary = compose(snapshot, state, {
    tier_id: tier.state.tier_id,
    tier_expires_at: tier.state.expires_at,
  });
  const rewards = options.rewards
    ? pickAvailable(state.rewards, {
        tier_id: tier.state.tier_id,
        points_available: state.points.available,
        stamps: state.stamps,
      })
    : [];
  return { summary, tierChanged: tier.changed, rewards };
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
