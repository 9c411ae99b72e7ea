import type { FastifyRequest } from "fastify";
import { z } from "zod";
import type { AppContext } from "../../context.ts";
import { bearerToken } from "../../modules/access/index.ts";
import { clientKey } from "../../modules/idempotency/index.ts";
import { RewardType, RewardValue } from "../../modules/rewards/index.ts";
import { AppError } from "../../shared/errors.ts";
import { clientNetwork } from "../../shared/failure-limit.ts";
import {
  authenticateMember,
  cardErasure,
  ERASE_CONFIRMATION,
  issueCardLink,
  JoinInput,
  join,
  publicBusiness,
  publishedBusinessName,
  WalletDetailsPatch,
  WalletErase,
  WalletPatch,
  walletCard,
  walletDetails,
  walletErase,
  walletExport,
  walletRedeem,
  walletUpdate,
  walletUpdateDetails,
} from "../../use-cases/wallet.ts";
import type { ZodApp } from "../app.ts";
import { publicOrigin } from "../origin.ts";
import { MemberExportSchema, ReasonCode, ReasonParams } from "../responses.ts";
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
  "Authenticated with the member's personal card link token: `Authorization: Bearer rm_…`. Errors: `unauthorized` (401: no, a wrong or a replaced token), `card_erased` (410: the member deleted this card with `POST /v1/wallet/me/erase`; `details.erased_at` says when).";

/** Downloads of a member's data per card token per hour: a customer takes theirs now and then. */
const EXPORTS_PER_HOUR = 20;

/**
 * Changes of a member's details per card token per hour: a customer corrects theirs now and then,
 * while each answer tells whether an email or a phone belongs to another member (409), which a
 * card must not be able to ask of thousands.
 */
const DETAIL_CHANGES_PER_HOUR = 10;

const DetailsSchema = z.object({
  name: z.string().nullable(),
  email: z.string().nullable(),
  phone: z.string().nullable().describe("E.164, e.g. +31612345678"),
  birthday: z.string().nullable().describe("YYYY-MM-DD"),
  birthday_editable: z
    .boolean()
    .describe(
      "true while no birthday is given: the card may set it, once. After that it is changed at the counter.",
    ),
});

const JoinAnswer = z.object({
  member_code: z.string(),
  card_token: z.string().describe("The secret of the personal card link; shown once"),
});

export async function walletRoutes(app: ZodApp, ctx: AppContext, publicUrl: string | null): Promise<void> {
  /** The member the card token names; refused tokens count against the client's address. */
  const memberOf = (req: FastifyRequest) =>
    ctx.authFailures.guard(req.ip, ctx.clock.now(), req.headers.authorization, async () => {
      try {
        return await authenticateMember(ctx.db, req.headers.authorization);
      } catch (error) {
        // A card its member deleted says so (and is no failed guess, so it is not counted).
        const erased =
          error instanceof AppError && error.status === 401
            ? await cardErasure(ctx.db, req.headers.authorization)
            : null;
        if (!erased) throw error;
        throw new AppError(
          410,
          "card_erased",
          `This card was deleted at its holder's request at ${erased.erased_at}: its data is erased.`,
          { erased_at: erased.erased_at },
        );
      }
    });
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
      const { file } = req.params;
      if (file === "icon.svg" || file === "192.png" || file === "512.png") {
        reply.header("cache-control", "public, max-age=86400");
        if (file === "icon.svg") return reply.type("image/svg+xml").send(ICON_SVG);
        return reply.type("image/png").send(cachedIconPng(file === "192.png" ? 192 : 512));
      }
      return reply.status(404).send({
        error: {
          code: "icon_not_found",
          message: `There is no wallet icon ${JSON.stringify(file)}: the icons are 192.png, 512.png and icon.svg.`,
        },
      });
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
        response: { 200: CardSchema, 400: ErrorResponse, 401: ErrorResponse, 410: ErrorResponse },
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
        description: `As \`POST /v1/members/{id}/redemptions\`, by the member themself (the ledger and audit log name \`member:<id>\`). Send an \`Idempotency-Key\`: the same key returns the first voucher (status 200, header \`idempotent-replayed: true\`). ${MEMBER_AUTH} Also \`validation_failed\` (400), \`reward_not_found\` (404), \`reward_inactive\`, \`reward_not_eligible\` (422), \`reward_out_of_stock\`, \`reward_limit_reached\`, \`insufficient_points\`, \`insufficient_stamps\`, \`idempotency_key_reused\`, \`member_erased\` (409: the card was deleted while this request ran).`,
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
          410: ErrorResponse,
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
          410: ErrorResponse,
        },
      },
    },
    async (req) => {
      const member = await memberOf(req);
      return walletUpdate(ctx, member.businessId, member.memberId, req.body);
    },
  );

  app.get(
    "/wallet/me/details",
    {
      config: { auth: false },
      schema: {
        tags: ["wallet"],
        summary: "The member's own details",
        description: `The name, email, phone and birthday the business holds for the member, for the card's "My details". ${MEMBER_AUTH}`,
        security: [{ bearer: [] }],
        response: { 200: DetailsSchema, 401: ErrorResponse, 410: ErrorResponse },
      },
    },
    async (req, reply) => {
      const member = await memberOf(req);
      reply.header("cache-control", "no-store");
      return walletDetails(ctx, member.businessId, member.memberId);
    },
  );

  app.patch(
    "/wallet/me/details",
    {
      config: {
        auth: false,
        rateLimit: {
          max: DETAIL_CHANGES_PER_HOUR,
          timeWindow: 3_600_000,
          // Counted once the body is read as a change (a malformed one is refused first, free):
          // every change tried counts, a refused one (409, 400 contact_required) too.
          hook: "preHandler",
          // Per card, however the header spells the token; per network without one.
          keyGenerator: (req: FastifyRequest) =>
            `wallet-details:${bearerToken(req.headers.authorization) ?? clientNetwork(req.ip)}`,
        },
      },
      schema: {
        tags: ["wallet"],
        summary: "The member corrects their details",
        description: `Send only the fields to change: \`name\` (not empty), \`email\`, \`phone\`, \`birthday\`; \`null\` clears an email, a phone or (while none is given) nothing. Checked and stored as a staff change (\`PATCH /v1/members/{id}\`): the email lowercased, the phone read in the business's country and stored as E.164, a birthday from 1900 up to today. An email and a phone cannot both be cleared: the card is found again by one. **The birthday is set once from the card**: while none is given the member may set it; after that only the counter changes it (a birthday can bring a treat, and a birthday that moved at will would bring one whenever wanted); sending the birthday already given changes nothing. Audited as \`member.updated\` by \`member:<id>\`. Answers the details as \`GET /v1/wallet/me/details\`. ${MEMBER_AUTH} Also \`validation_failed\` (400: names the field: an unknown field, an empty name, not an email address, a phone that cannot be read, a birthday in the future or not a date, or no field at all), \`contact_required\` (400: the change would leave neither an email nor a phone), \`birthday_already_set\` (409: a birthday is given and this one differs; ask at the counter), \`member_email_taken\`, \`member_phone_taken\` (409: another member of the business has it), \`rate_limited\` (429: at most ${DETAIL_CHANGES_PER_HOUR} changes an hour per card, counted once the body passes the schema, so a refused change counts too (409, \`contact_required\`, a phone that cannot be read); \`details.retry_after_seconds\` and the \`retry-after\` header say when to try again).`,
        security: [{ bearer: [] }],
        body: WalletDetailsPatch,
        response: {
          200: DetailsSchema,
          400: ErrorResponse,
          401: ErrorResponse,
          409: ErrorResponse,
          410: ErrorResponse,
          429: ErrorResponse,
        },
      },
    },
    async (req) => {
      const member = await memberOf(req);
      return walletUpdateDetails(ctx, member.businessId, member.memberId, req.body);
    },
  );

  app.get(
    "/wallet/me/export",
    {
      config: {
        auth: false,
        rateLimit: {
          max: EXPORTS_PER_HOUR,
          timeWindow: 3_600_000,
          // Per card, however the header spells the token; per network without one.
          keyGenerator: (req: FastifyRequest) =>
            `wallet-export:${bearerToken(req.headers.authorization) ?? clientNetwork(req.ip)}`,
        },
      },
      schema: {
        tags: ["wallet"],
        summary: "Download my data (access request)",
        description: `Everything the business holds about the member, as one JSON document to save (\`content-disposition: attachment\`): the staff export \`GET /v1/members/{id}/export\` (GDPR articles 15 and 20) as the card shows it: the profile, the card, and every points and stamps entry, purchase, refund, event, voucher and tier change, oldest first. Each entry's \`actor\` is only \`staff\`, \`member\`, \`system\` or \`integration\` (no staff or API key ids), and reasons read as on the card (\`reason_code\`, \`reason_params\`): the text of a correction staff typed is empty, and a refund's or a void's note is left out (a refund's \`reason\` is null). Audited as \`member.exported\` by \`member:<id>\`. At most ${EXPORTS_PER_HOUR} an hour per card. ${MEMBER_AUTH} Also \`rate_limited\` (429).`,
        security: [{ bearer: [] }],
        response: { 200: MemberExportSchema, 401: ErrorResponse, 410: ErrorResponse, 429: ErrorResponse },
      },
    },
    async (req, reply) => {
      const member = await memberOf(req);
      const document = await walletExport(ctx, member.businessId, member.memberId);
      reply
        .header("cache-control", "no-store")
        .header("content-disposition", `attachment; filename="my-data-${document.member.code}.json"`);
      return reply.send(document as never);
    },
  );

  app.post(
    "/wallet/me/erase",
    {
      config: { auth: false },
      schema: {
        tags: ["wallet"],
        summary: "Delete my card (erasure request)",
        description: `The member erases their own data (GDPR article 17), as staff erasure does (\`POST /v1/members/{id}/erase\`): name, email, phone, birthday, the marketing choice and the card link are erased and the card gets a new code, so this card, its link and its QR code stop working for good. **What is lost**: the points and stamps on the card stay on the business's books by id (so they keep adding up), but no card and no person holds them any more: they cannot be used, and the counter cannot give them back (an erased member gets no new card link). Vouchers are not cancelled, but the card no longer shows them: a voucher's code still works at the counter until it expires, for whoever has it. Send \`{ "confirm": "${ERASE_CONFIRMATION}" }\`. Answers \`{ erased_at }\`. Audited as \`member.erased\` by \`member:<id>\`. **A retry is safe**: the same request again with the same token (whose card no longer opens) answers 200 with the first \`erased_at\` and the header \`idempotent-replayed: true\`; any other call with that token answers 410 \`card_erased\`. ${MEMBER_AUTH} Also \`validation_failed\` (400: no body, an unknown field), \`erase_not_confirmed\` (400: \`confirm\` missing or not \`${ERASE_CONFIRMATION}\`; nothing is erased).`,
        security: [{ bearer: [] }],
        body: WalletErase,
        response: {
          200: z.object({ erased_at: z.string().describe("When the card was erased") }),
          400: ErrorResponse,
          401: ErrorResponse,
          410: ErrorResponse,
        },
      },
    },
    async (req, reply) => {
      const confirmed = req.body.confirm === ERASE_CONFIRMATION;
      let member: { businessId: string; memberId: string };
      try {
        member = await memberOf(req);
      } catch (error) {
        // The retry of an erasure whose answer was lost: its answer again, nothing done.
        if (confirmed && error instanceof AppError && error.code === "card_erased") {
          return sendOnce(reply, { body: { erased_at: error.details?.erased_at }, replayed: true }, 200);
        }
        throw error;
      }
      if (!confirmed) {
        throw new AppError(
          400,
          "erase_not_confirmed",
          `Confirm the erasure with { "confirm": "${ERASE_CONFIRMATION}" }: the card, its points, stamps and vouchers are lost for good.`,
        );
      }
      const result = await walletErase(ctx, member.businessId, member.memberId, req.headers.authorization);
      return sendOnce(reply, result, 200);
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
