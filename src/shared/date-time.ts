import { z } from "zod";

/**
 * The span of time the API takes a date-time in: from 1900 through 9999, in UTC. PostgreSQL's
 * `timestamptz` holds far more, but a purchase in year 0 or a reward valid until year 10000 is a
 * typo, and such a time does not even print back as ISO-8601 (JavaScript writes year 10000 as
 * `+010000`).
 */
export const EARLIEST_DATE_TIME = "1900-01-01T00:00:00Z";
export const LATEST_DATE_TIME = "9999-12-31T23:59:59Z";
const EARLIEST_MS = Date.parse(EARLIEST_DATE_TIME);
const LATEST_MS = Date.parse(LATEST_DATE_TIME) + 999;

/** Whether an ISO-8601 date-time falls in the span above. */
export function inDateTimeSpan(iso: string): boolean {
  const ms = Date.parse(iso);
  return ms >= EARLIEST_MS && ms <= LATEST_MS;
}

/**
 * An ISO-8601 date-time with a time zone (`2026-03-02T09:00:00+01:00`), within the span above.
 *
 * @example const Input = z.strictObject({ occurred_at: dateTimeInput().optional() })
 */
export function dateTimeInput() {
  return z.iso
    .datetime({ offset: true, error: "must be an ISO-8601 date-time with a time zone" })
    .refine(inDateTimeSpan, { error: `must be from ${EARLIEST_DATE_TIME} to ${LATEST_DATE_TIME}` });
}
