import { addLocalDays, sameWallClock, startOfMonth, startOfYear } from "../../shared/time.ts";
import type { ExpiryPolicy } from "../program/config.ts";

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

/**
 * Where a lot's expiry goes when the business moves its clock from `from` to `to`: to the same
 * reading on the new clock (`sameWallClock`). Every policy's expiry is a local time on the clock it
 * was reckoned on — midnight on the first of a month or of a year, or the time of day the points
 * were earned, N dates later — so the lot keeps its date and time, and only the offset changes:
 * midnight on 1 May in Amsterdam becomes midnight on 1 May in Lisbon, an hour later.
 * - `moved`: that reading on the new clock is another instant, still ahead at `now`;
 * - `same`: it is the same instant (zones with the same offset on that date);
 * - `passed`: it is already past at `now` (a move east in the last hour before the expiry): the
 *   lot keeps its expiry, which is still ahead, so no zone change ever expires points on the spot,
 *   nor dates their expiry before the change.
 *
 * @example rezonedExpiry(new Date("2026-04-30T22:00Z"), "Europe/Amsterdam", "Europe/Lisbon", now) // { outcome: "moved", expires_at: 2026-04-30T23:00Z }
 */
export function rezonedExpiry(
  expiresAt: Date,
  from: string,
  to: string,
  now: Date,
): { outcome: "moved"; expires_at: Date } | { outcome: "same" } | { outcome: "passed"; expires_at: Date } {
  const next = sameWallClock(expiresAt, from, to);
  if (next.getTime() === expiresAt.getTime()) return { outcome: "same" };
  if (next.getTime() <= now.getTime()) return { outcome: "passed", expires_at: next };
  return { outcome: "moved", expires_at: next };
}
