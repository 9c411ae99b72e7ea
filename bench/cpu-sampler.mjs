import { readdirSync, readFileSync } from "node:fs";
import { parentPort, workerData } from "node:worker_threads";

/**
 * The CPU monitor's sampler (`cpu.ts`), in a worker thread (plain JavaScript: a worker does not
 * inherit tsx's loader) so that reading /proc never holds up
 * the server's event loop: every `everyMs`, the CPU ticks of every process on the machine. On
 * "stop" it samples once more and posts what it saw.
 */

/** @param {string} pid */
function readStat(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const close = stat.lastIndexOf(")");
    const fields = stat.slice(close + 2).split(" ");
    // utime and stime are fields 14 and 15 of stat; after the command they are the 12th and 13th.
    return {
      command: stat.slice(stat.indexOf("(") + 1, close),
      ticks: Number(fields[11]) + Number(fields[12]),
    };
  } catch {
    return null;
  }
}

/** @param {string} pid */
function cmdline(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ").trim();
  } catch {
    return "";
  }
}

/** @type {Map<string, import("./cpu.ts").SampledProcess>} */
const seen = new Map();
let first = true;

function sample() {
  for (const pid of readdirSync("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    const stat = readStat(pid);
    if (!stat) continue;
    const known = seen.get(pid);
    if (known) {
      known.last = stat.ticks;
      // A backend seen just after its fork still had the postmaster's command line; by now it
      // has its title (the database it serves).
      if (known.command.startsWith("postgres") && !known.cmdline.startsWith("postgres:"))
        known.cmdline = cmdline(pid);
    } else {
      seen.set(pid, {
        pid,
        command: stat.command,
        cmdline: stat.command.startsWith("postgres") ? cmdline(pid) : "",
        first: stat.ticks,
        last: stat.ticks,
        born_during: !first,
      });
    }
  }
  first = false;
}

if (parentPort) {
  const port = parentPort;
  sample();
  const timer = setInterval(sample, workerData.everyMs);
  port.on("message", () => {
    clearInterval(timer);
    sample();
    port.postMessage([...seen.values()]);
  });
}
