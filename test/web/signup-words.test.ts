import { readFileSync } from "node:fs";
import { join } from "node:path";
import { IntlMessageFormat } from "intl-messageformat";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ApiError } from "../../web/src/api.ts";

/**
 * The sign-up form's refusals in the owner's language (`worded`, through `fieldErrors`): a
 * password one character short says how long it must be, not "Fill this in."; a handle or an
 * e-mail address in the wrong form says what the form is. The issue shapes are the API's
 * (test/api/signup-retry.int.test.ts checks them).
 */

/** `fieldErrors` of web/src/dashboard/forms.tsx, as the dashboard calls it. */
type FieldErrors = (
  error: unknown,
  codes?: Record<string, string>,
  t?: (key: string, values?: Record<string, string | number>) => string,
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
const LOCALES = ["en", "nl", "pl", "pt-BR"] as const;

/** A plain translator over the dashboard messages of `locale`, as the dashboard's `t` behaves. */
function translator(locale: string) {
  const messages = JSON.parse(readFileSync(join(ROOT, `${locale}.json`), "utf8")) as Record<string, string>;
  return (key: string, values?: Record<string, string | number>) => {
    const message = messages[key];
    if (message === undefined) return `⟦${key}⟧`;
    return String(new IntlMessageFormat(message, locale).format(values));
  };
}

type Issue = {
  path: string;
  code: string;
  message: string;
  origin?: string;
  limit?: number;
  expected?: string;
};

const refused = (...issues: Issue[]) =>
  new ApiError(400, "validation_failed", issues[0]?.message ?? "invalid", {
    issues: issues.map((i) => ({ in: "body", ...i })),
  });

const PASSWORD: Issue = {
  path: "owner.password",
  code: "too_small",
  origin: "string",
  limit: 10,
  message: "must be at least 10 characters",
};
const EMPTY_NAME: Issue = {
  path: "name",
  code: "too_small",
  origin: "string",
  limit: 1,
  message: "Too small: expected string to have >=1 characters",
};
const SLUG: Issue = {
  path: "slug",
  code: "invalid_format",
  message: "must be 3–40 lowercase letters, digits or dashes, starting and ending with a letter or digit",
};
const EMAIL: Issue = { path: "owner.email", code: "invalid_format", message: "must be an email address" };

describe("the sign-up form's field errors", () => {
  it.each([
    ["en", "Use at least 10 characters.", "Use 3–40 lowercase letters", "Enter an email address"],
    ["nl", "Gebruik minstens 10 tekens.", "Gebruik 3–40 kleine letters", "Vul een e-mailadres in"],
    ["pl", "Wpisz co najmniej 10 znaków.", "Użyj od 3 do 40 małych liter", "Wpisz adres e-mail"],
    [
      "pt-BR",
      "Use pelo menos 10 caracteres.",
      "Use de 3 a 40 letras minúsculas",
      "Digite um endereço de e-mail",
    ],
  ])(
    "in %s: a short password says how long, a handle and an e-mail say their form",
    (locale, password, slug, email) => {
      const t = translator(locale);
      const errors = fieldErrors(refused(PASSWORD, SLUG, EMAIL, EMPTY_NAME), { slug_taken: "slug" }, t);
      expect(errors["owner.password"]).toBe(password);
      expect(errors.slug).toContain(slug);
      expect(errors["owner.email"]).toContain(email);
      // An empty field is still just that.
      expect(errors.name).toBe(t("dashboard.error.required"));
      for (const text of Object.values(errors)) {
        expect(text).not.toMatch(/⟦/);
        if (locale !== "en") expect(text).not.toMatch(/must be/);
      }
    },
  );

  it("counts in the language's plural forms", () => {
    const words = (locale: string, limit: number) =>
      fieldErrors(refused({ ...PASSWORD, limit }), {}, translator(locale))["owner.password"];
    expect([2, 5, 22].map((n) => words("pl", n))).toEqual([
      "Wpisz co najmniej 2 znaki.",
      "Wpisz co najmniej 5 znaków.",
      "Wpisz co najmniej 22 znaki.",
    ]);
    expect(words("en", 2)).toBe("Use at least 2 characters.");
  });

  it("leaves another field's format, and numbers' limits, as they were", () => {
    const t = translator("en");
    const errors = fieldErrors(
      refused(
        { path: "code", code: "invalid_format", message: "must be 4 digits" },
        { path: "points", code: "too_small", origin: "number", limit: 1, message: "too small" },
        { path: "rank", code: "too_big", origin: "number", limit: 100, message: "too big" },
      ),
      {},
      t,
    );
    expect(errors).toEqual({
      code: "must be 4 digits",
      points: "Enter 1 or more.",
      rank: "Enter at most 100.",
    });
  });

  it("words the handle taken by another business as before", () => {
    for (const locale of LOCALES) {
      const t = translator(locale);
      const taken = new ApiError(
        409,
        "slug_taken",
        'The business handle "cafe" is already taken; choose another.',
      );
      expect(fieldErrors(taken, { slug_taken: "slug" }, t).slug).toBe(t("dashboard.problem.slug_taken"));
    }
  });
});
