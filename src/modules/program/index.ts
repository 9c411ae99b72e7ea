import { sql } from "kysely";
import type { Actor } from "../../context.ts";
import type { Db, Tx } from "../../db/database.ts";
import { conflict, invalid, notFound } from "../../shared/errors.ts";
import { audit } from "../audit/index.ts";
import { ProgramConfig } from "./config.ts";

/** A business's program settings: one versioned JSON document, replaced as a whole. */

export { DEFAULT_PROGRAM, ExpiryPolicy, ProgramConfig } from "./config.ts";

export interface ProgramDto {
  /**
   * The settings document's version (`config_version`): up by one each time the settings are
   * written, not when the catalog (tiers, cards, rules, rewards) changes.
   */
  version: number;
  updated_at: string;
  config: ProgramConfig;
}

/**
 * The business's program settings, validated against the current `ProgramConfig` schema.
 *
 * @example const { points } = await getProgram(tx, actor.businessId)
 */
export async function getProgram(db: Db | Tx, businessId: string): Promise<ProgramConfig> {
  return (await getProgramDto(db, businessId)).config;
}

/** The program settings with their version, as the API shows them. */
export async function getProgramDto(db: Db | Tx, businessId: string): Promise<ProgramDto> {
  const row = await db
    .selectFrom("programs")
    .selectAll()
    .where("business_id", "=", businessId)
    .executeTakeFirst();
  // Signup writes the program together with the business, so no row means no such business.
  if (!row) throw notFound("business", businessId);
  return {
    version: row.config_version,
    updated_at: row.updated_at.toISOString(),
    config: ProgramConfig.parse(row.config),
  };
}

/**
 * Replaces the program settings as a whole (PUT semantics) and bumps the version, audited.
 *
 * @example await updateProgram(db, actor, { ...config, tiers: { metric: "visits", period: "calendar_year" } }, now)
 */
export async function updateProgram(
  db: Db,
  actor: Actor,
  config: ProgramConfig,
  now: Date,
  expectedVersion?: number,
): Promise<ProgramDto> {
  return db.transaction().execute((tx) => updateProgramInTx(tx, actor, config, now, expectedVersion));
}

/**
 * A settings document as the program may store it: valid against `ProgramConfig`, and passing the
 * checks that span its fields, which `PUT /v1/program` and sign-up (a program sent with the new
 * business) both make, with the same answer: `422 pending_outlasts_expiry` when points would
 * expire before they could be spent.
 *
 * @example const config = checkProgramConfig(input.program) // throws 422 pending_outlasts_expiry
 */
export function checkProgramConfig(config: ProgramConfig): ProgramConfig {
  const parsed = ProgramConfig.parse(config);
  const { pending_days, expiry } = parsed.points;
  if (expiry.policy === "days_after_earn" && pending_days >= expiry.days) {
    throw invalid(
      "pending_outlasts_expiry",
      `Points would expire (after ${expiry.days} days) before they could be spent (after ${pending_days} days): make pending_days shorter than the expiry.`,
      { pending_days, expiry_days: expiry.days },
    );
  }
  return parsed;
}

/** Like `updateProgram`, inside the caller's transaction (a program template changes more at once). */
export async function updateProgramInTx(
  tx: Tx,
  actor: Actor,
  config: ProgramConfig,
  now: Date,
  expectedVersion?: number,
): Promise<ProgramDto> {
  const parsed = checkProgramConfig(config);
  let update = tx
    .updateTable("programs")
    .set({
      config: JSON.stringify(parsed),
      // Both: the settings' own version, and the snapshot caches' key (the catalog's too).
      config_version: sql<number>`config_version + 1`,
      version: sql<number>`version + 1`,
      updated_at: now,
    })
    .where("business_id", "=", actor.businessId);
  // A document read at another version would write back whatever changed since (If-Match). Only
  // a change of the settings counts: a tier or rule changed meanwhile is not in this document.
  if (expectedVersion !== undefined) update = update.where("config_version", "=", expectedVersion);
  const row = await update.returning(["config_version", "updated_at"]).executeTakeFirst();
  if (!row && expectedVersion !== undefined) {
    const current = await tx
      .selectFrom("programs")
      .select("config_version")
      .where("business_id", "=", actor.businessId)
      .executeTakeFirst();
    if (current) {
      throw conflict(
        "program_changed",
        `The settings changed since version ${expectedVersion} was read (now ${current.config_version}): read them again, then change them.`,
        { version: current.config_version },
      );
    }
  }
  if (!row) throw notFound("business", actor.businessId);
  await audit(tx, actor, now, {
    action: "program.updated",
    targetType: "program",
    targetId: actor.businessId,
    data: { version: row.config_version, config: parsed },
  });
  return { version: row.config_version, updated_at: row.updated_at.toISOString(), config: parsed };
}

/**
 * Locks the business's program row until the transaction ends. Writes to the program's
 * configuration (tiers, stamp cards, rules) take it first, so checks that span several rows — rank
 * and threshold order of tiers, limits on counts — hold when two managers edit at the same time.
 *
 * @example await lockProgram(tx, actor.businessId)
 */
export async function lockProgram(tx: Tx, businessId: string): Promise<void> {
  // An update both locks the row and moves the version, so every API node's snapshot cache
  // reloads the catalog on its next purchase (see snapshot.ts).
  const row = await tx
    .updateTable("programs")
    .set({ version: sql<number>`version + 1` })
    .where("business_id", "=", businessId)
    .returning("version")
    .executeTakeFirst();
  if (!row) throw notFound("business", businessId);
}
