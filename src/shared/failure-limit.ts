import { AppError } from "./errors.ts";

/** How long a valid credential is spared by the limit after it was last valid. */
const VALID_FOR_MS = 15 * 60_000;
/** Addresses, and credentials, kept at most. */
const MAX_KEPT = 10_000;

/**
 * Failed authentications per client address, in fixed windows: past `max` in a window, the address
 * is refused (429 `rate_limited`) before its credential is even looked up, until the window ends.
 * The per-credential limit cannot do this: a client that makes up a new token for every request
 * gets a new bucket every time, and each made-up token costs a database lookup. Kept in memory,
 * per server, like the other limits.
 *
 * A credential that was valid in the last `VALID_FOR_MS` on this server is never refused by the
 * limit: a till retrying with a revoked key, or anyone on a café's Wi-Fi sending made-up tokens,
 * must not lock out the counter and the customers' cards on the same address.
 *
 * @example
 * req.actor = await limit.guard(req.ip, now, token, () => authenticate(db, token, now));
 */
export class FailureLimit {
  readonly #windows = new Map<string, { count: number; endsAt: number }>();
  /** Credentials valid lately, each with when that ends: oldest first, at most `MAX_KEPT`. */
  readonly #valid = new Map<string, number>();

  constructor(
    private readonly max: number,
    private readonly windowMs = 60_000,
  ) {}

  /**
   * Throws 429 when `address` failed `max` times in the window running at `now`, unless
   * `credential` was valid lately.
   */
  check(address: string, now: Date, credential?: string): void {
    const window = this.#windows.get(address);
    if (!window || window.endsAt <= now.getTime() || window.count < this.max) return;
    if (credential !== undefined && (this.#valid.get(credential) ?? 0) > now.getTime()) return;
    const retry = Math.max(1, Math.ceil((window.endsAt - now.getTime()) / 1000));
    throw new AppError(
      429,
      "rate_limited",
      `Too many failed authentications from this address: this limit allows ${this.max} a minute. Retry in ${retry} s.`,
      { retry_after_seconds: retry },
    );
  }

  /**
   * Authenticates `credential` from `address` under the limit: refused at once when the address
   * is over it (unless the credential was valid lately), remembered when valid, counted when
   * refused.
   */
  async guard<T>(
    address: string,
    now: Date,
    credential: string | undefined,
    authenticate: () => Promise<T>,
  ): Promise<T> {
    try {
      this.check(address, now, credential);
      const actor = await authenticate();
      if (credential !== undefined) this.noteValid(credential, now);
      return actor;
    } catch (error) {
      this.noteIfRefused(address, now, error);
      throw error;
    }
  }

  /** Remembers that `credential` was valid at `now`, for `VALID_FOR_MS`. */
  noteValid(credential: string, now: Date): void {
    this.#valid.delete(credential);
    this.#valid.set(credential, now.getTime() + VALID_FOR_MS);
    if (this.#valid.size > MAX_KEPT) {
      const oldest = this.#valid.keys().next().value;
      if (oldest !== undefined) this.#valid.delete(oldest);
    }
  }

  /** Counts a failure against `address` when `error` is a refused credential (401). */
  noteIfRefused(address: string, now: Date, error: unknown): void {
    if (!(error instanceof AppError) || error.status !== 401) return;
    const at = now.getTime();
    const window = this.#windows.get(address);
    if (window && window.endsAt > at) window.count++;
    else {
      if (this.#windows.size >= MAX_KEPT) this.#prune(at);
      this.#windows.set(address, { count: 1, endsAt: at + this.windowMs });
    }
  }

  #prune(at: number): void {
    for (const [address, window] of this.#windows) if (window.endsAt <= at) this.#windows.delete(address);
    // Still full of live windows (an attack from many addresses): forget the oldest.
    for (const address of this.#windows.keys()) {
      if (this.#windows.size < MAX_KEPT) break;
      this.#windows.delete(address);
    }
  }
}
