import { AppError } from "./errors.ts";

/**
 * Calendar arithmetic in a business's own time zone, on top of `Intl` (no time-zone database of
 * our own). A business in Europe/Warsaw has "weekday 7–9" and "end of month" on Warsaw's clock.
 */

export interface ZonedParts {
  year: number;
  month: number; // 1-12
  day: number; // 1-31
  hour: number; // 0-23
  minute: number;
  second: number;
  /** ISO weekday: 1 = Monday … 7 = Sunday. */
  weekday: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
const WEEKDAYS: Record<string, number> = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
      weekday: "short",
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** The wall-clock reading of `date` in `timeZone`, straight from `Intl` (slow: ~20 µs a call). */
export function zonedPartsByIntl(date: Date, timeZone: string): ZonedParts {
  const parts: Record<string, string> = {};
  for (const p of formatter(timeZone).formatToParts(date)) parts[p.type] = p.value;
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    second: Number(parts.second),
    weekday: WEEKDAYS[parts.weekday ?? ""] ?? 0,
  };
}

const HOUR_MS = 3_600_000;
const OFFSETS_MAX = 50_000;
// Per time zone, its offset from UTC per UTC hour, for the hours in which it does not change
// (two maps rather than one keyed by a built string, which costs more than the lookup).
const hourOffsets = new Map<string, Map<number, number>>();

function offsetByIntl(ms: number, timeZone: string): number {
  const p = zonedPartsByIntl(new Date(ms), timeZone);
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - Math.floor(ms / 1000) * 1000;
}

/**
 * The wall-clock reading of `date` in `timeZone`. Asking `Intl` is slow and a purchase asks
 * several times (rules, caps, tiers), so the offset is remembered per UTC hour: an offset changes
 * at most once an hour, so when it is the same at the first and the last second of the hour it
 * holds for all of it. An hour with a change is read from `Intl` every time.
 *
 * @example zonedParts(new Date("2026-03-02T08:30:00Z"), "Europe/Amsterdam") // { hour: 9, minute: 30, weekday: 1, … }
 */
export function zonedParts(date: Date, timeZone: string): ZonedParts {
  const ms = date.getTime();
  const hour = Math.floor(ms / HOUR_MS) * HOUR_MS;
  let offsets = hourOffsets.get(timeZone);
  if (!offsets) {
    offsets = new Map();
    hourOffsets.set(timeZone, offsets);
  }
  let offset = offsets.get(hour);
  if (offset === undefined) {
    const first = offsetByIntl(hour, timeZone);
    if (first !== offsetByIntl(hour + HOUR_MS - 1000, timeZone)) return zonedPartsByIntl(date, timeZone);
    if (offsets.size >= OFFSETS_MAX) offsets.clear();
    offsets.set(hour, first);
    offset = first;
  }
  const wall = new Date(Math.floor(ms / 1000) * 1000 + offset);
  return {
    year: wall.getUTCFullYear(),
    month: wall.getUTCMonth() + 1,
    day: wall.getUTCDate(),
    hour: wall.getUTCHours(),
    minute: wall.getUTCMinutes(),
    second: wall.getUTCSeconds(),
    weekday: ((wall.getUTCDay() + 6) % 7) + 1,
  };
}

/**
 * The instant at which the wall clock in `timeZone` reads the given local time. In a DST gap the
 * result is the first valid instant after it; in an overlap, the earlier one.
 *
 * @example zonedTimeToUtc({ year: 2026, month: 1, day: 1 }, "Europe/Amsterdam") // 2025-12-31T23:00:00Z
 */
export function zonedTimeToUtc(
  local: { year: number; month: number; day: number; hour?: number; minute?: number },
  timeZone: string,
): Date {
  const asUtc = Date.UTC(local.year, local.month - 1, local.day, local.hour ?? 0, local.minute ?? 0);
  // The offsets a day either side are the only ones `local` can have (a zone changes its offset
  // at most once in two days). Each gives a candidate instant, valid if the clock there reads
  // `local`: both are valid in an overlap (take the earlier), neither in a gap.
  const before = offsetMs(new Date(asUtc - DAY_MS), timeZone);
  const after = offsetMs(new Date(asUtc + DAY_MS), timeZone);
  const early = asUtc - Math.max(before, after);
  const late = asUtc - Math.min(before, after);
  if (offsetMs(new Date(early), timeZone) === asUtc - early) return new Date(early);
  if (offsetMs(new Date(late), timeZone) === asUtc - late) return new Date(late);
  // In a gap the clock jumps over `local` at an instant in (early, late]: find it, to the second
  // (e.g. 00:00 on a day whose DST starts at midnight is 01:00, the first instant of that day).
  let lo = early;
  let hi = late;
  while (hi - lo > 1000) {
    const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
    if (offsetMs(new Date(mid), timeZone) === before) lo = mid;
    else hi = mid;
  }
  return new Date(hi);
}

function offsetMs(date: Date, timeZone: string): number {
  const p = zonedParts(date, timeZone);
  const wall = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return wall - Math.floor(date.getTime() / 1000) * 1000;
}

export function startOfDay(date: Date, timeZone: string): Date {
  const p = zonedParts(date, timeZone);
  return zonedTimeToUtc({ year: p.year, month: p.month, day: p.day }, timeZone);
}

export function startOfMonth(date: Date, timeZone: string, addMonths = 0): Date {
  const p = zonedParts(date, timeZone);
  const monthIndex = p.month - 1 + addMonths;
  const year = p.year + Math.floor(monthIndex / 12);
  const month = (((monthIndex % 12) + 12) % 12) + 1;
  return zonedTimeToUtc({ year, month, day: 1 }, timeZone);
}

export function startOfYear(date: Date, timeZone: string, addYears = 0): Date {
  const p = zonedParts(date, timeZone);
  return zonedTimeToUtc({ year: p.year + addYears, month: 1, day: 1 }, timeZone);
}

/** Monday 00:00 of the week that holds `date`. */
export function startOfWeek(date: Date, timeZone: string): Date {
  const p = zonedParts(date, timeZone);
  const monday = new Date(Date.UTC(p.year, p.month - 1, p.day - (p.weekday - 1)));
  return zonedTimeToUtc(
    { year: monday.getUTCFullYear(), month: monday.getUTCMonth() + 1, day: monday.getUTCDate() },
    timeZone,
  );
}

/**
 * The same wall-clock time `months` later (clamped to the month's last day), to the millisecond:
 * a tier reached at 10:00:30 is kept until 10:00:30, not 10:00:00, twelve months on.
 */
export function addMonths(date: Date, months: number, timeZone: string): Date {
  const p = zonedParts(date, timeZone);
  const monthIndex = p.month - 1 + months;
  const year = p.year + Math.floor(monthIndex / 12);
  const month = (((monthIndex % 12) + 12) % 12) + 1;
  const lastDay = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return atReading({ ...p, year, month, day: Math.min(p.day, lastDay) }, date, timeZone);
}

export const DAY_MS = 86_400_000;

export function addDays(date: Date, days: number): Date {
  return new Date(date.getTime() + days * DAY_MS);
}

/**
 * The same wall-clock time `days` calendar days later in `timeZone` (to the millisecond), which
 * is what "30 days after earning" or "valid 14 days" means to a business and its customers:
 * across a change to or from summer time a day has 23 or 25 hours, and 24-hour days would end
 * an hour off — on another date when the time is near midnight. A time the clock skips that day
 * becomes the first instant after the gap.
 *
 * @example addLocalDays(new Date("2026-03-01T22:30:00Z"), 30, "Europe/Amsterdam") // 2026-03-31T21:30:00Z (23:30 CEST)
 */
export function addLocalDays(date: Date, days: number, timeZone: string): Date {
  const p = zonedParts(date, timeZone);
  const day = new Date(Date.UTC(p.year, p.month - 1, p.day + days));
  return atReading(
    { ...p, year: day.getUTCFullYear(), month: day.getUTCMonth() + 1, day: day.getUTCDate() },
    date,
    timeZone,
  );
}

/**
 * The instant at which the clock in `to` reads what the clock in `from` reads at `date`, to the
 * millisecond: 23:00 UTC on 31 December 2027 is midnight, 1 January 2028, in Amsterdam, and
 * midnight on 1 January 2028 in Lisbon is 00:00 UTC. A reading the clock in `to` skips (the hour
 * summer time starts) becomes the first instant after the gap, with the reading's seconds; one it
 * shows twice (the hour summer time ends), the earlier of the two: as `addLocalDays`, and so an
 * expiry of "N days after earning", resolves such a time on that clock. When `date` itself reads
 * the same in both zones (the same zone, or zones with the same offset then) it is `date`: the
 * later of two equal readings stays the later.
 *
 * @example sameWallClock(new Date("2027-12-31T23:00:00Z"), "Europe/Amsterdam", "Europe/Lisbon") // 2028-01-01T00:00:00Z
 */
export function sameWallClock(date: Date, from: string, to: string): Date {
  if (from === to) return date;
  const local = zonedParts(date, from);
  const there = zonedParts(date, to);
  const same =
    local.year === there.year &&
    local.month === there.month &&
    local.day === there.day &&
    local.hour === there.hour &&
    local.minute === there.minute &&
    local.second === there.second;
  return same ? date : atReading(local, date, to);
}

/**
 * The instant at which the clock in `timeZone` reads the date and time of `local`, with the
 * seconds and milliseconds `date` has within its minute (`local.second` is `date`'s second). A
 * minute the clock skips is the first instant after the gap, one it shows twice the earlier
 * (`zonedTimeToUtc`).
 */
function atReading(local: ZonedParts, date: Date, timeZone: string): Date {
  const minute = zonedTimeToUtc(
    { year: local.year, month: local.month, day: local.day, hour: local.hour, minute: local.minute },
    timeZone,
  );
  const withinMinute = local.second * 1000 + (((date.getTime() % 1000) + 1000) % 1000);
  return new Date(minute.getTime() + withinMinute);
}

const zones = new Set([...Intl.supportedValuesOf("timeZone"), "UTC"]);

export function isTimeZone(value: string): boolean {
  return zones.has(value);
}

/** How far a till's clock may run ahead of (or behind) the server's. */
export const FUTURE_TOLERANCE_MS = 5 * 60_000;

/**
 * When a reported fact (a purchase, an event) happened: the given time, or now. A time up to a
 * few minutes ahead (a till's clock running fast) is taken as now, so every fact has happened by
 * the time it is recorded and counts in every total read after it; further in the future it is
 * `422 occurred_at_in_future`.
 *
 * @example const at = resolveOccurredAt(input.occurred_at, now)
 */
export function resolveOccurredAt(iso: string | undefined, now: Date): Date {
  const at = iso ? new Date(iso) : now;
  if (at.getTime() > now.getTime() + FUTURE_TOLERANCE_MS) {
    throw new AppError(422, "occurred_at_in_future", "occurred_at is in the future.");
  }
  return at.getTime() > now.getTime() ? now : at;
}
