import { describe, expect, it } from "vitest";
import { Turns } from "./turns.ts";

const tick = () => new Promise((r) => setTimeout(r, 1));

describe("Turns", () => {
  it("runs work under one key one at a time, in arrival order", async () => {
    const turns = new Turns();
    const log: string[] = [];
    let running = 0;
    let most = 0;
    await Promise.all(
      Array.from({ length: 5 }, async (_, i) => {
        const release = await turns.take("member-1");
        running++;
        most = Math.max(most, running);
        log.push(`start ${i}`);
        await tick();
        log.push(`end ${i}`);
        running--;
        release();
      }),
    );
    expect(most).toBe(1);
    expect(log).toEqual([
      "start 0",
      "end 0",
      "start 1",
      "end 1",
      "start 2",
      "end 2",
      "start 3",
      "end 3",
      "start 4",
      "end 4",
    ]);
    expect(turns.size).toBe(0);
  });

  it("does not hold up work under another key", async () => {
    const turns = new Turns();
    const first = await turns.take("member-1");
    let other = false;
    const released = turns.take("member-2").then((release) => {
      other = true;
      release();
    });
    await released;
    expect(other).toBe(true);
    let same = false;
    const waiting = turns.take("member-1").then((release) => {
      same = true;
      release();
    });
    await tick();
    expect(same).toBe(false);
    first();
    await waiting;
    expect(same).toBe(true);
    expect(turns.size).toBe(0);
  });

  it("passes the turn on when the work before failed", async () => {
    const turns = new Turns();
    const failing = (async () => {
      const release = await turns.take("k");
      try {
        await tick();
        throw new Error("boom");
      } finally {
        release();
      }
    })();
    const next = turns.take("k");
    await expect(failing).rejects.toThrow("boom");
    const release = await next;
    release();
    expect(turns.size).toBe(0);
  });
});
