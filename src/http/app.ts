import fastifyCookie from "@fastify/cookie";
import fastifyRateLimit from "@fastify/rate-limit";
import fastifyStatic from "@fastify/static";
import fastifySwagger from "@fastify/swagger";
import fastifySwaggerUi from "@fastify/swagger-ui";
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type RawReplyDefaultExpression,
  type RawRequestDefaultExpression,
  type RawServerDefault,
  type RouteOptions,
} from "fastify";
import {
  hasZodFastifySchemaValidationErrors,
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from "fastify-type-provider-zod";
import { type Actor, type AppContext, type Role, roleAtLeast } from "../context.ts";
import { authenticate, bearerToken, csrfTokenFor, SESSION_COOKIE } from "../modules/access/index.ts";
import { AppError, transientDatabaseFailure } from "../shared/errors.ts";
import { clientNetwork } from "../shared/failure-limit.ts";
import { textProblem } from "../shared/text.ts";
import { AllowedMethods } from "./allowed-methods.ts";
import { parseJsonBody } from "./json-body.ts";
import { logSafeError, logSafeRequest } from "./log-safe.ts";
import { registerRoutes } from "./routes/index.ts";
import { ErrorResponse } from "./schemas.ts";

declare module "fastify" {
  interface FastifyRequest {
    actor: Actor;
  }
  interface FastifyContextConfig {
    /** Public routes set `auth: false`; every other route needs a bearer token. */
    auth?: boolean;
    /** The least role allowed (owner > manager > cashier); cashier when absent. */
    role?: Role;
  }
}

export type App = FastifyInstance;
/** The Fastify instance routes are registered on: Zod schemas type the handlers. */
export type ZodApp = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  ZodTypeProvider
>;

export interface AppOptions {
  logger?: boolean;
  /** Where the log goes (tests read it); standard output when absent. Implies `logger`. */
  logStream?: { write(line: string): void };
  /**
   * Proxies whose X-Forwarded-For is believed (Fastify's `trustProxy`): a number of hops, or their
   * addresses. Never `true`: Fastify would then take the leftmost address, which the client writes.
   */
  trustProxy?: false | number | string[];
  /** Requests per minute per credential (or per IP when anonymous). */
  rateLimitPerMinute?: number;
  /** The web app's build directory (`web/dist`), served at `/`; absent: the API alone. */
  webDist?: string;
  /** Where customers reach the web app (`PUBLIC_URL`), for the join link; absent: the request's host. */
  publicUrl?: string | null;
}

/**
 * What the web app's pages may load: only this origin (plus data/blob images for QR codes and the
 * camera stream for the counter's scanner); never framed by another site.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "img-src 'self' data: blob:",
  "media-src 'self' blob: mediastream:",
  "style-src 'self' 'unsafe-inline'",
  "connect-src 'self'",
  "worker-src 'self'",
  "manifest-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'self'",
  "form-action 'self'",
].join("; ");

const BODY_LIMIT_BYTES = 1_048_576;

/** The API's version, in the OpenAPI document and at GET /v1. */
const API_VERSION = "1.0.0";

/**
 * Builds the HTTP API: one Fastify instance, Zod schemas for validation and for the OpenAPI
 * document, one error shape (`{ error: { code, message, details? } }`) for every failure.
 *
 * @example const app = await buildApp({ db, clock: systemClock }); await app.listen({ port: 3000 })
 */
/** Fastify's `trustProxy` for ours: a number of hops as proxy-addr's function of the hop. */
function trustProxyOf(
  trust: AppOptions["trustProxy"],
): boolean | string[] | ((address: string, hop: number) => boolean) {
  if (typeof trust !== "number") return trust ?? false;
  return (_address, hop) => hop < trust;
}

const MALFORMED_URL = "The URL is not valid: check its percent-encoding (%XX).";

/** Whether a URL's query string decodes: every `%` starts an escape of UTF-8 (`+` is a space). */
function decodes(query: string): boolean {
  if (!query.includes("%")) return true;
  try {
    decodeURIComponent(query.replaceAll("+", " "));
    return true;
  } catch {
    return false;
  }
}

export async function buildApp(ctx: AppContext, options: AppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger:
      options.logger || options.logStream
        ? {
            level: "info",
            ...(options.logStream ? { stream: options.logStream } : {}),
            redact: ["req.headers.authorization", "req.headers.cookie", "body.password"],
            serializers: { err: logSafeError, error: logSafeError, req: logSafeRequest },
          }
        : false,
    bodyLimit: BODY_LIMIT_BYTES,
    trustProxy: trustProxyOf(options.trustProxy),
    ajv: undefined,
    // A URL Fastify cannot even route (bad percent-encoding) still answers in the one error shape.
    frameworkErrors: (error, _req, reply) => {
      const body = toErrorBody(error);
      (reply as FastifyReply).status(body.status).send({ error: body.error });
    },
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.decorateRequest("actor", null as unknown as Actor);
  // Fastify's query parser keeps a bad escape as text (`?code=%ZZ` would look up a member coded
  // "%ZZ"): a query string that does not decode is refused as a path that does not is.
  app.addHook("onRequest", async (req) => {
    const at = req.url.indexOf("?");
    if (at !== -1 && !decodes(req.url.slice(at + 1))) {
      throw new AppError(400, "malformed_url", MALFORMED_URL);
    }
  });
  // The API speaks JSON only: any other body is 415 unsupported_media_type, not a string to validate.
  app.removeContentTypeParser("text/plain");
  // Fastify's JSON parser called a `__proto__` key "not valid JSON"; ours says what is wrong.
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "string" }, (_req, body, done) => {
    try {
      done(null, parseJsonBody(body as string));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
  const allowedMethods = new AllowedMethods();
  app.addHook("onRoute", (route) => allowedMethods.add(route.url, [route.method].flat()));

  await app.register(fastifyCookie);
  await app.register(fastifySwagger, {
    openapi: {
      info: {
        title: "Regulars API",
        description:
          "The loyalty engine of Regulars: programs, members, purchases, the points ledger, stamp cards, tiers and rewards. Every error has the shape `{ error: { code, message, details? } }`.",
        version: API_VERSION,
      },
      components: {
        securitySchemes: {
          bearer: {
            type: "http",
            scheme: "bearer",
            description: "An API key (`rk_…`) or a staff session token (`rs_…`).",
          },
        },
      },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
  });
  // The docs page under a content security policy of its own (its inline scripts by their
  // hashes, no style from elsewhere), over plain HTTP too, framed by nobody, and never sending the
  // document to Swagger's public validator.
  await app.register(fastifySwaggerUi, {
    routePrefix: "/docs",
    staticCSP: true,
    transformStaticCSP: (header) =>
      header
        .replace(" upgrade-insecure-requests;", "")
        .replace(" validator.swagger.io", "")
        .replace("frame-ancestors 'self'", "frame-ancestors 'none'")
        // Swagger UI sets styles from its scripts; a hash would switch 'unsafe-inline' off.
        .replace(/style-src [^;]*;/, "style-src 'self' 'unsafe-inline';"),
    uiConfig: { validatorUrl: null },
  });

  await app.register(fastifyRateLimit, {
    max: options.rateLimitPerMinute ?? 6000,
    timeWindow: 60_000,
    // Per credential, as the request presents it once read (`Bearer  <t>` is `Bearer <t>`), or
    // per address without one.
    keyGenerator: (req) => {
      const token = bearerToken(req.headers.authorization);
      return token ? `bearer:${token}` : clientNetwork(req.ip);
    },
    // Thrown by the plugin, then shaped by the error handler like any other error.
    errorResponseBuilder: (_req, context) =>
      Object.assign(
        new AppError(
          429,
          "rate_limited",
          `Too many requests: this limit allows ${context.max} in its window. Retry in ${Math.max(1, Math.ceil(context.ttl / 1000))} s.`,
          { retry_after_seconds: Math.max(1, Math.ceil(context.ttl / 1000)) },
        ),
        { statusCode: 429 },
      ),
  });

  app.setErrorHandler((error: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
    const body = toErrorBody(error);
    if (body.status === 503) req.log.warn({ err: error }, "database gave up; the client may retry");
    else if (body.status >= 500) req.log.error({ err: error }, "unhandled error");
    // Every 429 and 503 says when to come back, in the header as in its details.
    const retry = (body.error as { details?: { retry_after_seconds?: unknown } }).details
      ?.retry_after_seconds;
    if ((body.status === 429 || body.status === 503) && typeof retry === "number") {
      reply.header("retry-after", String(retry));
    }
    return reply.status(body.status).send({ error: body.error });
  });
  const webDist = options.webDist;
  if (webDist) {
    await app.register(fastifyStatic, {
      root: webDist,
      prefix: "/",
      wildcard: false,
      preCompressed: true,
      setHeaders(res, path) {
        // Hashed file names never change content; everything else is checked on each load.
        res.header(
          "cache-control",
          path.includes("/assets/") ? "public, max-age=31536000, immutable" : "no-cache",
        );
        if (/\.html(\.br|\.gz)?$/.test(path)) {
          res.header("content-security-policy", CONTENT_SECURITY_POLICY);
          res.header("x-content-type-options", "nosniff");
          res.header("referrer-policy", "same-origin");
        }
      },
    });
  }
  // No answer is read as anything but what its content type says (an API answer as a page, say).
  app.addHook("onSend", async (_req, reply) => {
    if (!reply.hasHeader("x-content-type-options")) reply.header("x-content-type-options", "nosniff");
  });
  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split("?")[0] ?? "/";
    const allowed = allowedMethods.of(path);
    // The web app's own routes (/app/…, /counter, /join/…) are pages of one HTML document.
    if (
      webDist &&
      (req.method === "GET" || req.method === "HEAD") &&
      !path.startsWith("/v1/") &&
      !path.startsWith("/docs") &&
      !/\.[a-z0-9]+$/i.test(path)
    ) {
      return reply.sendFile("index.html");
    }
    if (allowed.length > 0) {
      return reply
        .status(405)
        .header("allow", allowed.join(", "))
        .send({
          error: {
            code: "method_not_allowed",
            message: `${path} does not take ${req.method}: it takes ${allowed.join(", ")}.`,
            details: { allowed },
          },
        });
    }
    return reply.status(404).send({
      error: { code: "route_not_found", message: `No route ${req.method} ${path}.` },
    });
  });

  app.get("/health", { config: { auth: false }, schema: { hide: true } }, async () => ({ status: "ok" }));
  // The API's base address, as the server's banner prints it: what it is and where its docs are,
  // rather than the web app's "page not found".
  app.get("/v1", { config: { auth: false }, schema: { hide: true } }, async () => ({
    name: "Regulars API",
    version: API_VERSION,
    docs: "/docs",
    openapi: "/docs/json",
  }));
  await app.register(
    async (api) => {
      // Every /v1 route needs a bearer token unless it says `auth: false`; docs and health are public.
      api.addHook("onRequest", async (req) => {
        const config = req.routeOptions.config;
        if (config.auth === false) return;
        const now = ctx.clock.now();
        const credential = credentialOf(req);
        req.actor = await ctx.authFailures.guard(req.ip, now, credential, () =>
          authenticate(ctx.db, credential, now, ctx.apiKeys),
        );
        const required = config.role ?? "cashier";
        if (!roleAtLeast(req.actor.role, required)) {
          throw new AppError(
            403,
            "forbidden",
            `This needs the ${required} role; you act as ${req.actor.role}.`,
          );
        }
      });
      api.addHook("preValidation", async (req) => refuseWhatNoSchemaChecks(req));
      api.addHook("onRoute", (route) => documentCommonErrors(route));
      await registerRoutes(api.withTypeProvider<ZodTypeProvider>(), ctx, {
        publicUrl: options.publicUrl ?? null,
      });
    },
    { prefix: "/v1" },
  );
  return app;
}

/**
 * Adds to a route's documented answers the errors every route of its kind may give, which come
 * from code no route's schema knows of: a bad request (400, also for a query or path no schema
 * covers), too many requests (429), a body too large or not JSON (413, 415), no or a refused
 * credential (401), a role too low (403), and an id that names nothing (404).
 */
function documentCommonErrors(route: RouteOptions): void {
  const schema = route.schema as
    | { hide?: boolean; response?: Record<string, unknown>; params?: unknown; operationId?: string }
    | undefined;
  if (!schema || schema.hide) return;
  // A name for each operation, as SDK generators want one: `POST /v1/members/:id/card-link` is
  // postMembersByIdCardLink.
  const methods = [route.method].flat();
  schema.operationId ??= operationIdOf(methods[0] ?? "GET", route.url);
  const response = schema.response;
  if (!response) return;
  const add = (status: number) => {
    if (!(String(status) in response)) response[status] = ErrorResponse;
  };
  add(400);
  add(429);
  if (methods.some((m) => m === "POST" || m === "PUT" || m === "PATCH")) {
    add(413);
    add(415);
  }
  const config = (route.config ?? {}) as { auth?: boolean; role?: Role };
  if (config.auth !== false) add(401);
  if (config.role === "manager" || config.role === "owner") add(403);
  if (schema.params) add(404);
}

function operationIdOf(method: string, url: string): string {
  const words = url
    .replace(/^\/v1\//, "")
    .split(/[/.-]/)
    .filter(Boolean)
    .map((part) => (part.startsWith(":") ? `by-${part.slice(1)}` : part))
    .flatMap((part) => part.split(/[-_]/));
  return method.toLowerCase() + words.map((w) => (w[0] ?? "").toUpperCase() + w.slice(1)).join("");
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** A validation failure in the shape Zod's failures take (`validation_failed`, with `issues`). */
function validationFailed(where: string, path: string, message: string): AppError {
  const issue = { in: where, path, message };
  return new AppError(400, "validation_failed", describeIssue(issue), { issues: [issue] });
}

/** One validation issue as the error's message: `Invalid body at "name": …`. */
function describeIssue(issue: { in: string; path: string; message: string }): string {
  return `Invalid ${issue.in}${issue.path ? ` at "${issue.path}"` : ""}: ${issue.message}`;
}

/** How deep a request's JSON may nest: no operation needs more than a handful of levels. */
const MAX_JSON_DEPTH = 32;

/**
 * The first text (a value or a key) PostgreSQL cannot store as sent, with its path (dotted, as in
 * validation issues), or a value nested deeper than `MAX_JSON_DEPTH`.
 */
function badText(value: unknown, path: string, depth = 0): { path: string; problem: string } | undefined {
  if (typeof value === "string") {
    const problem = textProblem(value);
    return problem === undefined ? undefined : { path, problem };
  }
  if (typeof value !== "object" || value === null) return undefined;
  if (depth >= MAX_JSON_DEPTH) {
    return { path, problem: `is nested too deeply: at most ${MAX_JSON_DEPTH} levels of objects and arrays` };
  }
  for (const [key, inner] of Object.entries(value)) {
    const at = path ? `${path}.${key}` : key;
    const problem = textProblem(key);
    if (problem !== undefined) return { path: at, problem };
    const found = badText(inner, at, depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}

const BODY_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/**
 * What the routes' schemas cannot see, refused before validation so it changes nothing:
 *
 * - a NUL character (U+0000) or a lone UTF-16 surrogate anywhere in the body, the query, the path
 *   or the `Idempotency-Key`: PostgreSQL cannot store either as sent, so it would otherwise fail
 *   deep inside a use case (json) or be stored changed (text);
 * - a body nested deeper than `MAX_JSON_DEPTH`;
 * - a body or a query string sent to an operation that takes none: an unknown field is a 400
 *   everywhere, never silently ignored (`{}` and no body at all are the same thing).
 */
function refuseWhatNoSchemaChecks(req: FastifyRequest): void {
  for (const [where, value] of [
    ["body", req.body],
    ["querystring", req.query],
    ["params", req.params],
  ] as const) {
    const bad = badText(value, "");
    if (bad !== undefined) throw validationFailed(where, bad.path, bad.problem);
  }
  const key = req.headers["idempotency-key"];
  const keyProblem = typeof key === "string" ? textProblem(key) : undefined;
  if (keyProblem !== undefined) throw validationFailed("headers", "idempotency-key", keyProblem);
  const schema = req.routeOptions.schema;
  if (!schema?.querystring) {
    const [unknown] = Object.keys(req.query as object);
    if (unknown !== undefined) {
      throw validationFailed(
        "querystring",
        unknown,
        "is not a parameter of this operation, which takes none",
      );
    }
  }
  if (!schema?.body && BODY_METHODS.has(req.method) && req.body !== undefined) {
    const body = req.body;
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
      throw validationFailed("body", "", "this operation takes no body; send none, or {}");
    }
    const [unknown] = Object.keys(body);
    if (unknown !== undefined) {
      throw validationFailed("body", unknown, "is not a field of this operation, which takes no body");
    }
  }
}

/**
 * The token a request presents: a bearer token, or the web app's session cookie. A cookie is sent
 * by the browser on its own, so a change made with it must also carry the session's CSRF token.
 */
function credentialOf(req: FastifyRequest): string {
  const header = req.headers.authorization;
  if (header !== undefined) {
    const token = bearerToken(header);
    if (token === undefined) {
      throw new AppError(401, "unauthorized", "Send credentials as `Authorization: Bearer <token>`.");
    }
    return token;
  }
  const cookie = req.cookies[SESSION_COOKIE];
  if (!cookie) {
    throw new AppError(401, "unauthorized", "Missing credentials. Send `Authorization: Bearer <token>`.");
  }
  if (!SAFE_METHODS.has(req.method) && req.headers["x-csrf-token"] !== csrfTokenFor(cookie)) {
    throw new AppError(
      403,
      "csrf_token_invalid",
      "A change made with the session cookie needs the session's `X-CSRF-Token` header.",
    );
  }
  return cookie;
}

interface ErrorBody {
  status: number;
  error: { code: string; message: string; details?: Record<string, unknown> };
}

function toErrorBody(error: FastifyError): ErrorBody {
  if (error instanceof AppError) {
    return {
      status: error.status,
      error: {
        code: error.code,
        message: error.message,
        ...(error.details ? { details: error.details } : {}),
      },
    };
  }
  if (hasZodFastifySchemaValidationErrors(error)) {
    const issues = error.validation.map((v) => ({
      in: error.validationContext ?? "body",
      path: v.instancePath.replace(/^\//, "").replace(/\//g, "."),
      message: v.message ?? "is invalid",
      // What a client needs to word the issue in its user's language: Zod's issue code and, for
      // a number out of range, its limit.
      ...issueCode(v.keyword, v.params as Record<string, unknown>),
    }));
    const first = issues[0];
    return {
      status: 400,
      error: {
        code: "validation_failed",
        message: first ? describeIssue(first) : "The request is invalid.",
        details: { issues },
      },
    };
  }
  switch (error.code) {
    case "FST_ERR_CTP_INVALID_JSON_BODY":
      return { status: 400, error: { code: "malformed_json", message: "The body is not valid JSON." } };
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return {
        status: 400,
        error: { code: "malformed_json", message: "The body is empty; send a JSON object." },
      };
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return {
        status: 413,
        error: { code: "body_too_large", message: `The body is larger than ${BODY_LIMIT_BYTES} bytes.` },
      };
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return {
        status: 415,
        error: {
          code: "unsupported_media_type",
          message: "Send the body as `Content-Type: application/json`.",
        },
      };
  }
  if (error.code === "FST_ERR_BAD_URL" || error.code === "FST_ERR_ASYNC_CONSTRAINT") {
    return {
      status: 400,
      error: { code: "malformed_url", message: MALFORMED_URL },
    };
  }
  if (error.statusCode === 429) {
    return { status: 429, error: { code: "rate_limited", message: "Too many requests; retry later." } };
  }
  if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
    return { status: error.statusCode, error: { code: "bad_request", message: error.message } };
  }
  const busy = transientDatabaseFailure(error);
  if (busy) {
    return {
      status: 503,
      error: {
        code: "database_busy",
        message: `The database gave up on this request (${busy}); nothing of it was recorded. Send it again (with the same Idempotency-Key or external_id).`,
        details: { retry_after_seconds: 1 },
      },
    };
  }
  return { status: 500, error: { code: "internal_error", message: "Something went wrong on our side." } };
}

/**
 * An issue's code (Zod's: `invalid_type`, `too_small`, `too_big`, `invalid_format`, `custom`…)
 * and, where they apply, the type expected, what was measured (`number`, `string`, `array`) and
 * the limit, so a client can word it itself.
 */
function issueCode(
  keyword: string,
  params: Record<string, unknown> | undefined,
): { code: string; expected?: string; origin?: string; limit?: number; params?: Record<string, unknown> } {
  const limit = params?.minimum ?? params?.maximum;
  // A check of the API's own (a `custom` issue) may say what it refuses, as the template checks
  // do: `params: { reason: "type_needs_value" }`.
  const custom = keyword === "custom" ? params?.params : undefined;
  return {
    code: keyword,
    ...(typeof params?.expected === "string" ? { expected: params.expected } : {}),
    ...(typeof params?.origin === "string" ? { origin: params.origin } : {}),
    ...(typeof limit === "number" || typeof limit === "bigint" ? { limit: Number(limit) } : {}),
    ...(custom && typeof custom === "object" ? { params: custom as Record<string, unknown> } : {}),
  };
}
