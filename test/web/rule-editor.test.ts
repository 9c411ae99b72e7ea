import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { choicesOf } from "../../web/src/dashboard/program/types.ts";

/**
 * Pure parts of the dashboard's rule and reward editors (web/src/dashboard/program/rules.tsx,
 * types.ts): the week's days in the order the owner's calendar runs, and the checkboxes for a
 * rule's or reward's tiers and locations, archived ones it still names included.
 */

type WeekOrder = (locale: string) => number[];
type WeekLocale = (locale: string, preferred?: readonly string[]) => string;

// A .tsx module: Vitest compiles it; the path is a variable so that the Node type check, which
// knows no JSX, leaves it to the web app's (`tsc -p web`).
const RULES = "../../web/src/dashboard/program/rules.tsx";
let weekOrder: WeekOrder;
let weekLocale: WeekLocale;
beforeAll(async () => {
  // The dashboard's router listens to the browser's history as it loads.
  vi.stubGlobal("window", { addEventListener() {}, removeEventListener() {} });
  ({ weekOrder, weekLocale } = (await import(RULES)) as { weekOrder: WeekOrder; weekLocale: WeekLocale });
});
afterAll(() => {
  vi.unstubAllGlobals();
});

describe("the days of the week in a rule", () => {
  it("start on Monday for Dutch and Polish, on Sunday for Brazilian Portuguese and US English", () => {
    expect(weekOrder("nl")).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(weekOrder("pl")).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(weekOrder("pt-BR")).toEqual([7, 1, 2, 3, 4, 5, 6]);
    expect(weekOrder("en-US")).toEqual([7, 1, 2, 3, 4, 5, 6]);
    expect(weekOrder("en-GB")).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it("start on Saturday where the calendar does (Egyptian Arabic), keeping the ISO numbers", () => {
    const order = weekOrder("ar-EG");
    expect(order[0]).toBe(6);
    expect([...order].sort()).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it("start on Monday, as ISO counts, where the runtime cannot say", () => {
    expect(weekOrder("not a locale!")).toEqual([1, 2, 3, 4, 5, 6, 7]);
    const locale = Intl.Locale.prototype as unknown as Record<string, unknown>;
    const saved = {
      getWeekInfo: Object.getOwnPropertyDescriptor(locale, "getWeekInfo"),
      weekInfo: Object.getOwnPropertyDescriptor(locale, "weekInfo"),
    };
    try {
      // A runtime without week info (Firefox before 130): neither the method nor the getter.
      for (const name of ["getWeekInfo", "weekInfo"] as const)
        Object.defineProperty(locale, name, { value: undefined, configurable: true });
      expect(weekOrder("pt-BR")).toEqual([1, 2, 3, 4, 5, 6, 7]);
    } finally {
      for (const [name, descriptor] of Object.entries(saved)) {
        if (descriptor) Object.defineProperty(locale, name, descriptor);
        else delete locale[name];
      }
    }
    expect(weekOrder("pt-BR")).toEqual([7, 1, 2, 3, 4, 5, 6]);
  });

  it("follow the browser's region for the dashboard's language: English in the UK starts on Monday", () => {
    expect(weekLocale("en", ["en-GB", "en"])).toBe("en-GB");
    expect(weekLocale("en", ["nl-NL", "en-US"])).toBe("en-US");
    expect(weekLocale("en", ["nl-NL"])).toBe("en");
    expect(weekLocale("en", [])).toBe("en");
    // A language with its region already keeps it.
    expect(weekLocale("pt-BR", ["pt-PT"])).toBe("pt-BR");
  });
});

const row = (id: string, name: string, archived = false) => ({ id, name, archived });

describe("the tiers or locations to tick", () => {
  const regular = row("t1", "Regular");
  const silver = row("t2", "Silver");
  const gold = row("t3", "Gold", true);
  const bronze = row("t4", "Bronze", true);

  it("are the active ones when nothing archived is named", () => {
    expect(choicesOf([regular, silver, gold], [silver.id])).toEqual([
      { id: "t1", name: "Regular", archived: false },
      { id: "t2", name: "Silver", archived: false },
    ]);
  });

  it("add the archived ones the rule or reward still names, after the active ones, marked", () => {
    expect(choicesOf([regular, gold, silver, bronze], [gold.id, regular.id])).toEqual([
      { id: "t1", name: "Regular", archived: false },
      { id: "t2", name: "Silver", archived: false },
      { id: "t3", name: "Gold", archived: true },
    ]);
  });

  it("show an id that is not listed at all as archived and nameless, so it can be unticked", () => {
    expect(choicesOf([regular], ["gone", regular.id, "gone"])).toEqual([
      { id: "t1", name: "Regular", archived: false },
      { id: "gone", name: "—", archived: true },
    ]);
  });

  it("are none for a business without any", () => {
    expect(choicesOf([], [])).toEqual([]);
    expect(choicesOf([gold], [])).toEqual([]);
  });
});
