import { z } from "zod";
import { type Actor, type AppContext, actorLabel } from "../context.ts";
import type { Db, Tx } from "../db/database.ts";
import type { PurchasesTable } from "../db/schema.ts";
import { assertLocation } from "../modules/business/index.ts";
import { onceInTransaction, requestFingerprint } from "../modules/idempotency/index.ts";
import { type EarnLine, earn, expiresAt, lockAccount } from "../modules/ledger/index.ts";
import {
  findMemberByCode,
  lockMemberByRef,
  memberCodeNotFound,
  selectMembers,
} from "../modules/members/index.ts";
import type { ProgramSnapshot } from "../modules/program/snapshot.ts";
import type { RewardValue } from "../modules/rewards/index.ts";
import type { LineItem } from "../modules/rules/evaluate.ts";
import { postStamps, type StampLine } from "../modules/stamps/ledger.ts";
import { joinTierChanges, reachedTier, settleTierReporting } from "../modules/tiers/metric.ts";
import { datedLastYear } from "../modules/tiers/qualify.ts";
import { dateTimeInput } from "../shared/date-time.ts";
import { conflict, invalid, notFound } from "../shared/errors.ts";
import { newId } from "../shared/ids.ts";
import { isCurrency, MAX_AMOUNT_MINOR } from "../shared/money.ts";
import { addLocalDays, resolveOccurredAt } from "../shared/time.ts";
import { Turns } from "../shared/turns.ts";
import { type MemberSummary, settleMember } from "./member-summary.ts";
import { type Pricing, pricePurchase } from "./price-purchase.ts";
import { attemptPurchase, OPTIMISTIC_ATTEMPTS, type PurchaseOutcome } from "./purchase-fast-path.ts";

/** The body of a purchase, as a POS or web shop sends it. */
export const PurchaseInput = z.strictObject({
  external_id: z
    .string()
    .min(1)
    .max(200)
    .describe("The POS/shop's id of the purchase. Sending it again never counts the purchase twice."),
  member_id: z.uuid().optional(),
  member_code: z.string().min(4).max(32).optional().describe("The code on the member's card (QR)"),
  amount_minor: z.int().min(0).max(MAX_AMOUNT_MINOR).describe("Total paid, in minor units"),
  currency: z.string().refine(isCurrency, { error: "must be an ISO-4217 currency code such as EUR or PLN" }),
  items: z
    .array(
      z.strictObject({
        sku: z.string().min(1).max(64),
        name: z.string().max(200).optional(),
        category: z.string().min(1).max(64).optional(),
        brand: z.string().min(1).max(64).optional(),
        quantity: z.int().min(1).max(10_000),
        unit_price_minor: z.int().min(0).max(MAX_AMOUNT_MINOR),
      }),
    )
    .max(500)
    .default([]),
  location_id: z.uuid().optional(),
  occurred_at: dateTimeInput().optional().describe("When it happened; default now"),
});
export type PurchaseInput = z.output<typeof PurchaseInput>;

export interface PurchaseDto {
  id: string;
  external_id: string;
  member_id: string | null;
  location_id: string | null;
  amount_minor: number;
  currency: string;
  items: LineItem[];
  refunded_minor: number;
  points_earned: number;
  stamps_earned: number;
  occurred_at: string;
  created_at: string;
}

export function purchaseDto(row: PurchasesTable): PurchaseDto {
  return {
    id: row.id,
    external_id: row.external_id,
    member_id: row.member_id,
    location_id: row.location_id,
    amount_minor: row.amount_minor,
    currency: row.currency,
    items: row.items as LineItem[],
    refunded_minor: row.refunded_minor,
    points_earned: row.points_earned,
    stamps_earned: row.stamps_earned,
    occurred_at: row.occurred_at.toISOString(),
    created_at: row.created_at.toISOString(),
  };
}

export interface PurchaseResult {
  purchase: PurchaseDto;
  earned: {
    points: EarnLine[];
    stamps: StampLine[];
    points_available_at: string | null;
  };
  member:
    | (MemberSummary & {
        id: string;
        code: string;
        tier_changed: { from: string | null; to: string | null } | null;
        /** Rewards the member can redeem right now, for the counter to offer. */
        rewards_available: {
          id: string;
          name: string;
          type: string;
          value: RewardValue;
          cost_points: number | null;
          stamp_card_id: string | null;
        }[];
      })
    | null;
}

/** Checks what the schema cannot: the business's currency, the clock, the items' total. */
function checkPurchase(input: PurchaseInput, snapshot: ProgramSnapshot, now: Date): Date {
  if (input.currency !== snapshot.currency) {
    throw invalid(
      "currency_mismatch",
      `This business records purchases in ${snapshot.currency}; the purchase is in ${input.currency}.`,
    );
  }
  if (input.member_id && input.member_code) {
    throw invalid("member_ambiguous", "Send member_id or member_code, not both.");
  }
  const occurredAt = resolveOccurredAt(input.occurred_at, now);
  const itemsTotal = input.items.reduce((s, i) => s + i.quantity * i.unit_price_minor, 0);
  if (itemsTotal > MAX_AMOUNT_MINOR)
    throw invalid("items_total_too_large", "The items add up to an absurd amount.");
  return occurredAt;
}

/**
 * Records a purchase: runs the rules, posts points and stamps, re-evaluates the tier, all in one
 * transaction. The external id makes it idempotent: the same purchase again returns the first
 * result (`replayed: true`); the same external id with different content is `409
 * idempotency_key_reused`.
 *
 * Most purchases take the two-statement path (src/use-cases/purchase-fast-path.ts); the ones it
 * cannot settle there — a member whose state keeps changing under it, a balance in debt — take
 * the locked path below, which gives the same outcome.
 *
 * Errors: `currency_mismatch`, `member_not_found`, `member_ambiguous`, `location_not_found`,
 * `location_archived`, `occurred_at_in_future`, `idempotency_key_reused`, `member_erased` (409:
 * the member's data was erased; the purchase may be recorded without a member).
 */
export async function recordPurchase(
  ctx: AppContext,
  actor: Actor,
  input: PurchaseInput,
  options: { lockedOnly?: boolean } = {},
): Promise<{ result: PurchaseResult; replayed: boolean; json?: string }> {
  // A member's purchases at this node take turns (src/shared/turns.ts): each reads the state the
  // one before it wrote, instead of failing its guard and starting over.
  const member = input.member_id ?? input.member_code?.trim().toUpperCase();
  if (member === undefined) return recordNow(ctx, actor, input, options);
  let turns = turnsByDb.get(ctx.db);
  if (!turns) {
    turns = new Turns();
    turnsByDb.set(ctx.db, turns);
  }
  const release = await turns.take(`${actor.businessId}/${member}`);
  try {
    return await recordNow(ctx, actor, input, options);
  } finally {
    release();
  }
}

const turnsByDb = new WeakMap<Db, Turns>();

/** Records a purchase: the two-statement path first, the locked path when it cannot settle it. */
async function recordNow(
  ctx: AppContext,
  actor: Actor,
  input: PurchaseInput,
  options: { lockedOnly?: boolean },
): Promise<{ result: PurchaseResult; replayed: boolean; json?: string }> {
  const now = ctx.clock.now();
  const key = `purchase:${input.external_id}`;
  const operation = "purchase.record";
  if (!options.lockedOnly) {
    const request = {
      key,
      operation,
      hash: requestFingerprint(operation, input),
      now,
      // Checked (occurred_at_in_future) with the rest, in the order the locked path checks; a
      // time a few minutes ahead is taken as now, as `resolveOccurredAt` does.
      occurredAt: input.occurred_at ? new Date(Math.min(Date.parse(input.occurred_at), now.getTime())) : now,
    };
    const shape = {
      check: (snapshot: ProgramSnapshot) => {
        checkPurchase(input, snapshot, now);
      },
      dto: (row: { id: string; member_id: string | null; points_earned: number; stamps_earned: number }) =>
        purchaseDto({
          id: row.id,
          member_id: row.member_id,
          points_earned: row.points_earned,
          stamps_earned: row.stamps_earned,
          business_id: actor.businessId,
          external_id: input.external_id,
          location_id: input.location_id ?? null,
          amount_minor: input.amount_minor,
          currency: input.currency,
          items: input.items,
          occurred_at: request.occurredAt,
          refunded_minor: 0,
          actor: actorLabel(actor),
          created_at: now,
        }),
      result: purchaseResult,
    };
    for (let attempt = 0; attempt < OPTIMISTIC_ATTEMPTS; attempt++) {
      const outcome = await attemptPurchase(ctx, actor, input, request, shape);
      if (outcome.kind === "done") {
        const { result, replayed, json } = outcome;
        return json === undefined ? { result, replayed } : { result, replayed, json };
      }
      if (outcome.kind === "fallback") break;
    }
  }
  const { body, replayed } = await onceInTransaction(
    ctx.db,
    actor.businessId,
    key,
    operation,
    input,
    now,
    async (tx) => ({
      status: 201,
      body: await record(ctx, tx, actor, input, now),
    }),
  );
  return { result: body, replayed };
}

/** 409 `member_erased`: a member whose data was erased takes no purchase. */
function memberErased(erasedAt: Date) {
  return conflict(
    "member_erased",
    `The member's data was erased at ${erasedAt.toISOString()}: their card takes no purchases. Record the purchase without a member.`,
    { erased_at: erasedAt.toISOString() },
  );
}

/** The answer to a recorded purchase, from what either path worked out. */
function purchaseResult(outcome: PurchaseOutcome<PurchaseDto>): PurchaseResult {
  const { member } = outcome;
  return {
    purchase: outcome.dto,
    earned: {
      points: outcome.points,
      stamps: outcome.stamps,
      points_available_at: outcome.pointsAvailableAt,
    },
    member: member
      ? {
          id: member.id,
          code: member.code,
          points: member.summary.points,
          stamp_cards: member.summary.stamp_cards,
          tier: member.summary.tier,
          tier_changed: member.tierChanged,
          rewards_available: member.rewards.map((r) => ({
            id: r.id,
            name: r.name,
            type: r.type,
            value: r.value,
            cost_points: r.cost_points,
            stamp_card_id: r.stamp_card_id,
          })),
        }
      : null,
  };
}

/** The locked path: the member's row is locked for the whole transaction. */
async function record(
  ctx: AppContext,
  tx: Tx,
  actor: Actor,
  input: PurchaseInput,
  now: Date,
): Promise<PurchaseResult> {
  const snapshot = await ctx.snapshots.load(tx, actor.businessId);
  const occurredAt = checkPurchase(input, snapshot, now);
  if (input.location_id) await assertLocation(tx, actor.businessId, input.location_id);
  const locked = await lockMemberByRef(tx, actor.businessId, input);
  // A card its holder deleted takes nothing more: the points would go to no one (a purchase sent
  // from a counter that still shows the card, or from its queue). A replay of a purchase
  // recorded before the erasure still gets its answer: the stored one, before this runs.
  if (locked?.erased_at) throw memberErased(locked.erased_at);
  // The purchase is priced with the tier the member holds before it, as the card shows it: a tier
  // whose retention has ended is re-evaluated, and an upgrade reached since the tier was stored (a
  // threshold-0 tier, a threshold lowered, a tier added) is recorded, each with its reason. What
  // this purchase itself reaches counts from the next one.
  const settled = locked ? await settleTierReporting(tx, snapshot, locked, now) : null;
  const member = settled?.member ?? null;
  const purchase = {
    amount_minor: input.amount_minor,
    items: input.items,
    location_id: input.location_id ?? null,
    occurred_at: occurredAt,
  };
  const pricing: Pricing = member
    ? await pricePurchase(
        tx,
        snapshot,
        { ...member, attributes: member.attributes as Record<string, unknown> },
        purchase,
      )
    : { points: [], stamps: [], total_points: 0 };
  const row: PurchasesTable = {
    business_id: actor.businessId,
    id: newId(now.getTime()),
    external_id: input.external_id,
    member_id: member?.id ?? null,
    location_id: purchase.location_id,
    amount_minor: input.amount_minor,
    currency: input.currency,
    items: JSON.stringify(input.items),
    occurred_at: occurredAt,
    refunded_minor: 0,
    points_earned: pricing.total_points,
    stamps_earned: pricing.stamps.reduce((s, l) => s + l.stamps, 0),
    actor: actorLabel(actor),
    created_at: now,
  };
  await tx.insertInto("purchases").values(row).execute();
  const dto = purchaseDto({ ...row, items: input.items });
  if (!member) return purchaseResult({ dto, points: [], stamps: [], pointsAvailableAt: null, member: null });

  const cfg = snapshot.config.points;
  const availableAt =
    cfg.pending_days > 0 ? addLocalDays(occurredAt, cfg.pending_days, snapshot.timeZone) : occurredAt;
  const meta = {
    actor: actorLabel(actor),
    source_type: "purchase",
    source_id: row.id,
    occurred_at: occurredAt,
  };
  if (pricing.total_points > 0) {
    const account = await lockAccount(tx, actor.businessId, member.id, now);
    await earn(
      tx,
      account,
      pricing.points,
      {
        ...meta,
        available_at: availableAt,
        expires_at: expiresAt(occurredAt, cfg.expiry, snapshot.timeZone, availableAt),
        zone: snapshot.timeZone,
      },
      now,
    );
  }
  await postStamps(tx, actor.businessId, member.id, pricing.stamps, { ...meta, kind: "earn" }, now);
  await tx
    .updateTable("member_state")
    .set((eb) => ({
      // The earliest purchase, even one sent late (a till's queue, an import newest first).
      first_purchase_at: eb.fn("least", ["first_purchase_at", eb.val(occurredAt)]),
      last_purchase_at: eb.fn("greatest", ["last_purchase_at", eb.val(occurredAt)]),
    }))
    .where("business_id", "=", actor.businessId)
    .where("member_id", "=", member.id)
    .execute();
  const after = await settleMember(tx, snapshot, member, now, {
    rewards: true,
    lastYear: datedLastYear(snapshot.config.tiers.period, occurredAt, now, snapshot.timeZone),
  });
  return purchaseResult({
    dto,
    points: pricing.points,
    stamps: pricing.stamps,
    pointsAvailableAt: pricing.total_points > 0 ? availableAt.toISOString() : null,
    member: {
      id: member.id,
      code: member.code,
      summary: after.summary,
      tierChanged: joinTierChanges(settled?.upgraded ?? null, after.tierChanged),
      rewards: after.rewards,
    },
  });
}

/**
 * "What would this purchase earn?" — the same pricing as recording, with nothing written.
 * Errors: as for recording, minus the idempotency ones.
 */
export async function previewPurchase(
  ctx: AppContext,
  actor: Actor,
  input: Omit<PurchaseInput, "external_id">,
) {
  const now = ctx.clock.now();
  return ctx.db.transaction().execute(async (tx) => {
    const snapshot = await ctx.snapshots.load(tx, actor.businessId);
    const occurredAt = checkPurchase({ ...input, external_id: "preview" }, snapshot, now);
    if (input.location_id) await assertLocation(tx, actor.businessId, input.location_id);
    const member = input.member_id
      ? await selectMembers(tx)
          .where("members.business_id", "=", actor.businessId)
          .where("id", "=", input.member_id)
          .executeTakeFirst()
      : input.member_code
        ? await findMemberByCode(tx, actor.businessId, input.member_code)
        : null;
    if (input.member_id && !member) throw notFound("member", input.member_id);
    if (input.member_code && !member) throw memberCodeNotFound(input.member_code);
    // The tier the member holds now, as recording would settle it first (an ended retention, an
    // upgrade reached since the tier was stored), though nothing is written here.
    const tier = member ? await reachedTier(tx, snapshot, member, now) : null;
    const pricing = await pricePurchase(
      tx,
      snapshot,
      member
        ? { ...member, ...tier, attributes: member.attributes as Record<string, unknown> }
        : {
            id: "00000000-0000-0000-0000-000000000000",
            tier_id: null,
            attributes: {},
            first_purchase_at: null,
          },
      {
        amount_minor: input.amount_minor,
        items: input.items,
        location_id: input.location_id ?? null,
        occurred_at: occurredAt,
      },
    );
    return { points: pricing.points, stamps: pricing.stamps, total_points: pricing.total_points };
  });
}
