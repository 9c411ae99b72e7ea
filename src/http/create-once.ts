import type { FastifyReply, FastifyRequest } from "fastify";
import type { z } from "zod";
import type { Actor, AppContext } from "../context.ts";
import type { Tx } from "../db/database.ts";
import { clientKey, onceInTransaction } from "../modules/idempotency/index.ts";
import { ErrorResponse } from "./schemas.ts";
import { sendOnce } from "./send-once.ts";

/** The answers of a `createOnce` route: 201 created, 200 the same request again, and its errors. */
export function createResponses<T extends z.ZodType>(created: T) {
  return {
    201: created,
    200: created.describe("The same request again: the first answer, with `Idempotent-Replayed: true`"),
    400: ErrorResponse,
    409: ErrorResponse,
    422: ErrorResponse,
  };
}

/**
 * Creates something (a reward, a rule, a stamp card, a tier, a location, a staff account) at most
 * once per `Idempotency-Key`: a retry after a lost answer gets the first one back (200, header
 * `Idempotent-Replayed: true`) instead of a second copy; the same key with another body is a
 * `409 idempotency_key_reused`. Without the header, every request creates.
 *
 * `request` is what identifies the request under its key, the body unless given: a body holding a
 * secret passes itself without it, so that no fast hash of the secret is kept.
 *
 * @example return createOnce(ctx, req, reply, "reward.create", (tx, now) => createRewardInTx(tx, req.actor, req.body, now))
 */
export async function createOnce<T>(
  ctx: AppContext,
  req: FastifyRequest & { actor: Actor },
  reply: FastifyReply,
  operation: string,
  create: (tx: Tx, now: Date) => Promise<T>,
  request: unknown = req.body,
): Promise<FastifyReply> {
  const now = ctx.clock.now();
  const header = req.headers["idempotency-key"];
  const result = await onceInTransaction(
    ctx.db,
    req.actor.businessId,
    clientKey(typeof header === "string" ? header : undefined),
    operation,
    request,
    now,
    async (tx) => ({ status: 201, body: await create(tx, now) }),
  );
  return sendOnce(reply, result);
}
