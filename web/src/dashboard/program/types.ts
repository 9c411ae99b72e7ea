/** The program's objects as the API returns them (see docs/api.md). */

export type ExpiryPolicy =
  | { policy: "never" }
  | { policy: "days_after_earn"; days: number }
  | { policy: "end_of_month"; months_after: number }
  | { policy: "end_of_year"; years_after: number };

export interface ProgramConfig {
  points: {
    enabled: boolean;
    earn_points: number;
    earn_per_minor: number;
    rounding: "floor" | "round" | "ceil";
    pending_days: number;
    expiry: ExpiryPolicy;
    allow_negative_balance: boolean;
    expiring_soon_days: number;
  };
  tiers: { metric: "spend" | "points" | "visits"; period: "calendar_year" | "rolling_12_months" };
  refunds: { reverse_points: boolean; reverse_stamps: boolean };
}

export interface Program {
  version: number;
  updated_at: string;
  config: ProgramConfig;
}

export interface ItemMatch {
  skus?: string[];
  categories?: string[];
  brands?: string[];
}

export interface StampCard {
  id: string;
  name: string;
  stamps_required: number;
  earn_on: "visit" | "purchase" | "item";
  min_spend_minor: number;
  item_match: ItemMatch | null;
  max_stamps_per_purchase: number;
  archived_at: string | null;
}

export interface Tier {
  id: string;
  name: string;
  rank: number;
  threshold: number;
  earn_multiplier_bp: number;
  benefits: string[];
  archived_at: string | null;
}

export interface AttributeCondition {
  key: string;
  op: "eq" | "neq" | "in" | "gt" | "gte" | "lt" | "lte" | "exists";
  value?: string | number | boolean | (string | number | boolean)[];
}

export interface RuleConditions {
  min_spend_minor?: number;
  items?: ItemMatch & { min_quantity?: number };
  days_of_week?: number[];
  time_window?: { from: string; to: string };
  tier_ids?: string[];
  first_purchase?: boolean;
  location_ids?: string[];
  member_attributes?: AttributeCondition[];
  event_properties?: AttributeCondition[];
}

export type RuleEffect =
  | { type: "fixed_points"; points: number }
  | { type: "points_per_spend"; points: number; per_minor: number; scope: "order" | "matching_items" }
  | { type: "multiplier"; factor_bp: number }
  | { type: "stamps"; stamp_card_id: string; stamps: number };

export interface RuleCap {
  period: "day" | "week" | "month" | "year" | "lifetime";
  max_times?: number;
  max_points?: number;
}

export interface Rule {
  id: string;
  name: string;
  description: string | null;
  trigger: "purchase" | "event" | "signup" | "birthday";
  event_type: string | null;
  priority: number;
  stop_processing: boolean;
  conditions: RuleConditions;
  effect: RuleEffect;
  cap: RuleCap | null;
  starts_at: string | null;
  ends_at: string | null;
  active: boolean;
  archived_at: string | null;
}

export type RewardType =
  | "discount_amount"
  | "discount_percent"
  | "free_product"
  | "experience"
  | "perk"
  | "donation";

export interface Reward {
  id: string;
  name: string;
  description: string | null;
  type: RewardType;
  value: Record<string, unknown>;
  cost_points: number | null;
  stamp_card_id: string | null;
  eligible_tier_ids: string[];
  stock: number | null;
  per_member_limit: number | null;
  valid_from: string | null;
  valid_until: string | null;
  voucher_valid_days: number;
  active: boolean;
  archived_at: string | null;
}

export interface List<T> {
  data: T[];
}

/** A shop or counter of the business, where purchases are recorded (`GET /v1/locations`). */
export interface Location {
  id: string;
  name: string;
  address: string | null;
  archived: boolean;
  created_at: string;
}

/** One checkbox of a list of references (a rule's tiers or locations, a reward's tiers). */
export interface Choice {
  id: string;
  name: string;
  archived: boolean;
}

/**
 * The checkboxes of a list of references: every active row, in the API's order, then each row
 * the stored object still names that has been archived since (in the order it names them), so it
 * shows ticked and marked archived and can be unticked. An id named but not listed at all is
 * shown the same way, nameless ("—"), so it can be unticked too. `stored` is what the form opened
 * with, not what is ticked now: unticking an archived row keeps its box, to tick it again.
 *
 * @example choicesOf(tiers.map((t) => ({ ...t, archived: t.archived_at !== null })), rule.conditions.tier_ids ?? [])
 */
export function choicesOf(
  rows: readonly { id: string; name: string; archived: boolean }[],
  stored: readonly string[],
): Choice[] {
  const byId = new Map(rows.map((row) => [row.id, row]));
  const active = rows.filter((row) => !row.archived).map(({ id, name }) => ({ id, name, archived: false }));
  const gone = [...new Set(stored)]
    .filter((id) => byId.get(id)?.archived !== false)
    .map((id) => ({ id, name: byId.get(id)?.name ?? "—", archived: true }));
  return [...active, ...gone];
}
