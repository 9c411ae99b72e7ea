import { addMonths, startOfYear } from "../../shared/time.ts";

/**
 * Tier qualification, as pure functions. A tier is reached the moment the member's metric (spend,
 * points or visits) in the qualification window crosses its threshold, and is then kept until
 * the end of the following period — downgrades happen only when that retention ends:
 *
 * - calendar_year: the window is the current calendar year; a tier reached in 2026 is kept until
 *   1 January 2028 (the end of 2027), and reaching it again in 2027 extends it to 2029.
 * - rolling_12_months: the window is the last 12 months; a tier is kept 12 months after the last
 *   moment it was reached.
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

/** The start of the window whose metric counts for qualification at `now`. */
export function windowStart(period: TierPeriod, now: Date, timeZone: string): Date {
  return period === "calendar_year" ? startOfYear(now, timeZone) : addMonths(now, -12, timeZone);
}

/** Until when a tier reached at `now` is kept. */
export function retainedUntil(period: TierPeriod, now: Date, timeZone: string): Date {
  return period === "calendar_year" ? startOfYear(now, timeZone, 2) : addMonths(now, 12, timeZone);
}

/** The highest tier whose threshold the metric reaches, or null below the lowest threshold. */
export function qualifyingTier(tiers: readonly TierLevel[], metric: number): TierLevel | null {
  let best: TierLevel | null = null;
  for (const t of tiers) if (metric >= t.threshold && (!best || t.rank > best.rank)) best = t;
  return best;
}

/**
 * The member's tier after an evaluation at `now`: up at once, kept (and extended when reached
 * again) while retained, down only once the retention has ended.
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
): TierState {
  const reached = qualifyingTier(tiers, metric);
  const held = tiers.find((t) => t.id === current.tier_id) ?? null;
  const stillHeld = held !== null && current.expires_at !== null && current.expires_at > now;
  const until = retainedUntil(period, now, timeZone);
  if (reached && (!stillHeld || reached.rank >= (held?.rank ?? 0))) {
    return { tier_id: reached.id, expires_at: until };
  }
  if (stillHeld) return current;
  return { tier_id: null, expires_at: null };
}
