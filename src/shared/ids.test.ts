import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fingerprint, newId, stableStringify } from "./ids.ts";

describe("newId", () => {
  it("makes distinct version-7 UUIDs that sort in the order they were made", () => {
    // Ahead of every id made so far in this process: ids never go back in time (the files of a
    // worker share this module, so another file may have made ids at a later time than now).
    const at = Number.parseInt(newId().slice(0, 13).replace("-", ""), 16) + 1_000;
    // More than the random block holds, so it is refilled on the way; some within one millisecond.
    const ids = Array.from({ length: 5_000 }, (_, i) => newId(at + Math.floor(i / 3)));
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
    for (const id of ids)
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(ids[0]?.slice(0, 13).replace("-", "")).toBe(at.toString(16).padStart(12, "0"));
  });

  it("differs in its random part from one id to the next", () => {
    const tails = new Set(Array.from({ length: 1_000 }, () => newId().slice(19)));
    expect(tails.size).toBe(1_000);
  });
});

/** The definition `stableStringify` must keep to: request hashes already stored depend on it. */
function reference(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map(reference).join(",")}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${reference(v)}`).join(",")}}`;
}

/** The same object with its keys in reverse order, all the way down. */
function reversed(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reversed);
  if (value === null || typeof value !== "object" || value instanceof Date) return value;
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>)
      .reverse()
      .map(([k, v]) => [k, reversed(v)]),
  );
}

describe("stableStringify and fingerprint", () => {
  const values = fc.oneof(
    fc.jsonValue(),
    fc.object({ values: [fc.jsonValue(), fc.constant(undefined), fc.date({ noInvalidDate: true })] }),
  );

  it("writes what the reference definition writes, whatever the key order", () => {
    fc.assert(
      fc.property(values, (value) => {
        expect(stableStringify(value)).toBe(reference(value));
        expect(stableStringify(reversed(value))).toBe(reference(value));
      }),
      { numRuns: 500 },
    );
  });

  it("reads back as the value, undefined properties left out", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(JSON.parse(stableStringify(value))).toEqual(JSON.parse(JSON.stringify(value)));
      }),
      { numRuns: 300 },
    );
  });

  it("gives a stored request the hash it had before (the value of the first release)", () => {
    const request = {
      external_id: "till-1-0042",
      member_id: "01a20758-a2a0-7000-bfd1-96022c396935",
      amount_minor: 1800,
      currency: "EUR",
      items: [
        {
          sku: "pain-choc",
          name: "Pain au chocolat",
          category: "pastry",
          quantity: 1,
          unit_price_minor: 300,
        },
        { sku: "sandwich", quantity: 2, unit_price_minor: 750, brand: undefined },
      ],
      occurred_at: "2026-11-21T11:11:12.257+01:00",
      note: '€ ünïcødé "quoted"',
      at: new Date("2026-11-23T10:00:00Z"),
      empty: {},
      list: [],
    };
    expect(fingerprint({ operation: "purchase.record", request })).toBe(
      "01775abf2e6965be278676d5ad366be474be1483b8f014a2d8bde408a86c97c3",
    );
  });
});
