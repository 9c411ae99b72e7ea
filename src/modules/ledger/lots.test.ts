import { describe, expect, it } from "vitest";
import { allocateReversal, allocateSpend, type OpenLot, summarize } from "./lots.ts";

const NOW = new Date("2026-06-15T12:00:00Z");
const at = (iso: string) => new Date(iso);
function lot(
  id: string,
  points: number,
  opts: { available?: string; expires?: string | null; source?: string } = {},
): OpenLot {
  return {
    id,
    points_remaining: points,
    available_at: at(opts.available ?? "2026-01-01T00:00:00Z"),
    expires_at: opts.expires === undefined || opts.expires === null ? null : at(opts.expires),
    source_type: "purchase",
    source_id: opts.source ?? id,
  };
}

describe("allocateSpend", () => {
  it.each([
    {
      name: "takes the lot that expires first",
      lots: [
        lot("late", 50, { expires: "2026-12-31T00:00:00Z" }),
        lot("soon", 50, { expires: "2026-07-01T00:00:00Z" }),
      ],
      points: 30,
      expected: [{ lot_id: "soon", points: -30 }],
    },
    {
      name: "spends never-expiring points last",
      lots: [lot("never", 100), lot("soon", 20, { expires: "2026-07-01T00:00:00Z" })],
      points: 50,
      expected: [
        { lot_id: "soon", points: -20 },
        { lot_id: "never", points: -30 },
      ],
    },
    {
      name: "spends exactly the whole balance",
      lots: [lot("a", 10), lot("b", 15)],
      points: 25,
      expected: [
        { lot_id: "a", points: -10 },
        { lot_id: "b", points: -15 },
      ],
    },
    {
      name: "ignores pending points",
      lots: [lot("pending", 100, { available: "2026-06-20T00:00:00Z" }), lot("free", 10)],
      points: 10,
      expected: [{ lot_id: "free", points: -10 }],
    },
    {
      name: "can spend points released at this very second",
      lots: [lot("now", 10, { available: NOW.toISOString() })],
      points: 10,
      expected: [{ lot_id: "now", points: -10 }],
    },
  ])("$name", ({ lots, points, expected }) => {
    expect(allocateSpend(lots, points, NOW)).toEqual(expected);
  });

  it.each([
    { name: "more than the balance", lots: [lot("a", 10)], points: 11 },
    {
      name: "points that expire at this very second",
      lots: [lot("a", 10, { expires: NOW.toISOString() })],
      points: 1,
    },
    { name: "only pending points", lots: [lot("a", 10, { available: "2026-06-16T00:00:00Z" })], points: 1 },
    { name: "an empty account", lots: [], points: 1 },
  ])("refuses to spend $name", ({ lots, points }) => {
    expect(allocateSpend(lots, points, NOW)).toBeNull();
  });

  it("never takes zero or negative points", () => {
    expect(() => allocateSpend([lot("a", 10)], 0, NOW)).toThrow(/invariant/);
  });
});

describe("allocateReversal", () => {
  const source = { type: "purchase", id: "p1" };
  it("takes the purchase's own pending points first, then its available, then others' pending, then others' available", () => {
    const lots = [
      lot("other-available", 100, { source: "p9" }),
      lot("other-pending", 100, { source: "p8", available: "2026-07-01T00:00:00Z" }),
      lot("own-available", 5, { source: "p1" }),
      lot("own-pending", 5, { source: "p1", available: "2026-07-01T00:00:00Z" }),
    ];
    expect(allocateReversal(lots, 20, source, NOW)).toEqual({
      allocations: [
        { lot_id: "own-pending", points: -5 },
        { lot_id: "own-available", points: -5 },
        { lot_id: "other-pending", points: -10 },
      ],
      shortfall: 0,
    });
  });

  it("reports what it cannot cover as the shortfall", () => {
    expect(allocateReversal([lot("a", 3, { source: "p1" })], 10, source, NOW)).toEqual({
      allocations: [{ lot_id: "a", points: -3 }],
      shortfall: 7,
    });
  });

  it("does not take points that already expired", () => {
    const lots = [lot("gone", 50, { source: "p1", expires: "2026-06-01T00:00:00Z" })];
    expect(allocateReversal(lots, 10, source, NOW).shortfall).toBe(10);
  });
});

describe("summarize", () => {
  it("splits available and pending, and lists what expires soon by date", () => {
    const lots = [
      lot("a", 10, { expires: "2026-06-20T00:00:00Z" }),
      lot("b", 5, { expires: "2026-06-20T00:00:00Z", available: "2026-06-18T00:00:00Z" }),
      lot("c", 7, { expires: "2026-12-01T00:00:00Z" }),
      lot("d", 3, { expires: "2026-06-15T12:00:00Z" }),
    ];
    const s = summarize(lots, NOW, at("2026-07-15T00:00:00Z"));
    expect(s.available).toBe(17);
    expect(s.pending).toBe(5);
    expect(s.expiring).toEqual([{ expires_at: at("2026-06-20T00:00:00Z"), points: 15 }]);
  });
});
