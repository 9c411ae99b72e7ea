import { sql } from "kysely";
import type { Db, Tx } from "../db/database.ts";
import type { EarnLine } from "../modules/ledger/index.ts";
import type { ProgramSnapshot } from "../modules/program/snapshot.ts";
import { type EvaluationInput, evaluateRules, type LineItem, round } from "../modules/rules/evaluate.ts";
import type { Rule } from "../modules/rules/schema.ts";
import { type StampLine, stampsForPurchase } from "../modules/stamps/ledger.ts";
import { formatMoney } from "../shared/money.ts";
import { startOfDay, startOfMonth, startOfWeek, startOfYear } from "../shared/time.ts";

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
    const per = formatMoney(cfg.earn_per_minor, snapshot.currency, "en");
    points.push({
      points: basePoints,
      reason: `${cfg.earn_points} ${cfg.earn_points === 1 ? "point" : "points"} per ${per}`,
      rule_id: null,
    });
  }
  const tier = snapshot.tiers.find((t) => t.id === member.tier_id);
  if (tier && tier.earn_multiplier_bp > 10_000 && basePoints > 0) {
    const bonus = round((basePoints * (tier.earn_multiplier_bp - 10_000)) / 10_000, cfg.rounding);
    if (bonus > 0)
      points.push({
        points: bonus,
        reason: `${tier.name} tier ×${tier.earn_multiplier_bp / 10_000}`,
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
  });
  const stamps: StampLine[] = [];
  for (const card of snapshot.stampCards) {
    const n = stampsForPurchase(card, purchase);
    if (n > 0) stamps.push({ stamp_card_id: card.id, stamps: n, reason: card.name, rule_id: null });
  }
  for (const o of outcomes) {
    if (o.points > 0 && cfg.enabled) points.push({ points: o.points, reason: o.reason, rule_id: o.rule_id });
    if (o.stamps && snapshot.stampCards.some((c) => c.id === o.stamps?.stamp_card_id)) {
      stamps.push({ ...o.stamps, reason: o.reason, rule_id: o.rule_id });
    }
  }
  return { points, stamps, total_points: points.reduce((s, l) => s + l.points, 0) };
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
  };
  const points: EarnLine[] = [];
  const stamps: StampLine[] = [];
  for (const o of evaluateRules(rules, input)) {
    if (o.points > 0 && snapshot.config.points.enabled)
      points.push({ points: o.points, reason: o.reason, rule_id: o.rule_id });
    if (o.stamps && snapshot.stampCards.some((c) => c.id === o.stamps?.stamp_card_id)) {
      stamps.push({ ...o.stamps, reason: o.reason, rule_id: o.rule_id });
    }
  }
  return { points, stamps, total_points: points.reduce((s, l) => s + l.points, 0) };
}

function capPeriodStart(period: NonNullable<Rule["cap"]>["period"], at: Date, timeZone: string): Date {
  switch (period) {
    case "day":
      return startOfDay(at, timeZone);
    case "week":
      return startOfWeek(at, timeZone);
    case "month":
      return startOfMonth(at, timeZone);
    case "year":
      return startOfYear(at, timeZone);
    case "lifetime":
      return new Date(0);
  }
}

/** The capped rules among `rules` and the start of each one's cap period at `at`. */
export function capWindows(
  snapshot: ProgramSnapshot,
  rules: readonly Rule[],
  at: Date,
): { ruleIds: string[]; since: Date[] } {
  const capped = rules.filter((r) => r.cap);
  return {
    ruleIds: capped.map((r) => r.id),
    since: capped.map((r) => capPeriodStart(r.cap?.period ?? "lifetime", at, snapshot.timeZone)),
  };
}

/**
 * How often and how much each capped rule already gave this member in its cap period: times are
 * distinct sources (purchases/events), points are net of reversals. Uncapped rules cost no query.
 */
async function capUsage(
  db: Db | Tx,
  snapshot: ProgramSnapshot,
  memberId: string,
  rules: readonly Rule[],
  at: Date,
): Promise<Map<string, { times: number; points: number }>> {
  const usage = new Map<string, { times: number; points: number }>();
  const capped = rules.filter((r) => r.cap);
  if (capped.length === 0) return usage;
  const clauses = capped.map(
    (r) =>
      sql`(rule_id = ${r.id}::uuid and occurred_at >= ${capPeriodStart(r.cap?.period ?? "lifetime", at, snapshot.timeZone)})`,
  );
  const where = sql.join(clauses, sql` or `);
  const rows = await sql<{ rule_id: string; times: number; points: number }>`
    select rule_id, count(distinct source_id) filter (where kind = 'earn')::int as times, coalesce(sum(points), 0)::int as points
    from (
      select rule_id, source_id, kind, points, occurred_at from ledger_entries
        where business_id = ${snapshot.businessId} and member_id = ${memberId} and rule_id is not null
      union all
      select rule_id, source_id, kind, 0, occurred_at from stamp_entries
        where business_id = ${snapshot.businessId} and member_id = ${memberId} and rule_id is not null
    ) used
    where ${where}
    group by rule_id`.execute(db);
  for (const r of rows.rows) usage.set(r.rule_id, { times: r.times, points: r.points });
  return usage;
}
