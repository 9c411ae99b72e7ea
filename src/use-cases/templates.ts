import { z } from "zod";
import type { Actor, AppContext } from "../context.ts";
import type { Db, Tx } from "../db/database.ts";
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
import { AppError, conflict } from "../shared/errors.ts";
import { formatMoney, MAX_AMOUNT_MINOR } from "../shared/money.ts";
import { earnUnitMinor, typicalMinor } from "../shared/price-level.ts";

/**
 * Program templates: a whole starter program (settings, stamp card, tiers, rules, rewards) from a
 * few plain parameters, so a business is live minutes after signing up. A template is applied in
 * one transaction through the modules' own create functions, so it obeys every rule a manager
 * creating the same things one by one would meet — and a failure anywhere leaves nothing behind.
 *
 * A template is a starting point, not a merge: it refuses (409 `program_not_empty`) when the
 * business already has an active stamp card, tier, earning rule or reward. Changing a running
 * program is the editors' job, where each change is deliberate.
 *
 * Money defaults follow what the business's currency is worth (`src/shared/price-level.ts`): a
 * point for about what €1 buys (1 €, 5 zł, 500 Ft, 200 ¥), a discount of ten of those for 200
 * points (5 % back), tiers at about €500 and €1,500 of spend (200,000 Ft and 600,000 Ft). The
 * schemas leave those parameters unset; `resolveParams` fills them in the currency.
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
    welcome_stamps: z
      .int()
      .min(0)
      .max(5)
      .default(1)
      .describe("Stamps given on joining, fewer than stamps_required; 0: none"),
    card_name: Label.optional().describe("Name of the stamp card; default from the product"),
    ...Names,
  })
  .describe("A stamp card, a free product for a full card and welcome stamps");
export type CafeStampCardParams = z.output<typeof CafeStampCardParams>;

/** The spend a template's points are for; by default about what €1 buys, in the business's currency. */
const EarnPerMinor = z
  .int()
  .min(1)
  .max(1_000_000)
  .optional()
  .describe(
    "Minor units of spend per earn_points; default: about what €1 buys in the business's currency, as a round amount (100 for EUR: €1; 500 for PLN: 5 zł; 500 for HUF: 500 Ft; 200 for JPY: ¥200)",
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
/** A tier by spend: its threshold's default is money, sized to the currency by `resolveParams`. */
const SpendTierStep = (name: string, multiplier: number) =>
  z.strictObject({
    name: Name.default(name),
    threshold: z.int().min(0).max(MAX_TIER_THRESHOLD).optional(),
    earn_multiplier_bp: z.int().min(10_000).max(100_000).default(multiplier),
  });
// No default for a missing tier: two tiers sent are refused (three are needed), never topped
// up with an English third one.

export const BoutiqueTiersParams = z
  .strictObject({
    tiers: z
      .tuple([
        SpendTierStep("Silver", 10_000),
        SpendTierStep("Gold", 12_500),
        SpendTierStep("Platinum", 15_000),
      ])
      .prefault([{}, {}, {}])
      .describe(
        "Three tiers by spend in a calendar year (thresholds in minor units, each above the one below), lowest first; default thresholds: 0, then about €500 and €1,500 in the business's currency (200,000 Ft and 600,000 Ft)",
      ),
    earn_points: z.int().min(1).max(100).default(1),
    earn_per_minor: EarnPerMinor,
    discount_minor: z
      .int()
      .min(1)
      .max(MAX_AMOUNT_MINOR)
      .optional()
      .describe(
        "The discount points buy, in minor units; default: ten times the default earn_per_minor (€10, 50 zł)",
      ),
    discount_cost_points: z.int().min(1).max(100_000).default(200),
    reward_name: Names.reward_name,
  })
  .describe("Tiers by yearly spend with point multipliers, points per spend and a discount for points");
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
      .describe("Three tiers by visits in the last 12 months (each above the one below), lowest first"),
    points_per_visit: z.int().min(1).max(1000).default(10),
    session_name: Product.default("personal training session").describe("The reward of the top tier"),
    // 500: a Champion (×1.5, 15 points a visit) gets a session every 34 visits, about 8 % back at
    // a drop-in price a visit (test/api/template-give-back.int.test.ts).
    session_cost_points: z.int().min(1).max(100_000).default(500),
    ...Names,
  })
  .describe("Tiers by visits, points per visit and a session for the top tier");
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

/** A boutique's parameters with every money amount set, in the business's currency. */
export interface ResolvedBoutiqueTiersParams extends Omit<BoutiqueTiersParams, "tiers"> {
  tiers: { name: string; threshold: number; earn_multiplier_bp: number }[];
  earn_per_minor: number;
  discount_minor: number;
}
export interface ResolvedBakeryPointsParams extends BakeryPointsParams {
  earn_per_minor: number;
}

/** What the spend thresholds of a boutique default to, in euros: sized to the currency. */
const BOUTIQUE_THRESHOLD_EUROS = [0, 500, 1_500] as const;

/**
 * A template's parameters (already parsed) with the money amounts left unset filled in for
 * `currency`: a point per about what €1 buys, a discount of ten of those, tiers at about €500
 * and €1,500 of spend — round amounts of the currency (`src/shared/price-level.ts`).
 *
 * @example resolveParams("boutique_tiers", BoutiqueTiersParams.parse({}), "HUF").tiers.map((t) => t.threshold) // [0, 200000, 600000]
 */
export function resolveParams(template: TemplateName, params: unknown, currency: string): unknown {
  const unit = earnUnitMinor(currency);
  switch (template) {
    case "bakery_points": {
      const p = params as BakeryPointsParams;
      return { ...p, earn_per_minor: p.earn_per_minor ?? unit } satisfies ResolvedBakeryPointsParams;
    }
    case "boutique_tiers": {
      const p = params as BoutiqueTiersParams;
      return {
        ...p,
        tiers: p.tiers.map((tier, i) => ({
          ...tier,
          threshold: tier.threshold ?? typicalMinor(BOUTIQUE_THRESHOLD_EUROS[i] ?? 0, currency),
        })),
        earn_per_minor: p.earn_per_minor ?? unit,
        discount_minor: p.discount_minor ?? 10 * unit,
      } satisfies ResolvedBoutiqueTiersParams;
    }
    default:
      return params;
  }
}

/**
 * One problem with a template's parameters that the schema cannot see: in the shape of a schema's
 * issue, with `params.reason` and its figures for a client to word it in its user's language.
 */
export interface ParamsIssue {
  in: "body";
  path: string;
  code: "custom";
  message: string;
  params: Record<string, string | number>;
}

/**
 * The checks that span parameters, on resolved parameters (a default threshold counts):
 * - `threshold_not_above` at `tiers.<i>.threshold`: `below` (visits) or `below_minor` with
 *   `currency` (spend), the threshold of the tier below;
 * - `welcome_fills_card` at `welcome_stamps`: `stamps_required`.
 */
export function paramsIssues(template: TemplateName, params: unknown, currency: string): ParamsIssue[] {
  const issues: ParamsIssue[] = [];
  if (template === "cafe_stamp_card") {
    const p = params as CafeStampCardParams;
    // A welcome that fills the card hands every newcomer a free product from a public join link.
    if (p.welcome_stamps >= p.stamps_required) {
      issues.push({
        in: "body",
        path: "welcome_stamps",
        code: "custom",
        message: `must be fewer than the stamps a full card needs (${p.stamps_required}): a welcome must not fill the card`,
        params: { reason: "welcome_fills_card", stamps_required: p.stamps_required },
      });
    }
  }
  if (template === "boutique_tiers" || template === "gym_tiers") {
    const spend = template === "boutique_tiers";
    const tiers = (params as { tiers: { threshold: number }[] }).tiers;
    for (let i = 1; i < tiers.length; i++) {
      const lower = tiers[i - 1];
      const higher = tiers[i];
      if (!lower || !higher || higher.threshold > lower.threshold) continue;
      issues.push({
        in: "body",
        path: `tiers.${i}.threshold`,
        code: "custom",
        message: `must be above ${spend ? formatMoney(lower.threshold, currency) : `${lower.threshold} visits`}, the threshold of the tier below`,
        params: spend
          ? { reason: "threshold_not_above", below_minor: lower.threshold, currency }
          : { reason: "threshold_not_above", below: lower.threshold },
      });
    }
  }
  return issues;
}

/** 400 `validation_failed` with the issues, as a schema's failure answers. */
function refuse(issues: ParamsIssue[]): AppError {
  const first = issues[0];
  return new AppError(
    400,
    "validation_failed",
    first ? `Invalid body at "${first.path}": ${first.message}` : "The request is invalid.",
    { issues },
  );
}

/**
 * The templates with their default parameters in the business's currency, for a picker to start
 * from.
 *
 * @example await listTemplates(ctx.db, actor) // [{ name: "cafe_stamp_card", defaults: { … } }, …]
 */
export async function listTemplates(
  db: Db,
  actor: Actor,
): Promise<{ name: TemplateName; defaults: Record<string, unknown> }[]> {
  const { currency } = await getBusiness(db, actor.businessId);
  return templateDefaults(currency);
}

/** Every template's default parameters in `currency`. */
export function templateDefaults(
  currency: string,
): { name: TemplateName; defaults: Record<string, unknown> }[] {
  return TEMPLATE_NAMES.map((name) => ({
    name,
    defaults: resolveParams(name, TEMPLATES[name].parse({}), currency) as Record<string, unknown>,
  }));
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

/** Points on, at `earn_points` for every `earn_per_minor`. */
const pointsOn = (current: ProgramConfig, earn_points: number, earn_per_minor: number) => ({
  ...current.points,
  enabled: true,
  earn_points,
  earn_per_minor,
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
      const p = params as ResolvedBakeryPointsParams;
      return {
        config: (c) => ({
          ...c,
          points: {
            ...pointsOn(c, p.earn_points, p.earn_per_minor),
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
      const p = params as ResolvedBoutiqueTiersParams;
      return {
        config: (c) => ({
          ...c,
          points: pointsOn(c, p.earn_points, p.earn_per_minor),
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
          points: pointsOn(c, 0, earnUnitMinor(currency)),
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
      const { currency } = await getBusiness(tx, actor.businessId);
      const resolved = resolveParams(template, params, currency);
      const issues = paramsIssues(template, resolved, currency);
      if (issues.length > 0) throw refuse(issues);
      await assertEmpty(tx, actor.businessId);
      const steps = plan(template, resolved, currency);
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
        data: { template, params: resolved },
      });
      return { status: 201, body: { template, program, stamp_cards, tiers, rules, rewards } };
    },
  );
}
