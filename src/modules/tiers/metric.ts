import { sql } from "kysely";
import type { Db, Tx } from "../../db/database.ts";
import { newId } from "../../shared/ids.ts";
import type { ProgramSnapshot } from "../program/snapshot.ts";
import { nextTierState, type TierState, windowStart } from "./qualify.ts";

/**
 * The member's qualification metric in the current window: net spend (minor units, refunds
 * deducted), visits (purchases not fully refunded) or points earned (earnings net of reversals).
 */
export async function tierMetric(
  db: Db | Tx,
  snapshot: ProgramSnapshot,
  memberId: string,
  now: Date,
): Promise<number> {
  const from = windowStart(snapshot.config.tiers.period, now, snapshot.timeZone);
  if (snapshot.config.tiers.metric === "points") {
    const row = await sql<{ value: number }>`
      select coalesce(sum(points), 0)::bigint as value from ledger_entries
      where business_id = ${snapshot.businessId} and member_id = ${memberId}
        and kind in ('earn', 'reverse') and occurred_at >= ${from} and occurred_at <= ${now}`.execute(db);
    return Number(row.rows[0]?.value ?? 0);
  }
  const row = await sql<{ spend: number; visits: number }>`
    select coalesce(sum(amount_minor - refunded_minor), 0)::bigint as spend,
           count(*) filter (where amount_minor > refunded_minor)::bigint as visits
    from purchases
    where business_id = ${snapshot.businessId} and member_id = ${memberId}
      and occurred_at >= ${from} and occurred_at <= ${now}`.execute(db);
  const r = row.rows[0];
  return Number(snapshot.config.tiers.metric === "spend" ? (r?.spend ?? 0) : (r?.visits ?? 0));
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
  const current: TierState = { tier_id: member.tier_id, expires_at: member.tier_expires_at };
  if (snapshot.tiers.length === 0 && member.tier_id === null)
    return { state: current, metric: 0, changed: null };
  const metric = await tierMetric(tx, snapshot, member.id, now);
  const state = nextTierState(
    snapshot.tiers,
    current,
    metric,
    snapshot.config.tiers.period,
    now,
    snapshot.timeZone,
  );
  const sameExpiry = state.expires_at?.getTime() === current.expires_at?.getTime();
  if (state.tier_id === current.tier_id && sameExpiry) return { state, metric, changed: null };
  await tx
    .updateTable("members")
    .set({ tier_id: state.tier_id, tier_expires_at: state.expires_at, updated_at: now })
    .where("business_id", "=", snapshot.businessId)
    .where("id", "=", member.id)
    .execute();
  if (state.tier_id === current.tier_id) return { state, metric, changed: null };
  const name = (id: string | null) => snapshot.tiers.find((t) => t.id === id)?.name ?? "no tier";
  const from = snapshot.tiers.find((t) => t.id === current.tier_id);
  const to = snapshot.tiers.find((t) => t.id === state.tier_id);
  const up = (to?.rank ?? 0) > (from?.rank ?? 0);
  await tx
    .insertInto("tier_changes")
    .values({
      business_id: snapshot.businessId,
      id: newId(now.getTime()),
      member_id: member.id,
      from_tier_id: current.tier_id,
      to_tier_id: state.tier_id,
      metric_value: metric,
      reason: up
        ? `Reached ${name(state.tier_id)} with ${metric} ${snapshot.config.tiers.metric}`
        : `${name(current.tier_id)} ended; ${metric} ${snapshot.config.tiers.metric} in the current period`,
      created_at: now,
    })
    .execute();
  return { state, metric, changed: { from: current.tier_id, to: state.tier_id } };
}
