/**
 * The web app's one way to call the API: same origin, JSON, the session cookie sent by the
 * browser, the CSRF token added to every change, errors thrown as `ApiError` with the API's code.
 */

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

let csrfToken: string | null = null;

/** Remembers the CSRF token of the current cookie session (from login, sign-up or /v1/auth/me). */
export function setCsrfToken(token: string | null | undefined): void {
  csrfToken = token ?? null;
}

export interface CallOptions {
  /** Sent as `Idempotency-Key`: a retried write counts once. */
  idempotencyKey?: string;
  /** Sent as `If-Match`: the version the document was read at, so a change made meanwhile is not overwritten. */
  ifMatch?: string;
  /** A bearer token instead of the session cookie (the wallet's member card token). */
  token?: string;
  signal?: AbortSignal;
}

export async function api<T>(
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE",
  path: string,
  body?: unknown,
  options: CallOptions = {},
): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (body !== undefined) headers["content-type"] = "application/json";
  if (method !== "GET" && csrfToken && !options.token) headers["x-csrf-token"] = csrfToken;
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.idempotencyKey) headers["idempotency-key"] = options.idempotencyKey;
  if (options.ifMatch) headers["if-match"] = options.ifMatch;
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      credentials: "same-origin",
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (error) {
    if (error instanceof DOMException && error.name === "AbortError") throw error;
    throw new ApiError(0, "network_error", "The server could not be reached.");
  }
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  const json = text ? safeJson(text) : undefined;
  if (!response.ok) {
    const error = (json as { error?: { code?: string; message?: string; details?: Record<string, unknown> } })
      ?.error;
    throw new ApiError(
      response.status,
      error?.code ?? "http_error",
      error?.message ?? `HTTP ${response.status}`,
      error?.details,
    );
  }
  return json as T;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** A fresh idempotency key (random, 128 bits). */
export function newKey(): string {
  return crypto.randomUUID();
}

/** Whether an error leaves a write's outcome unknown (no answer, or the server failed): retry it. */
export function outcomeUnknown(error: unknown): boolean {
  return !(error instanceof ApiError) || error.status === 0 || error.status >= 500;
}

/**
 * Idempotency keys for presses of a button, one per action (`reward:<id>`, `voucher:<code>`): a
 * press gets a fresh key, and keeps it while its outcome is unknown, so pressing again after a lost
 * answer repeats that press instead of doing it twice. A definitive answer (done, or refused)
 * frees it: the next press is a new one.
 *
 * @example const key = keys.for("reward:r1"); try { await api(..., { idempotencyKey: key }); keys.settle("reward:r1") } catch (e) { keys.settle("reward:r1", e) }
 */
export class PressKeys {
  readonly #keys = new Map<string, { key: string; at: number }>();

  for(action: string): string {
    let press = this.#keys.get(action);
    if (!press) {
      press = { key: newKey(), at: Date.now() };
      this.#keys.set(action, press);
    }
    return press.key;
  }

  /**
   * When the press whose key is held was first sent (ms since the epoch, the device's clock): what
   * it did happened no earlier, so a window counted from there (an undo) never outlasts the
   * server's, even when the answer came on a later try.
   */
  since(action: string): number | undefined {
    return this.#keys.get(action)?.at;
  }

  /** The press had its answer (`error`: the one it failed with); its key goes unless that leaves the outcome unknown. */
  settle(action: string, error?: unknown): void {
    if (error === undefined || !outcomeUnknown(error)) this.#keys.delete(action);
  }
}

/**
 * The idempotency key of a form that creates something: sending the same body again while the
 * first one's outcome is unknown (a dropped connection, a 502) reuses its key, so a second press
 * of Save gets the first answer back instead of a second copy. A changed body is a new request,
 * and a definitive answer (created, or refused) frees the key.
 *
 * @example const key = formKey.for(body); try { await api("POST", "/v1/rewards", body, { idempotencyKey: key }); formKey.settle() } catch (e) { formKey.settle(e) }
 */
export class FormKey {
  #last: { key: string; text: string } | undefined;

  for(body: unknown): string {
    const text = JSON.stringify(body);
    if (this.#last?.text !== text) this.#last = { key: newKey(), text };
    return this.#last.key;
  }

  /** The request had its answer (`error`: the one it failed with); its key goes unless that leaves the outcome unknown. */
  settle(error?: unknown): void {
    if (error === undefined || !outcomeUnknown(error)) this.#last = undefined;
  }
}
