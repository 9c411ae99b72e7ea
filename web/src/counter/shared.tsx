import { type FocusEvent, useEffect, useRef, useState } from "react";
import type { useT } from "../i18n/index.tsx";
import { ErrorMessage, type KnownProblems } from "../ui/components.tsx";
import { focusSoon } from "./call.ts";
import { MAX_PENDING, type PurchaseQueue, type QueuedPurchase } from "./queue.ts";

/** What the counter's panels share: refusals in the cashier's words, and the outbox as it is now. */

/**
 * The outbox's purchases as they are now, kept up to date: a "saved on this device" notice goes
 * once its purchase is sent, refused or cancelled from the queue's list.
 */
export function useOutbox(queue: PurchaseQueue): QueuedPurchase[] {
  const [pending, setPending] = useState(() => queue.pending());
  useEffect(() => {
    setPending(queue.pending());
    return queue.subscribe((state) => setPending(state.pending));
  }, [queue]);
  return pending;
}

/**
 * Keeps the keyboard's place when something on screen goes away by itself (a sale saved on this
 * device, once it is sent): if the focus was in it, focus moves to `fallbackId`, an element that
 * stays (a heading with `tabIndex={-1}`), rather than falling to the page's `<body>`. Focus the
 * cashier took elsewhere is left there. The handlers go on the element that goes.
 */
export function useFocusKept(
  gone: boolean,
  fallbackId: string,
): { onFocus: () => void; onBlur: (event: FocusEvent) => void } {
  const holds = useRef(false);
  useEffect(() => {
    if (!gone || !holds.current) return;
    holds.current = false;
    const active = document.activeElement;
    if (active === null || active === document.body) focusSoon(fallbackId);
  }, [gone, fallbackId]);
  return {
    onFocus: () => {
      holds.current = true;
    },
    onBlur: (event) => {
      // Moved to another element: not lost with what goes.
      if (event.relatedTarget !== null) holds.current = false;
    },
  };
}

/** A refused action in the cashier's words, or the API's own message for a refusal it does not know. */
export function ProblemView({ error }: { error: unknown }) {
  return <ErrorMessage error={error} known={COUNTER_PROBLEMS} />;
}

/** The refusal of a write made at a location that was archived or deleted meanwhile. */
export function isLocationGone(code: string): boolean {
  return code === "location_archived" || code === "location_not_found";
}

/** A refusal by its code and the API's message (a refused queued purchase), in the cashier's words. */
export function problemText(t: ReturnType<typeof useT>["t"], code: string, message: string): string {
  return COUNTER_PROBLEMS.codes.has(code) ? t(`counter.problem.${code}`) : message;
}

const KNOWN_PROBLEMS = new Set([
  "unauthorized",
  // Another login in this browser replaced the counter's session cookie.
  "csrf_token_invalid",
  "member_not_found",
  // The member deleted their card (or staff erased them) while the counter still showed it.
  "member_erased",
  "voucher_not_found",
  "voucher_already_redeemed",
  "voucher_voided",
  "voucher_expired",
  "insufficient_points",
  "insufficient_stamps",
  "reward_out_of_stock",
  "reward_limit_reached",
  "reward_inactive",
  "reward_not_eligible",
  "forbidden",
  "occurred_at_in_future",
  "location_archived",
  "location_not_found",
  "idempotency_key_reused",
  "refund_exceeds_purchase",
  "validation_failed",
  "member_ambiguous",
  "points_too_large",
  "rate_limited",
  // Not the server's: the outbox's, for a purchase cancelled (or taken over) while its till waited.
  "purchase_cancelled",
  "purchase_gone",
]);

const COUNTER_PROBLEMS: KnownProblems = { prefix: "counter.problem", codes: KNOWN_PROBLEMS };

/** Why the device could not keep a purchase to send later, in the cashier's words. */
export function fullText(t: ReturnType<typeof useT>["t"], reason: "count" | "storage"): string {
  return reason === "count"
    ? t("counter.queue.full", { count: MAX_PENDING })
    : t("counter.queue.storageFull");
}
