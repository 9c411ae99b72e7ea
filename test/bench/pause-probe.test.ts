import { readFileSync } from "node:fs";
import { Worker } from "node:worker_threads";
import { describe, expect, it } from "vitest";
import type { ProbeReport } from "../../bench/cpu.ts";

/** Starts the bench's pause probe watching `pid`, runs `during`, and returns what it reports. */
async function probe(pid: number, during: () => Promise<void>): Promise<ProbeReport> {
  const worker = new Worker(new URL("../../bench/pause-probe.mjs", import.meta.url), {
    workerData: { everyMs: 5, lateMs: 10, watchPid: pid },
  });
  try {
    // The probe's first reading of the thread is taken before it answers.
    await new Promise((resolve, reject) => {
      worker.once("message", resolve);
      worker.once("error", reject);
      worker.postMessage("ready?");
    });
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

/** This thread's CPU time in ms, as the kernel counts it (the main thread's task id is the pid). */
function threadCpuMs(): number {
  const text = readFileSync(`/proc/${process.pid}/task/${process.pid}/schedstat`, "utf8");
  return Number(text.split(" ")[0]) / 1e6;
}

/**
 * Keeps this thread busy until it has had `ms` of CPU (however loaded the machine), in slices, so
 * the probe's thread gets its turns. Returns when it was busy and the CPU it had.
 */
async function burn(ms: number): Promise<{ from: number; to: number; cpuMs: number }> {
  const from = performance.timeOrigin + performance.now();
  const start = threadCpuMs();
  while (threadCpuMs() - start < ms) {
    const slice = performance.now() + 2;
    while (performance.now() < slice) {
      // busy
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
  return { from, to: performance.timeOrigin + performance.now(), cpuMs: threadCpuMs() - start };
}

describe("the bench's pause probe", () => {
  it("sees the watched thread's work as episodes, with its CPU time", async () => {
    let busy = { from: 0, to: 0, cpuMs: 0 };
    // The process's main thread is the task whose id is the pid.
    const report = await probe(process.pid, async () => {
      busy = await burn(50);
      await new Promise((resolve) => setTimeout(resolve, 30));
    });
    expect(report.watched).not.toBeNull();
    const watched = report.watched as NonNullable<ProbeReport["watched"]>;
    // The probe read the thread's CPU time before and after the busy stretch.
    expect(busy.cpuMs).toBeGreaterThanOrEqual(50);
    expect(watched.cpu_ms).toBeGreaterThanOrEqual(busy.cpuMs);
    expect(watched.episodes.length).toBeGreaterThanOrEqual(1);
    const covered = watched.episodes.some(([from, to]) => from < busy.to && to > busy.from);
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
