import type { Rule } from "../rules/schema.ts";

/**
 * What a program's earning rules promise every member, read the way the evaluator applies them
 * (src/modules/rules/evaluate.ts): a rule with conditions holds for some members or purchases only,
 * so it is no promise to tell on a poster, a card or at the counter.
 */

/** The fields of a rule these read: a snapshot's rules (`ProgramSnapshot.rules`) have them. */
export type OfferRule = Pick<
  Rule,
  "id" | "name" | "trigger" | "stop_processing" | "conditions" | "effect" | "starts_at" | "ends_at" | "active"
>;

const unconditional = (rule: OfferRule) => Object.keys(rule.conditions).length === 0;
const inWindow = (rule: OfferRule, now: Date) =>
  (rule.starts_at === null || rule.starts_at <= now) && (rule.ends_at === null || rule.ends_at > now);

/**
 * The points every visit earns from the rules whatever is bought — a gym's "10 points per visit" —
 * as a standing offer: unconditional `fixed_points` purchase rules in force now with no end date.
 * Rules apply in `rules`' order (the evaluator's), so a rule that stops processing ends the sum;
 * 0 when there is no such rule or the program has no points.
 *
 * @example pointsPerVisit(snapshot.rules, snapshot.config.points.enabled, now) // 10
 */
export function pointsPerVisit(rules: readonly OfferRule[], pointsEnabled: boolean, now: Date): number {
  if (!pointsEnabled) return 0;
  let points = 0;
  for (const rule of rules) {
    if (rule.trigger !== "purchase" || !rule.active || !inWindow(rule, now)) continue;
    if (!unconditional(rule)) {
      // It may stop the rules after it on some purchases: what follows is no promise.
      if (rule.stop_processing) break;
      continue;
    }
    if (rule.effect.type === "fixed_points" && rule.ends_at === null) points += rule.effect.points;
    if (rule.stop_processing) break;
  }
  return points;
}

/** A gift for joining: what one unconditional signup rule gives. */
export interface SignupGift {
  rule_id: string;
  name: string;
  points: number;
  stamps: number;
  stamp_card_id: string | null;
  starts_at: Date | null;
  ends_at: Date | null;
}

/** What joining gives under `rule`, or null when it gives nothing (points off, a card not active). */
function giftOf(rule: OfferRule, program: { pointsEnabled: boolean; stampCardIds: readonly string[] }) {
  const e = rule.effect;
  if (e.type === "fixed_points" && program.pointsEnabled) {
    return { points: e.points, stamps: 0, stamp_card_id: null };
  }
  if (e.type === "stamps" && program.stampCardIds.includes(e.stamp_card_id)) {
    return { points: 0, stamps: e.stamps, stamp_card_id: e.stamp_card_id };
  }
  return null;
}

/**
 * The gifts for joining now: unconditional signup rules in force, in the order they apply (one
 * that stops processing ends the list, as it ends the evaluation).
 *
 * @example signupGifts(snapshot.rules, { pointsEnabled: true, stampCardIds: [] }, now) // [{ points: 50, … }]
 */
export function signupGifts(
  rules: readonly OfferRule[],
  program: { pointsEnabled: boolean; stampCardIds: readonly string[] },
  now: Date,
): SignupGift[] {
  const gifts: SignupGift[] = [];
  for (const rule of rules) {
    if (rule.trigger !== "signup" || !rule.active || !inWindow(rule, now)) continue;
    if (!unconditional(rule)) {
      if (rule.stop_processing) break;
      continue;
    }
    const gift = giftOf(rule, program);
    if (gift) {
      gifts.push({
        rule_id: rule.id,
        name: rule.name,
        ...gift,
        starts_at: rule.starts_at,
        ends_at: rule.ends_at,
      });
    }
    if (rule.stop_processing) break;
  }
  return gifts;
}

/**
 * The launch bonus: an unconditional signup rule with an end date not yet reached (running now, or
 * set to start later) that gives something; the first in evaluation order, or null.
 *
 * @example launchBonus(snapshot.rules, { pointsEnabled: true, stampCardIds: [] }, now)?.ends_at
 */
export function launchBonus(
  rules: readonly OfferRule[],
  program: { pointsEnabled: boolean; stampCardIds: readonly string[] },
  now: Date,
): SignupGift | null {
  for (const rule of rules) {
    if (rule.trigger !== "signup" || !rule.active || rule.ends_at === null || rule.ends_at <= now) continue;
    if (!unconditional(rule)) continue;
    const gift = giftOf(rule, program);
    if (gift)
      return { rule_id: rule.id, name: rule.name, ...gift, starts_at: rule.starts_at, ends_at: rule.ends_at };
  }
  return null;
}
