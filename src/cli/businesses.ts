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

/** True when the installation has at least one business (the demo is only made on an empty one). */
export async function hasAnyBusiness(db: Queryable): Promise<boolean> {
  return (await db.selectFrom("businesses").select("id").limit(1).executeTakeFirst()) !== undefined;
}
