import { z } from "zod";
import { dateTimeInput } from "../../shared/date-time.ts";
import { MAX_AMOUNT_MINOR } from "../../shared/money.ts";

/** Request shapes of the reward catalog: one `value` shape per reward type. */

const Amount = z.int().min(1).max(MAX_AMOUNT_MINOR);
const Text = (max: number) => z.string().trim().min(1).max(max);
const DateTime = dateTimeInput();

/** The `value` of each reward type. */
export const RewardValues = {
  discount_amount: z.strictObject({ amount_minor: Amount.describe("Discount in minor units") }),
  discount_percent: z.strictObject({
    percent: z.int().min(1).max(100),
    max_discount_minor: Amount.optional().describe("The most the discount may take off, in minor units"),
  }),
  free_product: z.strictObject({ sku: Text(64).optional(), product_name: Text(200) }),
  experience: z.strictObject({
    starts_at: DateTime.optional(),
    place: Text(200).optional(),
  }),
  perk: z.strictObject({
    perk: z.enum(["free_shipping", "priority_service", "other"]),
    detail: Text(200).optional(),
  }),
  donation: z.strictObject({ cause: Text(200), amount_minor: Amount.describe("Donated, in minor units") }),
} as const;

export type RewardType = keyof typeof RewardValues;
export const RewardType = z
  .enum(["discount_amount", "discount_percent", "free_product", "experience", "perk", "donation"])
  .describe(
    "discount_amount, discount_percent, free_product, experience (workshop, event; its capacity is the stock), perk (convenience), donation (to a cause)",
  );

/** Any reward value; which one fits is decided by the reward's type. */
export const RewardValue = z.union([
  RewardValues.discount_amount,
  RewardValues.discount_percent,
  RewardValues.free_product,
  RewardValues.experience,
  RewardValues.perk,
  RewardValues.donation,
]);
export type RewardValue = z.infer<typeof RewardValue>;

/** Largest catalog price in points. */
export const MAX_COST_POINTS = 10_000_000;

const Fields = {
  name: Text(120),
  description: z.string().trim().max(1000).nullable(),
  cost_points: z
    .int()
    .min(1)
    .max(MAX_COST_POINTS)
    .nullable()
    .describe("Price in points; set exactly one of cost_points and stamp_card_id"),
  stamp_card_id: z
    .uuid({ error: "must be a UUID" })
    .nullable()
    .describe("A full card of this active stamp card pays for the reward"),
  eligible_tier_ids: z
    .array(z.uuid({ error: "must be a UUID" }))
    .max(20)
    .describe("Tiers that may redeem it; empty: every member"),
  stock: z.int().min(0).max(1_000_000).nullable().describe("Vouchers left to issue; null: unlimited"),
  per_member_limit: z
    .int()
    .min(1)
    .max(1000)
    .nullable()
    .describe("Most vouchers (not voided) one member may hold of it; null: unlimited"),
  valid_from: DateTime.nullable(),
  valid_until: DateTime.nullable(),
  voucher_valid_days: z.int().min(1).max(3650).describe("Days a voucher can be used after it is issued"),
  active: z.boolean(),
};

const CreateFields = {
  ...Fields,
  description: Fields.description.default(null),
  cost_points: Fields.cost_points.default(null),
  stamp_card_id: Fields.stamp_card_id.default(null),
  eligible_tier_ids: Fields.eligible_tier_ids.default([]),
  stock: Fields.stock.default(null),
  per_member_limit: Fields.per_member_limit.default(null),
  valid_from: Fields.valid_from.default(null),
  valid_until: Fields.valid_until.default(null),
  voucher_valid_days: Fields.voucher_valid_days.default(30),
  active: Fields.active.default(true),
};

function variant<T extends RewardType>(type: T, value: (typeof RewardValues)[T]) {
  return z.strictObject({ ...CreateFields, type: z.literal(type), value });
}

/** The body that creates a reward: `type` decides the shape of `value`. */
export const RewardInput = z.discriminatedUnion("type", [
  variant("discount_amount", RewardValues.discount_amount),
  variant("discount_percent", RewardValues.discount_percent),
  variant("free_product", RewardValues.free_product),
  variant("experience", RewardValues.experience),
  variant("perk", RewardValues.perk),
  variant("donation", RewardValues.donation),
]);
export type RewardInput = z.output<typeof RewardInput>;

/**
 * The body that changes some fields of a reward; `null` clears a nullable field. A new `type` needs
 * a new `value`: else the issue is at `value`, with `params: { reason: "type_needs_value" }` (which
 * src/http/app.ts passes on) for a client to word in its user's language. A `value` alone must fit
 * the reward's current type.
 */
export const RewardPatch = z
  .strictObject({ ...Fields, type: RewardType, value: RewardValue })
  .partial()
  .refine((p) => Object.keys(p).length > 0, { error: "send at least one field to change" })
  .refine((p) => p.type === undefined || p.value !== undefined, {
    error: (issue) =>
      `must be sent with type "${(issue.input as { type?: unknown }).type}": a new type needs its value in the same request`,
    path: ["value"],
    params: { reason: "type_needs_value" },
  });
export type RewardPatch = z.output<typeof RewardPatch>;
