import { Worker } from "node:worker_threads";
import { describe, expect, it } from "vitest";

interface ProbeReport {
  late: number[];
  watched: { episodes: [number, number][]; cpu_ms: number } | null;
}

/** Starts the bench's pause probe watching `pid`, runs `during`, and returns what it reports. */
async function probe(pid: number, during: () => Promise<void>): Promise<ProbeReport> {
  const worker = new Worker(new URL("../../bench/pause-probe.mjs", import.meta.url), {
    workerData: { everyMs: 5, lateMs: 10, watchPid: pid },
  });
  try {
    await new Promise((resolve) => setTimeout(resolve, 30));
    await during();
    return await new Promise<ProbeReport>((resolve, reject) => {
      worker.once("message", resolve);
      worker.once("error", reject);
      worker.postMessage("stop");
    });
  } finally {
    await worker.terminate();
  }
}

/** Keeps this thread busy for `ms`, in slices, so the probe's thread gets its turns. */
async function burn(ms: number): Promise<[number, number]> {
  const from = performance.timeOrigin + performance.now();
  const until = performance.now() + ms;
  while (performance.now() < until) {
    const slice = performance.now() + 2;
    while (performance.now() < slice) {
      // busy
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
  return [from, performance.timeOrigin + performance.now()];
}

describe("the bench's pause probe", () => {
  it("sees the watched thread's work as episodes, with its CPU time", async () => {
    let busy: [number, number] = [0, 0];
    // The process's main thread is the task whose id is the pid.
    const report = await probe(process.pid, async () => {
      busy = await burn(80);
      await new Promise((resolve) => setTimeout(resolve, 30));
    });
    expect(report.watched).not.toBeNull();
    const watched = report.watched as NonNullable<ProbeReport["watched"]>;
    expect(watched.cpu_ms).toBeGreaterThanOrEqual(40);
    expect(watched.episodes.length).toBeGreaterThanOrEqual(1);
    const covered = watched.episodes.some(([from, to]) => from < busy[1] && to > busy[0]);
    expect(covered).toBe(true);
    for (const [from, to] of watched.episodes) expect(to).toBeGreaterThanOrEqual(from);
  });

  it("reports nothing watched when the thread cannot be read", async () => {
    // Above any pid Linux hands out (pid_max is at most 2^22).
    const report = await probe(2 ** 23, async () => {
      await new Promise((resolve) => setTimeout(resolve, 20));
    });
    expect(report.watched).toBeNull();
    expect(Array.isArray(report.late)).toBe(true);
  });
});
