import { sql } from "kysely";
import { z } from "zod";
import { type Actor, type AppContext, actorLabel } from "../context.ts";
import type { Db } from "../db/database.ts";
import { audit } from "../modules/audit/index.ts";
import { onceInTransaction, type StoredResult } from "../modules/idempotency/index.ts";
import { earn, expiresAt, lockAccount, spend } from "../modules/ledger/index.ts";
import {
  type CreateMemberInput,
  createMemberTx,
  getMemberForUpdate,
  type MemberDto,
} from "../modules/members/index.ts";
import { stampCardsByIds } from "../modules/stamps/cards.ts";
import { postStamps, stampBalances } from "../modules/stamps/ledger.ts";
import { refreshTier, settleTier, tierAfterRefundOf } from "../modules/tiers/metric.ts";
import { AppError, conflict, invalid, notFound } from "../shared/errors.ts";
import { newId } from "../shared/ids.ts";
import { decodeTimeCursor, encodeTimeCursor } from "../shared/pagination.ts";
import { typed } from "../shared/reason.ts";
import { creditPricing } from "./events.ts";
import { type MemberSummary, memberCardSummary, settleMember } from "./member-summary.ts";
import { priceEvent } from "./price-purchase.ts";

/**
 * Enrolls a member and, in the same transaction, applies the signup rules (a welcome bonus).
 * Idempotent with an `Idempotency-Key`.
 */
export async function enrollMember(
  ctx: AppContext,
  actor: Actor,
  input: CreateMemberInput,
  idempotencyKey: string | undefined,
): Promise<StoredResult<MemberDto>> {
  const now = ctx.clock.now();
  return onceInTransaction(
    ctx.db,
    actor.businessId,
    idempotencyKey,
    "member.create",
    input,
    now,
    async (tx) => {
      const member = await createMemberTx(tx, actor, input, now);
      const snapshot = await ctx.snapshots.load(tx, actor.businessId);
      if (snapshot.rules.some((r) => r.trigger === "signup")) {
        // A tier the new member holds at once (threshold 0) is theirs for the signup rules too.
        const held = snapshot.tiers.length
          ? await settleTier(tx, snapshot, await getMemberForUpdate(tx, actor.businessId, member.id), now)
          : { tier_id: null, tier_expires_at: null };
        const subject = {
          id: member.id,
          tier_id: held.tier_id,
          tier_expires_at: held.tier_expires_at,
          attributes: member.attributes,
          first_purchase_at: null,
        };
        // The bonus is for enrolling, now: a join date given from the past (a customer brought in
        // from another system) neither brings back a signup offer that has closed nor makes its
        // points arrive already expired.
        const pricing = await priceEvent(
          tx,
          snapshot,
          subject,
          { type: "signup", properties: {}, occurred_at: now },
          "signup",
        );
        await creditPricing(
          tx,
          snapshot,
          subject,
          pricing,
          { actor: actorLabel(actor), source_type: "signup", source_id: member.id, occurred_at: now },
          now,
        );
        return { status: 201, body: { ...member, tier_id: held.tier_id } };
      }
      return { status: 201, body: member };
    },
  );
}

/**
 * The member's card: points (available, pending, expiring soon), stamps per card and tier with
 * progress. A tier whose retention has ended shows as it will be after the nightly sweep.
 */
export async function memberCard(
  ctx: AppContext,
  businessId: string,
  memberId: string,
): Promise<MemberSummary & { id: string; code: string }> {
  const now = ctx.clock.now();
  const member = await ctx.db
    .selectFrom("members")
    .select(["id", "code", "tier_id", "tier_expires_at"])
    .where("business_id", "=", businessId)
    .where("id", "=", memberId)
    .executeTakeFirst();
  if (!member) throw notFound("member", memberId);
  const snapshot = await ctx.snapshots.load(ctx.db, businessId);
  const summary = await memberCardSummary(ctx.db, snapshot, member, now);
  return { id: member.id, code: member.code, ...summary };
}

export interface HistoryItem {
  id: string;
  type: "points" | "stamps";
  kind: string;
  points: number | null;
  stamps: number | null;
  stamp_card_id: string | null;
  reason: string;
  /** `src/shared/reason.ts`; null: a reason staff typed, or an entry older than the codes. */
  reason_code: string | null;
  reason_params: Record<string, unknown> | null;
  actor: string;
  source_type: string;
  source_id: string;
  rule_id: string | null;
  occurred_at: string;
  created_at: string;
}

/**
 * Every points and stamp entry of a member, latest first by when it happened (a purchase sent
 * late from a till's queue, or imported, takes its place among the others; ties: the later
 * recorded first), each saying why, who and from what.
 */
export async function memberHistory(
  db: Db,
  businessId: string,
  memberId: string,
  query: { limit: number; cursor?: string | undefined; type?: "points" | "stamps" | undefined },
): Promise<{ data: HistoryItem[]; next_cursor: string | null }> {
  await assertMember(db, businessId, memberId);
  const scope = ["history", businessId, memberId, query.type];
  const before = decodeTimeCursor(query.cursor, scope);
  const after = before ? sql`and (occurred_at, id) < (${before.at}::timestamptz, ${before.id}::uuid)` : sql``;
  const parts = [];
  if (query.type !== "stamps") {
    parts.push(sql`select id, 'points' as type, kind, points, null::int as stamps, null::uuid as stamp_card_id, reason, reason_code, reason_params, actor, source_type, source_id, rule_id, occurred_at, created_at
      from ledger_entries where business_id = ${businessId} and member_id = ${memberId} ${after}`);
  }
  if (query.type !== "points") {
    parts.push(sql`select id, 'stamps' as type, kind, null::int as points, stamps, stamp_card_id, reason, reason_code, reason_params, actor, source_type, source_id, rule_id, occurred_at, created_at
      from stamp_entries where business_id = ${businessId} and member_id = ${memberId} ${after}`);
  }
  const rows = await sql<
    Omit<HistoryItem, "occurred_at" | "created_at"> & { occurred_at: Date; created_at: Date }
  >`
    select * from (${sql.join(parts, sql` union all `)}) h order by occurred_at desc, id desc limit ${query.limit + 1}`.execute(
    db,
  );
  const page = rows.rows.slice(0, query.limit);
  const last = page.at(-1);
  return {
    data: page.map((r) => ({
      ...r,
      occurred_at: new Date(r.occurred_at).toISOString(),
      created_at: new Date(r.created_at).toISOString(),
    })),
    next_cursor:
      rows.rows.length > query.limit && last
        ? encodeTimeCursor(new Date(last.occurred_at), last.id, scope)
        : null,
  };
}

export const AdjustmentInput = z
  .strictObject({
    points: z
      .int()
      .min(-1_000_000)
      .max(1_000_000)
      .refine((p) => p !== 0, { error: "must not be 0" })
      .optional(),
    stamp_card_id: z.uuid().optional(),
    stamps: z
      .int()
      .min(-1000)
      .max(1000)
      .refine((s) => s !== 0, { error: "must not be 0" })
      .optional(),
    reason: z.string().trim().min(3, { error: "say why, in at least 3 characters" }).max(500),
  })
  .refine((a) => (a.points !== undefined) !== (a.stamps !== undefined), {
    error: "adjust either points or stamps",
  })
  .refine((a) => (a.stamps === undefined) === (a.stamp_card_id === undefined), {
    error: "stamps need a stamp_card_id",
  });
export type AdjustmentInput = z.output<typeof AdjustmentInput>;

/**
 * A manual correction by staff: a new entry with the reason and the staff member, never an edit.
 * Taking away more points or stamps than the member has is refused.
 *
 * Errors: `member_not_found`, `stamp_card_not_found`, `insufficient_points`, `insufficient_stamps`,
 * `member_erased` (409: the member's data was erased).
 */
export async function adjustBalance(
  ctx: AppContext,
  actor: Actor,
  memberId: string,
  input: AdjustmentInput,
  idempotencyKey: string | undefined,
): Promise<StoredResult<{ id: string; member: MemberSummary & { id: string } }>> {
  const now = ctx.clock.now();
  return onceInTransaction(
    ctx.db,
    actor.businessId,
    idempotencyKey,
    "member.adjust",
    { memberId, input },
    now,
    async (tx) => {
      // The program first, then the member: the order every writer takes them (`SnapshotCache.load`).
      const snapshot = await ctx.snapshots.load(tx, actor.businessId);
      const locked = await getMemberForUpdate(tx, actor.businessId, memberId);
      // An erased member's balance is held by no one: nothing is added to it or taken from it.
      if (locked.erased_at) {
        throw conflict(
          "member_erased",
          `The member's data was erased at ${locked.erased_at.toISOString()}: their balance is not adjusted.`,
          { erased_at: locked.erased_at.toISOString() },
        );
      }
      // The answer shows the tier as it stands now: one whose retention ended is re-evaluated.
      const member = await refreshTier(tx, snapshot, locked, now);
      const id = newId(now.getTime());
      const meta = {
        ...typed(input.reason),
        actor: actorLabel(actor),
        source_type: "adjustment",
        source_id: id,
        occurred_at: now,
      };
      if (input.points !== undefined) {
        const account = await lockAccount(tx, actor.businessId, member.id, now);
        if (input.points > 0) {
          const expiry = expiresAt(now, snapshot.config.points.expiry, snapshot.timeZone);
          await earn(
            tx,
            account,
            [{ points: input.points, ...typed(input.reason), rule_id: null }],
            { ...meta, kind: "adjust", available_at: now, expires_at: expiry, zone: snapshot.timeZone },
            now,
          );
        } else {
          await spend(tx, account, -input.points, { ...meta, kind: "adjust" }, now);
        }
      } else if (input.stamps !== undefined && input.stamp_card_id) {
        // An archived card too: it earns nothing, but its stamps still pay for rewards.
        const card =
          snapshot.stampCards.find((c) => c.id === input.stamp_card_id) ??
          (await stampCardsByIds(tx, actor.businessId, [input.stamp_card_id]))[0];
        if (!card)
          throw invalid("stamp_card_not_found", `No stamp card ${input.stamp_card_id} in this business.`);
        const have = (await stampBalances(tx, actor.businessId, member.id)).get(card.id) ?? 0;
        if (have + input.stamps < 0) {
          throw new AppError(
            409,
            "insufficient_stamps",
            `The member has ${have} stamps on ${card.name}; cannot take ${-input.stamps}.`,
            { stamps: have },
          );
        }
        await postStamps(
          tx,
          actor.businessId,
          member.id,
          [{ stamp_card_id: card.id, stamps: input.stamps, ...typed(input.reason), rule_id: null }],
          { ...meta, kind: "adjust" },
          now,
        );
      }
      await audit(tx, actor, now, {
        action: "member.adjusted",
        targetType: "member",
        targetId: member.id,
        data: { ...input, adjustment_id: id },
      });
      // Points added count toward a points tier at once, as earned; points taken off (a correction
      // of an event recorded on the wrong member) take back a tier they alone qualified for, as a
      // refund does.
      let held: typeof member = member;
      if (input.points !== undefined && input.points < 0 && snapshot.config.tiers.metric === "points") {
        const taken = await tierAfterRefundOf(
          tx,
          snapshot,
          member,
          {
            purchaseAt: now,
            lowered: -input.points,
            cause: { cause: "correction", cause_ref: input.reason },
          },
          now,
        );
        held = { ...member, ...taken.tier };
      }
      const { summary } = await settleMember(tx, snapshot, held, now, { rewards: false });
      return { status: 201, body: { id, member: { id: member.id, ...summary } } };
    },
  );
}

export interface TierChangeItem {
  id: string;
  from_tier: { id: string; name: string } | null;
  to_tier: { id: string; name: string } | null;
  metric_value: number;
  reason: string;
  reason_code: string | null;
  reason_params: Record<string, unknown> | null;
  created_at: string;
}

/**
 * Every change of a member's tier, latest first: from and to which tier (by name, archived tiers
 * too), the metric it was decided on and why ("Reached Gold with 520 points", "Gold taken back:
 * the refund of purchase till-1 leaves 380 points, below Gold's 500", a retention that ended), so
 * "why did Ola lose Gold?" has its answer on the member's page.
 */
export async function memberTierChanges(
  db: Db,
  businessId: string,
  memberId: string,
  query: { limit: number; cursor?: string | undefined },
): Promise<{ data: TierChangeItem[]; next_cursor: string | null }> {
  await assertMember(db, businessId, memberId);
  const scope = ["tier_changes", businessId, memberId];
  const before = decodeTimeCursor(query.cursor, scope);
  let q = db
    .selectFrom("tier_changes as c")
    .leftJoin("tiers as f", (j) =>
      j.onRef("f.business_id", "=", "c.business_id").onRef("f.id", "=", "c.from_tier_id"),
    )
    .leftJoin("tiers as t", (j) =>
      j.onRef("t.business_id", "=", "c.business_id").onRef("t.id", "=", "c.to_tier_id"),
    )
    .select([
      "c.id",
      "c.from_tier_id",
      "f.name as from_name",
      "c.to_tier_id",
      "t.name as to_name",
      "c.metric_value",
      "c.reason",
      "c.reason_code",
      "c.reason_params",
      "c.created_at",
    ])
    .where("c.business_id", "=", businessId)
    .where("c.member_id", "=", memberId);
  if (before) {
    q = q.where(sql<boolean>`(c.created_at, c.id) < (${before.at}::timestamptz, ${before.id}::uuid)`);
  }
  const rows = await q
    .orderBy("c.created_at", "desc")
    .orderBy("c.id", "desc")
    .limit(query.limit + 1)
    .execute();
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  const tier = (id: string | null, name: string | null) => (id === null ? null : { id, name: name ?? "" });
  return {
    data: page.map((r) => ({
      id: r.id,
      from_tier: tier(r.from_tier_id, r.from_name),
      to_tier: tier(r.to_tier_id, r.to_name),
      metric_value: Number(r.metric_value),
      reason: r.reason,
      reason_code: r.reason_code,
      reason_params: r.reason_params as Record<string, unknown> | null,
      created_at: r.created_at.toISOString(),
    })),
    next_cursor: rows.length > query.limit && last ? encodeTimeCursor(last.created_at, last.id, scope) : null,
  };
}

/** 404 `member_not_found` unless the business has this member. */
async function assertMember(db: Db, businessId: string, memberId: string): Promise<void> {
  const exists = await db
    .selectFrom("members")
    .select("id")
    .where("business_id", "=", businessId)
    .where("id", "=", memberId)
    .executeTakeFirst();
  if (!exists) throw notFound("member", memberId);
}
