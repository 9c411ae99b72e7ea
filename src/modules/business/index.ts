import type { Actor } from "../../context.ts";
import type { Db, Tx } from "../../db/database.ts";
import type { BusinessesTable, LocationsTable } from "../../db/schema.ts";
import { AppError, conflict, notFound } from "../../shared/errors.ts";
import { newId, sha256 } from "../../shared/ids.ts";
import { formatMoney, MAX_AMOUNT_MINOR, minorDigits } from "../../shared/money.ts";
import { decodeCursor, toPage } from "../../shared/pagination.ts";
import { convertMinor, earnUnitMinor, priceLevel } from "../../shared/price-level.ts";
import {
  createSession,
  hashPassword,
  type Page,
  type PageRequest,
  type StaffDto,
  staffDto,
  verifyPassword,
} from "../access/index.ts";
import { audit } from "../audit/index.ts";
import { requestFingerprint } from "../idempotency/index.ts";
import { defaultProgram, type ProgramConfig } from "../program/config.ts";
import { checkProgramConfig, getProgramDto, lockProgram, updateProgramInTx } from "../program/index.ts";
import { MAX_TIER_THRESHOLD } from "../tiers/index.ts";
import { recordTimeZoneChange } from "./rezone.ts";

export {
  FOLLOW_IN_REQUEST_MS,
  type FollowedPage,
  followPendingTimeZones,
  followTimeZoneChanges,
  followTimeZonePage,
  REZONE_PAGE_SIZE,
  type TimeZoneChangeDto,
  type TimeZoneFollowRun,
  timeZoneChange,
} from "./rezone.ts";

/** The business profile, its locations, and signing a new business up. */

export interface BusinessDto {
  id: string;
  slug: string;
  name: string;
  currency: string;
  timezone: string;
  locale: string;
  /** When the program went live (the join page is open); null while the owner is still setting up. */
  published_at: string | null;
  created_at: string;
}

export function businessDto(row: BusinessesTable): BusinessDto {
  return {
    id: row.id,
    slug: row.slug,
    name: row.name,
    currency: row.currency,
    timezone: row.timezone,
    locale: row.locale,
    published_at: row.published_at?.toISOString() ?? null,
    created_at: row.created_at.toISOString(),
  };
}

export interface SignupInput {
  slug: string;
  name: string;
  currency: string;
  timezone: string;
  locale: string;
  owner: { email: string; name: string; password: string };
  program?: ProgramConfig;
}

export interface SignupResult {
  business: BusinessDto;
  owner: StaffDto;
  token: string;
  expires_at: string;
  /** The same sign-up again under its key: the business was already there, the session is new. */
  replayed: boolean;
}

/** How long a sign-up sent again under its `Idempotency-Key` logs its owner in: a day. */
export const SIGNUP_REPLAY_MS = 86_400_000;

/**
 * Creates a business with its owner account and a program (the default one, or `input.program`
 * once it passes the checks `PUT /v1/program` makes), and logs the owner in.
 *
 * With an `Idempotency-Key`, the same sign-up sent again (its answer lost) logs the owner in to
 * the business it made, with a new session, instead of answering `409 slug_taken`: for a day, and
 * only with the owner's password, which is checked as a log-in checks it (the key remembers the
 * request without it, so no fast hash of the password is kept). The key with another request is
 * `409 idempotency_key_reused`; after the day, `410 idempotency_answer_expired` (log in instead).
 *
 * @example await signup(db, { slug: "cafe-anna", name: "Café Anna", currency: "EUR", ... }, now, key)
 */
export async function signup(
  db: Db,
  input: SignupInput,
  now: Date,
  idempotencyKey?: string,
): Promise<SignupResult> {
  const program =
    input.program === undefined ? defaultProgram(input.currency) : checkProgramConfig(input.program);
  const keyed =
    idempotencyKey === undefined
      ? undefined
      : { key: idempotencyKey, keyHash: sha256(idempotencyKey), requestHash: signupFingerprint(input) };
  const earlier = keyed && (await signedUpUnder(db, keyed.keyHash));
  if (keyed && earlier) return signupAgain(db, earlier, input, keyed, now);
  const passwordHash = await hashPassword(input.owner.password);
  const created = await db.transaction().execute(async (tx) => {
    const slug = input.slug.toLowerCase();
    const business: BusinessesTable = {
      id: newId(now.getTime()),
      slug,
      name: input.name,
      currency: input.currency,
      timezone: input.timezone,
      locale: input.locale,
      published_at: null,
      created_at: now,
      updated_at: now,
      signup_key_hash: keyed?.keyHash ?? null,
      signup_request_hash: keyed?.requestHash ?? null,
    };
    // Two sign-ups of one handle (or under one key) at once: the unique indexes decide, and the
    // second is answered below.
    const inserted = await tx
      .insertInto("businesses")
      .values(business)
      .onConflict((oc) => oc.doNothing())
      .returning("id")
      .executeTakeFirst();
    if (!inserted) return undefined;
    await tx
      .insertInto("programs")
      .values({
        business_id: business.id,
        config: JSON.stringify(program),
        version: 1,
        updated_at: now,
      })
      .execute();
    const owner = {
      business_id: business.id,
      id: newId(now.getTime()),
      email: input.owner.email.toLowerCase(),
      name: input.owner.name,
      role: "owner" as const,
      password_hash: passwordHash,
      disabled_at: null,
      created_at: now,
      updated_at: now,
    };
    await tx.insertInto("staff").values(owner).execute();
    const session = await createSession(tx, business.id, owner.id, now);
    const actor: Actor = { businessId: business.id, kind: "staff", id: owner.id, role: "owner" };
    await audit(tx, actor, now, {
      action: "business.created",
      targetType: "business",
      targetId: business.id,
    });
    return { business: businessDto(business), owner: staffDto(owner), ...session, replayed: false };
  });
  if (created) return created;
  // The same key signed up meanwhile (a retry that overtook its first try) is that sign-up again.
  const overtaken = keyed && (await signedUpUnder(db, keyed.keyHash));
  if (keyed && overtaken) return signupAgain(db, overtaken, input, keyed, now);
  const slug = input.slug.toLowerCase();
  throw conflict("slug_taken", `The business handle "${slug}" is already taken; choose another.`);
}

/** What a sign-up's key remembers of it: the request without the password. */
function signupFingerprint(input: SignupInput): string {
  const { password: _password, ...owner } = input.owner;
  return requestFingerprint("business.signup", { ...input, owner });
}

/** The business signed up under a key (by its hash), if any. */
function signedUpUnder(db: Db, keyHash: string): Promise<BusinessesTable | undefined> {
  return db.selectFrom("businesses").selectAll().where("signup_key_hash", "=", keyHash).executeTakeFirst();
}

/**
 * A sign-up sent again under the key of `earlier`: the same request, within a day and with the
 * owner's password, logs the owner in to it (a new session); anything else under that key is
 * refused, and nothing is created.
 */
async function signupAgain(
  db: Db,
  earlier: BusinessesTable,
  input: SignupInput,
  keyed: { key: string; requestHash: string },
  now: Date,
): Promise<SignupResult> {
  const reused = () =>
    conflict(
      "idempotency_key_reused",
      `The key "${keyed.key}" was already used for a different request. Use a new key for a new operation.`,
      { key: keyed.key },
    );
  if (earlier.signup_request_hash !== keyed.requestHash) throw reused();
  if (now.getTime() - earlier.created_at.getTime() >= SIGNUP_REPLAY_MS) {
    const doneAt = earlier.created_at.toISOString();
    throw new AppError(
      410,
      "idempotency_answer_expired",
      `The sign-up under the key "${keyed.key}" was done at ${doneAt}, and it was not done again. Log in to the business "${earlier.slug}" instead: a sign-up sent again logs its owner in for a day only.`,
      { key: keyed.key, done_at: doneAt },
    );
  }
  const owner = await db
    .selectFrom("staff")
    .selectAll()
    .where("business_id", "=", earlier.id)
    .where("email", "=", input.owner.email.toLowerCase())
    .where("role", "=", "owner")
    .where("disabled_at", "is", null)
    .executeTakeFirst();
  // The password is part of the request, but not of what the key remembers: it is checked here.
  if (!owner || !(await verifyPassword(owner.password_hash, input.owner.password))) throw reused();
  const session = await db.transaction().execute((tx) => createSession(tx, earlier.id, owner.id, now));
  return { business: businessDto(earlier), owner: staffDto(owner), ...session, replayed: true };
}

export async function getBusiness(db: Db | Tx, businessId: string): Promise<BusinessesTable> {
  const row = await db.selectFrom("businesses").selectAll().where("id", "=", businessId).executeTakeFirst();
  if (!row) throw notFound("business", businessId);
  return row;
}

/**
 * Changes the business profile, in one transaction. A new time zone is recorded there, with what
 * is left to move to it (`followTimeZone`); `timeZoneChange` is the id of that change, which the
 * caller follows once this has committed (`followTimeZoneChanges`); null when the zone stayed.
 *
 * @example const { business, timeZoneChange } = await updateBusiness(db, actor, { timezone: "Europe/Lisbon" }, now)
 */
export async function updateBusiness(
  db: Db,
  actor: Actor,
  patch: Partial<Pick<BusinessesTable, "name" | "currency" | "timezone" | "locale">>,
  now: Date,
): Promise<{ business: BusinessDto; timeZoneChange: string | null }> {
  return db.transaction().execute(async (tx) => {
    if (patch.currency !== undefined) {
      const current = await getBusiness(tx, actor.businessId);
      if (current.currency !== patch.currency) {
        const used = await tx
          .selectFrom("purchases")
          .select("id")
          .where("business_id", "=", actor.businessId)
          .limit(1)
          .executeTakeFirst();
        if (used) {
          throw conflict(
            "currency_locked",
            "The currency cannot change once purchases are recorded: amounts already earned points in it.",
          );
        }
        await followCurrency(tx, actor, current, patch.currency, now);
      }
    }
    const timeZoneChange =
      patch.timezone !== undefined ? await followTimeZone(tx, actor, patch.timezone, now) : null;
    const row = await tx
      .updateTable("businesses")
      .set({ ...patch, updated_at: now })
      .where("id", "=", actor.businessId)
      .returningAll()
      .executeTakeFirstOrThrow();
    await audit(tx, actor, now, {
      action: "business.updated",
      targetType: "business",
      targetId: row.id,
      data: patch,
    });
    return { business: businessDto(row), timeZoneChange };
  });
}

/**
 * A business that moves its clock to another time zone: the change is recorded with what is left
 * to move to the new clock (`recordTimeZoneChange`: the audit record `business.timezone_changed`
 * and a pending row), and returns its id; null when the zone stays. Members' calendar-year tier
 * ends and open lots' expiries move after the commit, a page per transaction
 * (`followTimeZoneChanges`), to the same date and time on the new clock: "end of month" is
 * midnight where the business now is, as the card and the counter reckon it.
 *
 * The program row is locked first, as every change of the program takes it (which also moves the
 * program version, so every node's snapshot cache reloads), and the zone is read under it: two
 * changes at once are recorded one after the other, each from the zone the other left, and
 * followed in that order.
 */
async function followTimeZone(tx: Tx, actor: Actor, to: string, now: Date): Promise<string | null> {
  if ((await getBusiness(tx, actor.businessId)).timezone === to) return null;
  await lockProgram(tx, actor.businessId);
  const from = (await getBusiness(tx, actor.businessId)).timezone;
  if (from === to) return null;
  return recordTimeZoneChange(tx, actor, { from, to }, now);
}

/**
 * A currency chosen by mistake at sign-up and corrected before the first purchase: every money
 * amount of the program moves with it, by the ratio of what the two currencies are worth
 * (`src/shared/price-level.ts`), rounded to a round amount of the new one, so €10 off becomes
 * 4,000 Ft off rather than 10 Ft (`1000` minor units) or 1,000 Ft; between currencies worth the
 * same (EUR, USD) every figure stays. What moves:
 * - the earn rate (`earn_per_minor`), to a round spend per point; the sign-up default of a point
 *   per whole unit becomes a point per about what €1 buys (¥1 → €1, €1 → 500 Ft);
 * - points-per-spend rules (`per_minor`, likewise) and rules' `min_spend_minor`;
 * - stamp cards' `min_spend_minor`;
 * - tier thresholds when tiers go by spend (the active ladder stays strictly increasing);
 * - rewards' discount, cap and donation amounts, and an amount written in a reward's name in the
 *   business's language ("€10 off" → "4.000 Ft off").
 * Archived rows move too, so one restored later is in the right currency. One audit record lists
 * every amount that moved.
 *
 * Module boundary: this writes the rows of the stamps, tiers, rules and rewards modules directly,
 * as those modules have no in-transaction update to call; the program row is locked first (the
 * order their own writes take), which also moves the program version so every node's snapshot
 * cache reloads.
 */
async function followCurrency(
  tx: Tx,
  actor: Actor,
  business: BusinessesTable,
  to: string,
  now: Date,
): Promise<void> {
  const from = business.currency;
  const program = await getProgramDto(tx, actor.businessId);
  const moved: { table: string; id: string; field: string; from: number | string; to: number | string }[] =
    [];
  const rate = (minor: number) =>
    // The sign-up default (`defaultProgram`; before it, a point per whole unit) is no choice of the
    // owner's: the new currency's default replaces it.
    minor === earnUnitMinor(from) || minor === 10 ** minorDigits(from)
      ? earnUnitMinor(to)
      : convertMinor(minor, from, to, "rate");
  const amount = (minor: number) => convertMinor(minor, from, to, "amount");
  const bounded = (minor: number, max: number) => Math.min(minor, max);

  const earn = bounded(rate(program.config.points.earn_per_minor), 1_000_000);
  if (earn !== program.config.points.earn_per_minor) {
    moved.push({
      table: "programs",
      id: actor.businessId,
      field: "points.earn_per_minor",
      from: program.config.points.earn_per_minor,
      to: earn,
    });
  }
  // Locks the program row (and moves its version) before any other row is written.
  await updateProgramInTx(
    tx,
    actor,
    { ...program.config, points: { ...program.config.points, earn_per_minor: earn } },
    now,
  );

  const cards = await tx
    .selectFrom("stamp_cards")
    .select(["id", "min_spend_minor"])
    .where("business_id", "=", actor.businessId)
    .where("min_spend_minor", ">", 0)
    .execute();
  for (const card of cards) {
    const next = bounded(amount(Number(card.min_spend_minor)), MAX_AMOUNT_MINOR);
    if (next === Number(card.min_spend_minor)) continue;
    await tx
      .updateTable("stamp_cards")
      .set({ min_spend_minor: next, updated_at: now })
      .where("business_id", "=", actor.businessId)
      .where("id", "=", card.id)
      .execute();
    moved.push({
      table: "stamp_cards",
      id: card.id,
      field: "min_spend_minor",
      from: card.min_spend_minor,
      to: next,
    });
  }

  if (program.config.tiers.metric === "spend") {
    const tiers = await tx
      .selectFrom("tiers")
      .select(["id", "threshold", "archived_at"])
      .where("business_id", "=", actor.businessId)
      .orderBy("rank")
      .execute();
    // Rounding may bring two thresholds together: the active ladder stays strictly increasing, a
    // threshold that would meet the one below keeps the exact ratio, or one more than that.
    const factor = (priceLevel(to) / priceLevel(from)) * 10 ** (minorDigits(to) - minorDigits(from));
    let below = -1;
    for (const tier of tiers) {
      const old = Number(tier.threshold);
      let next = bounded(amount(old), MAX_TIER_THRESHOLD);
      if (tier.archived_at === null) {
        if (next <= below) next = Math.min(Math.max(Math.round(old * factor), below + 1), MAX_TIER_THRESHOLD);
        below = next;
      }
      if (next === old) continue;
      await tx
        .updateTable("tiers")
        .set({ threshold: next, updated_at: now })
        .where("business_id", "=", actor.businessId)
        .where("id", "=", tier.id)
        .execute();
      moved.push({ table: "tiers", id: tier.id, field: "threshold", from: old, to: next });
    }
  }

  const rules = await tx
    .selectFrom("earning_rules")
    .select(["id", "conditions", "effect"])
    .where("business_id", "=", actor.businessId)
    .execute();
  for (const rule of rules) {
    const conditions = { ...(rule.conditions as Record<string, unknown>) };
    const effect = { ...(rule.effect as Record<string, unknown>) };
    let changed = false;
    const minSpend = conditions.min_spend_minor;
    if (typeof minSpend === "number" && minSpend > 0) {
      const next = bounded(amount(minSpend), 10_000_000_000);
      if (next !== minSpend) {
        moved.push({
          table: "earning_rules",
          id: rule.id,
          field: "conditions.min_spend_minor",
          from: minSpend,
          to: next,
        });
        conditions.min_spend_minor = next;
        changed = true;
      }
    }
    const perMinor = effect.per_minor;
    if (effect.type === "points_per_spend" && typeof perMinor === "number") {
      const next = bounded(rate(perMinor), 1_000_000);
      if (next !== perMinor) {
        moved.push({
          table: "earning_rules",
          id: rule.id,
          field: "effect.per_minor",
          from: perMinor,
          to: next,
        });
        effect.per_minor = next;
        changed = true;
      }
    }
    if (!changed) continue;
    await tx
      .updateTable("earning_rules")
      .set({ conditions: JSON.stringify(conditions), effect: JSON.stringify(effect), updated_at: now })
      .where("business_id", "=", actor.businessId)
      .where("id", "=", rule.id)
      .execute();
  }

  const rewards = await tx
    .selectFrom("rewards")
    .select(["id", "name", "type", "value"])
    .where("business_id", "=", actor.businessId)
    .where("type", "in", ["discount_amount", "discount_percent", "donation"])
    .execute();
  const locales = [...new Set([business.locale, "en"])];
  for (const reward of rewards) {
    const value = { ...(reward.value as Record<string, unknown>) };
    let name = reward.name;
    const field = reward.type === "discount_percent" ? "max_discount_minor" : "amount_minor";
    const old = value[field];
    if (typeof old !== "number") continue;
    const next = bounded(amount(old), MAX_AMOUNT_MINOR);
    if (next !== old) {
      value[field] = next;
      moved.push({ table: "rewards", id: reward.id, field: `value.${field}`, from: old, to: next });
    }
    // A name that says the amount ("€10 off", as onboarding names the discount) says the new one,
    // even when the figure stays (€10.00 → $10.00).
    for (const locale of locales) {
      const written = formatMoney(old, from, locale);
      if (name.includes(written)) {
        name = name.replace(written, formatMoney(next, to, locale)).slice(0, 120);
        moved.push({ table: "rewards", id: reward.id, field: "name", from: reward.name, to: name });
        break;
      }
    }
    if (next === old && name === reward.name) continue;
    await tx
      .updateTable("rewards")
      .set({ value: JSON.stringify(value), name, updated_at: now })
      .where("business_id", "=", actor.businessId)
      .where("id", "=", reward.id)
      .execute();
  }

  await audit(tx, actor, now, {
    action: "program.currency_converted",
    targetType: "program",
    targetId: actor.businessId,
    data: { from, to, moved },
  });
}
export interface LocationDto {
  id: string;
  name: string;
  address: string | null;
  archived: boolean;
  created_at: string;
}

export function locationDto(row: LocationsTable): LocationDto {
  return {
    id: row.id,
    name: row.name,
    address: row.address,
    archived: row.archived_at !== null,
    created_at: row.created_at.toISOString(),
  };
}

/** Checks that a location belongs to the business and is open for new purchases. */
export async function assertLocation(tx: Tx, businessId: string, locationId: string): Promise<void> {
  const row = await tx
    .selectFrom("locations")
    .select(["id", "archived_at"])
    .where("business_id", "=", businessId)
    .where("id", "=", locationId)
    .executeTakeFirst();
  checkLocation(row ? { archived: row.archived_at !== null } : undefined, locationId);
}

/** 404 `location_not_found` for no location, 422 `location_archived` for an archived one. */
export function checkLocation(location: { archived: boolean } | undefined, locationId: string): void {
  if (!location) throw notFound("location", locationId);
  if (location.archived) throw new AppError(422, "location_archived", `Location ${locationId} is archived.`);
}

/**
 * Lists the business's locations, oldest first; `archived` filters on whether they are archived.
 *
 * @example await listLocations(db, actor, { limit: 50, archived: false })
 */
export async function listLocations(
  db: Db,
  actor: Actor,
  page: PageRequest & { archived?: boolean | undefined },
): Promise<Page<LocationDto>> {
  const scope = ["locations", actor.businessId, page.archived];
  const after = decodeCursor(page.cursor, scope);
  let query = db.selectFrom("locations").selectAll().where("business_id", "=", actor.businessId);
  if (after) query = query.where("id", ">", after);
  if (page.archived !== undefined) {
    query = query.where("archived_at", page.archived ? "is not" : "is", null);
  }
  const rows = await query
    .orderBy("id")
    .limit(page.limit + 1)
    .execute();
  return toPage(rows, page.limit, locationDto, scope);
}

/**
 * One location of the actor's business; `404 location_not_found` otherwise.
 *
 * @example await getLocation(db, actor, locationId)
 */
export async function getLocation(db: Db, actor: Actor, locationId: string): Promise<LocationDto> {
  const row = await db
    .selectFrom("locations")
    .selectAll()
    .where("business_id", "=", actor.businessId)
    .where("id", "=", locationId)
    .executeTakeFirst();
  if (!row) throw notFound("location", locationId);
  return locationDto(row);
}

/**
 * Adds a location (a shop, a counter) where purchases can be recorded, in the caller's transaction.
 *
 * @example await createLocationInTx(tx, actor, { name: "Centrum", address: "Markt 1, Utrecht" }, now)
 */
export async function createLocationInTx(
  tx: Tx,
  actor: Actor,
  input: { name: string; address?: string | undefined },
  now: Date,
): Promise<LocationDto> {
  const row: LocationsTable = {
    business_id: actor.businessId,
    id: newId(now.getTime()),
    name: input.name,
    address: input.address ?? null,
    archived_at: null,
    created_at: now,
  };
  await tx.insertInto("locations").values(row).execute();
  await audit(tx, actor, now, {
    action: "location.created",
    targetType: "location",
    targetId: row.id,
    data: { name: row.name, address: row.address },
  });
  return locationDto(row);
}

export interface LocationPatch {
  name?: string | undefined;
  /** `null` clears the address. */
  address?: string | null | undefined;
  /** Archived locations take no new purchases; their history stays. */
  archived?: boolean | undefined;
}

/**
 * Renames, re-addresses, archives or restores a location.
 *
 * @example await updateLocation(db, actor, locationId, { archived: true }, now)
 */
export async function updateLocation(
  db: Db,
  actor: Actor,
  locationId: string,
  patch: LocationPatch,
  now: Date,
): Promise<LocationDto> {
  return db.transaction().execute(async (tx) => {
    const current = await tx
      .selectFrom("locations")
      .selectAll()
      .where("business_id", "=", actor.businessId)
      .where("id", "=", locationId)
      .forUpdate()
      .executeTakeFirst();
    if (!current) throw notFound("location", locationId);
    const archivedAt =
      patch.archived === undefined
        ? current.archived_at
        : patch.archived
          ? (current.archived_at ?? now)
          : null;
    const row = await tx
      .updateTable("locations")
      .set({
        name: patch.name ?? current.name,
        address: patch.address === undefined ? current.address : patch.address,
        archived_at: archivedAt,
      })
      .where("business_id", "=", actor.businessId)
      .where("id", "=", locationId)
      .returningAll()
      .executeTakeFirstOrThrow();
    await audit(tx, actor, now, {
      action: "location.updated",
      targetType: "location",
      targetId: locationId,
      data: { ...patch },
    });
    return locationDto(row);
  });
}

/**
 * Puts the program live: from now on customers can join from the poster's QR code or the join
 * link. Publishing again changes nothing (the first date stays). Owner only, audited.
 *
 * @example await publishProgram(db, actor, now) // → the business with `published_at` set
 */
export async function publishProgram(db: Db, actor: Actor, now: Date): Promise<BusinessDto> {
  return db.transaction().execute(async (tx) => {
    const row = await tx
      .updateTable("businesses")
      .set({ published_at: now, updated_at: now })
      .where("id", "=", actor.businessId)
      .where("published_at", "is", null)
      .returningAll()
      .executeTakeFirst();
    if (!row) return businessDto(await getBusiness(tx, actor.businessId));
    await audit(tx, actor, now, { action: "program.published", targetType: "business", targetId: row.id });
    return businessDto(row);
  });
}
