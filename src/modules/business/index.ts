import type { Actor } from "../../context.ts";
import type { Db, Tx } from "../../db/database.ts";
import type { BusinessesTable, LocationsTable } from "../../db/schema.ts";
import { AppError, conflict, notFound } from "../../shared/errors.ts";
import { newId } from "../../shared/ids.ts";
import { minorDigits } from "../../shared/money.ts";
import { decodeCursor, toPage } from "../../shared/pagination.ts";
import {
  createSession,
  hashPassword,
  type Page,
  type PageRequest,
  type StaffDto,
  staffDto,
} from "../access/index.ts";
import { audit } from "../audit/index.ts";
import { defaultProgram, type ProgramConfig } from "../program/config.ts";
import { getProgramDto, updateProgramInTx } from "../program/index.ts";

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

/**
 * Creates a business with its owner account and a default program, and logs the owner in.
 *
 * @example await signup(db, { slug: "cafe-anna", name: "Café Anna", currency: "EUR", ... }, now)
 */
export async function signup(
  db: Db,
  input: SignupInput,
  now: Date,
): Promise<{ business: BusinessDto; owner: StaffDto; token: string; expires_at: string }> {
  const passwordHash = await hashPassword(input.owner.password);
  return db.transaction().execute(async (tx) => {
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
    };
    // Two sign-ups of one handle at once: the unique index decides, and the second hears 409.
    const inserted = await tx
      .insertInto("businesses")
      .values(business)
      .onConflict((oc) => oc.column("slug").doNothing())
      .returning("id")
      .executeTakeFirst();
    if (!inserted)
      throw conflict("slug_taken", `The business handle "${slug}" is already taken; choose another.`);
    await tx
      .insertInto("programs")
      .values({
        business_id: business.id,
        config: JSON.stringify(input.program ?? defaultProgram(input.currency)),
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
    return { business: businessDto(business), owner: staffDto(owner), ...session };
  });
}

export async function getBusiness(db: Db | Tx, businessId: string): Promise<BusinessesTable> {
  const row = await db.selectFrom("businesses").selectAll().where("id", "=", businessId).executeTakeFirst();
  if (!row) throw notFound("business", businessId);
  return row;
}

export async function updateBusiness(
  db: Db,
  actor: Actor,
  patch: Partial<Pick<BusinessesTable, "name" | "currency" | "timezone" | "locale">>,
  now: Date,
): Promise<BusinessDto> {
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
        await followCurrency(tx, actor, current.currency, patch.currency, now);
      }
    }
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
    return businessDto(row);
  });
}

/**
 * A currency chosen by mistake at sign-up and corrected before the first purchase: when the
 * program still earns the old currency's default (a point per whole unit, `defaultProgram`), it
 * earns the new one's, so a switch from EUR to JPY gives a point per yen rather than per ¥100.
 * A rate the business chose itself is its own and stays.
 */
async function followCurrency(tx: Tx, actor: Actor, from: string, to: string, now: Date): Promise<void> {
  const before = 10 ** minorDigits(from);
  const after = 10 ** minorDigits(to);
  if (before === after) return;
  const program = await getProgramDto(tx, actor.businessId);
  if (program.config.points.earn_per_minor !== before) return;
  await updateProgramInTx(
    tx,
    actor,
    { ...program.config, points: { ...program.config.points, earn_per_minor: after } },
    now,
  );
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
