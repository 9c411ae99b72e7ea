import { z } from "zod";
import { type Actor, type AppContext, actorLabel } from "../context.ts";
import type { Queryable, Tx } from "../db/database.ts";
import { audit } from "../modules/audit/index.ts";
import { onceInTransaction } from "../modules/idempotency/index.ts";
import { earn, expiresAt, lockAccount } from "../modules/ledger/index.ts";
import { lockMemberByRef } from "../modules/members/index.ts";
import type { ProgramSnapshot } from "../modules/program/snapshot.ts";
import { postStamps } from "../modules/stamps/ledger.ts";
import { settleTier } from "../modules/tiers/metric.ts";
import { datedLastYear } from "../modules/tiers/qualify.ts";
import { dateTimeInput } from "../shared/date-time.ts";
import { conflict, invalid, notFound } from "../shared/errors.ts";
import { newId } from "../shared/ids.ts";
import { FUTURE_TOLERANCE_MS, resolveOccurredAt } from "../shared/time.ts";
import { type MemberSummary, settleMember } from "./member-summary.ts";
import { type Pricing, priceEvent } from "./price-purchase.ts";

const PropertyValue = z.union([z.string().max(500), z.number(), z.boolean()], {
  error: "must be text (up to 500 characters), a number or true/false: not null, a list or an object",
});

export const EventInput = z.strictObject({
  external_id: z
    .string()
    .min(1)
    .max(200)
    .describe("Your id of the event; sending it again never counts it twice"),
  member_id: z.uuid().optional(),
  member_code: z.string().min(4).max(32).optional(),
  type: z.string().regex(/^[a-z][a-z0-9_]{0,63}$/, { error: "must be snake_case, e.g. review_written" }),
  properties: z
    .record(
      z.string().regex(/^[a-z][a-z0-9_]{0,63}$/, {
        error: "a property's name must be snake_case, e.g. stars or visit_count",
      }),
      PropertyValue,
      {
        error: (issue) =>
          issue.code === "invalid_key"
            ? "a property's name must be snake_case, e.g. stars or visit_count"
            : undefined,
      },
    )
    .refine((p) => Object.keys(p).length <= 50, { error: "at most 50 properties" })
    .default({}),
  occurred_at: dateTimeInput().optional(),
});
export type EventInput = z.output<typeof EventInput>;

export interface EventResult {
  event: {
    id: string;
    external_id: string;
    member_id: string;
    type: string;
    properties: Record<string, unknown>;
    occurred_at: string;
    points_earned: number;
  };
  earned: { points: Pricing["points"]; stamps: Pricing["stamps"] };
  member: MemberSummary & { id: string };
}

/**
 * Records a member's custom event (`review_written`, `survey_answered`, …) and applies the event
 * rules for its type. Idempotent by external id.
 *
 * Errors: `member_not_found`, `member_required`, `occurred_at_in_future`, `idempotency_key_reused`.
 */
export async function recordEvent(
  ctx: AppContext,
  actor: Actor,
  input: EventInput,
): Promise<{ result: EventResult; replayed: boolean; json?: string }> {
  const now = ctx.clock.now();
  const { body, replayed, json } = await onceInTransaction(
    ctx.db,
    actor.businessId,
    `event:${input.external_id}`,
    "event.record",
    input,
    now,
    async (tx) => ({ status: 201, body: await record(ctx, tx, actor, input, now) }),
  );
  return { result: body, replayed, ...(json === undefined ? {} : { json }) };
}

async function record(
  ctx: AppContext,
  tx: Tx,
  actor: Actor,
  input: EventInput,
  now: Date,
): Promise<EventResult> {
  if ((input.member_id === undefined) === (input.member_code === undefined)) {
    throw invalid("member_required", "Name the member by member_id or member_code (one of them).");
  }
  const occurredAt = resolveOccurredAt(input.occurred_at, now);
  const snapshot = await ctx.snapshots.load(tx, actor.businessId);
  const locked = await lockMemberByRef(tx, actor.businessId, input);
  if (!locked) throw invalid("member_required", "Name the member by member_id or member_code (one of them).");
  // An erased member's events would keep what the erasure took away (a review's text).
  if (locked.erased_at) {
    throw conflict(
      "member_erased",
      `The member's data was erased at ${locked.erased_at.toISOString()}: no events are recorded for them.`,
    );
  }
  // A member earns for what they do as a member: an event dated years back would open a fresh cap
  // period each time (twelve reviews "written" in 2019, each under its month's cap). A till's clock
  // may run a little behind the server's, which dated the enrolment: the same minutes are allowed.
  if (occurredAt.getTime() < locked.joined_at.getTime() - FUTURE_TOLERANCE_MS) {
    throw invalid(
      "occurred_at_before_joined",
      `The event is dated ${occurredAt.toISOString()}, before the member joined (${locked.joined_at.toISOString()}).`,
      { joined_at: locked.joined_at.toISOString() },
    );
  }
  // Tier rules see the tier the member holds now, as the card shows it: one whose retention has
  // ended is re-evaluated first, and an upgrade reached since it was stored is recorded first.
  const member = await settleTier(tx, snapshot, locked, now);
  const pricing = await priceEvent(
    tx,
    snapshot,
    { ...member, attributes: member.attributes as Record<string, unknown> },
    {
      type: input.type,
      properties: input.properties,
      occurred_at: occurredAt,
    },
  );
  const id = newId(now.getTime());
  await tx
    .insertInto("member_events")
    .values({
      business_id: actor.businessId,
      id,
      external_id: input.external_id,
      member_id: member.id,
      type: input.type,
      properties: JSON.stringify(input.properties),
      occurred_at: occurredAt,
      points_earned: pricing.total_points,
      actor: actorLabel(actor),
      created_at: now,
    })
    .execute();
  const summary = await creditPricing(
    tx,
    snapshot,
    member,
    pricing,
    { actor: actorLabel(actor), source_type: "event", source_id: id, occurred_at: occurredAt },
    now,
  );
  await audit(tx, actor, now, {
    action: "event.recorded",
    targetType: "member",
    targetId: member.id,
    data: {
      event_id: id,
      external_id: input.external_id,
      type: input.type,
      points_earned: pricing.total_points,
      stamps_earned: pricing.stamps.reduce((s, l) => s + l.stamps, 0),
    },
  });
  return {
    event: {
      id,
      external_id: input.external_id,
      member_id: member.id,
      type: input.type,
      properties: input.properties,
      occurred_at: occurredAt.toISOString(),
      points_earned: pricing.total_points,
    },
    earned: { points: pricing.points, stamps: pricing.stamps },
    member: { id: member.id, ...summary },
  };
}

/**
 * Posts what a pricing earned (points into a new lot, stamps), re-evaluates the tier and returns
 * the member's new summary. Shared by events and the signup bonus. Points dated last calendar year
 * (an event synced in January) count for what last year reached, as a purchase's do.
 */
export async function creditPricing(
  tx: Tx,
  snapshot: ProgramSnapshot,
  member: { id: string; tier_id: string | null; tier_expires_at: Date | null },
  pricing: Pricing,
  meta: { actor: string; source_type: string; source_id: string; occurred_at: Date },
  now: Date,
): Promise<MemberSummary> {
  const cfg = snapshot.config.points;
  if (pricing.total_points > 0) {
    const account = await lockAccount(tx, snapshot.businessId, member.id, now);
    await earn(
      tx,
      account,
      pricing.points,
      // Points for events and bonuses are not tied to a return window: available at once.
      {
        ...meta,
        available_at: meta.occurred_at,
        expires_at: expiresAt(meta.occurred_at, cfg.expiry, snapshot.timeZone),
        zone: snapshot.timeZone,
      },
      now,
    );
  }
  await postStamps(tx, snapshot.businessId, member.id, pricing.stamps, { ...meta, kind: "earn" }, now);
  const lastYear = datedLastYear(snapshot.config.tiers.period, meta.occurred_at, now, snapshot.timeZone);
  return (await settleMember(tx, snapshot, member, now, { rewards: false, lastYear })).summary;
}

/**
 * One recorded event, by the id a member's history names as its source (`source_type: event`):
 * its external id, type, properties and date. `404 event_not_found` otherwise, also for another
 * business's event.
 *
 * @example await getEvent(ctx.db, actor.businessId, entry.source_id)
 */
export async function getEvent(db: Queryable, businessId: string, id: string): Promise<EventResult["event"]> {
  const row = await db
    .selectFrom("member_events")
    .select(["id", "external_id", "member_id", "type", "properties", "occurred_at", "points_earned"])
    .where("business_id", "=", businessId)
    .where("id", "=", id)
    .executeTakeFirst();
  if (!row) throw notFound("event", id);
  return {
    ...row,
    properties: row.properties as Record<string, unknown>,
    occurred_at: row.occurred_at.toISOString(),
  };
}
