import type { FastifyRequest } from "fastify";
import { z } from "zod";
import type { AppContext } from "../../context.ts";
import { clientKey } from "../../modules/idempotency/index.ts";
import { RewardType, RewardValue } from "../../modules/rewards/index.ts";
import { AppError } from "../../shared/errors.ts";
import { clientNetwork } from "../../shared/failure-limit.ts";
import {
  authenticateMember,
  issueCardLink,
  JoinInput,
  join,
  publicBusiness,
  publishedBusinessName,
  WalletPatch,
  walletCard,
  walletRedeem,
  walletUpdate,
} from "../../use-cases/wallet.ts";
import type { ZodApp } from "../app.ts";
import { publicOrigin } from "../origin.ts";
import { ReasonCode, ReasonParams } from "../responses.ts";
import {
  ErrorResponse,
  IdempotencyHeaders,
  IdParams,
  POINTS_HELD_FIELDS,
  STAMP_CARD_HELD_FIELDS,
} from "../schemas.ts";
import { sendOnce } from "../send-once.ts";
import { RedemptionSchema } from "./vouchers.ts";
import { cachedIconPng, ICON_SVG, THEME_COLOR } from "./wallet-icons.ts";

/**
 * The customer's wallet: public pages of a published business (join, manifest, icons) and the
 * member's own card, opened with the personal card link's token (`Authorization: Bearer rm_…`).
 */

/** Joins per client IP per hour unless the context says otherwise: a café's Wi-Fi is one IP for all. */
const JOINS_PER_HOUR = 300;
/** Public reads per client IP per minute. */
const PUBLIC_READS_PER_MINUTE = 300;

const SlugParams = z.strictObject({ slug: z.string().min(1).max(60) });

const PublicRewardSchema = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string().nullable(),
  type: RewardType,
  value: RewardValue,
  cost_points: z.int().nullable(),
  stamp_card_id: z.string().nullable(),
  eligible_tier_ids: z.array(z.string()),
  valid_until: z.string().nullable(),
  voucher_valid_days: z.int(),
});

const PublicBusinessSchema = z.object({
  slug: z.string(),
  name: z.string(),
  locale: z.string(),
  currency: z.string(),
  timezone: z.string(),
  program: z.object({
    points: z
      .object({
        earn_points: z.int().describe("Points for every `earn_per_minor` minor units spent"),
        earn_per_minor: z.int(),
        pending_days: z.int().describe("Days before earned points can be spent"),
        earn_per_visit: z
          .int()
          .describe("Points every visit earns from rules, whatever is bought (0: none), on top of the rate"),
      })
      .nullable()
      .describe("null: the program has no points"),
    stamp_cards: z.array(z.object({ id: z.string(), name: z.string(), stamps_required: z.int() })),
    tiers: z
      .object({
        metric: z.enum(["spend", "points", "visits"]),
        levels: z.array(z.object({ id: z.string(), name: z.string(), rank: z.int(), threshold: z.number() })),
      })
      .nullable(),
    rewards: z.array(PublicRewardSchema).describe("The open rewards members can redeem"),
  }),
});

const CardSchema = z.object({
  business: PublicBusinessSchema,
  member: z.object({
    id: z.string(),
    name: z.string().nullable(),
    code: z.string().describe("The member code: the content of the card's QR code"),
    locale: z.string().nullable(),
    marketing_consent: z.boolean(),
    joined_at: z.string(),
  }),
  card: z.object({
    points: z.object(POINTS_HELD_FIELDS),
    stamp_cards: z.array(z.object(STAMP_CARD_HELD_FIELDS)),
    tier: z
      .object({
        current: z
          .object({ id: z.string(), name: z.string(), rank: z.int(), earn_multiplier_bp: z.int() })
          .nullable(),
        expires_at: z.string().nullable(),
        metric: z.enum(["spend", "points", "visits"]),
        metric_value: z.number(),
        next: z
          .object({ id: z.string(), name: z.string(), threshold: z.number(), remaining: z.number() })
          .nullable(),
      })
      .nullable(),
  }),
  rewards: z.array(
    PublicRewardSchema.extend({
      available: z.boolean().describe("The member can redeem it now"),
      blocked: z
        .enum(["tier", "limit", "cost"])
        .nullable()
        // OpenAPI 3.0: a nullable enum lists null among its values, or validators refuse null.
        .meta({ enum: ["tier", "limit", "cost", null] })
        .describe("Why not: not for their tier, holds the most vouchers of it, or needs more"),
      missing_points: z.int(),
      missing_stamps: z.int(),
    }),
  ),
  vouchers: z.array(RedemptionSchema.shape.voucher).describe("The member's newest vouchers"),
  history: z.array(
    z.object({
      id: z.string(),
      type: z.enum(["points", "stamps"]),
      kind: z.string(),
      points: z.int().nullable(),
      stamps: z.int().nullable(),
      stamp_card_id: z.string().nullable(),
      reason: z
        .string()
        .describe(
          "Why, without staff's own notes (a correction's, a refund's or a void's): empty for a correction",
        ),
      reason_code: ReasonCode,
      reason_params: ReasonParams,
      source_type: z.string(),
      source_id: z.string(),
      occurred_at: z.string(),
    }),
  ),
  updated_at: z.string().describe("When this card was read"),
});

const MEMBER_AUTH =
  "Authenticated with the member's personal card link token: `Authorization: Bearer rm_…`. Errors: `unauthorized` (401: no, a wrong or a replaced token).";

const JoinAnswer = z.object({
  member_code: z.string(),
  card_token: z.string().describe("The secret of the personal card link; shown once"),
});

export async function walletRoutes(app: ZodApp, ctx: AppContext, publicUrl: string | null): Promise<void> {
  /** The member the card token names; refused tokens count against the client's address. */
  const memberOf = (req: FastifyRequest) =>
    ctx.authFailures.guard(req.ip, ctx.clock.now(), req.headers.authorization, () =>
      authenticateMember(ctx.db, req.headers.authorization),
    );
  const publicRead = {
    auth: false,
    rateLimit: {
      max: PUBLIC_READS_PER_MINUTE,
      timeWindow: 60_000,
      keyGenerator: (req: { ip: string }) => clientNetwork(req.ip),
    },
  };

  app.get(
    "/public/businesses/:slug",
    {
      config: publicRead,
      schema: {
        tags: ["wallet"],
        summary: "A published business and its program, for the join page",
        description: "Public. Errors: `business_not_found` (404: unknown or not yet published).",
        security: [],
        params: SlugParams,
        response: { 200: PublicBusinessSchema, 404: ErrorResponse },
      },
    },
    async (req) => publicBusiness(ctx, req.params.slug),
  );

  app.post(
    "/public/businesses/:slug/members",
    {
      config: {
        auth: false,
        rateLimit: {
          max: ctx.limits.joinsPerHour ?? JOINS_PER_HOUR,
          timeWindow: 3_600_000,
          keyGenerator: (req) => clientNetwork(req.ip),
        },
      },
      schema: {
        tags: ["wallet"],
        summary: "Join a business's program (the join page)",
        description:
          "Public. Creates the member (signup rules apply) and returns the member code and the personal card token, once: the card link is `/card/<slug>#t=<card_token>`. An email or a phone is required, and the explicit marketing choice. Send an `Idempotency-Key` to make a retry safe: the same key returns the same member (status 200, header `idempotent-replayed: true`) with a fresh card token. Errors: `business_not_found` (404), `contact_required`, `marketing_consent_required`, `validation_failed` (400), `member_exists` (409: that email or phone is already a member — use the card link or ask at the counter), `idempotency_key_reused` (409), `rate_limited` (429).",
        security: [],
        params: SlugParams,
        headers: IdempotencyHeaders,
        body: JoinInput,
        response: {
          201: JoinAnswer,
          200: JoinAnswer.describe("The same request again: the same member, a fresh card token"),
          400: ErrorResponse,
          404: ErrorResponse,
          409: ErrorResponse,
        },
      },
    },
    async (req, reply) => {
      const result = await join(ctx, req.params.slug, req.body, clientKey(req.headers["idempotency-key"]));
      ctx.authFailures.noteValid(result.body.card_token, ctx.clock.now());
      return sendOnce(reply, result);
    },
  );

  app.get(
    "/public/businesses/:slug/manifest.webmanifest",
    {
      config: publicRead,
      schema: {
        tags: ["wallet"],
        summary: "The web app manifest of a business's wallet",
        description:
          "Public. Lets a customer add the business's card to their home screen. Errors: `business_not_found` (404).",
        security: [],
        params: SlugParams,
        response: {
          200: z
            .looseObject({
              name: z.string(),
              short_name: z.string(),
              start_url: z.string(),
              scope: z.string(),
              icons: z.array(z.looseObject({ src: z.string(), sizes: z.string(), type: z.string() })),
            })
            .describe("A web app manifest, sent as `application/manifest+json`"),
          404: ErrorResponse,
        },
      },
    },
    async (req, reply) => {
      const business = await publishedBusinessName(ctx.db, req.params.slug);
      const base = `/card/${encodeURIComponent(business.slug)}`;
      const icons = "/v1/public/wallet-icons";
      return reply
        .type("application/manifest+json; charset=utf-8")
        .header("cache-control", "no-cache")
        .send(
          JSON.stringify({
            name: business.name,
            short_name: business.name.slice(0, 24),
            id: base,
            start_url: base,
            scope: base,
            display: "standalone",
            orientation: "portrait",
            background_color: "#ffffff",
            theme_color: THEME_COLOR,
            icons: [
              // The stamp sits inside the maskable safe zone, so one picture serves both purposes.
              { src: `${icons}/192.png`, sizes: "192x192", type: "image/png", purpose: "any" },
              { src: `${icons}/512.png`, sizes: "512x512", type: "image/png", purpose: "any" },
              { src: `${icons}/192.png`, sizes: "192x192", type: "image/png", purpose: "maskable" },
              { src: `${icons}/512.png`, sizes: "512x512", type: "image/png", purpose: "maskable" },
              { src: `${icons}/icon.svg`, sizes: "any", type: "image/svg+xml" },
            ],
          }) as never,
        );
    },
  );

  app.get(
    "/public/wallet-icons/:file",
    {
      config: publicRead,
      schema: {
        tags: ["wallet"],
        summary: "The wallet's home-screen icons",
        description: "Public. `192.png`, `512.png` or `icon.svg`. Errors: `icon_not_found` (404).",
        security: [],
        params: z.strictObject({ file: z.string().max(20) }),
      },
    },
    async (req, reply) => {
      reply.header("cache-control", "public, max-age=86400");
      if (req.params.file === "icon.svg") return reply.type("image/svg+xml").send(ICON_SVG);
      if (req.params.file === "192.png") return reply.type("image/png").send(cachedIconPng(192));
      if (req.params.file === "512.png") return reply.type("image/png").send(cachedIconPng(512));
      return reply
        .status(404)
        .send({ error: { code: "icon_not_found", message: `No icon ${req.params.file}.` } });
    },
  );

  app.get(
    "/wallet/card",
    {
      config: { auth: false },
      schema: {
        tags: ["wallet"],
        summary: "The member's card",
        description: `The business and program, the member, points (available, pending, expiring), stamps per card, tier and progress, the rewards with what is missing for each, vouchers and recent history. ${MEMBER_AUTH} \`card_of_another_business\` (401): the token is of another business than \`business\`.`,
        security: [{ bearer: [] }],
        querystring: z.strictObject({
          business: z
            .string()
            .max(100)
            .optional()
            .describe(
              "The business's slug. The card is always the token's member's; the wallet's service worker keys its offline copy of the card by this.",
            ),
        }),
        response: { 200: CardSchema, 400: ErrorResponse, 401: ErrorResponse },
      },
    },
    async (req, reply) => {
      const member = await memberOf(req);
      reply.header("cache-control", "no-store");
      const card = await walletCard(ctx, member.businessId, member.memberId);
      // A card link names its business twice, in the page and in the token: a token of another
      // business under this one's page is no card of this business.
      if (req.query.business !== undefined && req.query.business !== card.business.slug) {
        throw new AppError(
          401,
          "card_of_another_business",
          `This card belongs to another business than "${req.query.business}".`,
        );
      }
      return card;
    },
  );

  app.post(
    "/wallet/redemptions",
    {
      config: { auth: false },
      schema: {
        tags: ["wallet"],
        summary: "The member redeems a reward",
        description: `As \`POST /v1/members/{id}/redemptions\`, by the member themself (the ledger and audit log name \`member:<id>\`). Send an \`Idempotency-Key\`: the same key returns the first voucher (status 200, header \`idempotent-replayed: true\`). ${MEMBER_AUTH} Also \`validation_failed\` (400), \`reward_not_found\` (404), \`reward_inactive\`, \`reward_not_eligible\` (422), \`reward_out_of_stock\`, \`reward_limit_reached\`, \`insufficient_points\`, \`insufficient_stamps\`, \`idempotency_key_reused\` (409).`,
        security: [{ bearer: [] }],
        headers: IdempotencyHeaders,
        body: z.strictObject({ reward_id: z.uuid({ error: "must be a UUID" }) }),
        response: {
          200: RedemptionSchema,
          201: RedemptionSchema,
          400: ErrorResponse,
          401: ErrorResponse,
          404: ErrorResponse,
          409: ErrorResponse,
          422: ErrorResponse,
        },
      },
    },
    async (req, reply) => {
      const member = await memberOf(req);
      const result = await walletRedeem(
        ctx,
        member.businessId,
        member.memberId,
        req.body.reward_id,
        clientKey(req.headers["idempotency-key"]),
      );
      return sendOnce(reply, result);
    },
  );

  app.patch(
    "/wallet/me",
    {
      config: { auth: false },
      schema: {
        tags: ["wallet"],
        summary: "The member changes their language or marketing choice",
        description: `${MEMBER_AUTH} Also \`validation_failed\` (400).`,
        security: [{ bearer: [] }],
        body: WalletPatch,
        response: {
          200: z.object({ locale: z.string().nullable(), marketing_consent: z.boolean() }),
          400: ErrorResponse,
          401: ErrorResponse,
        },
      },
    },
    async (req) => {
      const member = await memberOf(req);
      return walletUpdate(ctx, member.businessId, member.memberId, req.body);
    },
  );

  app.post(
    "/members/:id/card-link",
    {
      config: { role: "cashier" },
      schema: {
        tags: ["members"],
        summary: "Give a member a new personal card link",
        description:
          "Issues a new card token, for a customer who lost the link (a new phone, cleared browser data) or never had one (imported, or enrolled by staff); the member's previous link stops working at once. Show `card_url` to the customer, as a QR code to scan. Audited. Any role: the counter does it. Errors: `member_not_found` (404), `member_erased` (409).",
        params: IdParams,
        response: {
          201: z.object({
            member_id: z.string(),
            member_code: z.string(),
            card_token: z.string(),
            card_path: z.string().describe("`/card/<slug>#t=<card_token>`"),
            card_url: z
              .string()
              .describe("`card_path` on the server's `PUBLIC_URL`, else on the address this request came to"),
          }),
          404: ErrorResponse,
          409: ErrorResponse,
        },
      },
    },
    async (req, reply) => {
      const link = await issueCardLink(ctx, req.actor, req.params.id);
      ctx.authFailures.noteValid(link.card_token, ctx.clock.now());
      return reply
        .status(201)
        .send({ ...link, card_url: `${publicOrigin(req, publicUrl)}${link.card_path}` });
    },
  );
}
