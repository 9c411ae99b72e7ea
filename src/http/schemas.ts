import { z } from "zod";
import { isCurrency, MAX_AMOUNT_MINOR } from "../shared/money.ts";
import { isTimeZone } from "../shared/time.ts";
import { PENDING_UNTIL_SHOWN } from "../use-cases/member-summary.ts";

/** Shared Zod pieces for request and response schemas. */

export const Uuid = z.uuid({ error: "must be a UUID" });
export const IdParams = z.strictObject({ id: Uuid });

export const Currency = z
  .string()
  .refine(isCurrency, { error: "must be an ISO-4217 currency code such as EUR or PLN" })
  .describe("ISO-4217 currency code");
export const TimeZone = z
  .string()
  .refine(isTimeZone, { error: "must be an IANA time zone such as Europe/Amsterdam" })
  .describe("IANA time zone");
export const Locale = z.enum(["en", "nl", "pl", "pt-BR"]).describe("Language of customer-facing text");
export const AmountMinor = z
  .int()
  .min(0)
  .max(MAX_AMOUNT_MINOR)
  .describe("Amount in minor units of the currency (cents)");
export const DateOnly = z.iso.date({ error: "must be a date as YYYY-MM-DD" });

export const PageQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional(),
});

/**
 * A page of one of the program's catalogs (rules, tiers, stamp cards): by default as many rows as
 * a business may have active, so the active list is one page; archived rows page on.
 */
export const CatalogPageQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).default(200),
  cursor: z.string().max(200).optional(),
  include_archived: z
    .enum(["true", "false"])
    .transform((v) => v === "true")
    .optional(),
});

export const ErrorResponse = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    details: z.record(z.string(), z.unknown()).optional(),
  }),
});

/** Wraps a list item schema as a page: `{ data, next_cursor }`. */
export function page<T extends z.ZodType>(item: T) {
  return z.object({ data: z.array(item), next_cursor: z.string().nullable() });
}

export const IdempotencyHeaders = z.object({
  "idempotency-key": z
    .string()
    .min(1)
    .max(200)
    .optional()
    .describe(
      "Makes a retried request safe: the same key returns the first result; after `ANSWER_RETENTION_DAYS` the answer is gone and a retry is refused with `410 idempotency_answer_expired`, still not done twice.",
    ),
});

/** The fields of a member's points as a summary shows them (the wallet's card, a write's answer). */
export const POINTS_HELD_FIELDS = {
  available: z.int().describe("Spendable now"),
  pending: z.int().describe("Earned, not spendable yet (the program's pending period)"),
  debt: z.int().describe("Owed from refunds, when the program allows a negative balance"),
  lifetime_earned: z.int(),
  lifetime_spent: z.int(),
  expiring_soon: z.array(z.object({ expires_at: z.string(), points: z.int() })),
  pending_until: z
    .array(
      z.object({
        available_at: z.string().describe("When these points become spendable"),
        points: z.int(),
      }),
    )
    .describe(
      `When the pending points become spendable: the points of each release time, earliest first; the first ${PENDING_UNTIL_SHOWN} release times (\`pending\` counts them all)`,
    ),
};

/** The fields of a member's stamps on one card as a summary shows them. */
export const STAMP_CARD_HELD_FIELDS = {
  stamp_card_id: z.string(),
  name: z.string(),
  stamps: z.int(),
  stamps_required: z.int(),
  full_cards: z.int(),
  stamps_on_current_card: z.int(),
  stamps_to_next_reward: z.int(),
  archived: z
    .boolean()
    .describe(
      "An archived card earns no more stamps, but those collected still pay for its reward: it shows, after the active cards, while the member holds stamps on it",
    ),
};
