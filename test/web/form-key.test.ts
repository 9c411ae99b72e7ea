import { describe, expect, it } from "vitest";
import { ApiError, FormKey } from "../../web/src/api.ts";

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
