import { z } from "zod";
import type { AppContext } from "../../context.ts";
import { clientKey } from "../../modules/idempotency/index.ts";
import { applyTemplate, listTemplates, TEMPLATE_NAMES, TEMPLATES } from "../../use-cases/templates.ts";
import type { ZodApp } from "../app.ts";
import { ErrorResponse, IdempotencyHeaders, page } from "../schemas.ts";
import { sendOnce } from "../send-once.ts";
import { ProgramSchema } from "./program.ts";
import { RewardSchema } from "./rewards.ts";
import { RuleSchema } from "./rules.ts";
import { StampCardSchema } from "./stamp-cards.ts";
import { TierSchema } from "./tiers.ts";

const TemplateName = z.enum(TEMPLATE_NAMES);

const TemplateResultSchema = z.object({
  template: TemplateName,
  program: ProgramSchema,
  stamp_cards: z.array(StampCardSchema),
  tiers: z.array(TierSchema),
  rules: z.array(RuleSchema),
  rewards: z.array(RewardSchema),
});

const SUMMARIES: Record<(typeof TEMPLATE_NAMES)[number], string> = {
  cafe_stamp_card: "Café stamp card: N stamps on coffee → a free coffee, and a welcome stamp",
  bakery_points: "Bakery points: points per spend, a free treat for points, a birthday gift",
  boutique_tiers: "Boutique tiers: Silver/Gold/Platinum by spend per calendar year, with point multipliers",
  gym_tiers: "Gym tiers: three tiers by visits in 12 months, points per visit, a session for the top tier",
};

/** Starter programs: one call sets up settings, stamp card, tiers, rules and rewards. */
export async function templateRoutes(app: ZodApp, ctx: AppContext): Promise<void> {
  app.get(
    "/program/templates",
    {
      schema: {
        tags: ["program"],
        summary: "List program templates",
        description:
          "Every template with its default parameters, in one page (`next_cursor` is always null: the list has the shape of every other list). The money defaults are in the business's currency and sized to what it is worth: a point for about what €1 buys (`earn_per_minor`: €1, 5 zł, 500 Ft, ¥200), a discount of ten times that for 200 points, boutique tiers at about €500 and €1,500 of yearly spend (200,000 Ft and 600,000 Ft), all round amounts. Any role.",
        response: {
          200: page(z.object({ name: TemplateName, defaults: z.record(z.string(), z.unknown()) })),
        },
      },
    },
    async (req) => ({ data: await listTemplates(ctx.db, req.actor), next_cursor: null }),
  );

  for (const name of TEMPLATE_NAMES) {
    app.post(
      `/program/templates/${name}`,
      {
        config: { role: "manager" },
        schema: {
          tags: ["program"],
          summary: `Apply a template — ${SUMMARIES[name]}`,
          description:
            'Sets the program settings and creates the template\'s stamp card, tiers, earning rules and rewards in one transaction: all of it or nothing. Every parameter has a default; money defaults are in the business\'s currency, as `GET /v1/program/templates` lists them. A template only starts an empty program: it is refused while the business has any active stamp card, tier, rule or reward (archive them first, or change them in the editors). Publishing stays a separate step (`POST /v1/program/publish`). Send an `Idempotency-Key` to make a retry safe: the same key returns the first result with status 200 and header `idempotent-replayed: true`. Manager or owner. Errors: `validation_failed` (400; a check across parameters is an issue with `code: custom` and `params` a client can word: `{reason: "threshold_not_above", below_minor, currency}` for a spend tier, `{reason: "threshold_not_above", below}` for a visits tier, `{reason: "welcome_fills_card", stamps_required}`), `forbidden` (403), `program_not_empty` (409, details {existing: {table: count}}), `idempotency_key_reused` (409).',
          headers: IdempotencyHeaders,
          body: TEMPLATES[name],
          response: {
            200: TemplateResultSchema,
            201: TemplateResultSchema,
            400: ErrorResponse,
            403: ErrorResponse,
            409: ErrorResponse,
          },
        },
      },
      async (req, reply) => {
        const result = await applyTemplate(
          ctx,
          req.actor,
          name,
          req.body,
          clientKey(req.headers["idempotency-key"]),
        );
        return sendOnce(reply, result);
      },
    );
  }
}
