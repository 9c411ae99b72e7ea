import { z } from "zod";
import type { AppContext } from "../../context.ts";
import {
  archiveTier,
  createTierInTx,
  getTier,
  listTiers,
  MAX_ACTIVE_TIERS,
  TierInput,
  TierPatch,
  updateTier,
} from "../../modules/tiers/index.ts";
import type { ZodApp } from "../app.ts";
import { createOnce, createResponses } from "../create-once.ts";
import { CatalogPageQuery, ErrorResponse, IdempotencyHeaders, IdParams, page } from "../schemas.ts";

export const TierSchema = z.object({
  id: z.string(),
  name: z.string(),
  rank: z.int(),
  threshold: z.int(),
  earn_multiplier_bp: z.int(),
  benefits: z.array(z.string()),
  archived_at: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
});

const LADDER_ERRORS =
  "`tier_rank_taken` (409: another active tier has this rank), `tier_thresholds_not_increasing` (422: a higher rank needs a higher threshold)";

/** Tiers: the ladder members climb by the program's tier metric (spend, points or visits). */
export async function tierRoutes(app: ZodApp, ctx: AppContext): Promise<void> {
  app.get(
    "/tiers",
    {
      schema: {
        tags: ["tiers"],
        summary: "List tiers",
        description:
          "Lowest rank first (within a rank the active tier, then archived ones newest first); archived tiers only with `include_archived=true`. Paged: `limit` (default 200) and `cursor`. Any role.",
        querystring: CatalogPageQuery,
        response: { 200: page(TierSchema), 400: ErrorResponse },
      },
    },
    async (req) =>
      listTiers(ctx.db, req.actor.businessId, { includeArchived: req.query.include_archived }, req.query),
  );

  app.post(
    "/tiers",
    {
      config: { role: "manager" },
      schema: {
        tags: ["tiers"],
        summary: "Create a tier",
        description: `The threshold is in the unit of the program's tier metric. Manager or owner. Errors: \`validation_failed\` (400), ${LADDER_ERRORS}, \`tier_limit_reached\` (409: ${MAX_ACTIVE_TIERS} active tiers).`,
        body: TierInput,
        headers: IdempotencyHeaders,
        response: createResponses(TierSchema),
      },
    },
    async (req, reply) =>
      createOnce(ctx, req, reply, "tier.create", (tx, now) => createTierInTx(tx, req.actor, req.body, now)),
  );

  app.get(
    "/tiers/:id",
    {
      schema: {
        tags: ["tiers"],
        summary: "Get a tier",
        description: "Archived tiers too. Any role. Errors: `tier_not_found` (404).",
        params: IdParams,
        response: { 200: TierSchema, 404: ErrorResponse },
      },
    },
    async (req) => getTier(ctx.db, req.actor.businessId, req.params.id),
  );

  app.patch(
    "/tiers/:id",
    {
      config: { role: "manager" },
      schema: {
        tags: ["tiers"],
        summary: "Change a tier",
        description: `Changes the fields sent; members keep their tier until they qualify again. Manager or owner. Errors: \`validation_failed\` (400), \`tier_not_found\` (404), \`tier_archived\` (409), ${LADDER_ERRORS}.`,
        params: IdParams,
        body: TierPatch,
        response: {
          200: TierSchema,
          400: ErrorResponse,
          404: ErrorResponse,
          409: ErrorResponse,
          422: ErrorResponse,
        },
      },
    },
    async (req) => updateTier(ctx.db, req.actor, req.params.id, req.body, ctx.clock.now()),
  );

  app.delete(
    "/tiers/:id",
    {
      config: { role: "manager" },
      schema: {
        tags: ["tiers"],
        summary: "Archive a tier",
        description:
          "Only a tier no member is in. Archiving twice changes nothing. Manager or owner. Errors: `tier_not_found` (404), `tier_in_use` (409: members are in it; `details.name` is the tier's name, `details.members` how many are in it).",
        params: IdParams,
        response: { 200: TierSchema, 404: ErrorResponse, 409: ErrorResponse },
      },
    },
    async (req) => archiveTier(ctx.db, req.actor, req.params.id, ctx.clock.now()),
  );
}
