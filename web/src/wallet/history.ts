import { localDay } from "../i18n/format.ts";
import type { WalletCard } from "./types.ts";

/** The wallet's history in lines a customer reads: what happened, per visit and day. */

export type HistoryEntry = WalletCard["history"][number];

const POINT_KINDS = ["earn", "spend", "expire", "reverse", "restore"];
const STAMP_KINDS = ["earn", "redeem", "restore", "reverse"];

/** One part of a history line: a message under `wallet.history.` and its count. */
export interface HistoryPart {
  /** `points.earn`, `stamps.reverse`, …: the message under `wallet.history.`. */
  message: string;
  count: number;
  stampCardId: string | null;
}

/**
 * What one entry says. A `reverse` takes back (a refund) when negative, and gives back when
 * positive (a refund that took from other lots hands it back once a voided voucher returned the
 * purchase's own points): it reads as given back then, never as taken back.
 */
export function historyPart(entry: HistoryEntry): HistoryPart {
  const amount = (entry.type === "stamps" ? entry.stamps : entry.points) ?? 0;
  const known = entry.type === "stamps" ? STAMP_KINDS : POINT_KINDS;
  const kind =
    entry.kind === "reverse"
      ? amount > 0
        ? "restore"
        : "reverse"
      : known.includes(entry.kind)
        ? entry.kind
        : amount >= 0
          ? "plus"
          : "minus";
  return {
    message: `${entry.type}.${kind}`,
    count: Math.abs(amount),
    stampCardId: entry.type === "stamps" ? entry.stamp_card_id : null,
  };
}

/**
 * One line per visit: the points and stamps of one purchase (or voucher, refund, …) together.
 * Only neighbouring entries of one source on one day (in the business's time zone) make a line:
 * the history is newest first, and a voucher redeemed on 2 March and voided on 20 March, or a
 * purchase refunded weeks later, stays two lines, each on its own day.
 */
export function groupHistory(history: readonly HistoryEntry[], timeZone: string): HistoryEntry[][] {
  const groups: HistoryEntry[][] = [];
  let previous: { source: string; day: string } | null = null;
  for (const entry of history) {
    const source = `${entry.source_type}:${entry.source_id}`;
    const day = localDay(entry.occurred_at, timeZone);
    const last = groups.at(-1);
    if (last && previous && previous.source === source && previous.day === day) last.push(entry);
    else groups.push([entry]);
    previous = { source, day };
  }
  return groups;
}

/** The parts of a line, entries that say the same thing added up ("150 points taken back", once). */
export function lineParts(lines: readonly HistoryEntry[]): HistoryPart[] {
  const parts: HistoryPart[] = [];
  for (const entry of lines) {
    const part = historyPart(entry);
    const same = parts.find((p) => p.message === part.message && p.stampCardId === part.stampCardId);
    if (same) same.count += part.count;
    else parts.push(part);
  }
  return parts;
}
