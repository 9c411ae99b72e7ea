import type { FastifyRequest } from "fastify";

interface SafeError {
  type: string;
  message: string;
  stack: string;
  [field: string]: unknown;
}

/**
 * What the server's log keeps of an error: what went wrong and where, never the data it was
 * about. A database error carries the failing row (`detail`: "Failing row contains (…, email,
 * phone, birthday …)") and, from PGlite, the statement with every value written in (`query`,
 * `params`); a failing write on staff or API keys would put a password's or a token's hash in the
 * log, and a member's data there is out of reach of an erasure.
 *
 * @example logSafeError(new Error("boom")) // { type: "Error", message: "boom", stack: "…" }
 */
export function logSafeError(error: unknown): SafeError {
  if (!(error instanceof Error)) return { type: typeof error, message: "(not an Error)", stack: "" };
  const kept: SafeError = {
    type: error.constructor?.name ?? error.name,
    message: error.message,
    stack: error.stack ?? "",
  };
  const fields = error as unknown as Record<string, unknown>;
  for (const name of [
    "code",
    "status",
    "statusCode",
    "severity",
    "constraint",
    "table",
    "column",
    "routine",
  ]) {
    if (typeof fields[name] === "string" || typeof fields[name] === "number") kept[name] = fields[name];
  }
  if (error.cause !== undefined) kept.cause = logSafeError(error.cause);
  return kept;
}

/** Query parameters whose values are the searched-for person or a voucher: left out of the log. */
const PERSONAL_QUERY = new Set(["q", "email", "phone", "code", "member_code"]);

/**
 * A request's URL as the log keeps it: a voucher's code in the path and the values of a lookup
 * (name, email, phone, code) in the query are replaced by `…`, so the request log names no
 * customer and holds no voucher a reader could use.
 *
 * @example logSafeUrl("/v1/members/lookup?email=ann%40example.nl") // "/v1/members/lookup?email=…"
 */
export function logSafeUrl(url: string): string {
  const [path = "", query] = url.split("?", 2);
  const safePath = path.replace(/^(\/v1\/vouchers\/)[^/]+/, "$1…");
  if (query === undefined) return safePath;
  const safeQuery = query
    .split("&")
    .map((pair) => {
      const [name = "", value] = pair.split("=", 2);
      let decoded = name;
      try {
        decoded = decodeURIComponent(name);
      } catch {
        // A name that does not decode is logged as it came.
      }
      return value !== undefined && PERSONAL_QUERY.has(decoded) ? `${name}=…` : pair;
    })
    .join("&");
  return `${safePath}?${safeQuery}`;
}

/** A request as the log keeps it (Fastify's own fields, with `logSafeUrl`). */
export function logSafeRequest(req: FastifyRequest): Record<string, unknown> {
  return {
    method: req.method,
    url: logSafeUrl(req.url),
    host: req.host,
    remoteAddress: req.ip,
    remotePort: req.socket?.remotePort,
  };
}
