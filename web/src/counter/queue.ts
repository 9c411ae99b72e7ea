import { ApiError, api } from "../api.ts";
import type { PurchaseBody, PurchaseResult } from "./types.ts";

/**
 * The counter's purchase outbox. Every purchase is written here first (localStorage: it survives a
 * reload and a crash), then sent; it leaves the outbox only when the server answered 2xx or a
 * definitive 4xx. A network failure or a 5xx keeps it, and it is sent again, in order, when the
 * connection comes back, periodically, and at the next start. Each purchase keeps the idempotency
 * key (and `external_id`) it got when the cashier pressed the button, so a retry of a purchase
 * whose answer was lost returns the stored result and never counts twice.
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
}

/** A purchase the server refused for good (a 4xx other than authentication): the cashier must see it. */
export interface RejectedPurchase {
  key: string;
  body: PurchaseBody;
  label: string;
  created_at: string;
  code: string;
  message: string;
}

export type Outcome =
  | { kind: "sent"; result: PurchaseResult }
  /** The device already holds MAX_PENDING unsent purchases (or its storage is full): not taken. */
  | { kind: "full"; reason: "count" | "storage" }
  | { kind: "queued"; reason: string }
  | { kind: "rejected"; error: ApiError };

export interface QueueState {
  pending: QueuedPurchase[];
  rejected: RejectedPurchase[];
  /** The server asked for a login (401/403 on the session): sending waits for it. */
  needsLogin: boolean;
  sending: boolean;
  /** How many saved purchases went out later (since this page started). */
  sentLater: number;
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
  submit(item: Omit<QueuedPurchase, "attempts" | "last_error" | "created_at">): Promise<Outcome> {
    const entry: QueuedPurchase = {
      ...item,
      created_at: new Date().toISOString(),
      attempts: 0,
      last_error: null,
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
    void this.flush();
    return outcome;
  }

  /** Removes a refused purchase from the problems list once the cashier has seen it. */
  dismiss(key: string): void {
    this.write(
      "rejected",
      this.rejected().filter((r) => r.key !== key),
    );
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
      if (!next) return;
      try {
        const result = await api<PurchaseResult>("POST", "/v1/purchases", next.body, {
          idempotencyKey: next.key,
          // A request that hangs counts as lost: it is retried with the same key.
          signal: AbortSignal.timeout(SEND_TIMEOUT_MS),
        });
        // Nobody waits for it: the cashier was told it was saved (or the page was reloaded).
        if (!this.waiters.has(next.key)) this.sentLater++;
        this.remove(next.key);
        this.resolve(next.key, { kind: "sent", result });
      } catch (error) {
        if (isAuthFailure(error)) {
          this.needsLogin = true;
          this.mark(next.key, "login");
          this.settleWaiting("login");
          return;
        }
        if (wasRecordedBefore(error)) {
          // Only a purchase kept for longer than the server keeps answers meets this, so nobody
          // waits for it (a purchase just pressed has a fresh key): it counts as sent later.
          this.sentLater++;
          this.remove(next.key);
          this.resolve(next.key, { kind: "queued", reason: "recorded" });
          continue;
        }
        if (isTransient(error)) {
          const reason =
            error instanceof ApiError && error.status >= 500 ? `server:${error.status}` : "network";
          this.mark(next.key, reason);
          this.settleWaiting(reason);
          return;
        }
        const apiError = error as ApiError;
        this.remove(next.key);
        // The purchase the cashier is waiting for is refused on the member's screen, where it can
        // be corrected at once. Only a saved one, refused when sent later, goes to the list that
        // stays until someone has seen it: listing both would invite a second entry of the first.
        if (!this.waiters.has(next.key)) {
          this.write("rejected", [
            ...this.rejected().slice(-(MAX_REJECTED - 1)),
            {
              key: next.key,
              body: next.body,
              label: next.label,
              created_at: next.created_at,
              code: apiError.code,
              message: apiError.message,
            },
          ]);
        }
        this.resolve(next.key, { kind: "rejected", error: apiError });
      }
    }
  }

  /** Everyone still waiting hears that their purchase stays queued. */
  private settleWaiting(reason: string): void {
    for (const item of this.pending()) this.resolve(item.key, { kind: "queued", reason });
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
    this.write(
      "pending",
      this.pending().map((p) => (p.key === key ? { ...p, attempts: p.attempts + 1, last_error: reason } : p)),
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
