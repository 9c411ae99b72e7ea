import { type RawBuilder, sql } from "kysely";
import type { Db, Tx } from "../../db/database.ts";
import { bindText } from "../../db/sql-text.ts";
import { newId } from "../../shared/ids.ts";
import type { ProgramSnapshot } from "../program/snapshot.ts";
import { nextTierState, type TierState, windowStart } from "./qualify.ts";

/**
 * The member's qualification metric in a window, as the text of a scalar SQL expression per
 * metric (slots: business, member, from, now; see src/db/sql-text.ts): net spend (minor units,
 * refunds deducted), visits (purchases not fully refunded) or points earned (earnings net of
 * reversals). The purchase's read (src/use-cases/purchase-fast-path.ts) uses the same text.
 */
export const TIER_METRIC_TEXT = {
  points: `(select coalesce(sum(points), 0)::bigint from ledger_entries
      where business_id = {{business}} and member_id = {{member}}
        and kind in ('earn', 'reverse') and occurred_at >= {{from}} and occurred_at <= {{now}})`,
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

/** Reads the member's qualification metric (see `tierMetricSql`). */
export async function tierMetric(
  db: Db | Tx,
  snapshot: ProgramSnapshot,
  memberId: string,
  now: Date,
): Promise<number> {
  const { rows } = await sql<{
    value: number;
  }>`select ${tierMetricSql(snapshot, memberId, now)} as value`.execute(db);
  return Number(rows[0]?.value ?? 0);
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
  const metric = await tierMetric(tx, snapshot, member.id, now);
  return applyTierMetric(tx, snapshot, member, metric, now);
}

/** What a new metric does to a member's tier: the next state, and the change to record, if any. */
export interface TierTransition {
  state: TierState;
  /** The member row's tier or its retention date must be written. */
  write: boolean;
  change: { from: string | null; to: string | null; reason: string } | null;
}

/** The tier a metric just read leads to (pure; `applyTierMetric` writes it). */
export function tierTransition(
  snapshot: ProgramSnapshot,
  member: { tier_id: string | null; tier_expires_at: Date | null },
  metric: number,
  now: Date,
): TierTransition {
  const current: TierState = { tier_id: member.tier_id, expires_at: member.tier_expires_at };
  if (snapshot.tiers.length === 0 && member.tier_id === null) {
    return { state: current, write: false, change: null };
  }
  const state = nextTierState(
    snapshot.tiers,
    current,
    metric,
    snapshot.config.tiers.period,
    now,
    snapshot.timeZone,
  );
  const sameExpiry = state.expires_at?.getTime() === current.expires_at?.getTime();
  if (state.tier_id === current.tier_id) return { state, write: !sameExpiry, change: null };
  const name = (id: string | null) => snapshot.tiers.find((t) => t.id === id)?.name ?? "no tier";
  const from = snapshot.tiers.find((t) => t.id === current.tier_id);
  const to = snapshot.tiers.find((t) => t.id === state.tier_id);
  const up = (to?.rank ?? 0) > (from?.rank ?? 0);
  const reason = up
    ? `Reached ${name(state.tier_id)} with ${metric} ${snapshot.config.tiers.metric}`
    : `${name(current.tier_id)} ended; ${metric} ${snapshot.config.tiers.metric} in the current period`;
  return { state, write: true, change: { from: current.tier_id, to: state.tier_id, reason } };
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
): Promise<{ state: TierState; metric: number; changed: { from: string | null; to: string | null } | null }> {
  const { state, write, change } = tierTransition(snapshot, member, metric, now);
  if (!write) return { state, metric, changed: null };
  await tx
    .updateTable("members")
    .set({ tier_id: state.tier_id, tier_expires_at: state.expires_at, updated_at: now })
    .where("business_id", "=", snapshot.businessId)
    .where("id", "=", member.id)
    .execute();
  if (!change) return { state, metric, changed: null };
  await tx
    .insertInto("tier_changes")
    .values({
      business_id: snapshot.businessId,
      id: newId(now.getTime()),
      member_id: member.id,
      from_tier_id: change.from,
      to_tier_id: change.to,
      metric_value: metric,
      reason: change.reason,
      created_at: now,
    })
    .execute();
  return { state, metric, changed: { from: change.from, to: change.to } };
}
