import { ApiError, api, newKey } from "../api.ts";
import type { PurchaseBody, PurchaseResult } from "./types.ts";

/**
 * The counter's purchase outbox. Every purchase is written here first (localStorage: it survives a
 * reload and a crash), then sent; it leaves the outbox only when the server answered 2xx or a
 * definitive 4xx. A network failure or a 5xx keeps it, and it is sent again, in order, when the
 * connection comes back, periodically, and at the next start. Each purchase keeps the idempotency
 * key (and `external_id`) it got when the cashier pressed the button, so a retry of a purchase
 * whose answer was lost returns the stored result and never counts twice.
 *
 * A saved purchase can be cancelled (a wrong amount typed while offline). One never sent simply
 * leaves; one that may have reached the server (a request went out, its answer may have been lost)
 * is sent as usual and then refunded in full, as the counter's undo does, before it leaves.
 */

export interface QueuedPurchase {
  key: string;
  body: PurchaseBody;
  /** Shown in the list: who it was for. */
  label: string;
  created_at: string;
  attempts: number;
  /** The last failure, for the list ("no connection", "server error 503"). */
  last_error: string | null;
  /**
   * Whether a request for it may have gone out: set (in storage) before the first one is sent.
   * `false` from when it is stored until then; absent on a purchase an earlier version of the
   * counter stored, which sent it at once: taken as tried.
   */
  tried?: boolean;
  /**
   * The cashier cancelled it after it was tried: once the server has it, it is refunded in full,
   * with this idempotency key (kept, so a retried refund counts once).
   */
  cancel?: { key: string };
}

/** A purchase the server refused for good (a 4xx other than authentication): the cashier must see it. */
export interface RejectedPurchase {
  key: string;
  body: PurchaseBody;
  label: string;
  created_at: string;
  code: string;
  message: string;
  /** A cancelled purchase the server recorded and the counter could not refund: a manager must correct it. */
  cancelled?: boolean;
}

/** What became of a cancel. */
export type CancelResult =
  /** It had never been sent: it is gone, nothing reached the server. */
  | "removed"
  /** It may have reached the server: it is sent, then refunded, when the server answers. */
  | "refunding"
  /** It was no longer waiting (sent or refused meanwhile): nothing was cancelled. */
  | "gone"
  /** The device's storage is full: the cancel could not be kept, nothing was cancelled. */
  | "storage";

export type Outcome =
  | { kind: "sent"; result: PurchaseResult }
  /** The device already holds MAX_PENDING unsent purchases (or its storage is full): not taken. */
  | { kind: "full"; reason: "count" | "storage" }
  | { kind: "queued"; reason: string }
  /**
   * Refused by the server; or not taken here: `purchase_cancelled` (the cashier cancelled it from
   * the list) or `purchase_gone` (another window of the counter took it out of the outbox).
   */
  | { kind: "rejected"; error: ApiError };

export interface QueueState {
  pending: QueuedPurchase[];
  rejected: RejectedPurchase[];
  /** The server asked for a login (401/403 on the session): sending waits for it. */
  needsLogin: boolean;
  sending: boolean;
  /** How many saved purchases went out later (since this page started); cancelled ones never count. */
  sentLater: number;
  /** The purchases a till on this page is waiting for (just recorded, on their first send). */
  waiting: string[];
}

/**
 * Whether the screen that saved a purchase should still say it is saved on this device: while it
 * waits in the outbox to be sent, not once the cashier cancelled it (the queue's list then says
 * what becomes of it: dropped, or sent and refunded in full) nor once it left the outbox (sent,
 * or refused: the queue's list shows a refusal).
 *
 * @example stillSaved(key, queue.pending()) // true until it is sent or cancelled
 */
export function stillSaved(key: string, pending: readonly QueuedPurchase[]): boolean {
  const entry = pending.find((p) => p.key === key);
  return entry !== undefined && !entry.cancel;
}

/** Most unsent purchases one device keeps; past it the cashier must get the connection back. */
export const MAX_PENDING = 500;
/** Most refused purchases kept for the cashier to see. */
const MAX_REJECTED = 100;
const RETRY_MS = 15_000;
const SEND_TIMEOUT_MS = 10_000;

function storageKey(businessId: string, kind: "pending" | "rejected"): string {
  return `regulars.counter.${kind}.${businessId}`;
}

function read<T>(key: string): T[] {
  try {
    const raw = localStorage.getItem(key);
    const parsed: unknown = raw ? JSON.parse(raw) : [];
    return Array.isArray(parsed) ? (parsed as T[]) : [];
  } catch {
    return [];
  }
}

/** Whether a failure means "try again later" rather than "the server said no". */
export function isTransient(error: unknown): boolean {
  if (!(error instanceof ApiError)) return true;
  return (
    error.code === "network_error" || error.status >= 500 || error.status === 429 || error.status === 408
  );
}

/**
 * The server recorded this purchase long ago and no longer keeps its answer (410
 * `idempotency_answer_expired`: "done, not done again"). It was sent, not refused: recording it
 * again would count it twice.
 */
function wasRecordedBefore(error: unknown): boolean {
  return error instanceof ApiError && error.code === "idempotency_answer_expired";
}

function isAuthFailure(error: unknown): boolean {
  return error instanceof ApiError && (error.status === 401 || error.code === "csrf_token_invalid");
}

/** Why a failure keeps a purchase for later, for the list. */
function transientReason(error: unknown): string {
  return error instanceof ApiError && error.status >= 500 ? `server:${error.status}` : "network";
}

/**
 * What a till still waiting for a purchase hears when the purchase is cancelled, or leaves the
 * outbox from another window of the counter: not taken here, as a refusal, so the amount stays
 * in the form to be corrected.
 */
function notTaken(cancelled: boolean): Outcome {
  return {
    kind: "rejected",
    error: cancelled
      ? new ApiError(409, "purchase_cancelled", "The purchase was cancelled.")
      : new ApiError(409, "purchase_gone", "Another window of the counter took this purchase over."),
  };
}

export class PurchaseQueue {
  private listeners = new Set<(state: QueueState) => void>();
  private waiters = new Map<string, (outcome: Outcome) => void>();
  private running: Promise<void> | null = null;
  private again = false;
  private needsLogin = false;
  private sentLater = 0;
  private timer: ReturnType<typeof setInterval> | null = null;
  private readonly onOnline = () => void this.flush();

  constructor(private readonly businessId: string) {}

  /** Starts the automatic retries: when the browser comes back online, and every 15 seconds. */
  start(): () => void {
    window.addEventListener("online", this.onOnline);
    this.timer = setInterval(() => {
      if (this.pending().length > 0) void this.flush();
    }, RETRY_MS);
    void this.flush();
    return () => {
      window.removeEventListener("online", this.onOnline);
      if (this.timer) clearInterval(this.timer);
    };
  }

  pending(): QueuedPurchase[] {
    return read<QueuedPurchase>(storageKey(this.businessId, "pending"));
  }

  rejected(): RejectedPurchase[] {
    return read<RejectedPurchase>(storageKey(this.businessId, "rejected"));
  }

  state(): QueueState {
    return {
      pending: this.pending(),
      rejected: this.rejected(),
      needsLogin: this.needsLogin,
      sending: this.running !== null,
      sentLater: this.sentLater,
      waiting: [...this.waiters.keys()],
    };
  }

  subscribe(listener: (state: QueueState) => void): () => void {
    this.listeners.add(listener);
    const onStorage = (event: StorageEvent) => {
      if (event.key?.startsWith("regulars.counter.")) listener(this.state());
    };
    window.addEventListener("storage", onStorage);
    return () => {
      this.listeners.delete(listener);
      window.removeEventListener("storage", onStorage);
    };
  }

  /** After a new login: the purchases waiting for it are sent. */
  resume(): void {
    this.needsLogin = false;
    void this.flush();
  }

  /**
   * Stores the purchase, then sends everything waiting, in order, and resolves with what happened
   * to this one: sent (with the result), kept for later, or refused; `full`, and nothing stored,
   * when the device already holds `MAX_PENDING` unsent purchases or its storage is full. Never
   * throws: the till always hears what became of the purchase.
   */
  submit(
    item: Omit<QueuedPurchase, "attempts" | "last_error" | "created_at" | "tried" | "cancel">,
  ): Promise<Outcome> {
    const entry: QueuedPurchase = {
      ...item,
      created_at: new Date().toISOString(),
      attempts: 0,
      last_error: null,
      // Stored now, so marking it tried later rewrites `false` as `true` and never needs more room.
      tried: false,
    };
    const waiting = this.pending();
    if (waiting.length >= MAX_PENDING) return Promise.resolve({ kind: "full", reason: "count" });
    try {
      this.write("pending", [...waiting, entry]);
    } catch {
      // QuotaExceededError: the purchase is not stored, so it must not be taken.
      return Promise.resolve({ kind: "full", reason: "storage" });
    }
    const outcome = new Promise<Outcome>((resolve) => this.waiters.set(item.key, resolve));
    // A run under way sends it without a new start: the list hears of it (and that it is awaited) now.
    if (this.running) this.emit();
    void this.flush();
    return outcome;
  }

  /**
   * Cancels a saved purchase. One never sent is removed: the server never saw it. One that was
   * tried may be on the server (its answer may have been lost): it is marked, and the queue sends
   * it as usual (same key: the server's stored answer, or it is recorded now), then refunds it in
   * full with a key of its own, and only then does it leave the outbox. A till still waiting for
   * it hears that it was not taken. Never counts in `sentLater`.
   */
  cancel(key: string): CancelResult {
    const entry = this.pending().find((p) => p.key === key);
    if (!entry) return "gone";
    if (entry.tried === false) {
      this.remove(key);
      this.resolve(key, notTaken(true));
      return "removed";
    }
    if (!entry.cancel) {
      try {
        this.update(key, (p) => ({ ...p, cancel: { key: newKey() } }));
      } catch {
        // QuotaExceededError: the cancel is not stored, so it must not be taken either.
        return "storage";
      }
    }
    this.resolve(key, notTaken(true));
    void this.flush();
    return "refunding";
  }

  /** Removes a refused purchase from the problems list once the cashier has seen it. */
  dismiss(key: string): void {
    this.write(
      "rejected",
      this.rejected().filter((r) => r.key !== key),
    );
    // The list on screen hears of it now (another window, through the storage event).
    this.emit();
  }

  /** Sends the waiting purchases one at a time, oldest first; one run at a time. */
  flush(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.run().finally(() => {
      this.running = null;
      this.emit();
      if (this.again) {
        this.again = false;
        void this.flush();
      }
    });
    this.emit();
    return this.running;
  }

  private async run(): Promise<void> {
    if (this.needsLogin) {
      this.settleWaiting("login");
      return;
    }
    for (;;) {
      const next = this.pending()[0];
      if (!next) {
        // Only purchases taken out from another window can still be waited for.
        this.settleWaiting("gone");
        return;
      }
      if (next.tried === false) {
        // Before the request: from now on the server may have it, and a cancel must refund it.
        try {
          this.update(next.key, (p) => ({ ...p, tried: true }));
        } catch {
          this.settleWaiting("storage");
          return;
        }
        // Cancelled from another window just before (never sent, so removed there): not sent.
        if (this.entry(next.key)?.tried !== true) continue;
      }
      let result: PurchaseResult;
      try {
        result = await api<PurchaseResult>("POST", "/v1/purchases", next.body, {
          idempotencyKey: next.key,
          // A request that hangs counts as lost: it is retried with the same key.
          signal: AbortSignal.timeout(SEND_TIMEOUT_MS),
        });
      } catch (error) {
        // Read again: the cashier may have cancelled it while it was on its way.
        const entry = this.entry(next.key) ?? next;
        if (entry.cancel && wasRecordedBefore(error)) {
          // Recorded long ago; the answer with its id is gone, its external id names it as well.
          const { external_id, amount_minor } = entry.body;
          if (await this.refund(entry, entry.cancel.key, { purchase_external_id: external_id, amount_minor }))
            continue;
          return;
        }
        if (this.failed(entry, error)) continue;
        return;
      }
      const entry = this.entry(next.key) ?? next;
      if (entry.cancel) {
        const { id, amount_minor } = result.purchase;
        if (await this.refund(entry, entry.cancel.key, { purchase_id: id, amount_minor })) continue;
        return;
      }
      // Nobody waits for it: the cashier was told it was saved (or the page was reloaded).
      if (!this.waiters.has(next.key)) this.sentLater++;
      this.remove(next.key);
      this.resolve(next.key, { kind: "sent", result });
    }
  }

  /**
   * A purchase's send failed: whether the run goes on with the next one (this one was settled) or
   * stops (it stays for a later run).
   */
  private failed(entry: QueuedPurchase, error: unknown): boolean {
    if (isAuthFailure(error)) {
      this.needsLogin = true;
      this.mark(entry.key, "login");
      this.settleWaiting("login");
      return false;
    }
    if (wasRecordedBefore(error)) {
      // Only a purchase kept for longer than the server keeps answers meets this, so nobody
      // waits for it (a purchase just pressed has a fresh key): it counts as sent later.
      this.sentLater++;
      this.remove(entry.key);
      this.resolve(entry.key, { kind: "queued", reason: "recorded" });
      return true;
    }
    if (isTransient(error)) {
      const reason = transientReason(error);
      this.mark(entry.key, reason);
      this.settleWaiting(reason);
      return false;
    }
    const apiError = error as ApiError;
    if (entry.cancel) {
      // Refused for good: the server has nothing to cancel. Unless its external id holds another
      // purchase (409 idempotency_key_reused): not one to refund blindly, but for a manager to see.
      if (apiError.code === "idempotency_key_reused") this.reject(entry, apiError, true);
      this.remove(entry.key);
      this.resolve(entry.key, notTaken(true));
      return true;
    }
    // The purchase the cashier is waiting for is refused on the member's screen, where it can
    // be corrected at once. Only a saved one, refused when sent later, goes to the list that
    // stays until someone has seen it: listing both would invite a second entry of the first.
    if (!this.waiters.has(entry.key)) this.reject(entry, apiError, false);
    this.remove(entry.key);
    this.resolve(entry.key, { kind: "rejected", error: apiError });
    return true;
  }

  /**
   * Refunds a cancelled purchase the server has, in full, as the counter's undo does (the same
   * external id: one refund undoes it, whichever asks). True when that is settled (refunded, or
   * listed for a manager); false when it stays for a later run, which replays the purchase's
   * stored answer and retries the refund with the same key.
   */
  private async refund(
    entry: QueuedPurchase,
    key: string,
    purchase: ({ purchase_id: string } | { purchase_external_id: string }) & { amount_minor: number },
  ): Promise<boolean> {
    try {
      await api(
        "POST",
        "/v1/refunds",
        {
          external_id: `undo-${entry.body.external_id}`,
          ...purchase,
          reason: "Cancelled at the counter",
        },
        { idempotencyKey: key, signal: AbortSignal.timeout(SEND_TIMEOUT_MS) },
      );
    } catch (error) {
      if (isAuthFailure(error)) {
        this.needsLogin = true;
        this.mark(entry.key, "login");
        this.settleWaiting("login");
        return false;
      }
      if (isTransient(error)) {
        const reason = transientReason(error);
        this.mark(entry.key, reason);
        this.settleWaiting(reason);
        return false;
      }
      // Already undone: this refund was recorded long ago (410), or one under its external id
      // with other details (409: asked by id, then by external id; or the counter's undo), and
      // both refund the purchase in full. Any other refusal: the purchase stays, for a manager.
      if (
        !wasRecordedBefore(error) &&
        !(error instanceof ApiError && error.code === "idempotency_key_reused")
      )
        this.reject(entry, error as ApiError, true);
    }
    this.remove(entry.key);
    this.resolve(entry.key, notTaken(true));
    return true;
  }

  /**
   * Everyone still waiting hears that their purchase stays queued; or that it was cancelled, or
   * left the outbox from another window of the counter (a till must never wait forever).
   */
  private settleWaiting(reason: string): void {
    const pending = new Map(this.pending().map((p) => [p.key, p]));
    for (const key of [...this.waiters.keys()]) {
      const item = pending.get(key);
      this.resolve(key, !item ? notTaken(false) : item.cancel ? notTaken(true) : { kind: "queued", reason });
    }
  }

  private entry(key: string): QueuedPurchase | undefined {
    return this.pending().find((p) => p.key === key);
  }

  /** Lists a purchase the server refused (or a cancelled one it recorded) for the cashier to see. */
  private reject(entry: QueuedPurchase, error: ApiError, cancelled: boolean): void {
    this.write("rejected", [
      ...this.rejected().slice(-(MAX_REJECTED - 1)),
      {
        key: entry.key,
        body: entry.body,
        label: entry.label,
        created_at: entry.created_at,
        code: error.code,
        message: error.message,
        ...(cancelled ? { cancelled: true } : {}),
      },
    ]);
  }

  private resolve(key: string, outcome: Outcome): void {
    const waiter = this.waiters.get(key);
    if (waiter) {
      this.waiters.delete(key);
      waiter(outcome);
    }
    this.emit();
  }

  private mark(key: string, reason: string): void {
    this.update(key, (p) => ({ ...p, attempts: p.attempts + 1, last_error: reason }));
  }

  private update(key: string, change: (item: QueuedPurchase) => QueuedPurchase): void {
    this.write(
      "pending",
      this.pending().map((p) => (p.key === key ? change(p) : p)),
    );
  }

  private remove(key: string): void {
    this.write(
      "pending",
      this.pending().filter((p) => p.key !== key),
    );
  }

  private write(kind: "pending" | "rejected", items: unknown[]): void {
    const key = storageKey(this.businessId, kind);
    if (items.length === 0) localStorage.removeItem(key);
    else localStorage.setItem(key, JSON.stringify(items));
  }

  private emit(): void {
    const state = this.state();
    for (const listener of this.listeners) listener(state);
  }
}
