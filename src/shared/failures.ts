/**
 * The members a job run could not do, so one member's failure (a bad row, a lock timeout, a bug)
 * costs no other member, of that business or another, their turn: the run skips past it, goes on,
 * and fails at its end naming how many failed and the first error, so the scheduler logs it and
 * the next run tries them again.
 *
 * @example
 * const failed = new MemberFailures("Points expiry", "the others' points expired");
 * try { await expire(m) } catch (error) { failed.add(m.business_id, m.member_id, error) }
 * failed.throwIfAny(done);
 */
export class MemberFailures {
  readonly #failures: { business: string; member: string; error: unknown }[] = [];

  constructor(
    private readonly job: string,
    private readonly othersDone: string,
  ) {}

  add(business: string, member: string, error: unknown): void {
    this.#failures.push({ business, member, error });
  }

  /** The members that failed, for a query to leave out. */
  get members(): readonly { business: string; member: string }[] {
    return this.#failures;
  }

  get count(): number {
    return this.#failures.length;
  }

  /** Throws the run's summary when a member failed; `done` members went through. */
  throwIfAny(done: number): void {
    const first = this.#failures[0];
    if (!first) return;
    const why = first.error instanceof Error ? first.error.message : String(first.error);
    throw new Error(
      `${this.job}: ${this.#failures.length} of ${done + this.#failures.length} members failed (${this.othersDone}); the first, member ${first.member} of business ${first.business}: ${why}`,
      { cause: first.error },
    );
  }
}
