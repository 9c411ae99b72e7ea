import type { FastifyRequest } from "fastify";

/**
 * Where customers reach the web app, for links they open on their phones (the join link, a card
 * link): the server's `PUBLIC_URL` when set, else the address this request came to (behind a proxy:
 * with TRUST_PROXY) — which for a screen opened on `localhost` or an internal address is not one
 * customers can reach.
 */
export function publicOrigin(req: FastifyRequest, publicUrl: string | null): string {
  return publicUrl ?? `${req.protocol}://${req.host}`;
}
