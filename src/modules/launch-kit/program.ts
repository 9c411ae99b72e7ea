import { formatMoney, minorPerMajor } from "../../shared/money.ts";
import { listOf, type PosterLocale, posterMessage } from "./messages.ts";

/** What the poster needs to know about a program to tell it in one sentence. */
export interface ProgramFacts {
  currency: string;
  points: { enabled: boolean; earn_points: number; earn_per_minor: number };
  /** Points every visit earns from the rules whatever is bought (`pointsPerVisit`, offers.ts); 0: none. */
  pointsPerVisit: number;
  /** What the tiers count: the ladder's sentence says how to climb it. */
  tierMetric: "spend" | "points" | "visits";
  stampCards: { id: string; name: string; stamps_required: number }[];
  tiers: { name: string; rank: number; threshold: number }[];
  rewards: {
    name: string;
    cost_points: number | null;
    stamp_card_id: string | null;
    active: boolean;
    /** Tiers the reward is for; none: every member. */
    eligible_tier_ids?: string[];
  }[];
}

export interface ProgramSentence {
  /** The program in one sentence: what to collect and what it brings. */
  headline: string;
  /** A second line naming the tiers above the first, or null. */
  tiers_line: string | null;
}

/**
 * Tells a program in one sentence in the customer's language: a stamp card and its reward come
 * first (the simplest promise), then points — per amount spent and per visit — and the cheapest
 * reward a new member can get, then tiers, climbed as the ladder counts (visits, spend or points).
 * Nothing is promised that a new member cannot get: without such a reward, points are told
 * without "swap them for rewards", and a stamp card as stamps to collect, without "for a reward".
 *
 * @example describeProgram("nl", facts) // { headline: "Verzamel 10 stempels en krijg Gratis koffie.", tiers_line: null }
 */
export function describeProgram(locale: PosterLocale, facts: ProgramFacts): ProgramSentence {
  // What a new member can get: a reward for some tiers only is not the poster's promise.
  const rewards = facts.rewards.filter((r) => r.active && (r.eligible_tier_ids ?? []).length === 0);
  // A tier with no threshold is where everyone starts: only the ones to reach are worth a line.
  const tiers = facts.tiers
    .filter((t) => t.threshold > 0)
    .sort((a, b) => a.rank - b.rank)
    .map((t) => t.name);
  // The card whose full card a new member can swap for a reward is the promise to tell; a card
  // without one is told as stamps to collect, never "for a reward".
  const card =
    facts.stampCards.find((c) => rewards.some((r) => r.stamp_card_id === c.id)) ?? facts.stampCards[0];
  // Rules give points only while points are on (the evaluator's `pointsEnabled`).
  const perSpend = facts.points.enabled ? facts.points.earn_points : 0;
  const perVisit = facts.points.enabled ? facts.pointsPerVisit : 0;
  const pointsReward = rewards
    .filter((r) => r.cost_points !== null)
    .sort((a, b) => (a.cost_points ?? 0) - (b.cost_points ?? 0))[0];
  let headline: string;
  if (card) {
    const reward = rewards.find((r) => r.stamp_card_id === card.id);
    headline = reward
      ? posterMessage(locale, "stamps_reward", { count: card.stamps_required, reward: reward.name })
      : posterMessage(locale, "stamps", { count: card.stamps_required, card: card.name });
  } else if (perSpend > 0 || perVisit > 0) {
    const values = {
      points: perSpend,
      amount: money(facts.points.earn_per_minor, facts.currency, locale),
      visit: perVisit,
    };
    const key = perSpend === 0 ? "visit_points" : perVisit === 0 ? "points" : "points_and_visits";
    // "Swap them for rewards" only when a new member has a reward to swap them for.
    headline = pointsReward
      ? posterMessage(locale, `${key}_reward`, { ...values, reward: pointsReward.name })
      : posterMessage(locale, key, values);
  } else if (tiers.length > 0) {
    return {
      headline: posterMessage(locale, `tiers_${facts.tierMetric}`, { tiers: listOf(locale, tiers) }),
      tiers_line: null,
    };
  } else {
    headline = posterMessage(locale, "plain");
  }
  const tiers_line =
    tiers.length > 0 ? posterMessage(locale, "tiers_line", { tiers: listOf(locale, tiers) }) : null;
  return { headline, tiers_line };
}

function money(amountMinor: number, currency: string, locale: string): string {
  const major = amountMinor / minorPerMajor(currency);
  // "€ 1" reads better than "€ 1,00" on a poster when the amount is whole.
  if (!Number.isInteger(major)) return formatMoney(amountMinor, currency, locale);
  return new Intl.NumberFormat(locale, {
    style: "currency",
    currency,
    minimumFractionDigits: 0,
    maximumFractionDigits: 0,
  }).format(major);
}
