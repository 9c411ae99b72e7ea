import { type RawBuilder, sql } from "kysely";
import type { Db, Tx } from "../../db/database.ts";
import { bindText } from "../../db/sql-text.ts";
import { assert } from "../../shared/errors.ts";
import { newId } from "../../shared/ids.ts";
import { because, type Reason, stored } from "../../shared/reason.ts";
import { startOfYear, zonedParts } from "../../shared/time.ts";
import type { ProgramSnapshot } from "../program/snapshot.ts";
import {
  decideTier,
  lastReachedBy,
  needsLastYearMetric,
  refundMayUndoTier,
  retentionEnded,
  type TierRefund,
  type TierState,
  tierAfterRefund,
  windowStart,
} from "./qualify.ts";

/**
 * The member's qualification metric in a window, as the text of a scalar SQL expression per
 * metric (slots: business, member, from, now; see src/db/sql-text.ts): net spend (minor units,
 * refunds deducted), visits (purchases not fully refunded) or points earned (earnings net of
 * refunds: reversals and the points refunds wrote off). The purchase's read
 * (src/use-cases/purchase-fast-path.ts) uses the same text.
 *
 * A refund counts on the date of the purchase it refunds, whenever it was made, in all three: a
 * purchase of 20 December refunded on 5 January lowers December's year, not January's. Spend and
 * visits read it from the purchase (`refunded_minor`). A reversal entry keeps the date of the
 * refund (the member's history shows when the points went), so "points" first sums the entries
 * by their own dates (from the index on entries by time, without touching the table), then moves
 * each reversal to its purchase's date: out of the window if it is dated in it, into the window if
 * its purchase is. A refund comes after its purchase, so reversals dated before the window's
 * start reverse purchases before it too; the ones since then are few, and have an index of their
 * own (migration 0011). A reversal of no purchase stays on its own date.
 *
 * A refund's points that could not be taken back (the member had spent them and the balance may
 * not go negative: `refunds.points_unrecovered`, with no entry) were not earned in the end either:
 * "points" takes them off on the purchase's date too, found through the member's refunded
 * purchases in the window (an index of those only, migration 0012). When the balance may go
 * negative the reversal takes all (a negative balance) and nothing is unrecovered, so no refund
 * counts twice. So do the points of the refunded share that had expired unused, which a refund
 * does not take from the member's other points (`refunds.points_expired`, migration 0013).
 */
export const TIER_METRIC_TEXT = {
  points: `((select coalesce(sum(points), 0) from ledger_entries
      where business_id = {{business}} and member_id = {{member}}
        and kind in ('earn', 'reverse', 'adjust') and occurred_at >= {{from}} and occurred_at <= {{now}})
    + (select coalesce(sum(v.points) filter (where v.counted_at >= {{from}} and v.counted_at <= {{now}}), 0)
          - coalesce(sum(v.points) filter (where v.occurred_at <= {{now}}), 0)
        from (select e.points, e.occurred_at, coalesce(p.occurred_at, e.occurred_at) as counted_at
              from ledger_entries e
              left join refunds f on f.business_id = {{business}}
                and f.id = case when e.source_type = 'refund' then e.source_id::uuid end
              left join purchases p on p.business_id = {{business}} and p.id = f.purchase_id
              where e.business_id = {{business}} and e.member_id = {{member}} and e.kind = 'reverse'
                and e.occurred_at >= {{from}}) v)
    - (select coalesce(sum(rf.points_unrecovered + rf.points_expired), 0) from purchases rp
        join refunds rf on rf.business_id = {{business}} and rf.purchase_id = rp.id
          and (rf.points_unrecovered > 0 or rf.points_expired > 0)
        where rp.business_id = {{business}} and rp.member_id = {{member}} and rp.refunded_minor > 0
          and rp.occurred_at >= {{from}} and rp.occurred_at <= {{now}}))::bigint`,
  spend: `(select coalesce(sum(amount_minor - refunded_minor), 0)::bigint from purchases
      where business_id = {{business}} and member_id = {{member}} and occurred_at >= {{from}} and occurred_at <= {{now}})`,
  visits: `(select count(*)::bigint from purchases
      where business_id = {{business}} and member_id = {{member}} and amount_minor > refunded_minor
        and occurred_at >= {{from}} and occurred_at <= {{now}})`,
} as const;

/**
 * The member's qualification metric in the current window, as a scalar SQL expression, so a
 * caller can read it in the same round trip as other things.
 */
export function tierMetricSql(snapshot: ProgramSnapshot, memberId: string, now: Date): RawBuilder<number> {
  const from = windowStart(snapshot.config.tiers.period, now, snapshot.timeZone);
  return bindText<number>(TIER_METRIC_TEXT[snapshot.config.tiers.metric], {
    business: snapshot.businessId,
    member: memberId,
    from,
    now,
  });
}

/**
 * The member's qualification metric over the previous calendar year — from its first instant up
 * to the first instant of the year that holds `now`, excluded — as a scalar SQL expression.
 */
export function lastYearMetricSql(
  snapshot: ProgramSnapshot,
  memberId: string,
  now: Date,
): RawBuilder<number> {
  const thisYear = startOfYear(now, snapshot.timeZone);
  return bindText<number>(TIER_METRIC_TEXT[snapshot.config.tiers.metric], {
    business: snapshot.businessId,
    member: memberId,
    from: startOfYear(now, snapshot.timeZone, -1),
    // The text counts up to its end included: last year ends a microsecond before this one starts.
    now: sql`(${thisYear}::timestamptz - interval '1 microsecond')`,
  });
}

/** A member's tier as stored on the member's row. */
export interface StoredTier {
  tier_id: string | null;
  tier_expires_at: Date | null;
}

const stateOf = (member: StoredTier): TierState => ({
  tier_id: member.tier_id,
  expires_at: member.tier_expires_at,
});

/**
 * Whether the member's stored tier has ended at `now` (its retention is over), sweep or no sweep:
 * it must not be used as it is, but re-evaluated (`refreshTier`, under the member's lock) or seen
 * as it now stands (`effectiveTier`, for reading).
 */
export function tierEnded(member: StoredTier, now: Date): boolean {
  return retentionEnded(stateOf(member), now);
}

/** Whether evaluating the member's tier at `now` needs last calendar year's metric too. */
export function needsLastYear(snapshot: ProgramSnapshot, member: StoredTier, now: Date): boolean {
  return needsLastYearMetric(snapshot.config.tiers.period, stateOf(member), now);
}

/**
 * Reads, in one statement, what an evaluation of the member's tier at `now` needs: the metric of
 * the current window and, only when `needsLastYear`, the previous calendar year's (else null).
 */
export async function tierMetrics(
  db: Db | Tx,
  snapshot: ProgramSnapshot,
  member: { id: string } & StoredTier,
  now: Date,
): Promise<{ metric: number; lastYear: number | null }> {
  const lastYear = needsLastYear(snapshot, member, now)
    ? lastYearMetricSql(snapshot, member.id, now)
    : sql<null>`null::bigint`;
  const { rows } = await sql<{
    value: number;
    last_year: number | null;
  }>`select ${tierMetricSql(snapshot, member.id, now)} as value, ${lastYear} as last_year`.execute(db);
  const row = rows[0];
  return {
    metric: Number(row?.value ?? 0),
    lastYear: row?.last_year === null || row?.last_year === undefined ? null : Number(row.last_year),
  };
}

/**
 * The member's tier as it stands at `now`, for reading (nothing is written): the stored tier while
 * its retention runs (no query), else the tier the sweep will leave. Pricing a preview, the
 * rewards on offer and the card all see the tier this way.
 */
export async function effectiveTier(
  db: Db | Tx,
  snapshot: ProgramSnapshot,
  member: { id: string } & StoredTier,
  now: Date,
): Promise<StoredTier> {
  if (!tierEnded(member, now)) return { tier_id: member.tier_id, tier_expires_at: member.tier_expires_at };
  return evaluatedTier(db, snapshot, member, now);
}

/** The tier the member's metrics at `now` give, from the stored one (nothing is written). */
async function evaluatedTier(
  db: Db | Tx,
  snapshot: ProgramSnapshot,
  member: { id: string } & StoredTier,
  now: Date,
): Promise<StoredTier> {
  const { metric, lastYear } = await tierMetrics(db, snapshot, member, now);
  const { state } = tierTransition(snapshot, member, metric, now, lastYear);
  return { tier_id: state.tier_id, tier_expires_at: state.expires_at };
}

/**
 * Whether the tier as stored may differ from the tier the member holds at `now`: its retention has
 * ended, or a higher tier exists, which the member may have reached since the tier was stored (a
 * tier added or a threshold lowered after their last purchase; the card shows such an upgrade at
 * once).
 */
export function tierMayMove(snapshot: ProgramSnapshot, member: StoredTier, now: Date): boolean {
  if (tierEnded(member, now)) return true;
  const rank = rankOf(snapshot, member.tier_id);
  return snapshot.tiers.some((t) => t.rank > rank);
}

/**
 * The tier the member holds at `now`, upgrades reached since it was stored included, for reading
 * (nothing is written): what the card shows, and what decides the rewards on offer.
 */
export async function reachedTier(
  db: Db | Tx,
  snapshot: ProgramSnapshot,
  member: { id: string } & StoredTier,
  now: Date,
): Promise<StoredTier> {
  if (!tierMayMove(snapshot, member, now))
    return { tier_id: member.tier_id, tier_expires_at: member.tier_expires_at };
  return evaluatedTier(db, snapshot, member, now);
}

/** A tier's rank; below every tier for none (or one no longer in the program). */
const rankOf = (snapshot: ProgramSnapshot, id: string | null) =>
  snapshot.tiers.find((t) => t.id === id)?.rank ?? Number.NEGATIVE_INFINITY;

/**
 * The upgrade the member has reached since their tier was stored, before anything new counts
 * (pure): the move to a higher tier that `metric` (the current window's, read at `now`) reaches
 * while the stored tier still holds, or null. A tier reached again is not an upgrade: its
 * retention is extended by what counts towards it, not by a use of it. A tier whose retention has
 * ended gives null too: it is re-evaluated as a whole (`evaluateTier`), with last year's metric.
 */
export function reachedUpgrade(
  snapshot: ProgramSnapshot,
  member: StoredTier,
  metric: number,
  now: Date,
): TierTransition | null {
  if (tierEnded(member, now) || !tierMayMove(snapshot, member, now)) return null;
  const next = tierTransition(snapshot, member, metric, now);
  return rankOf(snapshot, next.state.tier_id) > rankOf(snapshot, member.tier_id) ? next : null;
}

/**
 * The member with the tier they hold at `now`, before a use of the tier (a redemption's
 * eligibility): one whose retention ended is re-evaluated, and an upgrade reached since the tier
 * was stored is recorded with its reason. A tier still held is otherwise left as it is: using it
 * neither renews its retention nor records anything. Call it inside the member's lock.
 */
export async function settleTier<M extends { id: string } & StoredTier>(
  tx: Tx,
  snapshot: ProgramSnapshot,
  member: M,
  now: Date,
): Promise<M> {
  return (await settleTierReporting(tx, snapshot, member, now)).member;
}

/**
 * `settleTier`, saying which upgrade it recorded (null: none), for an answer that reports the
 * member's tier change (a purchase's `tier_changed`). The re-evaluation of an ended tier is not
 * reported as one. Call it inside the member's lock.
 */
export async function settleTierReporting<M extends { id: string } & StoredTier>(
  tx: Tx,
  snapshot: ProgramSnapshot,
  member: M,
  now: Date,
): Promise<{ member: M; upgraded: TierChange | null }> {
  if (!tierMayMove(snapshot, member, now)) return { member, upgraded: null };
  if (tierEnded(member, now)) {
    const { state } = await evaluateTier(tx, snapshot, member, now);
    return {
      member: { ...member, tier_id: state.tier_id, tier_expires_at: state.expires_at },
      upgraded: null,
    };
  }
  // Not ended, so last year's metric is not needed.
  const { metric } = await tierMetrics(tx, snapshot, member, now);
  const upgrade = reachedUpgrade(snapshot, member, metric, now);
  if (!upgrade) return { member, upgraded: null };
  const { state, change } = upgrade;
  const upgraded = await storeTier(tx, snapshot, member.id, state, change, now);
  return { member: { ...member, tier_id: state.tier_id, tier_expires_at: state.expires_at }, upgraded };
}

/** A move of a member's tier, as an answer reports it. */
export type TierChange = { from: string | null; to: string | null };

/**
 * The tier change an answer reports for a write that first recorded an upgrade the member had
 * reached (`settleTierReporting`) and then moved the tier itself: one change, from the tier held
 * before the first to the tier held after the second.
 */
export function joinTierChanges(upgraded: TierChange | null, moved: TierChange | null): TierChange | null {
  if (!upgraded) return moved;
  return { from: upgraded.from, to: moved?.to ?? upgraded.to };
}

/**
 * The member with the tier as it stands at `now`, before a write uses it: when the retention has
 * ended, the tier is re-evaluated and the change recorded with its reason (`evaluateTier`);
 * otherwise the member is returned as it is, at no cost. Call it inside the member's lock.
 *
 * @example const member = await refreshTier(tx, snapshot, await getMemberForUpdate(tx, b, id), now)
 */
export async function refreshTier<M extends { id: string } & StoredTier>(
  tx: Tx,
  snapshot: ProgramSnapshot,
  member: M,
  now: Date,
): Promise<M> {
  if (!tierEnded(member, now)) return member;
  const { state } = await evaluateTier(tx, snapshot, member, now);
  return { ...member, tier_id: state.tier_id, tier_expires_at: state.expires_at };
}

/**
 * Re-evaluates the member's tier at `now` and records a change (with its reason) when there is
 * one. Returns the new state and the change, if any. Call it inside the member's lock.
 */
export async function evaluateTier(
  tx: Tx,
  snapshot: ProgramSnapshot,
  member: { id: string; tier_id: string | null; tier_expires_at: Date | null },
  now: Date,
): Promise<{ state: TierState; metric: number; changed: { from: string | null; to: string | null } | null }> {
  if (snapshot.tiers.length === 0 && member.tier_id === null) {
    return { state: { tier_id: null, expires_at: null }, metric: 0, changed: null };
  }
  const { metric, lastYear } = await tierMetrics(tx, snapshot, member, now);
  return applyTierMetric(tx, snapshot, member, metric, now, lastYear);
}

/** What a new metric does to a member's tier: the next state, and the change to record, if any. */
export interface TierTransition {
  state: TierState;
  /** The member row's tier or its retention date must be written. */
  write: boolean;
  /** `metric`: the figure that decided it (last year's when the tier is kept on it). */
  change: ({ from: string | null; to: string | null; metric: number } & Reason) | null;
}

/**
 * The tier a metric just read leads to (pure; `applyTierMetric` writes it). `lastYearMetric` is
 * the previous calendar year's metric, which must be given when `needsLastYear` (null otherwise).
 */
export function tierTransition(
  snapshot: ProgramSnapshot,
  member: StoredTier,
  metric: number,
  now: Date,
  lastYearMetric: number | null = null,
): TierTransition {
  const current = stateOf(member);
  if (snapshot.tiers.length === 0 && member.tier_id === null) {
    return { state: current, write: false, change: null };
  }
  assert(
    lastYearMetric !== null || !needsLastYear(snapshot, member, now),
    "an ended calendar-year tier is evaluated with last year's metric",
  );
  const { state, kept } = decideTier(
    snapshot.tiers,
    current,
    metric,
    snapshot.config.tiers.period,
    now,
    snapshot.timeZone,
    lastYearMetric,
  );
  const sameExpiry = state.expires_at?.getTime() === current.expires_at?.getTime();
  if (state.tier_id === current.tier_id) return { state, write: !sameExpiry, change: null };
  const name = (id: string | null) => snapshot.tiers.find((t) => t.id === id)?.name ?? "no tier";
  const from = snapshot.tiers.find((t) => t.id === current.tier_id);
  const to = snapshot.tiers.find((t) => t.id === state.tier_id);
  const up = (to?.rank ?? 0) > (from?.rank ?? 0);
  const unit = snapshot.config.tiers.metric;
  const currency = snapshot.currency;
  if (kept && lastYearMetric !== null) {
    const year = zonedParts(now, snapshot.timeZone).year - 1;
    const reason = up
      ? because("tier_reached", { tier: name(state.tier_id), metric: lastYearMetric, unit, currency, year })
      : because("tier_kept", {
          from: name(current.tier_id),
          tier: name(state.tier_id),
          metric: lastYearMetric,
          unit,
          currency,
          year,
        });
    return {
      state,
      write: true,
      change: { from: current.tier_id, to: state.tier_id, ...reason, metric: lastYearMetric },
    };
  }
  const reason = up
    ? because("tier_reached", { tier: name(state.tier_id), metric, unit, currency, year: null })
    : because("tier_ended", { from: name(current.tier_id), metric, unit, currency });
  return { state, write: true, change: { from: current.tier_id, to: state.tier_id, ...reason, metric } };
}

/**
 * Moves the member's tier for a metric just read: computes the next state and, when it differs,
 * stores it and records the change with its reason. Call it inside the member's lock.
 */
export async function applyTierMetric(
  tx: Tx,
  snapshot: ProgramSnapshot,
  member: { id: string; tier_id: string | null; tier_expires_at: Date | null },
  metric: number,
  now: Date,
  lastYearMetric: number | null = null,
): Promise<{ state: TierState; metric: number; changed: { from: string | null; to: string | null } | null }> {
  const { state, write, change } = tierTransition(snapshot, member, metric, now, lastYearMetric);
  if (!write) return { state, metric, changed: null };
  return { state, metric, changed: await storeTier(tx, snapshot, member.id, state, change, now) };
}

/** Stores the member's tier and, when it changes, the change with its reason. */
async function storeTier(
  tx: Tx,
  snapshot: ProgramSnapshot,
  memberId: string,
  state: TierState,
  change: TierTransition["change"],
  now: Date,
): Promise<{ from: string | null; to: string | null } | null> {
  await tx
    .updateTable("members")
    .set({ tier_id: state.tier_id, tier_expires_at: state.expires_at, updated_at: now })
    .where("business_id", "=", snapshot.businessId)
    .where("id", "=", memberId)
    .execute();
  if (!change) return null;
  await tx
    .insertInto("tier_changes")
    .values({
      business_id: snapshot.businessId,
      id: newId(now.getTime()),
      member_id: memberId,
      from_tier_id: change.from,
      to_tier_id: change.to,
      metric_value: change.metric,
      reason: change.reason,
      reason_code: change.reason_code,
      reason_params: stored(change.reason_params),
      created_at: now,
    })
    .execute();
  return { from: change.from, to: change.to };
}

/**
 * A refund (or a correction by hand that takes points off) that undoes the qualification of the
 * member's tier takes the tier back at once
 * (`tierAfterRefund`, src/modules/tiers/qualify.ts, which says when and to what): reads the
 * metrics it needs — the current window's and last calendar year's, or the rolling window's at
 * the last moment the tier was reached — with the refund on record, and stores the tier it leaves
 * with the change and its reason. It reads nothing unless the refund may have undone the tier
 * (`refundMayUndoTier`). Call it inside the member's lock, before the member is settled.
 */
export async function tierAfterRefundOf(
  tx: Tx,
  snapshot: ProgramSnapshot,
  member: { id: string } & StoredTier,
  /** `cause`: what lowered the metric, for the change's reason (the refund of purchase till-1). */
  refund: TierRefund & { cause: { cause: "refund" | "correction"; cause_ref: string } },
  now: Date,
): Promise<{ tier: StoredTier; changed: { from: string | null; to: string | null } | null }> {
  const unchanged = {
    tier: { tier_id: member.tier_id, tier_expires_at: member.tier_expires_at },
    changed: null,
  };
  const { period, metric: unit } = snapshot.config.tiers;
  const current = stateOf(member);
  const held = snapshot.tiers.find((t) => t.id === current.tier_id);
  if (
    !held ||
    current.expires_at === null ||
    !refundMayUndoTier(period, current, refund, now, snapshot.timeZone)
  ) {
    return unchanged;
  }
  const other =
    period === "calendar_year"
      ? lastYearMetricSql(snapshot, member.id, now)
      : tierMetricSql(snapshot, member.id, lastReachedBy(current.expires_at, snapshot.timeZone));
  const value = tierMetricSql(snapshot, member.id, now);
  const { rows } = await sql<{
    value: number;
    other: number;
  }>`select ${value} as value, ${other} as other`.execute(tx);
  const metric = Number(rows[0]?.value ?? 0);
  const read = Number(rows[0]?.other ?? 0);
  const decision = tierAfterRefund(snapshot.tiers, current, period, now, snapshot.timeZone, refund, {
    metric,
    lastYear: period === "calendar_year" ? read : null,
    atReach: period === "calendar_year" ? null : read,
  });
  if (!decision) return unchanged;
  const { state, left, reached } = decision;
  const to = snapshot.tiers.find((t) => t.id === state.tier_id);
  const year = zonedParts(now, snapshot.timeZone).year - 1;
  const reason = because("tier_taken_back", {
    from: held.name,
    ...refund.cause,
    left,
    threshold: held.threshold,
    unit,
    currency: snapshot.currency,
    tier: to && reached ? to.name : null,
    reached: to && reached ? reached.metric : null,
    year: to && reached?.lastYear ? year : null,
  });
  const change = { from: current.tier_id, to: state.tier_id, ...reason, metric: left };
  const changed = await storeTier(tx, snapshot, member.id, state, change, now);
  return { tier: { tier_id: state.tier_id, tier_expires_at: state.expires_at }, changed };
}
