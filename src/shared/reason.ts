import { formatMoney } from "./money.ts";

/**
 * Why a history line exists, as data: a code and its figures, stored beside the English text of
 * every ledger entry, stamp entry and tier change the server writes. The text (`reason`) stays what
 * an API client has always read; the code (`reason_code`) and its figures (`reason_params`) let a
 * screen say it in the business's language, with its own number, money and date formats. A reason
 * staff typed (a correction) has no code: its text is shown as written.
 *
 * Every code and its figures:
 *
 * | code                          | figures                                                          |
 * | ----------------------------- | ---------------------------------------------------------------- |
 * | `earn_rate`                   | `points`, `per_minor`, `currency`: the program's base rate        |
 * | `rule`                        | `rule`: the earning rule's name                                   |
 * | `rule_capped`                 | `rule`: the rule, cut to what its cap left                        |
 * | `tier_bonus`                  | `tier`, `multiplier` (e.g. 1.5)                                   |
 * | `stamp_card`                  | `card`: a stamp card's own earning                                |
 * | `refund`                      | `purchase` (its external id), `note` (the refund's reason or null) |
 * | `refund_stamps`               | `card`, `purchase`, `note`                                        |
 * | `refund_voucher_taken`        | `purchase`, `note`, `voucher`: points a voided voucher gave back, taken by an earlier refund |
 * | `refund_given_back`           | `purchase`, `note`, `voucher`: points a refund took from other purchases, given back |
 * | `refund_stamps_voucher_taken` | `card`, `purchase`, `note`, `voucher`                             |
 * | `expired`                     | `points`, `source` (`purchase`, `event`, `signup`, …), `ref` (a purchase's external id, an event's type and id, or null), `date` (YYYY-MM-DD, the business's day) |
 * | `redeemed`                    | `reward`: its name                                                |
 * | `voucher_voided`              | `voucher` (its code), `note` (why, as staff wrote it)             |
 * | `tier_reached`                | `tier`, `metric`, `unit` (`spend` in minor units, `points`, `visits`), `currency`, `year` (null: the current period) |
 * | `tier_kept`                   | `from`, `tier`, `metric`, `unit`, `currency`, `year`: a tier ended, a lower one kept from last year |
 * | `tier_ended`                  | `from`, `metric`, `unit`, `currency`                              |
 * | `tier_taken_back`             | `from`, `cause` (`refund` or `correction`), `cause_ref` (the purchase or the correction's text), `left`, `threshold`, `unit`, `currency`, `tier` (the tier kept, or null), `reached` (its metric, or null), `year` (or null) |
 */

export interface ReasonCodes {
  earn_rate: { points: number; per_minor: number; currency: string };
  rule: { rule: string };
  rule_capped: { rule: string };
  tier_bonus: { tier: string; multiplier: number };
  stamp_card: { card: string };
  refund: { purchase: string; note: string | null };
  refund_stamps: { card: string; purchase: string; note: string | null };
  refund_voucher_taken: { purchase: string; note: string | null; voucher: string };
  refund_given_back: { purchase: string; note: string | null; voucher: string };
  refund_stamps_voucher_taken: { card: string; purchase: string; note: string | null; voucher: string };
  expired: { points: number; source: string; ref: string | null; date: string };
  redeemed: { reward: string };
  voucher_voided: { voucher: string; note: string | null };
  tier_reached: { tier: string; metric: number; unit: TierUnit; currency: string; year: number | null };
  tier_kept: { from: string; tier: string; metric: number; unit: TierUnit; currency: string; year: number };
  tier_ended: { from: string; metric: number; unit: TierUnit; currency: string };
  tier_taken_back: {
    from: string;
    cause: "refund" | "correction";
    cause_ref: string;
    left: number;
    threshold: number;
    unit: TierUnit;
    currency: string;
    tier: string | null;
    reached: number | null;
    year: number | null;
  };
}

export type TierUnit = "spend" | "points" | "visits";
export type ReasonCode = keyof ReasonCodes;
export const REASON_CODES = [
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
] as const satisfies readonly ReasonCode[];

/** A reason as the server writes it: the English text and, but for staff's own words, its code. */
export interface Reason {
  reason: string;
  reason_code: ReasonCode | null;
  reason_params: Record<string, unknown> | null;
}

/** A reason staff typed: shown as written. */
export function typed(text: string): Reason {
  return { reason: text, reason_code: null, reason_params: null };
}

/** A reason the server writes: its code, its figures and its English text. */
export function because<C extends ReasonCode>(code: C, params: ReasonCodes[C]): Reason {
  return {
    reason: english({ code, params } as CodedReason),
    reason_code: code,
    reason_params: params as unknown as Record<string, unknown>,
  };
}

const noted = (p: { purchase: string; note: string | null }) =>
  `${p.note ? `${p.note}, ` : ""}purchase ${p.purchase}`;

/** A tier's metric as the API has always written it: spend in minor units ("60000 spend"). */
function metricText(value: number, unit: TierUnit): string {
  return `${value} ${unit}`;
}

/** A code with its figures. */
export type CodedReason = { [C in ReasonCode]: { code: C; params: ReasonCodes[C] } }[ReasonCode];

/** The English text of a reason: what the API's `reason` has always said. */
export function english(r: CodedReason): string {
  switch (r.code) {
    case "earn_rate": {
      const q = r.params;
      return `${q.points} ${q.points === 1 ? "point" : "points"} per ${formatMoney(q.per_minor, q.currency, "en")}`;
    }
    case "rule":
      return r.params.rule;
    case "rule_capped":
      return `${r.params.rule} (capped)`;
    case "tier_bonus":
      return `${r.params.tier} tier ×${r.params.multiplier}`;
    case "stamp_card":
      return r.params.card;
    case "refund":
      return `Refund of ${noted(r.params)}`;
    case "refund_stamps":
      return `${r.params.card}: refund`;
    case "refund_voucher_taken":
      return `Refund of ${noted(r.params)}: points given back by voided voucher ${r.params.voucher} taken back`;
    case "refund_given_back":
      return `Refund of ${noted(r.params)}: points it took from other purchases given back: its own came back from voided voucher ${r.params.voucher}`;
    case "refund_stamps_voucher_taken":
      return `${r.params.card}: refund of ${noted(r.params)}, stamps given back by voided voucher ${r.params.voucher} taken back`;
    case "expired": {
      const q = r.params;
      const from = q.ref ? `${q.source} ${q.ref}` : q.source.replace(/_/g, " ");
      return `${q.points} points from ${from} expired on ${q.date}`;
    }
    case "redeemed":
      return `Redeemed "${r.params.reward}"`;
    case "voucher_voided":
      return `Voucher ${r.params.voucher} voided${r.params.note ? `: ${r.params.note}` : ""}`;
    case "tier_reached": {
      const q = r.params;
      return `Reached ${q.tier} with ${metricText(q.metric, q.unit)}${q.year !== null ? ` in ${q.year}` : ""}`;
    }
    case "tier_kept": {
      const q = r.params;
      return `${q.from} ended; kept ${q.tier}, reached with ${metricText(q.metric, q.unit)} in ${q.year}`;
    }
    case "tier_ended": {
      const q = r.params;
      return `${q.from} ended; ${metricText(q.metric, q.unit)} in the current period`;
    }
    case "tier_taken_back": {
      const q = r.params;
      const cause =
        q.cause === "refund"
          ? `the refund of purchase ${q.cause_ref}`
          : q.cause_ref
            ? `the correction "${q.cause_ref}"`
            : "a correction";
      const kept =
        q.tier !== null && q.reached !== null
          ? `; ${q.tier}, reached with ${metricText(q.reached, q.unit)}${q.year !== null ? ` in ${q.year}` : ""}`
          : "";
      return `${q.from} taken back: ${cause} leaves ${metricText(q.left, q.unit)}, below ${q.from}'s ${q.threshold}${kept}`;
    }
  }
}

/** The figures as the `reason_params` jsonb column takes them. */
export function stored(params: Record<string, unknown> | null): string | null {
  return params === null ? null : JSON.stringify(params);
}

/**
 * A reason as the member's own card shows it: without what staff wrote for themselves (a
 * correction's text, a refund's or a void's note), which is the business's, not the customer's.
 */
export function forCustomer(r: {
  reason: string;
  reason_code: string | null;
  reason_params: Record<string, unknown> | null;
}): Reason {
  if (
    r.reason_code === null ||
    r.reason_params === null ||
    !(REASON_CODES as readonly string[]).includes(r.reason_code)
  ) {
    return { reason: "", reason_code: null, reason_params: null };
  }
  let params = "note" in r.reason_params ? { ...r.reason_params, note: null } : r.reason_params;
  // A tier taken back by a correction names the correction by what staff typed for it: not the
  // customer's to read either.
  if (r.reason_code === "tier_taken_back" && params.cause === "correction")
    params = { ...params, cause_ref: "" };
  const coded = { code: r.reason_code, params } as CodedReason;
  return { reason: english(coded), reason_code: coded.code, reason_params: params };
}
