/** Reports how far a long job is: `tick()` per row done, `finish()` at the end. */
export interface Progress {
  tick(): void;
  finish(): void;
}

const BAR_WIDTH = 30;
const REDRAW_MS = 100;

/**
 * A progress bar on a terminal (`members [#####.....] 1234/6919 rows 512/s`, redrawn in place at
 * most ten times a second), or, when the stream is not a terminal (a log file, CI), one line at
 * every tenth of the way.
 *
 * @example const progress = createProgress("purchases", rows.length); rows.forEach(() => progress.tick())
 */
export function createProgress(
  label: string,
  total: number,
  stream: NodeJS.WriteStream = process.stderr,
  now: () => number = Date.now,
): Progress {
  const startedAt = now();
  let done = 0;
  let lastDrawAt = 0;
  let lastTenth = 0;
  const line = () => {
    const seconds = Math.max((now() - startedAt) / 1000, 0.001);
    return `${done}/${total} rows ${Math.round(done / seconds)}/s`;
  };
  const draw = () => {
    const filled = total === 0 ? BAR_WIDTH : Math.round((done / total) * BAR_WIDTH);
    stream.write(`\r${label} [${"#".repeat(filled)}${".".repeat(BAR_WIDTH - filled)}] ${line()}\x1b[K`);
    lastDrawAt = now();
  };
  return {
    tick() {
      done++;
      if (stream.isTTY) {
        if (now() - lastDrawAt >= REDRAW_MS) draw();
        return;
      }
      const tenth = total === 0 ? 10 : Math.floor((done / total) * 10);
      if (tenth > lastTenth) {
        lastTenth = tenth;
        stream.write(`${label}: ${tenth * 10}% ${line()}\n`);
      }
    },
    finish() {
      if (stream.isTTY) {
        draw();
        stream.write("\n");
      }
    },
  };
}
