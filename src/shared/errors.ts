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
