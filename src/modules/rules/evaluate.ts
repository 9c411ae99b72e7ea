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

export interface EvaluationInput {
  timeZone: string;
  occurredAt: Date;
  rounding: "floor" | "round" | "ceil";
  /** Base points of the purchase before rules (0 for events). */
  basePoints: number;
  purchase?: { amount_minor: number; items: readonly LineItem[]; location_id: string | null };
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
  reason: string;
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
    if (c.days_of_week && !c.days_of_week.includes(local.weekday)) return false;
    if (c.time_window && !inTimeWindow(local.hour * 60 + local.minute, c.time_window)) return false;
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

function matchingSpend(items: readonly LineItem[], match: ItemMatch): number {
  return items
    .filter((i) => itemMatches(i, match))
    .reduce((sum, i) => sum + i.quantity * i.unit_price_minor, 0);
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
      if (typeof actual !== typeof expected || (typeof actual !== "number" && typeof actual !== "string")) {
        return false;
      }
      const a = actual as number | string;
      const e = expected as number | string;
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
      const spend =
        e.scope === "order" ? p.amount_minor : matchingSpend(p.items, rule.conditions.items ?? {});
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
    if (outcome.points > left) return { ...outcome, points: left, reason: `${outcome.reason} (capped)` };
  }
  return outcome;
}
