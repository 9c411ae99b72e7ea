import { isAscii } from "node:buffer";
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { CsvError, Parser } from "csv-parse";
import { textProblem } from "../shared/text.ts";
import { ImportFileError, ImportUsageError } from "./import-format.ts";
import { REPORT_COLUMNS, type Refusal } from "./import-store.ts";
import {
  type FileFormat,
  FileFormatError,
  notUtf8,
  notWhatItsMarkSays,
  type Separator,
  SeparatorScan,
  textDecoder,
  utf8Already,
} from "./spreadsheet.ts";

/**
 * Reads a CSV file for an import as a stream, a megabyte at a time, so that the file's size is
 * never in memory: the importer keeps what it needs of each row (see import-store.ts). The
 * results are those of reading the whole file at once: the same rows, refusals and line numbers.
 */

/** A row of the file: the line it starts on, its fields, and its non-empty values by column. */
export interface CsvRow {
  line: number;
  record: string[];
  values: Record<string, string>;
}

/** Bytes read from the file at a time. */
export const READ_BYTES = 1024 * 1024;

/**
 * The file as one that can be read twice and at any offset, once it is known to be at most
 * `limit` bytes (a bigger one is refused before it is read, saying to split it): the file itself,
 * or, for a pipe (`<(gunzip -c till.csv.gz)`), a copy in the temporary directory, made as it is
 * read. `remove` lets go of the copy.
 */
export function readableFile(file: string, limit: number): { path: string; remove: () => void } {
  if (!existsSync(file)) throw new ImportFileError(`${file}: no such file.`);
  const stat = statSync(file);
  if (stat.isDirectory()) throw new ImportFileError(`${file} is a directory: name a CSV file in it.`);
  if (stat.isFile()) {
    if (stat.size > limit) throw tooBig(file, String(stat.size), limit);
    return { path: file, remove: () => {} };
  }
  const dir = mkdtempSync(join(tmpdir(), "regulars-import-"));
  const remove = () => rmSync(dir, { recursive: true, force: true });
  const path = join(dir, basename(file));
  try {
    const out = openSync(path, "w");
    try {
      let size = 0;
      eachChunk(file, READ_BYTES, (bytes) => {
        size += bytes.length;
        if (size > limit) throw tooBig(file, `more than ${limit}`, limit);
        for (let done = 0; done < bytes.length; ) done += writeSync(out, bytes, done);
      });
    } finally {
      closeSync(out);
    }
  } catch (error) {
    remove();
    throw error;
  }
  return { path, remove };
}

function tooBig(file: string, size: string, limit: number): ImportFileError {
  return new ImportFileError(
    `${file} is ${size} bytes; an import reads at most ${limit} (${megabytes(limit)}) at once, as it keeps about twice the file's size in memory while it runs. Split it into files of fewer lines, each with the header row, and import them one after the other (the members first).`,
  );
}

function megabytes(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${Math.round(bytes / 1024 / 1024)} MB` : `${bytes} bytes`;
}

/** Calls `each` with the file's bytes, `size` at a time (the same buffer: copy what is kept). */
export function eachChunk(file: string, size: number, each: (bytes: Buffer) => void): void {
  const fd = openSync(file, "r");
  try {
    const buffer = Buffer.allocUnsafe(size);
    for (;;) {
      const n = readSync(fd, buffer, 0, size, null);
      if (n === 0) return;
      each(buffer.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
}

/** What a CSV file must hold: its columns, and how to read its text. */
export interface CsvSpec {
  allowed: readonly string[];
  required: readonly string[];
  /** Other names of the allowed columns, in the header's compared form (see `columnKey`). */
  aliases?: Readonly<Record<string, string>>;
  /**
   * Unknown columns that must not be ignored (a purchase's member named in a way this import
   * cannot read would be recorded as anonymous): the file is refused with `why`.
   */
  notIgnored?: { test: (key: string) => boolean; why: string };
  /** The file's encoding when it is not UTF-8 (see `decodeText`). */
  encoding?: string;
  /** The largest file it reads (see `checkSize`). */
  maxBytes: number;
  /** Bytes read at a time (READ_BYTES; tests make it small, to cut records and letters apart). */
  chunkBytes?: number;
}

/** What the reader does with the file's header, rows and refused rows, as it reads them. */
export interface CsvHandlers {
  /**
   * The header's columns, once they are known to be right (an ignored column is `IGNORED`), and
   * the names a rejects file gives them (the column's for a known one, as written for an ignored
   * one); may refuse the file (throw).
   */
  header?: (columns: string[], format: FileFormat, names: string[]) => void;
  row: (row: CsvRow) => void;
  refuse: (refusal: Refusal) => void;
}

/**
 * Reads a CSV with a header row, in UTF-8 (or `encoding`), separated by commas, semicolons or
 * tabs, whichever the header uses (see `spreadsheet.ts`). Unknown or missing required columns
 * refuse the whole file; a malformed record or one with the wrong number of fields is refused on
 * its own, by its first line. A row whose fields are all empty (spreadsheets leave them after
 * the last row) is skipped like a blank line.
 *
 * It reads the file twice: once for what must be known before the first row (the encoding is
 * right, the separator, whether lines end in CR alone), then for the rows. A file refused whole
 * is refused before any row reaches `handlers`.
 */
export function readCsvFile(
  file: string,
  spec: CsvSpec,
  handlers: CsvHandlers,
): { columns: string[]; format: FileFormat; ignored: string[] } {
  const chunkBytes = spec.chunkBytes ?? READ_BYTES;
  const named = spec.encoding === undefined ? undefined : encodingName(spec.encoding);
  const source = readableFile(file, spec.maxBytes);
  try {
    let text: TextFormat;
    try {
      text = scanText(source.path, named, chunkBytes);
    } catch (error) {
      if (error instanceof FileFormatError) throw new ImportFileError(`${file}: ${error.message}`);
      throw error;
    }
    const { separator } = text.format;
    let columns: string[] | undefined;
    let ignored: string[] = [];
    let names: string[] = [];
    const splitter = new CsvSplitter(separator, (piece) => {
      if (columns) readRow(piece, columns, names, separator, handlers);
      else {
        const header = headerColumns(file, piece, spec);
        columns = header.columns;
        ignored = header.ignored;
        names = header.names;
        handlers.header?.(columns, text.format, header.names);
      }
    });
    try {
      eachText(source.path, chunkBytes, text, (piece) => splitter.push(Buffer.from(piece)));
    } catch (error) {
      // The first reading found the text valid: the file changed while it was read (a till still
      // writing its export, a line appended).
      if ((error as { code?: string }).code === "ERR_ENCODING_INVALID_ENCODED_DATA") {
        throw new ImportFileError(
          `${file} changed while it was read (text that was not there at first is not valid ${text.format.encoding}): wait until whatever writes it is done, then run the import again; rows already imported are skipped.`,
        );
      }
      throw error;
    }
    splitter.end();
    if (!columns) throw new ImportFileError(`${file} is empty: it needs a header row.`);
    return { columns, format: text.format, ignored };
  } finally {
    source.remove();
  }
}

/** A column of the file this import does not know: its values are not read. */
export const IGNORED = "\u0000ignored";

/** A header's name as it is compared: lower case, spaces and hyphens as underscores. */
function columnKey(name: string): string {
  return name
    .trim()
    .toLowerCase()
    .replace(/[\s-]+/g, "_");
}

/**
 * The columns of the header row, or a refusal of the file that says what is wrong with them.
 * A known column or one of its aliases is read as that column; a name that is close to one
 * (a typo: `emial`) refuses the file, saying which it may mean; any other name is ignored (a
 * till's `notes`), and the report names it.
 */
function headerColumns(
  file: string,
  piece: CsvPiece,
  spec: CsvSpec,
): { columns: string[]; names: string[]; ignored: string[] } {
  if ("problem" in piece) {
    throw new ImportFileError(
      `${file}: the header row (line ${piece.line}) is not valid CSV: ${piece.problem(`field ${piece.field + 1}`)}`,
    );
  }
  const aliases = spec.aliases ?? {};
  const ignored: string[] = [];
  const typos: string[] = [];
  const refused: string[] = [];
  // A column with no name in the header is Excel's empty column past the data (a header ending in
  // a separator): allowed while its rows leave it empty too.
  const columns = piece.fields.map((field) => {
    const key = columnKey(field);
    if (key === "" || REPORT_COLUMNS.test(key) || spec.allowed.includes(key)) return key;
    const alias = aliases[key];
    if (alias !== undefined && spec.allowed.includes(alias)) return alias;
    const near = nearestColumn(key, spec.allowed, aliases);
    if (near) typos.push(`"${field.trim()}" (did you mean ${near}?)`);
    else if (spec.notIgnored?.test(key)) refused.push(`"${field.trim()}"`);
    else ignored.push(field.trim());
    return IGNORED;
  });
  if (typos.length > 0) {
    throw new ImportFileError(
      `${file}: unknown column(s) ${typos.join(", ")}. Rename the column in the header row, or, if it is another column of yours, give it a name further from these. The columns are: ${spec.allowed.join(", ")}.`,
    );
  }
  if (refused.length > 0) {
    throw new ImportFileError(`${file}: unknown column(s) ${refused.join(", ")}: ${spec.notIgnored?.why}`);
  }
  const repeated = columns.filter((c, i) => c !== "" && c !== IGNORED && columns.indexOf(c) !== i);
  if (repeated.length > 0) {
    const named = [...new Set(repeated)].map((column) => {
      const written = piece.fields.filter((_, i) => columns[i] === column).map((f) => `"${f.trim()}"`);
      return `${column} (${written.join(", ")})`;
    });
    throw new ImportFileError(`${file}: the header names ${named.join(", ")} more than once.`);
  }
  const missing = spec.required.filter((c) => !columns.includes(c));
  if (missing.length > 0) {
    const unread =
      ignored.length > 0 ? ` It has columns this import does not read: ${ignored.join(", ")}.` : "";
    throw new ImportFileError(
      `${file}: the header lacks the required column(s) ${missing.join(", ")}.${unread}`,
    );
  }
  const names = columns.map((column, i) => (column === IGNORED ? (piece.fields[i] ?? "").trim() : column));
  return { columns, names, ignored };
}

/**
 * The known column a header's name is a typo of: at most one letter off (a short name, up to 4
 * letters) or two (a longer one), counting two letters swapped as one; undefined when none is.
 */
function nearestColumn(
  key: string,
  allowed: readonly string[],
  aliases: Readonly<Record<string, string>>,
): string | undefined {
  const limit = key.length <= 4 ? 1 : 2;
  let best: { column: string; distance: number } | undefined;
  for (const [name, column] of [
    ...allowed.map((c) => [c, c] as const),
    ...Object.entries(aliases).filter(([, c]) => allowed.includes(c)),
  ]) {
    if (Math.abs(name.length - key.length) > limit) continue;
    const distance = editDistance(key, name);
    if (distance <= limit && (!best || distance < best.distance)) best = { column, distance };
  }
  return best?.column;
}

/** Edits (insert, delete, change, or swap two neighbours) that turn `a` into `b`. */
export function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const row = rows[i] as number[];
      const above = rows[i - 1] as number[];
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(
        (above[j] as number) + 1,
        (row[j - 1] as number) + 1,
        (above[j - 1] as number) + cost,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, ((rows[i - 2] as number[])[j - 2] as number) + 1);
      }
      row[j] = best;
    }
  }
  return (rows[a.length] as number[])[b.length] as number;
}

/** A record after the header: a row, or a refusal (malformed, wrong fields, text it cannot keep). */
function readRow(
  piece: CsvPiece,
  columns: string[],
  names: string[],
  separator: Separator,
  handlers: CsvHandlers,
): void {
  if ("problem" in piece) {
    handlers.refuse({
      line: piece.line,
      code: "csv_malformed",
      message: piece.problem(
        piece.field < columns.length ? `Column ${names[piece.field]}` : `Field ${piece.field + 1}`,
      ),
      record: piece.text.split(separator),
    });
    return;
  }
  const { line, lastLine, fields: record } = piece;
  if (record.every((field) => field === "")) return;
  if (record.length !== columns.length) {
    const span =
      lastLine > line ? ` It runs from line ${line} to line ${lastLine}: is a quote not closed?` : "";
    // Excel in a comma-separated file: 1,50 is two fields, 1 and 50.
    const comma =
      separator === "," &&
      record.length === columns.length + 1 &&
      record.some((field, i) => /^-?\d+$/.test(field) && /^\d{1,3}$/.test(record[i + 1] ?? ""))
        ? ` Is a decimal comma unquoted (1,50)? Write "1,50" in quotes or 1.50, or save the file with ; as the separator.`
        : "";
    handlers.refuse({
      line,
      code: "csv_field_count",
      message: `The row has ${record.length} fields; the header has ${columns.length}.${span}${comma}`,
      record,
    });
    return;
  }
  // A field over a line break that also holds the separator is a quote closed lines later, which
  // swallowed the rows in between ("Anna,yes⏎n2,Bob,yes⏎n3,Cee"): refused, so that no row goes
  // unreported. A cell with a line break of its own (Excel's Alt+Enter, "Two⏎lines") is kept.
  const broken = record.findIndex((field) => /[\r\n]/.test(field) && field.includes(separator));
  if (broken >= 0) {
    handlers.refuse({
      line,
      code: "csv_line_break",
      message: `${names[broken] ? `Column ${names[broken]}` : `Field ${broken + 1}`} runs from line ${line} to line ${lastLine} and holds the separator: is a quote not closed? The lines in between were read as part of it, not as rows of their own.`,
      record,
    });
    return;
  }
  // A rejects file keeps the fields a row had past the header in extra_1, extra_2, …: imported
  // again uncorrected, the row is refused again, not recorded without them.
  const extra = columns.findIndex((column, i) => /^extra_\d+$/.test(column) && (record[i] ?? "") !== "");
  if (extra >= 0) {
    handlers.refuse({
      line,
      code: "csv_field_count",
      message: `The row has a field past the original header (${columns[extra]}: "${clip(record[extra] ?? "")}"): merge it into the right column, or remove it.`,
      record,
    });
    return;
  }
  const unnamed = columns.findIndex((column, i) => column === "" && (record[i] ?? "") !== "");
  if (unnamed >= 0) {
    handlers.refuse({
      line,
      code: "csv_unnamed_column",
      message: `Field ${unnamed + 1} holds "${clip(record[unnamed] ?? "")}", but its column has no name in the header.`,
      record,
    });
    return;
  }
  // Text the database cannot store (a NUL character) is this row's problem, not the import's.
  const bad = record.findIndex((field, i) => columns[i] !== IGNORED && textProblem(field) !== undefined);
  if (bad >= 0) {
    handlers.refuse({
      line,
      code: "csv_invalid_text",
      message: `${names[bad] ? `Column ${names[bad]}` : `Field ${bad + 1}`} ${textProblem(record[bad] ?? "")}.`,
      record,
    });
    return;
  }
  handlers.row({ line, record, values: rowValues(columns, record) });
}

/** A row's non-empty values by column (not the report columns of a rejects file). */
export function rowValues(columns: readonly string[], record: readonly string[]): Record<string, string> {
  const values: Record<string, string> = {};
  columns.forEach((column, i) => {
    const value = record[i] ?? "";
    if (column !== "" && column !== IGNORED && value !== "" && !REPORT_COLUMNS.test(column)) {
      values[column] = value;
    }
  });
  return values;
}

/** How to read a file's text, as its first reading found. */
interface TextFormat {
  format: FileFormat;
  /** The bytes to decode it with, and whether they were checked (so may fail on a wrong byte). */
  fatal: boolean;
  /** Excel's `sep=` line: the characters of the text to blank (see `detectSeparator`). */
  hint?: { from: number; to: number };
  /** Lines end in CR alone (Excel for Mac's "CSV (Macintosh)"). */
  mac: boolean;
}

/**
 * Reads the file once for what `decodeText` and `detectSeparator` would say of it whole: its
 * encoding (a byte-order mark decides; else UTF-8, or the one `named`), that its bytes are that (or a
 * refusal that shows its first wrong line both ways), its separator and `sep=` line, and its line
 * ends; a FileFormatError says why it cannot be read. Only such a refusal reads the whole file
 * into memory (at most the size limit), to show the line.
 */
function scanText(file: string, named: string | undefined, chunkBytes: number): TextFormat {
  const bomEncoding = byteOrderMark(file);
  const chosen = bomEncoding ?? named ?? "utf-8";
  // With a byte-order mark or in UTF-8, the bytes must be that; a code page reads any bytes.
  const fatal = bomEncoding !== undefined || chosen === "utf-8";
  const text: TextFormat = {
    format: { separator: ",", encoding: chosen, bom: bomEncoding !== undefined },
    fatal,
    mac: false,
  };
  // With a code page named, the file must not be UTF-8 with letters beyond ASCII.
  let utf8: TextDecoder | undefined = fatal ? undefined : new TextDecoder("utf-8", { fatal: true });
  let beyondAscii = false;
  const checkUtf8 = (bytes?: Buffer) => {
    try {
      utf8?.decode(bytes, { stream: bytes !== undefined });
    } catch {
      utf8 = undefined;
    }
  };
  const scan = new SeparatorScan();
  let cr = false;
  let lf = false;
  try {
    eachText(
      file,
      chunkBytes,
      text,
      (piece) => {
        cr ||= piece.includes("\r");
        lf ||= piece.includes("\n");
        scan.feed(piece);
      },
      (bytes) => {
        if (!utf8) return;
        beyondAscii ||= !isAscii(bytes);
        checkUtf8(bytes);
      },
    );
    checkUtf8();
  } catch (error) {
    if ((error as { code?: unknown }).code !== "ERR_ENCODING_INVALID_ENCODED_DATA") throw error;
    // Not what it should be: the whole file, to show its first wrong line (as decodeText would).
    throw bomEncoding ? notWhatItsMarkSays(bomEncoding) : notUtf8(readFileSync(file));
  }
  if (utf8 && beyondAscii) throw utf8Already(readFileSync(file), chosen);
  const { separator, hint } = scan.end();
  text.format.separator = separator;
  if (hint) text.hint = hint;
  text.mac = cr && !lf;
  return text;
}

/** The WHATWG name of an encoding `--encoding` names; one it does not know is a usage error. */
function encodingName(encoding: string): string {
  try {
    return textDecoder(encoding).encoding;
  } catch (error) {
    if (error instanceof FileFormatError) throw new ImportUsageError(error.message);
    throw error;
  }
}

/** The encoding the file's byte-order mark names (UTF-8, UTF-16), or undefined. */
function byteOrderMark(file: string): string | undefined {
  const fd = openSync(file, "r");
  const head = Buffer.alloc(3);
  try {
    readSync(fd, head, 0, 3, 0);
  } finally {
    closeSync(fd);
  }
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) return "utf-8";
  if (head[0] === 0xff && head[1] === 0xfe) return "utf-16le";
  if (head[0] === 0xfe && head[1] === 0xff) return "utf-16be";
  return undefined;
}

/**
 * Calls `each` with the file's text, a chunk at a time, as `decodeText` and `detectSeparator`
 * would give it whole: without its byte-order mark, the `sep=` line blanked, a lone CR read as a
 * line end in a file of CRs alone. `raw` sees each chunk's bytes first.
 */
function eachText(
  file: string,
  chunkBytes: number,
  text: TextFormat,
  each: (text: string) => void,
  raw?: (bytes: Buffer) => void,
): void {
  const decoder = new TextDecoder(text.format.encoding, { fatal: text.fatal });
  const { hint, mac } = text;
  let started = false;
  let at = 0;
  const emit = (decoded: string) => {
    let piece = decoded;
    // decodeText drops a second mark after the one the decoder drops.
    if (!started && piece !== "") {
      started = true;
      if (text.format.bom) piece = piece.replace(/^\uFEFF/, "");
    }
    if (piece === "") return;
    const start = at;
    at += piece.length;
    if (hint && start < hint.to && at > hint.from) {
      piece = `${piece.slice(0, Math.max(0, hint.from - start))}${piece.slice(Math.max(0, hint.to - start))}`;
    }
    each(mac ? piece.replace(/\r/g, "\n") : piece);
  };
  eachChunk(file, chunkBytes, (bytes) => {
    raw?.(bytes);
    emit(decoder.decode(bytes, { stream: true }));
  });
  emit(decoder.decode());
}

/** A record of a CSV file: the line it starts on, the line it ends on, its fields. */
export interface CsvRecord {
  line: number;
  lastLine: number;
  fields: string[];
}

/**
 * A line that is not valid CSV: where it starts, its text, the field (0-based) where it breaks and
 * the reason, given the name of that field's column.
 */
export interface CsvProblem {
  line: number;
  text: string;
  field: number;
  problem: (column: string) => string;
}

export type CsvPiece = CsvRecord | CsvProblem;

/**
 * Splits CSV (RFC 4180, comma separated or by `separator`; a quoted value may hold separators,
 * doubled quotes and line breaks; read by csv-parse) into records, each with the lines it spans.
 * Whitespace around a value is dropped; blank lines are skipped; a BOM is dropped. A record that
 * is not valid CSV becomes a problem of its first line only, and reading goes on at the next
 * line: a stray or unclosed quote costs that one line, never the rest of the file.
 *
 * @example splitCsv('a,b\n1,"x, y"\n') // [{ line: 1, lastLine: 1, fields: ["a", "b"] }, { line: 2, lastLine: 2, fields: ["1", "x, y"] }]
 */
export function splitCsv(csv: string | Buffer, separator: Separator = ","): CsvPiece[] {
  const pieces: CsvPiece[] = [];
  const splitter = new CsvSplitter(separator, (piece) => pieces.push(piece));
  splitter.push(typeof csv === "string" ? Buffer.from(csv) : csv);
  splitter.end();
  return pieces;
}

/** csv-parse's parser, fed a chunk at a time (what its stream and `csv-parse/sync` both call). */
interface CsvParse {
  parse(chunk: Buffer | undefined, end: boolean, push: () => void, close: () => void): Error | undefined;
}

/**
 * `splitCsv` over bytes that come in chunks: `push` each, then `end`; `emit` gets the records and
 * problems in the file's order. It keeps the bytes of the record being read only.
 *
 * csv-parse cannot resume after a bad quote by itself (it reads on as if inside the quotes, and an
 * unclosed quote swallows the rest of the file; with skip_records_with_error, a character after a
 * closing quote even ends the parse silently), so on an error a new parser starts at the line
 * after the broken record's first line, on the bytes kept since (after an unclosed quote, the rest
 * of the file: what a file with such a quote costs).
 */
export class CsvSplitter {
  readonly #separator: Separator;
  readonly #emit: (piece: CsvPiece) => void;
  /** The bytes kept, from `#base` on: the record being read and anything after it. */
  #chunks: Buffer[] = [];
  #base = 0;
  /** Bytes pushed so far. */
  #total = 0;
  /** Where the current parser started, where the next record starts, and its line. */
  #from = 0;
  #next = 0;
  #line = 1;
  #parser: CsvParse;
  /** A parse that failed, waiting for the rest of its line to be said. */
  #failure: CsvError | undefined;
  #pieces: CsvPiece[] = [];

  constructor(separator: Separator, emit: (piece: CsvPiece) => void) {
    this.#separator = separator;
    this.#emit = emit;
    this.#parser = this.#start();
  }

  push(bytes: Buffer): void {
    if (bytes.length === 0) return;
    this.#chunks.push(bytes);
    this.#total += bytes.length;
    if (this.#failure) this.#recover(false);
    else this.#feed(bytes, false);
    this.#done();
  }

  /** The bytes it holds (the record being read, and after an unclosed quote all that follows). */
  get kept(): number {
    return this.#total - this.#base;
  }

  end(): void {
    if (this.#failure) this.#recover(true);
    else this.#feed(undefined, true);
    this.#done();
  }

  #start(): CsvParse {
    const parser = new Parser({
      bom: this.#from === 0,
      delimiter: this.#separator,
      trim: true,
      relax_column_count: true,
      // Only LF ends a record, as in the line numbers; the CR of a CRLF is trimmed as whitespace.
      record_delimiter: "\n",
      // Blank lines come through as records (no skip_empty_lines), so each record runs from where
      // the one before ended to `bytes`: its line breaks keep the line numbers right.
      on_record: (record: string[], { bytes }: { bytes: number }) => {
        this.#record(record, this.#from + bytes);
        return null;
      },
    });
    const api = (parser as unknown as { api?: CsvParse }).api;
    if (typeof api?.parse !== "function") {
      throw new Error("csv-parse's Parser has no api.parse, which the import reads chunks with.");
    }
    return api;
  }

  #record(fields: string[], end: number): void {
    const start = this.#next;
    this.#next = end;
    let lastLine = this.#line;
    for (let at = this.#indexOf(10, start); at !== -1 && at < end - 1; at = this.#indexOf(10, at + 1)) {
      lastLine++;
    }
    const blank = fields.length === 1 && this.#text(start, end).trim() === "";
    if (!blank) this.#pieces.push({ line: this.#line, lastLine, fields });
    this.#line = lastLine + 1;
  }

  #feed(bytes: Buffer | undefined, end: boolean): void {
    const error = this.#parser.parse(
      bytes,
      end,
      () => {},
      () => {},
    );
    if (error === undefined) return;
    if (!(error instanceof CsvError)) throw error;
    this.#failure = error;
    this.#recover(end);
  }

  /**
   * Says the failed record's problem, once its first line (and the line of the value that failed)
   * is here or the file ended, and parses on from the next line, as often as that fails again.
   */
  #recover(ended: boolean): void {
    while (this.#failure) {
      const error = this.#failure;
      const field = typeof error.column === "number" ? error.column : 0;
      const valueStart = Math.max(this.#base, this.#from + Number(error.bytes) + (field > 0 ? 1 : 0));
      const newline = this.#indexOf(10, this.#next);
      if (!ended && (newline === -1 || this.#indexOf(10, valueStart) === -1)) return;
      const end = newline === -1 ? this.#total : newline;
      const text = this.#text(this.#next, end).replace(/\r$/, "");
      const lineFrom = (start: number) => {
        const at = this.#indexOf(10, start);
        return this.#text(start, at === -1 ? this.#total : at);
      };
      this.#pieces.push({
        line: this.#line,
        text,
        ...quotingProblem(error, field, lineFrom(valueStart), this.#separator),
      });
      this.#line++;
      this.#from = this.#next = end + 1;
      this.#failure = undefined;
      const rest = this.#from < this.#total ? this.#slice(this.#from, this.#total) : undefined;
      this.#chunks = rest ? [rest] : [];
      this.#base = this.#from;
      this.#parser = this.#start();
      if (!rest) {
        if (ended) this.#feed(undefined, true);
        return;
      }
      const failed = this.#parser.parse(
        rest,
        ended,
        () => {},
        () => {},
      );
      if (failed !== undefined && !(failed instanceof CsvError)) throw failed;
      this.#failure = failed;
    }
  }

  /** Hands over the pieces found, and lets go of the bytes before the next record. */
  #done(): void {
    const pieces = this.#pieces;
    this.#pieces = [];
    for (const piece of pieces) this.#emit(piece);
    while (this.#chunks.length > 1 && this.#base + (this.#chunks[0]?.length ?? 0) <= this.#next) {
      this.#base += (this.#chunks.shift() as Buffer).length;
    }
  }

  /** Where the byte is first at or after `from` in the bytes kept (an absolute offset), or -1. */
  #indexOf(byte: number, from: number): number {
    let base = this.#base;
    for (const chunk of this.#chunks) {
      if (from < base + chunk.length) {
        const at = chunk.indexOf(byte, Math.max(0, from - base));
        if (at !== -1) return base + at;
      }
      base += chunk.length;
    }
    return -1;
  }

  #slice(start: number, end: number): Buffer {
    const parts: Buffer[] = [];
    let base = this.#base;
    for (const chunk of this.#chunks) {
      const from = Math.max(start - base, 0);
      const to = Math.min(end - base, chunk.length);
      if (from < to) parts.push(chunk.subarray(from, to));
      base += chunk.length;
    }
    return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
  }

  #text(start: number, end: number): string {
    return this.#slice(start, end).toString("utf8");
  }
}

const SEPARATOR_WORDS: Record<Separator, string> = { ",": "comma", ";": "semicolon", "\t": "tab" };

const QUOTING_HELP = 'Wrap a value that has a quote in quotes and double the quote inside: "12"" pizza".';

/**
 * Says a csv-parse error in the file's terms: the field (0-based) it is in and why (`value`: the
 * text from where the failed value starts to the end of that line).
 */
function quotingProblem(
  error: CsvError,
  field: number,
  value: string,
  separator: Separator,
): { field: number; problem: (column: string) => string } {
  const say = (problem: string) => ({ field, problem: (column: string) => `${column}: ${problem}` });
  switch (error.code) {
    case "CSV_QUOTE_NOT_CLOSED":
      return say(`the quote that opens its value is never closed. ${QUOTING_HELP}`);
    case "INVALID_OPENING_QUOTE":
      return say(`a quote inside a value that is not quoted. ${QUOTING_HELP}`);
    case "CSV_INVALID_CLOSING_QUOTE":
    case "CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE": {
      // The error names only the first byte of the character after the closing quote, so it is
      // read from the value's first line (the value starts after the comma at `error.bytes`). No
      // closing quote on that line: the value runs on to a later line, where the problem is.
      // csv-parse trims only one-byte whitespace after a closing quote: the character is the
      // first after that (a no-break space after a closing quote is what it refuses).
      const after = /^\s*"(?:[^"]|"")*"(?!")[\t-\r ]*([\s\S])/u.exec(value)?.[1];
      return after === undefined
        ? say(`the quote that opens its value is not closed on this line. ${QUOTING_HELP}`)
        : say(
            `"${after}" follows the closing quote of the value, where a ${SEPARATOR_WORDS[separator]} should be. ${QUOTING_HELP}`,
          );
    }
    default:
      return say(`${error.message}. ${QUOTING_HELP}`);
  }
}

/** A value as a message quotes it: at most 80 characters. */
function clip(value: string): string {
  return value.length > 80 ? `${value.slice(0, 77)}…` : value;
}
