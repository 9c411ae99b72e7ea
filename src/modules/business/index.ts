import type { Actor } from "../../context.ts";
import type { Db, Tx } from "../../db/database.ts";
import type { BusinessesTable, LocationsTable } from "../../db/schema.ts";
import { AppError, conflict, notFound } from "../../shared/errors.ts";
import { newId } from "../../shared/ids.ts";
import { createSession, hashPassword, type StaffDto, staffDto } from "../access/index.ts";
import { audit } from "../audit/index.ts";
import { DEFAULT_PROGRAM, type ProgramConfig } from "../program/config.ts";

/** The business profile, its locations, and signing a new business up. */

export interface BusinessDto {
  id: string;
  slug: string;
  name: string;
  currency: string;
  timezone: string;
  locale: string;
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
    const taken = await tx.selectFrom("businesses").select("id").where("slug", "=", slug).executeTakeFirst();
    if (taken)
      throw conflict("slug_taken", `The business handle "${slug}" is already taken; choose another.`);
    const business: BusinessesTable = {
      id: newId(now.getTime()),
      slug,
      name: input.name,
      currency: input.currency,
      timezone: input.timezone,
      locale: input.locale,
      created_at: now,
      updated_at: now,
    };
    await tx.insertInto("businesses").values(business).execute();
    await tx
      .insertInto("programs")
      .values({
        business_id: business.id,
        config: JSON.stringify(input.program ?? DEFAULT_PROGRAM),
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
  if (!row) throw notFound("location", locationId);
  if (row.archived_at) throw new AppError(422, "location_archived", `Location ${locationId} is archived.`);
}
