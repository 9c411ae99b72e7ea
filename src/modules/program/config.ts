import { z } from "zod";
import { earnUnitMinor } from "../../shared/price-level.ts";

/**
 * A business's program settings, stored as one validated JSON document per business.
 * Stamp cards, tiers, rules and rewards are rows of their own; this holds the switches and rates.
 */
export const ExpiryPolicy = z
  .discriminatedUnion("policy", [
    z.strictObject({ policy: z.literal("never") }),
    z.strictObject({
      policy: z.literal("days_after_earn"),
      days: z.int().min(1).max(3650).describe("Points expire this many days after they were earned."),
    }),
    z.strictObject({
      policy: z.literal("end_of_month"),
      months_after: z
        .int()
        .min(0)
        .max(120)
        .describe(
          "0: at the end of the month they were earned in (with a pending period: the month they can first be spent in); 12: at the end of that month a year later.",
        ),
    }),
    z.strictObject({
      policy: z.literal("end_of_year"),
      years_after: z
        .int()
        .min(0)
        .max(10)
        .describe(
          "0: at the end of the year they were earned in (with a pending period: the year they can first be spent in); 1: a year later.",
        ),
    }),
  ])
  .describe("When earned points expire, in the business's time zone.");
export type ExpiryPolicy = z.infer<typeof ExpiryPolicy>;

export const ProgramConfig = z.strictObject({
  points: z.strictObject({
    enabled: z.boolean(),
    earn_points: z
      .int()
      .min(0)
      .max(1000)
      .describe("Points earned for every `earn_per_minor` minor units spent."),
    earn_per_minor: z
      .int()
      .min(1)
      .max(1_000_000)
      .describe(
        "Minor units of spend per earn_points: 100 is per 1.00 of a currency with cents (EUR), 1 per yen (JPY), 1000 per dinar (BHD).",
      ),
    rounding: z.enum(["floor", "round", "ceil"]),
    pending_days: z
      .int()
      .min(0)
      .max(365)
      .describe("Days before earned points can be spent (e.g. the return window)."),
    expiry: ExpiryPolicy,
    allow_negative_balance: z
      .boolean()
      .describe(
        "When a refund reverses points that were already spent: go negative (true) or write the rest off (false).",
      ),
    expiring_soon_days: z.int().min(1).max(365),
  }),
  tiers: z.strictObject({
    metric: z.enum(["spend", "points", "visits"]).describe("What qualifies a member for a tier."),
    period: z
      .enum(["calendar_year", "rolling_12_months"])
      .describe(
        "calendar_year: a tier reached in a year is kept until the end of the next year. rolling_12_months: the last 12 months count, and a tier is kept 12 months after it was last reached.",
      ),
  }),
  refunds: z.strictObject({
    reverse_points: z.boolean(),
    reverse_stamps: z.boolean(),
  }),
});
export type ProgramConfig = z.infer<typeof ProgramConfig>;

/**
 * A new business's program in its currency: a point for about what €1 buys, as a round spend
 * (`earnUnitMinor`: €1, 5 zł, 500 Ft, ¥200), where a point per whole unit gave a HUF or JPY
 * business's customers hundreds of times a euro customer's points.
 *
 * @example defaultProgram("JPY").points.earn_per_minor // 200
 */
export function defaultProgram(currency: string): ProgramConfig {
  return {
    ...DEFAULT_PROGRAM,
    points: { ...DEFAULT_PROGRAM.points, earn_per_minor: earnUnitMinor(currency) },
  };
}

export const DEFAULT_PROGRAM: ProgramConfig = {
  points: {
    enabled: true,
    earn_points: 1,
    earn_per_minor: 100,
    rounding: "floor",
    pending_days: 0,
    expiry: { policy: "never" },
    allow_negative_balance: false,
    expiring_soon_days: 30,
  },
  tiers: { metric: "spend", period: "calendar_year" },
  refunds: { reverse_points: true, reverse_stamps: true },
};
