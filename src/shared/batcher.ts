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
}

export class Batcher<I, R> {
  #running = 0;
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
    return this.#running;
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
    while (this.#running < this.options.slots && this.#queues.size > 0) {
      const [group, queue] = this.#queues.entries().next().value as [string, Waiting<I, R>[]];
      const batch: Waiting<I, R>[] = [];
      const taken = new Set<string>();
      const left: Waiting<I, R>[] = [];
      for (const waiting of queue) {
        if (batch.length >= this.options.maxBatch || waiting.keys.some((k) => taken.has(k))) {
          left.push(waiting);
          continue;
        }
        for (const k of waiting.keys) taken.add(k);
        batch.push(waiting);
      }
      // The group goes to the back of the line, so one busy group does not starve the others.
      this.#queues.delete(group);
      if (left.length > 0) this.#queues.set(group, left);
      this.#running++;
      void this.#runBatch(group, batch);
    }
  }

  async #runBatch(group: string, batch: Waiting<I, R>[]): Promise<void> {
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
      this.#running--;
      this.#schedule();
    }
  }
}
