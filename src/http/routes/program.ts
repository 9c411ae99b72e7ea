import { z } from "zod";
import type { AppContext } from "../../context.ts";
import { publishProgram } from "../../modules/business/index.ts";
import { getProgramDto, ProgramConfig, updateProgram } from "../../modules/program/index.ts";
import type { ZodApp } from "../app.ts";
import { ErrorResponse } from "../schemas.ts";
import { BusinessSchema } from "./business.ts";

export const ProgramSchema = z.object({
  version: z
    .int()
    .describe(
      "The settings' version: goes up by one with every change of this document (not with changes of tiers, stamp cards, rules or rewards)",
    ),
  updated_at: z.string(),
  config: ProgramConfig,
});

/** The business's program settings: points, tier metric, refund policy. */
export async function programRoutes(app: ZodApp, ctx: AppContext): Promise<void> {
  app.get(
    "/program",
    {
      schema: {
        tags: ["program"],
        summary: "The program settings",
        description:
          "How points are earned, rounded, held and expired, what qualifies for a tier, and what a refund reverses. The `ETag` header is the version, to send back as `If-Match` with a change. Any role.",
        response: { 200: ProgramSchema },
      },
    },
    async (req, reply) => {
      const program = await getProgramDto(ctx.db, req.actor.businessId);
      return reply.header("etag", `"${program.version}"`).send(program);
    },
  );

  app.put(
    "/program",
    {
      config: { role: "manager" },
      schema: {
        tags: ["program"],
        summary: "Replace the program settings",
        description:
          "Replaces the whole settings document (send every field; GET it first to change one) and raises the version. Send the version it was read at as `If-Match`, so a change made meanwhile (another manager, a template) is not overwritten. Applies to purchases recorded from now on. Manager or owner. Errors: `validation_failed` (400), `forbidden` (403), `program_changed` (409: the settings moved past the `If-Match` version), `pending_outlasts_expiry` (422: points expiring a number of days after they are earned must become spendable before that).",
        headers: z.object({
          "if-match": z
            .string()
            .regex(/^"?\d{1,15}"?$/, { error: "must be the version the settings were read at, e.g. 7" })
            .optional()
            .describe("The version the settings were read at"),
        }),
        body: ProgramConfig,
        response: {
          200: ProgramSchema,
          400: ErrorResponse,
          403: ErrorResponse,
          409: ErrorResponse,
          422: ErrorResponse,
        },
      },
    },
    async (req, reply) => {
      const ifMatch = req.headers["if-match"];
      const expected = ifMatch === undefined ? undefined : Number(ifMatch.replaceAll('"', ""));
      const program = await updateProgram(ctx.db, req.actor, req.body, ctx.clock.now(), expected);
      return reply.header("etag", `"${program.version}"`).send(program);
    },
  );

  app.post(
    "/program/publish",
    {
      config: { role: "owner" },
      schema: {
        tags: ["program"],
        summary: "Put the program live",
        description:
          "Opens the join page and the join link: customers can sign up from then on. Publishing again changes nothing. Owner only. Errors: `forbidden` (403).",
        response: { 200: BusinessSchema, 403: ErrorResponse },
      },
    },
    async (req) => publishProgram(ctx.db, req.actor, ctx.clock.now()),
  );
}
