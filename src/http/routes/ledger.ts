import { z } from "zod";
import type { AppContext } from "../../context.ts";
import { audit } from "../../modules/audit/index.ts";
import { clientKey } from "../../modules/idempotency/index.ts";
import { expireDue } from "../../modules/ledger/index.ts";
import { AppError, transientDatabaseFailure } from "../../shared/errors.ts";
import { EventInput, getEvent, recordEvent } from "../../use-cases/events.ts";
import {
  AdjustmentInput,
  adjustBalance,
  memberCard,
  memberHistory,
  memberTierChanges,
} from "../../use-cases/member-points.ts";
import { RefundInput, recordRefund } from "../../use-cases/refunds.ts";
import type { ZodApp } from "../app.ts";
import {
  AdjustmentResultSchema,
  EventResultSchema,
  EventSchema,
  ExpiryResultSchema,
  HistoryItemSchema,
  MemberCardSchema,
  ReasonCode,
  ReasonParams,
  RefundResultSchema,
  writeResponses,
} from "../responses.ts";
import { ErrorResponse, IdempotencyHeaders, IdParams, PageQuery, page } from "../schemas.ts";
import { sendOnce } from "../send-once.ts";

/** The most members one `POST /v1/points/expire` expires; the answer says `more` when some are left. */
export const EXPIRE_MEMBERS_PER_REQUEST = 1000;

const ExpireQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(EXPIRE_MEMBERS_PER_REQUEST).default(EXPIRE_MEMBERS_PER_REQUEST),
});

// The writes' answers are typed by their use cases; their response schemas (src/http/responses.ts)
// are loose, for the OpenAPI document, so an answer is handed to them as it is (`as never`).

/** Routes over the points and stamps ledgers: refunds, events, a member's card, history and adjustments. */
export async function ledgerRoutes(app: ZodApp, ctx: AppContext): Promise<void> {
  app.post(
    "/refunds",
    {
      schema: {
        tags: ["purchases"],
        summary: "Record a refund or return",
        description:
          "Full or partial, by amount or by returned lines. Points are reversed in proportion (the purchase's own pending points first, then available ones); when they were already spent the balance goes negative only if the program allows it, otherwise the rest is written off (`points_unrecovered`). Points of the refunded share that had already expired are not taken from the member's other points (`points_expired`), but no longer count toward a points tier. A refund that undoes the member's tier qualification takes the tier back at once; the answer's `member` shows the tier and `tier_changed`. `external_id` makes retries safe. Errors: `refund_needs_purchase`, `refund_needs_amount_or_lines`, `purchase_not_found`, `refund_exceeds_purchase`, `refund_line_not_in_purchase`, `refund_quantity_exceeds_purchase`, `idempotency_key_reused`, `idempotency_answer_expired` (410).",
        body: RefundInput,
        response: writeResponses(RefundResultSchema),
      },
    },
    async (req, reply) => {
      const { result, replayed, json } = await recordRefund(ctx, req.actor, req.body);
      return sendOnce(reply, { body: result, replayed, json });
    },
  );

  app.post(
    "/events",
    {
      schema: {
        tags: ["events"],
        summary: "Record a member's custom event",
        description:
          "E.g. `review_written` or `survey_answered`; the earning rules with trigger `event` and this `type` apply. Dated no earlier than the member joined. `external_id` makes retries safe. Errors: `member_required`, `member_not_found`, `occurred_at_in_future`, `occurred_at_before_joined` (422), `member_erased` (409: the member's data was erased), `idempotency_key_reused`, `idempotency_answer_expired` (410).",
        body: EventInput,
        response: writeResponses(EventResultSchema),
      },
    },
    async (req, reply) => {
      const { result, replayed, json } = await recordEvent(ctx, req.actor, req.body);
      return sendOnce(reply, { body: result, replayed, json });
    },
  );

  app.get(
    "/events/:id",
    {
      schema: {
        tags: ["events"],
        summary: "One recorded event",
        description:
          "The event a member's history names as the source of a line (`source_type: event`, `source_id`): its `external_id`, type, properties and date. Any role. Errors: `event_not_found` (404).",
        params: IdParams,
        response: { 200: EventSchema, 404: ErrorResponse },
      },
    },
    async (req) => getEvent(ctx.db, req.actor.businessId, req.params.id),
  );

  app.get(
    "/members/:id/card",
    {
      schema: {
        tags: ["members"],
        summary: "A member's points, stamps and tier",
        description:
          "Available and pending points, points expiring soon with their dates, stamps per card, and the tier with the progress to the next one. Errors: `member_not_found`.",
        params: IdParams,
        response: { 200: MemberCardSchema, 404: ErrorResponse },
      },
    },
    // Typed by the use case; the response schema is loose, for the document (src/http/responses.ts).
    async (req, reply) => reply.send((await memberCard(ctx, req.actor.businessId, req.params.id)) as never),
  );

  app.get(
    "/members/:id/history",
    {
      schema: {
        tags: ["members"],
        summary: "A member's points and stamp history, latest first",
        description:
          "Every entry says why (`reason`), who (`actor`) and from what (`source_type`, `source_id`). In the order things happened (`occurred_at`, latest first; a purchase sent late takes its place by its date), ties by the later recorded first. Errors: `member_not_found`, `invalid_cursor`.",
        params: IdParams,
        querystring: PageQuery.extend({ type: z.enum(["points", "stamps"]).optional() }),
        response: { 200: page(HistoryItemSchema), 400: ErrorResponse, 404: ErrorResponse },
      },
    },
    async (req, reply) =>
      reply.send((await memberHistory(ctx.db, req.actor.businessId, req.params.id, req.query)) as never),
  );

  app.get(
    "/members/:id/tier-changes",
    {
      schema: {
        tags: ["members"],
        summary: "A member's tier changes, latest first",
        description:
          "Every change of the member's tier: from and to which tier (by name, archived tiers too), the metric it was decided on, and why (reached, kept on last year's figure, ended, taken back by a refund or a correction). Any role. Errors: `member_not_found` (404), `invalid_cursor` (400).",
        params: IdParams,
        querystring: PageQuery,
        response: {
          200: page(
            z.object({
              id: z.string(),
              from_tier: z.object({ id: z.string(), name: z.string() }).nullable(),
              to_tier: z.object({ id: z.string(), name: z.string() }).nullable(),
              metric_value: z.int(),
              reason: z.string(),
              reason_code: ReasonCode,
              reason_params: ReasonParams,
              created_at: z.string(),
            }),
          ),
          400: ErrorResponse,
          404: ErrorResponse,
        },
      },
    },
    async (req) => memberTierChanges(ctx.db, req.actor.businessId, req.params.id, req.query),
  );

  app.post(
    "/members/:id/adjustments",
    {
      config: { role: "manager" },
      schema: {
        tags: ["members"],
        summary: "Correct a member's points or stamps by hand",
        description:
          "A new ledger entry with the reason and the staff member; audited. Points count toward a points tier as earned (an upgrade they reach comes at once); points taken off (a mistaken event corrected) take back a tier they alone qualified for, at once, as a refund does. Errors: `member_not_found`, `stamp_card_not_found`, `insufficient_points`, `insufficient_stamps`, `member_erased` (409: the member's data was erased).",
        params: IdParams,
        headers: IdempotencyHeaders,
        body: AdjustmentInput,
        response: writeResponses(AdjustmentResultSchema),
      },
    },
    async (req, reply) => {
      const result = await adjustBalance(
        ctx,
        req.actor,
        req.params.id,
        req.body,
        clientKey(req.headers["idempotency-key"]),
      );
      return sendOnce(reply, result);
    },
  );

  app.post(
    "/points/expire",
    {
      config: { role: "manager" },
      schema: {
        tags: ["members"],
        summary: "Expire due points now",
        description: `Runs this business's expiry now (it also runs on a schedule), for at most \`limit\` members (1–${EXPIRE_MEMBERS_PER_REQUEST}, default ${EXPIRE_MEMBERS_PER_REQUEST}) per request. Answers \`{ lots, points }\`: what expired. \`more: true\` when members with due points are left: call again until it is absent. \`members_failed\` (when not 0): members whose points could not be expired now (their points stay due; the schedule tries again, and the server log names them). Idempotent: points expire once, and two calls at once are safe. Audited (\`points.expiry_run\`, with what expired, \`more\` and \`members_failed\`), under the manager who ran it, also when some members failed; the ledger's entries name \`system:expiry\`, as the schedule's do. Errors: \`validation_failed\` (a \`limit\` that is not a whole number from 1 to ${EXPIRE_MEMBERS_PER_REQUEST}).`,
        querystring: ExpireQuery,
        response: { 200: ExpiryResultSchema },
      },
    },
    async (req) => {
      const now = ctx.clock.now();
      try {
        const run = await expireDue(ctx.db, now, {
          businessId: req.actor.businessId,
          maxMembers: req.query.limit,
        });
        const result = {
          lots: run.lots,
          points: run.points,
          ...(run.more ? { more: true } : {}),
          ...(run.failures.count > 0 ? { members_failed: run.failures.count } : {}),
        };
        if (run.failures.count > 0) {
          try {
            run.failures.throwIfAny(run.members);
          } catch (error) {
            req.log.error({ err: error }, "points expiry failed for some members");
          }
        }
        await ctx.db
          .transaction()
          .execute((tx) => audit(tx, req.actor, now, { action: "points.expiry_run", data: result }));
        return result;
      } catch (error) {
        // The run commits member by member, and its audit record after them: the generic 503
        // ("nothing of it was recorded") would not be true here.
        const busy = transientDatabaseFailure(error);
        if (!busy) throw error;
        throw new AppError(
          503,
          "database_busy",
          `The database gave up during the run (${busy}): points it expired stay expired, and none expire twice. Call again.`,
          { retry_after_seconds: 1 },
        );
      }
    },
  );
}
