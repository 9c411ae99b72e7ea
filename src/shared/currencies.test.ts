import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CURRENCY_CODES, currencyDigits, isCurrency } from "./currencies.ts";

/**
 * The digits of each currency's minor unit are pinned data (src/shared/currencies.ts), read alike
 * by the server and the web app, whatever `Intl` data the runtime has: here a runtime is made to
 * give the forint ISO 4217's two digits, as another browser's data may, and amounts still mean
 * what they were stored as.
 */

describe("currency digits", () => {
  it.each([
    ["EUR", 2],
    ["PLN", 2],
    ["BRL", 2],
    ["USD", 2],
    ["JPY", 0],
    ["HUF", 0],
    ["KRW", 0],
    ["IDR", 0],
    ["KWD", 3],
    ["BHD", 3],
  ])("%s has %i", (code, digits) => {
    expect(isCurrency(code)).toBe(true);
    expect(currencyDigits(code)).toBe(digits);
  });

  it.each(["eur", "EURO", "XYZ", "", "XAU", "EU"])("%j is not a currency", (code) => {
    expect(isCurrency(code)).toBe(false);
  });

  it("lists each currency once, sorted, as three upper-case letters", () => {
    expect(new Set(CURRENCY_CODES).size).toBe(CURRENCY_CODES.length);
    expect([...CURRENCY_CODES].sort()).toEqual(CURRENCY_CODES);
    for (const code of CURRENCY_CODES) expect(code).toMatch(/^[A-Z]{3}$/);
    expect(CURRENCY_CODES.length).toBeGreaterThan(150);
  });
});

/** A formatted amount with its no-break spaces as plain ones. */
const spaced = (text: string) => text.replace(/\s/gu, " ");

describe("on a runtime whose Intl data gives other digits", () => {
  const RealNumberFormat = Intl.NumberFormat;
  beforeAll(() => {
    // ISO 4217's two digits for the forint, where this Node's ICU has none.
    const Iso = function (this: unknown, locales?: string | string[], options?: Intl.NumberFormatOptions) {
      const given = options ?? {};
      const iso =
        given.style === "currency" && given.currency === "HUF" && given.maximumFractionDigits === undefined
          ? { ...given, minimumFractionDigits: 2, maximumFractionDigits: 2 }
          : given;
      return new RealNumberFormat(locales, iso);
    } as unknown as typeof Intl.NumberFormat;
    Iso.supportedLocalesOf = RealNumberFormat.supportedLocalesOf;
    Intl.NumberFormat = Iso;
    expect(spaced(new Intl.NumberFormat("en", { style: "currency", currency: "HUF" }).format(500))).toBe(
      "HUF 500.00",
    );
  });
  afterAll(() => {
    Intl.NumberFormat = RealNumberFormat;
  });

  it("the server and the web app show 500 Ft as 500 Ft, and read a typed 500 as 500", async () => {
    // Loaded only now, after the runtime is changed: each keeps its formats once built.
    const server = await import("./money.ts");
    const web = await import("../../web/src/i18n/format.ts");
    expect(spaced(server.formatMoney(500, "HUF", "en"))).toBe("HUF 500");
    expect(server.minorPerMajor("HUF")).toBe(1);
    expect(spaced(web.formatMoney(500, "HUF", "en"))).toBe("HUF 500");
    expect(web.parseMoney("500", "HUF")).toBe(500);
    expect(web.parseMoney("5,00", "HUF")).toBeNull();
    expect(server.formatMoney(450, "EUR", "nl")).toBe(web.formatMoney(450, "EUR", "nl"));
  });
});
