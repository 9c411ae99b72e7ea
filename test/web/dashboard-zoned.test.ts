import { describe, expect, it } from "vitest";
import { isoToZoned, zonedToIso } from "../../web/src/dashboard/zoned.ts";

/** Dates typed in the dashboard mean the business's wall clock, across daylight saving changes. */
describe("wall-clock times in the business's time zone", () => {
  it.each([
    ["2026-01-15T00:00", "Europe/Amsterdam", "2026-01-14T23:00:00.000Z"],
    ["2026-07-15T09:30", "Europe/Amsterdam", "2026-07-15T07:30:00.000Z"],
    // The night the clocks go forward (29 March 2026, 02:00 → 03:00) and back (25 October).
    ["2026-03-29T03:00", "Europe/Warsaw", "2026-03-29T01:00:00.000Z"],
    ["2026-10-25T12:00", "Europe/Warsaw", "2026-10-25T11:00:00.000Z"],
    ["2026-06-01T00:00", "America/Sao_Paulo", "2026-06-01T03:00:00.000Z"],
    ["2026-06-01T00:00", "UTC", "2026-06-01T00:00:00.000Z"],
  ])("reads %s in %s as %s, and back", (local, zone, iso) => {
    expect(zonedToIso(local, zone)).toBe(iso);
    expect(isoToZoned(iso, zone)).toBe(local);
  });
});
