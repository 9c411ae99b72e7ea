import { z } from "zod";
import type { AppContext } from "../../context.ts";
import { ItemMatch } from "../../modules/rules/schema.ts";
import {
  archiveStampCard,
  createStampCardInTx,
  getStampCard,
  listStampCards,
  MAX_ACTIVE_STAMP_CARDS,
  StampCardInput,
  StampCardPatch,
  StampEarnOn,
  updateStampCard,
} from "../../modules/stamps/index.ts";
import type { ZodApp } from "../app.ts";
import { createOnce, createResponses } from "../create-once.ts";
import { CatalogPageQuery, ErrorResponse, IdempotencyHeaders, IdParams, page } from "../schemas.ts";

export const StampCardSchema = z.object({
  id: z.string(),
  name: z.string(),
  stamps_required: z.int(),
  earn_on: StampEarnOn,
  min_spend_minor: z.int(),
  item_match: ItemMatch.nullable(),
  max_stamps_per_purchase: z.int(),
  archived_at: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
});

const ITEM_MATCH_ERRORS =
  "`item_match_required` (422: earn_on item without skus, categories or brands), `item_match_not_allowed` (422: item_match on a card that does not earn per item)";

/** Stamp cards: N stamps complete a card, earned per visit, per purchase or per matching item. */
export async function stampCardRoutes(app: ZodApp, ctx: AppContext): Promise<void> {
  app.get(
    "/stamp-cards",
    {
      schema: {
        tags: ["stamp cards"],
        summary: "List stamp cards",
        description:
          "Oldest first; archived cards only with `include_archived=true`. Paged: `limit` (default 200) and `cursor`. Any role.",
        querystring: CatalogPageQuery,
        response: { 200: page(StampCardSchema), 400: ErrorResponse },
      },
    },
    async (req) =>
      listStampCards(
        ctx.db,
        req.actor.businessId,
        { includeArchived: req.query.include_archived },
        req.query,
      ),
  );

  app.post(
    "/stamp-cards",
    {
      config: { role: "manager" },
      schema: {
        tags: ["stamp cards"],
        summary: "Create a stamp card",
        description: `Manager or owner. Errors: \`validation_failed\` (400), ${ITEM_MATCH_ERRORS}, \`stamp_card_limit_reached\` (409: ${MAX_ACTIVE_STAMP_CARDS} active cards).`,
        body: StampCardInput,
        headers: IdempotencyHeaders,
        response: createResponses(StampCardSchema),
      },
    },
    async (req, reply) =>
      createOnce(ctx, req, reply, "stamp_card.create", (tx, now) =>
        createStampCardInTx(tx, req.actor, req.body, now),
      ),
  );

  app.get(
    "/stamp-cards/:id",
    {
      schema: {
        tags: ["stamp cards"],
        summary: "Get a stamp card",
        description: "Archived cards too. Any role. Errors: `stamp_card_not_found` (404).",
        params: IdParams,
        response: { 200: StampCardSchema, 404: ErrorResponse },
      },
    },
    async (req) => getStampCard(ctx.db, req.actor.businessId, req.params.id),
  );

  app.patch(
    "/stamp-cards/:id",
    {
      config: { role: "manager" },
      schema: {
        tags: ["stamp cards"],
        summary: "Change a stamp card",
        description: `Changes the fields sent; stamps already collected stay. Manager or owner. Errors: \`validation_failed\` (400), \`stamp_card_not_found\` (404), \`stamp_card_archived\` (409), ${ITEM_MATCH_ERRORS}.`,
        params: IdParams,
        body: StampCardPatch,
        response: {
          200: StampCardSchema,
          400: ErrorResponse,
          404: ErrorResponse,
          409: ErrorResponse,
          422: ErrorResponse,
        },
      },
    },
    async (req) => updateStampCard(ctx.db, req.actor, req.params.id, req.body, ctx.clock.now()),
  );

  app.delete(
    "/stamp-cards/:id",
    {
      config: { role: "manager" },
      schema: {
        tags: ["stamp cards"],
        summary: "Archive a stamp card",
        description:
          "The card earns no more stamps; stamps already collected stay. Archiving twice changes nothing. Manager or owner. Errors: `stamp_card_not_found` (404).",
        params: IdParams,
        response: { 200: StampCardSchema, 404: ErrorResponse },
      },
    },
    async (req) => archiveStampCard(ctx.db, req.actor, req.params.id, ctx.clock.now()),
  );
}
