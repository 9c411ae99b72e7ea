import { fork } from "node:child_process";

/** What the load generator is told to do. */
export interface LoadJob {
  origin: string;
  token: string;
  memberIds: string[];
  clients: number;
  warmup_ms: number;
  duration_ms: number;
  /** Makes external ids unique across runs on one database and seeds the traffic. */
  run_id: string;
  seed: number;
  /** Purchases per second all tills together aim at; absent: as fast as answers come. */
  rate_per_s?: number;
}

export interface LoadResult {
  /** Latency of every purchase that started and finished inside the measured window. */
  latencies_ms: number[];
  /** When each of those purchases was sent (or due, when paced), in ms since the epoch. */
  started_at_ms: number[];
  measured_ms: number;
  warmup_purchases: number;
  /** Non-201 answers and failed requests, in warm-up and measurement. */
  errors: number;
  error_samples: string[];
}

export type LoadMessage =
  | { type: "measuring" }
  | { type: "measured" }
  | { type: "result"; result: LoadResult }
  | { type: "failed"; message: string };

/**
 * Runs the load generator in a process of its own (it inherits tsx from this one), so its event
 * loop never delays the server's. `onWindow` is called when the measured window opens and closes,
 * for sampling CPU over exactly that window.
 *
 * @example const result = await runLoad(job, (edge, pid) => (edge === "start" ? monitor.start() : monitor.stop()))
 */
export function runLoad(
  job: LoadJob,
  onWindow: (edge: "start" | "end", clientPid: number) => void,
): Promise<LoadResult> {
  const child = fork(new URL("./load-client.ts", import.meta.url), [], { stdio: "inherit" });
  return new Promise((resolve, reject) => {
    child.on("message", (message: LoadMessage) => {
      if (message.type === "measuring") onWindow("start", child.pid ?? 0);
      else if (message.type === "measured") onWindow("end", child.pid ?? 0);
      else if (message.type === "result") {
        child.disconnect();
        resolve(message.result);
      } else {
        child.disconnect();
        reject(new Error(`load generator failed: ${message.message}`));
      }
    });
    child.on("error", reject);
    child.on("exit", (code) => {
      if (code !== 0 && code !== null) reject(new Error(`load generator exited with ${code}`));
    });
    child.send(job);
  });
}
