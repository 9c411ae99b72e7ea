import { CompiledQuery } from "kysely";
import { type Actor, type AppContext, actorLabel } from "../context.ts";
import type { Db, Tx } from "../db/database.ts";
import { fillText } from "../db/sql-text.ts";
import { checkLocation } from "../modules/business/index.ts";
import { replay } from "../modules/idempotency/index.ts";
import { expiresAt } from "../modules/ledger/index.ts";
import { isPending, isSpendable, type OpenLot } from "../modules/ledger/lots.ts";
import { memberCodeNotFound } from "../modules/members/index.ts";
import type { ProgramSnapshot } from "../modules/program/snapshot.ts";
import { pickAvailable, REWARD_CANDIDATES_TEXT, type RewardCandidate } from "../modules/rewards/index.ts";
import { TIER_METRIC_TEXT, tierTransition } from "../modules/tiers/metric.ts";
import { windowStart } from "../modules/tiers/qualify.ts";
import { notFound } from "../shared/errors.ts";
import { newId } from "../shared/ids.ts";
import { addDays } from "../shared/time.ts";
import { compose, type MemberSummary } from "./member-summary.ts";
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
 *    of the purchase — idempotency record, purchase, ledger entries, lot, allocations, account,
 *    stamps, tier — is written only if that guard row was.
 *
 * Every transaction that changes what a member holds moves the member's version
 * (`getMemberForUpdate`), so a write whose guard holds was priced on current state: the outcome is
 * the one the locked path (`recordPurchase`'s fallback) would have produced. When the guard
 * fails, the purchase is read and priced again; after a few failures, and for the rare cases this
 * path does not handle (a balance in debt), the caller falls back to the locked path.
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
  replay: { operation: string; request_hash: string; status_code: number; response: unknown } | null;
  location_archived: boolean | null;
  member_id: string | null;
  member_code: string | null;
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
  expiring: [string, number][] | null;
  stamps: Record<string, number> | null;
  metric: number | null;
  caps: Record<string, [number, number]> | null;
  rewards: RewardCandidate[] | null;
}

/** The expressions the read fills the modules' SQL texts with (src/db/sql-text.ts). */
const READ_SLOTS = { business: "$1", member: "m.id", now: "$6", from: "$8", rules: "$9", since: "$10" };

const METRIC_SQL = {
  spend: fillText(TIER_METRIC_TEXT.spend, READ_SLOTS),
  visits: fillText(TIER_METRIC_TEXT.visits, READ_SLOTS),
  points: fillText(TIER_METRIC_TEXT.points, READ_SLOTS),
  // No tiers: the window's start is not used, but every parameter needs a type.
  none: "(case when $8::timestamptz is null then 0 else 0 end)::bigint",
} as const;

/**
 * The read. Parameters: $1 business, $2 member id, $3 member code, $4 idempotency key, $5
 * location, $6 now, $7 "expiring soon" limit, $8 start of the tier window, $9/$10 the capped rules
 * and the start of each one's cap period. The member's parts are null without a member.
 */
function readSql(metric: keyof typeof METRIC_SQL): string {
  return `select b.name, b.currency, b.timezone, b.locale, p.version as program_version,
  (select json_build_object('operation', k.operation, 'request_hash', k.request_hash,
      'status_code', k.status_code, 'response', k.response)
    from idempotency_keys k where k.business_id = $1 and k.key = $4) as replay,
  (select l.archived_at is not null from locations l where l.business_id = $1 and l.id = $5::uuid) as location_archived,
  m.id as member_id, m.code as member_code, m.tier_id, m.tier_expires_at, m.attributes, m.first_purchase_at,
  m.version as member_version, a.debt_points as account_debt, a.lifetime_earned_points as lifetime_earned,
  a.lifetime_spent_points as lifetime_spent, lots.available as points_available, lots.pending as points_pending,
  case when m.id is not null then (
    select coalesce(json_agg(json_build_array(x.expires_at, x.points) order by x.expires_at), '[]')
    from (select expires_at, sum(points_remaining)::int as points from ledger_lots
          where business_id = $1 and member_id = m.id and points_remaining > 0
            and expires_at > $6 and expires_at <= $7
          group by expires_at) x) end as expiring,
  case when m.id is not null then (
    select coalesce(json_object_agg(stamp_card_id, stamps), '{}')
    from stamp_balances where business_id = $1 and member_id = m.id) end as stamps,
  case when m.id is not null then ${METRIC_SQL[metric]} end as metric,
  case when m.id is not null then ${fillText(CAP_USAGE_TEXT, READ_SLOTS)} end as caps,
  case when m.id is not null then ${fillText(REWARD_CANDIDATES_TEXT, READ_SLOTS)} end as rewards
from businesses b
join programs p on p.business_id = b.id
left join members m on m.business_id = $1
  and m.id = coalesce($2::uuid, (select id from members where business_id = $1 and code = $3))
left join ledger_accounts a on a.business_id = $1 and a.member_id = m.id
left join lateral (
  select coalesce(sum(points_remaining) filter (where available_at <= $6), 0)::bigint as available,
         coalesce(sum(points_remaining) filter (where available_at > $6), 0)::bigint as pending
  from ledger_lots
  where business_id = $1 and member_id = m.id and points_remaining > 0
    and (expires_at is null or expires_at > $6)) lots on m.id is not null
where b.id = $1`;
}

const READ_SQL = {
  spend: readSql("spend"),
  visits: readSql("visits"),
  points: readSql("points"),
  none: readSql("none"),
};

/**
 * The write of a member's purchase, one statement. `g` is the guard; everything else hangs on the
 * idempotency row `k`, which exists only if the guard held. A concurrent request under the same
 * key that is still running makes `k` fail with a unique violation, which aborts the whole
 * statement: the caller reads again and finds that request's stored result.
 */
const WRITE_MEMBER_SQL = `with g as (
  update members set version = version + 1,
    first_purchase_at = coalesce(first_purchase_at, $15::timestamptz),
    last_purchase_at = greatest(last_purchase_at, $15::timestamptz),
    tier_id = case when $32::boolean then $33::uuid else tier_id end,
    tier_expires_at = case when $32::boolean then $34::timestamptz else tier_expires_at end,
    updated_at = $8::timestamptz
  where business_id = $1::uuid and id = $2::uuid and version = $3::bigint
    and not exists (select from idempotency_keys where business_id = $1::uuid and key = $4::text)
  returning id),
k as (
  insert into idempotency_keys (business_id, key, operation, request_hash, status_code, response, created_at)
  select $1::uuid, $4::text, $5::text, $6::text, 201, $7::jsonb, $8::timestamptz from g
  returning key),
p as (
  insert into purchases (business_id, id, external_id, member_id, location_id, amount_minor, currency, items,
    occurred_at, refunded_minor, points_earned, stamps_earned, actor, created_at)
  select $1::uuid, $9::uuid, $10::text, $2::uuid, $11::uuid, $12::bigint, $13::text, $14::jsonb,
    $15::timestamptz, 0, $16::int, $17::int, $18::text, $8::timestamptz from k),
e as (
  insert into ledger_entries (business_id, id, member_id, kind, points, reason, actor, source_type, source_id,
    rule_id, occurred_at, created_at)
  select $1::uuid, x.id, $2::uuid, 'earn', x.points, x.reason, $18::text, 'purchase', $9::text, x.rule_id,
    $15::timestamptz, $8::timestamptz
  from k, unnest($19::uuid[], $20::int[], $21::text[], $22::uuid[]) as x(id, points, reason, rule_id)),
l as (
  insert into ledger_lots (business_id, id, member_id, source_type, source_id, points_initial, points_remaining,
    available_at, expires_at, created_at)
  select $1::uuid, $23::uuid, $2::uuid, 'purchase', $9::text, $24::int, $24::int, $25::timestamptz,
    $26::timestamptz, $8::timestamptz
  from k where $24::int > 0),
al as (
  insert into ledger_allocations (business_id, entry_id, lot_id, points, created_at)
  select $1::uuid, x.id, $23::uuid, x.points, $8::timestamptz
  from k, unnest($19::uuid[], $20::int[]) as x(id, points)),
acc as (
  insert into ledger_accounts (business_id, member_id, balance_points, debt_points, lifetime_earned_points,
    lifetime_spent_points, updated_at)
  select $1::uuid, $2::uuid, $24::int, 0, $24::int, 0, $8::timestamptz from k where $24::int > 0
  on conflict (business_id, member_id) do update
    set balance_points = ledger_accounts.balance_points + excluded.balance_points,
        lifetime_earned_points = ledger_accounts.lifetime_earned_points + excluded.lifetime_earned_points,
        updated_at = excluded.updated_at),
se as (
  insert into stamp_entries (business_id, id, member_id, stamp_card_id, kind, stamps, reason, actor,
    source_type, source_id, rule_id, occurred_at, created_at)
  select $1::uuid, x.id, $2::uuid, x.card, 'earn', x.stamps, x.reason, $18::text, 'purchase', $9::text,
    x.rule_id, $15::timestamptz, $8::timestamptz
  from k, unnest($27::uuid[], $28::uuid[], $29::int[], $30::text[], $31::uuid[]) as x(id, card, stamps, reason, rule_id)),
sb as (
  insert into stamp_balances (business_id, member_id, stamp_card_id, stamps, updated_at)
  select $1::uuid, $2::uuid, x.card, x.stamps, $8::timestamptz
  from k, unnest($39::uuid[], $40::int[]) as x(card, stamps)
  on conflict (business_id, member_id, stamp_card_id) do update
    set stamps = stamp_balances.stamps + excluded.stamps, updated_at = excluded.updated_at),
t as (
  insert into tier_changes (business_id, id, member_id, from_tier_id, to_tier_id, metric_value, reason, created_at)
  select $1::uuid, $35::uuid, $2::uuid, $36::uuid, $33::uuid, $37::bigint, $38::text, $8::timestamptz
  from k where $35::uuid is not null)
select count(*)::int as written from k`;

/** The write of an anonymous purchase: the idempotency record and the purchase. */
const WRITE_ANONYMOUS_SQL = `with k as (
  insert into idempotency_keys (business_id, key, operation, request_hash, status_code, response, created_at)
  values ($1::uuid, $2::text, $3::text, $4::text, 201, $5::jsonb, $6::timestamptz)
  on conflict do nothing
  returning key),
p as (
  insert into purchases (business_id, id, external_id, member_id, location_id, amount_minor, currency, items,
    occurred_at, refunded_minor, points_earned, stamps_earned, actor, created_at)
  select $1::uuid, $7::uuid, $8::text, null, $9::uuid, $10::bigint, $11::text, $12::jsonb,
    $13::timestamptz, 0, 0, 0, $14::text, $6::timestamptz from k)
select count(*)::int as written from k`;

async function run<R>(db: Db | Tx, text: string, parameters: unknown[]): Promise<R[]> {
  const result = await db.executeQuery<R>(CompiledQuery.raw(text, parameters));
  return result.rows;
}

/** What both ways of recording build the answer from. */
export interface PurchaseOutcome<Dto> {
  dto: Dto;
  points: { points: number; reason: string; rule_id: string | null }[];
  stamps: { stamp_card_id: string; stamps: number; reason: string; rule_id: string | null }[];
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
  db: Db | Tx,
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
  let snapshot = ctx.snapshots.peek(businessId) ?? (await ctx.snapshots.load(db, businessId));
  const hasMember = input.member_id !== undefined || input.member_code !== undefined;
  let row: ReadRow | undefined;
  let windowFrom = now;
  for (let read = 0; ; read++) {
    const metric = snapshot.tiers.length > 0 && hasMember ? snapshot.config.tiers.metric : "none";
    windowFrom = windowStart(snapshot.config.tiers.period, now, snapshot.timeZone);
    const caps = capWindows(snapshot, hasMember ? purchaseRules(snapshot) : [], occurredAt);
    [row] = await run<ReadRow>(db, READ_SQL[metric], [
      businessId,
      input.member_id ?? null,
      input.member_code?.trim().toUpperCase() ?? null,
      request.key,
      input.location_id ?? null,
      now,
      addDays(now, snapshot.config.points.expiring_soon_days),
      windowFrom,
      caps.ruleIds,
      caps.since,
    ]);
    if (!row) throw notFound("business", businessId);
    if (row.program_version === snapshot.version && row.timezone === snapshot.timeZone) break;
    // The program changed since this node cached it: reload, and read again with its rules.
    if (read > 0) return { kind: "fallback" };
    snapshot = await ctx.snapshots.load(db, businessId);
  }
  if (row.replay) {
    const stored = replay<Result>(row.replay, request.key, request.operation, request.hash);
    return { kind: "done", result: stored.body, replayed: true };
  }
  snapshot = {
    ...snapshot,
    businessName: row.name,
    currency: row.currency,
    timeZone: row.timezone,
    locale: row.locale,
  };
  shape.check(snapshot);
  if (input.location_id !== undefined) {
    const archived = row.location_archived;
    checkLocation(archived === null ? undefined : { archived }, input.location_id);
  }
  if (input.member_code !== undefined && row.member_id === null) throw memberCodeNotFound(input.member_code);
  if (input.member_id !== undefined && row.member_id === null) throw notFound("member", input.member_id);
  const purchaseId = newId(now.getTime());
  const purchase = {
    amount_minor: input.amount_minor,
    items: input.items,
    location_id: input.location_id ?? null,
    occurred_at: occurredAt,
  };
  const label = actorLabel(actor);

  if (row.member_id === null) {
    const dto = shape.dto({ id: purchaseId, member_id: null, points_earned: 0, stamps_earned: 0 });
    const result = shape.result({ dto, points: [], stamps: [], pointsAvailableAt: null, member: null });
    const json = JSON.stringify(result);
    const [written] = await run<{ written: number }>(db, WRITE_ANONYMOUS_SQL, [
      businessId,
      request.key,
      request.operation,
      request.hash,
      json,
      now,
      purchaseId,
      input.external_id,
      input.location_id ?? null,
      input.amount_minor,
      input.currency,
      JSON.stringify(input.items),
      occurredAt,
      label,
    ]);
    return written?.written === 1 ? { kind: "done", result, replayed: false, json } : { kind: "retry" };
  }
  // Settling an earlier debt books points against reversal entries: the locked path does that.
  if ((row.account_debt ?? 0) > 0) return { kind: "fallback" };

  const memberId = row.member_id;
  const pricing = pricePurchaseWith(
    snapshot,
    {
      id: memberId,
      tier_id: row.tier_id,
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
  const entries = pricing.points.filter((l) => l.points > 0).map((l) => ({ ...l, id: newId(now.getTime()) }));
  const lotId = total > 0 ? newId(now.getTime()) : null;
  const availableAt = cfg.pending_days > 0 ? addDays(occurredAt, cfg.pending_days) : occurredAt;
  const lotExpiry = total > 0 ? expiresAt(occurredAt, cfg.expiry, snapshot.timeZone) : null;
  const stampLines = pricing.stamps
    .filter((l) => l.stamps !== 0)
    .map((l) => ({ ...l, id: newId(now.getTime()) }));
  const perCard = new Map<string, number>();
  for (const l of stampLines) perCard.set(l.stamp_card_id, (perCard.get(l.stamp_card_id) ?? 0) + l.stamps);

  // The member's state after the purchase, from the state read and what the purchase adds.
  const soonUntil = addDays(now, cfg.expiring_soon_days);
  let available = row.points_available ?? 0;
  let pending = row.points_pending ?? 0;
  const expiring = new Map<number, number>(
    (row.expiring ?? []).map(([at, points]) => [new Date(at).getTime(), points]),
  );
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
    else if (isPending(lot, now)) pending += total;
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
  const tier = tierTransition(
    snapshot,
    { tier_id: row.tier_id, tier_expires_at: row.tier_expires_at },
    metric,
    now,
  );
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
      },
      stamps,
      metric,
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
      tierChanged: tier.change ? { from: tier.change.from, to: tier.change.to } : null,
      rewards,
    },
  });

  const json = JSON.stringify(result);
  try {
    const [written] = await run<{ written: number }>(db, WRITE_MEMBER_SQL, [
      businessId,
      memberId,
      row.member_version,
      request.key,
      request.operation,
      request.hash,
      json,
      now,
      purchaseId,
      input.external_id,
      input.location_id ?? null,
      input.amount_minor,
      input.currency,
      JSON.stringify(input.items),
      occurredAt,
      total,
      stampsEarned,
      label,
      entries.map((e) => e.id),
      entries.map((e) => e.points),
      entries.map((e) => e.reason),
      entries.map((e) => e.rule_id),
      lotId,
      total,
      availableAt,
      lotExpiry,
      stampLines.map((l) => l.id),
      stampLines.map((l) => l.stamp_card_id),
      stampLines.map((l) => l.stamps),
      stampLines.map((l) => l.reason),
      stampLines.map((l) => l.rule_id),
      tier.write,
      tier.state.tier_id,
      tier.state.expires_at,
      tierChangeId,
      tier.change?.from ?? null,
      metric,
      tier.change?.reason ?? null,
      [...perCard.keys()],
      [...perCard.values()],
    ]);
    return written?.written === 1 ? { kind: "done", result, replayed: false, json } : { kind: "retry" };
  } catch (error) {
    // A request under the same key, still running when this one read, committed first.
    if ((error as { code?: unknown }).code === "23505") return { kind: "retry" };
    throw error;
  }
}

/** The statements, for the benchmark's statement profile and for EXPLAIN. */
export const FAST_PATH_SQL = {
  read: READ_SQL,
  writeMember: WRITE_MEMBER_SQL,
  writeAnonymous: WRITE_ANONYMOUS_SQL,
};
