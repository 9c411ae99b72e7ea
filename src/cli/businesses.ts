import type { Queryable } from "../db/database.ts";
import type { BusinessesTable } from "../db/schema.ts";

/** Operator look-ups across businesses: the CLI names a business by its slug. */

/**
 * The business with this slug, or undefined.
 *
 * @example const cafe = await findBusinessBySlug(db, "demo-cafe")
 */
export async function findBusinessBySlug(db: Queryable, slug: string): Promise<BusinessesTable | undefined> {
  return db
    .selectFrom("businesses")
    .selectAll()
    .where("slug", "=", slug.trim().toLowerCase())
    .executeTakeFirst();
}

/**
 * The demo is built under a handle of this prefix and takes `demo-cafe` only once complete: a
 * first start stopped half-way (Ctrl-C) leaves no half-built `demo-cafe`, and the next start
 * builds it again.
 */
export const DEMO_BUILDING_PREFIX = "demo-cafe-building-";

/** True when the installation has at least one business (the demo is only made on an empty one). */
export async function hasAnyBusiness(db: Queryable): Promise<boolean> {
  // A demo whose build was stopped half-way does not count: the next start builds the demo again.
  const any = await db
    .selectFrom("businesses")
    .select("id")
    .where("slug", "not like", `${DEMO_BUILDING_PREFIX}%`)
    .limit(1)
    .executeTakeFirst();
  return any !== undefined;
}
