import { sql } from "kysely";
import { z } from "zod";
import type { Actor } from "../../context.ts";
import type { Db, Tx } from "../../db/database.ts";
import type { EarningRulesTable } from "../../db/schema.ts";
import { conflict, invalid, notFound } from "../../shared/errors.ts";
import { newId } from "../../shared/ids.ts";
import { decodeKeyCursor, type PageRequest, toPage } from "../../shared/pagination.ts";
import { audit } from "../audit/index.ts";
import { lockProgram } from "../program/index.ts";
import { listActiveStampCards } from "../stamps/index.ts";
import { listActiveTiers } from "../tiers/index.ts";
import {
  type Rule,
  RuleCap,
  RuleEffect,
  RuleInput,
  type RuleTrigger,
  StoredRuleConditions,
} from "./schema.ts";

/**
 * Earning rules as rows: created, changed and archived here, applied by the evaluator. Beyond the
 * shape that Zod checks, a rule is checked against its own fields and the business's stamp cards,
 * tiers and locations, so a stored rule always makes sense.
 */

export * from "./schema.ts";

/** Most rules (active or paused, not archived) a business can have; each purchase looks at them. */
export const MAX_RULES = 200;

const { shape } = RuleInput;
/** The body that changes some fields of a rule: no defaults, so an absent field keeps its value. */
export const RulePatch = z
  .strictObject({
    ...shape,
    priority: shape.priority.unwrap(),
    stop_processing: shape.stop_processing.unwrap(),
    conditions: shape.conditions.unwrap(),
    active: shape.active.unwrap(),
  })
  .partial()
  .refine((p) => Object.keys(p).length > 0, { error: "send at least one field to change" });
export type RulePatch = z.infer<typeof RulePatch>;

type Trigger = z.infer<typeof RuleTrigger>;

/** A rule's fields as stored, before it has an id. */
type RuleState = Omit<Rule, "id" | "created_at"> & { description: string | null };

export interface RuleDto extends Omit<Rule, "starts_at" | "ends_at" | "created_at"> {
  description: string | null;
  starts_at: string | null;
  ends_at: string | null;
  archived_at: string | null;
  created_at: string;
  updated_at: string;
}

function toRule(row: EarningRulesTable): Rule {
  return {
    id: row.id,
    name: row.name,
    trigger: row.trigger,
    event_type: row.event_type,
    priority: row.priority,
    stop_processing: row.stop_processing,
    conditions: StoredRuleConditions.parse(row.conditions),
    effect: RuleEffect.parse(row.effect),
    cap: row.cap === null ? null : RuleCap.parse(row.cap),
    starts_at: row.starts_at,
    ends_at: row.ends_at,
    active: row.active,
  };
}

export function ruleDto(row: EarningRulesTable): RuleDto {
  return {
    ...toRule(row),
    description: row.description,
    starts_at: row.starts_at?.toISOString() ?? null,
    ends_at: row.ends_at?.toISOString() ?? null,
    archived_at: row.archived_at?.toISOString() ?? null,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

const toDate = (value: string | null | undefined) => (value ? new Date(value) : null);

/** The stored fields a patch sets; absent fields stay absent. */
function patchState(patch: RulePatch): Partial<RuleState> {
  const { starts_at, ends_at, ...rest } = patch;
  return {
    ...rest,
    ...(starts_at === undefined ? {} : { starts_at: toDate(starts_at) }),
    ...(ends_at === undefined ? {} : { ends_at: toDate(ends_at) }),
  };
}

/**
 * The business's active, unarchived rules for a trigger (and event type), in the order the
 * evaluator applies them: priority, then age. Start and end dates are left to the evaluator.
 *
 * @example const rules = await listActiveRules(tx, businessId, "event", "review_written")
 */
export async function listActiveRules(
  tx: Db | Tx,
  businessId: string,
  trigger: Trigger,
  eventType?: string,
): Promise<Rule[]> {
  let query = tx
    .selectFrom("earning_rules")
    .selectAll()
    .where("business_id", "=", businessId)
    .where("trigger", "=", trigger)
    .where("active", "=", true)
    .where("archived_at", "is", null);
  if (eventType !== undefined) query = query.where("event_type", "=", eventType);
  const rows = await query.orderBy("priority").orderBy("created_at").orderBy("id").execute();
  return rows.map((row) => ({ ...toRule(row), created_at: row.created_at }));
}

/** The business's rules in evaluation order, optionally of one trigger; archived ones only when asked. */
export async function listRules(
  db: Db | Tx,
  businessId: string,
  options: { trigger?: Trigger; includeArchived?: boolean },
  page: PageRequest,
): Promise<{ data: RuleDto[]; next_cursor: string | null }> {
  let query = db.selectFrom("earning_rules").selectAll().where("business_id", "=", businessId);
  if (options.trigger) query = query.where("trigger", "=", options.trigger);
  if (!options.includeArchived) query = query.where("archived_at", "is", null);
  const scope = ["rules", businessId, options.trigger, options.includeArchived ?? false];
  // Keyset on the list's order, from the cursor's own values: a rule whose priority changed
  // between two pages does not make the rest of the list disappear.
  const after = decodeKeyCursor(page.cursor, scope, ["number", "time", "uuid"]);
  if (after !== undefined) {
    const [priority, createdAt, id] = after;
    query = query.where(
      sql<boolean>`(priority, created_at, id) > (${priority}::int, ${createdAt}::timestamptz, ${id}::uuid)`,
    );
  }
  const rows = await query
    .orderBy("priority")
    .orderBy("created_at")
    .orderBy("id")
    .limit(page.limit + 1)
    .execute();
  return toPage(rows, page.limit, ruleDto, scope, (row) => [
    row.priority,
    row.created_at.toISOString(),
    row.id,
  ]);
}

async function findRow(db: Db | Tx, businessId: string, id: string): Promise<EarningRulesTable> {
  const row = await db
    .selectFrom("earning_rules")
    .selectAll()
    .where("business_id", "=", businessId)
    .where("id", "=", id)
    .executeTakeFirst();
  if (!row) throw notFound("rule", id);
  return row;
}

/** One rule of the business (archived too), or 404 `rule_not_found`. */
export async function getRule(db: Db | Tx, businessId: string, id: string): Promise<RuleDto> {
  return ruleDto(await findRow(db, businessId, id));
}

/**
 * Checks what Zod cannot: fields that depend on each other, and references to the business's
 * stamp cards, tiers and locations (only when `references` says they were just set, so a rule
 * whose tier was archived later can still be renamed).
 */
async function assertValidRule(
  tx: Tx,
  businessId: string,
  rule: RuleState,
  references: { effect: boolean; conditions: boolean; cap?: boolean },
): Promise<void> {
  if (rule.trigger === "event" && !rule.event_type) {
    throw invalid("event_type_required", "A rule with trigger event needs event_type, e.g. review_written.");
  }
  if (rule.trigger !== "event" && rule.event_type) {
    throw invalid("event_type_not_allowed", `A rule with trigger ${rule.trigger} takes no event_type.`);
  }
  const { effect, conditions } = rule;
  if (effect.type === "multiplier" && rule.trigger !== "purchase") {
    throw invalid(
      "multiplier_needs_purchase",
      "A multiplier multiplies the points of a purchase: use trigger purchase.",
    );
  }
  if (rule.trigger !== "purchase") {
    // A purchase's conditions and its spend never hold for an event, a signup or a birthday: such
    // a rule would silently give nothing.
    const needsPurchase = (["min_spend_minor", "items", "first_purchase"] as const).filter(
      (k) => conditions[k] !== undefined,
    );
    if (needsPurchase.length > 0) {
      throw invalid(
        "condition_needs_purchase",
        `${needsPurchase.join(", ")} ${needsPurchase.length === 1 ? "is a condition" : "are conditions"} on a purchase: a rule with trigger ${rule.trigger} never meets ${needsPurchase.length === 1 ? "it" : "them"}. Use trigger purchase, or leave ${needsPurchase.length === 1 ? "it" : "them"} out.`,
      );
    }
    if (effect.type === "points_per_spend") {
      throw invalid(
        "points_per_spend_needs_purchase",
        `Points per spend need a purchase's amount: a rule with trigger ${rule.trigger} gives fixed points or stamps.`,
      );
    }
  }
  if (
    (references.effect || references.cap) &&
    effect.type === "stamps" &&
    rule.cap?.max_points !== undefined
  ) {
    // max_points caps the points a rule gives; a stamp rule gives none, so it would cap nothing.
    // (Checked when either is set: a stamp rule stored with one before can still be renamed.)
    throw invalid(
      "cap_points_on_stamps",
      "A stamp rule gives stamps, not points: cap it by max_times (how often it gives its stamps in the period), and leave out max_points.",
    );
  }
  if (rule.trigger !== "event" && conditions.event_properties !== undefined) {
    throw invalid(
      "condition_needs_event",
      `event_properties are the properties of a custom event: a rule with trigger ${rule.trigger} never meets them.`,
    );
  }
  const items = conditions.items;
  if (
    effect.type === "points_per_spend" &&
    effect.scope === "matching_items" &&
    !(items?.skus?.length || items?.categories?.length || items?.brands?.length)
  ) {
    throw invalid(
      "items_condition_required",
      "Points on matching items need conditions.items naming at least one sku, category or brand.",
    );
  }
  if (rule.starts_at && rule.ends_at && rule.starts_at >= rule.ends_at) {
    throw invalid("invalid_date_range", "starts_at must be before ends_at.");
  }
  if (references.effect && effect.type === "stamps") {
    const cards = await listActiveStampCards(tx, businessId);
    if (!cards.some((c) => c.id === effect.stamp_card_id)) {
      throw invalid(
        "stamp_card_not_found",
        `No active stamp card with id ${effect.stamp_card_id} in this business.`,
      );
    }
  }
  if (references.conditions && conditions.tier_ids) {
    const active = new Set((await listActiveTiers(tx, businessId)).map((t) => t.id));
    const missing = conditions.tier_ids.find((id) => !active.has(id));
    if (missing) throw invalid("tier_not_found", `No active tier with id ${missing} in this business.`);
  }
  if (references.conditions && conditions.location_ids) {
    const ids = [...new Set(conditions.location_ids)];
    // Locations belong to the business module, which has no lookup of many at once.
    const found = await tx
      .selectFrom("locations")
      .select("id")
      .where("business_id", "=", businessId)
      .where("id", "in", ids)
      .where("archived_at", "is", null)
      .execute();
    const known = new Set(found.map((l) => l.id));
    const missing = ids.find((id) => !known.has(id));
    if (missing)
      throw invalid("location_not_found", `No active location with id ${missing} in this business.`);
  }
}

function rowValues(state: RuleState) {
  return {
    ...state,
    conditions: JSON.stringify(state.conditions),
    effect: JSON.stringify(state.effect),
    cap: state.cap === null ? null : JSON.stringify(state.cap),
  };
}

/**
 * Creates an earning rule, audited, inside the caller's transaction (the route's, which also keeps
 * its idempotency key; a program template's, which creates several things at once).
 *
 * @example await createRuleInTx(tx, actor, RuleInput.parse({ name: "Double Tuesdays", trigger: "purchase", conditions: { days_of_week: [2] }, effect: { type: "multiplier", factor_bp: 20000 } }), now)
 */
export async function createRuleInTx(tx: Tx, actor: Actor, input: RuleInput, now: Date): Promise<RuleDto> {
  const state: RuleState = {
    name: input.name,
    description: input.description ?? null,
    trigger: input.trigger,
    event_type: input.event_type ?? null,
    priority: input.priority,
    stop_processing: input.stop_processing,
    conditions: input.conditions,
    effect: input.effect,
    cap: input.cap ?? null,
    starts_at: toDate(input.starts_at),
    ends_at: toDate(input.ends_at),
    active: input.active,
  };
  await lockProgram(tx, actor.businessId);
  await assertValidRule(tx, actor.businessId, state, { effect: true, conditions: true });
  const { count } = await tx
    .selectFrom("earning_rules")
    .select((eb) => eb.fn.countAll<number>().as("count"))
    .where("business_id", "=", actor.businessId)
    .where("archived_at", "is", null)
    .executeTakeFirstOrThrow();
  if (Number(count) >= MAX_RULES) {
    throw conflict(
      "rule_limit_reached",
      `A business can have at most ${MAX_RULES} rules; archive one first.`,
    );
  }
  const row: EarningRulesTable = {
    business_id: actor.businessId,
    id: newId(now.getTime()),
    ...state,
    archived_at: null,
    created_at: now,
    updated_at: now,
  };
  await tx
    .insertInto("earning_rules")
    .values({ ...row, ...rowValues(state) })
    .execute();
  await audit(tx, actor, now, {
    action: "rule.created",
    targetType: "rule",
    targetId: row.id,
    data: { ...input },
  });
  return ruleDto(row);
}

/**
 * Changes some fields of a rule that is not archived, audited; the result is checked as a whole.
 *
 * @example await updateRule(db, actor, ruleId, { active: false }, now)
 */
export async function updateRule(
  db: Db,
  actor: Actor,
  id: string,
  patch: RulePatch,
  now: Date,
): Promise<RuleDto> {
  return db.transaction().execute(async (tx) => {
    await lockProgram(tx, actor.businessId);
    const current = await findRow(tx, actor.businessId, id);
    if (current.archived_at) throw conflict("rule_archived", `Rule ${id} is archived and cannot change.`);
    const { id: _id, ...stored } = toRule(current);
    const state: RuleState = { ...stored, description: current.description, ...patchState(patch) };
    await assertValidRule(tx, actor.businessId, state, {
      effect: patch.effect !== undefined,
      conditions: patch.conditions !== undefined,
      cap: patch.cap !== undefined,
    });
    const row = await tx
      .updateTable("earning_rules")
      .set({ ...rowValues(state), updated_at: now })
      .where("business_id", "=", actor.businessId)
      .where("id", "=", id)
      .returningAll()
      .executeTakeFirstOrThrow();
    await audit(tx, actor, now, {
      action: "rule.updated",
      targetType: "rule",
      targetId: id,
      data: { ...patch },
    });
    return ruleDto(row);
  });
}

/**
 * Archives a rule: it no longer applies, while points it earned stay. Archiving an archived rule
 * changes nothing.
 *
 * @example await archiveRule(db, actor, ruleId, now)
 */
export async function archiveRule(db: Db, actor: Actor, id: string, now: Date): Promise<RuleDto> {
  return db.transaction().execute(async (tx) => {
    // Moves the program's version: every node's snapshot drops it before its next purchase.
    await lockProgram(tx, actor.businessId);
    const current = await findRow(tx, actor.businessId, id);
    if (current.archived_at) return ruleDto(current);
    const row = await tx
      .updateTable("earning_rules")
      .set({ archived_at: now, updated_at: now })
      .where("business_id", "=", actor.businessId)
      .where("id", "=", id)
      .returningAll()
      .executeTakeFirstOrThrow();
    await audit(tx, actor, now, { action: "rule.archived", targetType: "rule", targetId: id });
    return ruleDto(row);
  });
}
