import { addLocalDays, startOfMonth, startOfYear } from "../../shared/time.ts";
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
