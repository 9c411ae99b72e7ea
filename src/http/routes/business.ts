import type { FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import type { AppContext } from "../../context.ts";
import {
  bearerToken,
  csrfTokenFor,
  login,
  logout,
  SESSION_COOKIE,
  SESSION_TTL_MS,
  staffDto,
} from "../../modules/access/index.ts";
import {
  businessDto,
  FOLLOW_IN_REQUEST_MS,
  followTimeZoneChanges,
  getBusiness,
  signup,
  timeZoneChange,
  updateBusiness,
} from "../../modules/business/index.ts";
import { ProgramConfig } from "../../modules/program/config.ts";
import { clientNetwork } from "../../shared/failure-limit.ts";
import type { ZodApp } from "../app.ts";
import { Currency, ErrorResponse, IdempotencyHeaders, Locale, TimeZone } from "../schemas.ts";

const Slug = z
  .string()
  .regex(/^[a-z0-9](?:[a-z0-9-]{1,38}[a-z0-9])$/, {
    error: "must be 3–40 lowercase letters, digits or dashes, starting and ending with a letter or digit",
  })
  .describe("The business's handle, used to log in and in join links");
const Email = z.email({ error: "must be an email address" }).max(254);
const Password = z.string().min(10, { error: "must be at least 10 characters" }).max(200);

export const BusinessSchema = z.object({
  id: z.string(),
  slug: z.string(),
  name: z.string(),
  currency: z.string(),
  timezone: z.string(),
  locale: z.string(),
  published_at: z.string().nullable().describe("When the program went live; null while setting up"),
  created_at: z.string(),
});
const Moved = z.object({
  moved: z.number().int(),
  kept_passed: z
    .number()
    .int()
    .describe("kept their end: the same date and time on the new clock had passed"),
});

const TimeZoneChangeSchema = z
  .object({
    from: z.string(),
    to: z.string(),
    requested_at: z.string(),
    done_at: z
      .string()
      .nullable()
      .describe(
        "When the last lot moved; null: lots and tier ends are still moving, a page at a time (the scheduled jobs finish it)",
      ),
    lots: Moved,
    tiers: Moved,
  })
  .describe("The change of time zone this request made, and how far its lots and tier ends have moved");

const StaffSchema = z.object({
  id: z.string(),
  email: z.string(),
  name: z.string(),
  role: z.enum(["owner", "manager", "cashier"]),
  disabled: z.boolean(),
  created_at: z.string(),
});

const SessionMode = z
  .enum(["token", "cookie"])
  .default("token")
  .describe(
    "`token` returns a bearer token; `cookie` (the web app) sets an HttpOnly session cookie and returns a CSRF token to send as `X-CSRF-Token` with every change",
  );
const CsrfToken = z.string().optional().describe("Present for cookie sessions: send it as `X-CSRF-Token`");

const SignupAnswer = z.object({
  business: BusinessSchema,
  owner: StaffSchema,
  token: z.string().optional().describe("The bearer token (absent when `session` is `cookie`)"),
  csrf_token: CsrfToken,
  expires_at: z.string(),
});

/**
 * Hands a new session to the client: as a bearer token in the body, or (for the web app) as an
 * HttpOnly, SameSite=Strict cookie with a CSRF token in the body instead of the secret.
 */
function deliverSession<T extends { token: string; expires_at: string }>(
  req: FastifyRequest,
  reply: FastifyReply,
  mode: "token" | "cookie",
  result: T,
): Omit<T, "token"> & { token?: string; csrf_token?: string } {
  if (mode === "token") return result;
  reply.setCookie(SESSION_COOKIE, result.token, {
    path: "/",
    httpOnly: true,
    sameSite: "strict",
    secure: req.protocol === "https",
    maxAge: SESSION_TTL_MS / 1000,
  });
  const { token, ...rest } = result;
  return { ...rest, csrf_token: csrfTokenFor(token) };
}

export async function businessRoutes(app: ZodApp, ctx: AppContext, publicUrl: string | null): Promise<void> {
  app.post(
    "/businesses",
    {
      config: {
        auth: false,
        rateLimit: {
          max: ctx.limits.signupsPerHour,
          timeWindow: 3_600_000,
          keyGenerator: (req) => clientNetwork(req.ip),
        },
      },
      schema: {
        tags: ["business"],
        summary: "Sign up a business with its owner",
        description:
          "Creates the business, its owner account and a program, and returns a session for the owner. The program is the default one (1 point for about what €1 buys: €1, 5 zł, 500 Ft, ¥200), or the `program` sent, checked as `PUT /v1/program` checks it. Send an `Idempotency-Key` (any text up to 200 characters, new for each sign-up) to make a retry safe: the same key and body within 24 hours log the owner in to the business the first request made (status 200, header `idempotent-replayed: true`, the same business and owner, a new session) instead of `slug_taken`. The key remembers the request without the password, which is checked instead as a log-in checks it. Errors: `validation_failed` (400, also for an empty or too long `Idempotency-Key`), `slug_taken` (409: the handle belongs to another business, or to one signed up without this key), `idempotency_key_reused` (409: the key was used for another sign-up, or the password is not the owner's), `idempotency_answer_expired` (410: the same sign-up more than 24 hours later; log in instead), `pending_outlasts_expiry` (422), `rate_limited` (429).",
        security: [],
        headers: IdempotencyHeaders,
        body: z.strictObject({
          slug: Slug,
          name: z.string().trim().min(1).max(120),
          currency: Currency,
          timezone: TimeZone,
          locale: Locale,
          owner: z.strictObject({
            email: Email,
            name: z.string().trim().min(1).max(120),
            password: Password,
          }),
          program: ProgramConfig.optional(),
          session: SessionMode,
        }),
        response: {
          201: SignupAnswer,
          200: SignupAnswer.describe(
            "The same sign-up again under its `Idempotency-Key`: the business it made, its owner, a new session; header `idempotent-replayed: true`",
          ),
          400: ErrorResponse,
          409: ErrorResponse,
          410: ErrorResponse,
          422: ErrorResponse,
        },
      },
    },
    async (req, reply) => {
      const { session, ...input } = req.body;
      const now = ctx.clock.now();
      const { replayed, ...result } = await signup(ctx.db, input, now, req.headers["idempotency-key"]);
      ctx.authFailures.noteValid(result.token, now);
      if (replayed) reply.header("idempotent-replayed", "true");
      return reply.status(replayed ? 200 : 201).send(deliverSession(req, reply, session, result));
    },
  );

  app.post(
    "/auth/login",
    {
      config: {
        auth: false,
        rateLimit: {
          max: ctx.limits.loginsPerMinute,
          timeWindow: 60_000,
          keyGenerator: (req) => clientNetwork(req.ip),
        },
      },
      schema: {
        tags: ["auth"],
        summary: "Log a staff member in",
        description:
          "Returns a session token. Errors: `invalid_credentials` (401), `rate_limited` (429: too many log-ins from this address in a minute, or 10 failed log-ins to this account in 15 minutes from anywhere).",
        security: [],
        body: z.strictObject({
          business: z.string().min(1).max(40),
          email: z.string().min(1).max(254),
          password: z.string().min(1).max(200),
          session: SessionMode,
        }),
        response: {
          200: z.object({
            token: z.string().optional().describe("The bearer token (absent when `session` is `cookie`)"),
            csrf_token: CsrfToken,
            expires_at: z.string(),
            staff: StaffSchema,
            business_id: z.string(),
          }),
        },
      },
    },
    async (req, reply) => {
      const { session, ...input } = req.body;
      const now = ctx.clock.now();
      // Failures count per account too, so guesses spread over many addresses are held up as well.
      const account = `${input.business.trim().toLowerCase()} ${input.email.trim().toLowerCase()}`;
      const result = await ctx.loginFailures.guard(account, now, undefined, () => login(ctx.db, input, now));
      ctx.authFailures.noteValid(result.token, now);
      return deliverSession(req, reply, session, result);
    },
  );

  app.post(
    "/auth/logout",
    {
      schema: {
        tags: ["auth"],
        summary: "End the current session",
        response: { 204: z.null().describe("Logged out") },
      },
    },
    async (req, reply) => {
      const bearer = bearerToken(req.headers.authorization);
      await logout(ctx.db, bearer ?? req.cookies[SESSION_COOKIE] ?? "", ctx.clock.now());
      if (!bearer) reply.clearCookie(SESSION_COOKIE, { path: "/" });
      return reply.status(204).send(null);
    },
  );

  app.get(
    "/auth/me",
    {
      schema: {
        tags: ["auth"],
        summary: "Who am I",
        response: {
          200: z.object({
            business: BusinessSchema,
            actor: z.object({ kind: z.string(), id: z.string(), role: z.string() }),
            staff: StaffSchema.nullable(),
            join_url: z
              .string()
              .nullable()
              .describe(
                "The business's join page on the server's PUBLIC_URL, `<PUBLIC_URL>/join/<slug>`: the counter shows it as a QR code to a customer who is not a member yet. `null` when PUBLIC_URL is not set: the address this request came to may be an internal one (behind a proxy), so the web app uses the origin it was opened at",
              ),
            csrf_token: CsrfToken,
          }),
        },
      },
    },
    async (req, reply) => {
      // Shaped by this session (and its CSRF token): for this browser only, never for a shared cache.
      reply.header("cache-control", "no-store");
      const business = businessDto(await getBusiness(ctx.db, req.actor.businessId));
      const staff =
        req.actor.kind === "staff"
          ? await ctx.db
              .selectFrom("staff")
              .selectAll()
              .where("business_id", "=", req.actor.businessId)
              .where("id", "=", req.actor.id)
              .executeTakeFirst()
          : undefined;
      return {
        business,
        actor: { kind: req.actor.kind, id: req.actor.id, role: req.actor.role },
        staff: staff ? staffDto(staff) : null,
        join_url: publicUrl ? `${publicUrl}/join/${encodeURIComponent(business.slug)}` : null,
        ...(req.headers.authorization ? {} : { csrf_token: csrfTokenFor(req.cookies[SESSION_COOKIE] ?? "") }),
      };
    },
  );

  app.get(
    "/business",
    { schema: { tags: ["business"], summary: "The business profile", response: { 200: BusinessSchema } } },
    async (req) => businessDto(await getBusiness(ctx.db, req.actor.businessId)),
  );

  app.patch(
    "/business",
    {
      config: { role: "owner" },
      schema: {
        tags: ["business"],
        summary: "Change the business profile",
        description:
          "The currency can change until the first purchase (`currency_locked` after), to correct one chosen by mistake. Every money amount of the program moves with it, by what the two currencies are worth (docs/api.md, \"Correcting the currency\"), rounded to a round amount of the new one: the earn rate (the default one becomes the new currency's default: EUR to JPY gives a point per ¥200), rules' and stamp cards' amounts, spend tier thresholds, and rewards' amounts, names included. One audit record (`program.currency_converted`) lists what moved. A new `timezone` is recorded (audit `business.timezone_changed`) and then followed (docs/api.md, \"Changing the time zone\"): the expiry of every open lot of points (points left, expiry still ahead) and members' calendar-year tier ends move to the same date and time on the new clock (an end of month is midnight in the new zone), a page of 500 per transaction, right after the change commits. The answer's `timezone_change` says how far that got: `done_at` null means the rest moves in the background (the scheduled jobs finish it; audit `business.timezone_followed` when done). A lot or tier whose new end would already have passed keeps its own, so nothing expires on the spot; expired and spent points, release times of pending points, rolling tiers' ends and the history stay as they are. Sending the zone the business already has changes nothing (and goes on with a change still being followed). Errors: `currency_locked`.",
        body: z
          .strictObject({
            name: z.string().trim().min(1).max(120).optional(),
            currency: Currency.optional(),
            timezone: TimeZone.optional(),
            locale: Locale.optional(),
          })
          .refine((b) => Object.keys(b).length > 0, { error: "send at least one field to change" }),
        response: { 200: BusinessSchema.extend({ timezone_change: TimeZoneChangeSchema.optional() }) },
      },
    },
    async (req) => {
      const businessId = req.actor.businessId;
      const updated = await updateBusiness(ctx.db, req.actor, req.body, ctx.clock.now());
      if (req.body.timezone === undefined) return updated.business;
      // The change has committed: its lots and tier ends move now, a page per transaction, for a
      // while; what is left, the scheduled job finishes. A page that fails undoes no change.
      const started = Date.now();
      try {
        await followTimeZoneChanges(ctx.db, businessId, ctx.clock, {
          stop: () => Date.now() - started >= FOLLOW_IN_REQUEST_MS,
        });
      } catch (error) {
        req.log.warn({ err: error }, "time zone change: a page failed; the scheduled job goes on with it");
      }
      if (updated.timeZoneChange === null) return updated.business;
      return {
        ...updated.business,
        timezone_change: await timeZoneChange(ctx.db, businessId, updated.timeZoneChange),
      };
    },
  );
}
