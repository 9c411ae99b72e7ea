import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { StampCard } from "../../web/src/counter/types.ts";

/**
 * The counter's quick items (web/src/counter/purchase-form.tsx): a button per category or sku an
 * item stamp card counts. The button reads as a word ("Coffee", "Hot drinks"), not as the rule's
 * code ("coffee", "hot_drinks"); the line sent is the category or sku exactly as the card counts
 * it, or the purchase would earn no stamp.
 */

interface QuickItem {
  id: string;
  label: string;
  line: { sku: string; name?: string; category?: string; unit_price_minor: number };
}
type QuickItems = (cards: StampCard[], locale?: string) => QuickItem[];
type ItemLabel = (code: string, locale?: string) => string;

// A .tsx module: Vitest compiles it; the path is a variable so that the Node type check, which
// knows no JSX, leaves it to the web app's (`tsc -p web`).
const FORM = "../../web/src/counter/purchase-form.tsx";
let quickItems: QuickItems;
let itemLabel: ItemLabel;
beforeAll(async () => {
  // The router its components import listens to the browser's history as it loads.
  vi.stubGlobal("window", { addEventListener() {}, removeEventListener() {} });
  ({ quickItems, itemLabel } = (await import(FORM)) as { quickItems: QuickItems; itemLabel: ItemLabel });
});
afterAll(() => {
  vi.unstubAllGlobals();
});

const card = (match: StampCard["item_match"], earn_on: StampCard["earn_on"] = "item"): StampCard => ({
  id: `card-${JSON.stringify(match)}`,
  name: "Coffee card",
  stamps_required: 10,
  earn_on,
  item_match: match,
});

describe("the counter's quick items", () => {
  it("label a category as a word and send the category itself", () => {
    expect(quickItems([card({ categories: ["coffee", "hot_drinks"] })], "en")).toEqual([
      {
        id: "c:coffee",
        label: "Coffee",
        line: { sku: "coffee", name: "coffee", category: "coffee", unit_price_minor: 0 },
      },
      {
        id: "c:hot_drinks",
        label: "Hot drinks",
        line: { sku: "hot_drinks", name: "hot_drinks", category: "hot_drinks", unit_price_minor: 0 },
      },
    ]);
  });

  it("label a sku the same way and send the sku itself", () => {
    expect(quickItems([card({ skus: ["flat-white"] })], "nl")).toEqual([
      {
        id: "s:flat-white",
        label: "Flat white",
        line: { sku: "flat-white", name: "flat-white", unit_price_minor: 0 },
      },
    ]);
  });

  it("list each category once, and none for a card that counts visits or brands only", () => {
    const items = quickItems(
      [
        card({ categories: ["coffee"] }),
        card({ categories: ["coffee", "pastry"] }),
        card({ brands: ["Acme"] }),
        card(null, "visit"),
      ],
      "pl",
    );
    expect(items.map((i) => i.label)).toEqual(["Coffee", "Pastry"]);
  });
});

describe("an item's label", () => {
  it.each([
    ["coffee", "en", "Coffee"],
    ["hot_drinks", "en", "Hot drinks"],
    ["hot__drinks--large", "en", "Hot drinks large"],
    ["Koffie", "nl", "Koffie"],
    ["śniadanie", "pl", "Śniadanie"],
    ["pão_de_queijo", "pt-BR", "Pão de queijo"],
    // The Turkish dotted capital: the business's language decides the letter.
    ["içecek", "tr", "İçecek"],
    ["HOT_DRINKS", "en", "HOT DRINKS"],
    ["_", "en", "_"],
  ])("%s in %s reads %s", (code, locale, label) => {
    expect(itemLabel(code, locale)).toBe(label);
  });
});
