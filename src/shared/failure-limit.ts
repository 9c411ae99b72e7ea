import { AppError } from "./errors.ts";

/**
 * Failed authentications per client address, in fixed windows: past `max` in a window, the address
 * is refused (429 `rate_limited`) before its credential is even looked up, until the window ends.
 * The per-credential limit cannot do this: a client that makes up a new token for every request
 * gets a new bucket every time, and each made-up token costs a database lookup. Kept in memory,
 * per server, like the other limits.
 *
 * @example
 * limit.check(req.ip, now);                       // throws 429 once over the limit
 * try { … } catch (e) { limit.noteIfRefused(req.ip, now, e); throw e; }
 */
export class FailureLimit {
  readonly #windows = new Map<string, { count: number; endsAt: number }>();

  constructor(
    private readonly max: number,
    private readonly windowMs = 60_000,
  ) {}

  /** Throws 429 when `address` failed `max` times in the window running at `now`. */
  check(address: string, now: Date): void {
    const window = this.#windows.get(address);
    if (!window || window.endsAt <= now.getTime() || window.count < this.max) return;
    const retry = Math.max(1, Math.ceil((window.endsAt - now.getTime()) / 1000));
    throw new AppError(
      429,
      "rate_limited",
      `Too many failed authentications from this address: this limit allows ${this.max} a minute. Retry in ${retry} s.`,
      { retry_after_seconds: retry },
    );
  }

  /** Counts a failure against `address` when `error` is a refused credential (401). */
  noteIfRefused(address: string, now: Date, error: unknown): void {
    if (!(error instanceof AppError) || error.status !== 401) return;
    const at = now.getTime();
    const window = this.#windows.get(address);
    if (window && window.endsAt > at) window.count++;
    else {
      if (this.#windows.size >= 10_000) this.#prune(at);
      this.#windows.set(address, { count: 1, endsAt: at + this.windowMs });
    }
  }

  #prune(at: number): void {
    for (const [address, window] of this.#windows) if (window.endsAt <= at) this.#windows.delete(address);
    // Still full of live windows (an attack from many addresses): forget the oldest.
    for (const address of this.#windows.keys()) {
      if (this.#windows.size < 10_000) break;
      this.#windows.delete(address);
    }
  }
}
