import { z } from "zod";
import { dateTimeInput } from "../../shared/date-time.ts";

/**
 * Earning rules are data: a set of conditions that must all hold and one effect. There is no
 * expression evaluation, so a rule can never run code; the evaluator (`evaluate.ts`) interprets
 * these shapes and nothing else.
 */

const Hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, { error: "must be a time as HH:MM (24-hour)" });
const Key = z.string().min(1).max(64);
const Scalar = z.union([z.string().max(200), z.number(), z.boolean()]);

/** An attribute condition's shape, as rules written under earlier, laxer checks were stored. */
const AttributeConditionShape = z.strictObject({
  key: Key.describe("Attribute (member) or property (event) name"),
  op: z.enum(["eq", "neq", "in", "gt", "gte", "lt", "lte", "exists"]),
  value: z
    .union([Scalar, z.array(Scalar).max(100)])
    .optional()
    .describe(
      "eq, neq: a string, number or boolean; in: a list of them; gt, gte, lt, lte: a number or a string (numbers and numbers written as text compare as numbers, other text as text); exists: none",
    ),
});

export const AttributeCondition = AttributeConditionShape
  // A condition that can never hold, or holds for everyone without the attribute (`eq` without a
  // value matched every member lacking it), is refused rather than stored.
  .superRefine((c, ctx) => {
    const v = c.value;
    const problem =
      c.op === "exists"
        ? v === undefined
          ? null
          : "exists takes no value"
        : v === undefined
          ? `${c.op} needs a value`
          : c.op === "in"
            ? Array.isArray(v) && v.length > 0
              ? null
              : "in needs a list of at least one value"
            : Array.isArray(v)
              ? `${c.op} needs a single value; use in for a list`
              : (c.op === "gt" || c.op === "gte" || c.op === "lt" || c.op === "lte") && typeof v === "boolean"
                ? `${c.op} compares numbers or strings, not true or false`
                : null;
    if (problem) ctx.addIssue({ code: "custom", path: ["value"], message: problem });
  });
export type AttributeCondition = z.infer<typeof AttributeCondition>;

export const ItemMatch = z.strictObject({
  skus: z.array(z.string().min(1).max(64)).max(200).optional(),
  categories: z.array(z.string().min(1).max(64)).max(100).optional(),
  brands: z.array(z.string().min(1).max(64)).max(100).optional(),
});
export type ItemMatch = z.infer<typeof ItemMatch>;

const conditionsOf = (attribute: typeof AttributeConditionShape | typeof AttributeCondition) =>
  z.strictObject({
    min_spend_minor: z.int().min(0).max(10_000_000_000).optional(),
    items: ItemMatch.extend({ min_quantity: z.int().min(1).max(10_000).optional() })
      .optional()
      .describe("At least one line item must match one of the lists (sku, category or brand)."),
    days_of_week: z
      .array(z.int().min(1).max(7))
      .min(1)
      .max(7)
      .optional()
      .describe("ISO weekdays in the business's time zone: 1 = Monday … 7 = Sunday"),
    time_window: z
      .strictObject({ from: Hhmm, to: Hhmm })
      .refine((w) => w.from !== w.to, { error: "from and to must differ" })
      .optional()
      .describe(
        "Local time of day, from inclusive to exclusive; wraps past midnight when from > to, and then the hours after midnight belong to the day the window started on (Friday 22:00–02:00 includes Saturday 01:00)",
      ),
    tier_ids: z
      .array(z.uuid())
      .min(1)
      .max(20)
      .optional()
      .describe("The member must be in one of these tiers"),
    first_purchase: z
      .boolean()
      .optional()
      .describe("true: only the member's first purchase; false: never the first"),
    location_ids: z.array(z.uuid()).min(1).max(100).optional(),
    member_attributes: z.array(attribute).max(20).optional(),
    event_properties: z.array(attribute).max(20).optional(),
  });

export const RuleConditions = conditionsOf(AttributeCondition).describe(
  "Every condition given must hold; an empty object always holds.",
);
/** Conditions as stored and answered: rules written under earlier, laxer checks are read as they are. */
export const StoredRuleConditions = conditionsOf(AttributeConditionShape).describe(
  "Every condition given must hold; an empty object always holds.",
);
export type RuleConditions = z.infer<typeof RuleConditions>;

export const RuleEffect = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("fixed_points"), points: z.int().min(1).max(1_000_000) }),
  z.strictObject({
    type: z.literal("points_per_spend"),
    points: z.int().min(1).max(1000),
    per_minor: z.int().min(1).max(1_000_000),
    scope: z
      .enum(["order", "matching_items"])
      .describe(
        "Spend of the whole purchase, or only of matching items (at their list prices, scaled down to what was paid when the items list more than the purchase's amount)",
      ),
  }),
  z.strictObject({
    type: z.literal("multiplier"),
    factor_bp: z
      .int()
      .min(10_001)
      .max(100_000)
      .describe("Multiplies the base points: 20000 = double points. Adds base × (factor − 1) points."),
  }),
  z.strictObject({ type: z.literal("stamps"), stamp_card_id: z.uuid(), stamps: z.int().min(1).max(100) }),
]);
export type RuleEffect = z.infer<typeof RuleEffect>;

export const RuleCap = z
  .strictObject({
    period: z.enum(["day", "week", "month", "year", "lifetime"]),
    max_times: z.int().min(1).max(100_000).optional(),
    max_points: z.int().min(1).max(100_000_000).optional(),
  })
  .refine((c) => c.max_times !== undefined || c.max_points !== undefined, {
    error: "a cap needs max_times, max_points or both",
  })
  .describe("Per member, per calendar period in the business's time zone");
export type RuleCap = z.infer<typeof RuleCap>;

export const RuleTrigger = z
  .enum(["purchase", "event", "signup", "birthday"])
  .describe(
    "purchase; event (with event_type); signup (a welcome bonus); birthday (once a year, on the member's birthday in the business's time zone)",
  );

const RuleFields = {
  name: z.string().trim().min(1).max(120),
  description: z.string().max(1000).nullable().optional(),
  trigger: RuleTrigger,
  event_type: z
    .string()
    .regex(/^[a-z][a-z0-9_]{0,63}$/, { error: "must be snake_case, e.g. review_written" })
    .nullable()
    .optional(),
  priority: z.int().min(0).max(1000).default(100).describe("Lower runs first"),
  stop_processing: z.boolean().default(false).describe("When this rule applies, later rules are skipped"),
  conditions: RuleConditions.default({}),
  effect: RuleEffect,
  cap: RuleCap.nullable().optional(),
  starts_at: dateTimeInput()
    .nullable()
    .optional()
    .describe("From this instant on, inclusive; null: from the start"),
  ends_at: dateTimeInput()
    .nullable()
    .optional()
    .describe("Until this instant, exclusive (a purchase at ends_at no longer counts); null: no end"),
  active: z.boolean().default(true),
};

/** The body that creates a rule; `RulePatch` changes some of its fields. */
export const RuleInput = z.strictObject(RuleFields);
export type RuleInput = z.infer<typeof RuleInput>;

/** A stored rule as the evaluator sees it. */
export interface Rule {
  id: string;
  name: string;
  trigger: "purchase" | "event" | "signup" | "birthday";
  event_type: string | null;
  priority: number;
  stop_processing: boolean;
  conditions: RuleConditions;
  effect: RuleEffect;
  cap: RuleCap | null;
  starts_at: Date | null;
  ends_at: Date | null;
  active: boolean;
  /** When the rule was made (set on the rules a program runs): a birthday's catch-up gives nothing for days before it. */
  created_at?: Date;
}
