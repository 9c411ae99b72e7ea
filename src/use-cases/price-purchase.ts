import { sql } from "kysely";
import type { Db, Tx } from "../db/database.ts";
import { bindText } from "../db/sql-text.ts";
import type { EarnLine } from "../modules/ledger/index.ts";
import type { ProgramSnapshot } from "../modules/program/snapshot.ts";
import {
  type EvaluationInput,
  evaluateRules,
  type LineItem,
  type RuleOutcome,
  round,
} from "../modules/rules/evaluate.ts";
import type { Rule } from "../modules/rules/schema.ts";
import { type StampLine, stampsForPurchase } from "../modules/stamps/ledger.ts";
import { EARLIEST_DATE_TIME } from "../shared/date-time.ts";
import { invalid } from "../shared/errors.ts";
import { because } from "../shared/reason.ts";
import {
  startOfDay,
  startOfMonth,
  startOfWeek,
  startOfYear,
  zonedParts,
  zonedTimeToUtc,
} from "../shared/time.ts";

/**
 * What a purchase (or an event) earns: base points, the tier bonus, each rule's points and the
 * stamps per card, each line with the reason a member will read. Shared by recording and by the
 * "what would this earn?" preview, so the two can never disagree.
 */

export interface PricingMember {
  id: string;
  tier_id: string | null;
  attributes: Record<string, unknown>;
  first_purchase_at: Date | null;
}

export interface Pricing {
  points: EarnLine[];
  stamps: StampLine[];
  total_points: number;
}

export interface PricedPurchase {
  amount_minor: number;
  items: readonly LineItem[];
  location_id: string | null;
  occurred_at: Date;
}

export type CapUsage = ReadonlyMap<string, { times: number; points: number }>;

export async function pricePurchase(
  db: Db | Tx,
  snapshot: ProgramSnapshot,
  member: PricingMember,
  purchase: PricedPurchase,
): Promise<Pricing> {
  const rules = purchaseRules(snapshot);
  return pricePurchaseWith(
    snapshot,
    member,
    purchase,
    await capUsage(db, snapshot, member.id, rules, purchase.occurred_at),
  );
}

const cardIdsBySnapshot = new WeakMap<ProgramSnapshot, ReadonlySet<string>>();

/** The ids of the program's active stamp cards, the only ones a rule can stamp. */
function activeCardIds(snapshot: ProgramSnapshot): ReadonlySet<string> {
  let ids = cardIdsBySnapshot.get(snapshot);
  if (!ids) {
    ids = new Set(snapshot.stampCards.map((c) => c.id));
    cardIdsBySnapshot.set(snapshot, ids);
  }
  return ids;
}

/** The rules' outcomes as the lines they earn (the evaluator gave only what can be given). */
function addOutcomes(outcomes: readonly RuleOutcome[], points: EarnLine[], stamps: StampLine[]): void {
  for (const o of outcomes) {
    const why = because(o.capped ? "rule_capped" : "rule", { rule: o.reason });
    if (o.points > 0) points.push({ points: o.points, ...why, rule_id: o.rule_id });
    if (o.stamps) {
      stamps.push({
        stamp_card_id: o.stamps.stamp_card_id,
        stamps: o.stamps.stamps,
        ...why,
        rule_id: o.rule_id,
      });
    }
  }
}

/** The rules a purchase runs, in the snapshot's order. */
export function purchaseRules(snapshot: ProgramSnapshot): Rule[] {
  return snapshot.rules.filter((r) => r.trigger === "purchase");
}

/**
 * Prices a purchase given what the member's capped rules already gave in their cap periods (see
 * `capWindows`): pure, so the two ways of recording a purchase share it.
 */
export function pricePurchaseWith(
  snapshot: ProgramSnapshot,
  member: PricingMember,
  purchase: PricedPurchase,
  usage: CapUsage,
): Pricing {
  const cfg = snapshot.config.points;
  const basePoints = cfg.enabled
    ? round((purchase.amount_minor * cfg.earn_points) / cfg.earn_per_minor, cfg.rounding)
    : 0;
  const points: EarnLine[] = [];
  if (basePoints > 0) {
    points.push({
      points: basePoints,
      ...because("earn_rate", {
        points: cfg.earn_points,
        per_minor: cfg.earn_per_minor,
        currency: snapshot.currency,
      }),
      rule_id: null,
    });
  }
  const outcomes = evaluateRules(purchaseRules(snapshot), {
    timeZone: snapshot.timeZone,
    occurredAt: purchase.occurred_at,
    rounding: cfg.rounding,
    basePoints,
    purchase,
    member: {
      tier_id: member.tier_id,
      attributes: member.attributes,
      is_first_purchase: member.first_purchase_at === null,
    },
    capUsage: usage,
    pointsEnabled: cfg.enabled,
    stampCardIds: activeCardIds(snapshot),
  });
  const stamps: StampLine[] = [];
  for (const card of snapshot.stampCards) {
    const n = stampsForPurchase(card, purchase);
    if (n > 0)
      stamps.push({
        stamp_card_id: card.id,
        stamps: n,
        ...because("stamp_card", { card: card.name }),
        rule_id: null,
      });
  }
  addOutcomes(outcomes, points, stamps);
  // The tier multiplies every point the purchase earns, the base rate's and the rules' alike: a
  // program whose points all come from rules (a gym's per-visit points) rewards its tiers too.
  // Its bonus is a line of its own, outside every rule's cap.
  const tier = snapshot.tiers.find((t) => t.id === member.tier_id);
  const earned = points.reduce((s, l) => s + l.points, 0);
  if (tier && tier.earn_multiplier_bp > 10_000 && earned > 0) {
    const bonus = round((earned * (tier.earn_multiplier_bp - 10_000)) / 10_000, cfg.rounding);
    if (bonus > 0)
      points.push({
        points: bonus,
        ...because("tier_bonus", { tier: tier.name, multiplier: tier.earn_multiplier_bp / 10_000 }),
        rule_id: null,
      });
  }
  return withinLimit({ points, stamps, total_points: points.reduce((s, l) => s + l.points, 0) });
}

/**
 * The most points one purchase or event may earn. Points are whole numbers kept in 32-bit
 * columns per entry and lot; a program whose rates would earn more than this for one sale is
 * misconfigured (a rate in euros where cents were meant, say), and the sale is refused whole.
 */
export const MAX_POINTS_PER_TRANSACTION = 1_000_000_000;

/** `pricing` itself, or `422 points_too_large` when it earns more than one transaction may. */
function withinLimit(pricing: Pricing): Pricing {
  if (pricing.total_points > MAX_POINTS_PER_TRANSACTION) {
    throw invalid(
      "points_too_large",
      `This would earn ${pricing.total_points} points; one purchase or event may earn at most ${MAX_POINTS_PER_TRANSACTION}. Check the program's earn rate and the rules.`,
      { points: pricing.total_points, max: MAX_POINTS_PER_TRANSACTION },
    );
  }
  return pricing;
}

/** Points and stamps earned by an event (`review_written`, …) under the event rules. */
export async function priceEvent(
  db: Db | Tx,
  snapshot: ProgramSnapshot,
  member: PricingMember,
  event: { type: string; properties: Record<string, unknown>; occurred_at: Date },
  trigger: "event" | "signup" | "birthday" = "event",
): Promise<Pricing> {
  const rules = snapshot.rules.filter(
    (r) => r.trigger === trigger && (trigger !== "event" || r.event_type === event.type),
  );
  const input: EvaluationInput = {
    timeZone: snapshot.timeZone,
    occurredAt: event.occurred_at,
    rounding: snapshot.config.points.rounding,
    basePoints: 0,
    event: { type: event.type, properties: event.properties },
    member: {
      tier_id: member.tier_id,
      attributes: member.attributes,
      is_first_purchase: member.first_purchase_at === null,
    },
    capUsage: await capUsage(db, snapshot, member.id, rules, event.occurred_at),
    pointsEnabled: snapshot.config.points.enabled,
    stampCardIds: activeCardIds(snapshot),
  };
  const points: EarnLine[] = [];
  const stamps: StampLine[] = [];
  addOutcomes(evaluateRules(rules, input), points, stamps);
  return withinLimit({ points, stamps, total_points: points.reduce((s, l) => s + l.points, 0) });
}

/**
 * The cap period that holds `at`: from its start up to (not including) the next period's start,
 * which a lifetime has none of (null).
 */
function capPeriod(
  period: NonNullable<Rule["cap"]>["period"],
  at: Date,
  timeZone: string,
): { since: Date; until: Date | null } {
  switch (period) {
    case "day": {
      const since = startOfDay(at, timeZone);
      return { since, until: midnightAfter(since, 1, timeZone) };
    }
    case "week": {
      const since = startOfWeek(at, timeZone);
      return { since, until: midnightAfter(since, 7, timeZone) };
    }
    case "month":
      return { since: startOfMonth(at, timeZone), until: startOfMonth(at, timeZone, 1) };
    case "year":
      return { since: startOfYear(at, timeZone), until: startOfYear(at, timeZone, 1) };
    case "lifetime":
      return { since: LIFETIME_START, until: null };
  }
}

/** The earliest a purchase or event can be dated: a lifetime cap counts them all. */
const LIFETIME_START = new Date(EARLIEST_DATE_TIME);

/** The start of the day `days` calendar days after the day of `at` (a day may last 23 or 25 hours). */
function midnightAfter(at: Date, days: number, timeZone: string): Date {
  const p = zonedParts(at, timeZone);
  return zonedTimeToUtc({ year: p.year, month: p.month, day: p.day + days }, timeZone);
}

/**
 * The capped rules among `rules` and the bounds of each one's cap period at `at`, the time the
 * purchase or event happened: a purchase dated back into last month meets last month's cap, and
 * what this month gave does not count against it.
 */
export function capWindows(
  snapshot: ProgramSnapshot,
  rules: readonly Rule[],
  at: Date,
): { ruleIds: string[]; since: Date[]; until: (Date | null)[] } {
  const capped = rules.filter((r) => r.cap);
  const periods = capped.map((r) => capPeriod(r.cap?.period ?? "lifetime", at, snapshot.timeZone));
  return {
    ruleIds: capped.map((r) => r.id),
    since: periods.map((p) => p.since),
    until: periods.map((p) => p.until),
  };
}

/**
 * How often and how much each capped rule already gave the member in its cap period, as the text
 * of one JSON object expression, `{ rule_id: [times, points] }` (slots: business, member, rules,
 * since, until — the rules' ids, period starts and period ends as arrays, a null end for a
 * lifetime; see src/db/sql-text.ts). The period is the one the purchase happened in, bounded at
 * both ends: a purchase dated back counts only what its own period gave. A refund gives back the
 * allowance it took the points (or stamps) of, and no more: points count net of the share of the
 * purchase's points its refunds took back (`points_reversed`; a refund reverses every line in
 * proportion), and a purchase counts as a time unless they took back all it earned. Points a
 * refund could not take back (the member had spent them: `points_unrecovered`), did not try to
 * (the business's refunds keep points) or found expired stay used: the member kept them.
 * The purchase's read (src/use-cases/purchase-fast-path.ts) uses the same text.
 */
export const CAP_USAGE_TEXT = `(select coalesce(json_object_agg(u.rule_id, json_build_array(u.times, u.points)), '{}')
    from (select c.rule_id, count(distinct e.source_id) filter (where e.kind = 'earn' and e.kept)::int as times,
                 coalesce(sum(e.points), 0)::bigint as points
          from unnest({{rules}}::uuid[], {{since}}::timestamptz[], {{until}}::timestamptz[]) as c(rule_id, since, until)
          cross join lateral (
            select x.source_id, x.kind,
                   case when p.points_earned > 0 and r.points > 0
                     then x.points::bigint * (p.points_earned - r.points) / p.points_earned
                     else x.points end as points,
                   case when p.id is null or r.purchase_id is null then true
                     when x.stamp then r.stamps < p.stamps_earned
                     else r.points < p.points_earned end as kept
            from (select source_type, source_id, kind, points, false as stamp from ledger_entries
                    where business_id = {{business}} and member_id = {{member}} and rule_id is not null
                      and rule_id = c.rule_id and occurred_at >= c.since
                      and occurred_at < coalesce(c.until, 'infinity')
                  union all
                  select source_type, source_id, kind, 0, true from stamp_entries
                    where business_id = {{business}} and member_id = {{member}} and rule_id is not null
                      and rule_id = c.rule_id and occurred_at >= c.since
                      and occurred_at < coalesce(c.until, 'infinity')) x
            left join purchases p on p.business_id = {{business}}
              and p.id = case when x.source_type = 'purchase' then x.source_id::uuid end
            left join lateral (
              select f.purchase_id, sum(f.points_reversed) as points, sum(f.stamps_reversed) as stamps
              from refunds f where f.business_id = {{business}} and f.purchase_id = p.id
              group by f.purchase_id) r on true) e
          group by c.rule_id) u)`;

/** `CAP_USAGE_TEXT`'s value as the map the rule evaluator takes. */
export function toCapUsage(value: Record<string, [number, number]> | null): CapUsage {
  return new Map(
    Object.entries(value ?? {}).map(([id, [times, points]]) => [id, { times, points: Number(points) }]),
  );
}

/** What the member's capped rules among `rules` already gave in their cap periods. Uncapped rules cost no query. */
async function capUsage(
  db: Db | Tx,
  snapshot: ProgramSnapshot,
  memberId: string,
  rules: readonly Rule[],
  at: Date,
): Promise<CapUsage> {
  const { ruleIds, since, until } = capWindows(snapshot, rules, at);
  if (ruleIds.length === 0) return new Map();
  const usage = bindText<Record<string, [number, number]>>(CAP_USAGE_TEXT, {
    business: snapshot.businessId,
    member: memberId,
    rules: ruleIds,
    since,
    until,
  });
  const { rows } = await sql<{ usage: Record<string, [number, number]> }>`select ${usage} as usage`.execute(
    db,
  );
  return toCapUsage(rows[0]?.usage ?? null);
}
