import { type RawBuilder, sql } from "kysely";
import type { Db, Tx } from "../../db/database.ts";
import { assert } from "../../shared/errors.ts";
import { newId } from "../../shared/ids.ts";
import { type Reason, stored } from "../../shared/reason.ts";
import { type LineItem, matchingQuantity } from "../rules/evaluate.ts";
import type { ItemMatch } from "../rules/schema.ts";

/**
 * Stamps are a ledger of their own: append-only `stamp_entries`, and `stamp_balances` holding the
 * running count per member and card (always the sum of the entries). A full card is
 * `stamps_required` stamps; a member may hold several full cards at once.
 */

export interface StampCardRule {
  id: string;
  name: string;
  stamps_required: number;
  earn_on: "visit" | "purchase" | "item";
  min_spend_minor: number;
  item_match: ItemMatch;
  max_stamps_per_purchase: number;
}

/**
 * Stamps a purchase earns on a card by the card's own rule: one per visit or qualifying purchase,
 * or one per matching item; never more than the card's per-purchase maximum.
 *
 * @example stampsForPurchase(coffeeCard, { amount_minor: 350, items: [{ sku: "latte", quantity: 2, ... }] }) // 2
 */
export function stampsForPurchase(
  card: StampCardRule,
  purchase: { amount_minor: number; items: readonly LineItem[] },
): number {
  if (purchase.amount_minor < card.min_spend_minor) return 0;
  const stamps = card.earn_on === "item" ? matchingQuantity(purchase.items, card.item_match) : 1;
  return Math.min(stamps, card.max_stamps_per_purchase);
}

export interface StampLine extends Reason {
  stamp_card_id: string;
  stamps: number;
  rule_id: string | null;
}

export interface StampMeta {
  kind: "earn" | "redeem" | "reverse" | "adjust" | "restore";
  actor: string;
  source_type: string;
  source_id: string;
  occurred_at: Date;
}

/**
 * Posts stamp entries and moves the balances in two statements. Negative lines must be covered
 * by the balance (the `stamps >= 0` check in the table backs this up).
 * Returns the new balance of every card touched.
 */
export async function postStamps(
  tx: Tx,
  businessId: string,
  memberId: string,
  lines: readonly StampLine[],
  meta: StampMeta,
  now: Date,
): Promise<Map<string, number>> {
  const nonZero = lines.filter((l) => l.stamps !== 0);
  const balances = new Map<string, number>();
  if (nonZero.length === 0) return balances;
  const entries = sql.join(
    nonZero.map(
      (l) =>
        sql`(${businessId}::uuid, ${newId(now.getTime())}::uuid, ${memberId}::uuid, ${l.stamp_card_id}::uuid, ${meta.kind}, ${l.stamps}::int, ${l.reason}, ${l.reason_code}, ${stored(l.reason_params)}::jsonb, ${meta.actor}, ${meta.source_type}, ${meta.source_id}, ${l.rule_id}::uuid, ${meta.occurred_at}::timestamptz, ${now}::timestamptz)`,
    ),
  );
  const perCard = new Map<string, number>();
  for (const l of nonZero) perCard.set(l.stamp_card_id, (perCard.get(l.stamp_card_id) ?? 0) + l.stamps);
  const values = sql.join(
    [...perCard].map(
      ([card, stamps]) =>
        sql`(${businessId}::uuid, ${memberId}::uuid, ${card}::uuid, ${stamps}::int, ${now}::timestamptz)`,
    ),
  );
  // One statement: the entries, then the balances. A check constraint is tested on the proposed
  // row before ON CONFLICT applies, so negative deltas cannot go through an upsert: existing
  // balances are updated, missing ones inserted.
  const result = await sql<{ stamp_card_id: string; stamps: number }>`
    with entries as (
      insert into stamp_entries (business_id, id, member_id, stamp_card_id, kind, stamps, reason, reason_code, reason_params, actor, source_type, source_id, rule_id, occurred_at, created_at)
      values ${entries}),
    delta (business_id, member_id, stamp_card_id, stamps, updated_at) as (values ${values}),
    updated as (
      update stamp_balances b set stamps = b.stamps + d.stamps, updated_at = d.updated_at
      from delta d
      where b.business_id = d.business_id and b.member_id = d.member_id and b.stamp_card_id = d.stamp_card_id
      returning b.stamp_card_id, b.stamps),
    inserted as (
      insert into stamp_balances (business_id, member_id, stamp_card_id, stamps, updated_at)
      select d.* from delta d where d.stamp_card_id not in (select stamp_card_id from updated)
      returning stamp_card_id, stamps)
    select * from updated union all select * from inserted`.execute(tx);
  for (const row of result.rows) {
    assert(row.stamps >= 0, "a stamp balance never goes negative");
    balances.set(row.stamp_card_id, row.stamps);
  }
  return balances;
}

/** A member's stamp counts per card as one JSON object (`{ card_id: stamps }`), a scalar SQL expression. */
export function stampBalancesSql(businessId: string, memberId: string): RawBuilder<Record<string, number>> {
  return sql<Record<string, number>>`(select coalesce(json_object_agg(stamp_card_id, stamps), '{}')
    from stamp_balances where business_id = ${businessId} and member_id = ${memberId})`;
}

/** Current stamp counts of a member, per card. */
export async function stampBalances(
  tx: Tx | Db,
  businessId: string,
  memberId: string,
): Promise<Map<string, number>> {
  const { rows } = await sql<{
    stamps: Record<string, number>;
  }>`select ${stampBalancesSql(businessId, memberId)} as stamps`.execute(tx);
  return new Map(Object.entries(rows[0]?.stamps ?? {}));
}

/** Stamps each card gave for one source (a purchase), net of earlier reversals. */
export async function stampsFromSource(
  tx: Tx,
  businessId: string,
  sourceType: string,
  sourceId: string,
): Promise<Map<string, number>> {
  const rows = await tx
    .selectFrom("stamp_entries")
    .select(["stamp_card_id", (eb) => eb.fn.sum<number>("stamps").as("stamps")])
    .where("business_id", "=", businessId)
    .where("source_type", "=", sourceType)
    .where("source_id", "=", sourceId)
    .groupBy("stamp_card_id")
    .execute();
  return new Map(rows.map((r) => [r.stamp_card_id, Number(r.stamps)]));
}
