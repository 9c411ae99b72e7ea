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
