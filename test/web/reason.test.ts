import { readFileSync } from "node:fs";
import { join } from "node:path";
import { IntlMessageFormat } from "intl-messageformat";
import { describe, expect, it } from "vitest";
import { REASON_CODES, type ReasonCode, type ReasonCodes } from "../../src/shared/reason.ts";
import { formatMoney } from "../../web/src/i18n/format.ts";
import { KNOWN_REASON_CODES, reasonText, type TranslateFn } from "../../web/src/i18n/reason.ts";

/**
 * Why a history line exists, in the dashboard's four languages: every code the server writes is
 * told with its figures (the purchase, the reward, money and dates in the locale), and a reason
 * without a code, with an unknown code or with figures that do not fit is shown as the server
 * wrote it.
 */

const ROOT = join(import.meta.dirname, "../../web/src/i18n/messages/admin");
const LOCALES = ["en", "nl", "pl", "pt-BR"] as const;

/** A plain translator over the admin messages of `locale`, as the dashboard's `t` behaves. */
function translator(locale: string): TranslateFn {
  const messages = JSON.parse(readFileSync(join(ROOT, `${locale}.json`), "utf8")) as Record<string, string>;
  return (key, values) => {
    const message = messages[key];
    if (message === undefined) return `⟦${key}⟧`;
    return String(new IntlMessageFormat(message, locale).format(values as Record<string, string | number>));
  };
}

/** Intl writes no-break and narrow no-break spaces; the assertions read plain ones. */
const plain = (text: string) => text.replace(/[\u00a0\u202f]/g, " ");

/** Realistic figures for every code, as the server writes them. */
const SAMPLES: { [C in ReasonCode]: ReasonCodes[C] } = {
  earn_rate: { points: 1, per_minor: 100, currency: "EUR" },
  rule: { rule: "Happy hour double points" },
  rule_capped: { rule: "Weekend bonus" },
  tier_bonus: { tier: "Gold", multiplier: 1.5 },
  stamp_card: { card: "Coffee card" },
  refund: { purchase: "till-1-0042", note: "wrong size" },
  refund_stamps: { card: "Coffee card", purchase: "till-1-0042", note: null },
  refund_voucher_taken: { purchase: "till-1-0042", note: "damaged", voucher: "V-7K3Q" },
  refund_given_back: { purchase: "till-1-0042", note: null, voucher: "V-7K3Q" },
  refund_stamps_voucher_taken: {
    card: "Coffee card",
    purchase: "till-1-0042",
    note: null,
    voucher: "V-7K3Q",
  },
  expired: { points: 120, source: "purchase", ref: "till-1-0042", date: "2027-04-01" },
  redeemed: { reward: "Free cappuccino" },
  voucher_voided: { voucher: "V-7K3Q", note: "given by mistake" },
  tier_reached: { tier: "Gold", metric: 60000, unit: "spend", currency: "EUR", year: null },
  tier_kept: { from: "Gold", tier: "Silver", metric: 320, unit: "points", currency: "EUR", year: 2026 },
  tier_ended: { from: "Gold", metric: 7, unit: "visits", currency: "EUR" },
  tier_taken_back: {
    from: "Gold",
    cause: "refund",
    cause_ref: "till-1-0042",
    left: 38000,
    threshold: 50000,
    unit: "spend",
    currency: "EUR",
    tier: "Silver",
    reached: 38000,
    year: null,
  },
};

/** What each code's text must name, whatever the language. */
function figures(code: ReasonCode, locale: string): string[] {
  const money = (minor: number) => plain(formatMoney(minor, "EUR", locale));
  switch (code) {
    case "earn_rate":
      return ["1", money(100)];
    case "rule":
      return ["Happy hour double points"];
    case "rule_capped":
      return ["Weekend bonus"];
    case "tier_bonus":
      return ["Gold", locale === "en" ? "1.5" : "1,5"];
    case "stamp_card":
      return ["Coffee card"];
    case "refund":
      return ["till-1-0042", "wrong size"];
    case "refund_stamps":
      return ["Coffee card", "till-1-0042"];
    case "refund_voucher_taken":
      return ["till-1-0042", "damaged", "V-7K3Q"];
    case "refund_given_back":
      return ["till-1-0042", "V-7K3Q"];
    case "refund_stamps_voucher_taken":
      return ["Coffee card", "till-1-0042", "V-7K3Q"];
    case "expired":
      return ["120", "till-1-0042", "2027"];
    case "redeemed":
      return ["Free cappuccino"];
    case "voucher_voided":
      return ["V-7K3Q", "given by mistake"];
    case "tier_reached":
      return ["Gold", money(60000)];
    case "tier_kept":
      return ["Gold", "Silver", "320", "2026"];
    case "tier_ended":
      return ["Gold", "7"];
    case "tier_taken_back":
      return ["Gold", "till-1-0042", money(38000), money(50000), "Silver"];
  }
}

const coded = <C extends ReasonCode>(code: C, params: ReasonCodes[C] | Record<string, unknown>) => ({
  reason: `English text of ${code}`,
  reason_code: code,
  reason_params: params as Record<string, unknown>,
});

describe("a reason in the reader's language", () => {
  it("knows every code the server writes", () => {
    expect([...KNOWN_REASON_CODES].sort()).toEqual([...REASON_CODES].sort());
  });

  for (const locale of LOCALES) {
    describe(locale, () => {
      const t = translator(locale);
      for (const code of REASON_CODES) {
        it(`tells ${code} with its figures`, () => {
          const text = plain(reasonText(t, locale, coded(code, SAMPLES[code])));
          expect(text, `${locale} ${code}`).not.toContain("⟦");
          expect(text).not.toBe(`English text of ${code}`);
          for (const figure of figures(code, locale)) expect(text, `${locale} ${code}`).toContain(figure);
          // Every placeholder filled: no ICU braces, no "undefined" or "null" left in the text.
          expect(text).not.toMatch(/[{}]|undefined|null|NaN/);
        });
      }
    });
  }

  it("formats money in the locale's way", () => {
    const line = coded("earn_rate", { points: 1, per_minor: 100, currency: "EUR" });
    expect(plain(reasonText(translator("en"), "en", line))).toBe("1 point per €1.00");
    expect(plain(reasonText(translator("nl"), "nl", line))).toBe("1 punt per € 1,00");
    expect(plain(reasonText(translator("pl"), "pl", line))).toBe("1 punkt za 1,00 €");
    expect(plain(reasonText(translator("pt-BR"), "pt-BR", line))).toBe("1 ponto a cada € 1,00");
    const zloty = coded("earn_rate", { points: 5, per_minor: 1000, currency: "PLN" });
    expect(plain(reasonText(translator("pl"), "pl", zloty))).toBe("5 punktów za 10,00 zł");
    const yen = coded("earn_rate", { points: 2, per_minor: 100, currency: "JPY" });
    expect(plain(reasonText(translator("en"), "en", yen))).toBe("2 points per ¥100");
  });

  it("says a tier's spend as money and its points and visits as counts", () => {
    const en = translator("en");
    expect(plain(reasonText(en, "en", coded("tier_reached", SAMPLES.tier_reached)))).toBe(
      "Gold: reached with €600.00 spent",
    );
    expect(
      plain(
        reasonText(
          en,
          "en",
          coded("tier_reached", { tier: "Gold", metric: 1520, unit: "points", currency: "EUR", year: 2026 }),
        ),
      ),
    ).toBe("Gold: reached with 1,520 points in 2026");
    expect(plain(reasonText(en, "en", coded("tier_ended", SAMPLES.tier_ended)))).toBe(
      "Gold ended: 7 visits in the current period",
    );
    expect(plain(reasonText(translator("nl"), "nl", coded("tier_reached", SAMPLES.tier_reached)))).toBe(
      "Gold: bereikt met € 600,00 aan aankopen",
    );
    const taken = plain(reasonText(en, "en", coded("tier_taken_back", SAMPLES.tier_taken_back)));
    expect(taken).toBe(
      "Gold taken back: the refund of purchase till-1-0042 leaves €380.00 spent, below the €500.00 Gold needs; Silver kept, reached with €380.00 spent",
    );
    const corrected = plain(
      reasonText(
        en,
        "en",
        coded("tier_taken_back", {
          ...SAMPLES.tier_taken_back,
          cause: "correction",
          cause_ref: "Event on the wrong member",
          unit: "points",
          left: 380,
          threshold: 500,
          tier: null,
          reached: null,
        }),
      ),
    );
    expect(corrected).toBe(
      "Gold taken back: the correction “Event on the wrong member” leaves 380 points, below the 500 points Gold needs",
    );
  });

  it("says a refund's note when there is one", () => {
    const en = translator("en");
    expect(reasonText(en, "en", coded("refund", SAMPLES.refund))).toBe(
      "Refund of purchase till-1-0042 (wrong size)",
    );
    expect(reasonText(en, "en", coded("refund", { purchase: "till-1-0042", note: null }))).toBe(
      "Refund of purchase till-1-0042",
    );
  });

  it("says the day points expired as a calendar date, with Polish and Portuguese agreement", () => {
    const line = (points: number) => coded("expired", { ...SAMPLES.expired, points });
    expect(plain(reasonText(translator("en"), "en", line(120)))).toBe(
      "120 points from purchase till-1-0042 expired on April 1, 2027",
    );
    expect(plain(reasonText(translator("nl"), "nl", line(120)))).toBe(
      "120 punten van aankoop till-1-0042 verlopen op 1 april 2027",
    );
    const pl = translator("pl");
    expect(reasonText(pl, "pl", line(1))).toBe("1 punkt z zakupu till-1-0042 wygasł 1 kwietnia 2027");
    expect(reasonText(pl, "pl", line(3))).toBe("3 punkty z zakupu till-1-0042 wygasły 1 kwietnia 2027");
    expect(reasonText(pl, "pl", line(120))).toBe("120 punktów z zakupu till-1-0042 wygasło 1 kwietnia 2027");
    expect(reasonText(translator("pt-BR"), "pt-BR", line(1))).toBe(
      "1 ponto da compra till-1-0042 expirou em 1 de abril de 2027",
    );
    // The last day of a year stays that day, whatever the machine's time zone.
    expect(
      reasonText(translator("en"), "en", coded("expired", { ...SAMPLES.expired, date: "2026-12-31" })),
    ).toContain("December 31, 2026");
  });

  it("names where expired points came from, with or without a reference", () => {
    const en = translator("en");
    const from = (source: string, ref: string | null) =>
      reasonText(en, "en", coded("expired", { points: 10, source, ref, date: "2027-04-01" }));
    expect(from("signup", null)).toBe("10 points for joining expired on April 1, 2027");
    expect(from("event", "review r-12")).toBe("10 points from event review r-12 expired on April 1, 2027");
    expect(from("purchase", null)).toBe("10 points from a purchase expired on April 1, 2027");
    expect(from("store_credit", null)).toBe("10 points from store credit expired on April 1, 2027");
  });

  it("shows a reason staff typed, or one without a code, as written", () => {
    const t = translator("nl");
    expect(
      reasonText(t, "nl", { reason: "Stamp missed on 3 May", reason_code: null, reason_params: null }),
    ).toBe("Stamp missed on 3 May");
    expect(reasonText(t, "nl", { reason: "Refund of purchase till-1" })).toBe("Refund of purchase till-1");
    expect(
      reasonText(t, "nl", { reason: "Coffee card", reason_code: "stamp_card", reason_params: null }),
    ).toBe("Coffee card");
  });

  it("shows the server's text for an unknown code or figures that do not fit", () => {
    const t = translator("pl");
    const bad: [string, Record<string, unknown>][] = [
      ["earn_rate", { points: "one", per_minor: 100, currency: "EUR" }],
      ["earn_rate", { points: 1, per_minor: 100, currency: "EURO" }],
      ["earn_rate", { points: 1, currency: "EUR" }],
      ["refund", { purchase: 42, note: null }],
      ["expired", { points: 10, source: "purchase", ref: "till-1", date: "1 April 2027" }],
      ["expired", { points: 10, source: "purchase", ref: "till-1", date: "2027-13-45" }],
      ["tier_reached", { tier: "Gold", metric: 600, unit: "stars", currency: "EUR", year: null }],
      ["tier_reached", { tier: "Gold", metric: 600, unit: "spend", currency: null, year: null }],
      ["tier_taken_back", { ...SAMPLES.tier_taken_back, cause: "mistake" }],
      ["tier_kept", { ...SAMPLES.tier_kept, year: "last" }],
      ["loyalty_magic", { points: 1 }],
    ];
    for (const [code, params] of bad) {
      expect(
        reasonText(t, "pl", { reason: "as the server wrote it", reason_code: code, reason_params: params }),
        code,
      ).toBe("as the server wrote it");
    }
    expect(
      reasonText(t, "pl", {
        reason: "as the server wrote it",
        reason_code: "rule",
        reason_params: [] as unknown as Record<string, unknown>,
      }),
    ).toBe("as the server wrote it");
  });

  it("never throws, and shows the server's text when a message is missing or fails", () => {
    const line = coded("redeemed", SAMPLES.redeemed);
    const missing: TranslateFn = (key) => `⟦${key}⟧`;
    expect(reasonText(missing, "en", line)).toBe("English text of redeemed");
    const failing: TranslateFn = () => {
      throw new Error("bad message");
    };
    expect(reasonText(failing, "en", line)).toBe("English text of redeemed");
  });
});
