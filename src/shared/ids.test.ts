import { describe, expect, it } from "vitest";
import { newId } from "./ids.ts";

describe("newId", () => {
  it("makes distinct version-7 UUIDs that sort in the order they were made", () => {
    const at = Date.parse("2026-11-23T10:00:00Z");
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
