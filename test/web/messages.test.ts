import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  isPluralElement,
  isSelectElement,
  type MessageFormatElement,
  parse,
} from "@formatjs/icu-messageformat-parser";
import { describe, expect, it } from "vitest";

/**
 * The web app's translations are complete and well formed: every message of every area exists in
 * English, Dutch, Polish and Brazilian Portuguese, parses as an ICU message, uses the same
 * placeholders in every language, and gives each plural the forms its language needs (Polish
 * needs one/few/many: 1 punkt, 2 punkty, 5 punktów).
 */

const ROOT = join(import.meta.dirname, "../../web/src/i18n/messages");
const LOCALES = ["en", "nl", "pl", "pt-BR"] as const;
const AREAS = readdirSync(ROOT);

function load(area: string, locale: string): Record<string, string> {
  return JSON.parse(readFileSync(join(ROOT, area, `${locale}.json`), "utf8"));
}

/** The placeholders of a message and, per plural placeholder, the categories it spells out. */
function shape(
  elements: MessageFormatElement[],
  out = { args: new Set<string>(), plurals: new Map<string, Set<string>>() },
) {
  for (const element of elements) {
    if ("value" in element && typeof element.value === "string" && element.type !== 0)
      out.args.add(element.value);
    if (isPluralElement(element)) {
      const categories = out.plurals.get(element.value) ?? new Set<string>();
      for (const key of Object.keys(element.options)) if (!key.startsWith("=")) categories.add(key);
      out.plurals.set(element.value, categories);
    }
    if (isPluralElement(element) || isSelectElement(element)) {
      for (const option of Object.values(element.options)) shape(option.value, out);
    }
    if ("children" in element && Array.isArray(element.children)) shape(element.children, out);
  }
  return out;
}

/**
 * The plural categories a language uses for the counts people see (0 to 1000), as CLDR through
 * Intl.PluralRules says: English one/other, Polish one/few/many (and other for fractions).
 */
function neededCategories(locale: string): string[] {
  const rules = new Intl.PluralRules(locale);
  const used = new Set<string>();
  for (let n = 0; n <= 1000; n++) used.add(rules.select(n));
  return [...used];
}

describe("web app translations", () => {
  it("has the four languages in every area", () => {
    expect(AREAS.length).toBeGreaterThanOrEqual(5);
    for (const area of AREAS) {
      expect(readdirSync(join(ROOT, area)).sort(), area).toEqual(LOCALES.map((l) => `${l}.json`).sort());
    }
  });

  for (const area of AREAS) {
    describe(area, () => {
      const english = load(area, "en");

      it("names every key after its area", () => {
        for (const key of Object.keys(english)) expect(key.startsWith(`${area}.`), key).toBe(true);
      });

      for (const locale of LOCALES) {
        it(`has every message in ${locale}, well formed, with the same placeholders and the plural forms ${locale} needs`, () => {
          const messages = load(area, locale);
          expect(Object.keys(messages).sort(), `${area}/${locale} keys`).toEqual(Object.keys(english).sort());
          const needed = neededCategories(locale);
          for (const [key, message] of Object.entries(messages)) {
            expect(message.trim(), `${locale} ${key} is empty`).not.toBe("");
            const ast = parse(message);
            const mine = shape(ast);
            const reference = shape(parse(english[key] ?? ""));
            expect([...mine.args].sort(), `${locale} ${key} placeholders`).toEqual(
              [...reference.args].sort(),
            );
            for (const [name, categories] of mine.plurals) {
              for (const category of needed) {
                expect(
                  categories.has(category),
                  `${locale} ${key}: plural {${name}} lacks "${category}"`,
                ).toBe(true);
              }
            }
          }
        });
      }
    });
  }

  it("knows the Polish plural forms it checks for", () => {
    expect(neededCategories("pl").sort()).toEqual(["few", "many", "one"]);
    expect(neededCategories("en").sort()).toEqual(["one", "other"]);
    expect(neededCategories("pt-BR").sort()).toEqual(["one", "other"]);
  });

  it("would catch a Polish plural that only knows one and other, and a lost placeholder", () => {
    const wrong = shape(parse("{count, plural, one {# punkt} other {# punktów}}"));
    expect(
      neededCategories("pl")
        .filter((c) => !wrong.plurals.get("count")?.has(c))
        .sort(),
    ).toEqual(["few", "many"]);
    expect([...shape(parse("Hallo {name}, je hebt {count} punten")).args].sort()).toEqual(["count", "name"]);
    expect([...shape(parse("Hallo, je hebt punten")).args]).toEqual([]);
  });
});
