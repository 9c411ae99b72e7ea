import { describe, expect, it } from "vitest";
import { forCustomer } from "./reason.ts";

/** What a customer reads of an entry's reason (the card, their own download): nothing staff typed. */
describe("forCustomer", () => {
  const takenBack = (cause: "refund" | "correction", cause_ref: string) => ({
    reason: "",
    reason_code: "tier_taken_back",
    reason_params: {
      from: "Gold",
      cause,
      cause_ref,
      left: 900,
      threshold: 1000,
      unit: "points",
      currency: "EUR",
      tier: null,
      reached: null,
      year: null,
    },
  });

  it("keeps the purchase a refund took a tier back for", () => {
    const shown = forCustomer(takenBack("refund", "till-42"));
    expect(shown.reason_params).toMatchObject({ cause: "refund", cause_ref: "till-42" });
    expect(shown.reason).toContain("the refund of purchase till-42");
  });

  it("drops the text staff typed for a correction that took a tier back", () => {
    const shown = forCustomer(takenBack("correction", "Difficult customer, shouted at Kasia"));
    expect(JSON.stringify(shown)).not.toContain("Kasia");
    expect(shown.reason_params).toMatchObject({ cause: "correction", cause_ref: "" });
    expect(shown.reason).toContain("a correction leaves");
  });

  it("shows no typed reason at all", () => {
    expect(forCustomer({ reason: "Shouted at Kasia", reason_code: null, reason_params: null })).toEqual({
      reason: "",
      reason_code: null,
      reason_params: null,
    });
  });
});
