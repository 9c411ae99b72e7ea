import { parentPort, workerData } from "node:worker_threads";

/**
 * The bench's pause probe (`cpu.ts`), in a worker thread of its own: a timer due every `everyMs`
 * that notes each time it fires more than `lateMs` late. A garbage collection of the server's
 * thread does not stop this one, so what it notes is the process as a whole held up: waiting for
 * a core, or stopped by the kernel (memory reclaim, say). On "stop" it posts the lateness of each
 * late tick, in milliseconds.
 */

if (parentPort) {
  const port = parentPort;
  const { everyMs, lateMs } = workerData;
  /** @type {number[]} */
  const late = [];
  let due = performance.now() + everyMs;
  const tick = () => {
    const now = performance.now();
    if (now - due > lateMs) late.push(now - due);
    due = now + everyMs;
    timer = setTimeout(tick, everyMs);
  };
  let timer = setTimeout(tick, everyMs);
  port.on("message", () => {
    clearTimeout(timer);
    port.postMessage(late);
  });
}
