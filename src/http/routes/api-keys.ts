import { z } from "zod";
import type { AppContext } from "../../context.ts";
import { createApiKey, listApiKeys, revokeApiKey } from "../../modules/access/index.ts";
import { AppError } from "../../shared/errors.ts";
import type { ZodApp } from "../app.ts";
import { ErrorResponse, IdParams, PageQuery, page } from "../schemas.ts";

const ApiKeySchema = z.object({
  id: z.string(),
  name: z.string(),
  role: z.enum(["manager", "cashier"]),
  prefix: z.string().describe("The key's first characters, to recognise it; never the secret"),
  created_at: z.string(),
  last_used_at: z.string().nullable(),
  revoked: z.boolean(),
  revoked_at: z.string().nullable(),
});

/** API keys for integrations (POS, web shop): owners issue and revoke them. */
export async function apiKeyRoutes(app: ZodApp, ctx: AppContext): Promise<void> {
  app.get(
    "/api-keys",
    {
      config: { role: "owner" },
      schema: {
        tags: ["api-keys"],
        summary: "List API keys",
        description:
          "Oldest first, revoked keys included; secrets are never shown. Owner only. Errors: `invalid_cursor` (400).",
        querystring: PageQuery,
        response: { 200: page(ApiKeySchema) },
      },
    },
    async (req) => listApiKeys(ctx.db, req.actor, req.query),
  );

  app.post(
    "/api-keys",
    {
      config: { role: "owner" },
      schema: {
        tags: ["api-keys"],
        summary: "Issue an API key",
        description:
          "Returns the full key (`rk_…`) in `key` this once: store it safely, it cannot be shown again. Send it as `Authorization: Bearer <key>`; it acts with the given role (manager or cashier). Owner only. Takes no `Idempotency-Key` (`400 idempotency_key_not_supported`): the secret is never stored, so a first answer could not be sent again, and a retry that made a second key would leave a live key whose secret nobody kept. After a lost answer, list the keys, revoke the one it made, and issue another.",
        body: z.strictObject({
          name: z.string().trim().min(1).max(120),
          role: z.enum(["manager", "cashier"]),
        }),
        response: { 201: ApiKeySchema.extend({ key: z.string() }), 400: ErrorResponse },
      },
    },
    async (req, reply) => {
      if (req.headers["idempotency-key"] !== undefined) {
        throw new AppError(
          400,
          "idempotency_key_not_supported",
          "Issuing an API key takes no Idempotency-Key: its secret is shown once and never stored, so a first answer could not be sent again. Send the request without the header; after a lost answer, revoke the key it made (GET /v1/api-keys) and issue another.",
        );
      }
      const now = ctx.clock.now();
      const created = await createApiKey(ctx.db, req.actor, req.body, now);
      // Issued here: a till on an address held up by someone's made-up tokens may use it at once.
      ctx.authFailures.noteValid(created.key, now);
      return reply.status(201).send(created);
    },
  );

  app.delete(
    "/api-keys/:id",
    {
      config: { role: "owner" },
      schema: {
        tags: ["api-keys"],
        summary: "Revoke an API key",
        description:
          "The key stops working at once; revoking it again changes nothing. Owner only. Errors: `api_key_not_found` (404).",
        params: IdParams,
        response: { 204: z.null().describe("Revoked"), 404: ErrorResponse },
      },
    },
    async (req, reply) => {
      await revokeApiKey(ctx.db, req.actor, req.params.id, ctx.clock.now());
      ctx.apiKeys.forget(req.actor.businessId, req.params.id);
      return reply.status(204).send(null);
    },
  );
}
