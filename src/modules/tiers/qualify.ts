import { assert } from "../../shared/errors.ts";
import { addMonths, DAY_MS, startOfYear, zonedParts, zonedTimeToUtc } from "../../shared/time.ts";

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;

/**
 * Tier qualification, as pure functions. A tier is reached the moment the member's metric (spend,
 * points or visits) in the qualification window crosses its threshold, and is then kept until
 * the end of the following period — downgrades happen only when that retention ends, or when a
 * refund undoes the qualification itself (`tierAfterRefund`):
 *
 * - calendar_year: the window is the current calendar year; a tier reached in 2026 is kept until
 *   1 January 2028 (the end of 2027), and reaching it again in 2027 extends it to 2029. When the
 *   retention ends, what the year just ended reached still counts (qualify in year N, keep through
 *   N+1): a Gold member of 2026 who reached only Silver in 2027 holds Silver until 1 January 2029.
 * - rolling_12_months: the window is the last 12 months; a tier is kept 12 months after the last
 *   moment it was reached. The window at the moment the retention ends already holds the months
 *   that count, so nothing else is read.
 *
 * A tier whose retention has ended no longer counts, whether or not the sweep job has run: a
 * member's tier is used through `refreshTier` (writes) or `effectiveTier` (reads), in
 * src/modules/tiers/metric.ts, which check `retentionEnded`.
 */

export type TierPeriod = "calendar_year" | "rolling_12_months";

export interface TierLevel {
  id: string;
  name: string;
  rank: number;
  threshold: number;
  earn_multiplier_bp: number;
}

export interface TierState {
  tier_id: string | null;
  expires_at: Date | null;
}

/**
 * The start of the window whose metric counts for qualification at `now`, included. A rolling
 * window holds the last 12 months after `now` − 12 months: a purchase exactly that old has left
 * it, so at the instant a tier it reached ends (`retainedUntil`), it no longer reaches it again.
 * Twelve months before a 28 February is also a 29 February a day later, and before a time in the
 * hour a clock repeats also that time's second pass: a tier reached then ends at the same instant,
 * so the window starts after it (else that purchase would reach the tier again, for 12 months more).
 * The price, on a 28 February after a leap year (or in the repeated hour): that day's purchases of
 * a year before, later in the day than `now`, have left a few hours early.
 */
export function windowStart(period: TierPeriod, now: Date, timeZone: string): Date {
  if (period === "calendar_year") return startOfYear(now, timeZone);
  const back = addMonths(now, -12, timeZone).getTime();
  const endedBy = (ms: number) => retainedUntil(period, new Date(back + ms), timeZone) <= now;
  const later = [DAY_MS, HOUR_MS].find(endedBy) ?? 0;
  return new Date(back + later + 1);
}

/** Until when a tier reached at `now` is kept. */
export function retainedUntil(period: TierPeriod, now: Date, timeZone: string): Date {
  return period === "calendar_year" ? startOfYear(now, timeZone, 2) : addMonths(now, 12, timeZone);
}

/** Where the members' calendar-year retention ends that fall on one instant go in another zone. */
export interface RezonedRetentionEnd {
  /** The end as stored: the first instant of a year on the old clock. */
  was: Date;
  /** The first instant of that year on the new clock. */
  next: Date;
  /**
   * `moved`: `next` is still ahead at `now`; `passed`: it is not (a move east in the last hour of a
   * year), so the tiers keep `was`, still ahead: no zone change ends a tier on the spot.
   */
  outcome: "moved" | "passed";
}

/**
 * Where calendar-year retention ends go when the business moves its clock from `from` to `to` at
 * `now`: "until 1 January" is midnight where the business now is, as the card reckons it. A
 * calendar-year tier is kept until the start of next year (kept on the year just ended) or of the
 * year after next (reached this year), reckoned at an evaluation no later than `now`, so the ends
 * still ahead on the old clock are those two instants, and only they are listed; one the new clock
 * puts at the same instant is not (no move). A rolling tier's end (12 months after it was reached)
 * is a duration, not a calendar boundary, and is not listed: it stays.
 *
 * @example rezonedRetentionEnds("Europe/Amsterdam", "Europe/Lisbon", new Date("2026-06-01T10:00Z")) // 2026-12-31T23:00Z → 2027-01-01T00:00Z, 2027-12-31T23:00Z → 2028-01-01T00:00Z, both "moved"
 */
export function rezonedRetentionEnds(from: string, to: string, now: Date): RezonedRetentionEnd[] {
  const year = zonedParts(now, from).year;
  const ends: RezonedRetentionEnd[] = [];
  for (const ahead of [1, 2]) {
    const was = startOfYear(now, from, ahead);
    const next = zonedTimeToUtc({ year: year + ahead, month: 1, day: 1 }, to);
    if (next.getTime() === was.getTime()) continue;
    ends.push({ was, next, outcome: next > now ? "moved" : "passed" });
  }
  return ends;
}

/** The highest tier whose threshold the metric reaches, or null below the lowest threshold. */
export function qualifyingTier(tiers: readonly TierLevel[], metric: number): TierLevel | null {
  let best: TierLevel | null = null;
  for (const t of tiers) if (metric >= t.threshold && (!best || t.rank > best.rank)) best = t;
  return best;
}

/**
 * Whether the member's tier no longer holds at `now`: its retention has ended (or it has no
 * retention date). Such a tier must be re-evaluated before it is used, sweep or no sweep.
 */
export function retentionEnded(current: TierState, now: Date): boolean {
  return current.tier_id !== null && (current.expires_at === null || current.expires_at <= now);
}

/**
 * Whether an evaluation at `now` needs the metric of the previous calendar year: only when a
 * calendar-year tier's retention has ended, so the common evaluation reads one metric.
 */
export function needsLastYearMetric(period: TierPeriod, current: TierState, now: Date): boolean {
  return period === "calendar_year" && retentionEnded(current, now);
}

/**
 * Whether a purchase (or its refund) dated at `occurredAt` falls in the calendar year before the
 * one that holds `now`: a tier by calendar year must then weigh last year's metric too.
 */
export function datedLastYear(period: TierPeriod, occurredAt: Date, now: Date, timeZone: string): boolean {
  return (
    period === "calendar_year" &&
    occurredAt < startOfYear(now, timeZone) &&
    occurredAt >= startOfYear(now, timeZone, -1)
  );
}

/** The next tier state, and whether the previous calendar year's metric is what keeps it. */
export interface TierDecision {
  state: TierState;
  /** The tier is kept on what the previous calendar year reached (`state.expires_at`: next 1 January). */
  kept: boolean;
}

/**
 * The member's tier after an evaluation at `now` (see `nextTierState`), saying which metric
 * decided it. `lastYearMetric` is the previous calendar year's metric (null: not read), read when
 * `needsLastYearMetric`, or when a purchase dated last year arrives this year (a till's offline
 * queue, a back-dated sale): what last year reached is kept through this year, so it may raise a
 * tier still held, never lower it.
 */
export function decideTier(
  tiers: readonly TierLevel[],
  current: TierState,
  metric: number,
  period: TierPeriod,
  now: Date,
  timeZone: string,
  lastYearMetric: number | null,
): TierDecision {
  const reached = qualifyingTier(tiers, metric);
  const held = tiers.find((t) => t.id === current.tier_id) ?? null;
  // For a calendar year, what last year reached is kept through this year; the higher tier wins,
  // this year's on a tie (it is kept a year longer).
  const lastYear =
    lastYearMetric !== null && period === "calendar_year" ? qualifyingTier(tiers, lastYearMetric) : null;
  if (held !== null && current.expires_at !== null && current.expires_at > now) {
    if (reached && reached.rank >= held.rank && !(lastYear && lastYear.rank > reached.rank)) {
      return {
        state: { tier_id: reached.id, expires_at: retainedUntil(period, now, timeZone) },
        kept: false,
      };
    }
    if (lastYear && lastYear.rank > held.rank) {
      return { state: { tier_id: lastYear.id, expires_at: startOfYear(now, timeZone, 1) }, kept: true };
    }
    return { state: current, kept: false };
  }
  // No tier holds (none, or its retention has ended).
  if (lastYear && (!reached || lastYear.rank > reached.rank)) {
    return { state: { tier_id: lastYear.id, expires_at: startOfYear(now, timeZone, 1) }, kept: true };
  }
  if (reached) {
    return { state: { tier_id: reached.id, expires_at: retainedUntil(period, now, timeZone) }, kept: false };
  }
  return { state: { tier_id: null, expires_at: null }, kept: false };
}

/**
 * The member's tier after an evaluation at `now`: up at once, kept (and extended when reached
 * again) while retained, down only once the retention has ended — and then, for a calendar year,
 * to the higher of what this year's metric reaches (kept until the start of the year after next)
 * and what last year's reached (kept until the start of next year).
 *
 * @example nextTierState(tiers, { tier_id: silver, expires_at }, 120_000, "calendar_year", now, "UTC")
 */
export function nextTierState(
  tiers: readonly TierLevel[],
  current: TierState,
  metric: number,
  period: TierPeriod,
  now: Date,
  timeZone: string,
  lastYearMetric: number | null = null,
): TierState {
  return decideTier(tiers, current, metric, period, now, timeZone, lastYearMetric).state;
}

/**
 * The last instant at which a rolling-window tier kept until `expiresAt` can have been reached:
 * `retainedUntil` read backwards, 12 months earlier on the business's clock. It reads back only
 * to the minute: retention dates stored by earlier releases dropped the seconds, `retainedUntil`
 * turns 29 February into the 28th, and in the hour a clock goes back takes the earlier instant. So
 * the answer is the end of that minute, a day later when the day after is kept until `expiresAt` too
 * (29 February), an hour later when the hour after is (the repeated hour). Reading a little late
 * only adds purchases the member made just after reaching the tier, in the member's favour.
 *
 * @example lastReachedBy(new Date("2027-06-15T12:00:00Z"), "UTC") // 2026-06-15T12:00:59.999Z
 */
export function lastReachedBy(expiresAt: Date, timeZone: string): Date {
  const back = addMonths(expiresAt, -12, timeZone).getTime();
  const keptAsLong = (ms: number) =>
    retainedUntil("rolling_12_months", new Date(back + ms), timeZone).getTime() === expiresAt.getTime();
  const later = [DAY_MS, HOUR_MS].find(keptAsLong) ?? 0;
  const minute = Math.floor((back + later) / MINUTE_MS) * MINUTE_MS;
  return new Date(minute + MINUTE_MS - 1);
}

/** A refund, as the member's tier sees it. */
export interface TierRefund {
  /** When the refunded purchase occurred: a refund counts on its purchase's date. */
  purchaseAt: Date;
  /**
   * What the refund took off the metric of each window that holds the purchase: the amount for
   * spend, the points it reversed or could not take back for points, one visit when the purchase
   * is now fully refunded.
   */
  lowered: number;
}

/**
 * Whether a refund may have undone the qualification of the member's tier, before anything is
 * read: the member holds a tier whose retention runs, the refund lowered the metric, and its
 * purchase counts where the tier was reached — in this or last calendar year, or in the rolling
 * window at the last moment the tier was reached (`lastReachedBy`). A purchase made after that
 * moment did not help reach the tier, so its refund cannot take the tier back.
 */
export function refundMayUndoTier(
  period: TierPeriod,
  current: TierState,
  refund: TierRefund,
  now: Date,
  timeZone: string,
): boolean {
  if (current.tier_id === null || current.expires_at === null || current.expires_at <= now) return false;
  if (refund.lowered <= 0) return false;
  if (period === "calendar_year") return refund.purchaseAt >= startOfYear(now, timeZone, -1);
  const reachedBy = lastReachedBy(current.expires_at, timeZone);
  return refund.purchaseAt <= reachedBy && refund.purchaseAt >= windowStart(period, reachedBy, timeZone);
}

/** The metrics `tierAfterRefund` reads, the refund deducted. */
export interface RefundMetrics {
  /** The current window's. */
  metric: number;
  /** calendar_year: the previous calendar year's (null for a rolling window). */
  lastYear: number | null;
  /** rolling_12_months: the window's at `lastReachedBy` the tier's retention date (null for a calendar year). */
  atReach: number | null;
}

/** The tier a refund leaves the member, and the figures behind it. */
export interface RefundTierDecision {
  state: TierState;
  /** The metric the refund left below the held tier's threshold. */
  left: number;
  /** The metric that reaches the tier moved to (null: no tier), and whether it is last calendar year's. */
  reached: { metric: number; lastYear: boolean } | null;
}

/**
 * The member's tier after a refund (null: unchanged). A refund that undoes the qualification
 * takes the tier back at once; one that does not changes nothing, and a metric that merely decays
 * still waits for the retention to end. Never up, and the retention date stays with the tier.
 *
 * - calendar_year: the tier held is what this or last year's metric reaches (one reached earlier
 *   has ended) unless a refund undid it, so the refund is checked on its purchase's year, and the
 *   member gets what `decideTier` gives once the retention has ended: the higher of this year's
 *   tier (kept until the start of the year after next) and last year's (until next 1 January).
 * - rolling_12_months: the tier was last reached at `lastReachedBy`; the refund is checked on the
 *   window then, and the member gets the higher of what that window still reaches (kept until the
 *   same date) and what the current one reaches (kept 12 months from now; it wins a tie).
 *
 * Only a refund that takes that metric from the held tier's threshold or above to below it
 * counts. So a threshold the business raised after the member qualified does not by itself cost
 * the tier on an unrelated refund: a metric already below the new threshold is not lowered below
 * it by this refund. A refund that does cross the new threshold takes the tier back, though the
 * metric may still pass the threshold the member qualified at: that one is not kept.
 */
export function tierAfterRefund(
  tiers: readonly TierLevel[],
  current: TierState,
  period: TierPeriod,
  now: Date,
  timeZone: string,
  refund: TierRefund,
  metrics: RefundMetrics,
): RefundTierDecision | null {
  const held = tiers.find((t) => t.id === current.tier_id);
  if (!held || !refundMayUndoTier(period, current, refund, now, timeZone)) return null;
  const crossed = (left: number) => left < held.threshold && left + refund.lowered >= held.threshold;
  const rank = (id: string | null) => tiers.find((t) => t.id === id)?.rank ?? 0;
  let decision: RefundTierDecision;
  if (period === "calendar_year") {
    const lastYear = metrics.lastYear;
    assert(lastYear !== null, "a refund is checked against a calendar-year tier with last year's metric");
    const left = refund.purchaseAt >= startOfYear(now, timeZone) ? metrics.metric : lastYear;
    if (!crossed(left)) return null;
    const ended = { tier_id: held.id, expires_at: null };
    const { state, kept } = decideTier(tiers, ended, metrics.metric, period, now, timeZone, lastYear);
    const reached =
      state.tier_id === null ? null : { metric: kept ? lastYear : metrics.metric, lastYear: kept };
    decision = { state, left, reached };
  } else {
    const left = metrics.atReach;
    assert(left !== null, "a refund is checked against a rolling tier with the window where it was reached");
    if (!crossed(left)) return null;
    const then = qualifyingTier(tiers, left);
    const since = qualifyingTier(tiers, metrics.metric);
    if (since && since.rank >= (then?.rank ?? 0)) {
      const state = { tier_id: since.id, expires_at: retainedUntil(period, now, timeZone) };
      decision = { state, left, reached: { metric: metrics.metric, lastYear: false } };
    } else if (then) {
      const state = { tier_id: then.id, expires_at: current.expires_at };
      decision = { state, left, reached: { metric: left, lastYear: false } };
    } else {
      decision = { state: { tier_id: null, expires_at: null }, left, reached: null };
    }
  }
  return rank(decision.state.tier_id) < held.rank ? decision : null;
}
