import { afterEach, describe, expect, it, vi } from "vitest";
import { ApiError, FormKey, PressKeys } from "../../web/src/api.ts";

/** A create form's key: the same body after a lost answer keeps it; anything definitive frees it. */
describe("FormKey", () => {
  const body = { name: "Centrum" };

  it.each([
    ["no answer at all", new TypeError("Failed to fetch")],
    ["a connection cut (status 0)", new ApiError(0, "network", "offline")],
    ["a 502 from a proxy", new ApiError(502, "bad_gateway", "Bad gateway")],
    ["a 503 from the server", new ApiError(503, "unavailable", "Unavailable")],
  ])("keeps the key for the same body after %s", (_what, error) => {
    const key = new FormKey();
    const first = key.for(body);
    key.settle(error);
    expect(key.for({ name: "Centrum" })).toBe(first);
  });

  it.each([
    ["created", undefined],
    ["refused (409)", new ApiError(409, "staff_email_taken", "taken")],
    ["refused (400)", new ApiError(400, "validation_failed", "bad")],
  ])("gives a new key for the same body once the first was %s", (_what, error) => {
    const key = new FormKey();
    const first = key.for(body);
    key.settle(error);
    expect(key.for(body)).not.toBe(first);
  });

  it("gives a new key for a changed body, even while the first is unsettled", () => {
    const key = new FormKey();
    const first = key.for(body);
    const changed = key.for({ name: "Zuid" });
    expect(changed).not.toBe(first);
    // Back to the first body: that is a new request too.
    expect(key.for(body)).not.toBe(first);
  });
});

/** A button's presses: a lost answer keeps the press (its key and when it was first sent). */
describe("PressKeys", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("keeps the key and the first try's time while the outcome is unknown, per action", () => {
    vi.useFakeTimers({ now: new Date("2026-11-25T10:00:00Z") });
    const keys = new PressKeys();
    const first = keys.for("reward:r1");
    const other = keys.for("reward:r2");
    expect(other).not.toBe(first);
    keys.settle("reward:r1", new ApiError(0, "network_error", "offline"));
    vi.setSystemTime(new Date("2026-11-25T10:03:00Z"));
    expect(keys.for("reward:r1")).toBe(first);
    // The voucher may have been issued on the first try, three minutes ago: its window began then.
    expect(keys.since("reward:r1")).toBe(Date.parse("2026-11-25T10:00:00Z"));
  });

  it("frees the press once it is answered or refused: the next press is new, and timed from now", () => {
    vi.useFakeTimers({ now: new Date("2026-11-25T10:00:00Z") });
    const keys = new PressKeys();
    const first = keys.for("reward:r1");
    keys.settle("reward:r1", new ApiError(409, "insufficient_points", "short"));
    expect(keys.since("reward:r1")).toBeUndefined();
    vi.setSystemTime(new Date("2026-11-25T10:05:00Z"));
    expect(keys.for("reward:r1")).not.toBe(first);
    expect(keys.since("reward:r1")).toBe(Date.parse("2026-11-25T10:05:00Z"));
    keys.settle("reward:r1");
    expect(keys.since("reward:r1")).toBeUndefined();
  });
});
