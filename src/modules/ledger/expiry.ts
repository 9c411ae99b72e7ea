import { addLocalDays, DAY_MS, startOfMonth, startOfYear, zonedParts } from "../../shared/time.ts";
import { ExpiryPolicy } from "../program/config.ts";

/**
 * When points earned at `earnedAt` expire under `policy`, in the business's time zone. "End of
 * month" means the first instant of the next month: points earned on 15 March with
 * `months_after: 0` can be spent until 31 March 23:59:59.999 local time and are gone at 1 April 00:00.
 *
 * A month or a year is counted from when the points can be spent (`availableAt`, after a pending
 * period): points earned on 30 March with 7 days pending are spendable from 6 April and, at the end
 * of the month, expire on 1 May, not on 1 April before they could ever be spent. A number of days
 * is counted from the earning (the program refuses a pending period as long as that), in calendar
 * days of the business's zone: the same time of day, N dates later, across summer time too.
 *
 * @example expiresAt(new Date("2026-03-15T10:00Z"), { policy: "end_of_month", months_after: 0 }, "UTC") // 2026-04-01T00:00Z
 */
export function expiresAt(
  earnedAt: Date,
  policy: ExpiryPolicy,
  timeZone: string,
  availableAt: Date = earnedAt,
): Date | null {
  switch (policy.policy) {
    case "never":
      return null;
    case "days_after_earn":
      return addLocalDays(earnedAt, policy.days, timeZone);
    case "end_of_month":
      return startOfMonth(availableAt, timeZone, policy.months_after + 1);
    case "end_of_year":
      return startOfYear(availableAt, timeZone, policy.years_after + 1);
  }
}

/** What an open lot's expiry was reckoned from (`expiresAt`'s arguments), and the expiry itself. */
export interface LotTimes {
  /** When the points were earned: the purchase's or event's `occurred_at`. */
  earned_at: Date;
  available_at: Date;
  expires_at: Date;
}

/**
 * Where a lot's expiry goes when the business moves its clock from `from` to `to`:
 * - `moved`: the lot's policy gives another instant in `to` (end of month at midnight Lisbon
 *   instead of midnight Amsterdam), still ahead at `now`;
 * - `same`: it gives the same instant (a number of days between zones whose summer time changes
 *   on the same day);
 * - `passed`: the instant it gives in `to` is already past at `now` (a move east in the last hour
 *   of a month): the lot keeps its expiry, which is still ahead, so no zone change ever expires
 *   points on the spot, nor dates their expiry before the change;
 * - `unknown`: no expiry policy gives the lot's expiry in `from` (it was reckoned on yet another
 *   clock): the lot keeps it.
 *
 * The lot's policy is the program's when that gives its expiry in `from`, or else the one its
 * dates tell (see `lotPolicy`): a change of the program's policy leaves earned points their expiry,
 * and a change of zone does not apply it to them either.
 *
 * @example rezonedExpiry(lot, { policy: "end_of_month", months_after: 0 }, "Europe/Amsterdam", "Europe/Lisbon", now) // { outcome: "moved", expires_at: 2026-05-01T00:00+01:00 }
 */
export function rezonedExpiry(
  lot: LotTimes,
  policy: ExpiryPolicy,
  from: string,
  to: string,
  now: Date,
):
  | { outcome: "moved"; expires_at: Date }
  | { outcome: "same" }
  | { outcome: "passed"; expires_at: Date }
  | { outcome: "unknown" } {
  const earnedUnder = lotPolicy(lot, policy, from);
  // A policy that gives the lot's expiry gives an instant in every zone: it is not "never".
  const next = earnedUnder && expiresAt(lot.earned_at, earnedUnder, to, lot.available_at);
  if (!next) return { outcome: "unknown" };
  if (next.getTime() === lot.expires_at.getTime()) return { outcome: "same" };
  if (next.getTime() <= now.getTime()) return { outcome: "passed", expires_at: next };
  return { outcome: "moved", expires_at: next };
}

/**
 * The expiry policy that gives `lot.expires_at` in `timeZone`: the program's `policy` when it does;
 * otherwise one the lot's own dates tell (points earned before the program's policy changed), by
 * the whole years, months or days from release or earning to expiry, tried in that order (a 1 January
 * expiry is read as an end of year); null when none does.
 *
 * @example lotPolicy({ earned_at, available_at: earned_at, expires_at: 1 May 00:00 Amsterdam }, { policy: "never" }, "Europe/Amsterdam") // { policy: "end_of_month", months_after: 0 } for points earned in April
 */
export function lotPolicy(lot: LotTimes, policy: ExpiryPolicy, timeZone: string): ExpiryPolicy | null {
  const gives = (candidate: ExpiryPolicy) =>
    expiresAt(lot.earned_at, candidate, timeZone, lot.available_at)?.getTime() === lot.expires_at.getTime();
  if (gives(policy)) return policy;
  const end = zonedParts(lot.expires_at, timeZone);
  const released = zonedParts(lot.available_at, timeZone);
  const earned = zonedParts(lot.earned_at, timeZone);
  const candidates: ExpiryPolicy[] = [
    { policy: "end_of_year", years_after: end.year - released.year - 1 },
    {
      policy: "end_of_month",
      months_after: (end.year - released.year) * 12 + end.month - released.month - 1,
    },
    {
      policy: "days_after_earn",
      days: Math.round(
        (Date.UTC(end.year, end.month - 1, end.day) - Date.UTC(earned.year, earned.month - 1, earned.day)) /
          DAY_MS,
      ),
    },
  ];
  // Only a policy the program could have had (its bounds: up to 10 years, 120 months, 3650 days).
  return candidates.find((c) => ExpiryPolicy.safeParse(c).success && gives(c)) ?? null;
}
