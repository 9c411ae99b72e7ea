import { type Expression, type SqlBool, sql, type Updateable } from "kysely";
import type { Actor } from "../../context.ts";
import type { Db, Queryable, Tx } from "../../db/database.ts";
import type { MembersTable } from "../../db/schema.ts";
import { AppError, conflict, notFound } from "../../shared/errors.ts";
import { newId, randomCode } from "../../shared/ids.ts";
import { decodeCursor, toPage } from "../../shared/pagination.ts";
import { zonedParts } from "../../shared/time.ts";
import { audit } from "../audit/index.ts";
import { getBusiness } from "../business/index.ts";
import { idempotent, type StoredResult } from "../idempotency/index.ts";
import { birthdayProblem, isoDate } from "./fields.ts";
import { readPhone } from "./phone.ts";
import type { CreateMemberInput, MemberAttributes, MemberLookup, UpdateMemberInput } from "./schema.ts";
import { indexable, looksLikePhone, memberSearchText, type SearchTerms, searchTerms } from "./search.ts";

export {
  countryOfTimeZone,
  normalizePhone,
  PHONE_COUNTRIES,
  type PhoneCountry,
  readPhone,
  toE164,
} from "./phone.ts";
export { CreateMemberInput, MemberAttributes, MemberLookup, UpdateMemberInput } from "./schema.ts";
export { memberSearchText } from "./search.ts";

/** Members: the customers of a business, identified at the counter by the code on their card. */

export interface MemberDto {
  id: string;
  code: string;
  name: string | null;
  email: string | null;
  phone: string | null;
  birthday: string | null;
  /** null: the member gets the business's language. */
  locale: string | null;
  marketing_consent: boolean;
  consent_updated_at: string | null;
  attributes: MemberAttributes;
  external_id: string | null;
  tier_id: string | null;
  joined_at: string;
  first_purchase_at: string | null;
  last_purchase_at: string | null;
  created_at: string;
  updated_at: string;
  /** When the member's personal data was erased at their request; null: never. */
  erased_at: string | null;
}

const iso = (date: Date | null) => (date ? date.toISOString() : null);

/** A member's row with the purchase times kept in `member_state` (migration 0009). */
export type MemberRow = MembersTable & { first_purchase_at: Date | null; last_purchase_at: Date | null };

/**
 * A query of members with their first and last purchase times, which `member_state` keeps: name
 * the business as `members.business_id` (the state row has one too).
 */
export function selectMembers(db: Queryable) {
  return db
    .selectFrom("members")
    .innerJoin("member_state as s", (join) =>
      join.onRef("s.business_id", "=", "members.business_id").onRef("s.member_id", "=", "members.id"),
    )
    .selectAll("members")
    .select(["s.first_purchase_at", "s.last_purchase_at"]);
}

export function memberDto(row: MemberRow): MemberDto {
  return {
    id: row.id,
    code: row.code,
    name: row.name,
    email: row.email,
    phone: row.phone,
    birthday: row.birthday,
    locale: row.locale,
    marketing_consent: row.marketing_consent,
    consent_updated_at: iso(row.consent_updated_at),
    attributes: row.attributes as MemberAttributes,
    external_id: row.external_id,
    tier_id: row.tier_id,
    joined_at: row.joined_at.toISOString(),
    first_purchase_at: iso(row.first_purchase_at),
    last_purchase_at: iso(row.last_purchase_at),
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
    erased_at: iso(row.erased_at),
  };
}

/** Length of a member code: 31^8 ≈ 8.5·10^11 codes, so a collision within a business is rare. */
export const MEMBER_CODE_LENGTH = 8;
const CODE_ATTEMPTS = 5;

/**
 * Creates a member in its own transaction, at most once per `Idempotency-Key`: a retry with the
 * same key and body gets the first member back (`replayed: true`).
 *
 * @example await createMember(db, actor, { name: "Anna", marketing_consent: true }, now, req.headers["idempotency-key"])
 */
export async function createMember(
  db: Db,
  actor: Actor,
  input: CreateMemberInput,
  now: Date,
  idempotencyKey?: string,
): Promise<StoredResult<MemberDto>> {
  return db.transaction().execute((tx) =>
    idempotent(tx, actor.businessId, idempotencyKey, "member.create", input, now, async () => ({
      status: 201,
      body: await createMemberTx(tx, actor, input, now),
    })),
  );
}

/**
 * Creates a member inside the caller's transaction, so a use case can do more in the same
 * commit (e.g. award a signup bonus). Audited; duplicates of email, phone or external id are 409s.
 * A phone number is read in the business's country (`readPhone`); one that cannot be placed is a
 * 400 `validation_failed` naming `phone`.
 *
 * @example const member = await createMemberTx(tx, actor, { marketing_consent: false }, now)
 */
export async function createMemberTx(
  tx: Tx,
  actor: Actor,
  input: CreateMemberInput,
  now: Date,
): Promise<MemberDto> {
  const business = await getBusiness(tx, actor.businessId);
  const phone = input.phone == null ? null : phoneOf(input.phone, business.timezone);
  checkDates(input, business.timezone, now);
  for (let attempt = 1; attempt <= CODE_ATTEMPTS; attempt++) {
    const row: MembersTable = {
      business_id: actor.businessId,
      id: newId(now.getTime()),
      code: randomCode(MEMBER_CODE_LENGTH),
      name: input.name ?? null,
      email: input.email ?? null,
      phone,
      birthday: input.birthday ?? null,
      // No choice made: the business's language, whichever it is when the member is written to.
      locale: input.locale ?? null,
      marketing_consent: input.marketing_consent,
      consent_updated_at: now,
      attributes: input.attributes ?? {},
      external_id: input.external_id ?? null,
      tier_id: null,
      tier_expires_at: null,
      joined_at: input.joined_at ?? now,
      created_at: now,
      updated_at: now,
      card_token_hash: null,
      erased_at: null,
      search: "",
    };
    row.search = memberSearchText(row);
    // Only a code collision is skipped here (and retried with a new code); a taken email, phone
    // or external id still raises its unique violation.
    const inserted = await withDuplicateErrors(() =>
      tx
        .insertInto("members")
        .values({ ...row, attributes: JSON.stringify(row.attributes) })
        .onConflict((oc) => oc.columns(["business_id", "code"]).doNothing())
        .returningAll()
        .executeTakeFirst(),
    );
    if (inserted) {
      await tx
        .insertInto("member_state")
        .values({ business_id: inserted.business_id, member_id: inserted.id, version: 0 })
        .execute();
      await audit(tx, actor, now, {
        action: "member.created",
        targetType: "member",
        targetId: inserted.id,
        data: { code: inserted.code, marketing_consent: inserted.marketing_consent },
      });
      return memberDto({ ...inserted, first_purchase_at: null, last_purchase_at: null });
    }
  }
  throw new Error(`no free member code after ${CODE_ATTEMPTS} attempts`);
}

/**
 * Changes a member's fields. `null` clears a field, `attributes` replaces all attributes, and
 * `consent_updated_at` moves only when the marketing choice actually changes. The audit record
 * names the changed fields, not their values, so erasing a member leaves no copy of their data.
 * A phone number is read in the business's country, as on enrolment.
 *
 * `check`, when given, runs on the member as locked (after the erasure check, before anything is
 * written): it may throw to refuse the change, and returns the patch to apply, which may be the
 * one given or less of it. A caller whose rules depend on the member's current fields (the card's
 * "birthday set once") decides there, so two changes sent together cannot both pass on the same
 * read. A patch the check leaves empty writes and audits nothing, and answers the member as they are.
 *
 * @example await updateMember(db, actor, memberId, { phone: "+48601234567" }, now)
 */
export async function updateMember(
  db: Db,
  actor: Actor,
  memberId: string,
  given: UpdateMemberInput,
  now: Date,
  check?: (current: MemberDto) => UpdateMemberInput,
): Promise<MemberDto> {
  return db.transaction().execute(async (tx) => {
    const current = await getMemberForUpdate(tx, actor.businessId, memberId);
    // An erasure is for good: nothing personal comes back through a change.
    if (current.erased_at) {
      throw conflict("member_erased", `The member's data was erased at ${current.erased_at.toISOString()}.`);
    }
    const patch = check ? check(memberDto(current)) : given;
    if (check && Object.keys(patch).length === 0) return memberDto(current);
    const timeZone =
      patch.birthday || patch.joined_at || typeof patch.phone === "string"
        ? (await getBusiness(tx, actor.businessId)).timezone
        : undefined;
    const { attributes, ...fields } = patch;
    const changes: Updateable<MembersTable> = { ...fields, updated_at: now };
    if (timeZone !== undefined) {
      if (typeof patch.phone === "string") changes.phone = phoneOf(patch.phone, timeZone);
      checkDates(patch, timeZone, now);
    }
    if (attributes !== undefined) changes.attributes = JSON.stringify(attributes);
    if (patch.name !== undefined || patch.email !== undefined || patch.phone !== undefined) {
      changes.search = memberSearchText({
        name: patch.name === undefined ? current.name : patch.name,
        email: patch.email === undefined ? current.email : patch.email,
        phone: patch.phone === undefined ? current.phone : (changes.phone as string | null),
      });
    }
    const consentChanged =
      patch.marketing_consent !== undefined && patch.marketing_consent !== current.marketing_consent;
    if (consentChanged) changes.consent_updated_at = now;
    const row = await withDuplicateErrors(() =>
      tx
        .updateTable("members")
        .set(changes)
        .where("business_id", "=", actor.businessId)
        .where("id", "=", memberId)
        .returningAll()
        .executeTakeFirstOrThrow(),
    );
    await audit(tx, actor, now, {
      action: "member.updated",
      targetType: "member",
      targetId: memberId,
      data: {
        fields: Object.keys(patch).sort(),
        ...(consentChanged ? { marketing_consent: row.marketing_consent } : {}),
      },
    });
    return memberDto({
      ...row,
      first_purchase_at: current.first_purchase_at,
      last_purchase_at: current.last_purchase_at,
    });
  });
}

/**
 * The member, locked until the transaction ends: the per-member lock that serializes everything
 * touching one member's balance is an update of the member's `member_state` row. It moves the
 * member's `version`, which tells a purchase recorded without a lock
 * (src/use-cases/purchase-fast-path.ts) that what it read may have changed, and clears the
 * member's running tier metric (migration 0007), which only a purchase on that path keeps.
 * The member's row is read in the same statement with a share lock: a statement's snapshot is
 * taken before it waits for the lock, and only a locking read re-reads a row that the writer it
 * waited for changed (a tier it moved), so without it the member would be read as it was.
 * 404 `member_not_found` when absent.
 *
 * @example const member = await getMemberForUpdate(tx, actor.businessId, memberId)
 */
export async function getMemberForUpdate(tx: Tx, businessId: string, memberId: string): Promise<MemberRow> {
  const row = await tx
    .with("s", (db) =>
      db
        .updateTable("member_state")
        .set((eb) => ({ version: eb("version", "+", 1), tier_metric_from: null }))
        .where("business_id", "=", businessId)
        .where("member_id", "=", memberId)
        .returning(["member_id", "first_purchase_at", "last_purchase_at"]),
    )
    .selectFrom("members")
    .innerJoin("s", "s.member_id", "members.id")
    .selectAll("members")
    .select(["s.first_purchase_at", "s.last_purchase_at"])
    .where("members.business_id", "=", businessId)
    .where("members.id", "=", memberId)
    .forShare("members")
    .executeTakeFirst();
  if (!row) throw notFound("member", memberId);
  return row;
}

/**
 * Locks the member named by id or by card code (see `getMemberForUpdate`); null when neither is
 * given (an anonymous purchase). 404 `member_not_found` when no such member is in the business.
 */
export async function lockMemberByRef(
  tx: Tx,
  businessId: string,
  ref: { member_id?: string | undefined; member_code?: string | undefined },
): Promise<MemberRow | null> {
  if (ref.member_id) return getMemberForUpdate(tx, businessId, ref.member_id);
  if (!ref.member_code) return null;
  const found = await findMemberByCode(tx, businessId, ref.member_code);
  if (!found) throw memberCodeNotFound(ref.member_code);
  return getMemberForUpdate(tx, businessId, found.id);
}

/** 404 `member_not_found` for a card code no member of the business has. */
export function memberCodeNotFound(code: string): AppError {
  return new AppError(404, "member_not_found", `No member with code ${code} in this business.`);
}

/** The member whose card shows `code` (case-insensitive), or undefined. */
export async function findMemberByCode(
  db: Queryable,
  businessId: string,
  code: string,
): Promise<MemberRow | undefined> {
  return selectMembers(db)
    .where("members.business_id", "=", businessId)
    .where("code", "=", code.trim().toUpperCase())
    .executeTakeFirst();
}

/** One member of the business; 404 `member_not_found` otherwise (also for another business's member). */
export async function getMember(db: Queryable, businessId: string, memberId: string): Promise<MemberDto> {
  const row = await selectMembers(db)
    .where("members.business_id", "=", businessId)
    .where("id", "=", memberId)
    .executeTakeFirst();
  if (!row) throw notFound("member", memberId);
  return memberDto(row);
}

export interface ListMembersQuery {
  limit: number;
  cursor?: string;
  /** A search text: see `listMembers`. */
  q?: string;
}

/**
 * A page of members of the business. Without a search, every member, newest first. With `q`
 * (`searchTerms`, src/modules/members/search.ts), the members it finds: exact matches first (the
 * card code, the email, the phone number as the business's country reads it), then by name
 * (folded: "Łukasz" among the L's), then those without a name. What a search matches is the
 * member's search text (`memberSearchText`): the name, the email and the phone, lowercased and
 * without diacritics, so "wojcik" finds "Wójcik", "jansen" finds "Smit-Jansen", "firma.pl" finds
 * jan@firma.pl and "(030) 1234567" finds +49301234567. An erased member is never found.
 *
 * A search reads only the members it finds, through the trigram index on the search text
 * (`members_search_idx`, migrations 0023 and 0024), not every member of the business. The next page of a
 * search starts after the last member shown, as that member sorts now: the cursor names the
 * member, not their name (a cursor travels in URLs and logs).
 *
 * @example await listMembers(db, businessId, { limit: 50, q: "anna" })
 */
export async function listMembers(
  db: Queryable,
  businessId: string,
  query: ListMembersQuery,
): Promise<{ data: MemberDto[]; next_cursor: string | null }> {
  const q = query.q?.trim();
  const scope = ["members", businessId, q];
  const after = decodeCursor(query.cursor, scope);
  if (!q) {
    let select = selectMembers(db).where("members.business_id", "=", businessId);
    if (after !== undefined) select = select.where("id", "<", after);
    const rows = await select
      .orderBy("id", "desc")
      .limit(query.limit + 1)
      .execute();
    return toPage(rows, query.limit, memberDto, scope);
  }
  // Only a search that may be a whole phone number needs the business's country.
  const timeZone = looksLikePhone(q) ? (await getBusiness(db, businessId)).timezone : undefined;
  const terms = searchTerms(q, timeZone);
  if (terms.patterns.length === 0 && terms.exact.code === undefined) return { data: [], next_cursor: null };
  const rows = await withSearchPlanner(db, (tx) =>
    searchMembersQuery(tx, businessId, terms, query.limit + 1, after).execute(),
  );
  return toPage(rows, query.limit, memberDto, scope);
}

/**
 * Runs a search (`searchMembersQuery`) with the planner told to avoid reading whole tables, in a
 * transaction of its own. Statements are planned once, without their values: with few members
 * in all, the embedded engine's planner (PostgreSQL 18) estimated reading all of them to cost
 * about as much as the search index, and read them all; the index answers in time that follows
 * the members found, not the members there are.
 */
export async function withSearchPlanner<T>(db: Queryable, run: (tx: Tx) => Promise<T>): Promise<T> {
  return db.transaction().execute(async (tx) => {
    await sql`set local enable_seqscan = off`.execute(tx);
    return run(tx);
  });
}

/** How many words of a search the index looks for; the others are checked on what it finds. */
const INDEXED_WORDS = 3;

/**
 * The statement of a search (`listMembers`): `limit` members of the business that `terms` find,
 * in the search's order, after the member `after` when given. Exported for the test of its plan
 * (test/db/member-search-plans.int.test.ts).
 */
export function searchMembersQuery(
  db: Queryable,
  businessId: string,
  terms: SearchTerms,
  limit: number,
  after?: string,
) {
  const { code, email, phone } = terms.exact;
  const exactOf = (table: "members" | "c") => {
    const tests: Expression<SqlBool>[] = [];
    if (code !== undefined) tests.push(sql<SqlBool>`${sql.ref(`${table}.code`)} = ${code}`);
    if (email !== undefined) tests.push(sql<SqlBool>`${sql.ref(`${table}.email`)} = ${email}`);
    if (phone !== undefined) tests.push(sql<SqlBool>`${sql.ref(`${table}.phone`)} = ${phone}`);
    return tests.length === 0
      ? sql<number>`1`
      : sql<number>`case when ${sql.join(tests, sql` or `)} then 0 else 1 end`;
  };
  // The order: exact matches, then by name (folded, byte order on every engine), nameless last.
  const keyOf = (table: "members" | "c") =>
    sql`${exactOf(table)}, ${sql.ref(`${table}.name`)} is null, ${sql.ref(`${table}.search`)} collate "C", ${sql.ref(`${table}.id`)}`;
  // A page of the members found, before their purchase times are joined (joined first, the
  // planner may read the state of every member of the business to find a few). The search index
  // (`members_search_idx`, migration 0024) is on `(business_id, search)`: it serves the business
  // and the words together, so even planned without the values (generic plans) it is preferred to
  // the B-tree on the business alone, and `business_id = $1` routes the search to the business's
  // shard under Citus. The card code is looked up by its own unique index, in the business.
  let found = db
    .selectFrom("members")
    .select(["members.id", "members.search"])
    .select([exactOf("members").as("exact_rank"), sql<boolean>`members.name is null`.as("nameless")])
    .where("members.business_id", "=", businessId)
    .where("members.erased_at", "is", null)
    .where((eb) =>
      eb.or([
        ...terms.patterns.map((all) => {
          // The longest words through the index; any more, in one condition, so that the number of
          // words does not make a statement of its own (each is prepared once per connection).
          // Only words with three letters or digits in a row give the index something to look
          // for (`indexable`); the others are checked on what it finds.
          const indexed = all
            .filter(indexable)
            .sort((a, b) => b.length - a.length)
            .slice(0, INDEXED_WORDS);
          const rest = all.filter((pattern) => !indexed.includes(pattern));
          return eb.and([
            ...indexed.map((pattern) => eb("members.search", "like", pattern)),
            ...(rest.length === 0 ? [] : [sql<SqlBool>`members.search like all (${rest}::text[])`]),
          ]);
        }),
        ...(code === undefined
          ? []
          : [eb.and([eb("members.business_id", "=", businessId), eb("members.code", "=", code)])]),
      ]),
    );
  if (after !== undefined) {
    found = found.where(
      sql<SqlBool>`(${keyOf("members")}) > (select ${keyOf("c")} from members as c where c.business_id = ${businessId} and c.id = ${after})`,
    );
  }
  const page = found
    .orderBy("exact_rank")
    .orderBy(sql`members.name is null`)
    .orderBy(sql`members.search collate "C"`)
    .orderBy("members.id")
    .limit(limit);
  return selectMembers(db)
    .innerJoin(page.as("found"), "found.id", "members.id")
    .where("members.business_id", "=", businessId)
    .orderBy("found.exact_rank")
    .orderBy("found.nameless")
    .orderBy(sql`found.search collate "C"`)
    .orderBy("found.id");
}

/**
 * Finds the member at the counter by exactly one of card code, email (both normalized by
 * `MemberLookup`) or phone (read in the business's country, as on enrolment: "06-12345678" finds
 * +31612345678 in a Dutch business). 400 `lookup_needs_one_key`, `validation_failed`; 404
 * `member_not_found`.
 *
 * @example await lookupMember(db, businessId, { code: "K7QX2M9D" })
 */
export async function lookupMember(db: Queryable, businessId: string, key: MemberLookup): Promise<MemberDto> {
  const given = (["code", "email", "phone"] as const).filter((k) => key[k] !== undefined);
  const field = given[0];
  let value = field === undefined ? undefined : key[field];
  if (given.length !== 1 || field === undefined || value === undefined) {
    throw new AppError(
      400,
      "lookup_needs_one_key",
      `Look a member up by exactly one of code, email or phone; got ${given.length ? given.join(", ") : "none"}.`,
    );
  }
  if (field === "phone") value = phoneOf(value, (await getBusiness(db, businessId)).timezone, "querystring");
  const row = await selectMembers(db)
    .where("members.business_id", "=", businessId)
    .where(field, "=", value)
    .executeTakeFirst();
  if (!row) throw new AppError(404, "member_not_found", `No member with ${field} ${value} in this business.`);
  return memberDto(row);
}

/**
 * Refuses a birthday before 1900 or after today, and a join date in the future (business time
 * zone). Enrolling and changing a member check it; an import checks a row with it first, so that a
 * row is refused for its own values before it is compared with the member it names.
 */
export function checkDates(
  input: { birthday?: string | null; joined_at?: Date },
  timeZone: string,
  now: Date,
): void {
  if (input.birthday) {
    const problem = birthdayProblem(input.birthday, isoDate(zonedParts(now, timeZone)));
    if (problem) throw fieldError("birthday", problem);
  }
  if (input.joined_at && input.joined_at.getTime() > now.getTime()) {
    throw fieldError("joined_at", "must not be in the future");
  }
}

/**
 * A phone number as stored (E.164), read in the country of the business's time zone; a number
 * that cannot be placed is a 400 `validation_failed` naming the field and saying what to write.
 */
function phoneOf(raw: string, timeZone: string, where: "body" | "querystring" = "body"): string {
  const read = readPhone(raw, timeZone);
  if ("problem" in read) throw fieldError("phone", read.problem, where);
  return read.phone;
}

/**
 * A validation error in the same shape as a schema failure, for checks that need the clock or
 * the business.
 */
function fieldError(path: string, message: string, where: "body" | "querystring" = "body"): AppError {
  return new AppError(400, "validation_failed", `Invalid ${where} at "${path}": ${message}`, {
    issues: [{ in: where, path, message }],
  });
}

const DUPLICATES: Record<string, { code: string; field: string }> = {
  members_email_key: { code: "member_email_taken", field: "email" },
  members_phone_key: { code: "member_phone_taken", field: "phone" },
  members_external_id_key: { code: "member_external_id_taken", field: "external_id" },
};

/**
 * Runs a write and turns a unique violation on email, phone or external id into its 409. The
 * unique indexes decide, so two concurrent sign-ups with one email cannot both succeed.
 */
async function withDuplicateErrors<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    const duplicate = isUniqueViolation(error) ? DUPLICATES[error.constraint ?? ""] : undefined;
    if (!duplicate) throw error;
    throw conflict(
      duplicate.code,
      `Another member of this business already has this ${duplicate.field.replace("_", " ")}.`,
      { field: duplicate.field },
    );
  }
}

function isUniqueViolation(error: unknown): error is { code: string; constraint?: string } {
  return typeof error === "object" && error !== null && "code" in error && error.code === "23505";
}
