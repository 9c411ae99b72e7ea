import { readdirSync, readFileSync } from "node:fs";
import { Worker } from "node:worker_threads";

/**
 * Where the machine's cores went during a run, read from /proc (Linux): the bench's own processes,
 * the PostgreSQL backends serving the scratch database, PostgreSQL's background processes, other
 * databases' backends, and every other program on the machine (the bench shares it, so their
 * share belongs next to any figure it prints).
 */

const TICKS_PER_SECOND = 100; // USER_HZ; 100 on every Linux the bench targets.
/**
 * How often the sampler reads every process's /proc entry, which takes 1.5–3 ms of a core. Twice a
 * second by default, so that a process that exits during the window (a pgbench run's backends)
 * loses at most half a second. A run whose processes all outlive its window (the purchase runs:
 * the server, the load generator, the pool's backends) needs only its first and last samples.
 */
export const SAMPLE_EVERY_MS = 500;
/** The pause probe's timer, and the lateness it counts as a pause. */
const PROBE_EVERY_MS = 5;
export const PAUSE_MS = 10;
const OTHER = "other: ";
const PG_BACKGROUND =
  /^postgres: \S+: (checkpointer|background writer|walwriter|autovacuum launcher|logical replication launcher|archiver|stats collector)/;

/** A process the sampler saw (`cpu-sampler.mjs`): its ticks at the first and the last sample. */
export interface SampledProcess {
  pid: string;
  command: string;
  /** The command line, read once, for PostgreSQL's processes only (it names the database). */
  cmdline: string;
  first: number;
  last: number;
  /** False when the process was already running at the first sample. */
  born_during: boolean;
}

/** Busy share of each part, in % of one core (the machine has `cores` × 100 %). */
export interface CpuUsage {
  cores: number;
  machine_busy_pct: number;
  parts: Record<string, number>;
  /** The busiest other programs, by command name. */
  others: { command: string; pct: number }[];
  /**
   * Times the bench's process was held up for more than `PAUSE_MS` (`pause-probe.mjs`): how
   * many, the longest, and all of them together, in ms.
   */
  pauses: { count: number; max_ms: number; total_ms: number } | null;
  /**
   * When the kernel's DAMON thread (kdamond) ran during the window, as the probe saw it every
   * `PROBE_EVERY_MS`: episodes of work, each [from, to] in milliseconds since the epoch
   * (`performance.timeOrigin + performance.now()`, the load generator's clock too).
   * Absent when no kdamond runs, or without the probe.
   */
  kdamond?: WatchedThread;
}

/** A watched thread's work (`pause-probe.mjs`): episodes, each [from, to] in epoch ms, and its CPU time. */
export interface WatchedThread {
  episodes: [number, number][];
  cpu_ms: number;
}

/** The pid of the kernel's DAMON thread (`kdamond.N`), if one runs. */
function kdamondPid(): number | undefined {
  try {
    for (const pid of readdirSync("/proc")) {
      if (!/^\d+$/.test(pid)) continue;
      try {
        if (readFileSync(`/proc/${pid}/comm`, "utf8").startsWith("kdamond")) return Number(pid);
      } catch {}
    }
  } catch {}
  return undefined;
}

/** What the pause probe posts on "stop" (`pause-probe.mjs`). */
export interface ProbeReport {
  late: number[];
  watched: WatchedThread | null;
}

function machineTicks(): { busy: number; total: number } {
  const cpu = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = cpu.slice(0, 8).reduce((s, v) => s + v, 0);
  return { busy: total - (cpu[3] ?? 0) - (cpu[4] ?? 0), total };
}

/** This process and the ones that started it (tsx's launcher, npm), which wait while it runs. */
export function selfAndAncestors(): number[] {
  const pids: number[] = [];
  for (let pid = process.pid; pid > 1 && pids.length < 10; ) {
    pids.push(pid);
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      pid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    } catch {
      break;
    }
  }
  return pids;
}

/**
 * Watches every process from `start()` to `stop()`, sampling every `sampleEveryMs` (see
 * `SAMPLE_EVERY_MS`). `named` pids get their own line; PostgreSQL backends whose command line
 * names `database` are "postgres backends".
 *
 * A second worker thread probes for pauses of the whole process (`pause-probe.mjs`) and notes
 * when the kernel's DAMON thread worked.
 *
 * The sampling runs in a worker thread (`cpu-sampler.mjs`): reading /proc for every process on the
 * machine takes milliseconds, and on the server's event loop (the bench runs the server in its own
 * process) each sample held up every purchase in flight, which showed as the p99 latency.
 *
 * @example const cpu = new CpuMonitor({ server: process.pid }, "regulars_bench", 2); cpu.start(); …; await cpu.stop()
 */
export class CpuMonitor {
  private worker: Worker | undefined;
  private probe: Worker | undefined;
  private startedAt = 0;
  private startMachine = { busy: 0, total: 0 };

  constructor(
    private readonly named: Record<string, number | readonly number[] | undefined>,
    private readonly database: string | undefined,
    private readonly cores: number,
    private readonly sampleEveryMs = SAMPLE_EVERY_MS,
    /** Whether to run the pause probe (it wakes 200 times a second in the bench's process). */
    private readonly probePauses = true,
  ) {}

  start(): void {
    this.startedAt = performance.now();
    this.startMachine = machineTicks();
    this.worker = new Worker(new URL("./cpu-sampler.mjs", import.meta.url), {
      workerData: { everyMs: this.sampleEveryMs },
    });
    this.worker.unref();
    if (!this.probePauses) return;
    this.probe = new Worker(new URL("./pause-probe.mjs", import.meta.url), {
      workerData: { everyMs: PROBE_EVERY_MS, lateMs: PAUSE_MS, watchPid: kdamondPid() },
    });
    this.probe.unref();
  }

  /** Adds a process to watch by name (e.g. a child started after `start`). */
  name(name: string, pid: number): void {
    this.named[name] = pid;
  }

  async stop(): Promise<CpuUsage> {
    const worker = this.worker;
    if (!worker) throw new Error("the CPU monitor was not started");
    const seconds = (performance.now() - this.startedAt) / 1000;
    const end = machineTicks();
    const ask = <T>(w: Worker) =>
      new Promise<T>((resolve, reject) => {
        w.once("message", resolve);
        w.once("error", reject);
        w.postMessage("stop");
      });
    const probe = this.probe;
    const [seen, probed] = await Promise.all([
      ask<SampledProcess[]>(worker),
      probe ? ask<ProbeReport>(probe) : Promise.resolve(null),
    ]);
    const late = probed?.late ?? [];
    await Promise.all([worker.terminate(), probe?.terminate()]);
    const pct = (ticks: number) => (100 * ticks) / TICKS_PER_SECOND / seconds;
    const groups = new Map<string, number>();
    for (const s of seen) {
      const group = this.group(s);
      const ticks = s.born_during ? s.last : s.last - s.first;
      groups.set(group, (groups.get(group) ?? 0) + Math.max(0, ticks));
    }
    const parts: Record<string, number> = {};
    const others: { command: string; pct: number }[] = [];
    let otherTotal = 0;
    for (const [group, ticks] of groups) {
      if (group.startsWith(OTHER)) {
        otherTotal += pct(ticks);
        others.push({ command: group.slice(OTHER.length), pct: pct(ticks) });
      } else parts[group] = pct(ticks);
    }
    parts["other programs"] = otherTotal;
    others.sort((x, y) => y.pct - x.pct);
    const busyShare = (end.busy - this.startMachine.busy) / Math.max(1, end.total - this.startMachine.total);
    return {
      cores: this.cores,
      machine_busy_pct: busyShare * this.cores * 100,
      parts,
      others: others.filter((o) => o.pct >= 1).slice(0, 4),
      pauses: probed
        ? {
            count: late.length,
            max_ms: late.reduce((m, v) => Math.max(m, v), 0),
            total_ms: late.reduce((sum, v) => sum + v, 0),
          }
        : null,
      ...(probed?.watched ? { kdamond: probed.watched } : {}),
    };
  }

  private group({ pid, command, cmdline }: SampledProcess): string {
    for (const [name, named] of Object.entries(this.named)) {
      if ([named ?? []].flat().some((p) => String(p) === pid)) return name;
    }
    if (!command.startsWith("postgres")) return `${OTHER}${command}`;
    if (this.database && cmdline.includes(` ${this.database} `)) return "postgres backends";
    if (PG_BACKGROUND.test(cmdline) || !cmdline.startsWith("postgres:")) return "postgres background";
    return "other databases";
  }
}
