import { z } from "zod";
import type { AppContext } from "../../context.ts";
import {
  archiveRule,
  createRuleInTx,
  getRule,
  listRules,
  MAX_RULES,
  RuleCap,
  RuleEffect,
  RuleInput,
  RulePatch,
  RuleTrigger,
  StoredRuleConditions,
  updateRule,
} from "../../modules/rules/index.ts";
import type { ZodApp } from "../app.ts";
import { createOnce, createResponses } from "../create-once.ts";
import { CatalogPageQuery, ErrorResponse, IdempotencyHeaders, IdParams, page } from "../schemas.ts";

export const RuleSchema = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string().nullable(),
  trigger: RuleTrigger,
  event_type: z.string().nullable(),
  priority: z.int(),
  stop_processing: z.boolean(),
  conditions: StoredRuleConditions,
  effect: RuleEffect,
  cap: RuleCap.nullable(),
  starts_at: z.string().nullable(),
  ends_at: z.string().nullable(),
  active: z.boolean(),
  archived_at: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
});

const RULE_ERRORS = [
  "`validation_failed` (400)",
  "`event_type_required` (422: trigger event without event_type)",
  "`event_type_not_allowed` (422: event_type on another trigger)",
  "`cap_points_on_stamps` (422: a stamp rule capped by max_points; cap it by max_times)",
  "`multiplier_needs_purchase` (422: a multiplier with a trigger other than purchase)",
  "`points_per_spend_needs_purchase` (422: points per spend with a trigger other than purchase)",
  "`condition_needs_purchase` (422: min_spend_minor, items or first_purchase with a trigger other than purchase)",
  "`condition_needs_event` (422: event_properties with a trigger other than event)",
  "`items_condition_required` (422: points on matching items without conditions.items)",
  "`invalid_date_range` (422: starts_at not before ends_at)",
  "`stamp_card_not_found` (422: the effect names no active stamp card of this business)",
  "`tier_not_found`, `location_not_found` (422: conditions name an unknown or archived tier or location)",
].join(", ");

/** Earning rules: conditions and one effect, as data the engine interprets. */
export async function ruleRoutes(app: ZodApp, ctx: AppContext): Promise<void> {
  app.get(
    "/rules",
    {
      schema: {
        tags: ["rules"],
        summary: "List earning rules",
        description:
          "In evaluation order: priority, then age. Filter by `trigger`; archived rules only with `include_archived=true`. Paged: `limit` (default 200, the most a business may have active) and `cursor`. Any role.",
        querystring: CatalogPageQuery.extend({ trigger: RuleTrigger.optional() }),
        response: { 200: page(RuleSchema), 400: ErrorResponse },
      },
    },
    async (req) =>
      listRules(
        ctx.db,
        req.actor.businessId,
        { trigger: req.query.trigger, includeArchived: req.query.include_archived },
        req.query,
      ),
  );

  app.post(
    "/rules",
    {
      config: { role: "manager" },
      schema: {
        tags: ["rules"],
        summary: "Create an earning rule",
        description: `Manager or owner. Errors: ${RULE_ERRORS}, \`rule_limit_reached\` (409: ${MAX_RULES} rules).`,
        body: RuleInput,
        headers: IdempotencyHeaders,
        response: createResponses(RuleSchema),
      },
    },
    async (req, reply) =>
      createOnce(ctx, req, reply, "rule.create", (tx, now) => createRuleInTx(tx, req.actor, req.body, now)),
  );

  app.get(
    "/rules/:id",
    {
      schema: {
        tags: ["rules"],
        summary: "Get an earning rule",
        description: "Archived rules too. Any role. Errors: `rule_not_found` (404).",
        params: IdParams,
        response: { 200: RuleSchema, 404: ErrorResponse },
      },
    },
    async (req) => getRule(ctx.db, req.actor.businessId, req.params.id),
  );

  app.patch(
    "/rules/:id",
    {
      config: { role: "manager" },
      schema: {
        tags: ["rules"],
        summary: "Change an earning rule",
        description: `Changes the fields sent (\`null\` clears an optional one); the whole rule is checked again. Manager or owner. Errors: \`rule_not_found\` (404), \`rule_archived\` (409), ${RULE_ERRORS}.`,
        params: IdParams,
        body: RulePatch,
        response: {
          200: RuleSchema,
          400: ErrorResponse,
          404: ErrorResponse,
          409: ErrorResponse,
          422: ErrorResponse,
        },
      },
    },
    async (req) => updateRule(ctx.db, req.actor, req.params.id, req.body, ctx.clock.now()),
  );

  app.delete(
    "/rules/:id",
    {
      config: { role: "manager" },
      schema: {
        tags: ["rules"],
        summary: "Archive an earning rule",
        description:
          "The rule no longer applies; points it earned stay. Archiving twice changes nothing. Manager or owner. Errors: `rule_not_found` (404).",
        params: IdParams,
        response: { 200: RuleSchema, 404: ErrorResponse },
      },
    },
    async (req) => archiveRule(ctx.db, req.actor, req.params.id, ctx.clock.now()),
  );
}
