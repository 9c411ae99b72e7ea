import { assert } from "../../shared/errors.ts";

/**
 * Pure lot arithmetic: which lots a spend, a reversal or an expiry takes points from. No I/O, so
 * it is table-tested to the edges and property-tested for the invariants.
 */

export interface OpenLot {
  id: string;
  points_remaining: number;
  available_at: Date;
  expires_at: Date | null;
  source_type: string;
  source_id: string;
}

export interface Allocation {
  lot_id: string;
  /** Negative: points taken out of the lot. */
  points: number;
}

const NEVER = Number.POSITIVE_INFINITY;
const expiryMs = (lot: OpenLot) => lot.expires_at?.getTime() ?? NEVER;

/** True when a lot's points can be spent at `now`: released from pending and not yet expired. */
export function isSpendable(lot: OpenLot, now: Date): boolean {
  return lot.points_remaining > 0 && lot.available_at <= now && expiryMs(lot) > now.getTime();
}

/** True when a lot's points are still pending (earned but inside the pending period). */
export function isPending(lot: OpenLot, now: Date): boolean {
  return lot.points_remaining > 0 && lot.available_at > now && expiryMs(lot) > now.getTime();
}

/**
 * Orders lots for spending: earliest expiry first (never-expiring last), then oldest release,
 * then id, so the order is total and the same on every run.
 */
export function spendOrder(a: OpenLot, b: OpenLot): number {
  return (
    expiryMs(a) - expiryMs(b) ||
    a.available_at.getTime() - b.available_at.getTime() ||
    (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
  );
}

/**
 * Takes `points` from the spendable lots, earliest expiry first. Returns null when the spendable
 * total is short: a spend is all or nothing.
 *
 * @example allocateSpend(lots, 50, now) // [{ lot_id: "a", points: -30 }, { lot_id: "b", points: -20 }]
 */
export function allocateSpend(lots: readonly OpenLot[], points: number, now: Date): Allocation[] | null {
  assert(Number.isInteger(points) && points > 0, "spend amount is a positive integer");
  const spendable = lots.filter((l) => isSpendable(l, now)).sort(spendOrder);
  const { allocations, shortfall } = take(spendable, points);
  return shortfall === 0 ? allocations : null;
}

/**
 * Takes up to `points` for a reversal (a refund): first the lots the source itself earned, pending
 * before available; then the member's other pending lots; then other spendable lots, earliest
 * expiry first. What cannot be covered is the shortfall (debt, or written off, by policy).
 */
export function allocateReversal(
  lots: readonly OpenLot[],
  points: number,
  source: { type: string; id: string },
  now: Date,
): { allocations: Allocation[]; shortfall: number } {
  assert(Number.isInteger(points) && points > 0, "reversal amount is a positive integer");
  const live = lots.filter((l) => isSpendable(l, now) || isPending(l, now));
  const own = (l: OpenLot) => l.source_type === source.type && l.source_id === source.id;
  const rank = (l: OpenLot) => (own(l) ? 0 : 2) + (isPending(l, now) ? 0 : 1);
  const ordered = [...live].sort((a, b) => rank(a) - rank(b) || spendOrder(a, b));
  return take(ordered, points);
}

function take(ordered: readonly OpenLot[], points: number): { allocations: Allocation[]; shortfall: number } {
  const allocations: Allocation[] = [];
  let left = points;
  for (const lot of ordered) {
    if (left === 0) break;
    const used = Math.min(left, lot.points_remaining);
    if (used > 0) {
      allocations.push({ lot_id: lot.id, points: -used });
      left -= used;
    }
  }
  return { allocations, shortfall: left };
}

/** Sums the points of spendable, pending and soon-expiring lots at `now`. */
export function summarize(
  lots: readonly OpenLot[],
  now: Date,
  soonUntil: Date,
): { available: number; pending: number; expiring: { expires_at: Date; points: number }[] } {
  let available = 0;
  let pending = 0;
  const expiring = new Map<number, number>();
  for (const lot of lots) {
    if (isSpendable(lot, now)) available += lot.points_remaining;
    else if (isPending(lot, now)) pending += lot.points_remaining;
    else continue;
    if (lot.expires_at && lot.expires_at <= soonUntil) {
      const at = lot.expires_at.getTime();
      expiring.set(at, (expiring.get(at) ?? 0) + lot.points_remaining);
    }
  }
  return {
    available,
    pending,
    expiring: [...expiring.entries()]
      .sort(([a], [b]) => a - b)
      .map(([at, points]) => ({ expires_at: new Date(at), points })),
  };
}
