import { z } from "zod";
import { type Actor, type AppContext, actorLabel, roleAtLeast } from "../context.ts";
import type { Tx } from "../db/database.ts";
import { audit } from "../modules/audit/index.ts";
import { assertLocation } from "../modules/business/index.ts";
import { onceInTransaction, type StoredResult } from "../modules/idempotency/index.ts";
import { lockAccount, pointsBalance, restore, spend } from "../modules/ledger/index.ts";
import { getMemberForUpdate } from "../modules/members/index.ts";
import {
  assertUsable,
  countHeldVouchers,
  getRedeemableReward,
  getVoucher,
  issueVoucher,
  lockVoucher,
  markVoucherRedeemed,
  markVoucherVoided,
  normalizeCode,
  returnStock,
  takeStock,
  type VoucherDto,
  voucherById,
} from "../modules/rewards/index.ts";
import { getStampCard, stampCardsByIds } from "../modules/stamps/index.ts";
import { postStamps, stampBalances } from "../modules/stamps/ledger.ts";
import { settleTier } from "../modules/tiers/metric.ts";
import { assert, conflict, forbidden } from "../shared/errors.ts";
import { newId } from "../shared/ids.ts";
import { because } from "../shared/reason.ts";
import { collectStampsWrittenOff, collectWrittenOff } from "./refunds.ts";

/** The body of a redemption. */
export const RedemptionInput = z.strictObject({ reward_id: z.uuid({ error: "must be a UUID" }) });
export type RedemptionInput = z.infer<typeof RedemptionInput>;

/** The body of a voucher confirmed at the counter. */
export const VoucherRedeemInput = z.strictObject({
  location_id: z.uuid({ error: "must be a UUID" }).optional().describe("Where the voucher was used"),
});
export type VoucherRedeemInput = z.infer<typeof VoucherRedeemInput>;

/** The body of a voided voucher. */
export const VoucherVoidInput = z.strictObject({
  reason: z.string().trim().min(1).max(500).describe("Why, for the audit log"),
});
export type VoucherVoidInput = z.infer<typeof VoucherVoidInput>;

/** A voucher with the member's balance right after it was issued or voided. */
export interface RedemptionResult {
  voucher: VoucherDto;
  member: {
    id: string;
    points_available: number;
    /** Stamps now on the reward's card; null for a reward paid in points. */
    stamps: number | null;
  };
}

/** How long after issue a cashier may still void a voucher: the "undo" at the counter. */
export const CASHIER_VOID_WINDOW_MS = 10 * 60_000;

/**
 * Redeems a reward for a member in one transaction: locks the member, locks and checks the
 * reward, takes stock, pays with points or a full stamp card, and issues a voucher. With an
 * `Idempotency-Key`, a retry returns the first voucher (`replayed: true`).
 *
 * Errors: `member_not_found`, `reward_not_found` (404); `reward_inactive`, `reward_not_eligible`
 * (422); `reward_limit_reached`, `reward_out_of_stock`, `insufficient_points`,
 * `insufficient_stamps`, `idempotency_key_reused`, `member_erased` (409).
 *
 * @example await redeemReward(ctx, actor, memberId, { reward_id }, req.headers["idempotency-key"])
 */
export async function redeemReward(
  ctx: AppContext,
  actor: Actor,
  memberId: string,
  input: RedemptionInput,
  idempotencyKey?: string,
): Promise<StoredResult<RedemptionResult>> {
  const now = ctx.clock.now();
  return onceInTransaction(
    ctx.db,
    actor.businessId,
    idempotencyKey,
    "reward.redeem",
    { member_id: memberId, ...input },
    now,
    async (tx) => ({ status: 201, body: await redeem(ctx, tx, actor, memberId, input.reward_id, now) }),
  );
}

async function redeem(
  ctx: AppContext,
  tx: Tx,
  actor: Actor,
  memberId: string,
  rewardId: string,
  now: Date,
): Promise<RedemptionResult> {
  const businessId = actor.businessId;
  // The program first, then the member: the order every writer takes them (`SnapshotCache.load`).
  const snapshot = await ctx.snapshots.load(tx, businessId);
  const locked = await getMemberForUpdate(tx, businessId, memberId);
  // An erased member's points and stamps are held by no one: they pay for no voucher (the card's
  // erasure says no one can use them any more).
  if (locked.erased_at) {
    throw conflict(
      "member_erased",
      `The member's data was erased at ${locked.erased_at.toISOString()}: nothing is redeemed for them.`,
      { erased_at: locked.erased_at.toISOString() },
    );
  }
  // Eligibility goes by the tier the member holds now, as the card shows it: one whose retention
  // has ended no longer opens its exclusive rewards, and one reached since the tier was stored (a
  // tier added, a threshold lowered) does. Either change is recorded first.
  const member = await settleTier(tx, snapshot, locked, now);
  // The reward is locked until the commit (after the member, before the account): its stock,
  // status and dates cannot change between this check and the voucher.
  const reward = await getRedeemableReward(tx, businessId, rewardId, member, now);
  if (reward.per_member_limit !== null) {
    const held = await countHeldVouchers(tx, businessId, reward.id, member.id);
    if (held >= reward.per_member_limit) {
      throw conflict(
        "reward_limit_reached",
        `The member already has ${held} vouchers of "${reward.name}"; the limit is ${reward.per_member_limit}.`,
        { held, limit: reward.per_member_limit },
      );
    }
  }
  const stockTaken = await takeStock(tx, reward);

  const voucherId = newId(now.getTime());
  const reason = because("redeemed", { reward: reward.name });
  const meta = { actor: actorLabel(actor), source_type: "voucher", source_id: voucherId, occurred_at: now };
  let payment: { points_spent: number; stamps_spent: number; ledger_entry_id: string | null };
  let stamps: number | null = null;
  if (reward.cost_points !== null) {
    const account = await lockAccount(tx, businessId, member.id, now);
    const entry = await spend(tx, account, reward.cost_points, { ...meta, ...reason }, now);
    payment = { points_spent: reward.cost_points, stamps_spent: 0, ledger_entry_id: entry.id };
  } else {
    assert(reward.stamp_card_id !== null, "a reward costs points or a stamp card");
    // Archived cards still pay: the member collected those stamps.
    const card = await getStampCard(tx, businessId, reward.stamp_card_id);
    const have = (await stampBalances(tx, businessId, member.id)).get(card.id) ?? 0;
    if (have < card.stamps_required) {
      throw conflict(
        "insufficient_stamps",
        `The member has ${have} stamps on "${card.name}"; ${card.stamps_required} are needed.`,
        { stamps: have, needed: card.stamps_required },
      );
    }
    const line = { stamp_card_id: card.id, stamps: -card.stamps_required, ...reason, rule_id: null };
    const after = await postStamps(tx, businessId, member.id, [line], { ...meta, kind: "redeem" }, now);
    stamps = after.get(card.id) ?? 0;
    payment = { points_spent: 0, stamps_spent: card.stamps_required, ledger_entry_id: null };
  }
  const voucher = await issueVoucher(
    tx,
    {
      id: voucherId,
      member_id: member.id,
      reward,
      stamp_card_id: reward.stamp_card_id,
      stock_taken: stockTaken,
      ...payment,
    },
    snapshot.timeZone,
    now,
  );
  await audit(tx, actor, now, {
    action: "reward.redeemed",
    targetType: "voucher",
    targetId: voucher.id,
    data: {
      code: voucher.code,
      reward_id: reward.id,
      member_id: member.id,
      points_spent: payment.points_spent,
      stamps_spent: payment.stamps_spent,
    },
  });
  return result(tx, businessId, voucher.id, member.id, stamps, now);
}

async function result(
  tx: Tx,
  businessId: string,
  voucherId: string,
  memberId: string,
  stamps: number | null,
  now: Date,
): Promise<RedemptionResult> {
  const [voucher, points] = await Promise.all([
    voucherById(tx, businessId, voucherId, now),
    pointsBalance(tx, businessId, memberId, now, now),
  ]);
  return { voucher, member: { id: memberId, points_available: points.available, stamps } };
}

/**
 * Confirms a voucher at the counter: it must be issued and not expired. With an
 * `Idempotency-Key`, confirming again returns the first confirmation (`replayed: true`).
 *
 * Errors: `voucher_not_found`, `location_not_found` (404); `location_archived` (422);
 * `voucher_already_redeemed`, `voucher_voided`, `idempotency_key_reused` (409); `voucher_expired` (410).
 *
 * @example await redeemVoucher(ctx, actor, "K7QX2M9DAB", { location_id }, key)
 */
export async function redeemVoucher(
  ctx: AppContext,
  actor: Actor,
  code: string,
  input: VoucherRedeemInput,
  idempotencyKey?: string,
): Promise<StoredResult<VoucherDto>> {
  const now = ctx.clock.now();
  return onceInTransaction(
    ctx.db,
    actor.businessId,
    idempotencyKey,
    "voucher.redeem",
    { code: normalizeCode(code), ...input },
    now,
    async (tx) => {
      if (input.location_id) await assertLocation(tx, actor.businessId, input.location_id);
      const voucher = await lockVoucher(tx, actor.businessId, code);
      assertUsable(voucher, now);
      const locationId = input.location_id ?? null;
      await markVoucherRedeemed(tx, voucher, { actor: actorLabel(actor), location_id: locationId }, now);
      await audit(tx, actor, now, {
        action: "voucher.redeemed",
        targetType: "voucher",
        targetId: voucher.id,
        data: { code: voucher.code, location_id: locationId },
      });
      return { status: 200, body: await voucherById(tx, actor.businessId, voucher.id, now) };
    },
  );
}

/**
 * Voids an issued voucher and gives back what it cost: the points to the very lots they came from
 * (with their expiry), or the stamps, and the unit of stock. Points that a refund made after the
 * redemption had to write off, because they were on the voucher, go to that refund
 * (`collectWrittenOff`), so a void never gives back points a refund took. Managers and owners may void any issued voucher; a
 * cashier only within 10 minutes of issue. An expired voucher is not refunded.
 *
 * Errors: `voucher_not_found` (404); `forbidden` (403); `voucher_already_redeemed`,
 * `voucher_voided`, `idempotency_key_reused` (409); `voucher_expired` (410).
 *
 * @example await voidVoucher(ctx, actor, "K7QX2M9DAB", { reason: "wrong reward" })
 */
export async function voidVoucher(
  ctx: AppContext,
  actor: Actor,
  code: string,
  input: VoucherVoidInput,
  idempotencyKey?: string,
): Promise<StoredResult<RedemptionResult>> {
  const now = ctx.clock.now();
  return onceInTransaction(
    ctx.db,
    actor.businessId,
    idempotencyKey,
    "voucher.void",
    { code: normalizeCode(code), ...input },
    now,
    async (tx) => ({ status: 200, body: await voidTx(tx, actor, code, input.reason, now) }),
  );
}

async function voidTx(
  tx: Tx,
  actor: Actor,
  code: string,
  reason: string,
  now: Date,
): Promise<RedemptionResult> {
  const businessId = actor.businessId;
  // The member is locked before the voucher, in the same order as a redemption takes them.
  const { member_id: memberId } = await getVoucher(tx, businessId, code, now);
  await getMemberForUpdate(tx, businessId, memberId);
  const voucher = await lockVoucher(tx, businessId, code);
  assertUsable(voucher, now);
  if (
    !roleAtLeast(actor.role, "manager") &&
    now.getTime() - voucher.created_at.getTime() > CASHIER_VOID_WINDOW_MS
  ) {
    throw forbidden("A cashier can void a voucher only within 10 minutes of issue; ask a manager.");
  }
  const meta = {
    ...because("voucher_voided", { voucher: voucher.code, note: reason }),
    actor: actorLabel(actor),
    source_type: "voucher",
    source_id: voucher.id,
    occurred_at: now,
  };
  let stamps: number | null = null;
  let pointsRestored = 0;
  let pointsRefunded = 0;
  if (voucher.ledger_entry_id !== null) {
    const account = await lockAccount(tx, businessId, memberId, now);
    const restored = await restore(tx, account, voucher.ledger_entry_id, meta, now);
    pointsRestored = restored?.entry.points ?? 0;
    // Points a later refund wrote off because they were on the voucher go to that refund.
    if (restored) {
      pointsRefunded = await collectWrittenOff(
        tx,
        account,
        restored.lots,
        { actor: meta.actor, voucherCode: voucher.code, occurred_at: now },
        voucher,
        now,
      );
    }
  }
  if (voucher.stamp_card_id !== null && voucher.stamps_spent > 0) {
    const line = {
      stamp_card_id: voucher.stamp_card_id,
      stamps: voucher.stamps_spent,
      reason: meta.reason,
      reason_code: meta.reason_code,
      reason_params: meta.reason_params,
      rule_id: null,
    };
    const after = await postStamps(tx, businessId, memberId, [line], { ...meta, kind: "restore" }, now);
    stamps = after.get(voucher.stamp_card_id) ?? 0;
    // Stamps a later refund could not take because they were on the voucher go to that refund.
    const [card] = await stampCardsByIds(tx, businessId, [voucher.stamp_card_id]);
    if (card) {
      stamps -= await collectStampsWrittenOff(
        tx,
        businessId,
        memberId,
        card,
        voucher.stamps_spent,
        voucher,
        { actor: meta.actor, occurred_at: now },
        now,
      );
    }
  }
  if (voucher.stock_taken) await returnStock(tx, businessId, voucher.reward_id);
  await markVoucherVoided(tx, voucher, { actor: actorLabel(actor), reason }, now);
  await audit(tx, actor, now, {
    action: "voucher.voided",
    targetType: "voucher",
    targetId: voucher.id,
    data: {
      code: voucher.code,
      reason,
      points_restored: pointsRestored,
      points_taken_by_refunds: pointsRefunded,
      stamps_restored: voucher.stamps_spent,
    },
  });
  return result(tx, businessId, voucher.id, memberId, stamps, now);
}
