/**
 * The one error type of the domain. Every failure a caller can cause has a stable `code`
 * (snake_case, documented on the operation), an HTTP status and a message a developer understands.
 *
 * @example throw new AppError(409, "insufficient_points", "The member has 40 points available; the reward costs 50.")
 */
export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = "AppError";
  }
}

export const notFound = (what: string, id: string) =>
  new AppError(404, `${what}_not_found`, `No ${what.replace(/_/g, " ")} with id ${id} in this business.`);

export const invalid = (code: string, message: string, details?: Record<string, unknown>) =>
  new AppError(422, code, message, details);

export const conflict = (code: string, message: string, details?: Record<string, unknown>) =>
  new AppError(409, code, message, details);

export const forbidden = (message = "Your role is not allowed to do this.") =>
  new AppError(403, "forbidden", message);

/** Fails loudly when an invariant the code relies on does not hold: a bug, never bad input. */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`invariant violated: ${message}`);
}

/**
 * PostgreSQL's refusals that roll a transaction back and that the same request, sent again, can
 * get past: two transactions waiting on each other (one is chosen to fail), a serialization
 * conflict, a lock or statement waited on too long. Every use case is one transaction, so such a
 * request changed nothing, and a client may retry it — a 503, not a 500. (`POST /v1/points/expire`,
 * which commits member by member, says so in its own 503.)
 */
const TRANSIENT_SQLSTATES: ReadonlyMap<string, string> = new Map([
  ["40001", "a conflict with a request at the same time"],
  ["40P01", "a deadlock with a request at the same time"],
  ["55P03", "a lock waited on too long"],
  ["57014", "a statement that ran too long"],
]);

/** What made the database give up, when it is worth a retry (`TRANSIENT_SQLSTATES`). */
export function transientDatabaseFailure(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? TRANSIENT_SQLSTATES.get(code) : undefined;
}
