import { type Kysely, sql } from "kysely";

/**
 * The initial schema.
 *
 * Every table but `businesses` is keyed by `business_id` first: its primary key, unique
 * constraints and foreign keys all lead with it, so each table can be distributed by business on
 * Citus (`businesses` becomes a reference table). Money is integer minor units; points and stamps
 * are integers; time is `timestamptz`.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of splitStatements(SCHEMA)) await sql.raw(statement).execute(db);
}

/** Splits a script of plain DDL statements (no functions or quoted semicolons) into statements. */
function splitStatements(script: string): string[] {
  return script
    .split(/;\s*\n/)
    .map((s) => s.replace(/^\s*--.*$/gm, "").trim())
    .filter((s) => s.length > 0);
}

const SCHEMA = `
create table businesses (
  id uuid primary key,
  slug text not null unique,
  name text not null,
  currency char(3) not null,
  timezone text not null,
  locale text not null,
  created_at timestamptz not null,
  updated_at timestamptz not null
);

create table programs (
  business_id uuid not null references businesses(id),
  config jsonb not null,
  version integer not null,
  updated_at timestamptz not null,
  primary key (business_id)
);

create table locations (
  business_id uuid not null,
  id uuid not null,
  name text not null,
  address text,
  archived_at timestamptz,
  created_at timestamptz not null,
  primary key (business_id, id)
);

create table staff (
  business_id uuid not null,
  id uuid not null,
  email text not null,
  name text not null,
  role text not null check (role in ('owner', 'manager', 'cashier')),
  password_hash text not null,
  disabled_at timestamptz,
  created_at timestamptz not null,
  updated_at timestamptz not null,
  primary key (business_id, id),
  unique (business_id, email)
);

create table staff_sessions (
  business_id uuid not null,
  id uuid not null,
  staff_id uuid not null,
  token_hash text not null,
  created_at timestamptz not null,
  expires_at timestamptz not null,
  revoked_at timestamptz,
  primary key (business_id, id),
  unique (business_id, token_hash)
);

create table api_keys (
  business_id uuid not null,
  id uuid not null,
  name text not null,
  role text not null check (role in ('manager', 'cashier')),
  key_prefix text not null,
  key_hash text not null,
  created_by uuid,
  created_at timestamptz not null,
  last_used_at timestamptz,
  revoked_at timestamptz,
  primary key (business_id, id),
  unique (business_id, key_hash)
);

create table idempotency_keys (
  business_id uuid not null,
  key text not null,
  operation text not null,
  request_hash text not null,
  status_code integer not null,
  response jsonb not null,
  created_at timestamptz not null,
  primary key (business_id, key)
);

create table audit_log (
  business_id uuid not null,
  id uuid not null,
  actor text not null,
  action text not null,
  target_type text,
  target_id text,
  data jsonb not null,
  created_at timestamptz not null,
  primary key (business_id, id)
);

create table members (
  business_id uuid not null,
  id uuid not null,
  code text not null,
  name text,
  email text,
  phone text,
  birthday date,
  locale text,
  marketing_consent boolean not null,
  consent_updated_at timestamptz,
  attributes jsonb not null,
  external_id text,
  tier_id uuid,
  tier_expires_at timestamptz,
  first_purchase_at timestamptz,
  last_purchase_at timestamptz,
  joined_at timestamptz not null,
  created_at timestamptz not null,
  updated_at timestamptz not null,
  primary key (business_id, id),
  unique (business_id, code)
);
create unique index members_email_key on members (business_id, email) where email is not null;
create unique index members_phone_key on members (business_id, phone) where phone is not null;
create unique index members_external_id_key on members (business_id, external_id) where external_id is not null;
create index members_name_idx on members (business_id, lower(name));
create index members_birthday_idx on members (business_id, (extract(month from birthday)), (extract(day from birthday))) where birthday is not null;

create table tiers (
  business_id uuid not null,
  id uuid not null,
  name text not null,
  rank integer not null check (rank >= 1),
  threshold bigint not null check (threshold >= 0),
  earn_multiplier_bp integer not null check (earn_multiplier_bp between 10000 and 100000),
  benefits jsonb not null,
  archived_at timestamptz,
  created_at timestamptz not null,
  updated_at timestamptz not null,
  primary key (business_id, id)
);
create unique index tiers_rank_key on tiers (business_id, rank) where archived_at is null;

create table tier_changes (
  business_id uuid not null,
  id uuid not null,
  member_id uuid not null,
  from_tier_id uuid,
  to_tier_id uuid,
  metric_value bigint not null,
  reason text not null,
  created_at timestamptz not null,
  primary key (business_id, id)
);
create index tier_changes_member_idx on tier_changes (business_id, member_id, created_at);

create table stamp_cards (
  business_id uuid not null,
  id uuid not null,
  name text not null,
  stamps_required integer not null check (stamps_required between 1 and 100),
  earn_on text not null check (earn_on in ('visit', 'purchase', 'item')),
  min_spend_minor bigint not null check (min_spend_minor >= 0),
  item_match jsonb not null,
  max_stamps_per_purchase integer not null check (max_stamps_per_purchase between 1 and 100),
  archived_at timestamptz,
  created_at timestamptz not null,
  updated_at timestamptz not null,
  primary key (business_id, id)
);

create table stamp_entries (
  business_id uuid not null,
  id uuid not null,
  member_id uuid not null,
  stamp_card_id uuid not null,
  kind text not null,
  stamps integer not null,
  reason text not null,
  actor text not null,
  source_type text not null,
  source_id text not null,
  rule_id uuid,
  occurred_at timestamptz not null,
  created_at timestamptz not null,
  primary key (business_id, id)
);
create index stamp_entries_rule_idx on stamp_entries (business_id, member_id, rule_id, occurred_at) where rule_id is not null;
create index stamp_entries_source_idx on stamp_entries (business_id, source_type, source_id);
create index stamp_entries_member_idx on stamp_entries (business_id, member_id, created_at);

create table stamp_balances (
  business_id uuid not null,
  member_id uuid not null,
  stamp_card_id uuid not null,
  stamps integer not null check (stamps >= 0),
  updated_at timestamptz not null,
  primary key (business_id, member_id, stamp_card_id)
);

create table earning_rules (
  business_id uuid not null,
  id uuid not null,
  name text not null,
  description text,
  trigger text not null check (trigger in ('purchase', 'event', 'signup', 'birthday')),
  event_type text,
  priority integer not null,
  stop_processing boolean not null,
  conditions jsonb not null,
  effect jsonb not null,
  cap jsonb,
  starts_at timestamptz,
  ends_at timestamptz,
  active boolean not null,
  archived_at timestamptz,
  created_at timestamptz not null,
  updated_at timestamptz not null,
  primary key (business_id, id)
);

create table purchases (
  business_id uuid not null,
  id uuid not null,
  external_id text not null,
  member_id uuid,
  location_id uuid,
  amount_minor bigint not null check (amount_minor >= 0),
  currency char(3) not null,
  items jsonb not null,
  occurred_at timestamptz not null,
  refunded_minor bigint not null check (refunded_minor >= 0),
  points_earned integer not null,
  stamps_earned integer not null,
  actor text not null,
  created_at timestamptz not null,
  primary key (business_id, id),
  unique (business_id, external_id),
  check (refunded_minor <= amount_minor)
);
create index purchases_member_idx on purchases (business_id, member_id, occurred_at) where member_id is not null;
create index purchases_occurred_idx on purchases (business_id, occurred_at);

create table refunds (
  business_id uuid not null,
  id uuid not null,
  purchase_id uuid not null,
  external_id text not null,
  amount_minor bigint not null check (amount_minor > 0),
  lines jsonb,
  points_reversed integer not null,
  points_unrecovered integer not null,
  stamps_reversed integer not null,
  reason text,
  actor text not null,
  created_at timestamptz not null,
  primary key (business_id, id),
  unique (business_id, external_id)
);
create index refunds_purchase_idx on refunds (business_id, purchase_id);

create table member_events (
  business_id uuid not null,
  id uuid not null,
  external_id text not null,
  member_id uuid not null,
  type text not null,
  properties jsonb not null,
  occurred_at timestamptz not null,
  points_earned integer not null,
  actor text not null,
  created_at timestamptz not null,
  primary key (business_id, id),
  unique (business_id, external_id)
);

create table ledger_accounts (
  business_id uuid not null,
  member_id uuid not null,
  balance_points bigint not null,
  debt_points bigint not null check (debt_points >= 0),
  lifetime_earned_points bigint not null,
  lifetime_spent_points bigint not null,
  updated_at timestamptz not null,
  primary key (business_id, member_id)
);

create table ledger_lots (
  business_id uuid not null,
  id uuid not null,
  member_id uuid not null,
  source_type text not null,
  source_id text not null,
  points_initial integer not null check (points_initial > 0),
  points_remaining integer not null check (points_remaining >= 0 and points_remaining <= points_initial),
  available_at timestamptz not null,
  expires_at timestamptz,
  created_at timestamptz not null,
  primary key (business_id, id)
);
create index ledger_lots_open_idx on ledger_lots (business_id, member_id) where points_remaining > 0;
create index ledger_lots_source_idx on ledger_lots (business_id, source_type, source_id);
create index ledger_lots_expiry_idx on ledger_lots (expires_at) where points_remaining > 0 and expires_at is not null;

create table ledger_entries (
  business_id uuid not null,
  id uuid not null,
  member_id uuid not null,
  kind text not null check (kind in ('earn', 'spend', 'reverse', 'expire', 'adjust', 'restore')),
  points integer not null,
  reason text not null,
  actor text not null,
  source_type text not null,
  source_id text not null,
  rule_id uuid,
  occurred_at timestamptz not null,
  created_at timestamptz not null,
  primary key (business_id, id)
);
create index ledger_entries_member_idx on ledger_entries (business_id, member_id, id);
-- The points metric of tiers sums a member's earnings in a window of time.
create index ledger_entries_member_time_idx on ledger_entries (business_id, member_id, occurred_at) where kind in ('earn', 'reverse');
create index ledger_entries_rule_idx on ledger_entries (business_id, member_id, rule_id, occurred_at) where rule_id is not null;
create index ledger_entries_source_idx on ledger_entries (business_id, source_type, source_id);

create table ledger_allocations (
  business_id uuid not null,
  entry_id uuid not null,
  lot_id uuid not null,
  points integer not null,
  created_at timestamptz not null,
  primary key (business_id, entry_id, lot_id)
);
create index ledger_allocations_lot_idx on ledger_allocations (business_id, lot_id);

create table rewards (
  business_id uuid not null,
  id uuid not null,
  name text not null,
  description text,
  type text not null check (type in ('discount_amount', 'discount_percent', 'free_product', 'experience', 'perk', 'donation')),
  value jsonb not null,
  cost_points integer check (cost_points > 0),
  stamp_card_id uuid,
  eligible_tier_ids jsonb not null,
  stock integer check (stock >= 0),
  per_member_limit integer check (per_member_limit > 0),
  valid_from timestamptz,
  valid_until timestamptz,
  voucher_valid_days integer not null check (voucher_valid_days between 1 and 3650),
  active boolean not null,
  archived_at timestamptz,
  created_at timestamptz not null,
  updated_at timestamptz not null,
  primary key (business_id, id),
  check ((cost_points is null) <> (stamp_card_id is null))
);

create table vouchers (
  business_id uuid not null,
  id uuid not null,
  code text not null,
  member_id uuid not null,
  reward_id uuid not null,
  status text not null check (status in ('issued', 'redeemed', 'voided')),
  points_spent integer not null,
  stamps_spent integer not null,
  stamp_card_id uuid,
  ledger_entry_id uuid,
  expires_at timestamptz not null,
  redeemed_at timestamptz,
  redeemed_by text,
  redeemed_location_id uuid,
  voided_at timestamptz,
  voided_by text,
  void_reason text,
  created_at timestamptz not null,
  primary key (business_id, id),
  unique (business_id, code)
);
create index vouchers_member_idx on vouchers (business_id, member_id, created_at);
create index vouchers_reward_idx on vouchers (business_id, reward_id, member_id);

-- Leases of the scheduled jobs (points expiry, tier sweep), so one API node runs each at a time.
-- Not per business: on Citus this is a reference table.
create table job_leases (
  job text primary key,
  holder text,
  locked_until timestamptz,
  last_run_at timestamptz,
  last_result jsonb
);

create index members_tier_expiry_idx on members (tier_expires_at) where tier_id is not null;

-- Foreign keys lead with business_id so they hold on a distributed cluster as well.
alter table locations add foreign key (business_id) references businesses(id);
alter table staff add foreign key (business_id) references businesses(id);
alter table staff_sessions add foreign key (business_id, staff_id) references staff(business_id, id);
alter table api_keys add foreign key (business_id) references businesses(id);
alter table members add foreign key (business_id, tier_id) references tiers(business_id, id);
alter table tiers add foreign key (business_id) references businesses(id);
alter table tier_changes add foreign key (business_id, member_id) references members(business_id, id);
alter table stamp_cards add foreign key (business_id) references businesses(id);
alter table stamp_entries add foreign key (business_id, member_id) references members(business_id, id);
alter table stamp_entries add foreign key (business_id, stamp_card_id) references stamp_cards(business_id, id);
alter table stamp_balances add foreign key (business_id, member_id) references members(business_id, id);
alter table stamp_balances add foreign key (business_id, stamp_card_id) references stamp_cards(business_id, id);
alter table earning_rules add foreign key (business_id) references businesses(id);
alter table purchases add foreign key (business_id, member_id) references members(business_id, id);
alter table purchases add foreign key (business_id, location_id) references locations(business_id, id);
alter table refunds add foreign key (business_id, purchase_id) references purchases(business_id, id);
alter table member_events add foreign key (business_id, member_id) references members(business_id, id);
alter table ledger_accounts add foreign key (business_id, member_id) references members(business_id, id);
alter table ledger_lots add foreign key (business_id, member_id) references members(business_id, id);
alter table ledger_entries add foreign key (business_id, member_id) references members(business_id, id);
alter table ledger_allocations add foreign key (business_id, entry_id) references ledger_entries(business_id, id);
alter table ledger_allocations add foreign key (business_id, lot_id) references ledger_lots(business_id, id);
alter table rewards add foreign key (business_id, stamp_card_id) references stamp_cards(business_id, id);
alter table vouchers add foreign key (business_id, member_id) references members(business_id, id);
alter table vouchers add foreign key (business_id, reward_id) references rewards(business_id, id);
`;
