import { describe, expect, it } from "vitest";
import type { ProgramSnapshot } from "../modules/program/snapshot.ts";
import type { Rule, RuleCap } from "../modules/rules/schema.ts";
import { capWindows } from "./price-purchase.ts";

/** Only the time zone and the rules' caps matter to the cap windows. */
const amsterdam = { timeZone: "Europe/Amsterdam" } as ProgramSnapshot;
const rule = (period: RuleCap["period"]) => ({ id: period, cap: { period, max_times: 1 } }) as Rule;

function window(period: RuleCap["period"], at: string) {
  const { since, until } = capWindows(amsterdam, [rule(period)], new Date(at));
  return [since[0]?.toISOString(), until[0]?.toISOString() ?? null];
}

describe("cap windows", () => {
  it.each([
    // A day of 23 hours (summer time starts) and one of 25 (it ends).
    ["day", "2026-03-29T12:00:00Z", "2026-03-28T23:00:00.000Z", "2026-03-29T22:00:00.000Z"],
    ["day", "2026-10-25T12:00:00Z", "2026-10-24T22:00:00.000Z", "2026-10-25T23:00:00.000Z"],
    // Midnight belongs to the day it starts.
    ["day", "2026-03-01T23:00:00Z", "2026-03-01T23:00:00.000Z", "2026-03-02T23:00:00.000Z"],
    ["week", "2026-03-29T12:00:00Z", "2026-03-22T23:00:00.000Z", "2026-03-29T22:00:00.000Z"],
    ["week", "2026-03-01T22:59:59Z", "2026-02-22T23:00:00.000Z", "2026-03-01T23:00:00.000Z"],
    ["month", "2026-02-20T09:00:00Z", "2026-01-31T23:00:00.000Z", "2026-02-28T23:00:00.000Z"],
    ["year", "2025-12-20T09:00:00Z", "2024-12-31T23:00:00.000Z", "2025-12-31T23:00:00.000Z"],
    ["lifetime", "2025-12-20T09:00:00Z", "1900-01-01T00:00:00.000Z", null],
  ] as const)("%s at %s: from %s up to %s", (period, at, since, until) => {
    expect(window(period, at)).toEqual([since, until]);
  });

  it("leaves out rules without a cap", () => {
    const uncapped = { id: "free", cap: null } as Rule;
    expect(capWindows(amsterdam, [uncapped, rule("day")], new Date("2026-03-02T09:00:00Z")).ruleIds).toEqual([
      "day",
    ]);
  });
});
