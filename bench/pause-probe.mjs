import { openSync, readSync } from "node:fs";
import { parentPort, workerData } from "node:worker_threads";

/**
 * The bench's pause probe (`cpu.ts`), in a worker thread of its own: a timer due every `everyMs`
 * that notes each time it fires more than `lateMs` late. A garbage collection of the server's
 * thread does not stop this one, so what it notes is the process as a whole held up: waiting for
 * a core, or stopped by the kernel (memory reclaim, say).
 *
 * With `watchPid` (the kernel's DAMON thread), each tick also reads that thread's CPU time
 * (/proc/<pid>/schedstat, in ns): a tick that finds it grown marks the time since the last tick as
 * the thread working. Ticks within `MERGE_MS` of each other make one episode.
 *
 * On "ready?" it answers "ready" (its first reading is taken by then). On "stop" it posts the
 * lateness of each late tick, in milliseconds, and the episodes, each [from, to] in milliseconds
 * since the epoch, with the thread's CPU time over the window.
 */

const MERGE_MS = 10;

const buffer = Buffer.alloc(128);

/**
 * A reader of a thread's CPU time in ns (/proc/<pid>/schedstat), NaN once it cannot be read. The
 * file stays open: each tick reads it again from the start (the kernel writes it anew on every
 * read), which costs a third of opening, reading and closing it, on a thread that wakes 200 times
 * a second beside the server's.
 *
 * @param {number} pid
 * @returns {() => number}
 */
function cpuReader(pid) {
  let fd;
  try {
    fd = openSync(`/proc/${pid}/schedstat`, "r");
  } catch {
    return () => Number.NaN;
  }
  return () => {
    try {
      const length = readSync(fd, buffer, 0, buffer.length, 0);
      return Number(buffer.toString("latin1", 0, length).split(" ")[0]);
    } catch {
      return Number.NaN;
    }
  };
}

const epochMs = () => performance.timeOrigin + performance.now();

if (parentPort) {
  const port = parentPort;
  const { everyMs, lateMs, watchPid } = workerData;
  /** @type {number[]} */
  const late = [];
  /** @type {[number, number][]} */
  const episodes = [];
  const cpuNs = watchPid ? cpuReader(watchPid) : () => Number.NaN;
  const firstNs = cpuNs();
  let lastNs = firstNs;
  let lastAt = epochMs();
  let due = performance.now() + everyMs;
  const tick = () => {
    const now = performance.now();
    if (now - due > lateMs) late.push(now - due);
    due = now + everyMs;
    if (watchPid) {
      const ns = cpuNs();
      const at = epochMs();
      if (ns > lastNs) {
        const open = episodes.at(-1);
        if (open && lastAt - open[1] <= MERGE_MS) open[1] = at;
        else episodes.push([lastAt, at]);
      }
      if (!Number.isNaN(ns)) lastNs = ns;
      lastAt = at;
    }
    timer = setTimeout(tick, everyMs);
  };
  let timer = setTimeout(tick, everyMs);
  port.on("message", (message) => {
    // "ready?": answered once the first reading is taken (tests wait for it before working).
    if (message === "ready?") {
      port.postMessage("ready");
      return;
    }
    clearTimeout(timer);
    const watched =
      watchPid && !Number.isNaN(firstNs) ? { episodes, cpu_ms: (lastNs - firstNs) / 1e6 } : null;
    port.postMessage({ late, watched });
  });
}
