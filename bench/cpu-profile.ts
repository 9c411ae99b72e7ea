import type { Profiler } from "node:inspector";
import { Session } from "node:inspector/promises";

/**
 * A CPU profile of this process's main thread over a window, through the inspector, summed up two
 * ways: self time by place (a package, a source folder, Node itself, the garbage collector) and
 * total time (self and callees) by function of our own code.
 *
 * The sampler runs on wall-clock time: a sample taken while the thread waits for a core (the
 * machine saturated) lands in whatever native call it was in, typically the socket `writev` that
 * woke PostgreSQL. Profiles of an unloaded run (one purchase at a time) show CPU cost; profiles
 * under load show where the thread's wall time went.
 */

export interface CpuProfileSummary {
  samples: number;
  /** Milliseconds of non-idle thread time the profile saw, per unit of work (e.g. per purchase). */
  busy_ms_per_unit: number;
  /** Share of the window, in %, the thread was not idle. */
  busy_pct: number;
  by_place: { place: string; ms_per_unit: number; pct: number }[];
  by_function: { name: string; ms_per_unit: number; pct: number }[];
  /** Our own functions (src/) by total time, callees included. */
  by_function_total: { name: string; ms_per_unit: number; pct: number }[];
}

/** Starts profiling; the returned function stops it and hands back the raw profile. */
export async function startCpuProfile(): Promise<() => Promise<Profiler.Profile>> {
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.setSamplingInterval", { interval: 250 });
  await session.post("Profiler.start");
  return async () => {
    const { profile } = await session.post("Profiler.stop");
    session.disconnect();
    return profile;
  };
}

function place(url: string, functionName: string): string {
  if (!url) return functionName.startsWith("(") ? functionName : "(native: syscalls, Intl, JSON, crypto…)";
  if (url.startsWith("node:")) return "node (core)";
  const modules = url.lastIndexOf("/node_modules/");
  if (modules >= 0) {
    const rest = url.slice(modules + "/node_modules/".length).split("/");
    return rest[0]?.startsWith("@") ? `${rest[0]}/${rest[1]}` : (rest[0] ?? url);
  }
  const src = url.indexOf("/src/");
  if (src >= 0)
    return `src/${
      url
        .slice(src + 5)
        .split("/")
        .slice(0, -1)
        .join("/") || "."
    }`;
  return url.includes("/bench/") ? "bench" : url;
}

function functionLabel(frame: Profiler.ProfileNode["callFrame"]): string {
  const { functionName, url } = frame;
  if (!url) return functionName || "(native)";
  const modules = url.lastIndexOf("/node_modules/");
  const src = url.indexOf("/src/");
  const file =
    modules >= 0 ? url.slice(modules + "/node_modules/".length) : src >= 0 ? url.slice(src + 1) : url;
  // tsx's transform keeps no line numbers worth showing; the function and file name are enough.
  return `${functionName || "(anonymous)"} (${file})`;
}

/**
 * Sums a profile's samples: self time by place and by function, and total time of our own
 * functions; `units` (e.g. the purchases made in the window) turns times into ms per unit.
 */
export function summarizeCpuProfile(profile: Profiler.Profile, units: number, limit = 15): CpuProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const child of n.children ?? []) parent.set(child, n.id);
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  const windowMs = (profile.endTime - profile.startTime) / 1000;

  let busyMs = 0;
  const places = new Map<string, number>();
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  const add = (map: Map<string, number>, key: string, ms: number) => map.set(key, (map.get(key) ?? 0) + ms);
  samples.forEach((id, i) => {
    // A sample stands for the time until the next one.
    const ms = (deltas[i + 1] ?? deltas[i] ?? 0) / 1000;
    const node = byId.get(id);
    if (!node || node.callFrame.functionName === "(idle)") return;
    busyMs += ms;
    add(places, place(node.callFrame.url, node.callFrame.functionName), ms);
    add(self, functionLabel(node.callFrame), ms);
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)?.callFrame;
      if (!frame?.url.includes("/src/")) continue;
      const label = functionLabel(frame);
      if (seen.has(label)) continue; // Recursion counts once.
      seen.add(label);
      add(total, label, ms);
    }
  });
  const top = (map: Map<string, number>) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, limit)
      .map(([name, ms]) => ({ name, ms_per_unit: ms / Math.max(1, units), pct: (100 * ms) / busyMs }));
  return {
    samples: samples.length,
    busy_ms_per_unit: busyMs / Math.max(1, units),
    busy_pct: (100 * busyMs) / windowMs,
    by_place: top(places).map(({ name, ...rest }) => ({ place: name, ...rest })),
    by_function: top(self),
    by_function_total: top(total),
  };
}
