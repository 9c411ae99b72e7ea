import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";

/**
 * Points & expiry after a save refused with `program_changed` (another manager saved meanwhile):
 * what the manager typed stays, what only the other side changed comes in, and the page can say
 * which is which (`mergeSettings` in web/src/dashboard/program/settings.tsx).
 */

interface Text {
  enabled: boolean;
  earn: string;
  per: string;
  rounding: "floor" | "round" | "ceil";
  pending: string;
  expiry: "never" | "days_after_earn" | "end_of_month" | "end_of_year";
  expiryAmount: string;
  negative: boolean;
  soon: string;
  metric: "spend" | "points" | "visits";
  period: "calendar_year" | "rolling_12_months";
  reversePoints: boolean;
  reverseStamps: boolean;
}
interface Merged {
  text: Text;
  theirs: string[];
  mine: string[];
  both: string[];
  edited: string[];
}
type MergeSettings = (base: Text, mine: Text, theirs: Text, edited?: string[]) => Merged;

// A .tsx module: Vitest compiles it; the path is a variable so that the Node type check, which
// knows no JSX, leaves it to the web app's (`tsc -p web`).
const SETTINGS = "../../web/src/dashboard/program/settings.tsx";
let mergeSettings: MergeSettings;
beforeAll(async () => {
  vi.stubGlobal("window", { addEventListener() {}, removeEventListener() {} });
  ({ mergeSettings } = (await import(SETTINGS)) as { mergeSettings: MergeSettings });
});
afterAll(() => {
  vi.unstubAllGlobals();
});

const read: Text = {
  enabled: true,
  earn: "1",
  per: "1.00",
  rounding: "floor",
  pending: "0",
  expiry: "never",
  expiryAmount: "",
  negative: false,
  soon: "30",
  metric: "spend",
  period: "calendar_year",
  reversePoints: true,
  reverseStamps: true,
};

describe("settings typed over a version saved meanwhile", () => {
  it("keep what the manager typed and take what only the other side changed", () => {
    const typed = { ...read, pending: "14" };
    const saved = { ...read, expiry: "end_of_month" as const, expiryAmount: "12" };
    const merged = mergeSettings(read, typed, saved);
    expect(merged.text).toEqual({ ...read, pending: "14", expiry: "end_of_month", expiryAmount: "12" });
    expect(merged.theirs).toEqual(["expiry"]);
    expect(merged.mine).toEqual(["pending"]);
    expect(merged.both).toEqual([]);
  });

  it("treat the rate as one: two managers doubling it two ways do not make it four times", () => {
    // One doubled the points, the other halved the amount: the same change, not two.
    const typed = { ...read, per: "0.50" };
    const saved = { ...read, earn: "2" };
    const merged = mergeSettings(read, typed, saved);
    expect(merged.text).toMatchObject({ earn: "1", per: "0.50" });
    expect(merged.both).toEqual(["earn"]);
  });

  it("keep a value typed before an earlier conflict, though it equals the version read at it", () => {
    // A typed earn 2; B saved earn 2 (nothing to tell); C then saved earn 1.
    const typed = { ...read, earn: "2", soon: "14" };
    const first = mergeSettings(read, typed, { ...read, earn: "2" });
    expect(first.edited).toEqual(["earn", "soon"]);
    const second = mergeSettings({ ...read, earn: "2" }, first.text, { ...read, earn: "1" }, first.edited);
    expect(second.text).toMatchObject({ earn: "2", soon: "14" });
    expect(second.mine).toEqual(["earn", "soon"]);
    expect(second.both).toEqual(["earn"]);
    expect(second.theirs).toEqual([]);
  });

  it("name a field both changed, differently, and keep the manager's value", () => {
    const typed = { ...read, earn: "2", rounding: "round" as const };
    const saved = { ...read, earn: "3", rounding: "round" as const };
    const merged = mergeSettings(read, typed, saved);
    expect(merged.text.earn).toBe("2");
    expect(merged.mine).toEqual(["earn"]);
    expect(merged.both).toEqual(["earn"]);
    // Both made the same change: nothing to tell.
    expect(merged.theirs).toEqual([]);
  });

  it("treat the expiry's policy and its amount as one: no mix of one side's policy with the other's amount", () => {
    const typed = { ...read, expiry: "days_after_earn" as const, expiryAmount: "365" };
    const saved = { ...read, expiry: "end_of_year" as const, expiryAmount: "1" };
    const merged = mergeSettings(read, typed, saved);
    expect(merged.text).toMatchObject({ expiry: "days_after_earn", expiryAmount: "365" });
    expect(merged.both).toEqual(["expiry"]);
  });

  it("count text that differs only by spaces as unchanged", () => {
    const typed = { ...read, soon: " 30 " };
    const saved = { ...read, soon: "7" };
    const merged = mergeSettings(read, typed, saved);
    expect(merged.text.soon).toBe("7");
    expect(merged.theirs).toEqual(["soon"]);
    expect(merged.mine).toEqual([]);
  });
});
