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
import { assert } from "../shared/errors.ts";
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

/** Release times shown in a card's `points.pending_until`: the earliest; `pending` counts them all. */
export const PENDING_UNTIL_SHOWN = 10;

/**
 * What the member's card shows (`GET /v1/members/{id}/card`, the wallet's card, the data export):
 * the summary, and besides when pending points become spendable (`points.pending_until`) and the
 * stamps still held on archived stamp cards (`archived: true`, after the active cards, oldest
 * first; an archived card earns nothing, but its stamps still pay for its reward).
 *
 * The answers of writes (purchase, refund, event, adjustment) carry the summary only: the
 * purchase's fast path (src/use-cases/purchase-fast-path.ts) reads neither the pending lots'
 * release times nor the archived cards, and every path of one answer must give the same.
 */
export interface MemberCardSummary extends MemberSummary {
  points: MemberSummary["points"] & {
    /** Each release time of open pending lots, earliest first, the first `PENDING_UNTIL_SHOWN`. */
    pending_until: { available_at: string; points: number }[];
  };
  stamp_cards: (MemberSummary["stamp_cards"][number] & { archived: boolean })[];
}

/** An archived stamp card on which the member still holds stamps. */
interface ArchivedCard {
  id: string;
  name: string;
  stamps_required: number;
}

/** What only the card reads: pending points by release time, and the archived cards held. */
interface CardParts {
  pendingUntil: MemberCardSummary["points"]["pending_until"];
  archivedCards: ArchivedCard[];
}

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
 * year's, when an ended calendar-year tier needs it) and, when asked, the reward candidates and
 * what only the card shows (`withCard`: the archived stamp cards held; `card` is null without it)
 * — in one statement, each part written by its own module.
 */
async function readMemberState(
  db: Db | Tx,
  snapshot: ProgramSnapshot,
  member: { id: string } & StoredTier,
  now: Date,
  withRewards: boolean,
  withLastYear = false,
  withCard = false,
): Promise<MemberState & { card: CardParts | null }> {
  const b = snapshot.businessId;
  const memberId = member.id;
  const metric = snapshot.tiers.length > 0 ? tierMetricSql(snapshot, memberId, now) : sql<number>`0`;
  const lastYear =
    (withLastYear && snapshot.tiers.length > 0) || needsLastYear(snapshot, member, now)
      ? lastYearMetricSql(snapshot, memberId, now)
      : sql<null>`null::bigint`;
  const rewards = withRewards ? rewardCandidatesSql(b, memberId, now) : sql<RewardCandidate[]>`'[]'::json`;
  const archived = withCard ? archivedCardsHeldSql(b, memberId) : sql<ArchivedCard[]>`'[]'::json`;
  const { rows } = await sql<{
    points: Parameters<typeof toPointsBalance>[0];
    stamps: Record<string, number>;
    metric: number;
    last_year: number | null;
    rewards: RewardCandidate[];
    archived: ArchivedCard[];
  }>`select ${pointsStateSql(b, memberId)} as points, ${stampBalancesSql(b, memberId)} as stamps,
            ${metric} as metric, ${lastYear} as last_year, ${rewards} as rewards,
            ${archived} as archived`.execute(db);
  const row = rows[0];
  const points = row?.points ?? { account: null, lots: [] };
  return {
    card: withCard
      ? { pendingUntil: pendingUntil(points.lots, now), archivedCards: row?.archived ?? [] }
      : null,
    points: toPointsBalance(points, now, addDays(now, snapshot.config.points.expiring_soon_days)),
    stamps: new Map(Object.entries(row?.stamps ?? {})),
    metric: Number(row?.metric ?? 0),
    lastYearMetric: row?.last_year === null || row?.last_year === undefined ? null : Number(row.last_year),
    rewards: row?.rewards ?? [],
  };
}

/**
 * The archived stamp cards of the business on which the member holds stamps, oldest first, as one
 * JSON array: a scalar SQL expression read with the rest of the member's state. The program
 * snapshot holds the active cards only.
 */
function archivedCardsHeldSql(businessId: string, memberId: string) {
  return sql<ArchivedCard[]>`(select coalesce(json_agg(json_build_object('id', c.id, 'name', c.name,
      'stamps_required', c.stamps_required) order by c.created_at, c.id), '[]')
    from stamp_balances sb
    join stamp_cards c on c.business_id = sb.business_id and c.id = sb.stamp_card_id
    where sb.business_id = ${businessId} and sb.member_id = ${memberId} and sb.stamps > 0
      and c.archived_at is not null)`;
}

/**
 * The points of the open lots still pending at `now` (as `pending` counts them), summed per
 * release time, earliest first, the first `PENDING_UNTIL_SHOWN`.
 */
function pendingUntil(
  lots: Parameters<typeof toPointsBalance>[0]["lots"],
  now: Date,
): MemberCardSummary["points"]["pending_until"] {
  const byTime = new Map<number, number>();
  for (const l of lots) {
    const lot = {
      ...l,
      available_at: new Date(l.available_at),
      expires_at: l.expires_at === null ? null : new Date(l.expires_at),
    };
    if (!isPending(lot, now)) continue;
    const at = lot.available_at.getTime();
    byTime.set(at, (byTime.get(at) ?? 0) + lot.points_remaining);
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
  const stamp_cards = snapshot.stampCards.map((card) =>
    stampCardHolding(card, state.stamps.get(card.id) ?? 0),
  );
  return { points: state.points, stamp_cards, tier: tierSummary(snapshot, tier, state.metric) };
}

/** The card: the summary, with pending points by release time and the archived cards held. */
function composeCard(
  snapshot: ProgramSnapshot,
  state: MemberState,
  card: CardParts,
  tier: { tier_id: string | null; tier_expires_at: Date | null },
): MemberCardSummary {
  const summary = compose(snapshot, state, tier);
  // A card archived between the snapshot's load and the read shows once, as the snapshot has it.
  const active = new Set(snapshot.stampCards.map((c) => c.id));
  return {
    ...summary,
    points: { ...summary.points, pending_until: card.pendingUntil },
    stamp_cards: [
      ...summary.stamp_cards.map((c) => ({ ...c, archived: false })),
      ...card.archivedCards
        .filter((c) => !active.has(c.id))
        .map((c) => ({ ...stampCardHolding(c, state.stamps.get(c.id) ?? 0), archived: true })),
    ],
  };
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
): Promise<MemberCardSummary> {
  const state = await readMemberState(db, snapshot, member, now, false, false, /* withCard */ true);
  const next = tierTransition(snapshot, member, state.metric, now, state.lastYearMetric).state;
  // A tier that ended and is reached again shows its new date, not the one just past.
  const shown =
    next.tier_id === member.tier_id && !tierEnded(member, now)
      ? member
      : { tier_id: next.tier_id, tier_expires_at: next.expires_at };
  assert(state.card !== null, "the card's parts are read with withCard");
  return composeCard(snapshot, state, state.card, shown);
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
