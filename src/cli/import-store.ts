import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import type { FileFormat, Separator } from "./spreadsheet.ts";

/**
 * What an import keeps of a file while it runs, off the JavaScript heap: a few hundred megabytes
 * of CSV are millions of rows, and a row as JavaScript objects (arrays of strings, objects of
 * values, map entries) cost some 35 times its bytes, where these cost its bytes and a few numbers.
 */

/** Entries of a list per typed array: a list grows by adding one, never by copying. */
const CHUNK_BITS = 14;
const CHUNK = 1 << CHUNK_BITS;

/** A list of numbers that grows, in typed arrays of CHUNK entries. */
class NumericList<A extends Int32Array | Float64Array> {
  readonly #make: (length: number) => A;
  #chunks: A[] = [];
  length = 0;

  constructor(make: (length: number) => A) {
    this.#make = make;
  }

  /** Adds a number; returns its index. */
  push(value: number): number {
    const chunk = this.length >>> CHUNK_BITS;
    if (chunk === this.#chunks.length) this.#chunks.push(this.#make(CHUNK));
    (this.#chunks[chunk] as A)[this.length & (CHUNK - 1)] = value;
    return this.length++;
  }

  get(index: number): number {
    return (this.#chunks[index >>> CHUNK_BITS] as A)[index & (CHUNK - 1)] as number;
  }

  set(index: number, value: number): void {
    (this.#chunks[index >>> CHUNK_BITS] as A)[index & (CHUNK - 1)] = value;
  }
}

/** A list of whole numbers (32 bits) that grows. */
export class IntList extends NumericList<Int32Array> {
  constructor() {
    super((length) => new Int32Array(length));
  }
}

/** A list of numbers (times, offsets) that grows. */
export class NumberList extends NumericList<Float64Array> {
  constructor() {
    super((length) => new Float64Array(length));
  }
}

/**
 * The numbers 0 … count - 1 in the order `compare` gives, those it finds equal in their own
 * order: a merge sort in two Int32Arrays, where sorting a typed array with a comparator copies
 * it onto the JavaScript heap twice (160 MB for ten million rows). A run already in order (a file
 * sorted either way) costs a copy.
 */
export function sortedIndices(count: number, compare: (a: number, b: number) => number): Int32Array {
  let from = new Int32Array(count);
  for (let i = 0; i < count; i++) from[i] = i;
  let to = new Int32Array(count);
  for (let width = 1; width < count; width *= 2) {
    for (let lo = 0; lo < count; lo += 2 * width) {
      const mid = Math.min(lo + width, count);
      const hi = Math.min(lo + 2 * width, count);
      if (mid === hi || compare(from[mid - 1] as number, from[mid] as number) <= 0) {
        to.set(from.subarray(lo, hi), lo);
        continue;
      }
      let i = lo;
      let j = mid;
      let k = lo;
      while (i < mid && j < hi) {
        const left = from[i] as number;
        const right = from[j] as number;
        if (compare(right, left) < 0) {
          to[k++] = right;
          j++;
        } else {
          to[k++] = left;
          i++;
        }
      }
      to.set(from.subarray(i, mid), k);
      to.set(from.subarray(j, hi), k + mid - i);
    }
    [from, to] = [to, from];
  }
  return from;
}

/** Bytes of rows are kept in blocks of this size (a longer row gets a block of its own). */
const BLOCK_BYTES = 8 * 1024 * 1024;

/**
 * The fields of rows, by number, as UTF-8 in large blocks: what the import needs of a row once it
 * was read, to import it (or report it) in another order than the file's. Fields are joined by
 * NUL, which no field the import keeps holds (a row with one is refused as it is read). A row
 * costs its bytes and 4 more (where it starts in its block).
 */
export class RecordStore {
  #blocks: { bytes: Buffer; firstRow: number; used: number }[] = [];
  #starts = new IntList();

  get size(): number {
    return this.#starts.length;
  }

  /** Keeps the fields of a row; returns the row's number (0, 1, 2 …). */
  add(fields: readonly string[]): number {
    const text = fields.join("\u0000");
    const length = Buffer.byteLength(text);
    let block = this.#blocks.at(-1);
    if (!block || block.used + length > block.bytes.length) {
      block = { bytes: Buffer.allocUnsafe(Math.max(BLOCK_BYTES, length)), firstRow: this.size, used: 0 };
      this.#blocks.push(block);
    }
    block.bytes.write(text, block.used, "utf8");
    block.used += length;
    return this.#starts.push(block.used - length);
  }

  /** The fields of row `index`. */
  get(index: number): string[] {
    // The last block that starts at or before the row (blocks are few: a binary search).
    let lo = 0;
    let hi = this.#blocks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if ((this.#blocks[mid]?.firstRow ?? 0) <= index) lo = mid;
      else hi = mid - 1;
    }
    const block = this.#blocks[lo] as { bytes: Buffer; firstRow: number; used: number };
    const next = this.#blocks[lo + 1];
    const end = index + 1 < (next?.firstRow ?? this.size) ? this.#starts.get(index + 1) : block.used;
    return block.bytes.toString("utf8", this.#starts.get(index), end).split("\u0000");
  }
}

/**
 * Spreads a 32-bit number (FNV-1a of a key, a set's number) over all bits (murmur3's finalizer),
 * so that keys that differ in their last characters do not crowd one part of a table, and sets
 * numbered 0, 8, 16 … not one lane.
 */
export function spread(hash: number): number {
  let h = hash;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** FNV-1a over the UTF-16 units of a text, mixed: the same on every run. */
export function hashText(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return spread(h);
}

/**
 * A map from keys, by their hash, to whole numbers (≥ 0), in two typed arrays (open addressing):
 * some 12 bytes a key where a Map of strings takes a hundred. It keeps no keys: `same` tells
 * whether the key of a stored value is the one looked for; without it, keys with one hash are one
 * key (where that can only put two rows in one lane, never two purchases in one).
 */
export class HashIndex {
  #hashes = new Uint32Array(1024);
  #values = new Int32Array(1024).fill(-1);
  #size = 0;

  /** The value stored for the key, or -1. */
  get(hash: number, same?: (value: number) => boolean): number {
    return this.#values[this.#slot(hash, same)] as number;
  }

  /** Stores the value for the key, in place of the one it had. */
  set(hash: number, value: number, same?: (value: number) => boolean): void {
    let slot = this.#slot(hash, same);
    if (this.#values[slot] === -1) {
      if ((this.#size + 1) * 4 > this.#values.length * 3) {
        this.#grow();
        slot = this.#slot(hash, same);
      }
      this.#size++;
    }
    this.#hashes[slot] = hash;
    this.#values[slot] = value;
  }

  /** The key's slot: where its value is, or the free one where it would go. */
  #slot(hash: number, same?: (value: number) => boolean): number {
    const mask = this.#values.length - 1;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const value = this.#values[slot] as number;
      if (value === -1) return slot;
      if (this.#hashes[slot] === hash && (same === undefined || same(value))) return slot;
    }
  }

  #grow(): void {
    const hashes = this.#hashes;
    const values = this.#values;
    this.#hashes = new Uint32Array(hashes.length * 2);
    this.#values = new Int32Array(values.length * 2).fill(-1);
    const mask = this.#values.length - 1;
    for (let i = 0; i < values.length; i++) {
      const value = values[i] as number;
      if (value === -1) continue;
      const hash = hashes[i] as number;
      let slot = hash & mask;
      while (this.#values[slot] !== -1) slot = (slot + 1) & mask;
      this.#hashes[slot] = hash;
      this.#values[slot] = value;
    }
  }
}

/**
 * Sets of numbered items (rows, purchases) that share something, joined as they are read
 * (union-find, in one Int32Array): items joined directly or through others end in one set.
 */
export class Sets {
  #parent = new IntList();

  /** A new item, in a set of its own; returns its number. */
  add(): number {
    return this.#parent.push(this.#parent.length);
  }

  /** The set's representative: the same number for every item of a set. */
  find(item: number): number {
    let x = item;
    while (this.#parent.get(x) !== x) {
      const grandparent = this.#parent.get(this.#parent.get(x));
      this.#parent.set(x, grandparent);
      x = grandparent;
    }
    return x;
  }

  join(a: number, b: number): void {
    const ra = this.find(a);
    const rb = this.find(b);
    // The smaller number represents the set, so sets come out the same on every run.
    if (ra < rb) this.#parent.set(rb, ra);
    else if (rb < ra) this.#parent.set(ra, rb);
  }
}

/** A row the import refused: its line in the file, why, and its fields (for the rejects file). */
export interface Refusal {
  line: number;
  code: string;
  message: string;
  record: string[];
}

/**
 * The refusals of a phase as the report lists them: the first `limit` by line (in the order they
 * came when lines are equal), and how many more there were. Holding a few thousand keeps the
 * memory of a file whose every row is refused (its members not imported yet) small.
 */
export class RefusalList {
  #kept: Refusal[] = [];
  #dropped = 0;
  readonly #limit: number;

  constructor(limit: number) {
    this.#limit = limit;
  }

  add(refusal: Refusal): void {
    this.#kept.push(refusal);
    if (this.#kept.length >= this.#limit * 2) this.#trim();
  }

  get count(): number {
    return this.#kept.length + this.#dropped;
  }

  /** The refusals kept, by line, and how many more there were. */
  result(): { refused: Refusal[]; unlisted: number } {
    this.#trim();
    return { refused: this.#kept, unlisted: this.#dropped };
  }

  #trim(): void {
    // A stable sort: refusals of one line stay in the order they came.
    this.#kept.sort((a, b) => a.line - b.line);
    if (this.#kept.length > this.#limit) {
      this.#dropped += this.#kept.length - this.#limit;
      this.#kept.length = this.#limit;
    }
  }
}

/**
 * The columns a rejects file adds (`line`, `error_code`, `error_message`, `extra_N`): ignored, so
 * the rejects file, once corrected, imports as it is.
 */
export const REPORT_COLUMNS = /^(line|error_code|error_message|extra_\d+)$/;

/**
 * `<file>.rejects.csv` (line, error_code, error_message, then the row's own fields), written as
 * rows are refused: each refusal goes to a scratch file in the temporary directory as it comes
 * (or, when none can be made, stays in memory), and `finish` writes them by line. So a file whose
 * every row is refused costs disk, not memory: some 24 bytes a refusal.
 *
 * It is written as the input was (`format`): the same separator, so the spreadsheet that saved
 * the file opens it in columns, and in UTF-8 with a byte-order mark when the input had one or was
 * in another encoding, so that spreadsheet reads its letters right.
 */
export class RejectsLog {
  readonly #file: string;
  #columns: readonly string[] = [];
  /** The columns of the file that the report repeats: not a report's own (see REPORT_COLUMNS). */
  #kept: number[] = [];
  #separator: Separator = ",";
  #bom = false;
  #scratch: { dir: string; fd: number } | undefined;
  #memory: Buffer[] | undefined;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #written = 0;
  #lines = new IntList();
  #offsets = new NumberList();
  #lengths = new IntList();
  #fields = new IntList();
  /** The most fields a refused row has (after the report's columns), at least the header's. */
  #width = 0;

  constructor(file: string) {
    this.#file = file;
  }

  /** The columns of the file, and how it was read; before the first refusal. */
  start(columns: readonly string[], format?: FileFormat): void {
    this.#columns = columns;
    // A rejects file imported again brings the last report's columns: they give way to this one's.
    this.#kept = columns.flatMap((column, i) => (REPORT_COLUMNS.test(column) ? [] : [i]));
    this.#width = this.#kept.length;
    this.#separator = format?.separator ?? ",";
    this.#bom = format !== undefined && (format.bom || format.encoding !== "utf-8");
  }

  get count(): number {
    return this.#lines.length;
  }

  add(refusal: Refusal): void {
    const { record } = refusal;
    const fields = [...this.#kept.map((i) => record[i] ?? ""), ...record.slice(this.#columns.length)];
    this.#width = Math.max(this.#width, fields.length);
    const text = [String(refusal.line), refusal.code, refusal.message, ...fields]
      .map((f) => csvField(f, this.#separator))
      .join(this.#separator);
    const bytes = Buffer.from(text);
    this.#lines.push(refusal.line);
    this.#offsets.push(this.#written);
    this.#lengths.push(bytes.length);
    this.#fields.push(fields.length);
    this.#written += bytes.length;
    this.#store(bytes);
  }

  /**
   * Writes the rejects file, the refusals by line (in the order they came when lines are equal),
   * and returns its path; removes a stale one from an earlier run when nothing was refused.
   * Every line gets the same number of fields: short rows are padded, long rows name their
   * extras.
   */
  finish(): string | null {
    const target = `${this.#file}.rejects.csv`;
    try {
      if (this.count === 0) {
        // A read-only folder keeps an old one; nothing to say about it when nothing was refused.
        try {
          rmSync(target, { force: true });
        } catch {}
        return null;
      }
      this.#flush();
      // Beside the file, or, when its folder is read-only (a read-only mount or share), in the
      // temporary directory; the rows are imported by now, and the report must still reach the owner.
      for (const path of [target, join(tmpdir(), `${basename(this.#file)}.rejects.csv`)]) {
        try {
          this.#writeTo(path);
          return path;
        } catch {}
      }
      return null;
    } finally {
      this.close();
    }
  }

  /** Lets go of the scratch file (`finish` does; an import that fails calls it). */
  close(): void {
    if (!this.#scratch) return;
    try {
      closeSync(this.#scratch.fd);
    } catch {}
    rmSync(this.#scratch.dir, { recursive: true, force: true });
    this.#scratch = undefined;
  }

  #writeTo(path: string): void {
    const fd = openSync(path, "w");
    try {
      const out = new Output(fd);
      const sep = this.#separator;
      const named = this.#kept.map((i) => this.#columns[i] ?? "");
      const extras = Array.from({ length: this.#width - named.length }, (_, i) => `extra_${i + 1}`);
      const header = ["line", "error_code", "error_message", ...named, ...extras];
      out.write(`${this.#bom ? "\uFEFF" : ""}${header.map((f) => csvField(f, sep)).join(sep)}\n`);
      for (const i of this.#byLine()) {
        out.write(this.#read(i));
        out.write(`${sep.repeat(this.#width - this.#fields.get(i))}\n`);
      }
      out.close();
    } finally {
      closeSync(fd);
    }
  }

  /** The refusals' numbers by line, then by the order they came. */
  #byLine(): Int32Array {
    const lines = this.#lines;
    return sortedIndices(this.count, (a, b) => lines.get(a) - lines.get(b));
  }

  #read(i: number): Buffer {
    const length = this.#lengths.get(i);
    const offset = this.#offsets.get(i);
    if (this.#memory) return this.#memory[i] as Buffer;
    const bytes = Buffer.allocUnsafe(length);
    let done = 0;
    while (done < length) {
      const n = readSync(this.#scratch?.fd as number, bytes, done, length - done, offset + done);
      if (n === 0) throw new Error("The rejects scratch file ended early.");
      done += n;
    }
    return bytes;
  }

  #store(bytes: Buffer): void {
    if (!this.#scratch && !this.#memory) {
      try {
        const dir = mkdtempSync(join(tmpdir(), "regulars-rejects-"));
        this.#scratch = { dir, fd: openSync(join(dir, "rejects"), "w+") };
      } catch {
        this.#memory = [];
      }
    }
    if (this.#memory) {
      this.#memory.push(bytes);
      return;
    }
    this.#pending.push(bytes);
    this.#pendingBytes += bytes.length;
    if (this.#pendingBytes >= 1 << 20) this.#flush();
  }

  #flush(): void {
    if (!this.#scratch || this.#pendingBytes === 0) return;
    const bytes = Buffer.concat(this.#pending);
    let done = 0;
    while (done < bytes.length) done += writeSync(this.#scratch.fd, bytes, done);
    this.#pending = [];
    this.#pendingBytes = 0;
  }
}

/** Writes to a file in blocks of a megabyte: millions of small writes are slow. */
class Output {
  readonly #fd: number;
  #pending: (Buffer | string)[] = [];
  #bytes = 0;

  constructor(fd: number) {
    this.#fd = fd;
  }

  write(data: Buffer | string): void {
    this.#pending.push(data);
    this.#bytes += data.length;
    if (this.#bytes >= 1 << 20) this.close();
  }

  /** Writes what is pending. */
  close(): void {
    if (this.#pending.length === 0) return;
    const bytes = Buffer.concat(this.#pending.map((d) => (typeof d === "string" ? Buffer.from(d) : d)));
    let done = 0;
    while (done < bytes.length) done += writeSync(this.#fd, bytes, done);
    this.#pending = [];
    this.#bytes = 0;
  }
}

function csvField(value: string, separator: Separator): string {
  return /["\r\n]/.test(value) || value.includes(separator) ? `"${value.replace(/"/g, '""')}"` : value;
}
