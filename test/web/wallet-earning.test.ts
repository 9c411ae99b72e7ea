import { readFileSync } from "node:fs";
import { IntlMessageFormat } from "intl-messageformat";
import { describe, expect, it } from "vitest";
import type { PublicBusiness } from "../../web/src/wallet/types.ts";

// The card's module registers the router's history listener as it loads: what that needs of a
// browser, and nothing more (earningLines itself uses none of it). Files share a worker's globals,
// so the stand-in goes once the module is loaded.
const g = globalThis as { window?: unknown };
const standIn = g.window === undefined;
if (standIn) g.window = { addEventListener() {} };
// By its address: the project's type check has no JSX for the test files, so the function's type
// is written out here.
const card = new URL("../../web/src/wallet/card.tsx", import.meta.url).href;
const { earningLines } = (await import(/* @vite-ignore */ card)) as {
  earningLines(
    t: (key: string, values?: Record<string, string | number>) => string,
    locale: string,
    business: PublicBusiness,
  ): string[];
};
const program = new URL("../../web/src/wallet/program.tsx", import.meta.url).href;
const { programLine } = (await import(/* @vite-ignore */ program)) as {
  programLine(
    t: (key: string, values?: Record<string, string | number>) => string,
    locale: string,
    business: PublicBusiness,
  ): string;
};
if (standIn) delete g.window;

/** The wallet's messages in `locale`, as the card words them. */
function translator(locale: string) {
  const url = new URL(`../../web/src/i18n/messages/wallet/${locale}.json`, import.meta.url);
  const messages = JSON.parse(readFileSync(url, "utf8")) as Record<string, string>;
  return (key: string, values?: Record<string, string | number>) =>
    String(new IntlMessageFormat(messages[key] ?? `⟦${key}⟧`, locale).format(values));
}

const business = (points: Record<string, number> | null): PublicBusiness => ({
  slug: "gym",
  name: "Gym",
  locale: "en",
  currency: "EUR",
  timezone: "Europe/Amsterdam",
  program: {
    points: points as PublicBusiness["program"]["points"],
    stamp_cards: [],
    tiers: null,
    rewards: [],
  },
});

describe("how the card says points are earned", () => {
  it("never says 0 points per amount spent: a gym's points come from its per-visit rule", () => {
    const gym = business({ earn_points: 0, earn_per_minor: 100, earn_per_visit: 10, pending_days: 0 });
    expect(earningLines(translator("en"), "en", gym)).toEqual(["Earn 10 points every visit"]);
    expect(earningLines(translator("nl"), "nl", gym)).toEqual(["Verdien 10 punten per bezoek"]);
    expect(earningLines(translator("pl"), "pl", gym)).toEqual(["Zdobywaj 10 punktów za każdą wizytę"]);
    expect(earningLines(translator("pt-BR"), "pt-BR", gym)).toEqual(["Ganhe 10 pontos a cada visita"]);
  });

  it("tells points per amount spent and per visit when the program gives both", () => {
    const both = business({ earn_points: 1, earn_per_minor: 100, earn_per_visit: 5, pending_days: 0 });
    expect(earningLines(translator("en"), "en", both)).toEqual([
      "Earn 1 point for every €1.00 you spend",
      "Earn 5 points every visit",
    ]);
  });

  it("says nothing for points from rules it cannot tell, nor for a card kept from an older server", () => {
    expect(
      earningLines(
        translator("en"),
        "en",
        business({ earn_points: 0, earn_per_minor: 100, earn_per_visit: 0, pending_days: 0 }),
      ),
    ).toEqual([]);
    expect(
      earningLines(
        translator("en"),
        "en",
        business({ earn_points: 0, earn_per_minor: 100, pending_days: 0 }),
      ),
    ).toEqual([]);
    expect(earningLines(translator("en"), "en", business(null))).toEqual([]);
  });
});

describe("how the join page sums the program up", () => {
  it("tells a gym's points per visit, and no rate of 0 per amount spent", () => {
    const gym = business({ earn_points: 0, earn_per_minor: 100, earn_per_visit: 10, pending_days: 0 });
    expect(programLine(translator("en"), "en", gym)).toBe("Earn 10 points every visit");
    const both = business({ earn_points: 1, earn_per_minor: 100, earn_per_visit: 5, pending_days: 0 });
    expect(programLine(translator("nl"), "nl", both)).toMatch(/ · Verdien 5 punten per bezoek$/);
  });
});
