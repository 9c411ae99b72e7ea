import type { RewardValue } from "../ui/reward-value.ts";

/** The API shapes the counter reads (a subset of each response). */

export interface Business {
  id: string;
  slug: string;
  name: string;
  currency: string;
  timezone: string;
  locale: string;
  /** When the program went live (its join page opened); null while it is being set up. */
  published_at: string | null;
}

export interface Me {
  business: Business;
  actor: { kind: string; id: string; role: string };
  staff: { id: string; name: string; email: string; role: string } | null;
  /** The business's join page on its public address (`PUBLIC_URL`); none when the server has none set. */
  join_url: string | null;
  csrf_token?: string;
}

export interface Location {
  id: string;
  name: string;
  address: string | null;
  archived: boolean;
}

export interface StampCard {
  id: string;
  name: string;
  stamps_required: number;
  earn_on: "visit" | "purchase" | "item";
  item_match: { skus?: string[]; categories?: string[]; brands?: string[] } | null;
}

export interface Member {
  id: string;
  code: string;
  name: string | null;
  email: string | null;
  phone: string | null;
}

export interface MemberSummary {
  points: {
    available: number;
    pending: number;
    /** Pending points by when they become spendable, earliest first (the first ten release times). */
    pending_until: { available_at: string; points: number }[];
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
    archived: boolean;
  }[];
  tier: {
    current: { id: string; name: string } | null;
    next: { name: string; remaining: number } | null;
  } | null;
}

export interface Reward {
  id: string;
  name: string;
  type: string;
  /** What it gives ("€10.00 off"). */
  value: RewardValue;
  cost_points: number | null;
  stamp_card_id: string | null;
}

export interface Voucher {
  id: string;
  code: string;
  reward: { id: string; name: string; type: string; value: RewardValue };
  member_id: string;
  status: "issued" | "redeemed" | "voided" | "expired";
  points_spent: number;
  stamps_spent: number;
  expires_at: string;
  created_at: string;
  redeemed_at: string | null;
}

export interface RedemptionResult {
  voucher: Voucher;
  member: { id: string; points_available: number; stamps: number | null };
}

export interface PurchaseItem {
  sku: string;
  name?: string;
  category?: string;
  quantity: number;
  unit_price_minor: number;
}

export interface PurchaseBody {
  external_id: string;
  member_id?: string;
  /** Offline, the member could not be looked up: the card code, resolved by the server. */
  member_code?: string;
  amount_minor: number;
  currency: string;
  items: PurchaseItem[];
  location_id?: string;
  occurred_at: string;
}

export interface PurchaseResult {
  purchase: {
    id: string;
    external_id: string;
    amount_minor: number;
    points_earned: number;
    stamps_earned: number;
  };
  earned: {
    points: { points: number }[];
    stamps: { stamp_card_id: string; stamps: number }[];
    points_available_at: string | null;
  };
  member:
    | (MemberSummary & {
        id: string;
        tier_changed: { from: string | null; to: string | null } | null;
        rewards_available: Reward[];
      })
    | null;
}

export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}
