import { invalid } from "../shared/errors.ts";

/**
 * What a "CSV" file saved by a spreadsheet really is. Excel in the Netherlands and Poland saves
 * CSV with semicolons (the comma is their decimal mark), in the computer's Windows code page
 * unless "CSV UTF-8" is chosen (which adds a byte-order mark), and "Unicode text" as UTF-16 with
 * tabs. These functions read the text, the separator and the amounts of such files; they know
 * nothing about members or purchases.
 */

export type Separator = "," | ";" | "\t";

/** How the file was read, for the import's report. */
export interface FileFormat {
  separator: Separator;
  /** The encoding's WHATWG name: utf-8, utf-16le, windows-1250 … */
  encoding: string;
  /** The file started with a byte-order mark. */
  bom: boolean;
}

/** The file cannot be read as text as it is: the message says why and what to do. */
export class FileFormatError extends Error {
  override name = "FileFormatError";
}

const SEPARATOR_NAMES: Record<Separator, string> = { ",": "commas", ";": "semicolons", "\t": "tabs" };

/** `semicolons (;), UTF-8 with a byte-order mark` */
export function describeFormat(format: FileFormat): string {
  const mark = format.separator === "\t" ? "" : ` (${format.separator})`;
  const encoding = format.encoding.startsWith("windows-")
    ? `Windows-${format.encoding.slice("windows-".length)}`
    : format.encoding.toUpperCase();
  return `${SEPARATOR_NAMES[format.separator]}${mark}, ${encoding}${format.bom ? " with a byte-order mark" : ""}`;
}

// The code pages Excel saves CSV in on Dutch, Belgian, German (1252) and Polish (1250) Windows.
const LEGACY = [
  { encoding: "windows-1250", languages: "Central European: Polish, Czech, Hungarian…" },
  { encoding: "windows-1252", languages: "Western European: Dutch, German, French…" },
];

/**
 * The file's text. A byte-order mark decides (UTF-8 or UTF-16) and is dropped; otherwise the text
 * must be UTF-8, or `encoding` names what it is (windows-1250, windows-1252, …). A file that is
 * not UTF-8 is refused rather than guessed at: Windows-1250 and -1252 give the same bytes other
 * letters ("Łukasz" is "£ukasz" in the other), so the message shows the first such value read
 * both ways and lets the owner choose.
 *
 * @example decodeText(Buffer.from("\uFEFFnaam;email\n")) // { text: "naam;email\n", encoding: "utf-8", bom: true }
 */
export function decodeText(
  bytes: Buffer,
  encoding?: string,
): { text: string; encoding: string; bom: boolean } {
  const bomEncoding =
    bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf
      ? "utf-8"
      : bytes[0] === 0xff && bytes[1] === 0xfe
        ? "utf-16le"
        : bytes[0] === 0xfe && bytes[1] === 0xff
          ? "utf-16be"
          : undefined;
  if (bomEncoding) {
    const text = strictDecode(bytes, bomEncoding);
    if (text === undefined) throw notWhatItsMarkSays(bomEncoding);
    return { text: text.replace(/^\uFEFF/, ""), encoding: bomEncoding, bom: true };
  }
  const utf8 = strictDecode(bytes, "utf-8");
  if (encoding !== undefined) {
    const decoder = textDecoder(encoding);
    if (decoder.encoding !== "utf-8" && utf8 !== undefined && /[^\p{ASCII}]/u.test(utf8)) {
      throw utf8Already(bytes, decoder.encoding);
    }
    if (decoder.encoding === "utf-8" && utf8 === undefined) throw notUtf8(bytes);
    return { text: decoder.decode(bytes), encoding: decoder.encoding, bom: false };
  }
  if (utf8 === undefined) throw notUtf8(bytes);
  return { text: utf8, encoding: "utf-8", bom: false };
}

/** A TextDecoder for a label such as windows-1250; an unknown label is a usage error. */
export function textDecoder(encoding: string): TextDecoder {
  try {
    return new TextDecoder(encoding);
  } catch {
    throw new FileFormatError(
      `--encoding "${encoding}" is not an encoding this can read. Excel's CSV is utf-8, windows-1250 (Polish) or windows-1252 (Dutch, German).`,
    );
  }
}

/** A file whose byte-order mark names an encoding (UTF-8, UTF-16) that its bytes are not in. */
export function notWhatItsMarkSays(encoding: string): FileFormatError {
  return new FileFormatError(
    `the file starts with the byte-order mark of ${encoding.toUpperCase()} but is not valid ${encoding.toUpperCase()}.`,
  );
}

/**
 * `--encoding` named a code page for a file that is UTF-8 already and has letters beyond ASCII,
 * which the code page would garble: the first such value, read both ways (`bytes`: the file, or
 * at least the line with its first byte beyond ASCII).
 */
export function utf8Already(bytes: Buffer, encoding: string): FileFormatError {
  return new FileFormatError(
    `the file is UTF-8 already: reading it as ${encoding} would change its letters (${firstNonAscii(bytes, encoding)}). Leave out --encoding.`,
  );
}

function strictDecode(bytes: Buffer, encoding: string): string | undefined {
  try {
    return new TextDecoder(encoding, { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

/**
 * A file that is not UTF-8 where it should be: its first line that is not, read in the code pages
 * Excel saves CSV in, so the owner can choose (`bytes`: the whole file).
 */
export function notUtf8(bytes: Buffer): FileFormatError {
  // Excel for Mac's "CSV (Macintosh)" ends its lines with CR alone, in the Mac Roman code page.
  const mac = bytes.includes(13) && !bytes.includes(10);
  const ending = mac ? 13 : 10;
  let start = 0;
  let line = 1;
  for (;;) {
    const newline = bytes.indexOf(ending, start);
    const end = newline === -1 ? bytes.length : newline;
    if (strictDecode(bytes.subarray(start, end), "utf-8") === undefined) {
      const raw = bytes.subarray(start, end);
      const legacy = mac ? [...LEGACY, { encoding: "macintosh", languages: "Excel for Mac" }] : LEGACY;
      const readings = legacy.map(
        ({ encoding, languages }) =>
          `with --encoding ${encoding} (${languages}) it reads "${valueAround(raw, encoding)}"`,
      );
      return new FileFormatError(
        `line ${line} is not UTF-8: Excel saves plain "CSV" in the computer's code page. Say which: ${readings.join(", ")}. Choose the one that shows the names right, or save the file as "CSV UTF-8".`,
      );
    }
    if (newline === -1) return new FileFormatError("the text is not UTF-8.");
    start = newline + 1;
    line++;
  }
}

/** The value (between separators) around the first letter that is not ASCII, read in `encoding`. */
function valueAround(raw: Buffer, encoding: string): string {
  const text = new TextDecoder(encoding).decode(raw);
  const at = text.search(/[^\p{ASCII}]/u);
  if (at === -1) return text.slice(0, 40);
  const before = Math.max(...[",", ";", "\t"].map((s) => text.lastIndexOf(s, at)));
  const afters = [",", ";", "\t"].map((s) => text.indexOf(s, at)).filter((i) => i !== -1);
  const value = text.slice(before + 1, afters.length ? Math.min(...afters) : text.length).trim();
  return value.length > 40 ? `${value.slice(0, 40)}…` : value;
}

/** The first value that is not ASCII, as UTF-8 reads it and as `encoding` would. */
function firstNonAscii(bytes: Buffer, encoding: string): string {
  const at = bytes.findIndex((byte) => byte >= 0x80);
  const start = bytes.lastIndexOf(10, at) + 1;
  const newline = bytes.indexOf(10, at);
  const line = bytes.subarray(start, newline === -1 ? bytes.length : newline);
  return `"${valueAround(line, "utf-8")}" would read as "${valueAround(line, encoding)}"`;
}

/**
 * The separator of a CSV file, and its text. Excel's own hint, a first line `sep=;`, names it
 * (the line is blanked, so line numbers stay the file's). Otherwise the header line (the first
 * line that is not blank) does: whichever of comma, semicolon and tab it has most of outside
 * quotes. A header with one column has none: it is a comma. A header with as many of two is
 * refused: the columns would be guesswork.
 *
 * @example detectSeparator("external_id;name;email\n1;Anna;a@x\n") // { separator: ";", text: "external_id;name;email\n1;Anna;a@x\n" }
 */
export function detectSeparator(text: string): { separator: Separator; text: string } {
  const scan = new SeparatorScan();
  scan.feed(text);
  const { separator, hint } = scan.end();
  return { separator, text: hint ? `${text.slice(0, hint.from)}${text.slice(hint.to)}` : text };
}

/** The separators a header is read for, in the order a tie names them. */
const SEPARATORS: readonly Separator[] = [",", ";", "\t"];

/**
 * `detectSeparator` over text that comes in pieces, as an import reads a file without holding
 * it: `feed` it the text, then `end` says the separator and, with Excel's `sep=` line, which
 * characters of the text (from, to) to blank. It looks at the first line with text only (all of
 * a file without line feeds, as `detectSeparator` does), so feeding the rest costs nothing.
 */
export class SeparatorScan {
  /** Characters fed so far. */
  #at = 0;
  /** `sep=` and its separator, matched so far; "no" once the text cannot be a hint. */
  #hint: { state: "lead" | "name" | "tail" | "no"; matched: number; from: number; separator?: Separator } = {
    state: "lead",
    matched: 0,
    from: 0,
  };
  #hintEnd: number | undefined;
  /** The header line: whether one has started (a line with text), its tabs before the text. */
  #header: "before" | "in" | "done" = "before";
  #leadingTabs = 0;
  #quoted = false;
  #counts: Record<Separator, number> = { ",": 0, ";": 0, "\t": 0 };

  feed(text: string): void {
    // By UTF-16 unit, as a regular expression without the u flag reads text: positions are indexes.
    for (let i = 0; i < text.length && !this.#settled(); i++) {
      const char = text[i] as string;
      this.#hintChar(char, this.#at + i);
      this.#headerChar(char);
    }
    this.#at += text.length;
  }

  /** The separator, and the hint to blank (`text.slice(from, to)`), or a refusal of the header. */
  end(): { separator: Separator; hint?: { from: number; to: number } } {
    const hint = this.#hint;
    if (hint.separator && (this.#hintEnd !== undefined || hint.state === "tail")) {
      return { separator: hint.separator, hint: { from: hint.from, to: this.#hintEnd ?? this.#at } };
    }
    const counts = this.#counts;
    const [first, second] = [...SEPARATORS].sort((a, b) => counts[b] - counts[a]) as [Separator, Separator];
    if (counts[first] === 0) return { separator: "," };
    if (counts[first] === counts[second]) {
      throw new FileFormatError(
        `the header row has as many ${SEPARATOR_NAMES[first]} as ${SEPARATOR_NAMES[second]}, so it does not say which separates the columns. Use one of them between the column names.`,
      );
    }
    return { separator: first };
  }

  #settled(): boolean {
    return this.#header === "done" && (this.#hint.state === "no" || this.#hintEnd !== undefined);
  }

  /** Excel's hint, /^(\s*)sep=([,;\t])[^\S\n]*(?=\n|$)/i, one character at a time. */
  #hintChar(char: string, at: number): void {
    const hint = this.#hint;
    if (hint.state === "no" || this.#hintEnd !== undefined) return;
    const space = /\s/.test(char);
    if (hint.state === "lead") {
      if (space) return;
      hint.state = "name";
      hint.from = at;
    }
    if (hint.state === "name") {
      const expected = "sep="[hint.matched];
      if (expected !== undefined) {
        if (char === expected || char === expected.toUpperCase()) hint.matched++;
        else hint.state = "no";
      } else if ((SEPARATORS as readonly string[]).includes(char)) {
        hint.separator = char as Separator;
        hint.state = "tail";
      } else hint.state = "no";
      return;
    }
    if (char === "\n") this.#hintEnd = at;
    else if (!space) hint.state = "no";
  }

  /** The first line with text, its separators outside quotes counted (tabs before the text too). */
  #headerChar(char: string): void {
    if (this.#header === "done") return;
    if (this.#header === "before") {
      if (char === "\n") this.#leadingTabs = 0;
      else if (char === "\t") this.#leadingTabs++;
      else if (!/\s/.test(char)) {
        this.#header = "in";
        this.#counts["\t"] += this.#leadingTabs;
      }
      if (this.#header === "before") return;
    }
    if (char === "\n") this.#header = "done";
    else if (char === '"') this.#quoted = !this.#quoted;
    else if (!this.#quoted && (SEPARATORS as readonly string[]).includes(char)) {
      this.#counts[char as Separator]++;
    }
  }
}

/**
 * An amount in major units (`12.50`, `12,50`, `12`) as a whole number of minor units of a currency
 * with `digits` decimals. A dot or a comma is the decimal mark when it is the only one; a
 * thousands separator is refused (`1.234,56`), and so is a lone mark followed by exactly three
 * digits when the currency has fewer decimals (`1.234`: a thousand and more, or a typo?).
 * Refusals are `invalid_amount`, naming the column and the value.
 *
 * @example toMinorUnits("amount", "12,50", "EUR", 2) // 1250
 */
export function toMinorUnits(column: string, text: string, currency: string, digits: number): number {
  const match = /^(\d{1,13})(?:([.,])(\d+))?$/.exec(text);
  if (!match && /^[-−]\s*\d/.test(text)) {
    // A till export's return row: a purchase is never negative; a return is a refund of it.
    throw invalid(
      "invalid_amount",
      `${column} "${text}" is negative: a purchase is recorded with what was paid, and a return as a refund of it (POST /v1/refunds), not as a purchase.`,
    );
  }
  if (!match) {
    if (/^\d{1,3}(?:([.,])\d{3})(?:\1\d{3})*(?:(?!\1)[.,]\d+)?$/.test(text)) {
      throw invalid(
        "invalid_amount",
        `${column} "${text}" has a thousands separator: write it without one (${withoutGrouping(text)}).`,
      );
    }
    throw invalid(
      "invalid_amount",
      `${column} "${text}" is not a plain decimal number such as 12.50 or 12,50 (no currency sign, no thousands separator).`,
    );
  }
  const [, whole = "", mark = "", fraction = ""] = match;
  if (fraction.length > digits) {
    if (fraction.length === 3 && digits < 3) {
      throw invalid(
        "invalid_amount",
        `${column} "${text}" is ambiguous: is the "${mark}" a thousands separator or a decimal mark? ${currency} has ${digits} decimals: write ${whole}${fraction} without a thousands separator, or at most ${digits} decimals.`,
      );
    }
    throw invalid(
      "invalid_amount",
      `${column} "${text}" has more decimals than ${currency} has (${digits}).`,
    );
  }
  return Number(whole) * 10 ** digits + Number(fraction.padEnd(digits, "0") || "0");
}

/** `1.234,56` → `1234,56`; `1,234.56` → `1234.56`; `1.234.567` → `1234567` */
function withoutGrouping(text: string): string {
  const marks = text.replace(/\d/g, "");
  const decimal = marks.at(-1) !== marks.at(0) ? (marks.at(-1) ?? "") : "";
  const at = decimal ? text.lastIndexOf(decimal) : text.length;
  return `${text.slice(0, at).replace(/[.,]/g, "")}${text.slice(at)}`;
}

/**
 * Minor units as the file would write them: `formatMinor(850, 2, ",")` is `8,50`.
 */
export function formatMinor(minor: number, digits: number, mark: "." | ","): string {
  if (digits === 0) return String(minor);
  const text = String(minor).padStart(digits + 1, "0");
  return `${text.slice(0, -digits)}${mark}${text.slice(-digits)}`;
}
