import { api, type CallOptions } from "../api.ts";

/**
 * How long the counter waits for an answer. A connection that is half up (shop Wi-Fi whose uplink
 * is gone) never answers: past this the call fails as `network_error`, so the cashier can go on
 * (a card code gets the offline card; a write keeps its idempotency key for the next press).
 */
export const CALL_TIMEOUT_MS = 8_000;

/** `api()` with the counter's timeout. */
export function call<T>(
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE",
  path: string,
  body?: unknown,
  options: CallOptions = {},
): Promise<T> {
  return api<T>(method, path, body, {
    ...options,
    signal: options.signal ?? AbortSignal.timeout(CALL_TIMEOUT_MS),
  });
}

/**
 * Moves focus to the element `id` once it is on screen: after a lookup, the heading of what was
 * found (a screen reader reads the customer's name); after an action whose button goes away, its
 * result, so the keyboard goes on from there rather than from the top of the page.
 */
export function focusSoon(id: string, frames = 60): void {
  requestAnimationFrame(() => {
    const element = document.getElementById(id);
    // The panel may take a few frames to show it (its parts load): wait for it, up to a second.
    if (element) element.focus();
    else if (frames > 0) focusSoon(id, frames - 1);
  });
}
