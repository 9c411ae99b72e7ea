import { z } from "zod";
import type { Actor, AppContext } from "../context.ts";
import type { Tx } from "../db/database.ts";
import { audit } from "../modules/audit/index.ts";
import { getBusiness } from "../modules/business/index.ts";
import { onceInTransaction, type StoredResult } from "../modules/idempotency/index.ts";
import {
  getProgram,
  lockProgram,
  type ProgramConfig,
  type ProgramDto,
  updateProgramInTx,
} from "../modules/program/index.ts";
import { createRewardInTx, type RewardDto, RewardInput } from "../modules/rewards/index.ts";
import { createRuleInTx, type RuleDto, RuleInput } from "../modules/rules/index.ts";
import { createStampCardInTx, type StampCardDto } from "../modules/stamps/index.ts";
import { createTierInTx, MAX_TIER_THRESHOLD, type TierDto } from "../modules/tiers/index.ts";
import { conflict } from "../shared/errors.ts";
import { MAX_AMOUNT_MINOR, minorDigits } from "../shared/money.ts";

/**
 * Program templates: a whole starter program (settings, stamp card, tiers, rules, rewards) from a
 * few plain parameters, so a business is live minutes after signing up. A template is applied in
 * one transaction through the modules' own create functions, so it obeys every rule a manager
 * creating the same things one by one would meet — and a failure anywhere leaves nothing behind.
 *
 * A template is a starting point, not a merge: it refuses (409 `program_not_empty`) when the
 * business already has an active stamp card, tier, earning rule or reward. Changing a running
 * program is the editors' job, where each change is deliberate.
 */

const Name = z.string().trim().min(1).max(60);
const Product = z.string().trim().min(1).max(60);
const Label = z.string().trim().min(1).max(120);

/** Names shown to members; the dashboard sends them in the business's language. */
const Names = {
  reward_name: Label.optional().describe("Name of the reward; default from the product"),
  rule_name: Label.optional().describe("Name of the template's earning rule"),
};
const Category = z
  .string()
  .trim()
  .min(1)
  .max(64)
  .describe("The category of the line items that earn a stamp (only with stamp_per item)");

export const CafeStampCardParams = z
  .strictObject({
    product: Product.default("coffee").describe("What earns a stamp and what the full card gives"),
    stamps_required: z.int().min(2).max(30).default(10).describe("Stamps that complete the card"),
    stamp_per: z
      .enum(["visit", "item"])
      .default("visit")
      .describe(
        "visit: one stamp per purchase; item: one stamp per line item of the category (the counter or POS must send items)",
      ),
    category: Category.default("coffee"),
    min_spend_minor: z
      .int()
      .min(0)
      .max(MAX_AMOUNT_MINOR)
      .default(0)
      .describe("Least purchase, in minor units, that earns a stamp"),
    welcome_stamps: z.int().min(0).max(5).default(1).describe("Stamps given on joining; 0: none"),
    card_name: Label.optional().describe("Name of the stamp card; default from the product"),
    ...Names,
  })
  .superRefine((p, ctx) => {
    // A welcome that fills the card hands every newcomer a free product from a public join link.
    if (p.welcome_stamps >= p.stamps_required) {
      ctx.addIssue({
        code: "custom",
        path: ["welcome_stamps"],
        message: `must be fewer than stamps_required (${p.stamps_required}): a welcome must not fill the card`,
      });
    }
  });
export type CafeStampCardParams = z.output<typeof CafeStampCardParams>;

/** The spend a template's points are for; by default a whole unit of the business's currency. */
const EarnPerMinor = z
  .int()
  .min(1)
  .max(1_000_000)
  .optional()
  .describe(
    "Minor units of spend per earn_points; default: one whole unit of the business's currency (100 for EUR, 1 for JPY)",
  );

export const BakeryPointsParams = z
  .strictObject({
    earn_points: z.int().min(1).max(100).default(1).describe("Points for every earn_per_minor spent"),
    earn_per_minor: EarnPerMinor,
    treat: Product.default("pastry").describe("The free treat points buy"),
    treat_cost_points: z.int().min(1).max(100_000).default(100),
    birthday_points: z
      .int()
      .min(0)
      .max(100_000)
      .default(100)
      .describe("Points given on the member's birthday; 0: none"),
    expiry_months: z
      .int()
      .min(0)
      .max(120)
      .default(12)
      .describe("Points expire at the end of the month this many months after they were earned; 0: never"),
    ...Names,
  })
  .describe("Points per spend, a free treat for points and a birthday gift");
export type BakeryPointsParams = z.output<typeof BakeryPointsParams>;

/** One tier of a template, each field defaulted; a tier left out is refused, never made up. */
const TierStep = (name: string, threshold: number, multiplier: number) =>
  z.strictObject({
    name: Name.default(name),
    threshold: z.int().min(0).max(MAX_TIER_THRESHOLD).default(threshold),
    earn_multiplier_bp: z.int().min(10_000).max(100_000).default(multiplier),
  });
// No default for a missing tier: two tiers sent are refused (three are needed), never topped
// up with an English third one.

function thresholdsIncrease(tiers: { threshold: number }[], ctx: z.RefinementCtx, key: string): void {
  for (let i = 1; i < tiers.length; i++) {
    const lower = tiers[i - 1];
    const higher = tiers[i];
    if (lower && higher && higher.threshold <= lower.threshold) {
      ctx.addIssue({
        code: "custom",
        path: [key, i, "threshold"],
        message: `must be above ${lower.threshold}, the threshold of the tier below`,
      });
    }
  }
}

export const BoutiqueTiersParams = z
  .strictObject({
    tiers: z
      .tuple([
        TierStep("Silver", 0, 10_000),
        TierStep("Gold", 50_000, 12_500),
        TierStep("Platinum", 150_000, 15_000),
      ])
      .prefault([{}, {}, {}])
      .describe("Three tiers by spend in a calendar year (thresholds in minor units), lowest first"),
    earn_points: z.int().min(1).max(100).default(1),
    earn_per_minor: EarnPerMinor,
    discount_minor: z.int().min(1).max(MAX_AMOUNT_MINOR).default(1_000).describe("The discount points buy"),
    discount_cost_points: z.int().min(1).max(100_000).default(200),
    reward_name: Names.reward_name,
  })
  .superRefine((p, ctx) => thresholdsIncrease(p.tiers, ctx, "tiers"));
export type BoutiqueTiersParams = z.output<typeof BoutiqueTiersParams>;

export const GymTiersParams = z
  .strictObject({
    tiers: z
      .tuple([
        TierStep("Regular", 0, 10_000),
        TierStep("Committed", 50, 12_500),
        TierStep("Champion", 120, 15_000),
      ])
      .prefault([{}, {}, {}])
      .describe("Three tiers by visits in the last 12 months, lowest first"),
    points_per_visit: z.int().min(1).max(1000).default(10),
    session_name: Product.default("personal training session").describe("The reward of the top tier"),
    session_cost_points: z.int().min(1).max(100_000).default(300),
    ...Names,
  })
  .superRefine((p, ctx) => thresholdsIncrease(p.tiers, ctx, "tiers"));
export type GymTiersParams = z.output<typeof GymTiersParams>;

/** Every template by its name in the URL, with the schema of its parameters. */
export const TEMPLATES = {
  cafe_stamp_card: CafeStampCardParams,
  bakery_points: BakeryPointsParams,
  boutique_tiers: BoutiqueTiersParams,
  gym_tiers: GymTiersParams,
} as const;
export type TemplateName = keyof typeof TEMPLATES;
export const TEMPLATE_NAMES = Object.keys(TEMPLATES) as TemplateName[];

export interface TemplateResult {
  template: TemplateName;
  program: ProgramDto;
  stamp_cards: StampCardDto[];
  tiers: TierDto[];
  rules: RuleDto[];
  rewards: RewardDto[];
}

/** The templates with their default parameters, for a picker to start from. */
export function listTemplates(): { name: TemplateName; defaults: Record<string, unknown> }[] {
  return TEMPLATE_NAMES.map((name) => ({ name, defaults: TEMPLATES[name].parse({}) }));
}

/** What a template builds, before it is written. */
interface Plan {
  config: (current: ProgramConfig) => ProgramConfig;
  stampCard?: {
    name: string;
    stamps_required: number;
    earn_on: "visit" | "item";
    category: string;
    min_spend_minor: number;
  };
  tiers: { name: string; threshold: number; earn_multiplier_bp: number; benefits: string[] }[];
  /** Rules and rewards; `stamp_card` and `top_tier` are filled in once those exist. */
  rules: (refs: { cardId: string | null; tierIds: string[] }) => unknown[];
  rewards: (refs: { cardId: string | null; tierIds: string[] }) => unknown[];
}

/** Points on, at `earn_points` for every `earn_per_minor` (default: a whole unit of the currency). */
const pointsOn = (
  current: ProgramConfig,
  earn_points: number,
  earn_per_minor: number | undefined,
  currency: string,
) => ({
  ...current.points,
  enabled: true,
  earn_points,
  earn_per_minor: earn_per_minor ?? 10 ** minorDigits(currency),
});

function plan(template: TemplateName, params: unknown, currency: string): Plan {
  switch (template) {
    case "cafe_stamp_card": {
      const p = params as CafeStampCardParams;
      return {
        // A stamp card café keeps it simple: no points next to the stamps.
        config: (c) => ({ ...c, points: { ...c.points, enabled: false } }),
        stampCard: {
          name: p.card_name ?? `${capitalize(p.product)} card`,
          stamps_required: p.stamps_required,
          earn_on: p.stamp_per,
          category: p.category,
          min_spend_minor: p.min_spend_minor,
        },
        tiers: [],
        rules: ({ cardId }) =>
          p.welcome_stamps > 0 && cardId
            ? [
                {
                  name: p.rule_name ?? "Welcome stamp",
                  trigger: "signup",
                  effect: { type: "stamps", stamp_card_id: cardId, stamps: p.welcome_stamps },
                },
              ]
            : [],
        rewards: ({ cardId }) => [
          {
            name: p.reward_name ?? `Free ${p.product}`,
            type: "free_product",
            value: { product_name: p.product },
            stamp_card_id: cardId,
          },
        ],
      };
    }
    case "bakery_points": {
      const p = params as BakeryPointsParams;
      return {
        config: (c) => ({
          ...c,
          points: {
            ...pointsOn(c, p.earn_points, p.earn_per_minor, currency),
            expiry:
              p.expiry_months === 0
                ? { policy: "never" }
                : { policy: "end_of_month", months_after: p.expiry_months },
          },
        }),
        tiers: [],
        rules: () =>
          p.birthday_points > 0
            ? [
                {
                  name: p.rule_name ?? "Birthday treat",
                  trigger: "birthday",
                  effect: { type: "fixed_points", points: p.birthday_points },
                },
              ]
            : [],
        rewards: () => [
          {
            name: p.reward_name ?? `Free ${p.treat}`,
            type: "free_product",
            value: { product_name: p.treat },
            cost_points: p.treat_cost_points,
          },
        ],
      };
    }
    case "boutique_tiers": {
      const p = params as BoutiqueTiersParams;
      return {
        config: (c) => ({
          ...c,
          points: pointsOn(c, p.earn_points, p.earn_per_minor, currency),
          tiers: { metric: "spend", period: "calendar_year" },
        }),
        tiers: p.tiers.map((t) => ({ ...t, benefits: [] })),
        rules: () => [],
        rewards: () => [
          {
            name: p.reward_name ?? "Discount",
            type: "discount_amount",
            value: { amount_minor: p.discount_minor },
            cost_points: p.discount_cost_points,
          },
        ],
      };
    }
    case "gym_tiers": {
      const p = params as GymTiersParams;
      return {
        config: (c) => ({
          ...c,
          // Points come from the per-visit rule, not from the amount paid.
          points: pointsOn(c, 0, undefined, currency),
          tiers: { metric: "visits", period: "rolling_12_months" },
        }),
        tiers: p.tiers.map((t) => ({ ...t, benefits: [] })),
        rules: () => [
          {
            name: p.rule_name ?? "Points per visit",
            trigger: "purchase",
            effect: { type: "fixed_points", points: p.points_per_visit },
          },
        ],
        rewards: ({ tierIds }) => [
          {
            name: p.reward_name ?? capitalize(p.session_name),
            type: "experience",
            value: {},
            cost_points: p.session_cost_points,
            eligible_tier_ids: tierIds.slice(-1),
          },
        ],
      };
    }
  }
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** Refuses to apply a template over a program that already has cards, tiers, rules or rewards. */
async function assertEmpty(tx: Tx, businessId: string): Promise<void> {
  const counts = await Promise.all(
    (["stamp_cards", "tiers", "earning_rules", "rewards"] as const).map(async (table) => {
      const { count } = await tx
        .selectFrom(table)
        .select((eb) => eb.fn.countAll<number>().as("count"))
        .where("business_id", "=", businessId)
        .where("archived_at", "is", null)
        .executeTakeFirstOrThrow();
      return [table, Number(count)] as const;
    }),
  );
  const present = Object.fromEntries(counts.filter(([, n]) => n > 0));
  if (Object.keys(present).length > 0) {
    throw conflict(
      "program_not_empty",
      "This business already has stamp cards, tiers, rules or rewards; a template only starts an empty program. Archive them first, or change them in the program editors.",
      { existing: present },
    );
  }
}

/**
 * Applies a template with its (already validated) parameters in one transaction, at most once per
 * idempotency key.
 *
 * @example await applyTemplate(ctx, actor, "cafe_stamp_card", CafeStampCardParams.parse({ stamps_required: 8 }), key)
 */
export async function applyTemplate(
  ctx: AppContext,
  actor: Actor,
  template: TemplateName,
  params: unknown,
  idempotencyKey: string | undefined,
): Promise<StoredResult<TemplateResult>> {
  const now = ctx.clock.now();
  return onceInTransaction(
    ctx.db,
    actor.businessId,
    idempotencyKey,
    `program.template.${template}`,
    params,
    now,
    async (tx) => {
      await lockProgram(tx, actor.businessId);
      await assertEmpty(tx, actor.businessId);
      const { currency } = await getBusiness(tx, actor.businessId);
      const steps = plan(template, params, currency);
      const program = await updateProgramInTx(
        tx,
        actor,
        steps.config(await getProgram(tx, actor.businessId)),
        now,
      );
      const stamp_cards: StampCardDto[] = [];
      if (steps.stampCard) {
        const card = steps.stampCard;
        stamp_cards.push(
          await createStampCardInTx(
            tx,
            actor,
            {
              name: card.name,
              stamps_required: card.stamps_required,
              earn_on: card.earn_on,
              min_spend_minor: card.min_spend_minor,
              item_match: card.earn_on === "item" ? { categories: [card.category] } : null,
              // A visit earns one stamp; per item, a round for the table may fill a card.
              max_stamps_per_purchase: card.earn_on === "item" ? card.stamps_required : 1,
            },
            now,
          ),
        );
      }
      const tiers: TierDto[] = [];
      for (const [i, tier] of steps.tiers.entries()) {
        tiers.push(await createTierInTx(tx, actor, { ...tier, rank: i + 1 }, now));
      }
      const refs = { cardId: stamp_cards[0]?.id ?? null, tierIds: tiers.map((t) => t.id) };
      const rules: RuleDto[] = [];
      for (const rule of steps.rules(refs)) {
        rules.push(await createRuleInTx(tx, actor, RuleInput.parse(rule), now));
      }
      const rewards: RewardDto[] = [];
      for (const reward of steps.rewards(refs)) {
        rewards.push(await createRewardInTx(tx, actor, RewardInput.parse(reward), now));
      }
      await audit(tx, actor, now, {
        action: "program.template_applied",
        targetType: "program",
        targetId: actor.businessId,
        data: { template, params },
      });
      return { status: 201, body: { template, program, stamp_cards, tiers, rules, rewards } };
    },
  );
}
