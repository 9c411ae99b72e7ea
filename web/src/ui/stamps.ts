/** A member's stamp card as the API sums it up (`GET /v1/members/{id}/card`, the wallet's card). */
export interface StampCardSummary {
  stamps_required: number;
  full_cards: number;
  stamps_on_current_card: number;
  stamps_to_next_reward: number;
  /**
   * The card was archived: it earns no more stamps, but those held still pay for its reward. It
   * is listed while the member holds stamps on it. Missing (a card kept from before) is active.
   */
  archived?: boolean;
}

/**
 * How a stamp card is drawn, the same in the wallet, at the counter and in the dashboard. A full
 * card stays drawn full until it is redeemed (the API counts 10 of 10 stamps as one full card and
 * 0 on the current one): its reward is ready, and stamps beyond it wait on the next card. An
 * archived card that is not full is `closed`: it collects nothing more, so it never tells how many
 * stamps are still to go; a full one's reward is ready as on any card.
 */
export function stampCardView(card: StampCardSummary): {
  /** Stamps drawn on the card. */
  filled: number;
  /** The reward is ready: at least one full card waits to be redeemed. */
  full: boolean;
  fullCards: number;
  /** Stamps already on the card after the full one(s). */
  onNextCard: number;
  /** Stamps still missing for the reward; 0 when it is ready or the card collects no more. */
  toGo: number;
  /** The card is archived: it collects no more stamps. */
  archived: boolean;
  /** Archived and not full: its stamps still count toward the reward, but no more can be earned on it. */
  closed: boolean;
} {
  const full = card.full_cards > 0;
  const archived = card.archived === true;
  return {
    filled: full ? card.stamps_required : card.stamps_on_current_card,
    full,
    fullCards: card.full_cards,
    onNextCard: full ? card.stamps_on_current_card : 0,
    toGo: full || archived ? 0 : card.stamps_to_next_reward,
    archived,
    closed: archived && !full,
  };
}
