/** The API's shapes as the admin pages read them (see docs/api.md). */

export interface Member {
  id: string;
  code: string;
  name: string | null;
  email: string | null;
  phone: string | null;
  birthday: string | null;
  locale: string | null;
  marketing_consent: boolean;
  consent_updated_at: string | null;
  external_id: string | null;
  tier_id: string | null;
  joined_at: string;
  first_purchase_at: string | null;
  last_purchase_at: string | null;
  created_at: string;
  updated_at: string;
  /** When the member's personal data was erased at their request. */
  erased_at: string | null;
}

export interface Tier {
  id: string;
  name: string;
  rank: number;
  threshold: number;
}

export interface StampCard {
  id: string;
  name: string;
  stamps_required: number;
}

export interface MemberCard {
  id: string;
  code: string;
  points: {
    available: number;
    pending: number;
    debt: number;
    lifetime_earned: number;
    lifetime_spent: number;
    expiring_soon: { expires_at: string; points: number }[];
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
    current: { id: string; name: string; rank: number } | null;
    expires_at: string | null;
    metric: "spend" | "points" | "visits";
    metric_value: number;
    next: { id: string; name: string; threshold: number; remaining: number } | null;
  } | null;
}

export interface HistoryItem {
  id: string;
  type: "points" | "stamps";
  kind: string;
  points: number | null;
  stamps: number | null;
  stamp_card_id: string | null;
  /** Why, in English; shown as is when staff typed it or when there is no code. */
  reason: string;
  /** Why, as a code (src/shared/reason.ts) the dashboard tells in its language; null when staff typed it. */
  reason_code?: string | null;
  /** The code's figures (a purchase's external id, a reward's name, money in minor units…). */
  reason_params?: Record<string, unknown> | null;
  actor: string;
  source_type: string;
  source_id: string;
  rule_id?: string | null;
  occurred_at: string;
  created_at?: string;
}

/** A change of a member's tier (`GET /v1/members/{id}/tier-changes`): from, to and why. */
export interface TierChange {
  id: string;
  /** Null: the member had no tier before. */
  from_tier: { id: string; name: string } | null;
  /** Null: the member has no tier since. */
  to_tier: { id: string; name: string } | null;
  metric_value: number;
  reason: string;
  reason_code?: string | null;
  reason_params?: Record<string, unknown> | null;
  created_at: string;
}

export interface Voucher {
  id: string;
  code: string;
  reward: { id: string; name: string };
  status: "issued" | "redeemed" | "voided" | "expired";
  points_spent: number;
  stamps_spent: number;
  expires_at: string;
  created_at: string;
  redeemed_at: string | null;
  voided_at: string | null;
  void_reason: string | null;
}

export interface Reward {
  id: string;
  name: string;
  cost_points: number | null;
  stamp_card_id: string | null;
}

export interface StaffMember {
  id: string;
  email: string;
  name: string;
  role: "owner" | "manager" | "cashier";
  disabled: boolean;
  created_at: string;
}

export interface ApiKey {
  id: string;
  name: string;
  role: "manager" | "cashier";
  prefix: string;
  created_at: string;
  last_used_at: string | null;
  revoked: boolean;
  revoked_at: string | null;
}

export interface Location {
  id: string;
  name: string;
  address: string | null;
  archived: boolean;
  created_at: string;
}
