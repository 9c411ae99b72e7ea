import { sql } from "kysely";
import { type Actor, type AppContext, actorLabel } from "../context.ts";
import type { Db, Tx } from "../db/database.ts";
import { audit } from "../modules/audit/index.ts";
import { FORGOTTEN_REQUEST } from "../modules/idempotency/index.ts";
import {
  getMemberForUpdate,
  MEMBER_CODE_LENGTH,
  type MemberDto,
  memberDto,
  selectMembers,
} from "../modules/members/index.ts";
import { conflict, notFound } from "../shared/errors.ts";
import { randomCode } from "../shared/ids.ts";
import { forCustomer } from "../shared/reason.ts";
import { memberCard } from "./member-points.ts";

/**
 * A member's personal data, for the member's access and erasure requests (GDPR articles 15, 17
 * and 20): everything the business holds about one member in one document, and the erasure that
 * takes the person out of it while the books keep adding up.
 */

/** Everything held about a member, as one JSON document (article 15 access, article 20 portability). */
export interface MemberExport {
  exported_at: string;
  business: { id: string; name: string };
  member: MemberDto;
  card: Awaited<ReturnType<typeof memberCard>>;
  points: unknown[];
  stamps: unknown[];
  purchases: unknown[];
  refunds: unknown[];
  events: unknown[];
  vouchers: unknown[];
  tier_changes: unknown[];
}

/**
 * Who wrote an entry, as the member's own download names them: `staff`, `member`, `system` or
 * `integration` (an API key), without the staff member's or the key's id.
 */
export function customerActor(label: string): "staff" | "member" | "system" | "integration" {
  const kind = label.slice(0, label.indexOf(":"));
  if (kind === "staff" || kind === "member") return kind;
  if (kind === "api_key") return "integration";
  return "system";
}

/**
 * The member's data: the profile, what they hold now, and every entry, purchase, refund, event,
 * voucher and tier change, oldest first. 404 `member_not_found`.
 *
 * `audience: "member"` is the member's own download (`GET /v1/wallet/me/export`): the same
 * document as their card would show it. Reasons go through `forCustomer` (a correction's text
 * and a refund's or a void's note are what staff wrote for themselves), a refund's note is left
 * out, and every entry's `actor` says only what wrote it (`customerActor`), not which staff
 * member or API key. Staff (`audience: "staff"`, the default) get everything as stored.
 *
 * @example const doc = await exportMember(ctx, actor, memberId)
 */
export async function exportMember(
  ctx: AppContext,
  actor: Actor,
  memberId: string,
  audience: "staff" | "member" = "staff",
): Promise<MemberExport> {
  const db = ctx.db;
  const b = actor.businessId;
  const row = await selectMembers(db)
    .where("members.business_id", "=", b)
    .where("members.id", "=", memberId)
    .executeTakeFirst();
  if (!row) throw notFound("member", memberId);
  const business = await db
    .selectFrom("businesses")
    .select(["id", "name"])
    .where("id", "=", b)
    .executeTakeFirstOrThrow();
  const [card, points, stamps, purchases, events, vouchers, tierChanges] = await Promise.all([
    memberCard(ctx, b, memberId),
    db
      .selectFrom("ledger_entries")
      .select([
        "id",
        "kind",
        "points",
        "reason",
        "reason_code",
        "reason_params",
        "actor",
        "source_type",
        "source_id",
        "rule_id",
        "occurred_at",
        "created_at",
      ])
      .where("business_id", "=", b)
      .where("member_id", "=", memberId)
      .orderBy("id")
      .execute(),
    db
      .selectFrom("stamp_entries")
      .select([
        "id",
        "stamp_card_id",
        "kind",
        "stamps",
        "reason",
        "reason_code",
        "reason_params",
        "actor",
        "source_type",
        "source_id",
        "occurred_at",
        "created_at",
      ])
      .where("business_id", "=", b)
      .where("member_id", "=", memberId)
      .orderBy("id")
      .execute(),
    db
      .selectFrom("purchases")
      .select([
        "id",
        "external_id",
        "location_id",
        "amount_minor",
        "currency",
        "items",
        "occurred_at",
        "refunded_minor",
        "points_earned",
        "stamps_earned",
        "created_at",
      ])
      .where("business_id", "=", b)
      .where("member_id", "=", memberId)
      .orderBy("id")
      .execute(),
    db
      .selectFrom("member_events")
      .select(["id", "external_id", "type", "properties", "occurred_at", "points_earned", "created_at"])
      .where("business_id", "=", b)
      .where("member_id", "=", memberId)
      .orderBy("id")
      .execute(),
    db
      .selectFrom("vouchers as v")
      .innerJoin("rewards as r", (j) =>
        j.onRef("r.business_id", "=", "v.business_id").onRef("r.id", "=", "v.reward_id"),
      )
      .select([
        "v.id",
        "v.code",
        "r.name as reward",
        "v.status",
        "v.points_spent",
        "v.stamps_spent",
        "v.expires_at",
        "v.redeemed_at",
        "v.voided_at",
        "v.created_at",
      ])
      .where("v.business_id", "=", b)
      .where("v.member_id", "=", memberId)
      .orderBy("v.id")
      .execute(),
    db
      .selectFrom("tier_changes")
      .select([
        "id",
        "from_tier_id",
        "to_tier_id",
        "metric_value",
        "reason",
        "reason_code",
        "reason_params",
        "created_at",
      ])
      .where("business_id", "=", b)
      .where("member_id", "=", memberId)
      .orderBy("id")
      .execute(),
  ]);
  const purchaseIds = purchases.map((p) => p.id);
  const refunds =
    purchaseIds.length === 0
      ? []
      : await db
          .selectFrom("refunds")
          .select([
            "id",
            "purchase_id",
            "external_id",
            "amount_minor",
            "lines",
            "points_reversed",
            "reason",
            "created_at",
          ])
          .where("business_id", "=", b)
          .where("purchase_id", "in", purchaseIds)
          .orderBy("id")
          .execute();
  const forMember = audience === "member";
  /** An entry as staff read it (as stored) or as the member's own download shows it. */
  const entry = <E extends Reasoned & { actor: string }>({ reason_code, reason_params, ...rest }: E) =>
    forMember
      ? {
          ...rest,
          ...forCustomer({ reason: rest.reason, reason_code, reason_params: paramsOf(reason_params) }),
          actor: customerActor(rest.actor),
        }
      : rest;
  return {
    exported_at: ctx.clock.now().toISOString(),
    business,
    member: memberDto(row),
    card,
    points: points.map(entry),
    stamps: stamps.map(entry),
    purchases,
    // A refund's reason is staff's note: the member's points entries say which purchase it was.
    refunds: forMember ? refunds.map((r) => ({ ...r, reason: null })) : refunds,
    events,
    vouchers,
    tier_changes: tierChanges.map(({ reason_code, reason_params, ...rest }) =>
      forMember
        ? {
            ...rest,
            ...forCustomer({ reason: rest.reason, reason_code, reason_params: paramsOf(reason_params) }),
          }
        : rest,
    ),
  };
}

/**
 * `exportMember`, audited as `member.exported` by whoever asked (`data.by`: `staff` or `member`):
 * who took a copy of a person's data is on record, whether a manager answering an access request
 * or the member downloading it from the card (`walletExport`).
 */
export async function exportMemberAudited(
  ctx: AppContext,
  actor: Actor,
  memberId: string,
  audience: "staff" | "member",
): Promise<MemberExport> {
  const document = await exportMember(ctx, actor, memberId, audience);
  await ctx.db.transaction().execute((tx) =>
    audit(tx, actor, ctx.clock.now(), {
      action: "member.exported",
      targetType: "member",
      targetId: memberId,
      data: { by: audience },
    }),
  );
  return document;
}

const paramsOf = (params: unknown) => (params ?? null) as Record<string, unknown> | null;

/** A stored reason's code and figures (src/shared/reason.ts). */
interface Reasoned {
  reason: string;
  reason_code: string | null;
  reason_params: unknown;
}

/**
 * Erases a member's personal data at their request (article 17), in one transaction: name,
 * email, phone, birthday, external id, custom attributes, the marketing choice and the card link
 * go; the card gets a new code, so the old card and QR find no one; the properties of their
 * custom events and the stored answers to their enrolment (which repeat what they entered) are
 * emptied. What the books need stays: the member's row, by id, with its ledger, purchases,
 * refunds and vouchers, none of which holds a person's data. Audited with the reason, not the
 * data. 404 `member_not_found`; 409 `member_erased` the second time. `alsoInTx` runs in the same
 * transaction, after the erasure (the card's erasure keeps its record for a retry there).
 *
 * @example await eraseMember(ctx, actor, memberId, "asked by email on 3 March")
 */
export async function eraseMember(
  ctx: AppContext,
  actor: Actor,
  memberId: string,
  reason: string,
  alsoInTx?: (tx: Tx, erasedAt: Date) => Promise<void>,
): Promise<MemberDto> {
  const now = ctx.clock.now();
  return ctx.db.transaction().execute(async (tx) => {
    const b = actor.businessId;
    const member = await getMemberForUpdate(tx, b, memberId);
    if (member.erased_at) {
      throw conflict("member_erased", `The member's data was erased at ${member.erased_at.toISOString()}.`);
    }
    const code = await freeCode(tx, b);
    await tx
      .updateTable("members")
      .set({
        code,
        name: null,
        email: null,
        phone: null,
        birthday: null,
        external_id: null,
        attributes: JSON.stringify({}),
        marketing_consent: false,
        consent_updated_at: now,
        card_token_hash: null,
        erased_at: now,
        updated_at: now,
        // What search found them by (name, email, phone folded): gone with the fields it repeats.
        search: "",
      })
      .where("business_id", "=", b)
      .where("id", "=", memberId)
      .execute();
    await tx
      .updateTable("member_events")
      .set({ properties: JSON.stringify({}) })
      .where("business_id", "=", b)
      .where("member_id", "=", memberId)
      .execute();
    await forgetEnrolmentAnswers(tx, b, memberId);
    await forgetEventAnswers(tx, b, memberId);
    await audit(tx, actor, now, {
      action: "member.erased",
      targetType: "member",
      targetId: memberId,
      data: { reason, by: actorLabel(actor) },
    });
    await alsoInTx?.(tx, now);
    const row = await selectMembers(tx)
      .where("members.business_id", "=", b)
      .where("members.id", "=", memberId)
      .executeTakeFirstOrThrow();
    return memberDto(row);
  });
}

/**
 * Empties the stored answers to the member's events: they repeat the event's properties (a
 * review's text, a survey's answers). The keys stay, so the same event sent again is refused
 * (410), not recorded a second time.
 */
async function forgetEventAnswers(tx: Tx, businessId: string, memberId: string): Promise<void> {
  await tx
    .updateTable("idempotency_keys")
    // The fingerprint goes too: a fast hash of the name, e-mail or text (FORGOTTEN_REQUEST).
    .set({ response: null, request_hash: FORGOTTEN_REQUEST })
    .where("business_id", "=", businessId)
    .where("operation", "=", "event.record")
    .where(
      "key",
      "in",
      tx
        .selectFrom("member_events")
        .select(sql<string>`'event:' || external_id`.as("key"))
        .where("business_id", "=", businessId)
        .where("member_id", "=", memberId),
    )
    .execute();
}

/** A member code no member of the business has. */
async function freeCode(tx: Tx, businessId: string): Promise<string> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const code = randomCode(MEMBER_CODE_LENGTH);
    const taken = await tx
      .selectFrom("members")
      .select("id")
      .where("business_id", "=", businessId)
      .where("code", "=", code)
      .executeTakeFirst();
    if (!taken) return code;
  }
  throw new Error("no free member code after 5 attempts");
}

/**
 * Empties the stored answers to the member's enrolment (by staff, an import or the wallet's join
 * page): they repeat the name and contact details, as the requests' fingerprints hash them. The
 * keys stay, so a retry is still refused (410) rather than enrolling the person again.
 */
async function forgetEnrolmentAnswers(tx: Tx | Db, businessId: string, memberId: string): Promise<void> {
  await tx
    .updateTable("idempotency_keys")
    // The fingerprint goes too: a fast hash of the name, e-mail or text (FORGOTTEN_REQUEST).
    .set({ response: null, request_hash: FORGOTTEN_REQUEST })
    .where("business_id", "=", businessId)
    .where("operation", "=", "member.create")
    .where("response", "like", `%"id":"${memberId}"%`)
    .execute();
}
