import { describe, expect, it } from "vitest";
import { formatLastDay } from "../../web/src/i18n/format.ts";

describe("the last day something can be used, from the instant it ends", () => {
  it.each([
    // End of March in Amsterdam is stored as the first instant of April.
    ["2026-03-31T22:00:00.000Z", "Europe/Amsterdam", "en-US", "Mar 31, 2026"],
    ["2026-03-31T22:00:00.000Z", "Europe/Amsterdam", "nl", "31 mrt 2026"],
    // A tier kept to the end of 2027.
    ["2027-12-31T23:00:00.000Z", "Europe/Warsaw", "pl", "31 gru 2027"],
    ["2028-01-01T03:00:00.000Z", "America/Sao_Paulo", "pt-BR", "31 de dez. de 2027"],
    // Points that end at 10:23 can still be used that day.
    ["2026-06-01T10:23:00.000Z", "Europe/Amsterdam", "en-US", "Jun 1, 2026"],
  ])("%s in %s (%s) is used until %s", (iso, zone, locale, day) => {
    expect(formatLastDay(iso, locale, zone)).toBe(day);
  });
});
