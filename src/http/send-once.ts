import type { FastifyReply } from "fastify";

/**
 * Sends a retryable write's answer. The first time: `status` (201 created, or 200 for a change
 * such as confirming a voucher) and the body through the route's response schema. A replay (the
 * same request again under its key): 200, header `Idempotent-Replayed: true`, and the answer as it
 * was stored, byte for byte — an answer stored by an earlier release need not fit today's
 * response schema (a field added since), and a retry after an upgrade must still get it.
 *
 * @example return sendOnce(reply, await enrollMember(ctx, actor, body, key))
 */
export function sendOnce(
  reply: FastifyReply,
  outcome: { body: unknown; replayed: boolean; json?: string | undefined },
  status: 200 | 201 = 201,
): FastifyReply {
  if (!outcome.replayed) return reply.status(status).send(outcome.body as never);
  reply.header("idempotent-replayed", "true").status(200);
  if (outcome.json !== undefined)
    return reply.type("application/json; charset=utf-8").send(outcome.json as never);
  return reply.send(outcome.body as never);
}
