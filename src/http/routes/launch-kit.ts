import type { FastifyRequest } from "fastify";
import { z } from "zod";
import type { AppContext } from "../../context.ts";
import { POSTER_SIZES } from "../../modules/launch-kit/index.ts";
import { launchKit, posterPdf } from "../../use-cases/poster.ts";
import type { ZodApp } from "../app.ts";
import { publicOrigin } from "../origin.ts";
import { ErrorResponse, Locale } from "../schemas.ts";

const LaunchKitSchema = z.object({
  join_url: z.string().describe("The link customers open or scan to join: `<origin>/join/<slug>`"),
  locale: Locale,
  headline: z.string().describe("The program in one sentence, in `locale`"),
  tiers_line: z.string().nullable().describe("A line naming the tiers; null without tiers"),
  published_at: z.string().nullable().describe("null: the join link opens only after publishing"),
  staff_script: z
    .array(z.string())
    .describe(
      "What staff say at the counter to invite a customer, sentence by sentence, in `locale`: the invitation, the program (as `headline` and `tiers_line`), the gift for joining now (a launch bonus with its end), how to join, and what to show next time",
    ),
  launch_bonus: z
    .object({
      rule_id: z.string().describe("The signup rule (`/v1/rules/{id}`)"),
      name: z.string(),
      points: z.int().describe("Points for joining; 0: stamps instead"),
      stamps: z.int().describe("Stamps for joining on `stamp_card_id`; 0: points instead"),
      stamp_card_id: z.string().nullable(),
      starts_at: z.string().nullable(),
      ends_at: z.string(),
    })
    .nullable()
    .describe(
      "The launch bonus: the first active signup rule without conditions that has an end date not yet reached and gives something; null without one. Create one with `POST /v1/rules` (`trigger: signup`, `starts_at`, `ends_at`).",
    ),
});

const LocaleQuery = Locale.optional().describe("Language of the texts; the business's language by default");

/**
 * The launch kit: the join link, the program in one sentence, a printable poster, a script for
 * the staff and the launch bonus. The link
 * starts with `publicOrigin` (`PUBLIC_URL`, else the address the request came to).
 */
export async function launchKitRoutes(app: ZodApp, ctx: AppContext, publicUrl: string | null): Promise<void> {
  const originOf = (req: FastifyRequest): string => publicOrigin(req, publicUrl);
  app.get(
    "/launch-kit",
    {
      config: { role: "manager" },
      schema: {
        tags: ["launch-kit"],
        summary: "The join link, the program in one sentence, the staff script and the launch bonus",
        description:
          "What the poster says, to preview it, what staff say at the counter, and the launch bonus running or to come. The join link starts with the server's `PUBLIC_URL` when set, else with the address this request came to. Manager or owner. Errors: `validation_failed` (400), `forbidden` (403).",
        querystring: z.strictObject({ locale: LocaleQuery }),
        response: { 200: LaunchKitSchema, 400: ErrorResponse, 403: ErrorResponse },
      },
    },
    async (req) => launchKit(ctx, req.actor, { origin: originOf(req), locale: req.query.locale }),
  );

  app.get(
    "/launch-kit/poster.pdf",
    {
      config: { role: "manager" },
      schema: {
        tags: ["launch-kit"],
        summary: "A printable poster (PDF)",
        description:
          "The business's name, the program in one sentence, a large QR code of the join link and the link in text, on A4 or A5. Manager or owner. Errors: `validation_failed` (400: a size other than a4 or a5, or an unknown locale), `forbidden` (403).",
        querystring: z.strictObject({
          size: z.enum(POSTER_SIZES).default("a4").describe("Paper size"),
          locale: LocaleQuery,
        }),
      },
    },
    async (req, reply) => {
      const pdf = await posterPdf(ctx, req.actor, {
        origin: originOf(req),
        size: req.query.size,
        locale: req.query.locale,
      });
      return reply
        .header("content-type", "application/pdf")
        .header("content-disposition", `attachment; filename="poster-${req.query.size}.pdf"`)
        .header("cache-control", "no-store")
        .send(pdf);
    },
  );
}
