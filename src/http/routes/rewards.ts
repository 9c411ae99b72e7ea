import { z } from "zod";
import type { AppContext } from "../../context.ts";
import { clientKey } from "../../modules/idempotency/index.ts";
import {
  archiveReward,
  availableRewards,
  createRewardInTx,
  getReward,
  listRewards,
  MAX_ACTIVE_REWARDS,
  RewardInput,
  RewardPatch,
  RewardType,
  RewardValue,
  updateReward,
} from "../../modules/rewards/index.ts";
import { decodeKeyCursor, toPage } from "../../shared/pagination.ts";
import { RedemptionInput, redeemReward } from "../../use-cases/redemptions.ts";
import type { ZodApp } from "../app.ts";
import { createOnce, createResponses } from "../create-once.ts";
import { ErrorResponse, IdempotencyHeaders, IdParams, PageQuery, page } from "../schemas.ts";
import { sendOnce } from "../send-once.ts";
import { RedemptionSchema } from "./vouchers.ts";

export const RewardSchema = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string().nullable(),
  type: RewardType,
  value: RewardValue,
  cost_points: z.int().nullable(),
  stamp_card_id: z.string().nullable(),
  eligible_tier_ids: z.array(z.string()),
  stock: z.int().nullable(),
  per_member_limit: z.int().nullable(),
  valid_from: z.string().nullable(),
  valid_until: z.string().nullable(),
  voucher_valid_days: z.int(),
  active: z.boolean(),
  archived_at: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
});

const TERMS_ERRORS = [
  "`invalid_cost` (422: not exactly one of cost_points and stamp_card_id)",
  "`stamp_card_not_found` (422: no active stamp card of this business)",
  "`tier_not_found` (422: an eligible tier that is not an active tier of this business)",
  "`invalid_date_range` (422: valid_from not before valid_until)",
  "`valid_until_in_past` (422: a valid_until sent that has already passed: the reward could never be redeemed)",
  "`starts_at_in_past` (422: an experience's value.starts_at sent that has already passed)",
].join(", ");

/** A reward's place in the available list: paid in points before stamp cards, cheapest first, then by id. */
type Place = readonly [stampCard: boolean, cost: number, id: string];

function placeOf(reward: { cost_points: number | null; id: string }): Place {
  return [reward.cost_points === null, reward.cost_points ?? 0, reward.id];
}

function comparePlaces(a: Place, b: readonly (string | number | boolean)[]): number {
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as string | number | boolean;
    const y = b[i] as string | number | boolean;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

const byPlace = (
  a: { cost_points: number | null; id: string },
  b: { cost_points: number | null; id: string },
) => comparePlaces(placeOf(a), placeOf(b));

/** The reward catalog, and redeeming a reward for a member. */
export async function rewardRoutes(app: ZodApp, ctx: AppContext): Promise<void> {
  app.get(
    "/rewards",
    {
      schema: {
        tags: ["rewards"],
        summary: "List rewards",
        description:
          "Newest first, a page at a time; archived rewards only with `include_archived=true`. Any role. Errors: `validation_failed`, `invalid_cursor` (400).",
        querystring: PageQuery.extend({
          include_archived: z
            .enum(["true", "false"])
            .transform((v) => v === "true")
            .optional(),
        }),
        response: { 200: page(RewardSchema), 400: ErrorResponse },
      },
    },
    async (req) => listRewards(ctx.db, req.actor.businessId, req.query),
  );

  app.post(
    "/rewards",
    {
      config: { role: "manager" },
      schema: {
        tags: ["rewards"],
        summary: "Add a reward to the catalog",
        description: `\`type\` decides the shape of \`value\`. Paid with \`cost_points\` or a full card of \`stamp_card_id\`. Manager or owner. Errors: \`validation_failed\` (400), ${TERMS_ERRORS}, \`reward_catalog_full\` (409: ${MAX_ACTIVE_REWARDS} rewards).`,
        body: RewardInput,
        headers: IdempotencyHeaders,
        response: createResponses(RewardSchema),
      },
    },
    async (req, reply) =>
      createOnce(ctx, req, reply, "reward.create", (tx, now) =>
        createRewardInTx(tx, req.actor, req.body, now),
      ),
  );

  app.get(
    "/rewards/:id",
    {
      schema: {
        tags: ["rewards"],
        summary: "Get a reward",
        description: "Archived rewards too. Any role. Errors: `reward_not_found` (404).",
        params: IdParams,
        response: { 200: RewardSchema, 404: ErrorResponse },
      },
    },
    async (req) => getReward(ctx.db, req.actor.businessId, req.params.id),
  );

  app.patch(
    "/rewards/:id",
    {
      config: { role: "manager" },
      schema: {
        tags: ["rewards"],
        summary: "Change a reward",
        description: `Changes the fields sent; \`null\` clears a nullable field. A new \`type\` needs its \`value\` in the same request (else \`validation_failed\` at \`value\`, an issue with \`params: {reason: "type_needs_value"}\`). Vouchers already issued keep what they promised. Manager or owner. Errors: \`validation_failed\` (400, also a value that does not fit the type), \`reward_not_found\` (404), \`reward_archived\` (409), ${TERMS_ERRORS}.`,
        params: IdParams,
        body: RewardPatch,
        response: {
          200: RewardSchema,
          400: ErrorResponse,
          404: ErrorResponse,
          409: ErrorResponse,
          422: ErrorResponse,
        },
      },
    },
    async (req) => updateReward(ctx.db, req.actor, req.params.id, req.body, ctx.clock.now()),
  );

  app.delete(
    "/rewards/:id",
    {
      config: { role: "manager" },
      schema: {
        tags: ["rewards"],
        summary: "Archive a reward",
        description:
          "It can no longer be redeemed; vouchers already issued stay valid. Archiving twice changes nothing. Manager or owner. Errors: `reward_not_found` (404).",
        params: IdParams,
        response: { 200: RewardSchema, 404: ErrorResponse },
      },
    },
    async (req) => archiveReward(ctx.db, req.actor, req.params.id, ctx.clock.now()),
  );

  app.post(
    "/members/:id/redemptions",
    {
      schema: {
        tags: ["rewards"],
        summary: "Redeem a reward for a member",
        description:
          "In one transaction: checks the reward, takes a unit of stock, pays with points or a full stamp card, and issues a single-use voucher valid for the reward's `voucher_valid_days`. Returns the voucher and the member's new balance. Any role. Send an `Idempotency-Key` to make a retry safe: the same key returns the first voucher with status 200 and header `idempotent-replayed: true`. Errors: `validation_failed` (400), `member_not_found`, `reward_not_found` (404), `reward_inactive` (422: inactive, archived or outside its dates), `reward_not_eligible` (422: not for the member's tier), `reward_out_of_stock`, `reward_limit_reached` (409: the member holds per_member_limit vouchers of it), `insufficient_points` (409, details {available, needed}), `insufficient_stamps` (409, details {stamps, needed}), `idempotency_key_reused` (409), `member_erased` (409: the member's data was erased; what they held pays for nothing).",
        params: IdParams,
        headers: IdempotencyHeaders,
        body: RedemptionInput,
        response: {
          200: RedemptionSchema,
          201: RedemptionSchema,
          400: ErrorResponse,
          404: ErrorResponse,
          409: ErrorResponse,
          422: ErrorResponse,
        },
      },
    },
    async (req, reply) => {
      const result = await redeemReward(
        ctx,
        req.actor,
        req.params.id,
        req.body,
        clientKey(req.headers["idempotency-key"]),
      );
      return sendOnce(reply, result);
    },
  );

  app.get(
    "/members/:id/available-rewards",
    {
      schema: {
        tags: ["rewards"],
        summary: "Rewards the member can redeem now",
        description:
          "Open, for the member's tier, in stock, under the per-member limit and affordable with the member's available points or stamps; cheapest in points first. What the counter shows after a purchase. Paged: `limit` (default 100, at most 500, the most a business may offer) and `cursor`. A page starts after the place (price, then id) of the previous page's last reward, so none after the cursor is skipped, and a reward re-priced between two pages shows at its new place when that is after the cursor; `limit=500` gives the whole list at one moment. Any role. Errors: `member_not_found` (404), `invalid_cursor` (400).",
        params: IdParams,
        querystring: z.strictObject({
          limit: z.coerce.number().int().min(1).max(MAX_ACTIVE_REWARDS).default(100),
          cursor: z.string().max(200).optional(),
        }),
        response: { 200: page(RewardSchema), 400: ErrorResponse, 404: ErrorResponse },
      },
    },
    async (req) => {
      const now = ctx.clock.now();
      const snapshot = await ctx.snapshots.load(ctx.db, req.actor.businessId);
      // At most MAX_ACTIVE_REWARDS are ever available, so the page is cut from the whole list. The
      // cursor holds the last reward's place (points before stamp cards, price, id), not the
      // reward: a price or a balance that changed between two pages moves a reward alone, and
      // never hides the ones after the cursor.
      const all = (await availableRewards(ctx.db, snapshot, req.params.id, now)).sort(byPlace);
      const scope = ["available_rewards", req.actor.businessId, req.params.id];
      const after = decodeKeyCursor(req.query.cursor, scope, ["boolean", "number", "uuid"]);
      const rest = after === undefined ? all : all.filter((r) => comparePlaces(placeOf(r), after) > 0);
      return toPage(rest.slice(0, req.query.limit + 1), req.query.limit, (r) => r, scope, placeOf);
    },
  );
}
