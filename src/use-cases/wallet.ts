import { sql } from "kysely";
import { z } from "zod";
import type { Actor, AppContext } from "../context.ts";
import type { Db, Tx } from "../db/database.ts";
import type { BusinessesTable } from "../db/schema.ts";
import { makeToken, parseToken } from "../modules/access/index.ts";
import { audit } from "../modules/audit/index.ts";
import { requestFingerprint, type StoredResult } from "../modules/idempotency/index.ts";
import { pointsPerVisit } from "../modules/launch-kit/offers.ts";
import { getMember, type MemberDto, updateMember } from "../modules/members/index.ts";
import { MemberBirthday, MemberEmail, MemberLocale, MemberPhone } from "../modules/members/schema.ts";
import type { ProgramSnapshot } from "../modules/program/snapshot.ts";
import {
  listMemberVouchers,
  type RewardCandidate,
  rewardCandidatesSql,
  type VoucherDto,
} from "../modules/rewards/index.ts";
import type { RewardType, RewardValue } from "../modules/rewards/schema.ts";
import { stampBalances } from "../modules/stamps/ledger.ts";
import { AppError, conflict } from "../shared/errors.ts";
import { sha256 } from "../shared/ids.ts";
import { forCustomer } from "../shared/reason.ts";
import { eraseMember, exportMemberAudited, type MemberExport } from "./member-data.ts";
import { enrollMember, memberCard, memberHistory } from "./member-points.ts";
import type { MemberSummary } from "./member-summary.ts";
import { type RedemptionResult, redeemReward } from "./redemptions.ts";

/**
 * The customer's wallet: the public join page of a published business, and the member's own card
 * opened with a personal card link (`rm_…` token; only its SHA-256 is stored on the member).
 */

/** A reward as a customer sees it in the catalog. */
export interface PublicReward {
  id: string;
  name: string;
  description: string | null;
  type: RewardType;
  value: RewardValue;
  cost_points: number | null;
  stamp_card_id: string | null;
  eligible_tier_ids: string[];
  valid_until: string | null;
  voucher_valid_days: number;
}

/** What the join page and the card show about a business and its program, in customer terms. */
export interface PublicBusiness {
  slug: string;
  name: string;
  locale: string;
  currency: string;
  timezone: string;
  program: {
    points: {
      /** Points per `earn_per_minor` spent; 0: points come from rules only (a gym's, per visit). */
      earn_points: number;
      earn_per_minor: number;
      /** Points every visit earns from the rules whatever is bought (`pointsPerVisit`); 0: none. */
      earn_per_visit: number;
      pending_days: number;
    } | null;
    stamp_cards: { id: string; name: string; stamps_required: number }[];
    tiers: {
      metric: "spend" | "points" | "visits";
      levels: { id: string; name: string; rank: number; threshold: number }[];
    } | null;
    rewards: PublicReward[];
  };
}

export const UNKNOWN_BUSINESS = (slug: string) =>
  new AppError(404, "business_not_found", `No published business "${slug}".`);

async function publishedBusiness(db: Db | Tx, slug: string): Promise<BusinessesTable> {
  const row = await db.selectFrom("businesses").selectAll().where("slug", "=", slug).executeTakeFirst();
  if (!row || row.published_at === null) throw UNKNOWN_BUSINESS(slug);
  return row;
}

/** The open rewards of the business: active, not archived, within their dates, in stock. */
export async function openRewards(db: Db | Tx, businessId: string, now: Date): Promise<PublicReward[]> {
  const rows = await db
    .selectFrom("rewards")
    .selectAll()
    .where("business_id", "=", businessId)
    .where("active", "=", true)
    .where("archived_at", "is", null)
    .where((eb) => eb.or([eb("valid_from", "is", null), eb("valid_from", "<=", now)]))
    .where((eb) => eb.or([eb("valid_until", "is", null), eb("valid_until", ">", now)]))
    .where((eb) => eb.or([eb("stock", "is", null), eb("stock", ">", 0)]))
    .orderBy(sql`cost_points nulls last`)
    .orderBy("id")
    .execute();
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    description: r.description,
    type: r.type as RewardType,
    value: r.value as RewardValue,
    cost_points: r.cost_points,
    stamp_card_id: r.stamp_card_id,
    eligible_tier_ids: r.eligible_tier_ids as string[],
    valid_until: r.valid_until?.toISOString() ?? null,
    voucher_valid_days: r.voucher_valid_days,
  }));
}

function describeProgram(
  business: BusinessesTable,
  snapshot: ProgramSnapshot,
  rewards: PublicReward[],
  now: Date,
): PublicBusiness {
  const points = snapshot.config.points;
  return {
    slug: business.slug,
    name: business.name,
    locale: business.locale,
    currency: business.currency,
    timezone: business.timezone,
    program: {
      points: points.enabled
        ? {
            earn_points: points.earn_points,
            earn_per_minor: points.earn_per_minor,
            earn_per_visit: pointsPerVisit(snapshot.rules, points.enabled, now),
            pending_days: points.pending_days,
          }
        : null,
      stamp_cards: snapshot.stampCards.map((c) => ({
        id: c.id,
        name: c.name,
        stamps_required: c.stamps_required,
      })),
      tiers:
        snapshot.tiers.length > 0
          ? {
              metric: snapshot.config.tiers.metric,
              levels: snapshot.tiers.map((t) => ({
                id: t.id,
                name: t.name,
                rank: t.rank,
                threshold: t.threshold,
              })),
            }
          : null,
      rewards,
    },
  };
}

/** The public face of a published business. 404 `business_not_found` otherwise. */
export async function publicBusiness(ctx: AppContext, slug: string): Promise<PublicBusiness> {
  const business = await publishedBusiness(ctx.db, slug);
  const snapshot = await ctx.snapshots.load(ctx.db, business.id);
  const now = ctx.clock.now();
  return describeProgram(business, snapshot, await openRewards(ctx.db, business.id, now), now);
}

/** The business's name, for its web app manifest. 404 `business_not_found` when not published. */
export async function publishedBusinessName(db: Db, slug: string): Promise<{ name: string; slug: string }> {
  const business = await publishedBusiness(db, slug);
  return { name: business.name, slug: business.slug };
}

const Name = z.string().trim().min(1, { error: "must not be empty" }).max(120);

/**
 * The join form. `marketing_consent` must be an explicit choice; an email or a phone (or both)
 * identifies the member. Checked in `join` so each failure has its own code.
 */
export const JoinInput = z.strictObject({
  name: Name,
  email: MemberEmail.nullish(),
  phone: MemberPhone.nullish(),
  birthday: MemberBirthday.nullish(),
  locale: MemberLocale.optional(),
  marketing_consent: z.boolean({ error: "must be true or false" }).optional(),
});
export type JoinInput = z.output<typeof JoinInput>;

export interface JoinResult {
  member_code: string;
  card_token: string;
}

/** The actor of what a member does on their own card: `member:<id>` on ledger and audit rows. */
export function memberActor(businessId: string, memberId: string): Actor {
  return { businessId, kind: "member", id: memberId, role: "cashier" };
}

/**
 * A customer joins a published business from its join page: the member is created (signup rules
 * apply) and gets a personal card link, returned once. With an `Idempotency-Key` a retry returns
 * the same member with a fresh card link (the first one may never have arrived; it stops working).
 *
 * Errors: `business_not_found` (404), `contact_required`, `marketing_consent_required` (400),
 * `member_exists` (409), `validation_failed` (400, e.g. a birthday in the future).
 */
export async function join(
  ctx: AppContext,
  slug: string,
  input: JoinInput,
  idempotencyKey: string | undefined,
): Promise<{ body: JoinResult; replayed: boolean }> {
  const business = await publishedBusiness(ctx.db, slug);
  if (input.marketing_consent === undefined) {
    throw new AppError(
      400,
      "marketing_consent_required",
      "Choose yes or no to marketing messages: `marketing_consent` is required.",
    );
  }
  if (!input.email && !input.phone) {
    throw new AppError(400, "contact_required", "Give an email address or a phone number (or both).");
  }
  // The customer joins by themselves; who they are is known once the member exists.
  const actor: Actor = { businessId: business.id, kind: "member", id: "self", role: "cashier" };
  let result: Awaited<ReturnType<typeof enrollMember>>;
  try {
    result = await enrollMember(
      ctx,
      actor,
      {
        name: input.name,
        email: input.email ?? null,
        phone: input.phone ?? null,
        birthday: input.birthday ?? null,
        // None chosen: the business's language, whichever it is when the member is written to.
        locale: input.locale ?? null,
        marketing_consent: input.marketing_consent,
      },
      idempotencyKey === undefined ? undefined : `join:${idempotencyKey}`,
    );
  } catch (error) {
    if (
      error instanceof AppError &&
      (error.code === "member_email_taken" || error.code === "member_phone_taken")
    ) {
      throw new AppError(
        409,
        "member_exists",
        "You are already a member. Open your card with your personal card link, or ask at the counter for a new one.",
      );
    }
    throw error;
  }
  const token = await rotateCardToken(ctx.db, business.id, result.body.id);
  return { body: { member_code: result.body.code, card_token: token }, replayed: result.replayed };
}

/** Gives the member a new card link; the previous one stops working at once. */
export async function rotateCardToken(db: Db | Tx, businessId: string, memberId: string): Promise<string> {
  const token = makeToken("rm", businessId);
  const row = await db
    .updateTable("members")
    .set({ card_token_hash: sha256(token) })
    .where("business_id", "=", businessId)
    .where("id", "=", memberId)
    .returning("id")
    .executeTakeFirst();
  if (!row) throw new AppError(404, "member_not_found", `No member with id ${memberId} in this business.`);
  return token;
}

/**
 * Staff hand a customer their card link again (e.g. a new phone): a new token, audited; the old
 * link stops working. 404 `member_not_found`.
 */
export async function issueCardLink(
  ctx: AppContext,
  actor: Actor,
  memberId: string,
): Promise<{ member_id: string; member_code: string; card_token: string; card_path: string }> {
  const now = ctx.clock.now();
  return ctx.db.transaction().execute(async (tx) => {
    const member = await tx
      .selectFrom("members as m")
      .innerJoin("businesses as b", "b.id", "m.business_id")
      .select(["m.id", "m.code", "m.erased_at", "b.slug"])
      .where("m.business_id", "=", actor.businessId)
      .where("m.id", "=", memberId)
      .forUpdate("m")
      .executeTakeFirst();
    if (!member)
      throw new AppError(404, "member_not_found", `No member with id ${memberId} in this business.`);
    // An erased member is no one any more: a card link would hand their remaining points to whoever holds it.
    if (member.erased_at)
      throw new AppError(
        409,
        "member_erased",
        `The member's data was erased at ${member.erased_at.toISOString()}.`,
      );
    const token = await rotateCardToken(tx, actor.businessId, member.id);
    await audit(tx, actor, now, {
      action: "member.card_link_issued",
      targetType: "member",
      targetId: member.id,
    });
    return {
      member_id: member.id,
      member_code: member.code,
      card_token: token,
      card_path: `/card/${member.slug}#t=${token}`,
    };
  });
}

const unauthorized = () =>
  new AppError(
    401,
    "unauthorized",
    "This card link is not valid (any more). Ask at the counter for a new one.",
  );

/** The card token of an `Authorization: Bearer rm_…` header, parsed; null for anything else. */
function cardTokenOf(authorization: string | undefined): { businessId: string; hash: string } | null {
  if (!authorization?.startsWith("Bearer ")) return null;
  const parsed = parseToken(authorization.slice("Bearer ".length).trim());
  return parsed?.kind === "rm" ? parsed : null;
}

/** The member a card token belongs to; 401 `unauthorized` for anything else. */
export async function authenticateMember(
  db: Db,
  authorization: string | undefined,
): Promise<{ businessId: string; memberId: string }> {
  const parsed = cardTokenOf(authorization);
  if (!parsed) throw unauthorized();
  const member = await db
    .selectFrom("members")
    .select("id")
    .where("business_id", "=", parsed.businessId)
    .where("card_token_hash", "=", parsed.hash)
    .executeTakeFirst();
  if (!member) throw unauthorized();
  return { businessId: parsed.businessId, memberId: member.id };
}

/** A reward on the card, with whether the member can take it now and, if not, what is missing. */
export interface CardReward extends PublicReward {
  available: boolean;
  /** Why not: `tier` (not for their tier), `limit` (holds the most vouchers of it), `cost` (needs more). */
  blocked: "tier" | "limit" | "cost" | null;
  missing_points: number;
  missing_stamps: number;
}

export interface HistoryLine {
  id: string;
  type: "points" | "stamps";
  kind: string;
  points: number | null;
  stamps: number | null;
  stamp_card_id: string | null;
  /**
   * Why, as the card may tell the member: a coded reason without staff's notes; empty, with a
   * null code, for what staff typed (a correction), which is not the customer's to read.
   */
  reason: string;
  reason_code: string | null;
  reason_params: Record<string, unknown> | null;
  /** What it came from (`purchase`, `voucher`, `signup`, …) and its id: lines of one visit share it. */
  source_type: string;
  source_id: string;
  occurred_at: string;
}

export interface WalletCard {
  business: PublicBusiness;
  member: {
    id: string;
    name: string | null;
    code: string;
    locale: string | null;
    marketing_consent: boolean;
    joined_at: string;
  };
  card: MemberSummary;
  rewards: CardReward[];
  vouchers: VoucherDto[];
  history: HistoryLine[];
  updated_at: string;
}

const HISTORY_LINES = 40;
/** Used, expired and voided vouchers shown: the latest. Every voucher still valid is shown. */
const PAST_VOUCHERS_SHOWN = 20;
/** A bound on the valid vouchers read, far above what a member holds. */
const VALID_VOUCHERS_READ = 200;

/** Everything the member's card shows, read in a few statements. */
export async function walletCard(ctx: AppContext, businessId: string, memberId: string): Promise<WalletCard> {
  const now = ctx.clock.now();
  const [business, member, card, snapshot, rewards, candidates, valid, latest, history, stamps] =
    await Promise.all([
      ctx.db.selectFrom("businesses").selectAll().where("id", "=", businessId).executeTakeFirstOrThrow(),
      ctx.db
        .selectFrom("members")
        .select(["id", "name", "code", "locale", "marketing_consent", "joined_at"])
        .where("business_id", "=", businessId)
        .where("id", "=", memberId)
        .executeTakeFirstOrThrow(),
      memberCard(ctx, businessId, memberId),
      ctx.snapshots.load(ctx.db, businessId),
      openRewards(ctx.db, businessId, now),
      sql<{ rewards: RewardCandidate[] }>`select ${rewardCandidatesSql(businessId, memberId, now)} as rewards`
        .execute(ctx.db)
        .then((r) => r.rows[0]?.rewards ?? []),
      listMemberVouchers(ctx.db, businessId, memberId, { limit: VALID_VOUCHERS_READ, status: "issued" }, now),
      listMemberVouchers(ctx.db, businessId, memberId, { limit: PAST_VOUCHERS_SHOWN }, now),
      memberHistory(ctx.db, businessId, memberId, { limit: HISTORY_LINES }),
      // Every card's stamps, archived cards' too: those still pay for their rewards.
      stampBalances(ctx.db, businessId, memberId),
    ]);
  const held = new Map(candidates.map((c) => [c.id, c]));
  const tierId = card.tier?.current?.id ?? null;
  const stampsOn = new Map(card.stamp_cards.map((c) => [c.stamp_card_id, c]));
  const cardRewards = rewards.map((reward): CardReward => {
    const candidate = held.get(reward.id);
    let missingPoints = 0;
    let missingStamps = 0;
    if (reward.cost_points !== null) missingPoints = Math.max(0, reward.cost_points - card.points.available);
    else if (reward.stamp_card_id !== null) {
      const needed = stampsOn.get(reward.stamp_card_id)?.stamps_required ?? candidate?.stamps_required ?? 0;
      missingStamps = Math.max(0, needed - (stamps.get(reward.stamp_card_id) ?? 0));
    }
    const blocked =
      reward.eligible_tier_ids.length > 0 && (tierId === null || !reward.eligible_tier_ids.includes(tierId))
        ? "tier"
        : candidate && candidate.per_member_limit !== null && candidate.held >= candidate.per_member_limit
          ? "limit"
          : missingPoints > 0 || missingStamps > 0
            ? "cost"
            : null;
    return {
      ...reward,
      available: blocked === null,
      blocked,
      missing_points: missingPoints,
      missing_stamps: missingStamps,
    };
  });
  const { id: _id, code: _code, ...summary } = card;
  return {
    business: describeProgram(business, snapshot, rewards, now),
    member: {
      id: member.id,
      name: member.name,
      code: member.code,
      locale: member.locale,
      marketing_consent: member.marketing_consent,
      joined_at: member.joined_at.toISOString(),
    },
    card: summary,
    rewards: cardRewards,
    // Every valid voucher (an old one behind many newer ones too: it is still to be shown at the
    // counter), and the latest of the rest; newest first.
    vouchers: [...valid.data, ...latest.data.filter((v) => !valid.data.some((w) => w.id === v.id))].sort(
      (a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0),
    ),
    history: history.data.map((h) => ({
      id: h.id,
      type: h.type,
      kind: h.kind,
      points: h.points,
      stamps: h.stamps,
      stamp_card_id: h.stamp_card_id,
      ...forCustomer(h),
      source_type: h.source_type,
      source_id: h.source_id,
      occurred_at: h.occurred_at,
    })),
    updated_at: now.toISOString(),
  };
}

/** The member redeems a reward on their own card; the ledger and audit name `member:<id>`. */
export async function walletRedeem(
  ctx: AppContext,
  businessId: string,
  memberId: string,
  rewardId: string,
  idempotencyKey: string | undefined,
): Promise<StoredResult<RedemptionResult>> {
  return redeemReward(
    ctx,
    memberActor(businessId, memberId),
    memberId,
    { reward_id: rewardId },
    idempotencyKey === undefined ? undefined : `wallet:${memberId}:${idempotencyKey}`,
  );
}

export const WalletPatch = z
  .strictObject({
    locale: MemberLocale.optional(),
    marketing_consent: z.boolean({ error: "must be true or false" }).optional(),
  })
  .refine((b) => Object.keys(b).length > 0, { error: "send at least one field to change" });
export type WalletPatch = z.infer<typeof WalletPatch>;

/** The member changes their language or marketing choice. */
export async function walletUpdate(
  ctx: AppContext,
  businessId: string,
  memberId: string,
  patch: WalletPatch,
): Promise<{ locale: string | null; marketing_consent: boolean }> {
  const member = await updateMember(
    ctx.db,
    memberActor(businessId, memberId),
    memberId,
    patch,
    ctx.clock.now(),
  );
  return { locale: member.locale, marketing_consent: member.marketing_consent };
}

/** What a member sees and can correct of their own details on their card. */
export interface WalletDetails {
  name: string | null;
  email: string | null;
  phone: string | null;
  birthday: string | null;
  /**
   * Whether the card may set the birthday: only while none is given. A birthday can bring a treat,
   * so once given it is changed at the counter, not from the card (else it could be moved to
   * whichever day a treat is wanted).
   */
  birthday_editable: boolean;
}

function detailsOf(member: Pick<WalletDetails, "name" | "email" | "phone" | "birthday">): WalletDetails {
  return {
    name: member.name,
    email: member.email,
    phone: member.phone,
    birthday: member.birthday,
    birthday_editable: member.birthday === null,
  };
}

/** The member's own details, as the card's "My details" shows them. */
export async function walletDetails(
  ctx: AppContext,
  businessId: string,
  memberId: string,
): Promise<WalletDetails> {
  return detailsOf(await getMember(ctx.db, businessId, memberId));
}

/**
 * A member's correction of their own details: the same fields, checks and normalisation as a
 * staff change (`updateMember`: email lowercased, the phone read in the business's country, a
 * birthday not in the future), but the name cannot be emptied.
 */
export const WalletDetailsPatch = z
  .strictObject({
    // As a staff change stores it: trimmed, in one Unicode form.
    name: z
      .string()
      .trim()
      .normalize("NFC")
      .min(1, { error: "must not be empty" })
      .max(120, { error: "must be at most 120 characters" }),
    email: MemberEmail.nullable(),
    phone: MemberPhone.nullable(),
    birthday: MemberBirthday.nullable(),
  })
  .partial()
  .refine((b) => Object.keys(b).length > 0, { error: "send at least one field to change" });
export type WalletDetailsPatch = z.output<typeof WalletDetailsPatch>;

/**
 * The member corrects their name, email, phone or birthday from their card (audited as
 * `member:<id>`). An email and a phone cannot both be cleared when they leave none (400
 * `contact_required`: the card is found again by one); a birthday is set once, while none is
 * given, and a change of it after that is refused (409 `birthday_already_set`: at the counter);
 * the birthday already given, sent again, changes nothing. `member_email_taken` and
 * `member_phone_taken` (409) as for staff; `validation_failed` (400) for a phone that cannot be
 * read in the business's country or a birthday in the future.
 */
export async function walletUpdateDetails(
  ctx: AppContext,
  businessId: string,
  memberId: string,
  input: WalletDetailsPatch,
): Promise<WalletDetails> {
  // Decided on the member as locked (`updateMember`'s check): two changes sent together cannot
  // both find no birthday yet, or both clear one contact while the other still stands.
  const check = (current: MemberDto): WalletDetailsPatch => {
    const patch = { ...input };
    if (patch.birthday !== undefined) {
      if (patch.birthday === current.birthday) delete patch.birthday;
      else if (current.birthday !== null) {
        throw conflict(
          "birthday_already_set",
          "Your birthday is already on your card, and it is changed only at the counter: ask there to correct it.",
        );
      }
    }
    const email = patch.email === undefined ? current.email : patch.email;
    const phone = patch.phone === undefined ? current.phone : patch.phone;
    // Only a change that clears one refuses: a member enrolled at the counter without either can
    // still correct their name.
    if ((patch.email === null || patch.phone === null) && email === null && phone === null) {
      throw new AppError(
        400,
        "contact_required",
        "Keep an email address or a phone number (or both): your card is found again by one.",
      );
    }
    return patch;
  };
  return detailsOf(
    await updateMember(ctx.db, memberActor(businessId, memberId), memberId, input, ctx.clock.now(), check),
  );
}

/**
 * The member downloads everything held about them (article 15 access, article 20 portability):
 * the staff export's document as the card shows it (`exportMember`'s `member` audience: no notes
 * staff wrote for themselves, no staff or API key ids), audited as `member.exported` by
 * `member:<id>`.
 */
export async function walletExport(
  ctx: AppContext,
  businessId: string,
  memberId: string,
): Promise<MemberExport> {
  return exportMemberAudited(ctx, memberActor(businessId, memberId), memberId, "member");
}

/** The text a member sends to confirm the erasure of their card: `{ "confirm": "ERASE" }`. */
export const ERASE_CONFIRMATION = "ERASE";

export const WalletErase = z.strictObject({
  confirm: z
    .string()
    .max(100)
    .optional()
    .describe(`Must be \`${ERASE_CONFIRMATION}\`: the member confirmed, knowing what is lost`),
});
export type WalletErase = z.infer<typeof WalletErase>;

/** What an erasure of the card answers (the first time, and to a retry with the same token). */
export interface WalletErasure {
  erased_at: string;
}

/** The operation under which a card erasure is kept, for the retry whose token opens nothing. */
const ERASURE = "wallet.erase";

/**
 * The key a card's erasure is kept under: the token's hash, hashed again (the token itself is
 * never stored). It names no one: the member's row no longer holds the token's hash.
 */
const erasureKey = (tokenHash: string) => `wallet-erase:${sha256(`erased-card:${tokenHash}`)}`;

/**
 * Whether the card token of `authorization` is that of a card its member erased from the card:
 * when it was, else null. The erasure took the token off the member, so only this record tells a
 * retry (or another phone with the same link) what happened to it.
 */
export async function cardErasure(db: Db, authorization: string | undefined): Promise<WalletErasure | null> {
  const parsed = cardTokenOf(authorization);
  if (!parsed) return null;
  const row = await db
    .selectFrom("idempotency_keys")
    .select("created_at")
    .where("business_id", "=", parsed.businessId)
    .where("key", "=", erasureKey(parsed.hash))
    .where("operation", "=", ERASURE)
    .executeTakeFirst();
  return row ? { erased_at: row.created_at.toISOString() } : null;
}

/**
 * The member erases their card (article 17), as staff erasure does (`eraseMember`): their name,
 * contact details, birthday, marketing choice and card link go, the card gets a new code; their
 * points and stamps stay on the books by id, but no card and no person holds them any more, and
 * their vouchers are not cancelled (a code still works at the counter) but no card shows them. Audited as `member.erased` by `member:<id>`. Idempotent: a retry that overtook the first
 * gets its answer (`replayed`); one after it, whose token no longer opens the card, is answered
 * from the record kept under the token (`cardErasure`).
 */
export async function walletErase(
  ctx: AppContext,
  businessId: string,
  memberId: string,
  authorization: string | undefined,
): Promise<{ body: WalletErasure; replayed: boolean }> {
  const token = cardTokenOf(authorization);
  if (!token) throw unauthorized();
  // The record a later retry is answered from is written in the erasure's own transaction: there
  // is no moment at which the card is erased and a retry would not be told so.
  const keep = async (tx: Tx, erasedAt: Date) => {
    await tx
      .insertInto("idempotency_keys")
      .values({
        business_id: businessId,
        key: erasureKey(token.hash),
        operation: ERASURE,
        request_hash: requestFingerprint(ERASURE, {}),
        status_code: 200,
        response: JSON.stringify({ erased_at: erasedAt.toISOString() } satisfies WalletErasure),
        created_at: erasedAt,
      })
      .onConflict((oc) => oc.columns(["business_id", "key"]).doNothing())
      .execute();
  };
  try {
    const member = await eraseMember(
      ctx,
      memberActor(businessId, memberId),
      memberId,
      "asked by the member on their card",
      keep,
    );
    return { body: { erased_at: member.erased_at ?? ctx.clock.now().toISOString() }, replayed: false };
  } catch (error) {
    if (!(error instanceof AppError && error.code === "member_erased")) throw error;
    // A retry that read the card before the first request's erasure was committed.
    const erasedAt =
      (await getMember(ctx.db, businessId, memberId)).erased_at ?? ctx.clock.now().toISOString();
    return { body: { erased_at: erasedAt }, replayed: true };
  }
}
