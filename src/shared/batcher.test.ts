import { describe, expect, it } from "vitest";
import { Batcher, type Settled } from "./batcher.ts";

/** A batcher whose batches wait until the test lets them finish, recording what each one held. */
function gated(slots = 1, maxBatch = 10) {
  const batches: { group: string; items: number[] }[] = [];
  const gates: (() => void)[] = [];
  const batcher = new Batcher<number, number>(
    async (group, items) => {
      batches.push({ group, items });
      await new Promise<void>((resolve) => gates.push(resolve));
      return items.map(
        (i): Settled<number> =>
          i < 0 ? { ok: false, error: new Error(`bad ${i}`) } : { ok: true, value: i * 10 },
      );
    },
    { slots, maxBatch },
  );
  const openNext = async () => {
    while (gates.length === 0) await new Promise((r) => setImmediate(r));
    gates.shift()?.();
  };
  return { batcher, batches, openNext };
}

const turn = () => new Promise((r) => setImmediate(r));

/** Lets the event loop turn until `count` batches have started. */
async function started(batches: unknown[], count: number): Promise<void> {
  for (let i = 0; i < 100 && batches.length < count; i++) await turn();
}

describe("Batcher", () => {
  it("runs work alone when idle, and gathers what waits while a batch runs", async () => {
    const { batcher, batches, openNext } = gated();
    const first = batcher.submit("g", 1);
    await turn();
    const rest = [2, 3, 4].map((i) => batcher.submit("g", i));
    await turn();
    expect(batches).toEqual([{ group: "g", items: [1] }]);
    await openNext();
    expect(await first).toBe(10);
    await turn();
    expect(batches[1]).toEqual({ group: "g", items: [2, 3, 4] });
    await openNext();
    expect(await Promise.all(rest)).toEqual([20, 30, 40]);
  });

  it("work submitted in the same turn shares a batch", async () => {
    const { batcher, batches, openNext } = gated();
    const all = [1, 2, 3].map((i) => batcher.submit("g", i));
    await turn();
    expect(batches).toEqual([{ group: "g", items: [1, 2, 3] }]);
    await openNext();
    expect(await Promise.all(all)).toEqual([10, 20, 30]);
  });

  it("never puts two items with the same key in one batch, and keeps their order", async () => {
    const { batcher, batches, openNext } = gated();
    const done = [
      batcher.submit("g", 1, ["member-a"]),
      batcher.submit("g", 2, ["member-a"]),
      batcher.submit("g", 3, ["member-b"]),
      batcher.submit("g", 4, ["member-a", "key-4"]),
    ];
    await turn();
    expect(batches[0]?.items).toEqual([1, 3]);
    await openNext();
    await started(batches, 2);
    expect(batches[1]?.items).toEqual([2]);
    await openNext();
    await started(batches, 3);
    expect(batches[2]?.items).toEqual([4]);
    await openNext();
    expect(await Promise.all(done)).toEqual([10, 20, 30, 40]);
  });

  it("keeps groups apart and takes turns between them", async () => {
    const { batcher, batches, openNext } = gated();
    const done = [batcher.submit("a", 1), batcher.submit("b", 2), batcher.submit("a", 3)];
    await turn();
    expect(batches[0]).toEqual({ group: "a", items: [1, 3] });
    await openNext();
    await started(batches, 2);
    expect(batches[1]).toEqual({ group: "b", items: [2] });
    await openNext();
    expect(await Promise.all(done)).toEqual([10, 20, 30]);
  });

  it("caps a batch at maxBatch and runs up to `slots` batches at once", async () => {
    const { batcher, batches, openNext } = gated(2, 2);
    const done = [1, 2, 3, 4, 5].map((i) => batcher.submit("g", i));
    await turn();
    expect(batches.map((b) => b.items)).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(batcher.running).toBe(2);
    await openNext();
    await started(batches, 3);
    expect(batches[2]?.items).toEqual([5]);
    await openNext();
    await openNext();
    expect(await Promise.all(done)).toEqual([10, 20, 30, 40, 50]);
    expect(batcher.running).toBe(0);
  });

  it("fails only the item whose outcome is an error; a throw fails the whole batch", async () => {
    const { batcher, openNext } = gated();
    const good = batcher.submit("g", 1);
    const bad = batcher.submit("g", -1);
    await openNext();
    expect(await good).toBe(10);
    await expect(bad).rejects.toThrow("bad -1");

    const throwing = new Batcher<number, number>(
      async () => {
        throw new Error("connection lost");
      },
      { slots: 1, maxBatch: 10 },
    );
    const results = await Promise.allSettled([throwing.submit("g", 1), throwing.submit("g", 2)]);
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected"]);
    // And it keeps working after a failed batch.
    await expect(throwing.submit("g", 3)).rejects.toThrow("connection lost");
    expect(throwing.running).toBe(0);
  });

  it("keeps work whose key a running batch holds for a later batch, even with a slot free", async () => {
    const { batcher, batches, openNext } = gated(2);
    const first = batcher.submit("g", 1, ["member-a"]);
    await started(batches, 1);
    const second = batcher.submit("g", 2, ["member-a"]);
    const third = batcher.submit("g", 3, ["member-b"]);
    await started(batches, 2);
    expect(batches.map((b) => b.items)).toEqual([[1], [3]]);
    await openNext();
    await started(batches, 3);
    expect(batches[2]?.items).toEqual([2]);
    await openNext();
    await openNext();
    expect(await Promise.all([first, second, third])).toEqual([10, 20, 30]);
  });

  it("opens an extra slot when a batch stalls, and only then", async () => {
    const batches: number[][] = [];
    const gates: (() => void)[] = [];
    const batcher = new Batcher<number, number>(
      async (_, items) => {
        batches.push(items);
        await new Promise<void>((resolve) => gates.push(resolve));
        return items.map((i) => ({ ok: true, value: i }));
      },
      { slots: 1, maxBatch: 10, stallMs: 30, extraSlots: 1 },
    );
    const done = [batcher.submit("g", 1)];
    await started(batches, 1);
    done.push(batcher.submit("g", 2));
    await turn();
    expect(batches).toEqual([[1]]);
    // The first batch passes 30 ms: the waiting work goes in a second batch beside it.
    await new Promise((r) => setTimeout(r, 60));
    expect(batches).toEqual([[1], [2]]);
    done.push(batcher.submit("g", 3));
    await new Promise((r) => setTimeout(r, 60));
    // One extra slot at most: the third waits although both running batches are stalled.
    expect(batches).toEqual([[1], [2]]);
    for (const gate of gates.splice(0)) gate();
    await started(batches, 3);
    for (const gate of gates.splice(0)) gate();
    expect(await Promise.all(done)).toEqual([1, 2, 3]);
  });

  it("refuses a batcher without a slot", () => {
    expect(() => new Batcher(async () => [], { slots: 0, maxBatch: 1 })).toThrow();
  });
});
