import { AppError } from "./errors.ts";

/**
 * How long a credential is spared by the limit after it was issued or last valid here: a day, so
 * a customer who opened the card this morning, or a till that logged in at opening, is spared.
 */
const VALID_FOR_MS = 24 * 60 * 60_000;
/** Addresses, and credentials, kept at most. */
const MAX_KEPT = 10_000;

/**
 * Failed authentications per client address, in fixed windows: past `max` in a window, the address
 * is refused (429 `rate_limited`) before its credential is even looked up, until the window ends.
 * The per-credential limit cannot do this: a client that makes up a new token for every request
 * gets a new bucket every time, and each made-up token costs a database lookup. Kept in memory,
 * per server, like the other limits.
 *
 * A credential issued by this server (a log-in's session, a sign-up's, an API key, a card link)
 * or valid on it in the last `VALID_FOR_MS` is never refused by the limit: a till retrying with a
 * revoked key, or anyone on a café's Wi-Fi sending made-up tokens, must not lock out the counter
 * and the customers' cards on the same address. A credential refused once loses that.
 *
 * Addresses are counted by network (`clientNetwork`): an IPv6 client holds a whole /64, and would
 * otherwise get a new allowance with every address in it.
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
    /** What is counted, for the message: "failed authentications from this address". */
    private readonly counted = "failed authentications from this address",
    /** What failures are counted under: an address's network by default. */
    private readonly keyOf: (subject: string) => string = clientNetwork,
  ) {}

  /**
   * Throws 429 when `address` (or whatever is counted) failed `max` times in the window running at
   * `now`, unless `credential` was issued or valid lately.
   */
  check(address: string, now: Date, credential?: string): void {
    const window = this.#windows.get(this.keyOf(address));
    if (!window || window.endsAt <= now.getTime() || window.count < this.max) return;
    if (credential !== undefined && (this.#valid.get(bare(credential)) ?? 0) > now.getTime()) return;
    const retry = Math.max(1, Math.ceil((window.endsAt - now.getTime()) / 1000));
    throw new AppError(
      429,
      "rate_limited",
      `Too many ${this.counted}: this limit allows ${this.max} in ${describeWindow(this.windowMs)}. Retry in ${retry} s.`,
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
      if (this.noteIfRefused(address, now, error) && credential !== undefined) {
        this.#valid.delete(bare(credential));
      }
      throw error;
    }
  }

  /** Remembers that `credential` was issued or valid at `now`, for `VALID_FOR_MS`. */
  noteValid(credential: string, now: Date): void {
    const key = bare(credential);
    this.#valid.delete(key);
    this.#valid.set(key, now.getTime() + VALID_FOR_MS);
    if (this.#valid.size > MAX_KEPT) {
      const oldest = this.#valid.keys().next().value;
      if (oldest !== undefined) this.#valid.delete(oldest);
    }
  }

  /** Counts a failure against `address` when `error` is a refused credential (401); true if it was. */
  noteIfRefused(address: string, now: Date, error: unknown): boolean {
    if (!(error instanceof AppError) || error.status !== 401) return false;
    this.noteFailure(address, now);
    return true;
  }

  /** Counts a failure against `address` (or whatever this limit counts). */
  noteFailure(address: string, now: Date): void {
    address = this.keyOf(address);
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

/** A credential as the limit keeps it: the token, without an `Authorization` header's scheme. */
function bare(credential: string): string {
  return credential.replace(/^bearer\s+/i, "").trim();
}

function describeWindow(ms: number): string {
  if (ms === 60_000) return "a minute";
  if (ms % 3_600_000 === 0) return ms === 3_600_000 ? "an hour" : `${ms / 3_600_000} hours`;
  return `${Math.round(ms / 60_000)} minutes`;
}

/**
 * The network a client address stands for, as limits count it: an IPv4 address as it is (also
 * when written as IPv6, `::ffff:192.0.2.1`), an IPv6 address by its /64, the block one household
 * or one server is given. Anything else (a test's name for a client) is kept as it is.
 *
 * @example clientNetwork("2001:db8:1:2:aaaa::1") // "2001:db8:1:2::/64"
 */
export function clientNetwork(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped?.[1]) return mapped[1];
  if (!address.includes(":")) return address;
  const [head = "", tail] = address.split("%")[0]?.split("::") ?? [""];
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  if (tail === undefined && left.length !== 8) return address;
  const groups = [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill("0"), ...right];
  if (groups.length !== 8 || groups.some((g) => !/^[0-9a-f]{1,4}$/i.test(g))) return address;
  const words = groups.map((g) => Number.parseInt(g, 16));
  if (words.slice(0, 5).every((w) => w === 0) && words[5] === 0xffff) {
    const [high = 0, low = 0] = words.slice(6);
    return [high >> 8, high & 255, low >> 8, low & 255].join(".");
  }
  return `${groups
    .slice(0, 4)
    .map((g) => Number.parseInt(g, 16).toString(16))
    .join(":")}::/64`;
}
