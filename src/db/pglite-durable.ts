import { closeSync, fsyncSync, openSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";

/**
 * Commits on the embedded database that reach the disk, not only the operating system.
 *
 * PGlite starts PostgreSQL with fsync off (`-F`), and its file system on Node (Emscripten's
 * NODEFS) has no fsync either: under `strace`, 50 commits made no fsync or fdatasync call at all.
 * A killed server loses nothing, since its writes are in the kernel's page cache (tested: every
 * acknowledged insert was there after `kill -9`), but a crash of the machine or a power cut could
 * lose the last commits and leave the data directory inconsistent.
 *
 * So the server starts PGlite with PostgreSQL's fsync on and the WAL flushed with fsync()
 * (`wal_sync_method=fsync`: Emscripten's fdatasync is a no-op, its fsync asks the file system),
 * and gives NODEFS an fsync that calls the real one. A commit then returns once its WAL is on
 * disk, and checkpoints flush the data files, as on a PostgreSQL server. What a flush costs: see
 * docs/benchmarks.md (evening of 2026-11-23).
 */
export const DURABLE_START_PARAMS: readonly string[] = [
  ...PGlite.defaultStartParams.filter((param) => param !== "-F"),
  "-c",
  "wal_sync_method=fsync",
];

/** Emscripten's number for EIO. */
const EMSCRIPTEN_EIO = 29;

interface EmscriptenStream {
  nfd?: number;
  stream_ops: { fsync?: (stream: EmscriptenStream) => number };
}

interface EmscriptenFs {
  streams: (EmscriptenStream | null | undefined)[];
  ErrnoError: new (errno: number) => Error;
}

const flushes = new WeakMap<PGlite, { count: number }>();

/**
 * Gives the NODEFS of a PGlite started with `DURABLE_START_PARAMS` a real fsync, and flushes the
 * data directory once (what recovery wrote while fsync was still a no-op). Throws when PGlite's
 * file system is not the one expected, rather than run without flushing.
 */
export function makeDurable(pglite: PGlite, dataDir: string): void {
  const fs = (pglite as unknown as { mod?: { FS?: EmscriptenFs } }).mod?.FS;
  const nodeStream = fs?.streams.find((stream) => typeof stream?.nfd === "number");
  if (!fs || !nodeStream) {
    throw new Error("PGlite's file system has no open NODEFS file: cannot make its commits durable");
  }
  const counter = { count: 0 };
  flushes.set(pglite, counter);
  // NODEFS shares one `stream_ops` object between all its files.
  nodeStream.stream_ops.fsync = (stream) => {
    try {
      fsyncSync(stream.nfd as number);
    } catch {
      // PostgreSQL treats a failed fsync as fatal (data_sync_retry is off), as it should.
      throw new fs.ErrnoError(EMSCRIPTEN_EIO);
    }
    counter.count++;
    return 0;
  };
  flushTree(dataDir);
}

/** How many fsyncs a durable PGlite has made (for tests). */
export function durableFlushes(pglite: PGlite): number {
  return flushes.get(pglite)?.count ?? 0;
}

/** fsyncs every file and directory under `dir`, the directory itself last. */
function flushTree(dir: string): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) flushTree(path);
    else if (entry.isFile()) flushPath(path);
  }
  flushPath(dir);
}

function flushPath(path: string): void {
  const fd = openSync(path, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
