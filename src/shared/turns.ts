/**
 * Turns per key within one process: work under a key runs after the work under the same key that
 * came before it has finished, in arrival order; work under other keys is not held up.
 *
 * Recording purchases takes turns per member. Two purchases of one member at the same node would
 * otherwise read the same state, and the second one's guarded write would fail and be read and
 * written again (about 1 % of purchases on the bench, and most of its slowest ones). Across nodes,
 * the write's guard still decides.
 *
 * @example
 * const release = await turns.take(`member:${id}`);
 * try { await record(); } finally { release(); }
 */
export class Turns {
  /** Per key, a promise that settles when the last work queued under it has finished. */
  readonly #tails = new Map<string, Promise<void>>();

  /** Waits for the key's turn; the returned function ends it (call it exactly once). */
  async take(key: string): Promise<() => void> {
    const before = this.#tails.get(key);
    let end!: () => void;
    const mine = new Promise<void>((resolve) => {
      end = resolve;
    });
    const tail = before ? before.then(() => mine) : mine;
    this.#tails.set(key, tail);
    if (before) await before;
    return () => {
      end();
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    };
  }

  /** Keys with work running or waiting (for tests). */
  get size(): number {
    return this.#tails.size;
  }
}
