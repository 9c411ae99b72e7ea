import { zonedParts } from "../../shared/time.ts";
import type { AttributeCondition, ItemMatch, Rule, RuleCap, RuleConditions } from "./schema.ts";

/**
 * The rule evaluator: a pure function from a purchase or event, the member, the rules and what
 * each capped rule already gave, to the points and stamps earned, each with its reason. It reads
 * data and does arithmetic; it never runs code from a rule.
 */

export interface LineItem {
  sku: string;
  name?: string | undefined;
  category?: string | undefined;
  brand?: string | undefined;
  quantity: number;
  unit_price_minor: number;
}

export interface PurchaseFacts {
  amount_minor: number;
  items: readonly LineItem[];
  location_id: string | null;
}

export interface EvaluationInput {
  timeZone: string;
  occurredAt: Date;
  rounding: "floor" | "round" | "ceil";
  /** Base points of the purchase before rules (0 for events). */
  basePoints: number;
  purchase?: PurchaseFacts;
  event?: { type: string; properties: Readonly<Record<string, unknown>> };
  member: {
    tier_id: string | null;
    attributes: Readonly<Record<string, unknown>>;
    is_first_purchase: boolean;
  };
  /** What each capped rule already gave this member in the rule's current cap period. */
  capUsage: ReadonlyMap<string, { times: number; points: number }>;
  /**
   * What a rule can give: points only while the program's points are on, stamps only on an active
   * card. A rule that would give nothing else does not apply, so it neither stops the rules after
   * it nor uses its cap.
   */
  pointsEnabled: boolean;
  stampCardIds: ReadonlySet<string>;
}

export interface RuleOutcome {
  rule_id: string;
  /** The rule's name. */
  reason: string;
  /** Cut to what the rule's `max_points` cap left. */
  capped?: true;
  points: number;
  stamps?: { stamp_card_id: string; stamps: number };
}

export function round(value: number, mode: "floor" | "round" | "ceil"): number {
  // Guard against binary noise: 2.9999999999 is 3 for every mode.
  const v = Math.round(value * 1e9) / 1e9;
  return mode === "floor" ? Math.floor(v) : mode === "ceil" ? Math.ceil(v) : Math.round(v);
}

/**
 * Applies `rules` (already filtered to the trigger, sorted by priority) to one purchase or event.
 *
 * @example evaluateRules(rules, { timeZone: "Europe/Amsterdam", basePoints: 12, ... })
 */
export function evaluateRules(rules: readonly Rule[], input: EvaluationInput): RuleOutcome[] {
  const outcomes: RuleOutcome[] = [];
  for (const rule of rules) {
    if (!rule.active || !inDateRange(rule, input.occurredAt) || !matches(rule.conditions, input)) continue;
    const outcome = applyEffect(rule, input);
    if (!outcome) continue;
    const capped = applyCap(outcome, rule.cap, input.capUsage.get(rule.id));
    if (capped) outcomes.push(capped);
    if (capped && rule.stop_processing) break;
  }
  return outcomes;
}

function inDateRange(rule: Rule, at: Date): boolean {
  return (!rule.starts_at || at >= rule.starts_at) && (!rule.ends_at || at < rule.ends_at);
}

/** True when every condition given holds for the input. */
export function matches(c: RuleConditions, input: EvaluationInput): boolean {
  const p = input.purchase;
  if (c.min_spend_minor !== undefined && (!p || p.amount_minor < c.min_spend_minor)) return false;
  if (c.items && (!p || matchingQuantity(p.items, c.items) < (c.items.min_quantity ?? 1))) return false;
  if (c.location_ids && (!p?.location_id || !c.location_ids.includes(p.location_id))) return false;
  if (c.days_of_week || c.time_window) {
    const local = zonedParts(input.occurredAt, input.timeZone);
    const minute = local.hour * 60 + local.minute;
    if (c.days_of_week && !c.days_of_week.includes(windowDay(local.weekday, minute, c.time_window))) {
      return false;
    }
    if (c.time_window && !inTimeWindow(minute, c.time_window)) return false;
  }
  if (c.tier_ids && (!input.member.tier_id || !c.tier_ids.includes(input.member.tier_id))) return false;
  if (c.first_purchase !== undefined && (!p || c.first_purchase !== input.member.is_first_purchase))
    return false;
  if (c.member_attributes && !c.member_attributes.every((a) => compare(input.member.attributes, a)))
    return false;
  if (
    c.event_properties &&
    (!input.event || !c.event_properties.every((a) => compare(input.event?.properties ?? {}, a)))
  ) {
    return false;
  }
  return true;
}

function toMinutes(hhmm: string): number {
  const [h, m] = hhmm.split(":").map(Number);
  return (h ?? 0) * 60 + (m ?? 0);
}

/** From inclusive, to exclusive; a window whose end is before its start wraps past midnight. */
export function inTimeWindow(minute: number, window: { from: string; to: string }): boolean {
  const from = toMinutes(window.from);
  const to = toMinutes(window.to);
  return from < to ? minute >= from && minute < to : minute >= from || minute < to;
}

/**
 * The day a purchase's time window belongs to (ISO weekday, 1 = Monday): the hours after midnight
 * of a window that wraps past it ("Friday 22:00–02:00") belong to the evening it started on, so
 * Saturday 01:00 is still Friday night and Friday 01:00 is Thursday's.
 */
export function windowDay(weekday: number, minute: number, window?: { from: string; to: string }): number {
  if (!window) return weekday;
  const from = toMinutes(window.from);
  const to = toMinutes(window.to);
  const afterMidnight = from > to && minute < to;
  return afterMidnight ? (weekday === 1 ? 7 : weekday - 1) : weekday;
}

export function itemMatches(item: LineItem, match: ItemMatch): boolean {
  return Boolean(
    match.skus?.includes(item.sku) ||
      (item.category && match.categories?.includes(item.category)) ||
      (item.brand && match.brands?.includes(item.brand)),
  );
}

export function matchingQuantity(items: readonly LineItem[], match: ItemMatch): number {
  return items.filter((i) => itemMatches(i, match)).reduce((sum, i) => sum + i.quantity, 0);
}

/**
 * What the matching items cost, at most their share of what was paid: items listed at more than
 * the purchase's amount (a discount or a coupon on the whole order) count at the price paid,
 * scaled as a return of them would be refunded, so that no item earns on money not spent.
 */
function matchingSpend(purchase: PurchaseFacts, match: ItemMatch): number {
  let matching = 0;
  let listed = 0;
  for (const i of purchase.items) {
    const worth = i.quantity * i.unit_price_minor;
    listed += worth;
    if (itemMatches(i, match)) matching += worth;
  }
  if (listed <= purchase.amount_minor || matching === 0) return matching;
  // In integers: the product can pass 2^53.
  return Number((BigInt(matching) * BigInt(purchase.amount_minor)) / BigInt(listed));
}

/**
 * Equality of an attribute and a condition's value: a number and the same number written as text
 * are equal (a postcode 1012 sent by a POS as text, typed in the dashboard as a number); "007" is
 * not 7, and true is not "true".
 */
function same(actual: unknown, expected: unknown): boolean {
  if (actual === expected) return true;
  if (typeof actual === "number" && typeof expected === "string") return String(actual) === expected;
  if (typeof actual === "string" && typeof expected === "number") return actual === String(expected);
  return false;
}

/** A number as a POS or a form may send it as text: `30`, `-2`, `4.5`; not `""`, `1e3` or ` 7`. */
const NUMERIC_TEXT = /^-?\d+(\.\d+)?$/;

function asNumber(value: unknown): number | null {
  if (typeof value === "number") return Number.isFinite(value) ? value : null;
  return typeof value === "string" && NUMERIC_TEXT.test(value) ? Number(value) : null;
}

/**
 * The two sides of an ordering comparison (gt, gte, lt, lte), as `same` reads equality: numbers,
 * or numbers written as text, compare as numbers ("9" is less than 18, and less than "18"); other
 * text compares as text (a date "2026-03-01"); anything else cannot be ordered (null: false).
 */
function ordered(actual: unknown, expected: unknown): [number, number] | [string, string] | null {
  const a = asNumber(actual);
  const e = asNumber(expected);
  if (a !== null && e !== null) return [a, e];
  if (typeof actual === "string" && typeof expected === "string") return [actual, expected];
  return null;
}

function compare(values: Readonly<Record<string, unknown>>, cond: AttributeCondition): boolean {
  const actual = values[cond.key];
  const expected = cond.value;
  switch (cond.op) {
    case "exists":
      return actual !== undefined && actual !== null;
    case "eq":
      return same(actual, expected);
    case "neq":
      return !same(actual, expected);
    case "in":
      return Array.isArray(expected) && expected.some((v) => same(actual, v));
    default: {
      const pair = ordered(actual, expected);
      if (!pair) return false;
      const [a, e] = pair;
      return cond.op === "gt" ? a > e : cond.op === "gte" ? a >= e : cond.op === "lt" ? a < e : a <= e;
    }
  }
}

function applyEffect(rule: Rule, input: EvaluationInput): RuleOutcome | null {
  const e = rule.effect;
  // Each outcome is one object literal: spreading a shared base into it is slow in V8.
  const id = rule.id;
  const reason = rule.name;
  switch (e.type) {
    case "fixed_points":
      return input.pointsEnabled ? { rule_id: id, reason, points: e.points } : null;
    case "points_per_spend": {
      const p = input.purchase;
      if (!p || !input.pointsEnabled) return null;
      const spend = e.scope === "order" ? p.amount_minor : matchingSpend(p, rule.conditions.items ?? {});
      const points = round((spend * e.points) / e.per_minor, input.rounding);
      return points > 0 ? { rule_id: id, reason, points } : null;
    }
    case "multiplier": {
      if (!input.pointsEnabled) return null;
      const points = round((input.basePoints * (e.factor_bp - 10_000)) / 10_000, input.rounding);
      return points > 0 ? { rule_id: id, reason, points } : null;
    }
    case "stamps":
      return input.stampCardIds.has(e.stamp_card_id)
        ? { rule_id: id, reason, points: 0, stamps: { stamp_card_id: e.stamp_card_id, stamps: e.stamps } }
        : null;
  }
}

function applyCap(
  outcome: RuleOutcome,
  cap: RuleCap | null,
  used: { times: number; points: number } | undefined,
): RuleOutcome | null {
  if (!cap) return outcome;
  const u = used ?? { times: 0, points: 0 };
  if (cap.max_times !== undefined && u.times >= cap.max_times) return null;
  if (cap.max_points !== undefined && !outcome.stamps) {
    const left = cap.max_points - u.points;
    if (left <= 0) return null;
    if (outcome.points > left) return { ...outcome, points: left, capped: true };
  }
  return outcome;
}
