import jsqr from "jsqr";
import { describe, expect, it } from "vitest";
import { describeProgram, type ProgramFacts, qrModules } from "./index.ts";

// jsqr is CommonJS typed as an ES default export: at run time the module is the function itself.
const jsQR = ((jsqr as unknown as { default?: unknown }).default ?? jsqr) as typeof jsqr.default;

const none: ProgramFacts = {
  currency: "EUR",
  points: { enabled: false, earn_points: 0, earn_per_minor: 100 },
  stampCards: [],
  tiers: [],
  rewards: [],
};
const card = { id: "c1", name: "Koffiekaart", stamps_required: 10 };
const coffee = { name: "Gratis koffie", cost_points: null, stamp_card_id: "c1", active: true };

describe("the program in one sentence", () => {
  it.each([
    ["en", 10, "Collect 10 stamps and get Gratis koffie."],
    ["nl", 10, "Verzamel 10 stempels en krijg Gratis koffie."],
    ["pt-BR", 1, "Junte 1 selo e ganhe Gratis koffie."],
    ["pl", 1, "Zbierz 1 pieczątkę i odbierz nagrodę: Gratis koffie."],
    ["pl", 3, "Zbierz 3 pieczątki i odbierz nagrodę: Gratis koffie."],
    ["pl", 5, "Zbierz 5 pieczątek i odbierz nagrodę: Gratis koffie."],
    ["pl", 22, "Zbierz 22 pieczątki i odbierz nagrodę: Gratis koffie."],
    ["pl", 12, "Zbierz 12 pieczątek i odbierz nagrodę: Gratis koffie."],
  ] as const)("tells a stamp card with its reward in %s (%i stamps)", (locale, count, text) => {
    const facts = { ...none, stampCards: [{ ...card, stamps_required: count }], rewards: [coffee] };
    expect(describeProgram(locale, facts)).toEqual({ headline: text, tiers_line: null });
  });

  it("names the card when no reward is tied to it", () => {
    expect(describeProgram("en", { ...none, stampCards: [card] }).headline).toBe(
      "Koffiekaart: collect 10 stamps for a reward.",
    );
  });

  it("tells points with the amount in the currency and the cheapest active reward", () => {
    // Currency amounts hold no-break spaces (between "1" and "zł"); compare with plain ones.
    const headline = (locale: "en" | "nl" | "pl", f: ProgramFacts) =>
      describeProgram(locale, f).headline.replace(/\u00a0|\u202f/g, " ");
    const facts: ProgramFacts = {
      ...none,
      currency: "PLN",
      points: { enabled: true, earn_points: 2, earn_per_minor: 100 },
      rewards: [
        { name: "Kubek", cost_points: 500, stamp_card_id: null, active: true },
        { name: "Ciastko", cost_points: 50, stamp_card_id: null, active: true },
        { name: "Nieaktywna", cost_points: 1, stamp_card_id: null, active: false },
      ],
    };
    expect(headline("pl", facts)).toBe(
      "Zdobywaj 2 punkty za każde wydane 1 zł i wymieniaj je na nagrody, np.: Ciastko.",
    );
    expect(headline("en", { ...facts, rewards: [] })).toBe(
      "Earn 2 points for every PLN 1 you spend and swap them for rewards.",
    );
    expect(
      headline("nl", { ...facts, currency: "EUR", points: { ...facts.points, earn_per_minor: 250 } }),
    ).toBe("Spaar 2 punten per € 2,50 die je besteedt en wissel ze in voor beloningen zoals Ciastko.");
  });

  it("names the tiers to reach, lowest first, in the language's list style", () => {
    const tiers = [
      { name: "Złoty", rank: 2, threshold: 1000 },
      { name: "Srebrny", rank: 1, threshold: 500 },
      { name: "Start", rank: 0, threshold: 0 },
    ];
    expect(describeProgram("pl", { ...none, stampCards: [card], tiers }).tiers_line).toBe(
      "Zdobądź poziom Srebrny i Złoty i ciesz się dodatkowymi korzyściami.",
    );
    expect(describeProgram("pt-BR", { ...none, tiers }).headline).toBe(
      "Quanto mais você vem, mais alto o seu nível: Srebrny e Złoty.",
    );
  });

  it("still invites people to a program with nothing set up yet", () => {
    expect(describeProgram("nl", none)).toEqual({
      headline: "Word lid van ons spaarprogramma en word beloond als je terugkomt.",
      tiers_line: null,
    });
  });
});

describe("the join link's QR code", () => {
  it("decodes back to the join link", () => {
    const url = "https://loyalty.example.com/join/cafe-anna";
    const rows = qrModules(url);
    const scale = 4;
    const quiet = 4;
    const size = (rows.length + 2 * quiet) * scale;
    const pixels = new Uint8ClampedArray(size * size * 4).fill(255);
    for (const [r, row] of rows.entries()) {
      for (const [c, dark] of row.entries()) {
        if (!dark) continue;
        for (let y = 0; y < scale; y++)
          for (let x = 0; x < scale; x++) {
            const i = (((r + quiet) * scale + y) * size + (c + quiet) * scale + x) * 4;
            pixels.fill(0, i, i + 3);
          }
      }
    }
    expect(jsQR(pixels, size, size)?.data).toBe(url);
  });
});
