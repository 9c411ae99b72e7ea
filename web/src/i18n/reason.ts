import { formatDay, formatMoney } from "./format.ts";

/**
 * Why a history line exists, in the reader's language. The server stores beside the English text
 * of every ledger entry, stamp entry and tier change (`reason`) a code and its figures
 * (`reason_code`, `reason_params`; the codes are listed in src/shared/reason.ts). A coded reason is
 * told with the `admin.reason.<code>` message, its money, numbers and dates in the locale; a reason
 * staff typed (no code), an item from before codes were sent (no `reason_code` at all), a code this
 * screen does not know or figures that do not fit it are shown as the server wrote them. Never
 * throws: a line always says something.
 */

/** A reason as the API sends it: the English text and, when the server wrote it, its code. */
export interface ReasonItem {
  reason: string;
  reason_code?: string | null;
  reason_params?: Record<string, unknown> | null;
}

/**
 * A translator as `useT().t` is (its values spelled out here, so tests outside the web app's
 * compiler settings can load this module without the React provider).
 */
export type TranslateFn = (
  key: string,
  values?: Record<string, string | number | Date | boolean | null | undefined>,
) => string;

/** The codes this screen tells in words (src/shared/reason.ts `REASON_CODES`). */
export const KNOWN_REASON_CODES = [
  "earn_rate",
  "rule",
  "rule_capped",
  "tier_bonus",
  "stamp_card",
  "refund",
  "refund_stamps",
  "refund_voucher_taken",
  "refund_given_back",
  "refund_stamps_voucher_taken",
  "expired",
  "redeemed",
  "voucher_voided",
  "tier_reached",
  "tier_kept",
  "tier_ended",
  "tier_taken_back",
] as const;

/** Figures that do not fit their code: the line falls back to the server's text. */
class Unfit extends Error {}

/** Reads the figures of one reason, refusing any that is missing or of the wrong type. */
function reader(params: Record<string, unknown>) {
  const text = (name: string): string => {
    const value = params[name];
    if (typeof value !== "string") throw new Unfit(name);
    return value;
  };
  const optionalText = (name: string): string | null => {
    const value = params[name];
    if (value === null || value === undefined) return null;
    return text(name);
  };
  const number = (name: string): number => {
    const value = params[name];
    if (typeof value !== "number" || !Number.isFinite(value)) throw new Unfit(name);
    return value;
  };
  const optionalNumber = (name: string): number | null => {
    const value = params[name];
    if (value === null || value === undefined) return null;
    return number(name);
  };
  return { text, optionalText, number, optionalNumber };
}

const UNITS = new Set(["spend", "points", "visits"]);
/** Where expired points came from, as the messages name it without a reference. */
const SOURCES = new Set(["purchase", "event", "signup", "birthday", "adjustment", "voucher", "refund"]);

/**
 * The text of `item`'s reason in `locale`: its code's message with its figures, or `reason` as the
 * server wrote it when there is no code, the code is unknown or its figures do not fit.
 */
export function reasonText(t: TranslateFn, locale: string, item: ReasonItem): string {
  const fallback = typeof item.reason === "string" ? item.reason : "";
  const code = item.reason_code;
  const params = item.reason_params;
  if (typeof code !== "string" || !params || typeof params !== "object" || Array.isArray(params)) {
    return fallback;
  }
  try {
    const text = coded(t, locale, code, params);
    // No message for the code (an older message file): the English text says more than a marker.
    if (text === null || text.includes("⟦")) return fallback;
    return text;
  } catch {
    return fallback;
  }
}

function coded(t: TranslateFn, locale: string, code: string, params: Record<string, unknown>): string | null {
  const p = reader(params);
  const key = `admin.reason.${code}`;
  /** Whether a note was given (`noted`: `yes`/`no`, for the messages' select). */
  const note = () => {
    const value = p.optionalText("note");
    return { note: value ?? "", noted: value ? "yes" : "no" };
  };
  /** A tier's metric as words: money spent ("€600.00 spent"), points or visits. */
  const metric = (value: number, unit: string, currency: string, as: "metric" | "threshold" = "metric") =>
    t(`admin.reason.${as}`, {
      unit,
      count: value,
      amount: unit === "spend" ? formatMoney(value, currency, locale) : "",
    });
  const unitOf = () => {
    const unit = p.text("unit");
    if (!UNITS.has(unit)) throw new Unfit("unit");
    const currency = unit === "spend" ? p.text("currency") : (p.optionalText("currency") ?? "");
    return { unit, currency };
  };
  const year = (value: number | null) => (value === null ? "" : String(value));

  switch (code) {
    case "earn_rate":
      return t(key, {
        points: p.number("points"),
        amount: formatMoney(p.number("per_minor"), p.text("currency"), locale),
      });
    case "rule":
    case "rule_capped":
      return t(key, { rule: p.text("rule") });
    case "tier_bonus":
      return t(key, { tier: p.text("tier"), multiplier: p.number("multiplier") });
    case "stamp_card":
      return t(key, { card: p.text("card") });
    case "refund":
      return t(key, { purchase: p.text("purchase"), ...note() });
    case "refund_stamps":
      return t(key, { card: p.text("card"), purchase: p.text("purchase"), ...note() });
    case "refund_voucher_taken":
    case "refund_given_back":
      return t(key, { purchase: p.text("purchase"), voucher: p.text("voucher"), ...note() });
    case "refund_stamps_voucher_taken":
      return t(key, {
        card: p.text("card"),
        purchase: p.text("purchase"),
        voucher: p.text("voucher"),
        ...note(),
      });
    case "expired": {
      const source = p.text("source");
      const ref = p.optionalText("ref");
      const date = p.text("date");
      if (!/^\d{4}-\d{2}-\d{2}$/.test(date) || Number.isNaN(Date.parse(`${date}T00:00:00Z`))) {
        throw new Unfit("date");
      }
      // Purchases and events are named by their reference; other sources by what they are.
      const from =
        source === "purchase" || source === "event"
          ? ref
            ? source
            : `${source}_unnamed`
          : SOURCES.has(source)
            ? source
            : "other";
      return t(key, {
        points: p.number("points"),
        from,
        ref: ref ?? "",
        name: ref ? `${source.replace(/_/g, " ")} ${ref}` : source.replace(/_/g, " "),
        date: formatDay(date, locale, { dateStyle: "long" }),
      });
    }
    case "redeemed":
      return t(key, { reward: p.text("reward") });
    case "voucher_voided":
      return t(key, { voucher: p.text("voucher"), note: p.text("note") });
    case "tier_reached": {
      const { unit, currency } = unitOf();
      const y = p.optionalNumber("year");
      return t(key, {
        tier: p.text("tier"),
        metric: metric(p.number("metric"), unit, currency),
        period: y === null ? "current" : "year",
        year: year(y),
      });
    }
    case "tier_kept": {
      const { unit, currency } = unitOf();
      return t(key, {
        from: p.text("from"),
        tier: p.text("tier"),
        metric: metric(p.number("metric"), unit, currency),
        year: year(p.number("year")),
      });
    }
    case "tier_ended": {
      const { unit, currency } = unitOf();
      return t(key, { from: p.text("from"), metric: metric(p.number("metric"), unit, currency) });
    }
    case "tier_taken_back": {
      const { unit, currency } = unitOf();
      const cause = p.text("cause");
      if (cause !== "refund" && cause !== "correction") throw new Unfit("cause");
      const tier = p.optionalText("tier");
      const reached = p.optionalNumber("reached");
      const y = p.optionalNumber("year");
      return t(key, {
        from: p.text("from"),
        cause,
        causeRef: p.text("cause_ref"),
        left: metric(p.number("left"), unit, currency),
        threshold: metric(p.number("threshold"), unit, currency, "threshold"),
        kept: tier === null || reached === null ? "none" : y === null ? "current" : "year",
        tier: tier ?? "",
        reached: reached === null ? "" : metric(reached, unit, currency),
        year: year(y),
      });
    }
    default:
      return null;
  }
}
