/** A member's stamp card as the API sums it up (`GET /v1/members/{id}/card`, the wallet's card). */
export interface StampCardSummary {
  stamps_required: number;
  full_cards: number;
  stamps_on_current_card: number;
  stamps_to_next_reward: number;
}

/**
 * How a stamp card is drawn, the same in the wallet, at the counter and in the dashboard. A full
 * card stays drawn full until it is redeemed (the API counts 10 of 10 stamps as one full card and
 * 0 on the current one): its reward is ready, and stamps beyond it wait on the next card.
 */
export function stampCardView(card: StampCardSummary): {
  /** Stamps drawn on the card. */
  filled: number;
  /** The reward is ready: at least one full card waits to be redeemed. */
  full: boolean;
  fullCards: number;
  /** Stamps already on the card after the full one(s). */
  onNextCard: number;
  /** Stamps still missing for the reward; 0 when it is ready. */
  toGo: number;
} {
  const full = card.full_cards > 0;
  return {
    filled: full ? card.stamps_required : card.stamps_on_current_card,
    full,
    fullCards: card.full_cards,
    onNextCard: full ? card.stamps_on_current_card : 0,
    toGo: full ? 0 : card.stamps_to_next_reward,
  };
}
