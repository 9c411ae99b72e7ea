import { sql } from "kysely";
import { z } from "zod";
import { type Actor, type AppContext, actorLabel } from "../context.ts";
import type { Tx } from "../db/database.ts";
import type { RefundsTable } from "../db/schema.ts";
import { audit } from "../modules/audit/index.ts";
import { onceInTransaction } from "../modules/idempotency/index.ts";
import {
  type Account,
  type Allocation,
  type EntryMeta,
  giveBackToLots,
  lockAccount,
  type RestoredLot,
  reverse,
  reverseFromLots,
} from "../modules/ledger/index.ts";
import { getMemberForUpdate } from "../modules/members/index.ts";
import type { ProgramSnapshot } from "../modules/program/snapshot.ts";
import type { LineItem } from "../modules/rules/evaluate.ts";
import { stampCardsByIds } from "../modules/stamps/cards.ts";
import {
  postStamps,
  type StampLine,
  stampBalances,
  stampsForPurchase,
  stampsFromSource,
} from "../modules/stamps/ledger.ts";
import { tierAfterRefundOf } from "../modules/tiers/metric.ts";
import { AppError, invalid, notFound } from "../shared/errors.ts";
import { newId } from "../shared/ids.ts";
import { MAX_AMOUNT_MINOR } from "../shared/money.ts";
import { because, type Reason } from "../shared/reason.ts";
import { type MemberSummary, settleMember } from "./member-summary.ts";

export const RefundInput = z.strictObject({
  external_id: z.string().min(1).max(200).describe("The POS/shop's id of the refund; makes retries safe"),
  purchase_id: z.uuid().optional(),
  purchase_external_id: z.string().min(1).max(200).optional(),
  amount_minor: z.int().min(1).max(MAX_AMOUNT_MINOR).optional().describe("Refund by amount"),
  lines: z
    .array(z.strictObject({ sku: z.string().min(1).max(64), quantity: z.int().min(1).max(10_000) }))
    .min(1)
    .max(500)
    .optional()
    .describe("Refund by returned lines; the amount follows from the purchase's prices"),
  reason: z.string().max(500).optional(),
});
export type RefundInput = z.output<typeof RefundInput>;

export interface RefundDto {
  id: string;
  external_id: string;
  purchase_id: string;
  amount_minor: number;
  lines: { sku: string; quantity: number }[] | null;
  points_reversed: number;
  points_unrecovered: number;
  points_expired: number;
  stamps_reversed: number;
  reason: string | null;
  created_at: string;
}

export interface RefundResult {
  refund: RefundDto;
  purchase: { id: string; amount_minor: number; refunded_minor: number };
  member:
    | (MemberSummary & {
        id: string;
        /** The member's tier moved: a refund that undoes the qualification takes the tier back. */
        tier_changed: { from: string | null; to: string | null } | null;
      })
    | null;
}

function refundDto(row: RefundsTable): RefundDto {
  return {
    id: row.id,
    external_id: row.external_id,
    purchase_id: row.purchase_id,
    amount_minor: row.amount_minor,
    lines: (row.lines ?? null) as RefundDto["lines"],
    points_reversed: row.points_reversed,
    points_unrecovered: row.points_unrecovered,
    points_expired: row.points_expired,
    stamps_reversed: row.stamps_reversed,
    reason: row.reason,
    created_at: row.created_at.toISOString(),
  };
}

/**
 * Records a refund or return, full or partial, by amount or by returned lines. Points come back in
 * proportion to the amount (cumulatively, so partial refunds add up exactly to a full one), taken
 * from the purchase's own pending points first; stamps come back by returned items, or when the
 * purchase no longer qualifies. Idempotent by the refund's external id.
 *
 * Errors: `purchase_not_found`, `refund_needs_purchase`, `refund_needs_amount_or_lines`,
 * `refund_exceeds_purchase`, `refund_line_not_in_purchase`, `refund_quantity_exceeds_purchase`,
 * `idempotency_key_reused`.
 */
export async function recordRefund(
  ctx: AppContext,
  actor: Actor,
  input: RefundInput,
): Promise<{ result: RefundResult; replayed: boolean; json?: string }> {
  const now = ctx.clock.now();
  const { body, replayed, json } = await onceInTransaction(
    ctx.db,
    actor.businessId,
    `refund:${input.external_id}`,
    "refund.record",
    input,
    now,
    async (tx) => ({
      status: 201,
      body: await refund(ctx, tx, actor, input, now),
    }),
  );
  return { result: body, replayed, ...(json === undefined ? {} : { json }) };
}

async function refund(
  ctx: AppContext,
  tx: Tx,
  actor: Actor,
  input: RefundInput,
  now: Date,
): Promise<RefundResult> {
  if ((input.purchase_id === undefined) === (input.purchase_external_id === undefined)) {
    throw invalid(
      "refund_needs_purchase",
      "Name the purchase by purchase_id or purchase_external_id (one of them).",
    );
  }
  if ((input.amount_minor === undefined) === (input.lines === undefined)) {
    throw invalid("refund_needs_amount_or_lines", "Refund by amount_minor or by lines (one of them).");
  }
  let q = tx.selectFrom("purchases").selectAll().where("business_id", "=", actor.businessId).forUpdate();
  q = input.purchase_id
    ? q.where("id", "=", input.purchase_id)
    : q.where("external_id", "=", input.purchase_external_id ?? "");
  const purchase = await q.executeTakeFirst();
  if (!purchase) {
    throw input.purchase_id
      ? notFound("purchase", input.purchase_id)
      : new AppError(
          404,
          "purchase_not_found",
          `No purchase with external_id ${input.purchase_external_id} in this business.`,
        );
  }
  const items = purchase.items as LineItem[];
  const previous = await tx
    .selectFrom("refunds")
    .select([
      "lines",
      "amount_minor",
      "points_reversed",
      "points_unrecovered",
      "points_expired",
      "stamps_unrecovered",
    ])
    .where("business_id", "=", actor.businessId)
    .where("purchase_id", "=", purchase.id)
    .execute();

  const returnedBefore = returnedQuantities(previous.map((r) => r.lines));
  const returnedItems = input.lines ? returnedLines(items, input.lines, returnedBefore) : null;
  const refundable = purchase.amount_minor - purchase.refunded_minor;
  // Line refunds are priced together: what all returned lines are worth, less what earlier line
  // refunds gave back, so the rounding of each never adds up and returning everything refunds all.
  const refundedByLines = previous
    .filter((r) => Array.isArray(r.lines))
    .reduce((s, r) => s + Number(r.amount_minor), 0);
  const amount = returnedItems
    ? Math.min(
        refundable,
        lineAmount(purchase.amount_minor, items, [...itemsOf(items, returnedBefore), ...returnedItems]) -
          refundedByLines,
      )
    : (input.amount_minor ?? 0);
  if (amount > refundable || amount <= 0) {
    throw invalid(
      "refund_exceeds_purchase",
      `At most ${refundable} minor units of this purchase can still be refunded; the refund is ${amount}.`,
      { refundable },
    );
  }
  const refundedAfter = purchase.refunded_minor + amount;
  await tx
    .updateTable("purchases")
    .set({ refunded_minor: refundedAfter })
    .where("business_id", "=", actor.businessId)
    .where("id", "=", purchase.id)
    .execute();

  const row: RefundsTable = {
    business_id: actor.businessId,
    id: newId(now.getTime()),
    purchase_id: purchase.id,
    external_id: input.external_id,
    amount_minor: amount,
    lines: input.lines ? JSON.stringify(input.lines) : null,
    points_reversed: 0,
    points_unrecovered: 0,
    points_expired: 0,
    stamps_reversed: 0,
    stamps_unrecovered: "{}",
    reason: input.reason ?? null,
    actor: actorLabel(actor),
    created_at: now,
  };
  let member: RefundResult["member"] = null;
  if (purchase.member_id) {
    const snapshot = await ctx.snapshots.load(tx, actor.businessId);
    const m = await getMemberForUpdate(tx, actor.businessId, purchase.member_id);
    const meta = {
      ...because("refund", { purchase: purchase.external_id, note: input.reason ?? null }),
      actor: actorLabel(actor),
      source_type: "refund",
      source_id: row.id,
      occurred_at: now,
    };
    if (snapshot.config.refunds.reverse_points && purchase.points_earned > 0) {
      // The member keeps the points of what they kept, rounded down; a full refund takes all back.
      // In integers: points × amount can pass 2^53, where a float may land just below a whole
      // quotient and floor it a point too low.
      const kept = Number(
        (BigInt(purchase.points_earned) * BigInt(purchase.amount_minor - refundedAfter)) /
          BigInt(purchase.amount_minor),
      );
      const off = purchase.points_earned - kept;
      const taken = previous.reduce((s, r) => s + r.points_reversed + r.points_unrecovered, 0);
      const expiredBefore = previous.reduce((s, r) => s + r.points_expired, 0);
      // Points of the purchase that expired unused were never the member's to enjoy: a refund
      // does not take them again from the member's other points. The purchase no longer earned
      // them all the same: what of its share is not taken counts as expired, which the points
      // tier metric takes off as it does what was taken.
      const expired = await expiredFromSource(tx, actor.businessId, m.id, purchase.id, now);
      const takenAfter = Math.max(taken, Math.min(off, purchase.points_earned - expired));
      const due = takenAfter - taken;
      row.points_expired = Math.max(0, off - takenAfter - expiredBefore);
      if (due > 0) {
        const account = await lockAccount(tx, actor.businessId, m.id, now);
        const r = await reverse(
          tx,
          account,
          due,
          meta,
          {
            allowNegative: snapshot.config.points.allow_negative_balance,
            source: { type: "purchase", id: purchase.id },
          },
          now,
        );
        row.points_reversed = r.reversed;
        row.points_unrecovered = r.unrecovered;
      }
    }
    if (snapshot.config.refunds.reverse_stamps && purchase.stamps_earned > 0) {
      const stamps = await reverseStamps(
        tx,
        snapshot,
        m.id,
        purchase,
        refundedAfter,
        returnedItems ? itemsLeft(items, returnedBefore, returnedItems) : null,
        unrecoveredStamps(previous.map((r) => r.stamps_unrecovered)),
        { ...meta, note: input.reason ?? null },
        now,
      );
      row.stamps_reversed = stamps.reversed;
      row.stamps_unrecovered = JSON.stringify(stamps.unrecovered);
    }
    // On record before the member is settled: the tier metric "points" counts a reversal on the
    // date of the purchase its refund refunds (src/modules/tiers/metric.ts).
    await tx.insertInto("refunds").values(row).execute();
    if (refundedAfter === purchase.amount_minor) {
      await forgetFirstPurchase(tx, actor.businessId, m.id, purchase.occurred_at);
    }
    // A refund that undoes the member's qualification takes the tier back at once; what it took
    // off the metric (in the windows that hold the purchase) says whether it can have. Points the
    // member had spent leave the metric as well, taken back or not.
    const lowered = {
      spend: amount,
      points: row.points_reversed + row.points_unrecovered + row.points_expired,
      visits: refundedAfter === purchase.amount_minor ? 1 : 0,
    }[snapshot.config.tiers.metric];
    const taken = await tierAfterRefundOf(
      tx,
      snapshot,
      m,
      {
        purchaseAt: purchase.occurred_at,
        lowered,
        cause: { cause: "refund", cause_ref: purchase.external_id },
      },
      now,
    );
    const { summary, tierChanged } = await settleMember(tx, snapshot, { ...m, ...taken.tier }, now, {
      rewards: false,
    });
    const changed = taken.changed
      ? { from: taken.changed.from, to: tierChanged?.to ?? taken.changed.to }
      : tierChanged;
    member = { id: m.id, ...summary, tier_changed: changed };
  } else {
    await tx.insertInto("refunds").values(row).execute();
  }
  await audit(tx, actor, now, {
    action: "purchase.refunded",
    targetType: "purchase",
    targetId: purchase.id,
    data: {
      refund_id: row.id,
      amount_minor: amount,
      points_reversed: row.points_reversed,
      points_unrecovered: row.points_unrecovered,
      points_expired: row.points_expired,
    },
  });
  return {
    refund: refundDto({ ...row, lines: input.lines ?? null }),
    purchase: { id: purchase.id, amount_minor: purchase.amount_minor, refunded_minor: refundedAfter },
    member,
  };
}

/**
 * Settles the refunds a voided voucher shows to have been done on the wrong points, so the member
 * ends as if the voucher had never been redeemed. Runs in the void's transaction, under the
 * member's lock, right after `restore`; returns the points this took from the member (negative:
 * gave back).
 *
 * - A refund that wrote points off (the member had spent them, on the voucher, and the balance may
 *   not go negative: `points_unrecovered`) takes them from the points given back: first from its
 *   own purchase's lots (a refund that wrote off had emptied them, so points there came back from
 *   a voucher redeemed before it), then, if it was made after the voucher was redeemed (by time,
 *   then by id within a millisecond), from the voucher's other lots in the order `restore` gave
 *   them (earliest expiry first). A refund made before the redemption found those points in the
 *   balance and wrote nothing off because of them. What it takes is a `reverse` entry of its own,
 *   moved from `points_unrecovered` to `points_reversed`.
 * - Points given back to its own purchase's lot (beyond the write-off) would, without the
 *   voucher, have been there for the refund. If the lot had expired before the refund, the refund
 *   would have counted them as expired and taken nothing for them: so its write-off, then what it
 *   took from the member's other lots (given back to those lots), becomes `points_expired`, and
 *   the lot's points are left to the expiry run. If the lot expired after the refund, or has not
 *   expired, the refund would have taken them from it: it takes them now, instead of its write-off
 *   and of what it took from other lots (given back, so those lots keep their own expiry dates).
 *
 * The sum of `points_reversed`, `points_unrecovered` and `points_expired` and the reversal entries
 * move together, so the points tier metric, which counts them on the purchase's date, does not
 * move. With a negative balance allowed nothing is written off (the refund leaves debt, which
 * `restore` settles first) and nothing is given back while debt remains.
 */
export async function collectWrittenOff(
  tx: Tx,
  account: Account,
  restored: readonly RestoredLot[],
  meta: { actor: string; voucherCode: string; occurred_at: Date },
  voucher: { id: string; created_at: Date },
  now: Date,
): Promise<number> {
  const lots = restored.map((l) => ({
    lot_id: l.lot_id,
    purchase: l.source_type === "purchase" ? l.source_id : null,
    expires_at: l.expires_at,
    expired: l.expires_at !== null && l.expires_at <= now,
    points: l.points,
  }));
  if (lots.length === 0) return 0;
  // The purchases whose lots got points back: a refund of one of them that took points from other
  // lots while the voucher held that purchase's points gives them back (see the loop below).
  const restoredPurchases = [
    ...new Set(lots.filter((l) => l.purchase !== null).map((l) => l.purchase as string)),
  ];
  const refunds = await tx
    .selectFrom("refunds as r")
    .innerJoin("purchases as p", (join) =>
      join.onRef("p.business_id", "=", "r.business_id").onRef("p.id", "=", "r.purchase_id"),
    )
    .select([
      "r.id",
      "r.purchase_id",
      "r.points_reversed",
      "r.points_unrecovered",
      "r.points_expired",
      "r.reason",
      "r.created_at",
      "p.external_id",
    ])
    .where("r.business_id", "=", account.business_id)
    .where("p.member_id", "=", account.member_id)
    .where((eb) =>
      eb.or([
        eb("r.points_unrecovered", ">", 0),
        ...(restoredPurchases.length > 0
          ? [eb.and([eb("r.points_reversed", ">", 0), eb("r.purchase_id", "in", restoredPurchases)])]
          : []),
      ]),
    )
    .orderBy("r.created_at")
    .orderBy("r.id")
    .execute();
  let net = 0;
  for (const r of refunds) {
    const of = { purchase: r.external_id, note: r.reason, voucher: meta.voucherCode };
    const entryMeta = (why: Reason) => ({
      ...why,
      actor: meta.actor,
      source_type: "refund",
      source_id: r.id,
      occurred_at: meta.occurred_at,
    });
    const before = {
      reversed: r.points_reversed,
      unrecovered: r.points_unrecovered,
      expired: r.points_expired,
    };
    const figures = { ...before };
    const takeFrom = async (lot: { lot_id: string }, points: number) => {
      await reverseFromLots(
        tx,
        account,
        [{ lot_id: lot.lot_id, points: -points }],
        entryMeta(because("refund_voucher_taken", of)),
        now,
      );
      net += points;
    };
    const own = lots.filter((l) => l.purchase === r.purchase_id);
    // 1. Its own purchase's lots, live ones first: what a refund of them would have found.
    for (const lot of [...own.filter((l) => !l.expired), ...own.filter((l) => l.expired)]) {
      const atRefund = lot.expires_at !== null && lot.expires_at <= r.created_at;
      const u = Math.min(lot.points, figures.unrecovered);
      if (u > 0) {
        figures.unrecovered -= u;
        lot.points -= u;
        if (lot.expired && atRefund) figures.expired += u;
        else {
          await takeFrom(lot, u);
          figures.reversed += u;
        }
      }
      if (lot.points === 0 || account.debt_points > 0) continue;
      // What it took from the member's other lots instead goes back to them, and, unless the lot
      // had expired by the refund, is taken from the lot: each lot then holds, and expires, what
      // it would have without the voucher.
      const given = await giveBack(
        tx,
        account,
        r.id,
        r.purchase_id,
        lot.points,
        entryMeta(because("refund_given_back", of)),
        now,
      );
      if (given === 0) continue;
      net -= given;
      lot.points -= given;
      if (atRefund) {
        figures.reversed -= given;
        figures.expired += given;
      } else await takeFrom(lot, given);
    }
    // 2. The voucher's other live lots, for a refund made after the redemption.
    const after =
      r.created_at > voucher.created_at ||
      (r.created_at.getTime() === voucher.created_at.getTime() && r.id > voucher.id);
    if (after) {
      for (const lot of lots.filter((l) => l.purchase !== r.purchase_id && !l.expired)) {
        const u = Math.min(lot.points, figures.unrecovered);
        if (u === 0) continue;
        figures.unrecovered -= u;
        lot.points -= u;
        await takeFrom(lot, u);
        figures.reversed += u;
      }
    }
    if (
      figures.reversed === before.reversed &&
      figures.unrecovered === before.unrecovered &&
      figures.expired === before.expired
    )
      continue;
    await tx
      .updateTable("refunds")
      .set({
        points_reversed: figures.reversed,
        points_unrecovered: figures.unrecovered,
        points_expired: figures.expired,
      })
      .where("business_id", "=", account.business_id)
      .where("id", "=", r.id)
      .execute();
  }
  return net;
}

/**
 * Gives back to the member's other lots up to `points` of what a refund took from them (its
 * `reverse` entries' allocations on lots of other sources than its purchase, net of earlier
 * give-backs), latest expiry first; returns the points given back.
 */
async function giveBack(
  tx: Tx,
  account: Account,
  refundId: string,
  purchaseId: string,
  points: number,
  meta: EntryMeta,
  now: Date,
): Promise<number> {
  const taken = await tx
    .selectFrom("ledger_allocations as a")
    .innerJoin("ledger_entries as e", (join) =>
      join.onRef("e.business_id", "=", "a.business_id").onRef("e.id", "=", "a.entry_id"),
    )
    .innerJoin("ledger_lots as l", (join) =>
      join.onRef("l.business_id", "=", "a.business_id").onRef("l.id", "=", "a.lot_id"),
    )
    .select(["a.lot_id", (eb) => eb.fn.sum<number>("a.points").as("points")])
    .where("a.business_id", "=", account.business_id)
    .where("e.member_id", "=", account.member_id)
    .where("e.kind", "=", "reverse")
    .where("e.source_type", "=", "refund")
    .where("e.source_id", "=", refundId)
    .where((eb) => eb.or([eb("l.source_type", "<>", "purchase"), eb("l.source_id", "<>", purchaseId)]))
    .groupBy(["a.lot_id", "l.expires_at"])
    .orderBy(sql`l.expires_at desc nulls first`)
    .orderBy("a.lot_id")
    .execute();
  let left = points;
  const allocations: Allocation[] = [];
  for (const t of taken) {
    const back = Math.min(left, -Number(t.points));
    if (back <= 0) continue;
    allocations.push({ lot_id: t.lot_id, points: back });
    left -= back;
  }
  if (allocations.length === 0) return 0;
  await giveBackToLots(tx, account, allocations, meta, now);
  return points - left;
}

/**
 * Points of a purchase's lots that expired unused: taken by the expiry run (its `expire` entries'
 * allocations on them), or past their expiry and not swept yet.
 */
async function expiredFromSource(
  tx: Tx,
  businessId: string,
  memberId: string,
  purchaseId: string,
  now: Date,
): Promise<number> {
  const lots = tx
    .selectFrom("ledger_lots as l")
    .where("l.business_id", "=", businessId)
    .where("l.member_id", "=", memberId)
    .where("l.source_type", "=", "purchase")
    .where("l.source_id", "=", purchaseId);
  const [swept, unswept] = await Promise.all([
    lots
      .innerJoin("ledger_allocations as a", (join) =>
        join.onRef("a.business_id", "=", "l.business_id").onRef("a.lot_id", "=", "l.id"),
      )
      .innerJoin("ledger_entries as e", (join) =>
        join.onRef("e.business_id", "=", "a.business_id").onRef("e.id", "=", "a.entry_id"),
      )
      .select((eb) => eb.fn.coalesce(eb.fn.sum<number>("a.points"), eb.lit(0)).as("points"))
      .where("e.kind", "=", "expire")
      .executeTakeFirst(),
    lots
      .select((eb) => eb.fn.coalesce(eb.fn.sum<number>("l.points_remaining"), eb.lit(0)).as("points"))
      .where("l.expires_at", "<=", now)
      .executeTakeFirst(),
  ]);
  return -Number(swept?.points ?? 0) + Number(unswept?.points ?? 0);
}

/** Quantities per sku returned by earlier refunds (their `lines`; null for refunds by amount). */
function returnedQuantities(earlier: readonly unknown[]): Map<string, number> {
  const returned = new Map<string, number>();
  for (const l of earlier.flatMap((e) =>
    Array.isArray(e) ? (e as { sku: string; quantity: number }[]) : [],
  )) {
    returned.set(l.sku, (returned.get(l.sku) ?? 0) + l.quantity);
  }
  return returned;
}

/**
 * `count` units of a sku as the purchase's own lines, in their order, after the first `skip`
 * units: the same sku may be on several lines at different prices (one of them on offer, one
 * free), and returns take its units line by line, as `itemsLeft` leaves them.
 */
function unitsOf(items: readonly LineItem[], sku: string, skip: number, count: number): LineItem[] {
  const out: LineItem[] = [];
  let toSkip = skip;
  let toTake = count;
  for (const item of items) {
    if (item.sku !== sku || toTake === 0) continue;
    const skipped = Math.min(item.quantity, toSkip);
    toSkip -= skipped;
    const taken = Math.min(item.quantity - skipped, toTake);
    toTake -= taken;
    if (taken > 0) out.push({ ...item, quantity: taken });
  }
  return out;
}

/** Returned quantities as line items, taken line by line (`unitsOf`); `lineAmount` prices them. */
function itemsOf(items: readonly LineItem[], quantities: ReadonlyMap<string, number>): LineItem[] {
  return [...quantities].flatMap(([sku, quantity]) => unitsOf(items, sku, 0, quantity));
}

/** The purchase's items not returned once the earlier returns and `returned` are taken off. */
function itemsLeft(
  items: readonly LineItem[],
  returnedBefore: ReadonlyMap<string, number>,
  returned: readonly LineItem[],
): LineItem[] {
  const off = new Map(returnedBefore);
  for (const r of returned) off.set(r.sku, (off.get(r.sku) ?? 0) + r.quantity);
  return items.flatMap((i) => {
    const taken = Math.min(i.quantity, off.get(i.sku) ?? 0);
    off.set(i.sku, (off.get(i.sku) ?? 0) - taken);
    return i.quantity > taken ? [{ ...i, quantity: i.quantity - taken }] : [];
  });
}

/** The purchase's items being returned now, checked against what was bought and already returned. */
function returnedLines(
  items: readonly LineItem[],
  lines: readonly { sku: string; quantity: number }[],
  returnedBefore: ReadonlyMap<string, number>,
): LineItem[] {
  const now = new Map<string, number>();
  for (const l of lines) now.set(l.sku, (now.get(l.sku) ?? 0) + l.quantity);
  return [...now].flatMap(([sku, quantity]) => {
    const bought = items.filter((i) => i.sku === sku);
    if (bought.length === 0) {
      throw invalid("refund_line_not_in_purchase", `The purchase has no item with sku "${sku}".`);
    }
    const before = returnedBefore.get(sku) ?? 0;
    const left = bought.reduce((s, i) => s + i.quantity, 0) - before;
    if (quantity > left) {
      throw invalid(
        "refund_quantity_exceeds_purchase",
        `Only ${left} of sku "${sku}" can still be returned; the refund returns ${quantity}.`,
        { sku, returnable: left },
      );
    }
    return unitsOf(items, sku, before, quantity);
  });
}

/**
 * A purchase refunded in full no longer counts as the member's first: their first purchase is
 * the earliest one they kept (or none), so a first-purchase rule, whose points the refund took
 * back, rewards the purchase that stays. Only a refund of the purchase the member's first is
 * dated by changes it; the member is locked.
 */
async function forgetFirstPurchase(tx: Tx, businessId: string, memberId: string, occurredAt: Date) {
  await tx
    .updateTable("member_state")
    .set({
      first_purchase_at: (eb) =>
        eb
          .selectFrom("purchases")
          .select((p) => p.fn.min<Date>("occurred_at").as("first"))
          .where("business_id", "=", businessId)
          .where("member_id", "=", memberId)
          .whereRef("refunded_minor", "<", "amount_minor"),
    })
    .where("business_id", "=", businessId)
    .where("member_id", "=", memberId)
    .where("first_purchase_at", "=", occurredAt)
    .execute();
}

/**
 * The amount of returned lines. A returned unit is worth the average price of its sku in the
 * purchase: the same sku may be on several lines at different prices (two lattes at full price
 * and one free), and which of them came back cannot be told, so every unit gets its share. The
 * whole is scaled to what was paid when that differs from the list prices (down for a discount, up
 * for tax or a charge added to the items), and rounded half up once (in integers: the products
 * can pass 2^53). All of the items come to `paid`.
 */
function lineAmount(paid: number, items: readonly LineItem[], returned: readonly LineItem[]): number {
  const bought = new Map<string, { units: bigint; total: bigint }>();
  for (const i of items) {
    const b = bought.get(i.sku) ?? { units: 0n, total: 0n };
    bought.set(i.sku, {
      units: b.units + BigInt(i.quantity),
      total: b.total + BigInt(i.quantity * i.unit_price_minor),
    });
  }
  const back = new Map<string, bigint>();
  for (const r of returned) back.set(r.sku, (back.get(r.sku) ?? 0n) + BigInt(r.quantity));
  // The returned worth as a fraction num / den: the sum over skus of units back × total ÷ units.
  let num = 0n;
  let den = 1n;
  for (const [sku, units] of back) {
    const b = bought.get(sku);
    if (!b || b.units === 0n) continue;
    num = num * b.units + units * b.total * den;
    den *= b.units;
  }
  const list = [...bought.values()].reduce((s, b) => s + b.total, 0n);
  // Paid below the list prices (a discount) or above them (tax or a charge on top): scale by
  // paid / list, so that the items come to what was paid.
  if (list > 0n && list !== BigInt(paid)) {
    num *= BigInt(paid);
    den *= list;
  }
  return Number((2n * num + den) / (2n * den));
}

async function reverseStamps(
  tx: Tx,
  snapshot: ProgramSnapshot,
  memberId: string,
  purchase: { id: string; external_id: string; amount_minor: number },
  refundedAfter: number,
  left: LineItem[] | null,
  unrecoveredBefore: ReadonlyMap<string, number>,
  meta: { actor: string; source_type: string; source_id: string; occurred_at: Date; note: string | null },
  now: Date,
): Promise<{ reversed: number; unrecovered: Record<string, number> }> {
  const earnedByCard = await stampsFromSource(tx, snapshot.businessId, "purchase", purchase.id);
  const ownByCard = left
    ? await cardStampsOf(tx, snapshot.businessId, purchase.id)
    : new Map<string, number>();
  const balances = await stampBalances(tx, snapshot.businessId, memberId);
  const remaining = purchase.amount_minor - refundedAfter;
  const lines: StampLine[] = [];
  const unrecovered: Record<string, number> = {};
  // The purchase's stamps on a card archived since go back too: the card's stamps still pay.
  const active = new Set(snapshot.stampCards.map((c) => c.id));
  const archived = await stampCardsByIds(
    tx,
    snapshot.businessId,
    [...earnedByCard.keys()].filter((id) => !active.has(id)),
  );
  for (const card of [
    ...snapshot.stampCards,
    ...archived.map((c) => ({ ...c, item_match: c.item_match ?? {} })),
  ]) {
    const earned = earnedByCard.get(card.id) ?? 0;
    if (earned <= 0) continue;
    const reversedBefore = await reversedStampsOf(tx, snapshot.businessId, purchase.id, card.id);
    // What earlier refunds could not take is theirs to collect (`collectStampsWrittenOff`).
    const net = earned - reversedBefore - (unrecoveredBefore.get(card.id) ?? 0);
    let keep: number;
    if (remaining === 0) keep = 0;
    else if (card.earn_on !== "item") keep = remaining >= Math.max(card.min_spend_minor, 1) ? net : 0;
    else if (left) {
      // A return takes back the card's own stamps the items kept no longer earn under the card's
      // rules, capped at what the purchase earned (its cap then); rule stamps go with a full refund.
      const own = ownByCard.get(card.id) ?? 0;
      const still = stampsForPurchase(
        { ...card, max_stamps_per_purchase: own },
        { amount_minor: remaining, items: left },
      );
      keep = Math.max(0, Math.min(net, earned - (own - still)));
    } else keep = Math.min(net, Math.floor((earned * remaining) / purchase.amount_minor));
    // Stamps already used on a reward cannot come back; never take the balance below zero. What
    // could not be taken is recorded, for the reward's voucher if it is voided.
    const take = Math.min(net - keep, balances.get(card.id) ?? 0);
    if (net - keep > take) unrecovered[card.id] = net - keep - take;
    if (take > 0)
      lines.push({
        stamp_card_id: card.id,
        stamps: -take,
        ...because("refund_stamps", { card: card.name, purchase: purchase.external_id, note: meta.note }),
        rule_id: null,
      });
  }
  await postStamps(tx, snapshot.businessId, memberId, lines, { ...meta, kind: "reverse" }, now);
  return { reversed: -lines.reduce((s, l) => s + l.stamps, 0), unrecovered };
}

/** The stamps earlier refunds of a purchase could not take back, per card. */
function unrecoveredStamps(earlier: readonly unknown[]): Map<string, number> {
  const total = new Map<string, number>();
  for (const map of earlier) {
    for (const [card, stamps] of Object.entries((map ?? {}) as Record<string, number>)) {
      total.set(card, (total.get(card) ?? 0) + stamps);
    }
  }
  return total;
}

/**
 * The stamps a voided voucher gives back that refunds made after its redemption could not take
 * (`refunds.stamps_unrecovered`: they were on the voucher): had it never been redeemed, those
 * refunds would have taken them. Each such refund of the member with stamps of the card
 * unrecovered, oldest first, takes what it is owed from the `restored` stamps, as a `reverse`
 * entry of its own, and moves them from `stamps_unrecovered` to `stamps_reversed`. Runs in the
 * void's transaction, under the member's lock, right after the stamps are restored; returns the
 * stamps taken. The counterpart of `collectWrittenOff` for points.
 */
export async function collectStampsWrittenOff(
  tx: Tx,
  businessId: string,
  memberId: string,
  card: { id: string; name: string },
  restored: number,
  voucher: { id: string; code: string; created_at: Date },
  meta: { actor: string; occurred_at: Date },
  now: Date,
): Promise<number> {
  const refunds = await tx
    .selectFrom("refunds as r")
    .innerJoin("purchases as p", (join) =>
      join.onRef("p.business_id", "=", "r.business_id").onRef("p.id", "=", "r.purchase_id"),
    )
    .select(["r.id", "r.created_at", "r.reason", "r.stamps_unrecovered", "p.external_id"])
    .where("r.business_id", "=", businessId)
    .where("p.member_id", "=", memberId)
    .where(sql<number>`(r.stamps_unrecovered ->> ${card.id})::int`, ">", 0)
    .orderBy("r.created_at")
    .orderBy("r.id")
    .execute();
  let left = restored;
  for (const r of refunds) {
    const after =
      r.created_at > voucher.created_at ||
      (r.created_at.getTime() === voucher.created_at.getTime() && r.id > voucher.id);
    if (!after || left === 0) continue;
    const owed = (r.stamps_unrecovered as Record<string, number>)[card.id] ?? 0;
    const take = Math.min(owed, left);
    left -= take;
    await postStamps(
      tx,
      businessId,
      memberId,
      [
        {
          stamp_card_id: card.id,
          stamps: -take,
          ...because("refund_stamps_voucher_taken", {
            card: card.name,
            purchase: r.external_id,
            note: r.reason,
            voucher: voucher.code,
          }),
          rule_id: null,
        },
      ],
      { ...meta, kind: "reverse", source_type: "refund", source_id: r.id },
      now,
    );
    const rest = { ...(r.stamps_unrecovered as Record<string, number>) };
    if (owed - take > 0) rest[card.id] = owed - take;
    else delete rest[card.id];
    await tx
      .updateTable("refunds")
      .set((eb) => ({
        stamps_reversed: eb("stamps_reversed", "+", take),
        stamps_unrecovered: JSON.stringify(rest),
      }))
      .where("business_id", "=", businessId)
      .where("id", "=", r.id)
      .execute();
  }
  return restored - left;
}

/** Stamps each card gave a purchase by its own rule (not from earning rules), per card. */
async function cardStampsOf(tx: Tx, businessId: string, purchaseId: string): Promise<Map<string, number>> {
  const rows = await tx
    .selectFrom("stamp_entries")
    .select(["stamp_card_id", (eb) => eb.fn.sum<number>("stamps").as("stamps")])
    .where("business_id", "=", businessId)
    .where("source_type", "=", "purchase")
    .where("source_id", "=", purchaseId)
    .where("kind", "=", "earn")
    .where("rule_id", "is", null)
    .groupBy("stamp_card_id")
    .execute();
  return new Map(rows.map((r) => [r.stamp_card_id, Number(r.stamps)]));
}

/** Stamps of one card already taken back by earlier refunds of the purchase. */
async function reversedStampsOf(
  tx: Tx,
  businessId: string,
  purchaseId: string,
  cardId: string,
): Promise<number> {
  const row = await tx
    .selectFrom("stamp_entries as s")
    .innerJoin("refunds as r", (j) =>
      j
        .onRef("r.business_id", "=", "s.business_id")
        .on((eb) => eb(eb.cast("r.id", "text"), "=", eb.ref("s.source_id"))),
    )
    .select((eb) => eb.fn.coalesce(eb.fn.sum<number>("s.stamps"), eb.lit(0)).as("stamps"))
    .where("s.business_id", "=", businessId)
    .where("r.purchase_id", "=", purchaseId)
    .where("s.stamp_card_id", "=", cardId)
    .where("s.kind", "=", "reverse")
    .executeTakeFirst();
  return -Number(row?.stamps ?? 0);
}
