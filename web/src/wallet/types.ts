/** The wallet's view of the API (`/v1/public/…` and `/v1/wallet/…`). */

import type { RewardValue } from "../ui/reward-value.ts";

export type { RewardValue };

export interface PublicReward {
  id: string;
  name: string;
  description: string | null;
  type: "discount_amount" | "discount_percent" | "free_product" | "experience" | "perk" | "donation";
  value: RewardValue;
  cost_points: number | null;
  stamp_card_id: string | null;
  eligible_tier_ids: string[];
  valid_until: string | null;
  voucher_valid_days: number;
}

export type TierMetric = "spend" | "points" | "visits";

export interface PublicBusiness {
  slug: string;
  name: string;
  locale: string;
  currency: string;
  timezone: string;
  program: {
    points: {
      earn_points: number;
      earn_per_minor: number;
      pending_days: number;
      /** Points every visit earns from rules (a gym's 10 per visit); 0: none. */
      earn_per_visit: number;
    } | null;
    stamp_cards: { id: string; name: string; stamps_required: number }[];
    tiers: {
      metric: TierMetric;
      levels: { id: string; name: string; rank: number; threshold: number }[];
    } | null;
    rewards: PublicReward[];
  };
}

export interface Voucher {
  id: string;
  code: string;
  reward: { id: string; name: string; type: PublicReward["type"]; value: RewardValue };
  status: "issued" | "redeemed" | "voided" | "expired";
  expires_at: string;
  created_at: string;
  redeemed_at: string | null;
  voided_at: string | null;
}

export interface CardReward extends PublicReward {
  available: boolean;
  blocked: "tier" | "limit" | "cost" | null;
  missing_points: number;
  missing_stamps: number;
}

export interface WalletCard {
  business: PublicBusiness;
  member: {
    id: string;
    name: string | null;
    code: string;
    locale: string | null;
    marketing_consent: boolean;
    joined_at: string;
  };
  card: {
    points: {
      available: number;
      pending: number;
      debt: number;
      expiring_soon: { expires_at: string; points: number }[];
      /** Pending points by when they become spendable, earliest first; absent on a card kept from before. */
      pending_until?: { available_at: string; points: number }[];
    };
    stamp_cards: {
      stamp_card_id: string;
      name: string;
      stamps: number;
      stamps_required: number;
      full_cards: number;
      stamps_on_current_card: number;
      stamps_to_next_reward: number;
      /** Collects no more stamps; those held still pay for its reward (listed after the active cards). */
      archived?: boolean;
    }[];
    tier: {
      current: { id: string; name: string } | null;
      expires_at: string | null;
      metric: TierMetric;
      metric_value: number;
      next: { id: string; name: string; threshold: number; remaining: number } | null;
    } | null;
  };
  rewards: CardReward[];
  vouchers: Voucher[];
  history: {
    id: string;
    type: "points" | "stamps";
    kind: string;
    points: number | null;
    stamps: number | null;
    stamp_card_id: string | null;
    source_type: string;
    source_id: string;
    occurred_at: string;
  }[];
  updated_at: string;
}

export interface Redemption {
  voucher: Voucher;
  member: { id: string; points_available: number; stamps: number | null };
}
