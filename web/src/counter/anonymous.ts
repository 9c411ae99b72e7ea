import type { PurchaseBody, PurchaseItem } from "./types.ts";

/**
 * Sales without a member: a customer who is not a member (or would rather not say), and a
 * member's purchase refused because the card was deleted meanwhile (`409 member_erased`). They
 * are recorded as anonymous purchases, so the business can compare members with everyone else.
 */

/** What the cashier typed, where and when: a sale, whoever it is for. */
export interface Sale {
  amount_minor: number;
  currency: string;
  items: PurchaseItem[];
  /** The counter's location; none when the business has none. */
  location_id: string | null;
  occurred_at: string;
}

/**
 * The body of a sale recorded without a member. Its external id is made of the idempotency key
 * the press got, so the queue's retries (and the server) count it once.
 *
 * @example saleWithoutMember(newKey(), { amount_minor: 450, currency: "EUR", items: [], location_id: null, occurred_at })
 */
export function saleWithoutMember(key: string, sale: Sale): PurchaseBody {
  return {
    external_id: `counter-${key}`,
    amount_minor: sale.amount_minor,
    currency: sale.currency,
    items: sale.items,
    ...(sale.location_id ? { location_id: sale.location_id } : {}),
    occurred_at: sale.occurred_at,
  };
}

/**
 * A member's purchase the server refused (the card was deleted), as the same sale without a
 * member: the same amount, items and time, at the refused purchase's own location (none if it had
 * none) unless `locationId` says where else: the counter's, when that one was closed meanwhile. A
 * different request, so a key of its own; made from the refused purchase's key, so however often
 * the cashier presses (a double tap, a press again after a reload) the server records it once. The
 * body stays the same at every press, whatever location the counter moved to meanwhile: the same
 * key with another body would be refused (`409 idempotency_key_reused`).
 *
 * @example withoutMember({ key, body }) // { key: `${key}.no-member`, body: { ...no member_id, body.location_id } }
 */
export function withoutMember(
  refused: { key: string; body: PurchaseBody },
  locationId: string | null = refused.body.location_id ?? null,
): { key: string; body: PurchaseBody } {
  const key = `${refused.key}.no-member`;
  const { body } = refused;
  return {
    key,
    body: saleWithoutMember(key, {
      amount_minor: body.amount_minor,
      currency: body.currency,
      items: body.items,
      location_id: locationId,
      occurred_at: body.occurred_at,
    }),
  };
}

/**
 * Whether a refused member's purchase can be recorded as the same sale without a member: the card
 * was deleted (`member_erased`); or a purchase saved offline for a card code that finds no member
 * when it is sent (`member_not_found`: a deleted card gets a new code, so the old one finds no
 * one; or the code was mistyped). The sale happened either way.
 *
 * @example mayRecordWithoutMember("member_erased", body) // true
 */
export function mayRecordWithoutMember(code: string, body: PurchaseBody): boolean {
  return code === "member_erased" || (code === "member_not_found" && body.member_code !== undefined);
}

/**
 * The business's join page, for the invitation's QR code: `/v1/auth/me`'s `join_url` (on the
 * server's PUBLIC_URL) when the server has one, else `/join/<slug>` on the origin the counter was
 * opened at (the address the cashier's browser reached, which a proxy does not rewrite).
 *
 * @example joinLink(null, "https://loyalty.example", "corner-cafe") // "https://loyalty.example/join/corner-cafe"
 */
export function joinLink(joinUrl: string | null, origin: string, slug: string): string {
  return joinUrl ?? `${origin.replace(/\/+$/, "")}/join/${encodeURIComponent(slug)}`;
}

/** The answer of `POST /v1/purchases/preview` (the part read here). */
export interface Preview {
  total_points: number;
  stamps: { stamp_card_id: string; stamps: number }[];
}

/**
 * What the sale would have earned as a member's (the preview of a purchase without a member is
 * priced for a new member): points, and stamps by card, each card once, in the preview's order.
 *
 * @example wouldEarn({ total_points: 4, stamps: [{ stamp_card_id: "c1", stamps: 1 }] }) // { points: 4, stamps: [{ cardId: "c1", stamps: 1 }] }
 */
export function wouldEarn(preview: Preview): {
  points: number;
  stamps: { cardId: string; stamps: number }[];
} {
  const stamps = new Map<string, number>();
  for (const line of preview.stamps) {
    if (line.stamps > 0) stamps.set(line.stamp_card_id, (stamps.get(line.stamp_card_id) ?? 0) + line.stamps);
  }
  return {
    points: Math.max(0, preview.total_points),
    stamps: [...stamps].map(([cardId, count]) => ({ cardId, stamps: count })),
  };
}
