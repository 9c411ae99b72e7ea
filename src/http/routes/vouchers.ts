import { z } from "zod";
import type { AppContext } from "../../context.ts";
import { clientKey } from "../../modules/idempotency/index.ts";
import { getVoucher, listMemberVouchers, RewardType, RewardValue } from "../../modules/rewards/index.ts";
import {
  redeemVoucher,
  VoucherRedeemInput,
  VoucherVoidInput,
  voidVoucher,
} from "../../use-cases/redemptions.ts";
import type { ZodApp } from "../app.ts";
import { ErrorResponse, IdempotencyHeaders, IdParams, PageQuery, page } from "../schemas.ts";
import { sendOnce } from "../send-once.ts";

const VoucherStatus = z
  .enum(["issued", "redeemed", "voided", "expired"])
  .describe("expired: issued, never used, past expires_at (not refunded: its points or stamps were spent)");

export const VoucherSchema = z.object({
  id: z.string(),
  code: z.string().describe("Single-use code shown to the member and as a QR"),
  reward: z.object({ id: z.string(), name: z.string(), type: RewardType, value: RewardValue }),
  member_id: z.string(),
  status: VoucherStatus,
  points_spent: z.int(),
  stamps_spent: z.int(),
  expires_at: z.string(),
  created_at: z.string(),
  redeemed_at: z.string().nullable(),
  redeemed_location_id: z.string().nullable(),
  voided_at: z.string().nullable(),
  void_reason: z.string().nullable(),
});

/** A voucher with the member's balance right after it was issued or voided. */
export const RedemptionSchema = z.object({
  voucher: VoucherSchema,
  member: z.object({
    id: z.string(),
    points_available: z.int(),
    stamps: z.int().nullable().describe("Stamps now on the reward's card; null for a points reward"),
  }),
});

const CodeParams = z.strictObject({
  code: z.string().trim().min(4).max(32).describe("The voucher code, in any case"),
});

const USE_ERRORS =
  "`voucher_not_found` (404), `voucher_already_redeemed` (409), `voucher_voided` (409), `voucher_expired` (410: never used and past expires_at; not refunded)";

/** Vouchers: looked up, confirmed at the counter, or voided (which refunds them). */
export async function voucherRoutes(app: ZodApp, ctx: AppContext): Promise<void> {
  app.get(
    "/vouchers/:code",
    {
      schema: {
        tags: ["vouchers"],
        summary: "Look up a voucher by its code",
        description: "Case-insensitive. Any role. Errors: `voucher_not_found` (404).",
        params: CodeParams,
        response: { 200: VoucherSchema, 404: ErrorResponse },
      },
    },
    async (req) => getVoucher(ctx.db, req.actor.businessId, req.params.code, ctx.clock.now()),
  );

  app.get(
    "/members/:id/vouchers",
    {
      schema: {
        tags: ["vouchers"],
        summary: "A member's vouchers",
        description:
          "Newest first, a page at a time; filter by `status`. Any role. Errors: `validation_failed`, `invalid_cursor` (400), `member_not_found` (404).",
        params: IdParams,
        querystring: PageQuery.extend({ status: VoucherStatus.optional() }),
        response: { 200: page(VoucherSchema), 400: ErrorResponse, 404: ErrorResponse },
      },
    },
    async (req) =>
      listMemberVouchers(ctx.db, req.actor.businessId, req.params.id, req.query, ctx.clock.now()),
  );

  app.post(
    "/vouchers/:code/redeem",
    {
      schema: {
        tags: ["vouchers"],
        summary: "Confirm a voucher at the counter",
        description: `Marks an issued, unexpired voucher as used. Any role. With an \`Idempotency-Key\`, confirming again returns the first confirmation (header \`idempotent-replayed: true\`). Errors: \`validation_failed\` (400), ${USE_ERRORS}, \`location_not_found\` (404), \`location_archived\` (422), \`idempotency_key_reused\` (409).`,
        params: CodeParams,
        headers: IdempotencyHeaders,
        body: VoucherRedeemInput.nullish().describe("Optional: a request without a body is fine"),
        response: {
          200: VoucherSchema,
          400: ErrorResponse,
          404: ErrorResponse,
          409: ErrorResponse,
          410: ErrorResponse,
          422: ErrorResponse,
        },
      },
    },
    async (req, reply) => {
      const result = await redeemVoucher(
        ctx,
        req.actor,
        req.params.code,
        req.body ?? {},
        clientKey(req.headers["idempotency-key"]),
      );
      return sendOnce(reply, result, 200);
    },
  );

  app.post(
    "/vouchers/:code/void",
    {
      schema: {
        tags: ["vouchers"],
        summary: "Void a voucher and refund it",
        description: `Gives back what an issued voucher cost — the points to the very lots they came from (same expiry), or the stamps — and returns its unit of stock. Managers and owners may void any issued voucher; a cashier only within 10 minutes of issue (the undo at the counter). An expired voucher is not refunded: its points were spent. With an \`Idempotency-Key\`, a retry returns the first result. Errors: \`validation_failed\` (400), \`forbidden\` (403: a cashier, more than 10 minutes after issue), ${USE_ERRORS}, \`idempotency_key_reused\` (409).`,
        params: CodeParams,
        headers: IdempotencyHeaders,
        body: VoucherVoidInput,
        response: {
          200: RedemptionSchema,
          400: ErrorResponse,
          403: ErrorResponse,
          404: ErrorResponse,
          409: ErrorResponse,
          410: ErrorResponse,
        },
      },
    },
    async (req, reply) => {
      const result = await voidVoucher(
        ctx,
        req.actor,
        req.params.code,
        req.body,
        clientKey(req.headers["idempotency-key"]),
      );
      return sendOnce(reply, result, 200);
    },
  );
}
