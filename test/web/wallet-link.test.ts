import { describe, expect, it } from "vitest";
import { showsPoints } from "../../web/src/wallet/rewards.ts";
import { linkOutcome } from "../../web/src/wallet/storage.ts";
import type { WalletCard } from "../../web/src/wallet/types.ts";

const card = (slug: string, id: string) =>
  ({ business: { slug }, member: { id } }) as Pick<WalletCard, "business" | "member">;

describe("a card link opened on a phone (linkOutcome)", () => {
  it("never replaces the stored card with a link the server refuses, or one of another business", () => {
    expect(linkOutcome("cafe", "refused", card("cafe", "ana"))).toBe("refuse");
    expect(linkOutcome("cafe", "refused", null)).toBe("refuse");
    expect(linkOutcome("cafe", card("bar", "bea"), card("cafe", "ana"))).toBe("refuse");
    expect(linkOutcome("cafe", card("bar", "bea"), null)).toBe("refuse");
  });

  it("takes a valid link when the phone holds no card, a refused one, or the same member's", () => {
    expect(linkOutcome("cafe", card("cafe", "bea"), null)).toBe("adopt");
    expect(linkOutcome("cafe", card("cafe", "bea"), "refused")).toBe("adopt");
    expect(linkOutcome("cafe", card("cafe", "bea"), card("cafe", "bea"))).toBe("adopt");
  });

  it("asks before another member's card replaces one that may still work", () => {
    expect(linkOutcome("cafe", card("cafe", "bea"), card("cafe", "ana"))).toBe("ask");
    expect(linkOutcome("cafe", card("cafe", "bea"), "unknown")).toBe("ask");
  });
});

describe("the points on the card (showsPoints)", () => {
  const points = (program: boolean, held: Partial<WalletCard["card"]["points"]> = {}) =>
    ({
      business: {
        program: { points: program ? { earn_points: 1, earn_per_minor: 100, pending_days: 0 } : null },
      },
      card: { points: { available: 0, pending: 0, debt: 0, expiring_soon: [], ...held } },
    }) as unknown as Pick<WalletCard, "business" | "card">;

  it("shows them while the program earns points", () => {
    expect(showsPoints(points(true))).toBe(true);
  });

  it("after points were switched off, shows them while the member holds any", () => {
    expect(showsPoints(points(false, { available: 10 }))).toBe(true);
    expect(showsPoints(points(false, { pending: 3 }))).toBe(true);
    expect(showsPoints(points(false, { debt: 2 }))).toBe(true);
    expect(
      showsPoints(points(false, { expiring_soon: [{ expires_at: "2030-01-01T00:00:00Z", points: 1 }] })),
    ).toBe(true);
    expect(showsPoints(points(false))).toBe(false);
  });
});
