/**
 * Row types of every table, as Kysely sees them. `bigint` columns are parsed to `number` (all of
 * them stay far below 2^53), `date` columns stay `YYYY-MM-DD` strings, `jsonb` is typed by the
 * module that owns the column and validated when written.
 */
import type { Generated } from "kysely";

export type Json = unknown;

export interface BusinessesTable {
  id: string;
  slug: string;
  name: string;
  currency: string;
  timezone: string;
  locale: string;
  created_at: Date;
  updated_at: Date;
  /** When the owner published the program: the join page is open from then on. */
  published_at: Date | null;
  /** SHA-256 of the `Idempotency-Key` the business was signed up with (migration 0022); null without one. */
  signup_key_hash: string | null;
  /** The sign-up request's fingerprint, without the password (`signupFingerprint`); null without a key. */
  signup_request_hash: string | null;
}

export interface ProgramsTable {
  business_id: string;
  config: Json;
  /** Up by one with every change to the program or its catalog: the snapshot caches' key. */
  version: number;
  /** Up by one with every write of `config` only: the settings' `ETag` (0025). */
  config_version: Generated<number>;
  updated_at: Date;
}

export interface LocationsTable {
  business_id: string;
  id: string;
  name: string;
  address: string | null;
  archived_at: Date | null;
  created_at: Date;
}

export interface StaffTable {
  business_id: string;
  id: string;
  email: string;
  name: string;
  role: "owner" | "manager" | "cashier";
  password_hash: string;
  disabled_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

export interface StaffSessionsTable {
  business_id: string;
  id: string;
  staff_id: string;
  token_hash: string;
  created_at: Date;
  expires_at: Date;
  revoked_at: Date | null;
}

export interface ApiKeysTable {
  business_id: string;
  id: string;
  name: string;
  role: "manager" | "cashier";
  key_prefix: string;
  key_hash: string;
  created_by: string | null;
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

export interface IdempotencyKeysTable {
  business_id: string;
  key: string;
  operation: string;
  request_hash: string;
  status_code: number;
  /** The answer's JSON text, as it was sent; null once the answer retention let it go. */
  response: string | null;
  created_at: Date;
}

export interface AuditLogTable {
  business_id: string;
  id: string;
  actor: string;
  action: string;
  target_type: string | null;
  target_id: string | null;
  data: Json;
  created_at: Date;
}

export interface MembersTable {
  business_id: string;
  id: string;
  code: string;
  name: string | null;
  email: string | null;
  phone: string | null;
  birthday: string | null;
  locale: string | null;
  marketing_consent: boolean;
  consent_updated_at: Date | null;
  attributes: Json;
  external_id: string | null;
  tier_id: string | null;
  tier_expires_at: Date | null;
  joined_at: Date;
  created_at: Date;
  updated_at: Date;
  /** SHA-256 of the member's personal card link secret (null until one is issued). */
  card_token_hash: string | null;
  /** When the member's personal data was erased at their request (0018); null: never. */
  erased_at: Date | null;
  /**
   * What search finds the member by (0023): name, email and phone folded (`memberSearchText`,
   * src/modules/members/search.ts); written with them, empty once the member is erased.
   */
  search: string;
}

/** What a purchase changes of a member, one row per member (migration 0009). */
export interface MemberStateTable {
  business_id: string;
  member_id: string;
  /** Moves with every change of what the member holds; guards the two-statement purchase. */
  version: number;
  first_purchase_at: Date | null;
  last_purchase_at: Date | null;
  /** The tier metric as the member's last purchase left it (migration 0007). */
  tier_metric_value: number | null;
  /** The start of the window `tier_metric_value` counts from; null: count it again. */
  tier_metric_from: Date | null;
  tier_metric_kind: string | null;
}

export interface TiersTable {
  business_id: string;
  id: string;
  name: string;
  rank: number;
  threshold: number;
  earn_multiplier_bp: number;
  benefits: Json;
  archived_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

export interface TierChangesTable {
  business_id: string;
  id: string;
  member_id: string;
  from_tier_id: string | null;
  to_tier_id: string | null;
  metric_value: number;
  reason: string;
  /** `src/shared/reason.ts`; null for a reason staff typed and for rows older than the codes. */
  reason_code: string | null;
  reason_params: Json | null;
  created_at: Date;
}

export interface StampCardsTable {
  business_id: string;
  id: string;
  name: string;
  stamps_required: number;
  earn_on: "visit" | "purchase" | "item";
  min_spend_minor: number;
  item_match: Json;
  max_stamps_per_purchase: number;
  archived_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

export interface StampEntriesTable {
  business_id: string;
  id: string;
  member_id: string;
  stamp_card_id: string;
  kind: string;
  stamps: number;
  reason: string;
  /** `src/shared/reason.ts`; null for a reason staff typed and for rows older than the codes. */
  reason_code: string | null;
  reason_params: Json | null;
  actor: string;
  source_type: string;
  source_id: string;
  rule_id: string | null;
  occurred_at: Date;
  created_at: Date;
}

export interface StampBalancesTable {
  business_id: string;
  member_id: string;
  stamp_card_id: string;
  stamps: number;
  updated_at: Date;
}

export interface EarningRulesTable {
  business_id: string;
  id: string;
  name: string;
  description: string | null;
  trigger: "purchase" | "event" | "signup" | "birthday";
  event_type: string | null;
  priority: number;
  stop_processing: boolean;
  conditions: Json;
  effect: Json;
  cap: Json | null;
  starts_at: Date | null;
  ends_at: Date | null;
  active: boolean;
  archived_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

export interface PurchasesTable {
  business_id: string;
  id: string;
  external_id: string;
  member_id: string | null;
  location_id: string | null;
  amount_minor: number;
  currency: string;
  items: Json;
  occurred_at: Date;
  refunded_minor: number;
  points_earned: number;
  stamps_earned: number;
  actor: string;
  created_at: Date;
}

export interface RefundsTable {
  business_id: string;
  id: string;
  purchase_id: string;
  external_id: string;
  amount_minor: number;
  lines: Json | null;
  points_reversed: number;
  points_unrecovered: number;
  /** Points of the refunded share that had expired unused: not taken, but no longer earned (0013). */
  points_expired: number;
  stamps_reversed: number;
  /** Per stamp card, the stamps it could not take back: they were on a reward (0015). */
  stamps_unrecovered: Json;
  reason: string | null;
  actor: string;
  created_at: Date;
}

export interface MemberEventsTable {
  business_id: string;
  id: string;
  external_id: string;
  member_id: string;
  type: string;
  properties: Json;
  occurred_at: Date;
  points_earned: number;
  actor: string;
  created_at: Date;
}

export interface LedgerAccountsTable {
  business_id: string;
  member_id: string;
  balance_points: number;
  debt_points: number;
  lifetime_earned_points: number;
  lifetime_spent_points: number;
  /** The latest release time of any lot the member was credited (null: none yet). */
  pending_until: Date | null;
  updated_at: Date;
}

export interface LedgerLotsTable {
  business_id: string;
  id: string;
  member_id: string;
  source_type: string;
  source_id: string;
  points_initial: number;
  points_remaining: number;
  available_at: Date;
  expires_at: Date | null;
  /**
   * The business's time zone when the lot was earned: the clock its expiry was reckoned on (a
   * change of zone moves the lots on the old one). Null: earned before migration 0029.
   */
  zone: string | null;
  created_at: Date;
}

export type LedgerEntryKind = "earn" | "spend" | "reverse" | "expire" | "adjust" | "restore";

export interface LedgerEntriesTable {
  business_id: string;
  id: string;
  member_id: string;
  kind: LedgerEntryKind;
  points: number;
  reason: string;
  /** `src/shared/reason.ts`; null for a reason staff typed and for rows older than the codes. */
  reason_code: string | null;
  reason_params: Json | null;
  actor: string;
  source_type: string;
  source_id: string;
  rule_id: string | null;
  occurred_at: Date;
  created_at: Date;
}

export interface LedgerAllocationsTable {
  business_id: string;
  entry_id: string;
  lot_id: string;
  points: number;
  created_at: Date;
}

export type RewardType =
  | "discount_amount"
  | "discount_percent"
  | "free_product"
  | "experience"
  | "perk"
  | "donation";

export interface RewardsTable {
  business_id: string;
  id: string;
  name: string;
  description: string | null;
  type: RewardType;
  value: Json;
  cost_points: number | null;
  stamp_card_id: string | null;
  eligible_tier_ids: Json;
  stock: number | null;
  per_member_limit: number | null;
  valid_from: Date | null;
  valid_until: Date | null;
  voucher_valid_days: number;
  active: boolean;
  archived_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

export interface VouchersTable {
  business_id: string;
  id: string;
  code: string;
  member_id: string;
  reward_id: string;
  status: "issued" | "redeemed" | "voided";
  points_spent: number;
  stamps_spent: number;
  stamp_card_id: string | null;
  /** The ledger entry that spent the points, restored when the voucher is voided. */
  ledger_entry_id: string | null;
  /** Whether issuing it took a unit of the reward's stock, which a void gives back (0017). */
  stock_taken: boolean;
  expires_at: Date;
  redeemed_at: Date | null;
  redeemed_by: string | null;
  redeemed_location_id: string | null;
  voided_at: Date | null;
  voided_by: string | null;
  void_reason: string | null;
  created_at: Date;
}

/**
 * The answer retention's watermark, one row for the installation (migration 0030): every answer
 * stored before `pruned_before` was let go (null: no run yet).
 */
export interface AnswerRetentionTable {
  id: Generated<boolean>;
  pruned_before: Date | null;
  /** When a run last moved it (database time). */
  updated_at: Date;
}

export interface JobLeasesTable {
  job: string;
  holder: string | null;
  locked_until: Date | null;
  /** When the last run that finished ended (database time). */
  last_run_at: Date | null;
  /** That run's figures. */
  last_result: Json | null;
  /** When the last failed run ended, and what the safe error log keeps of its error (migration 0026). */
  last_failed_at: Generated<Date | null>;
  last_error: Generated<Json | null>;
  /** Failed runs since the last one that finished. */
  consecutive_failures: Generated<number>;
}

/**
 * A change of the business's time zone and how far its follow-up has got (migration 0027): its
 * lots and members move to the new clock a page at a time (`followTimeZonePage`).
 */
export interface BusinessRezonesTable {
  business_id: string;
  /** Orders the business's changes; lots with a smaller id were earned before the change. */
  id: string;
  from_tz: string;
  to_tz: string;
  requested_at: Date;
  /** Who changed the zone (`staff:<id>`). */
  actor: string;
  /** The calendar-year end whose members are being moved, and the last member done with it. */
  tiers_end: Date | null;
  tiers_after: string | null;
  tiers_done: Generated<boolean>;
  /** The last lot done (lots follow the members). */
  lots_after: string | null;
  tiers_moved: Generated<number>;
  tiers_kept_passed: Generated<number>;
  lots_moved: Generated<number>;
  lots_kept_passed: Generated<number>;
  /** When the last page was done; null while the change is followed. */
  done_at: Date | null;
}

export interface DB {
  businesses: BusinessesTable;
  business_rezones: BusinessRezonesTable;
  programs: ProgramsTable;
  locations: LocationsTable;
  staff: StaffTable;
  staff_sessions: StaffSessionsTable;
  api_keys: ApiKeysTable;
  idempotency_keys: IdempotencyKeysTable;
  audit_log: AuditLogTable;
  members: MembersTable;
  member_state: MemberStateTable;
  tiers: TiersTable;
  tier_changes: TierChangesTable;
  stamp_cards: StampCardsTable;
  stamp_entries: StampEntriesTable;
  stamp_balances: StampBalancesTable;
  earning_rules: EarningRulesTable;
  purchases: PurchasesTable;
  refunds: RefundsTable;
  member_events: MemberEventsTable;
  ledger_accounts: LedgerAccountsTable;
  ledger_lots: LedgerLotsTable;
  ledger_entries: LedgerEntriesTable;
  ledger_allocations: LedgerAllocationsTable;
  rewards: RewardsTable;
  vouchers: VouchersTable;
  job_leases: JobLeasesTable;
  answer_retention: AnswerRetentionTable;
}
