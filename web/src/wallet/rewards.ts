import type { CardReward, WalletCard } from "./types.ts";

/**
 * The rewards the member is shown: all of them, except one paid with a stamp card that was
 * archived and on which the member holds no stamps — no stamp can be earned on it any more, so it
 * is out of reach. With stamps on it, it stays: they still pay for its reward.
 */
export function shownRewards(card: Pick<WalletCard, "business" | "card" | "rewards">): CardReward[] {
  const reachable = new Set([
    ...card.business.program.stamp_cards.map((c) => c.id),
    ...card.card.stamp_cards.map((c) => c.stamp_card_id),
  ]);
  return card.rewards.filter((r) => r.stamp_card_id === null || reachable.has(r.stamp_card_id));
}

/**
 * Whether the card shows its points: while the program earns points, and after points were
 * switched off for as long as the member still holds some (a balance, points on the way or to
 * make up, points about to expire) — they still pay for points rewards, and may still expire.
 */
export function showsPoints(card: Pick<WalletCard, "business" | "card">): boolean {
  const points = card.card.points;
  return (
    card.business.program.points !== null ||
    points.available > 0 ||
    points.pending > 0 ||
    points.debt > 0 ||
    points.expiring_soon.length > 0
  );
}
