/** Wall-clock times in the business's time zone, whatever the browser's zone is. */

/**
 * The UTC instant of a wall-clock time (`YYYY-MM-DDTHH:MM`) in `timeZone`, as ISO-8601: rules and
 * rewards start at midnight where the business is, not where the browser is.
 */
export function zonedToIso(local: string, timeZone: string): string {
  const [date = "", time = "00:00"] = local.split("T");
  const [y = 0, m = 1, d = 1] = date.split("-").map(Number);
  const [hh = 0, mm = 0] = time.split(":").map(Number);
  const wall = Date.UTC(y, m - 1, d, hh, mm);
  let guess = wall;
  for (let i = 0; i < 2; i++) guess = wall - offsetMs(guess, timeZone);
  return new Date(guess).toISOString();
}

/** The wall-clock time (`YYYY-MM-DDTHH:MM`) of an ISO instant in `timeZone`. */
export function isoToZoned(iso: string, timeZone: string): string {
  const shifted = new Date(new Date(iso).getTime() + offsetMs(new Date(iso).getTime(), timeZone));
  return shifted.toISOString().slice(0, 16);
}

function offsetMs(instant: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  }).formatToParts(new Date(instant));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  const asUtc = Date.UTC(
    get("year"),
    get("month") - 1,
    get("day"),
    get("hour"),
    get("minute"),
    get("second"),
  );
  return asUtc - Math.floor(instant / 1000) * 1000;
}
