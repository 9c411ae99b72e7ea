import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { type CsvPiece, CsvSplitter, splitCsv } from "../../src/cli/import-csv.ts";
import {
  HashIndex,
  hashText,
  NumberList,
  RecordStore,
  RefusalList,
  RejectsLog,
  Sets,
  sortedIndices,
} from "../../src/cli/import-store.ts";
import {
  detectSeparator,
  FileFormatError,
  type Separator,
  SeparatorScan,
} from "../../src/cli/spreadsheet.ts";

/**
 * What lets an import read a file of hundreds of megabytes without holding it: the CSV read in
 * chunks gives what the whole file read at once gives, and the compact lists, maps and sets that
 * keep its rows behave as the arrays, Maps and Sets they stand in for.
 */

/** A piece as plain data: its problem said for a column named "C". */
const plain = (pieces: CsvPiece[]) =>
  pieces.map((p) =>
    "problem" in p ? { line: p.line, text: p.text, field: p.field, problem: p.problem("C") } : p,
  );

/** The bytes cut into chunks of `size` (the last one shorter). */
function chunks(bytes: Buffer, size: number): Buffer[] {
  const result: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += size) result.push(bytes.subarray(at, at + size));
  return result;
}

function splitInChunks(bytes: Buffer, size: number, separator: Separator = ","): CsvPiece[] {
  const pieces: CsvPiece[] = [];
  const splitter = new CsvSplitter(separator, (piece) => pieces.push(piece));
  for (const chunk of chunks(bytes, size)) splitter.push(Buffer.from(chunk));
  splitter.end();
  return pieces;
}

const FILES: [string, string, Separator][] = [
  ["plain rows", "a,b,c\n1,2,3\n4,5,6\n", ","],
  ["no line feed at the end", "a,b\n1,2", ","],
  ["CRLF and blank lines", "a,b\r\n\r\n1,2\r\n   \r\n3,4\r\n", ","],
  ["a byte-order mark", "\uFEFFa,b\n1,2\n", ","],
  ["letters of two to four bytes", "name;city\nŁukasz Żółć;Kraków\nJürgen 😀;Köln\n", ";"],
  ["quoted separators and line breaks", 'a,b\n"x, y","two\nlines"\n"say ""hi""",z\n', ","],
  ["an unclosed quote, then rows", 'a,b\n1,2\n3,"open\n5,6\n7,8\n', ","],
  ["an unclosed quote on the last line", 'a,b\n1,2\n3,"open', ","],
  ["a stray quote", 'a,b\n1,"x"y\n2,5" disk\n3,ok\n', ","],
  ["a character after a closing quote, on a later line", 'a,b\n1,"two\nlines"x\n2,ok\n', ","],
  ["a no-break space after a closing quote", 'a,b\n1,"x"\u00a0\n2,ok\n', ","],
  ["bad lines one after another", 'a,b\n"x"y,1\n"p"q,2\n"r"s,3\n4,ok\n', ","],
  ["tabs", 'a\tb\n1\t"x\ty"\n', "\t"],
  ["empty", "", ","],
  ["only blank lines", "\n\n  \n", ","],
];

describe("reading CSV in chunks", () => {
  it.each(FILES)("gives what reading it whole gives: %s", (_name, text, separator) => {
    const bytes = Buffer.from(text);
    const whole = plain(splitCsv(bytes, separator));
    for (const size of [1, 2, 3, 5, 7, 64]) {
      expect(plain(splitInChunks(bytes, size, separator)), `in chunks of ${size}`).toEqual(whole);
    }
  });

  it("reads on after an unclosed quote at the next line, as reading it whole does", () => {
    expect(plain(splitInChunks(Buffer.from('a,b\n1,2\n3,"open\n5,6\n'), 4))).toEqual([
      { line: 1, lastLine: 1, fields: ["a", "b"] },
      { line: 2, lastLine: 2, fields: ["1", "2"] },
      {
        line: 3,
        text: '3,"open',
        field: 1,
        problem:
          'C: the quote that opens its value is never closed. Wrap a value that has a quote in quotes and double the quote inside: "12"" pizza".',
      },
      { line: 4, lastLine: 4, fields: ["5", "6"] },
    ]);
  });

  it("keeps only the record being read, not the bytes before it", () => {
    let records = 0;
    const splitter = new CsvSplitter(",", () => records++);
    const row = Buffer.from("till-1,c-1,12.50,EUR,2026-02-01 08:15\n");
    for (let i = 0; i < 10_000; i++) {
      splitter.push(row.subarray(0, 20));
      splitter.push(row.subarray(20));
    }
    // csv-parse holds the last record until it sees what follows it.
    expect(records).toBeGreaterThanOrEqual(9_999);
    expect(splitter.kept).toBeLessThanOrEqual(2 * row.length);
    // An unclosed quote keeps the rest of the file, as it must to read on after it.
    splitter.push(Buffer.from('x,"open\n'));
    for (let i = 0; i < 100; i++) splitter.push(row);
    expect(splitter.kept).toBeGreaterThan(100 * row.length);
    splitter.end();
    expect(records).toBe(10_000 + 1 + 100);
  });
});

describe("the separator read in pieces", () => {
  it.each([
    "external_id,name,email\n1,Anna,a@x\n",
    "external_id;name;email\n1;Anna;a@x\n",
    "\t\texternal_id\tname\n",
    '\n\n"name;first",email\n',
    "sep=;\r\nexternal_id,name;email\r\n",
    "  \n SEP=\t \nexternal_id,name\n",
    "sep=;",
    "sep=;x\na;b,c,d\n",
    "a;b\rc,d,e\r",
  ])("is what detectSeparator says of the whole text: %j", (text) => {
    const whole = detectSeparator(text);
    for (const size of [1, 2, 3, 7]) {
      const scan = new SeparatorScan();
      for (let at = 0; at < text.length; at += size) scan.feed(text.slice(at, at + size));
      const { separator, hint } = scan.end();
      expect({ separator, text: hint ? text.slice(0, hint.from) + text.slice(hint.to) : text }).toEqual(
        whole,
      );
    }
  });

  it("refuses a header with as many of two, fed in pieces too", () => {
    const scan = new SeparatorScan();
    for (const char of "external_id;name,email\n1;2,3;4;5\n") scan.feed(char);
    expect(() => scan.end()).toThrow(FileFormatError);
  });
});

describe("the lists, maps and sets that keep a file's rows", () => {
  it("RecordStore gives back each row's fields, across its blocks", () => {
    const store = new RecordStore();
    const big = "x".repeat(5 * 1024 * 1024);
    const rows = [["a", "", "Łukasz"], [big, "1"], [""], [big, big], ["z", "😀"]];
    for (const row of rows) store.add(row);
    expect(store.size).toBe(rows.length);
    expect(rows.map((_, i) => store.get(i))).toEqual(rows);
  });

  it("HashIndex finds each key's value, tells keys of one hash apart with `same`, and grows", () => {
    const index = new HashIndex();
    const keys = Array.from({ length: 5000 }, (_, i) => `till-${i}`);
    const same = (key: string) => (value: number) => keys[value] === key;
    keys.forEach((key, i) => {
      index.set(hashText(key), i, same(key));
    });
    expect(keys.map((key) => index.get(hashText(key), same(key)))).toEqual([...keys.keys()]);
    expect(index.get(hashText("till-x"), same("till-x"))).toBe(-1);
    // Two keys forced onto one hash stay apart.
    const other = new HashIndex();
    other.set(7, 1, same(keys[1] as string));
    other.set(7, 2, same(keys[2] as string));
    expect([other.get(7, same(keys[1] as string)), other.get(7, same(keys[2] as string))]).toEqual([1, 2]);
    other.set(7, 3, (value) => value === 1);
    expect(other.get(7, (value) => value === 3)).toBe(3);
  });

  it("Sets joins items directly and through others", () => {
    const sets = new Sets();
    for (let i = 0; i < 6; i++) sets.add();
    sets.join(4, 1);
    sets.join(5, 4);
    sets.join(2, 3);
    expect([0, 1, 2, 3, 4, 5].map((i) => sets.find(i))).toEqual([0, 1, 2, 2, 1, 1]);
  });

  it("NumberList keeps numbers past one typed array", () => {
    const list = new NumberList();
    for (let i = 0; i < 40_000; i++) list.push(i / 3);
    expect([list.get(0), list.get(16_384), list.get(39_999), list.length]).toEqual([
      0,
      16_384 / 3,
      39_999 / 3,
      40_000,
    ]);
  });

  it("sortedIndices sorts as a stable sort does, in any order the rows come", () => {
    for (const count of [0, 1, 2, 7, 100, 1000]) {
      for (const spread of [3, 1000]) {
        const keys = Array.from({ length: count }, (_, i) => ((i * 7919) % 1009) % spread);
        const want = [...keys.keys()].sort((a, b) => (keys[a] as number) - (keys[b] as number));
        const got = sortedIndices(count, (a, b) => (keys[a] as number) - (keys[b] as number));
        expect([...got]).toEqual(want);
      }
    }
    const newestFirst = Array.from({ length: 50 }, (_, i) => 50 - i);
    expect([...sortedIndices(50, (a, b) => (newestFirst[a] as number) - (newestFirst[b] as number))]).toEqual(
      Array.from({ length: 50 }, (_, i) => 49 - i),
    );
  });

  it("RefusalList keeps the first refusals by line, however many come, and counts the rest", () => {
    const list = new RefusalList(3);
    for (const line of [9, 2, 7, 2, 5, 1, 8, 3, 6, 4])
      list.add({ line, code: "x", message: String(line), record: [] });
    expect(list.count).toBe(10);
    const { refused, unlisted } = list.result();
    expect(refused.map((r) => r.line)).toEqual([1, 2, 2]);
    expect(unlisted).toBe(7);
  });
});

describe("the rejects file written as rows are refused", () => {
  const dir = mkdtempSync(join(tmpdir(), "regulars-rejects-test-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("lists every refusal by line, in the order they came within a line, padded to one width", () => {
    const file = join(dir, "kassa.csv");
    const log = new RejectsLog(file);
    log.start(["external_id", "amount", "error_code"], {
      separator: ";",
      encoding: "windows-1250",
      bom: false,
    });
    log.add({ line: 9, code: "b", message: "nine", record: ["p-9", "1;5", "old"] });
    log.add({ line: 2, code: "a", message: 'say "two"', record: ["p-2", "3", "old", "extra"] });
    log.add({ line: 9, code: "c", message: "nine again", record: ["p-9"] });
    expect(log.count).toBe(3);
    expect(log.finish()).toBe(`${file}.rejects.csv`);
    expect(readFileSync(`${file}.rejects.csv`, "utf8")).toBe(
      [
        "\uFEFFline;error_code;error_message;external_id;amount;extra_1",
        '2;a;"say ""two""";p-2;3;extra',
        '9;b;nine;p-9;"1;5";',
        "9;c;nine again;p-9;;",
        "",
      ].join("\n"),
    );
  });

  it("removes a stale one when nothing was refused", () => {
    const file = join(dir, "clean.csv");
    const log = new RejectsLog(file);
    log.start(["a"]);
    expect(log.finish()).toBeNull();
  });
});

describe("reading CSV, for any table and any bytes", () => {
  /** A field of letters, separators, quotes and line breaks; no space at either end (dropped). */
  const field = fc
    .array(fc.constantFrom("a", "Ż", "😀", ",", ";", '"', "\n", "\r\n", " ", "1", "."), { maxLength: 8 })
    .map((parts) => parts.join("").trim());
  const quoted = (value: string) => (/[",;\n\r]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value);

  it("gives back every field of a table written as CSV, with the lines each row spans", () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(field, { minLength: 1, maxLength: 5 }), { maxLength: 12 }),
        fc.boolean(),
        (table, crlf) => {
          // A row of one empty value is written quoted: a blank line is skipped, not a row.
          const lines = table.map((row) =>
            row.length === 1 && row[0] === "" ? '""' : row.map(quoted).join(","),
          );
          const text = lines.map((l) => `${l}${crlf ? "\r\n" : "\n"}`).join("");
          let line = 1;
          const expected = table.map((row, i) => {
            const spans = (lines[i]?.match(/\n/g) ?? []).length;
            const record = { line, lastLine: line + spans, fields: row };
            line += spans + 1;
            return record;
          });
          expect(plain(splitCsv(Buffer.from(text)))).toEqual(expected);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("reads any bytes in any chunks as it reads them whole, one piece per line it starts on", () => {
    const bytes = fc
      .array(fc.constantFrom("a", "1", ",", '"', '""', "\n", "\r\n", " ", "\u00a0", "Ł", "😀", "\uFEFF"), {
        maxLength: 60,
      })
      .map((parts) => Buffer.from(parts.join("")));
    fc.assert(
      fc.property(
        bytes,
        fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 8 }),
        (file, sizes) => {
          const whole = plain(splitCsv(file));
          // Cut anywhere, inside a letter of several bytes too.
          const pieces: CsvPiece[] = [];
          const splitter = new CsvSplitter(",", (piece) => pieces.push(piece));
          let at = 0;
          for (let i = 0; at < file.length; i++) {
            const size = sizes[i % sizes.length] as number;
            splitter.push(Buffer.from(file.subarray(at, at + size)));
            at += size;
          }
          splitter.end();
          expect(plain(pieces)).toEqual(whole);

          // Pieces come in the file's order and never share a line; every line with something on it
          // belongs to one (a record that spans it, or a problem on it).
          const lines = file
            .toString()
            .replace(/^\uFEFF/, "")
            .split("\n");
          const owner = new Map<number, number>();
          whole.forEach((piece, i) => {
            const last = "lastLine" in piece ? piece.lastLine : piece.line;
            for (let n = piece.line; n <= last; n++) {
              expect(owner.has(n), `line ${n} in two pieces`).toBe(false);
              owner.set(n, i);
            }
          });
          const starts = whole.map((p) => p.line);
          expect(starts).toEqual([...starts].sort((x, y) => x - y));
          lines.forEach((text, i) => {
            if (text.trim() !== "")
              expect(owner.has(i + 1), `line ${i + 1} (${JSON.stringify(text)})`).toBe(true);
          });
        },
      ),
      { numRuns: 500 },
    );
  });
});
