import { CompiledQuery } from "kysely";
import { type Actor, type AppContext, actorLabel } from "../context.ts";
import type { Db } from "../db/database.ts";
import { fillText } from "../db/sql-text.ts";
import { checkLocation } from "../modules/business/index.ts";
import { replay, type StoredAnswer } from "../modules/idempotency/index.ts";
import { type EarnLine, expiresAt } from "../modules/ledger/index.ts";
import { isPending, isSpendable, type OpenLot } from "../modules/ledger/lots.ts";
import { memberCodeNotFound } from "../modules/members/index.ts";
import type { ProgramSnapshot } from "../modules/program/snapshot.ts";
import { pickAvailable, REWARD_CANDIDATES_TEXT, type RewardCandidate } from "../modules/rewards/index.ts";
import type { StampLine } from "../modules/stamps/ledger.ts";
import {
  joinTierChanges,
  reachedUpgrade,
  TIER_METRIC_TEXT,
  tierEnded,
  tierTransition,
} from "../modules/tiers/metric.ts";
import { datedLastYear, windowStart } from "../modules/tiers/qualify.ts";
import { Batcher, type Settled } from "../shared/batcher.ts";
import { notFound } from "../shared/errors.ts";
import { newId } from "../shared/ids.ts";
import type { Reason } from "../shared/reason.ts";
import { addDays, addLocalDays } from "../shared/time.ts";
import { compose, type MemberSummary, pendingUntil } from "./member-summary.ts";
import {
  CAP_USAGE_TEXT,
  capWindows,
  pricePurchaseWith,
  purchaseRules,
  toCapUsage,
} from "./price-purchase.ts";

/**
 * Recording a purchase in two statements and no explicit transaction: the common case, and the
 * reason a till gets its answer in a few milliseconds.
 *
 * 1. One read: the business and program version, a stored result under the idempotency key, the
 *    location, the member and everything the member holds (points, stamps, the tier metric, what
 *    capped rules already gave, the rewards on offer), with the member's `version`.
 * 2. The purchase is priced and its outcome (balances, tier, rewards now available, the answer
 *    itself) computed from that read.
 * 3. One write, a single statement and so a single transaction: it moves the member's version only
 *    if it is still the one read (and no result is stored under the key yet), and every other row
 *    of the purchase — idempotency record, purchase, ledger entries, lot, account,
 *    stamps, tier — is written only if that guard row was.
 *
 * Every transaction that changes what a member holds moves the member's version
 * (`getMemberForUpdate`), so a write whose guard holds was priced on current state: the outcome is
 * the one the locked path (`recordPurchase`'s fallback) would have produced. When the guard
 * fails, the purchase is read and priced again; after a few failures, and for the rare cases this
 * path does not handle (a balance in debt), the caller falls back to the locked path.
 *
 * Purchases that arrive together share their statements: the read and the write each take a batch
 * of purchases of one business (`Batcher`, src/shared/batcher.ts), and answer for each one. One
 * batch of each kind runs at a time per process; what arrives meanwhile forms the next batch.
 */

export const OPTIMISTIC_ATTEMPTS = 4;

/** What the fast path needs from the request (already validated by the route's schema). */
export interface FastPurchase {
  external_id: string;
  member_id?: string | undefined;
  member_code?: string | undefined;
  amount_minor: number;
  currency: string;
  items: { sku: string; quantity: number; unit_price_minor: number }[];
  location_id?: string | undefined;
}

/** `json`: the answer as stored, so the route can send it without serializing it again. */
type Outcome<T> =
  | { kind: "done"; result: T; replayed: boolean; json?: string }
  | { kind: "retry" }
  | { kind: "fallback" };

interface ReadRow {
  name: string;
  currency: string;
  timezone: string;
  locale: string;
  program_version: number;
  /** The stored result under the key; its `response` is the answer's JSON text. */
  replay: StoredAnswer | null;
  location_archived: boolean | null;
  member_id: string | null;
  member_code: string | null;
  /** Whether the member's data was erased: the locked path refuses their purchase. */
  member_erased: boolean | null;
  tier_id: string | null;
  tier_expires_at: Date | null;
  attributes: Record<string, unknown> | null;
  first_purchase_at: Date | null;
  member_version: number | null;
  account_debt: number | null;
  lifetime_earned: number | null;
  lifetime_spent: number | null;
  points_available: number | null;
  points_pending: number | null;
  /** Each open lot still pending: its release time and points. */
  pending_lots: [string, number][] | null;
  /** Each open lot that expires within the "expiring soon" window: its expiry and points. */
  expiring: [string, number][] | null;
  stamps: Record<string, number> | null;
  metric: number | null;
  caps: Record<string, [number, number]> | null;
  rewards: RewardCandidate[] | null;
}

/** The expressions the read fills the modules' SQL texts with (src/db/sql-text.ts): `i` is the request. */
const READ_SLOTS = {
  business: "$1",
  member: "m.id",
  now: "i.now",
  from: "i.win_from",
  rules: "i.rules",
  since: "i.since",
  until: "i.until",
};

const METRIC_SQL = {
  spend: fillText(TIER_METRIC_TEXT.spend, READ_SLOTS),
  visits: fillText(TIER_METRIC_TEXT.visits, READ_SLOTS),
  points: fillText(TIER_METRIC_TEXT.points, READ_SLOTS),
  none: "0::bigint",
} as const;

type MetricKind = keyof typeof METRIC_SQL;

/**
 * The member's tier metric: the running total on the member row when it counts the same thing
 * from the same window start (migration 0007), else the window added up.
 */
function metricSql(metric: MetricKind): string {
  if (metric === "none") return METRIC_SQL.none;
  return `case when s.tier_metric_from = i.win_from and s.tier_metric_kind = '${metric}' then s.tier_metric_value
    else ${METRIC_SQL[metric]} end`;
}

/**
 * One request of a batched read: the member by id or code, the idempotency key, the location,
 * now, the "expiring soon" limit, the start of the tier window, and the capped rules with the
 * start and end of each one's cap period (null: a lifetime has no end). Times are ISO text
 * (`JSON.stringify` of a `Date` costs ten times as much). The batch adds `n`, the request's place
 * in it.
 */
interface ReadInput {
  member: string | null;
  code: string | null;
  key: string;
  location: string | null;
  now: string;
  soon: string;
  win_from: string;
  rules: string[];
  since: string[];
  until: (string | null)[];
}

/**
 * The read of a batch of purchases of one business: $1 the business, $2 the requests as a JSON
 * array (`ReadInput`), one row per request. The member's parts are null without a member.
 */
function readSql(metric: MetricKind): string {
  // Each request is read by its own lateral subquery (\`offset 0\` keeps the planner from merging
  // it into the outer query): the generic plan then looks every member up by index, however few
  // rows the planner believes the members table holds.
  return `select i.n, r.* from jsonb_to_recordset($2::jsonb) as i(n int, member uuid, code text, key text,
  location uuid, now timestamptz, soon timestamptz, win_from timestamptz, rules uuid[], since timestamptz[],
  until timestamptz[])
cross join lateral (
select b.name, b.currency, b.timezone, b.locale, p.version as program_version,
  (select json_build_object('operation', k.operation, 'request_hash', k.request_hash,
      'status_code', k.status_code, 'response', k.response, 'created_at', k.created_at)
    from idempotency_keys k where k.business_id = $1 and k.key = i.key) as replay,
  (select l.archived_at is not null from locations l where l.business_id = $1 and l.id = i.location) as location_archived,
  m.id as member_id, m.code as member_code, m.erased_at is not null as member_erased, m.tier_id, m.tier_expires_at, m.attributes, s.first_purchase_at,
  s.version as member_version, a.debt_points as account_debt, a.lifetime_earned_points as lifetime_earned,
  a.lifetime_spent_points as lifetime_spent,
  coalesce(a.balance_points + a.debt_points, 0) - pending.points - soon.expired as points_available,
  pending.points as points_pending, pending.lots as pending_lots, soon.expiring,
  case when m.id is not null then (
    select coalesce(json_object_agg(stamp_card_id, stamps), '{}')
    from stamp_balances where business_id = $1 and member_id = m.id) end as stamps,
  case when m.id is not null then ${metricSql(metric)} end as metric,
  case when m.id is not null then ${fillText(CAP_USAGE_TEXT, READ_SLOTS)} end as caps,
  case when m.id is not null then ${fillText(REWARD_CANDIDATES_TEXT, READ_SLOTS)} end as rewards
from businesses b
join programs p on p.business_id = b.id
left join members m on m.business_id = $1
  and m.id = coalesce(i.member, (select id from members where business_id = $1 and code = i.code))
left join member_state s on s.business_id = $1 and s.member_id = m.id
left join ledger_accounts a on a.business_id = $1 and a.member_id = m.id
left join lateral (
  select coalesce(sum(points_remaining) filter (where expires_at <= i.now), 0)::bigint as expired,
         coalesce(json_agg(json_build_array(expires_at, points_remaining)) filter (where expires_at > i.now),
           '[]') as expiring
  from ledger_lots
  where business_id = $1 and member_id = m.id and points_remaining > 0 and expires_at <= i.soon) soon
  on m.id is not null
left join lateral (
  select coalesce(sum(points_remaining), 0)::bigint as points,
         coalesce(json_agg(json_build_array(available_at, points_remaining)), '[]') as lots
  from ledger_lots
  where a.pending_until > i.now and business_id = $1 and member_id = m.id and points_remaining > 0
    and available_at > i.now and (expires_at is null or expires_at > i.now)) pending on m.id is not null
where b.id = $1
offset 0) r`;
}

const READ_SQL = {
  spend: readSql("spend"),
  visits: readSql("visits"),
  points: readSql("points"),
  none: readSql("none"),
};

/**
 * The write of a batch of purchases of one business, one statement and so one transaction: $1 the
 * business, $2 the purchases as a JSON array (`writeJson`), $3 their members' ids (so the
 * generic plan finds the members by index), $4 their answers to store (`answersText`), matched
 * to the purchases by place (`r`). For a member's purchase, `g` is the
 * guard: it moves the member's version (in `member_state`, migration 0009) only if it is still the
 * one read, the program's version is still the one the purchase was priced on (when it writes a
 * lot's expiry or a tier's end, which are reckoned on the business's clock), and nothing is
 * stored under the key yet. The program's version is read under the program row's share lock
 * (`v`, only for a batch with such a purchase, and before any member's row, as every writer
 * takes the two): a change of the program (its rules, or its time zone, which every lot's expiry is
 * reckoned on) that commits while the batch is priced makes the guard fail, and one that is
 * under way waits for the write, so a lot earned on the old clock is there for the change's
 * follow-up to move (src/modules/business/rezone.ts); the member's own row is written (`mt`) only
 * when the purchase moves the member's tier, and `t` records the move (`tier_change`) and an
 * upgrade reached before the purchase (`tier_reached`, a JSON object; see `MemberParts`). The
 * idempotency row `k` is written for an anonymous purchase and for a member's whose guard held;
 * every other row hangs on it (`w`). A request under the same key that is still running elsewhere
 * makes `k` fail with a unique violation, which aborts the statement.
 * No two purchases of one batch share a member or a key (the batcher sees to it). The answer is
 * the keys written.
 */
const WRITE_SQL = `with i as materialized (
  select * from jsonb_to_recordset($2::jsonb) as x(r int, member uuid, version bigint, program bigint, key text, operation text,
    hash text, now timestamptz, purchase uuid, external_id text, location uuid, amount bigint,
    currency text, items jsonb, occurred timestamptz, points int, stamps int, actor text, entries jsonb,
    lot uuid, available timestamptz, lot_expires timestamptz, zone text, stamp_lines jsonb, cards jsonb,
    tier_write boolean, tier uuid, tier_expires timestamptz, tier_change uuid, tier_from uuid, metric bigint,
    tier_reason text, tier_reason_code text, tier_reason_params jsonb, tier_reached jsonb, win_from timestamptz, metric_kind text)),
v as materialized (select version from programs where business_id = $1::uuid
  and exists (select from i where i.program is not null) for share),
answers as materialized (
  select t.response, t.r from unnest(string_to_array($4::text, chr(30))) with ordinality as t(response, r)),
g as (
  update member_state s set version = s.version + 1,
    first_purchase_at = least(s.first_purchase_at, i.occurred),
    last_purchase_at = greatest(s.last_purchase_at, i.occurred),
    tier_metric_value = i.metric, tier_metric_from = i.win_from, tier_metric_kind = i.metric_kind
  from i left join v on true
  where s.business_id = $1::uuid and s.member_id = any($3::uuid[]) and s.member_id = i.member
    and s.version = i.version and (i.program is null or i.program = v.version)
    and not exists (select from idempotency_keys k where k.business_id = $1::uuid and k.key = i.key)
  returning s.member_id as id),
k as (
  insert into idempotency_keys (business_id, key, operation, request_hash, status_code, response, created_at)
  select $1::uuid, i.key, i.operation, i.hash, 201, a.response, i.now
  from i join answers a on a.r = i.r
  where i.member is null or i.member in (select id from g)
  returning key),
w as materialized (select i.* from i join k on k.key = i.key),
p as (
  insert into purchases (business_id, id, external_id, member_id, location_id, amount_minor, currency, items,
    occurred_at, refunded_minor, points_earned, stamps_earned, actor, created_at)
  select $1::uuid, w.purchase, w.external_id, w.member, w.location, w.amount, w.currency, w.items,
    w.occurred, 0, w.points, w.stamps, w.actor, w.now from w),
e as (
  insert into ledger_entries (business_id, id, member_id, kind, points, reason, reason_code, reason_params, actor,
    source_type, source_id, rule_id, occurred_at, created_at)
  select $1::uuid, x.id, w.member, 'earn', x.points, x.reason, x.reason_code, x.reason_params, w.actor, 'purchase',
    w.purchase::text, x.rule_id, w.occurred, w.now
  from w cross join jsonb_to_recordset(w.entries)
    as x(id uuid, points int, reason text, reason_code text, reason_params jsonb, rule_id uuid)),
l as (
  insert into ledger_lots (business_id, id, member_id, source_type, source_id, points_initial, points_remaining,
    available_at, expires_at, zone, created_at)
  select $1::uuid, w.lot, w.member, 'purchase', w.purchase::text, w.points, w.points, w.available,
    w.lot_expires, w.zone, w.now
  from w where w.points > 0),
acc as (
  insert into ledger_accounts (business_id, member_id, balance_points, debt_points, lifetime_earned_points,
    lifetime_spent_points, pending_until, updated_at)
  select $1::uuid, w.member, w.points, 0, w.points, 0, w.available, w.now from w where w.points > 0
  on conflict (business_id, member_id) do update
    set balance_points = ledger_accounts.balance_points + excluded.balance_points,
        lifetime_earned_points = ledger_accounts.lifetime_earned_points + excluded.lifetime_earned_points,
        pending_until = greatest(ledger_accounts.pending_until, excluded.pending_until),
        updated_at = excluded.updated_at),
se as (
  insert into stamp_entries (business_id, id, member_id, stamp_card_id, kind, stamps, reason, reason_code,
    reason_params, actor, source_type, source_id, rule_id, occurred_at, created_at)
  select $1::uuid, x.id, w.member, x.card, 'earn', x.stamps, x.reason, x.reason_code, x.reason_params, w.actor,
    'purchase', w.purchase::text, x.rule_id, w.occurred, w.now
  from w cross join jsonb_to_recordset(w.stamp_lines)
    as x(id uuid, card uuid, stamps int, reason text, reason_code text, reason_params jsonb, rule_id uuid)),
sb as (
  insert into stamp_balances (business_id, member_id, stamp_card_id, stamps, updated_at)
  select $1::uuid, w.member, x.card, x.stamps, w.now
  from w cross join jsonb_to_recordset(w.cards) as x(card uuid, stamps int)
  on conflict (business_id, member_id, stamp_card_id) do update
    set stamps = stamp_balances.stamps + excluded.stamps, updated_at = excluded.updated_at),
t as (
  insert into tier_changes (business_id, id, member_id, from_tier_id, to_tier_id, metric_value, reason, reason_code,
    reason_params, created_at)
  select $1::uuid, x.id, w.member, x.from_tier, x.to_tier, x.metric, x.reason, x.reason_code, x.reason_params, w.now
  from w cross join jsonb_to_record(w.tier_reached)
    as x(id uuid, from_tier uuid, to_tier uuid, metric bigint, reason text, reason_code text, reason_params jsonb)
  where w.tier_reached is not null
  union all
  select $1::uuid, w.tier_change, w.member, w.tier_from, w.tier, w.metric, w.tier_reason, w.tier_reason_code,
    w.tier_reason_params, w.now
  from w where w.tier_change is not null),
mt as (
  update members m set tier_id = w.tier, tier_expires_at = w.tier_expires, updated_at = w.now
  from w where m.business_id = $1::uuid and m.id = any($3::uuid[]) and m.id = w.member and w.tier_write)
select key from k`;

/** What every purchase writes: the request and the purchase row. Times are ISO text. */
interface PurchaseFields {
  key: string;
  operation: string;
  hash: string;
  now: string;
  purchase: string;
  external_id: string;
  location: string | null;
  amount: number;
  currency: string;
  items: unknown;
  occurred: string;
  actor: string;
}

/** What a member's purchase adds: the guard, and the points, stamps and tier it moves. */
interface MemberParts {
  member: string | null;
  version: number | null;
  /**
   * The program version the purchase was priced on, when it writes something reckoned on the
   * business's clock (its lot's expiry, a tier's end): the write then takes the program row's share
   * lock and writes nothing for the member unless the version is still this one. Null: no check.
   */
  program: number | null;
  points: number;
  stamps: number;
  entries: ({ id: string; points: number; rule_id: string | null } & Reason)[];
  lot: string | null;
  available: string | null;
  lot_expires: string | null;
  /** The business's time zone the lot's expiry was reckoned on (the lot's `zone`). */
  zone: string | null;
  stamp_lines: ({ id: string; card: string; stamps: number; rule_id: string | null } & Reason)[];
  cards: { card: string; stamps: number }[];
  tier_write: boolean;
  tier: string | null;
  tier_expires: string | null;
  tier_change: string | null;
  tier_from: string | null;
  metric: number;
  tier_reason: string | null;
  tier_reason_code: string | null;
  tier_reason_params: Record<string, unknown> | null;
  /**
   * The upgrade the member had reached before the purchase (a threshold-0 tier, a threshold
   * lowered), recorded with it, as the locked path's `settleTierReporting` does; null: none.
   */
  tier_reached:
    | ({
        id: string;
        from_tier: string | null;
        to_tier: string | null;
        metric: number;
      } & Reason)
    | null;
  /** The tier window's start and what the metric counts (null without tiers): the running total. */
  win_from: string | null;
  metric_kind: MetricKind | null;
}

/** An anonymous purchase moves nothing of a member's. */
const ANONYMOUS: MemberParts = {
  member: null,
  version: null,
  program: null,
  points: 0,
  stamps: 0,
  entries: [],
  lot: null,
  available: null,
  lot_expires: null,
  zone: null,
  stamp_lines: [],
  cards: [],
  tier_write: false,
  tier: null,
  tier_expires: null,
  tier_change: null,
  tier_from: null,
  metric: 0,
  tier_reason: null,
  tier_reason_code: null,
  tier_reason_params: null,
  tier_reached: null,
  win_from: null,
  metric_kind: null,
};

const ANONYMOUS_JSON = JSON.stringify(ANONYMOUS);

/**
 * A purchase to write (one element of `WRITE_SQL`'s batch): its fields, its member parts, and the
 * answer (JSON text) stored with its key. The three are kept apart and joined as text
 * (`writeJson`), since copying one object's properties into another is slow in V8.
 */
interface WriteItem {
  fields: PurchaseFields;
  member: string | null;
  /** The member parts as JSON. */
  parts: string;
  json: string;
}

async function run<R>(db: Db, text: string, parameters: unknown[]): Promise<R[]> {
  const result = await db.executeQuery<R>(CompiledQuery.raw(text, parameters));
  return result.rows;
}

interface ReadItem {
  businessId: string;
  metric: MetricKind;
  input: Omit<ReadInput, "n">;
}

/** Reads a batch: one row per request, in order (none at all if the business does not exist). */
async function readBatch(db: Db, items: ReadItem[]): Promise<Settled<ReadRow | undefined>[]> {
  const first = items[0];
  if (!first) return [];
  const inputs = `[${items.map((item, n) => `{"n":${n},${JSON.stringify(item.input).slice(1)}`).join(",")}]`;
  const started = performance.now();
  const rows = await run<ReadRow & { n: number }>(db, READ_SQL[first.metric], [first.businessId, inputs]);
  stats.reads++;
  stats.readItems += items.length;
  if (noteIfSlow(started)) stats.slowReads++;
  const byPlace = new Map(rows.map((row) => [row.n, row]));
  return items.map((_, n) => ({ ok: true, value: byPlace.get(n) }));
}

/** The batch's JSON: each purchase's place (from 1), fields and member parts, spliced as text. */
function writeJson(items: WriteItem[]): string {
  return `[${items
    .map((item, n) => `{"r":${n + 1},${JSON.stringify(item.fields).slice(1, -1)},${item.parts.slice(1)}`)
    .join(",")}]`;
}

/**
 * The batch's answers as one text, in order, parted by the record separator (U+001E): JSON text
 * never holds that character raw (`JSON.stringify` escapes control characters), and a single
 * text costs the database no parsing, where an array or a JSON document would.
 */
function answersText(items: WriteItem[]): string {
  return items.map((item) => item.json).join("\u001e");
}

/**
 * Writes a batch: for each purchase, whether it was written. A batch that fails is written again
 * one purchase at a time, so a purchase fails only for its own reason (a unique violation under
 * its key, typically).
 */
async function writeBatch(db: Db, businessId: string, items: WriteItem[]): Promise<Settled<boolean>[]> {
  try {
    const members = items.flatMap((item) => (item.member ? [item.member] : []));
    const started = performance.now();
    const rows = await run<{ key: string }>(db, WRITE_SQL, [
      businessId,
      writeJson(items),
      members,
      answersText(items),
    ]);
    stats.writes++;
    stats.writeItems += items.length;
    if (noteIfSlow(started)) stats.slowWrites++;
    const written = new Set(rows.map((r) => r.key));
    return items.map((item) => ({ ok: true, value: written.has(item.fields.key) }));
  } catch (error) {
    if (items.length === 1) return [{ ok: false, error }];
    return Promise.all(
      items.map(async (item) => (await writeBatch(db, businessId, [item]))[0] as Settled<boolean>),
    );
  }
}

/** The batchers of one database handle: concurrent purchases share reads and writes. */
interface PurchaseBatches {
  read: Batcher<ReadItem, ReadRow | undefined>;
  write: Batcher<WriteItem, boolean>;
}

const batchesByDb = new WeakMap<Db, PurchaseBatches>();

/** How many batches of each kind run at once, and how big one may grow. */
/**
 * One batch of each kind at a time: on the bench (16 tills, 2 cores) one slot gave 1,100
 * purchases/s against 940 for two and 610 for four, since fewer, larger batches cost the database
 * less per purchase (docs/benchmarks.md). 64 purchases at most in one statement. A batch still
 * running after 25 ms — waiting on a member row another transaction holds (an expiry run, a
 * refund), or on a slow disk — opens another slot, up to two more, so the purchases behind it do
 * not all wait for it.
 */
export const PURCHASE_BATCHING = {
  slots: 1,
  maxBatch: 64,
  stallMs: 25,
  extraSlots: 2,
};

/**
 * Statements run, the purchases they carried, and how many took over `SLOW_STATEMENT_MS` from
 * sending to answer, since the process started (for the bench and tests).
 */
export interface PurchaseBatchStats {
  reads: number;
  readItems: number;
  slowReads: number;
  writes: number;
  writeItems: number;
  slowWrites: number;
}

/** A statement this slow, on a database that answers most in 1–3 ms, met a pause or a lock. */
export const SLOW_STATEMENT_MS = 10;

const stats: PurchaseBatchStats = {
  reads: 0,
  readItems: 0,
  slowReads: 0,
  writes: 0,
  writeItems: 0,
  slowWrites: 0,
};

/** The latest slow statements, each [from, to] in ms since the epoch, oldest first. */
const slowStatements: [number, number][] = [];
const SLOW_STATEMENTS_KEPT = 1000;

/** Whether a statement sent at `started` (`performance.now()`) was slow; notes it if so. */
function noteIfSlow(started: number): boolean {
  const now = performance.now();
  if (now - started <= SLOW_STATEMENT_MS) return false;
  if (slowStatements.length >= SLOW_STATEMENTS_KEPT) slowStatements.shift();
  slowStatements.push([performance.timeOrigin + started, performance.timeOrigin + now]);
  return true;
}

/**
 * When the slow purchase statements since `fromEpochMs` ran (the latest thousand at most), each
 * [from, to] in ms since the epoch: the bench lines them up with its slowest purchases.
 */
export function slowStatementsSince(fromEpochMs: number): [number, number][] {
  return slowStatements.filter(([, to]) => to >= fromEpochMs).map(([from, to]) => [from, to]);
}

/** A copy of the batch counters. */
export function purchaseBatchStats(): PurchaseBatchStats {
  return { ...stats };
}

function batchesFor(db: Db): PurchaseBatches {
  let batches = batchesByDb.get(db);
  if (!batches) {
    batches = {
      read: new Batcher((_, items) => readBatch(db, items), PURCHASE_BATCHING),
      write: new Batcher((businessId, items) => writeBatch(db, businessId, items), PURCHASE_BATCHING),
    };
    batchesByDb.set(db, batches);
  }
  return batches;
}

/** What both ways of recording build the answer from. */
export interface PurchaseOutcome<Dto> {
  dto: Dto;
  points: EarnLine[];
  stamps: StampLine[];
  pointsAvailableAt: string | null;
  member: {
    id: string;
    code: string;
    summary: MemberSummary;
    tierChanged: { from: string | null; to: string | null } | null;
    rewards: RewardCandidate[];
  } | null;
}

/**
 * One attempt: read, price, write. `done` with the result, `retry` when the member changed in
 * between, `fallback` when the locked path must take it. Errors are the use case's own.
 */
export async function attemptPurchase<Result, Dto>(
  ctx: AppContext,
  actor: Actor,
  input: FastPurchase,
  request: { key: string; operation: string; hash: string; now: Date; occurredAt: Date },
  shape: {
    check: (snapshot: ProgramSnapshot) => void;
    dto: (row: { id: string; member_id: string | null; points_earned: number; stamps_earned: number }) => Dto;
    result: (outcome: PurchaseOutcome<Dto>) => Result;
  },
): Promise<Outcome<Result>> {
  const businessId = actor.businessId;
  const { now, occurredAt } = request;
  let snapshot = ctx.snapshots.peek(businessId) ?? (await ctx.snapshots.load(ctx.db, businessId));
  const hasMember = input.member_id !== undefined || input.member_code !== undefined;
  const nowText = now.toISOString();
  let row: ReadRow | undefined;
  let windowFrom = now;
  let metricKind: MetricKind = "none";
  for (let read = 0; ; read++) {
    const metric = snapshot.tiers.length > 0 && hasMember ? snapshot.config.tiers.metric : "none";
    metricKind = metric;
    windowFrom = windowStart(snapshot.config.tiers.period, now, snapshot.timeZone);
    const caps = capWindows(snapshot, hasMember ? purchaseRules(snapshot) : [], occurredAt);
    row = await batchesFor(ctx.db).read.submit(`${businessId} ${metric}`, {
      businessId,
      metric,
      input: {
        member: input.member_id ?? null,
        code: input.member_code?.trim().toUpperCase() ?? null,
        key: request.key,
        location: input.location_id ?? null,
        now: nowText,
        soon: addDays(now, snapshot.config.points.expiring_soon_days).toISOString(),
        win_from: windowFrom.toISOString(),
        rules: caps.ruleIds,
        since: caps.since.map((at) => at.toISOString()),
        until: caps.until.map((at) => at?.toISOString() ?? null),
      },
    });
    if (!row) throw notFound("business", businessId);
    if (row.program_version === snapshot.version && row.timezone === snapshot.timeZone) break;
    // The program changed since this node cached it: reload, and read again with its rules.
    if (read > 0) return { kind: "fallback" };
    snapshot = await ctx.snapshots.load(ctx.db, businessId);
  }
  if (row.replay) {
    const stored = replay<Result>(row.replay, request.key, request.operation, request.hash);
    return {
      kind: "done",
      result: stored.body,
      replayed: true,
      ...(stored.json ? { json: stored.json } : {}),
    };
  }
  if (
    row.name !== snapshot.businessName ||
    row.currency !== snapshot.currency ||
    row.locale !== snapshot.locale
  ) {
    snapshot = { ...snapshot, businessName: row.name, currency: row.currency, locale: row.locale };
  }
  shape.check(snapshot);
  if (input.location_id !== undefined) {
    const archived = row.location_archived;
    checkLocation(archived === null ? undefined : { archived }, input.location_id);
  }
  if (input.member_code !== undefined && row.member_id === null) throw memberCodeNotFound(input.member_code);
  if (input.member_id !== undefined && row.member_id === null) throw notFound("member", input.member_id);
  // An erased member takes no purchase: the locked path refuses it (409 member_erased).
  if (row.member_erased) return { kind: "fallback" };
  const purchaseId = newId(now.getTime());
  const purchase = {
    amount_minor: input.amount_minor,
    items: input.items,
    location_id: input.location_id ?? null,
    occurred_at: occurredAt,
  };
  const fields: PurchaseFields = {
    key: request.key,
    operation: request.operation,
    hash: request.hash,
    now: nowText,
    purchase: purchaseId,
    external_id: input.external_id,
    location: input.location_id ?? null,
    amount: input.amount_minor,
    currency: input.currency,
    items: input.items,
    occurred: occurredAt.toISOString(),
    actor: actorLabel(actor),
  };

  if (row.member_id === null) {
    const dto = shape.dto({ id: purchaseId, member_id: null, points_earned: 0, stamps_earned: 0 });
    const result = shape.result({ dto, points: [], stamps: [], pointsAvailableAt: null, member: null });
    return write(ctx, businessId, result, fields, null, ANONYMOUS_JSON);
  }
  // Settling an earlier debt books points against reversal entries: the locked path does that.
  if ((row.account_debt ?? 0) > 0) return { kind: "fallback" };
  // A tier whose retention has ended must not price this purchase: the locked path re-evaluates
  // it first (recording the downgrade), which happens once per member and period.
  if (tierEnded(row, now)) return { kind: "fallback" };
  // A purchase of last calendar year, arriving this year, may raise the tier by what last year
  // reached: the locked path reads that year's metric.
  if (
    snapshot.tiers.length > 0 &&
    datedLastYear(snapshot.config.tiers.period, occurredAt, now, snapshot.timeZone)
  )
    return { kind: "fallback" };
  // The purchase is priced with the tier the member holds before it, as the card shows it: an
  // upgrade reached since the tier was stored (a threshold-0 tier, a threshold lowered, a tier
  // added) counts, from the metric already read (no statement more), and is recorded with the
  // purchase. What the purchase itself reaches counts from the next one.
  const stored = { tier_id: row.tier_id, tier_expires_at: row.tier_expires_at };
  const upgrade = reachedUpgrade(snapshot, stored, snapshot.tiers.length > 0 ? (row.metric ?? 0) : 0, now);
  const held = upgrade
    ? { tier_id: upgrade.state.tier_id, tier_expires_at: upgrade.state.expires_at }
    : stored;

  const memberId = row.member_id;
  const pricing = pricePurchaseWith(
    snapshot,
    {
      id: memberId,
      tier_id: held.tier_id,
      attributes: row.attributes ?? {},
      first_purchase_at: row.first_purchase_at,
    },
    purchase,
    toCapUsage(row.caps),
  );
  const cfg = snapshot.config.points;
  const total = pricing.total_points;
  const stampsEarned = pricing.stamps.reduce((s, l) => s + l.stamps, 0);
  const dto = shape.dto({
    id: purchaseId,
    member_id: memberId,
    points_earned: total,
    stamps_earned: stampsEarned,
  });

  // Ids in the order the locked path makes them: entries, the lot, stamp entries, tier change.
  const entries = pricing.points
    .filter((l) => l.points > 0)
    .map((l) => ({
      id: newId(now.getTime()),
      points: l.points,
      reason: l.reason,
      reason_code: l.reason_code,
      reason_params: l.reason_params,
      rule_id: l.rule_id,
    }));
  const lotId = total > 0 ? newId(now.getTime()) : null;
  const availableAt =
    cfg.pending_days > 0 ? addLocalDays(occurredAt, cfg.pending_days, snapshot.timeZone) : occurredAt;
  const lotExpiry = total > 0 ? expiresAt(occurredAt, cfg.expiry, snapshot.timeZone, availableAt) : null;
  const stampLines = pricing.stamps
    .filter((l) => l.stamps !== 0)
    .map((l) => ({
      id: newId(now.getTime()),
      card: l.stamp_card_id,
      stamps: l.stamps,
      reason: l.reason,
      reason_code: l.reason_code,
      reason_params: l.reason_params,
      rule_id: l.rule_id,
    }));
  const perCard = new Map<string, number>();
  for (const l of stampLines) perCard.set(l.card, (perCard.get(l.card) ?? 0) + l.stamps);

  // The member's state after the purchase, from the state read and what the purchase adds.
  const soonUntil = addDays(now, cfg.expiring_soon_days);
  let available = row.points_available ?? 0;
  let pending = row.points_pending ?? 0;
  const pendingLots: [string | Date, number][] = [...(row.pending_lots ?? [])];
  const expiring = new Map<number, number>();
  for (const [at, points] of row.expiring ?? []) {
    const time = new Date(at).getTime();
    expiring.set(time, (expiring.get(time) ?? 0) + points);
  }
  if (lotId) {
    const lot: OpenLot = {
      id: lotId,
      points_remaining: total,
      available_at: availableAt,
      expires_at: lotExpiry,
      source_type: "purchase",
      source_id: purchaseId,
    };
    const counted = isSpendable(lot, now) || isPending(lot, now);
    if (isSpendable(lot, now)) available += total;
    else if (isPending(lot, now)) {
      pending += total;
      pendingLots.push([availableAt, total]);
    }
    if (counted && lotExpiry && lotExpiry <= soonUntil) {
      expiring.set(lotExpiry.getTime(), (expiring.get(lotExpiry.getTime()) ?? 0) + total);
    }
  }
  const stamps = new Map(Object.entries(row.stamps ?? {}));
  for (const [card, n] of perCard) stamps.set(card, (stamps.get(card) ?? 0) + n);
  const inWindow = occurredAt >= windowFrom && occurredAt <= now;
  const contribution = !inWindow
    ? 0
    : snapshot.config.tiers.metric === "spend"
      ? input.amount_minor
      : snapshot.config.tiers.metric === "visits"
        ? input.amount_minor > 0
          ? 1
          : 0
        : total;
  // Without tiers the locked path reads no metric (0), and a tier still held ends with that figure.
  const metric = snapshot.tiers.length > 0 ? (row.metric ?? 0) + contribution : 0;
  const tier = tierTransition(snapshot, held, metric, now);
  // The upgrade reached before the purchase, then the purchase's own move, in the order they happened.
  const reached = upgrade?.change
    ? {
        id: newId(now.getTime()),
        from_tier: upgrade.change.from,
        to_tier: upgrade.change.to,
        metric: upgrade.change.metric,
        reason: upgrade.change.reason,
        reason_code: upgrade.change.reason_code,
        reason_params: upgrade.change.reason_params,
      }
    : null;
  const tierChangeId = tier.change ? newId(now.getTime()) : null;
  const summary = compose(
    snapshot,
    {
      points: {
        available,
        pending,
        debt: 0,
        lifetime_earned: (row.lifetime_earned ?? 0) + total,
        lifetime_spent: row.lifetime_spent ?? 0,
        expiring_soon: [...expiring.entries()]
          .sort(([a], [b]) => a - b)
          .map(([at, points]) => ({ expires_at: new Date(at).toISOString(), points })),
        pending_until: pendingUntil(pendingLots),
      },
      stamps,
      metric,
      // An ended tier took the locked path: the one held here needs no other year's metric.
      lastYearMetric: null,
      rewards: [],
    },
    { tier_id: tier.state.tier_id, tier_expires_at: tier.state.expires_at },
  );
  const rewards = pickAvailable(row.rewards ?? [], {
    tier_id: tier.state.tier_id,
    points_available: available,
    stamps,
  });
  const result = shape.result({
    dto,
    points: pricing.points,
    stamps: pricing.stamps,
    pointsAvailableAt: total > 0 ? availableAt.toISOString() : null,
    member: {
      id: memberId,
      code: row.member_code ?? "",
      summary,
      tierChanged: joinTierChanges(
        reached && { from: reached.from_tier, to: reached.to_tier },
        tier.change && { from: tier.change.from, to: tier.change.to },
      ),
      rewards,
    },
  });

  const tierWrite = tier.write || reached !== null;
  const parts: MemberParts = {
    member: memberId,
    version: row.member_version,
    // Only a write that reckons something on the business's clock (a lot's expiry, a tier's end)
    // takes the program row's share lock: those are what a change of time zone moves after it.
    program: lotExpiry !== null || (tierWrite && tier.state.expires_at !== null) ? snapshot.version : null,
    points: total,
    stamps: stampsEarned,
    entries,
    lot: lotId,
    available: lotId ? availableAt.toISOString() : null,
    lot_expires: lotExpiry ? lotExpiry.toISOString() : null,
    zone: snapshot.timeZone,
    stamp_lines: stampLines,
    cards: [...perCard].map(([card, stamps]) => ({ card, stamps })),
    tier_write: tierWrite,
    tier: tier.state.tier_id,
    tier_expires: tier.state.expires_at ? tier.state.expires_at.toISOString() : null,
    tier_change: tierChangeId,
    tier_from: tier.change?.from ?? null,
    metric,
    tier_reason: tier.change?.reason ?? null,
    tier_reason_code: tier.change?.reason_code ?? null,
    tier_reason_params: tier.change?.reason_params ?? null,
    tier_reached: reached,
    win_from: metricKind === "none" ? null : windowFrom.toISOString(),
    metric_kind: metricKind === "none" ? null : metricKind,
  };
  return write(ctx, businessId, result, fields, memberId, JSON.stringify(parts));
}

/**
 * Writes one purchase through the batcher, with `result` as its stored answer: `done` when it was
 * written, `retry` when the member changed since the read or a request under the same key got
 * there first.
 */
async function write<Result>(
  ctx: AppContext,
  businessId: string,
  result: Result,
  fields: PurchaseFields,
  member: string | null,
  parts: string,
): Promise<Outcome<Result>> {
  const json = JSON.stringify(result);
  const keys = member ? [fields.key, member] : [fields.key];
  try {
    const written = await batchesFor(ctx.db).write.submit(businessId, { fields, member, parts, json }, keys);
    return written ? { kind: "done", result, replayed: false, json } : { kind: "retry" };
  } catch (error) {
    // A request under the same key, still running when this one read, committed first.
    if ((error as { code?: unknown }).code === "23505") return { kind: "retry" };
    throw error;
  }
}

/** The statements, for the benchmark's statement profile and for EXPLAIN. */
export const FAST_PATH_SQL = { read: READ_SQL, write: WRITE_SQL };
