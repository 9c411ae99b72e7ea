import type { Db, Tx } from "../../db/database.ts";
import type { RewardsTable, VouchersTable } from "../../db/schema.ts";
import { AppError, assert, conflict } from "../../shared/errors.ts";
import { randomCode } from "../../shared/ids.ts";
import { decodeCursor, toPage } from "../../shared/pagination.ts";
import { addLocalDays } from "../../shared/time.ts";
import { getMember } from "../members/index.ts";
import type { RewardType, RewardValue } from "./schema.ts";

/**
 * Vouchers: the single-use codes a redemption issues, confirmed at the counter or voided. A
 * voucher that is still `issued` after `expires_at` shows as `expired`; it is not refunded, since
 * its points or stamps were spent when it was issued.
 */

export type VoucherStatus = "issued" | "redeemed" | "voided" | "expired";

export interface VoucherDto {
  id: string;
  code: string;
  reward: { id: string; name: string; type: RewardType; value: RewardValue };
  member_id: string;
  status: VoucherStatus;
  points_spent: number;
  stamps_spent: number;
  expires_at: string;
  created_at: string;
  redeemed_at: string | null;
  redeemed_location_id: string | null;
  voided_at: string | null;
  void_reason: string | null;
}

/** Length of a voucher code: 31^10 ≈ 8·10^14 codes. */
export const VOUCHER_CODE_LENGTH = 10;
const CODE_ATTEMPTS = 5;

type VoucherWithReward = VouchersTable & {
  reward_name: string;
  reward_type: RewardType;
  reward_value: unknown;
};

const iso = (date: Date | null) => date?.toISOString() ?? null;

function voucherDto(row: VoucherWithReward, now: Date): VoucherDto {
  const expired = row.status === "issued" && row.expires_at <= now;
  return {
    id: row.id,
    code: row.code,
    reward: {
      id: row.reward_id,
      name: row.reward_name,
      type: row.reward_type,
      value: row.reward_value as RewardValue,
    },
    member_id: row.member_id,
    status: expired ? "expired" : row.status,
    points_spent: row.points_spent,
    stamps_spent: row.stamps_spent,
    expires_at: row.expires_at.toISOString(),
    created_at: row.created_at.toISOString(),
    redeemed_at: iso(row.redeemed_at),
    redeemed_location_id: row.redeemed_location_id,
    voided_at: iso(row.voided_at),
    void_reason: row.void_reason,
  };
}

/** How people type a code at the counter does not matter: codes are upper case, without spaces. */
export const normalizeCode = (code: string) => code.trim().toUpperCase();

function withReward(db: Db | Tx, businessId: string) {
  return db
    .selectFrom("vouchers as v")
    .innerJoin("rewards as r", (join) =>
      join.onRef("r.business_id", "=", "v.business_id").onRef("r.id", "=", "v.reward_id"),
    )
    .selectAll("v")
    .select(["r.name as reward_name", "r.type as reward_type", "r.value as reward_value"])
    .where("v.business_id", "=", businessId);
}

const voucherNotFound = (code: string) =>
  new AppError(404, "voucher_not_found", `No voucher with code ${code} in this business.`);

/**
 * The voucher with `code` (case-insensitive), or 404 `voucher_not_found`.
 *
 * @example await getVoucher(db, actor.businessId, "k7qx2m9dab", now)
 */
export async function getVoucher(
  db: Db | Tx,
  businessId: string,
  code: string,
  now: Date,
): Promise<VoucherDto> {
  const row = await withReward(db, businessId).where("v.code", "=", normalizeCode(code)).executeTakeFirst();
  if (!row) throw voucherNotFound(code);
  return voucherDto(row, now);
}

/** The voucher with `id`, as the API shows it; for the caller that just wrote it. */
export async function voucherById(tx: Tx, businessId: string, id: string, now: Date): Promise<VoucherDto> {
  return voucherDto(await withReward(tx, businessId).where("v.id", "=", id).executeTakeFirstOrThrow(), now);
}

/**
 * A member's vouchers, newest first, a page at a time, optionally of one status. 404
 * `member_not_found` for a member of another business.
 *
 * @example await listMemberVouchers(db, actor.businessId, memberId, { limit: 50, status: "issued" }, now)
 */
export async function listMemberVouchers(
  db: Db,
  businessId: string,
  memberId: string,
  query: { limit: number; cursor?: string | undefined; status?: VoucherStatus | undefined },
  now: Date,
): Promise<{ data: VoucherDto[]; next_cursor: string | null }> {
  await getMember(db, businessId, memberId);
  const scope = ["vouchers", businessId, memberId, query.status];
  const before = decodeCursor(query.cursor, scope);
  let q = withReward(db, businessId).where("v.member_id", "=", memberId);
  if (before) q = q.where("v.id", "<", before);
  if (query.status === "issued") q = q.where("v.status", "=", "issued").where("v.expires_at", ">", now);
  else if (query.status === "expired")
    q = q.where("v.status", "=", "issued").where("v.expires_at", "<=", now);
  else if (query.status) q = q.where("v.status", "=", query.status);
  const rows = await q
    .orderBy("v.id", "desc")
    .limit(query.limit + 1)
    .execute();
  return toPage(rows, query.limit, (row) => voucherDto(row, now), scope);
}

/** Vouchers of a reward the member holds or used (voided ones do not count toward a limit). */
export async function countHeldVouchers(
  db: Db | Tx,
  businessId: string,
  rewardId: string,
  memberId: string,
): Promise<number> {
  const { count } = await db
    .selectFrom("vouchers")
    .select((eb) => eb.fn.countAll<number>().as("count"))
    .where("business_id", "=", businessId)
    .where("reward_id", "=", rewardId)
    .where("member_id", "=", memberId)
    .where("status", "!=", "voided")
    .executeTakeFirstOrThrow();
  return Number(count);
}

export interface VoucherIssue {
  id: string;
  member_id: string;
  reward: RewardsTable;
  points_spent: number;
  stamps_spent: number;
  stamp_card_id: string | null;
  ledger_entry_id: string | null;
  /** Whether the redemption took a unit of the reward's stock. */
  stock_taken: boolean;
}

/**
 * Writes a new voucher with a fresh random code (a taken code is retried with another one),
 * valid for the reward's `voucher_valid_days`: calendar days in the business's `timeZone`, to the
 * same time of day.
 */
export async function issueVoucher(
  tx: Tx,
  issue: VoucherIssue,
  timeZone: string,
  now: Date,
): Promise<VouchersTable> {
  for (let attempt = 1; attempt <= CODE_ATTEMPTS; attempt++) {
    const row = await tx
      .insertInto("vouchers")
      .values({
        business_id: issue.reward.business_id,
        id: issue.id,
        code: randomCode(VOUCHER_CODE_LENGTH),
        member_id: issue.member_id,
        reward_id: issue.reward.id,
        status: "issued",
        points_spent: issue.points_spent,
        stamps_spent: issue.stamps_spent,
        stamp_card_id: issue.stamp_card_id,
        ledger_entry_id: issue.ledger_entry_id,
        stock_taken: issue.stock_taken,
        expires_at: addLocalDays(now, issue.reward.voucher_valid_days, timeZone),
        redeemed_at: null,
        redeemed_by: null,
        redeemed_location_id: null,
        voided_at: null,
        voided_by: null,
        void_reason: null,
        created_at: now,
      })
      .onConflict((oc) => oc.columns(["business_id", "code"]).doNothing())
      .returningAll()
      .executeTakeFirst();
    if (row) return row;
  }
  throw new Error(`no free voucher code after ${CODE_ATTEMPTS} attempts`);
}

/** The voucher row with `code`, locked until the transaction ends; 404 `voucher_not_found`. */
export async function lockVoucher(tx: Tx, businessId: string, code: string): Promise<VouchersTable> {
  const row = await tx
    .selectFrom("vouchers")
    .selectAll()
    .where("business_id", "=", businessId)
    .where("code", "=", normalizeCode(code))
    .forUpdate()
    .executeTakeFirst();
  if (!row) throw voucherNotFound(code);
  return row;
}

/**
 * Fails unless the voucher can still be used: 409 `voucher_already_redeemed`, 409
 * `voucher_voided`, 410 `voucher_expired`.
 */
export function assertUsable(voucher: VouchersTable, now: Date): void {
  if (voucher.status === "redeemed") {
    throw conflict(
      "voucher_already_redeemed",
      `Voucher ${voucher.code} was redeemed at ${voucher.redeemed_at?.toISOString()}.`,
      { redeemed_at: iso(voucher.redeemed_at) },
    );
  }
  if (voucher.status === "voided") {
    throw conflict("voucher_voided", `Voucher ${voucher.code} was voided.`, {
      voided_at: iso(voucher.voided_at),
    });
  }
  if (voucher.expires_at <= now) {
    throw new AppError(
      410,
      "voucher_expired",
      `Voucher ${voucher.code} expired at ${voucher.expires_at.toISOString()}.`,
      {
        expires_at: voucher.expires_at.toISOString(),
      },
    );
  }
}

/** Marks a locked, usable voucher as used at the counter. */
export async function markVoucherRedeemed(
  tx: Tx,
  voucher: VouchersTable,
  by: { actor: string; location_id: string | null },
  now: Date,
): Promise<void> {
  const result = await tx
    .updateTable("vouchers")
    .set({
      status: "redeemed",
      redeemed_at: now,
      redeemed_by: by.actor,
      redeemed_location_id: by.location_id,
    })
    .where("business_id", "=", voucher.business_id)
    .where("id", "=", voucher.id)
    .where("status", "=", "issued")
    .executeTakeFirstOrThrow();
  assert(result.numUpdatedRows === 1n, "only a locked, issued voucher changes status");
}

/** Marks a locked, usable voucher as voided. */
export async function markVoucherVoided(
  tx: Tx,
  voucher: VouchersTable,
  by: { actor: string; reason: string },
  now: Date,
): Promise<void> {
  const result = await tx
    .updateTable("vouchers")
    .set({ status: "voided", voided_at: now, voided_by: by.actor, void_reason: by.reason })
    .where("business_id", "=", voucher.business_id)
    .where("id", "=", voucher.id)
    .where("status", "=", "issued")
    .executeTakeFirstOrThrow();
  assert(result.numUpdatedRows === 1n, "only a locked, issued voucher changes status");
}
