import { readFileSync } from "node:fs";
import { join } from "node:path";
import { IntlMessageFormat } from "intl-messageformat";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { z } from "zod";
import { RewardPatch } from "../../src/modules/rewards/schema.ts";
import { RuleInput } from "../../src/modules/rules/schema.ts";
import { ApiError } from "../../web/src/api.ts";

/**
 * How the program editors word what the API refuses: a multiplier's limits as the factor the owner
 * types (×1, not 10000 basis points), the rule checks whose text the API gives in English only
 * (a time window, a cap without a limit, an empty "one of" list), a reward's new type sent without
 * its value, and the refusals the dashboard words itself (points expiring before they can be spent,
 * a tier members are in).
 */

type Translate = (key: string, values?: Record<string, string | number>) => string;
interface Units {
  currency: string;
  locale: string;
  also?: (path: string) => boolean;
  factor?: (path: string) => boolean;
}
interface Forms {
  fieldErrors: (
    error: unknown,
    codes?: Record<string, string>,
    t?: Translate,
    units?: Units,
  ) => Record<string, string>;
  reasonedIssues: (error: unknown, t: Translate, locale: string) => Record<string, string>;
  readFactor: (text: string, empty?: number | null) => number | null;
  DASHBOARD_PROBLEMS: { prefix: string; codes: ReadonlySet<string> };
}

// .tsx modules: Vitest compiles them; the paths are variables so that the Node type check, which
// knows no JSX, leaves them to the web app's (`tsc -p web`).
const FORMS = "../../web/src/dashboard/forms.tsx";
let forms: Forms;
beforeAll(async () => {
  // The dashboard's router listens to the browser's history as it loads.
  vi.stubGlobal("window", { addEventListener() {}, removeEventListener() {} });
  forms = (await import(FORMS)) as Forms;
});
afterAll(() => {
  vi.unstubAllGlobals();
});

const ROOT = join(import.meta.dirname, "../../web/src/i18n/messages/dashboard");
const LOCALES = ["en", "nl", "pl", "pt-BR"] as const;
const messagesOf = (locale: string) =>
  JSON.parse(readFileSync(join(ROOT, `${locale}.json`), "utf8")) as Record<string, string>;

/** A plain translator over the dashboard messages of `locale`, as the dashboard's `t` behaves. */
function translator(locale: string): Translate {
  const messages = messagesOf(locale);
  return (key, values) => {
    const message = messages[key];
    if (message === undefined) return `⟦${key}⟧`;
    return String(new IntlMessageFormat(message, locale).format(values));
  };
}

const outOfRange = (...issues: { path: string; code: string; limit: number }[]) =>
  new ApiError(400, "validation_failed", "invalid", {
    issues: issues.map((i) => ({ in: "body", origin: "number", message: `${i.code} ${i.limit}`, ...i })),
  });

/**
 * The issues the API answers for a `body` its `schema` refuses (src/http/app.ts: the path joined
 * with dots, Zod's code and message, and a custom issue's `params`), from the API's own schema.
 */
function refusal(schema: z.ZodType, body: unknown): ApiError {
  const parsed = schema.safeParse(body);
  if (parsed.success) throw new Error("the body was accepted");
  return new ApiError(400, "validation_failed", "invalid", {
    issues: parsed.error.issues.map((i) => ({
      in: "body",
      path: i.path.join("."),
      message: i.message,
      code: i.code,
      ...(i.code === "custom" && i.params ? { params: i.params } : {}),
    })),
  });
}
const ruleRefusal = (body: unknown) => refusal(RuleInput, body);

describe("a reward's new type sent without its value", () => {
  it("is worded at the reward's value in every language, as the editor lays it over the field errors", () => {
    const error = refusal(RewardPatch, { type: "perk", name: "Free delivery" });
    const words = LOCALES.map((locale) => {
      const t = translator(locale);
      return { ...forms.fieldErrors(error, {}, t), ...forms.reasonedIssues(error, t, locale) };
    });
    expect(words).toEqual([
      { value: "Fill in what the member gets with the new kind of reward." },
      { value: "Vul in wat het lid krijgt bij de nieuwe soort beloning." },
      { value: "Uzupełnij, co dostaje członek przy nowym rodzaju nagrody." },
      { value: "Preencha o que o membro recebe com o novo tipo de recompensa." },
    ]);
  });
});

describe("a multiplier's limits", () => {
  it("are the factor the owner types: ×1 at least for a tier, more than ×1 for a rule, at most ×10", () => {
    const error = outOfRange(
      { path: "earn_multiplier_bp", code: "too_small", limit: 10_000 },
      { path: "effect.factor_bp", code: "too_small", limit: 10_001 },
      { path: "points", code: "too_big", limit: 1_000_000 },
    );
    expect(forms.fieldErrors(error, {}, translator("en"))).toEqual({
      earn_multiplier_bp: "Enter 1 or more.",
      "effect.factor_bp": "Enter more than 1.",
      points: "Enter at most 1000000.",
    });
    const tooBig = outOfRange({ path: "earn_multiplier_bp", code: "too_big", limit: 100_000 });
    expect(forms.fieldErrors(tooBig, {}, translator("en"))).toEqual({
      earn_multiplier_bp: "Enter at most 10.",
    });
  });

  it("are written as the language writes numbers, and a field the form names is a factor too", () => {
    const error = outOfRange(
      { path: "boost", code: "too_small", limit: 15_000 },
      { path: "cap", code: "too_big", limit: 24_999 },
    );
    const errors = forms.fieldErrors(error, {}, translator("nl"), {
      currency: "EUR",
      locale: "nl",
      factor: (path) => path === "boost" || path === "cap",
    });
    expect(errors).toEqual({ boost: "Vul 1,5 of meer in.", cap: "Vul minder in dan 2,5." });
  });

  it("are in every language", () => {
    const error = outOfRange({ path: "effect.factor_bp", code: "too_small", limit: 10_001 });
    const words = LOCALES.map((l) => forms.fieldErrors(error, {}, translator(l))["effect.factor_bp"]);
    expect(words).toEqual([
      "Enter more than 1.",
      "Vul meer in dan 1.",
      "Wpisz więcej niż 1.",
      "Digite mais que 1.",
    ]);
  });
});

describe("a typed factor", () => {
  it("is read as basis points; empty is ×1 (the API's default), anything else unreadable is NaN", () => {
    expect(forms.readFactor("1.5")).toBe(15_000);
    expect(forms.readFactor(" 1,25 ")).toBe(12_500);
    expect(forms.readFactor("2")).toBe(20_000);
    expect(forms.readFactor("")).toBe(10_000);
    expect(forms.readFactor("", null)).toBeNull();
    expect(forms.readFactor("x1.5")).toBeNaN();
    expect(forms.readFactor("-2")).toBeNaN();
  });
});

describe("the rule checks the API words in English only", () => {
  const base = { name: "Early bird", trigger: "purchase", effect: { type: "fixed_points", points: 10 } };

  it("word a time that is not HH:MM and a window that starts as it ends", () => {
    const badTime = ruleRefusal({ ...base, conditions: { time_window: { from: "7:00", to: "09:00" } } });
    expect(forms.fieldErrors(badTime, {}, translator("en"))).toEqual({
      "conditions.time_window.from": "Enter a time as HH:MM, such as 07:30.",
    });
    const same = ruleRefusal({ ...base, conditions: { time_window: { from: "07:00", to: "07:00" } } });
    expect(forms.fieldErrors(same, {}, translator("pl"))).toEqual({
      "conditions.time_window": "Godzina początku i końca muszą się różnić.",
    });
  });

  it("word a cap without a limit", () => {
    const error = ruleRefusal({ ...base, cap: { period: "day" } });
    expect(forms.fieldErrors(error, {}, translator("nl"))).toEqual({
      cap: "Vul in hoe vaak, hoeveel punten, of allebei.",
    });
  });

  it("word a member attribute's value: an empty “one of” list, a missing value, a value where none belongs", () => {
    const error = ruleRefusal({
      ...base,
      conditions: {
        member_attributes: [
          { key: "postcode", op: "in", value: [] },
          { key: "city", op: "eq" },
          { key: "vip", op: "exists", value: true },
        ],
      },
    });
    expect(forms.fieldErrors(error, {}, translator("en"))).toEqual({
      "conditions.member_attributes.0.value": "Enter at least one value.",
      "conditions.member_attributes.1.value": "Fill this in.",
      "conditions.member_attributes.2.value": "Leave the value empty for this comparison.",
    });
  });
});

describe("the refusals the dashboard words itself", () => {
  it("put points expiring before they can be spent at the pending days, with both figures", () => {
    const error = new ApiError(422, "pending_outlasts_expiry", "Points would expire (after 14 days) …", {
      pending_days: 30,
      expiry_days: 14,
    });
    const codes = { pending_outlasts_expiry: "points.pending_days" };
    expect(forms.fieldErrors(error, codes, translator("nl"))).toEqual({
      "points.pending_days":
        "Punten zouden vervallen voordat ze te besteden zijn: maak de dagen voordat ze te besteden zijn (30) minder dan de dagen tot ze vervallen (14).",
    });
  });

  it("include archiving a tier members are in, named and counted in the language's plural", () => {
    const { prefix, codes } = forms.DASHBOARD_PROBLEMS;
    expect(codes.has("tier_in_use")).toBe(true);
    const pl = translator("pl");
    expect(pl(`${prefix}.tier_in_use`, { name: "Złoty", members: 1 })).toContain(
      "Na poziomie „Złoty” jest 1 członek",
    );
    expect(pl(`${prefix}.tier_in_use`, { name: "Złoty", members: 3 })).toContain("są 3 członkowie");
    expect(pl(`${prefix}.tier_in_use`, { name: "Złoty", members: 5 })).toContain("jest 5 członków");
    // The name and the count as the API's details give them, in every language.
    const refusal = new ApiError(409, "tier_in_use", '2 member(s) are in tier "Gold"', {
      name: "Gold",
      members: 2,
    });
    for (const locale of LOCALES) {
      const { tier } = forms.fieldErrors(refusal, { tier_in_use: "tier" }, translator(locale));
      expect(tier, locale).toMatch(/^(?=.*[“„]Gold”)(?=.*\b2\b)/);
      expect(tier, locale).not.toContain("⟦");
    }
  });

  it("have a message for every code in every language", () => {
    const { prefix, codes } = forms.DASHBOARD_PROBLEMS;
    for (const code of [
      "pending_outlasts_expiry",
      "valid_until_in_past",
      "starts_at_in_past",
      "tier_in_use",
      "tier_archived",
      "stamp_card_archived",
      "rule_archived",
      "reward_archived",
      "location_not_found",
      "cap_points_on_stamps",
    ])
      expect(codes.has(code), code).toBe(true);
    for (const locale of LOCALES) {
      const messages = messagesOf(locale);
      for (const code of codes) expect(messages[`${prefix}.${code}`], `${locale} ${code}`).toBeTruthy();
    }
  });
});
