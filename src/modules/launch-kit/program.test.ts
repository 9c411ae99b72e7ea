import jsqr from "jsqr";
import { describe, expect, it } from "vitest";
import { describeProgram, type ProgramFacts, qrModules } from "./index.ts";

// jsqr is CommonJS typed as an ES default export: at run time the module is the function itself.
const jsQR = ((jsqr as unknown as { default?: unknown }).default ?? jsqr) as typeof jsqr.default;

const none: ProgramFacts = {
  currency: "EUR",
  points: { enabled: false, earn_points: 0, earn_per_minor: 100 },
  pointsPerVisit: 0,
  tierMetric: "visits",
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

  it.each([
    ["en", "Koffiekaart: collect 10 stamps on your card."],
    ["nl", "Koffiekaart: verzamel 10 stempels op je kaart."],
    ["pl", "Koffiekaart: zbierz 10 pieczątek na swojej karcie."],
    ["pt-BR", "Koffiekaart: junte 10 selos no seu cartão."],
  ] as const)("names the card and promises no reward when none is tied to it, in %s", (locale, text) => {
    expect(describeProgram(locale, { ...none, stampCards: [card] }).headline).toBe(text);
    // A reward a new member cannot get (inactive, or for a tier) is no reward either.
    const closed = [
      { ...coffee, active: false },
      { ...coffee, eligible_tier_ids: ["gold"] },
    ];
    expect(describeProgram(locale, { ...none, stampCards: [card], rewards: closed }).headline).toBe(text);
  });

  it("tells the card that has a reward before one that has none", () => {
    const plain = { id: "c0", name: "Theekaart", stamps_required: 6 };
    expect(describeProgram("en", { ...none, stampCards: [plain, card], rewards: [coffee] }).headline).toBe(
      "Collect 10 stamps and get Gratis koffie.",
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
    // No reward to swap them for: none is promised.
    expect(headline("en", { ...facts, rewards: [] })).toBe("Earn 2 points for every PLN 1 you spend.");
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

  it("promises no rewards a new member cannot get, in every language", () => {
    const facts: ProgramFacts = {
      ...none,
      points: { enabled: true, earn_points: 1, earn_per_minor: 100 },
      // A reward for a tier only, and one switched off: nothing a new member can swap points for.
      rewards: [
        { name: "Lounge", cost_points: 100, stamp_card_id: null, active: true, eligible_tier_ids: ["t1"] },
        { name: "Off", cost_points: 50, stamp_card_id: null, active: false },
      ],
    };
    const headlines = (["en", "nl", "pl", "pt-BR"] as const).map((l) =>
      describeProgram(l, facts).headline.replace(/\u00a0|\u202f/g, " "),
    );
    expect(headlines).toEqual([
      "Earn 1 point for every €1 you spend.",
      "Spaar 1 punt per € 1 die je besteedt.",
      "Zdobywaj 1 punkt za każde wydane 1 €.",
      "Ganhe 1 ponto a cada € 1 em compras.",
    ]);
    for (const text of headlines) expect(text).not.toMatch(/rewards|beloningen|nagrody|recompensas/);
  });

  it("tells a gym's points per visit, with the tiers on their own line", () => {
    const gym: ProgramFacts = {
      ...none,
      points: { enabled: true, earn_points: 0, earn_per_minor: 100 },
      pointsPerVisit: 10,
      tiers: [
        { name: "Regular", rank: 0, threshold: 0 },
        { name: "Committed", rank: 1, threshold: 20 },
        { name: "Champion", rank: 2, threshold: 60 },
      ],
      // The session reward is for Champions only.
      rewards: [
        { name: "Session", cost_points: 200, stamp_card_id: null, active: true, eligible_tier_ids: ["t2"] },
      ],
    };
    expect(describeProgram("en", gym)).toEqual({
      headline: "Earn 10 points every visit.",
      tiers_line: "Reach Committed and Champion for extra benefits.",
    });
    expect(describeProgram("nl", gym).headline).toBe("Spaar 10 punten per bezoek.");
    expect(describeProgram("pl", gym).headline).toBe("Zdobywaj 10 punktów za każdą wizytę.");
    expect(describeProgram("pl", { ...gym, pointsPerVisit: 2 }).headline).toBe(
      "Zdobywaj 2 punkty za każdą wizytę.",
    );
    expect(describeProgram("pt-BR", gym).headline).toBe("Ganhe 10 pontos a cada visita.");
    const open = { ...gym, rewards: [{ name: "Shake", cost_points: 50, stamp_card_id: null, active: true }] };
    expect(describeProgram("en", open).headline).toBe(
      "Earn 10 points every visit and swap them for rewards such as Shake.",
    );
    expect(describeProgram("pt-BR", open).headline).toBe(
      "Ganhe 10 pontos a cada visita e troque por recompensas como Shake.",
    );
    // Rules give no points while points are off.
    expect(describeProgram("en", { ...gym, points: { ...gym.points, enabled: false } }).headline).toBe(
      "The more often you come, the higher your level: Committed and Champion.",
    );
  });

  it("tells points per amount and per visit together", () => {
    const both: ProgramFacts = {
      ...none,
      points: { enabled: true, earn_points: 1, earn_per_minor: 100 },
      pointsPerVisit: 5,
      rewards: [{ name: "Coffee", cost_points: 50, stamp_card_id: null, active: true }],
    };
    const headline = (locale: "en" | "nl" | "pl" | "pt-BR", f: ProgramFacts) =>
      describeProgram(locale, f).headline.replace(/\u00a0|\u202f/g, " ");
    expect(headline("en", both)).toBe(
      "Earn 1 point for every €1 you spend and 5 points every visit, and swap them for rewards such as Coffee.",
    );
    expect(headline("nl", { ...both, rewards: [] })).toBe(
      "Spaar 1 punt per € 1 die je besteedt en 5 punten per bezoek.",
    );
    expect(headline("pl", both)).toBe(
      "Zdobywaj 1 punkt za każde wydane 1 € i 5 punktów za każdą wizytę, a potem wymieniaj je na nagrody, np.: Coffee.",
    );
  });

  it.each([
    ["visits", "en", "The more often you come, the higher your level: Silver and Gold."],
    ["spend", "en", "The more you spend, the higher your level: Silver and Gold."],
    ["points", "en", "The more points you earn, the higher your level: Silver and Gold."],
    ["spend", "nl", "Hoe meer je besteedt, hoe hoger je niveau: Silver en Gold."],
    ["points", "nl", "Hoe meer punten je spaart, hoe hoger je niveau: Silver en Gold."],
    ["spend", "pl", "Im więcej wydajesz, tym wyższy Twój poziom: Silver i Gold."],
    ["points", "pl", "Im więcej punktów zdobywasz, tym wyższy Twój poziom: Silver i Gold."],
    ["spend", "pt-BR", "Quanto mais você compra, mais alto o seu nível: Silver e Gold."],
    ["points", "pt-BR", "Quanto mais pontos você ganha, mais alto o seu nível: Silver e Gold."],
  ] as const)("tells a ladder of %s tiers as it is climbed (%s)", (metric, locale, text) => {
    const tiers = [
      { name: "Silver", rank: 1, threshold: 500 },
      { name: "Gold", rank: 2, threshold: 1000 },
    ];
    expect(describeProgram(locale, { ...none, tiers, tierMetric: metric }).headline).toBe(text);
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
