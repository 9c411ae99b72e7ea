import { readFileSync } from "node:fs";
import { join } from "node:path";
import { IntlMessageFormat } from "intl-messageformat";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ApiError } from "../../web/src/api.ts";

/**
 * A money field's limits in the dashboard's forms (`fieldErrors` with the business's currency):
 * the owner types euros, so "at most 10000000000" (the API's limit, in cents) is worded as
 * "at most €100,000,000.00". The issue shapes are the API's (src/http/app.ts `issueCode`:
 * a number out of range gives its code, `origin: "number"` and the limit).
 */

type Translate = (key: string, values?: Record<string, string | number>) => string;
type FieldErrors = (
  error: unknown,
  codes?: Record<string, string>,
  t?: Translate,
  money?: { currency: string; locale: string; also?: (path: string) => boolean },
) => Record<string, string>;

// A .tsx module: Vitest compiles it; the path is a variable so that the Node type check, which
// knows no JSX, leaves it to the web app's (`tsc -p web`).
const FORMS = "../../web/src/dashboard/forms.tsx";
let fieldErrors: FieldErrors;
beforeAll(async () => {
  // The dashboard's router listens to the browser's history as it loads.
  vi.stubGlobal("window", { addEventListener() {}, removeEventListener() {} });
  ({ fieldErrors } = (await import(FORMS)) as { fieldErrors: FieldErrors });
});
afterAll(() => {
  vi.unstubAllGlobals();
});

const ROOT = join(import.meta.dirname, "../../web/src/i18n/messages/dashboard");

/** A plain translator over the dashboard messages of `locale`, as the dashboard's `t` behaves. */
function translator(locale: string): Translate {
  const messages = JSON.parse(readFileSync(join(ROOT, `${locale}.json`), "utf8")) as Record<string, string>;
  return (key, values) => {
    const message = messages[key];
    if (message === undefined) return `⟦${key}⟧`;
    return String(new IntlMessageFormat(message, locale).format(values));
  };
}

const refused = (...issues: { path: string; code: string; limit: number }[]) =>
  new ApiError(400, "validation_failed", "invalid", {
    issues: issues.map((i) => ({ in: "body", origin: "number", message: `${i.code} ${i.limit}`, ...i })),
  });

/** Currency amounts hold no-break spaces ("€ 1,00", "1 zł"): compared with plain ones. */
const plain = (errors: Record<string, string>) =>
  Object.fromEntries(Object.entries(errors).map(([k, v]) => [k, v.replace(/\u00a0|\u202f/g, " ")]));

describe("a money field's limits", () => {
  const error = refused(
    { path: "min_spend_minor", code: "too_big", limit: 10_000_000_000 },
    { path: "effect.per_minor", code: "too_small", limit: 1 },
    { path: "points", code: "too_big", limit: 1_000_000 },
  );

  it.each([
    [
      "en",
      "EUR",
      {
        min_spend_minor: "Enter at most €100,000,000.00.",
        "effect.per_minor": "Enter €0.01 or more.",
        points: "Enter at most 1000000.",
      },
    ],
    [
      "nl",
      "EUR",
      {
        min_spend_minor: "Vul hoogstens € 100.000.000,00 in.",
        "effect.per_minor": "Vul € 0,01 of meer in.",
        points: "Vul hoogstens 1000000 in.",
      },
    ],
    [
      "pl",
      "PLN",
      {
        min_spend_minor: "Wpisz najwyżej 100 000 000,00 zł.",
        "effect.per_minor": "Wpisz 0,01 zł lub więcej.",
        points: "Wpisz najwyżej 1000000.",
      },
    ],
    [
      "pt-BR",
      "BRL",
      {
        min_spend_minor: "Digite no máximo R$ 100.000.000,00.",
        "effect.per_minor": "Digite R$ 0,01 ou mais.",
        points: "Digite no máximo 1000000.",
      },
    ],
  ])(
    "are amounts in the business's currency in %s (%s); other numbers stay numbers",
    (locale, currency, words) => {
      const errors = fieldErrors(error, {}, translator(locale), { currency, locale });
      expect(plain(errors)).toEqual(words);
    },
  );

  it("follow the currency's own decimals: a yen has none", () => {
    const errors = fieldErrors(error, {}, translator("en"), { currency: "JPY", locale: "en" });
    expect(errors.min_spend_minor).toBe("Enter at most ¥10,000,000,000.");
  });

  it("word a field the form names as money (a spend tier's threshold) the same way, and only that one", () => {
    const tiers = refused(
      { path: "tiers.1.threshold", code: "too_big", limit: 10_000_000_000 },
      { path: "stamps_required", code: "too_big", limit: 30 },
    );
    const also = (path: string) => /^tiers\.\d+\.threshold$/.test(path);
    const errors = fieldErrors(tiers, {}, translator("en"), { currency: "EUR", locale: "en", also });
    expect(errors).toEqual({
      "tiers.1.threshold": "Enter at most €100,000,000.00.",
      stamps_required: "Enter at most 30.",
    });
  });

  it("are numbers when the form gives no currency, as before", () => {
    expect(fieldErrors(error, {}, translator("en")).min_spend_minor).toBe("Enter at most 10000000000.");
  });
});
