import type { FastifyReply } from "fastify";

/**
 * Sends a retryable write's answer. The first time: `status` (201 created, or 200 for a change
 * such as confirming a voucher) and the body through the route's response schema. A replay (the
 * same request again under its key): 200, header `Idempotent-Replayed: true`, and the stored
 * answer through the same schema, so that its bytes are the first answer's (the schema picks and
 * orders the fields; the answer was stored as the use case built it). An answer stored by an
 * earlier release that no longer fits today's schema (a field added since) is sent as it was
 * stored: a retry after an upgrade must still get it.
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
  if (outcome.json === undefined) return reply.send(outcome.body as never);
  let sent: string;
  try {
    sent = String(reply.serialize(outcome.body));
  } catch {
    sent = outcome.json;
  }
  return reply.type("application/json; charset=utf-8").send(sent as never);
}
