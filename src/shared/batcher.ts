/**
 * Natural batching, as a database's group commit does it: work submitted while the batches
 * already running use every slot waits, and when a slot frees up, everything that waited (up to
 * `maxBatch`) runs as one batch. An idle process runs each piece of work at once, alone, so
 * batching adds no latency; a busy one pays one round trip, one plan start and one commit for many
 * pieces of work instead of one each.
 *
 * Work is grouped (`group`): only work of one group shares a batch. Work may also name keys
 * (`keys`) that no two pieces of one batch may share, such as a member whose row the batch updates:
 * a piece whose key is taken waits for a later batch, in order.
 *
 * @example
 * const reads = new Batcher<string, Row>((group, ids) => readRows(group, ids), { slots: 2, maxBatch: 64 });
 * const row = await reads.submit("business-1", "member-7");
 */

/** The outcome of one piece of work in a batch: a value, or the error it alone failed with. */
export type Settled<R> = { ok: true; value: R } | { ok: false; error: unknown };

/** Runs a batch: one outcome per item, in the items' order. A throw fails every item. */
export type RunBatch<I, R> = (group: string, items: I[]) => Promise<Settled<R>[]>;

interface Waiting<I, R> {
  item: I;
  keys: readonly string[];
  resolve: (value: R) => void;
  reject: (error: unknown) => void;
}

export interface BatcherOptions {
  /** Batches running at once. */
  slots: number;
  /** Most items in one batch. */
  maxBatch: number;
  /**
   * A batch still running after `stallMs` (a commit waiting on a slow disk, say) frees an extra
   * slot, up to `extraSlots` of them, so one stalled batch does not hold up all the work behind
   * it. Off by default.
   */
  stallMs?: number;
  extraSlots?: number;
}

export class Batcher<I, R> {
  /** The batches running, each marked once it has run `stallMs`. */
  readonly #started = new Set<{ stalled: boolean }>();
  /** Keys held by the batches running: work that names one waits for a later batch. */
  readonly #busyKeys = new Map<string, number>();
  #scheduled = false;
  /** Waiting work by group; groups in the order their oldest work arrived. */
  readonly #queues = new Map<string, Waiting<I, R>[]>();

  constructor(
    private readonly run: RunBatch<I, R>,
    private readonly options: BatcherOptions,
  ) {
    if (options.slots < 1 || options.maxBatch < 1)
      throw new Error("a batcher needs a slot and room for an item");
  }

  /** Batches running now (for tests and metrics). */
  get running(): number {
    return this.#started.size;
  }

  /** Slots open now: the regular ones, and one more per stalled batch (up to `extraSlots`). */
  #limit(): number {
    const { slots, extraSlots = 0 } = this.options;
    let stalled = 0;
    for (const batch of this.#started) if (batch.stalled) stalled++;
    return slots + Math.min(stalled, extraSlots);
  }

  submit(group: string, item: I, keys: readonly string[] = []): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const queue = this.#queues.get(group);
      const waiting = { item, keys, resolve, reject };
      if (queue) queue.push(waiting);
      else this.#queues.set(group, [waiting]);
      this.#schedule();
    });
  }

  /**
   * Pumps after the event loop has taken in what arrived meanwhile: work that came in the same
   * turn goes in one batch. With an in-process database (PGlite), whose queries hold the thread,
   * that is the only way a batch forms; an idle process waits no more than one turn of the loop.
   */
  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.#pump();
    });
  }

  #pump(): void {
    const limit = this.#limit();
    // A group whose waiting work is all blocked by busy keys stays queued, in order, for a later
    // pump; the loop ends when every group was looked at without a batch coming of it.
    let fruitless = 0;
    while (this.#started.size < limit && fruitless < this.#queues.size) {
      const [group, queue] = this.#queues.entries().next().value as [string, Waiting<I, R>[]];
      const batch: Waiting<I, R>[] = [];
      const taken = new Set<string>();
      const left: Waiting<I, R>[] = [];
      for (const waiting of queue) {
        const blocked = waiting.keys.some((k) => taken.has(k) || this.#busyKeys.has(k));
        if (batch.length >= this.options.maxBatch || blocked) {
          // Later work with the same key stays behind it, so a key's work keeps its order.
          for (const k of waiting.keys) taken.add(k);
          left.push(waiting);
          continue;
        }
        for (const k of waiting.keys) taken.add(k);
        batch.push(waiting);
      }
      // The group goes to the back of the line, so one busy group does not starve the others.
      this.#queues.delete(group);
      if (left.length > 0) this.#queues.set(group, left);
      if (batch.length > 0) {
        fruitless = 0;
        void this.#runBatch(group, batch);
      } else fruitless++;
    }
  }

  async #runBatch(group: string, batch: Waiting<I, R>[]): Promise<void> {
    const started = { stalled: false };
    this.#started.add(started);
    const keys = batch.flatMap((w) => w.keys);
    for (const k of keys) this.#busyKeys.set(k, (this.#busyKeys.get(k) ?? 0) + 1);
    const { stallMs, extraSlots = 0 } = this.options;
    const stall =
      stallMs !== undefined && extraSlots > 0
        ? setTimeout(() => {
            started.stalled = true;
            this.#schedule();
          }, stallMs)
        : undefined;
    stall?.unref();
    try {
      const outcomes = await this.run(
        group,
        batch.map((w) => w.item),
      );
      batch.forEach((waiting, i) => {
        const outcome = outcomes[i];
        if (!outcome) waiting.reject(new Error(`the batch gave no outcome for item ${i}`));
        else if (outcome.ok) waiting.resolve(outcome.value);
        else waiting.reject(outcome.error);
      });
    } catch (error) {
      for (const waiting of batch) waiting.reject(error);
    } finally {
      clearTimeout(stall);
      this.#started.delete(started);
      for (const k of keys) {
        const n = (this.#busyKeys.get(k) ?? 1) - 1;
        if (n === 0) this.#busyKeys.delete(k);
        else this.#busyKeys.set(k, n);
      }
      this.#schedule();
    }
  }
}
