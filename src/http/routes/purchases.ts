import { z } from "zod";
import { type AppContext, roleAtLeast } from "../../context.ts";
import { forbidden, notFound } from "../../shared/errors.ts";
import { decodeCursor, toPage } from "../../shared/pagination.ts";
import { PurchaseInput, previewPurchase, purchaseDto, recordPurchase } from "../../use-cases/purchases.ts";
import type { ZodApp } from "../app.ts";
import { PreviewSchema, PurchaseResultSchema, PurchaseSchema, writeResponses } from "../responses.ts";
import { ErrorResponse, IdParams, PageQuery, page } from "../schemas.ts";

export async function purchaseRoutes(app: ZodApp, ctx: AppContext): Promise<void> {
  app.post(
    "/purchases",
    {
      schema: {
        tags: ["purchases"],
        summary: "Record a purchase",
        description:
          "Runs the earning rules, posts points and stamps and re-evaluates the tier, in one transaction. Anonymous purchases (no member) are recorded too, for member vs non-member analytics. `external_id` makes the call idempotent: a retry returns the first result with status 200 and header `Idempotent-Replayed: true`. Errors: `validation_failed`, `currency_mismatch`, `member_not_found`, `member_ambiguous`, `location_not_found`, `location_archived`, `occurred_at_in_future`, `items_total_too_large` (422: the lines' prices add up to more than a purchase may be), `points_too_large` (422: the program would give one purchase over 1,000,000,000 points), `idempotency_key_reused` (409: same external_id, different purchase), `member_erased` (409: the member's data was erased, at their request or by staff; their card takes no purchase, so send it without a member; the same purchase recorded before the erasure, sent again, still gets its first answer), `idempotency_answer_expired` (410: the same purchase again after its answer's retention, `ANSWER_RETENTION_DAYS`; it is not recorded twice).",
        body: PurchaseInput,
        response: writeResponses(PurchaseResultSchema),
      },
    },
    async (req, reply) => {
      const { result, replayed, json } = await recordPurchase(ctx, req.actor, req.body);
      if (replayed) reply.header("idempotent-replayed", "true");
      reply.status(replayed ? 200 : 201);
      // The answer as it was stored with the idempotency key: the same bytes, serialized once.
      if (json !== undefined) return reply.type("application/json; charset=utf-8").send(json as never);
      // Typed by the use case; the response schema is loose, for the document (src/http/responses.ts).
      return reply.send(result as never);
    },
  );

  app.post(
    "/purchases/preview",
    {
      schema: {
        tags: ["purchases"],
        summary: "What would this purchase earn?",
        description:
          "Prices a purchase exactly as recording would for the member, and writes nothing. Without `member_id` or `member_code` it prices the purchase for a new member with no purchases yet (what joining would earn: first-purchase rules apply); an anonymous purchase recorded earns nothing. Errors: `validation_failed` (400), `member_not_found`, `location_not_found` (404), `location_archived`, `currency_mismatch`, `occurred_at_in_future`, `items_total_too_large` (422).",
        body: PurchaseInput.omit({ external_id: true }),
        response: {
          200: PreviewSchema,
          400: ErrorResponse,
          404: ErrorResponse,
          409: ErrorResponse,
          422: ErrorResponse,
        },
      },
    },
    async (req, reply) => reply.send((await previewPurchase(ctx, req.actor, req.body)) as never),
  );

  app.get(
    "/purchases",
    {
      schema: {
        tags: ["purchases"],
        summary: "List purchases, newest first",
        description:
          "A page at a time (pass `next_cursor` back as `cursor`). A cashier lists one member's purchases (`member_id`); every purchase of the business, each naming its member, needs the manager role. Errors: `validation_failed`, `invalid_cursor` (400), `forbidden` (403).",
        querystring: PageQuery.extend({ member_id: z.uuid().optional() }),
        response: { 200: page(PurchaseSchema), 400: ErrorResponse, 403: ErrorResponse },
      },
    },
    async (req, reply) => {
      // Every purchase names its member: a cashier paging through them all would page through
      // every customer, which the members list keeps from them too.
      if (!req.query.member_id && !roleAtLeast(req.actor.role, "manager")) {
        throw forbidden(
          "A cashier lists one member's purchases: send member_id. Listing every purchase needs the manager role.",
        );
      }
      const scope = ["purchases", req.actor.businessId, req.query.member_id];
      const before = decodeCursor(req.query.cursor, scope);
      let q = ctx.db
        .selectFrom("purchases")
        .selectAll()
        .where("business_id", "=", req.actor.businessId)
        .orderBy("id", "desc")
        .limit(req.query.limit + 1);
      if (req.query.member_id) q = q.where("member_id", "=", req.query.member_id);
      if (before) q = q.where("id", "<", before);
      return reply.send(toPage(await q.execute(), req.query.limit, purchaseDto, scope) as never);
    },
  );

  app.get(
    "/purchases/:id",
    {
      schema: {
        tags: ["purchases"],
        summary: "One purchase",
        description: "Errors: `purchase_not_found` (404).",
        params: IdParams,
        response: { 200: PurchaseSchema, 404: ErrorResponse },
      },
    },
    async (req, reply) => {
      const row = await ctx.db
        .selectFrom("purchases")
        .selectAll()
        .where("business_id", "=", req.actor.businessId)
        .where("id", "=", req.params.id)
        .executeTakeFirst();
      if (!row) throw notFound("purchase", req.params.id);
      return reply.send(purchaseDto(row) as never);
    },
  );
}
