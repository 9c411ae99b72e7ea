import { z } from "zod";
import { RewardType, RewardValue } from "../modules/rewards/index.ts";
import { ErrorResponse, POINTS_HELD_FIELDS, STAMP_CARD_HELD_FIELDS } from "./schemas.ts";

/**
 * The answers of the ledger's writes (purchases, refunds, events, adjustments), for the OpenAPI
 * document. They are loose objects: they document the fields a client reads and keep any other,
 * so a field the document does not name yet is never dropped from an answer. A purchase's answer
 * is usually sent as the JSON text stored with its key, which no schema touches.
 */

const Points = z.looseObject(POINTS_HELD_FIELDS);

const StampCardHolding = z.looseObject(STAMP_CARD_HELD_FIELDS);

const TierHolding = z
  .looseObject({
    current: z.looseObject({ id: z.string(), name: z.string(), rank: z.int() }).nullable(),
    expires_at: z.string().nullable(),
    metric: z.enum(["spend", "points", "visits"]),
    metric_value: z.number(),
    next: z
      .looseObject({ id: z.string(), name: z.string(), threshold: z.number(), remaining: z.number() })
      .nullable(),
  })
  .nullable()
  .describe("null when the program has no tiers");

/** What a member holds after the write: points, stamps per card, tier. */
const MemberHoldings = z.looseObject({
  id: z.string(),
  points: Points,
  stamp_cards: z.array(StampCardHolding),
  tier: TierHolding,
});

const TierChanged = z
  .looseObject({ from: z.string().nullable(), to: z.string().nullable() })
  .nullable()
  .describe("The tier moved: its ids before and after");

/** Why, as data: `src/shared/reason.ts` (docs/api.md, "Reasons"). */
export const ReasonCode = z
  .string()
  .nullable()
  .describe(
    'What the reason says, as a code a screen words in its own language (docs/api.md, "Reasons"); null: a reason staff typed, shown as written, or one recorded before the codes',
  );
export const ReasonParams = z
  .record(z.string(), z.unknown())
  .nullable()
  .describe("The figures the code's wording needs (names, amounts in minor units, dates)");

const PointsLine = z.looseObject({
  points: z.int(),
  reason: z.string(),
  reason_code: ReasonCode,
  reason_params: ReasonParams,
  rule_id: z.string().nullable(),
});
const StampsLine = z.looseObject({
  stamp_card_id: z.string(),
  stamps: z.int(),
  reason: z.string(),
  reason_code: ReasonCode,
  reason_params: ReasonParams,
  rule_id: z.string().nullable(),
});

export const PurchaseResultSchema = z.looseObject({
  purchase: z.looseObject({
    id: z.string(),
    external_id: z.string(),
    member_id: z.string().nullable(),
    location_id: z.string().nullable(),
    amount_minor: z.int(),
    currency: z.string(),
    items: z.array(z.looseObject({})),
    refunded_minor: z.int(),
    points_earned: z.int(),
    stamps_earned: z.int(),
    occurred_at: z.string(),
    created_at: z.string(),
  }),
  earned: z.looseObject({
    points: z.array(PointsLine).describe("Each line with the rule that gave it (null: the base rate)"),
    stamps: z.array(StampsLine),
    points_available_at: z.string().nullable().describe("When pending points become spendable"),
  }),
  member: MemberHoldings.extend({
    code: z.string(),
    tier_changed: TierChanged,
    rewards_available: z
      .array(
        z.looseObject({
          id: z.string(),
          name: z.string(),
          type: RewardType,
          value: RewardValue.describe("What it gives, as in the reward catalog"),
          cost_points: z.int().nullable(),
          stamp_card_id: z.string().nullable(),
        }),
      )
      .describe("Rewards the member can redeem now, cheapest in points first"),
  })
    .nullable()
    .describe("null for an anonymous purchase"),
});

/** A purchase as recorded (`GET /v1/purchases`, `GET /v1/purchases/{id}`). */
export const PurchaseSchema = PurchaseResultSchema.shape.purchase;

/** What a member holds now: points, stamps per card, tier (`GET /v1/members/{id}/card`). */
export const MemberCardSchema = MemberHoldings.extend({ code: z.string() });

/** One line of a member's history: a points or a stamps entry, and why, who and from what. */
export const HistoryItemSchema = z.looseObject({
  id: z.string(),
  type: z.enum(["points", "stamps"]),
  kind: z.string().describe("earn, redeem, reverse, expire, adjust, …"),
  points: z.int().nullable().describe("For a points entry; null for stamps"),
  stamps: z.int().nullable().describe("For a stamps entry; null for points"),
  stamp_card_id: z.string().nullable(),
  reason: z.string(),
  reason_code: ReasonCode,
  reason_params: ReasonParams,
  actor: z.string().describe("Who: `staff:<id>`, `api_key:<id>`, `member:<id>` or `system`"),
  source_type: z
    .string()
    .describe(
      "From what: `purchase`, `refund`, `event`, `voucher`, `adjustment`, `signup`, `birthday`; an expiry names the `lot` it emptied, and its reason says what earned the points",
    ),
  source_id: z.string(),
  rule_id: z.string().nullable(),
  occurred_at: z.string(),
  created_at: z.string(),
});

/** What a purchase would earn (`POST /v1/purchases/preview`). */
export const PreviewSchema = z.looseObject({
  points: z.array(PointsLine).describe("Each line with the rule that gives it (null: the base rate)"),
  stamps: z.array(StampsLine),
  total_points: z.int(),
});

/** The member's data in one document (`GET /v1/members/{id}/export`), every list oldest first. */
export const MemberExportSchema = z.looseObject({
  exported_at: z.string(),
  business: z.looseObject({ id: z.string(), name: z.string() }),
  member: z
    .looseObject({ id: z.string(), code: z.string() })
    .describe("The profile, as `GET /v1/members/{id}`"),
  card: MemberCardSchema,
  points: z.array(z.looseObject({})),
  stamps: z.array(z.looseObject({})),
  purchases: z.array(z.looseObject({})),
  refunds: z.array(z.looseObject({})),
  events: z.array(z.looseObject({})),
  vouchers: z.array(z.looseObject({})),
  tier_changes: z.array(z.looseObject({})),
});

/** An expiry run: the lots it closed and the points they held. */
export const ExpiryResultSchema = z.looseObject({ lots: z.int(), points: z.int() });

export const RefundResultSchema = z.looseObject({
  refund: z.looseObject({
    id: z.string(),
    external_id: z.string(),
    purchase_id: z.string(),
    amount_minor: z.int(),
    lines: z.array(z.looseObject({ sku: z.string(), quantity: z.int() })).nullable(),
    points_reversed: z.int(),
    points_unrecovered: z.int().describe("Could not be taken back: spent, and no negative balance allowed"),
    points_expired: z.int().describe("Had expired unused: not taken, but no longer counted for a tier"),
    stamps_reversed: z.int(),
    reason: z.string().nullable(),
    created_at: z.string(),
  }),
  purchase: z.looseObject({ id: z.string(), amount_minor: z.int(), refunded_minor: z.int() }),
  member: MemberHoldings.extend({ tier_changed: TierChanged })
    .nullable()
    .describe("null for an anonymous purchase"),
});

/** A recorded custom event, as `GET /v1/events/{id}` and a recording's answer show it. */
export const EventSchema = z.looseObject({
  id: z.string(),
  external_id: z.string(),
  member_id: z.string(),
  type: z.string(),
  properties: z.record(z.string(), z.unknown()),
  occurred_at: z.string(),
  points_earned: z.int(),
});

export const EventResultSchema = z.looseObject({
  event: EventSchema,
  earned: z.looseObject({ points: z.array(PointsLine), stamps: z.array(StampsLine) }),
  member: MemberHoldings,
});

export const AdjustmentResultSchema = z.looseObject({
  id: z.string().describe("The adjustment's id"),
  member: MemberHoldings,
});

/**
 * The statuses of a retryable write: 201 when done, 200 when the same request came again
 * (`Idempotent-Replayed: true`), and the errors it may answer.
 */
export function writeResponses<T extends z.ZodType>(answer: T) {
  return {
    201: answer.describe("Done"),
    200: answer.describe("The same request again: the first answer, with `Idempotent-Replayed: true`"),
    400: ErrorResponse,
    403: ErrorResponse,
    404: ErrorResponse,
    409: ErrorResponse,
    410: ErrorResponse,
    422: ErrorResponse,
  };
}
