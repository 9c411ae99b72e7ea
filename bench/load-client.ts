import { openingHourInstants, randomPurchase, seededRandom } from "./cafe.ts";
import type { LoadJob, LoadMessage, LoadResult } from "./load.ts";
import { TillConnection } from "./till-connection.ts";

/**
 * The load generator (a child process of the bench): `clients` tills, each posting one purchase
 * after the other over its own keep-alive connection (`TillConnection`), for a warm-up and then a measured window.
 * Flat out by default (closed loop: a till sends its next purchase as soon as the last one is
 * answered); with `rate_per_s`, customers arrive that many per second at random (Poisson)
 * moments, and each goes to the first free till, as at a counter with one queue.
 */

const MAX_ERROR_SAMPLES = 5;
const INSTANTS_PER_CLIENT = 4096;

function send(message: LoadMessage): void {
  process.send?.(message);
}

async function run(job: LoadJob): Promise<LoadResult> {
  const tills = Array.from({ length: job.clients }, () => new TillConnection(job.origin, job.token));
  const latencies: number[] = [];
  const startedAtMs: number[] = [];
  const errorSamples: string[] = [];
  let errors = 0;
  let warmupPurchases = 0;
  let windowStart = Number.POSITIVE_INFINITY;
  let windowEnd = Number.POSITIVE_INFINITY;
  let stopped = false;

  const startTimer = setTimeout(() => {
    windowStart = performance.now();
    send({ type: "measuring" });
  }, job.warmup_ms);
  const endTimer = setTimeout(() => {
    windowEnd = performance.now();
    stopped = true;
    send({ type: "measured" });
  }, job.warmup_ms + job.duration_ms);

  // Paced: one stream of arrivals, exponential gaps averaging 1 ÷ rate seconds, taken in order by
  // whichever till is free. (Until 2026-11-23 each till had its own stream, so a purchase due
  // while its till was still busy waited for it even with other tills idle: the p99 measured
  // that queue, 16 single-server queues, more than the server.)
  const meanGapMs = job.rate_per_s ? 1000 / job.rate_per_s : 0;
  const arrivals = seededRandom(job.seed * 1000 + job.clients);
  let nextDue = performance.now();
  const takeDue = () => {
    const due = nextDue;
    nextDue += -Math.log(1 - arrivals()) * meanGapMs;
    return due;
  };
  const till = async (index: number) => {
    const connection = tills[index] as TillConnection;
    const random = seededRandom(job.seed * 1000 + index);
    const instants = openingHourInstants(random, Date.now(), INSTANTS_PER_CLIENT);
    for (let seq = 0; !stopped; seq++) {
      const due = meanGapMs > 0 ? takeDue() : 0;
      if (meanGapMs > 0) {
        const wait = due - performance.now();
        if (wait > 0) await new Promise((done) => setTimeout(done, wait));
        if (stopped) break;
      }
      const body = randomPurchase(
        random,
        job.memberIds,
        `${job.run_id}-${index}-${seq}`,
        instants[seq % instants.length]!,
      );
      // A paced purchase counts from when it was due, not from when a till got to send it: a
      // slow server must not hide its delays by holding back the next request.
      const startedAt = meanGapMs > 0 ? Math.min(due, performance.now()) : performance.now();
      let status = 0;
      let text = "";
      try {
        ({ status, text } = await connection.post("/v1/purchases", JSON.stringify(body)));
      } catch (error) {
        text = String(error);
      }
      const finishedAt = performance.now();
      if (status !== 201) {
        errors++;
        if (errorSamples.length < MAX_ERROR_SAMPLES) errorSamples.push(`${status} ${text}`);
      } else if (startedAt >= windowStart && finishedAt <= windowEnd) {
        latencies.push(finishedAt - startedAt);
        startedAtMs.push(performance.timeOrigin + startedAt);
      } else if (finishedAt < windowStart) {
        warmupPurchases++;
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: job.clients }, (_, i) => till(i)));
  } finally {
    clearTimeout(startTimer);
    clearTimeout(endTimer);
    for (const t of tills) t.close();
  }
  return {
    latencies_ms: latencies,
    started_at_ms: startedAtMs,
    measured_ms: windowEnd - windowStart,
    warmup_purchases: warmupPurchases,
    errors,
    error_samples: errorSamples,
  };
}

process.once("message", (job: LoadJob) => {
  run(job).then(
    (result) => send({ type: "result", result }),
    (error: unknown) => send({ type: "failed", message: String(error) }),
  );
});
