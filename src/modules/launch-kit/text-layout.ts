import bidiJs from "bidi-js";
import type { Font } from "./fonts.ts";

/**
 * A text the business typed, set in lines for the poster: each character in the first font of a
 * chain that has it (none: left out, never a box), right-to-left stretches in reading order
 * (the Unicode bidirectional algorithm, by bidi-js), widths measured per font.
 */

// bidi-js is CommonJS typed as an ES default export: at run time the import is the factory itself.
const bidiFactory = ((bidiJs as unknown as { default?: unknown }).default ?? bidiJs) as typeof bidiJs.default;
const bidi = bidiFactory();
const graphemes = new Intl.Segmenter(undefined, { granularity: "grapheme" });

/** Where a character's font comes from: a `FontChain`, or a stand-in in tests. */
export interface FontChoice {
  /** The font of the ellipsis. */
  readonly primary: Font;
  /** The first font with a glyph for the code point; null when none has one. */
  fontFor(codePoint: number): Font | null;
}

/** Part of a line in one font, in drawing order (left to right): `text` goes to pdfkit as it is. */
export interface TextRun {
  text: string;
  font: Font;
  /** In points at the size laid out. */
  width: number;
}

export interface TextLine {
  runs: TextRun[];
  width: number;
}

export interface TextBox {
  /** Font size in points. */
  size: number;
  /** Widest line in points. */
  width: number;
  /** Lines at most; the last one ends in "…" when the text goes on. */
  maxLines: number;
}

/**
 * `text` in lines that fit `box`, or no line when no font has any of its characters.
 *
 * @example layoutText("Café Anna", posterFonts().bold, { size: 34, width: 500, maxLines: 2 })
 *   // [{ runs: [{ text: "Café Anna", font: DejaVuSans-Bold, width: 170.3 }], width: 170.3 }]
 */
export function layoutText(text: string, fonts: FontChoice, box: TextBox): TextLine[] {
  const para = paragraph(text, fonts);
  if (para.text.length === 0) return [];
  const { lines, more } = breakLines(para, box);
  return lines.map((line, i) => {
    const last = more && i === lines.length - 1;
    return visualLine(last ? withEllipsis(para, line, fonts, box) : pieces(para, line), box.size);
  });
}

/** The drawable text, a font for each of its UTF-16 units, and their bidi embedding levels. */
interface Paragraph {
  text: string;
  fonts: Font[];
  levels: Uint8Array;
  /** 0: a left-to-right paragraph, 1: right-to-left (from its first letter). */
  base: number;
}

/** A stretch of text in one font at one embedding level, in logical (typed) order. */
interface Piece {
  text: string;
  font: Font;
  level: number;
}

/** A stretch of the paragraph, [start, end) in UTF-16 units. */
interface Span {
  start: number;
  end: number;
}

function paragraph(typed: string, chain: FontChoice): Paragraph {
  let text = "";
  const fonts: Font[] = [];
  let previous: Font | null = null;
  for (const raw of typed.normalize("NFC")) {
    // Variation selectors ask for an emoji or a glyph variant no font here has; fontkit would
    // fold one into the glyph before it, and its cache would keep that for every later poster.
    if (VARIATION.test(raw)) continue;
    const ch = isBlank(raw, chain) ? " " : raw;
    const font = fontOf(ch, previous, chain);
    previous = font;
    // A space that a character left out would leave doubled, or first, goes too.
    if (!font || (ch === " " && (text === "" || text.endsWith(" ")))) continue;
    text += ch;
    for (let i = 0; i < ch.length; i++) fonts.push(font);
  }
  if (text.endsWith(" ")) {
    text = text.slice(0, -1);
    fonts.pop();
  }
  const embedding = bidi.getEmbeddingLevels(text, "auto");
  // In right-to-left text, brackets and the like are drawn as their mirror image: "(" as ")".
  const units = text.split("");
  for (const [index, mirror] of bidi.getMirroredCharactersMap(text, embedding.levels)) units[index] = mirror;
  return {
    text: units.join(""),
    fonts,
    levels: embedding.levels,
    base: embedding.paragraphs[0]?.level ?? 0,
  };
}

/** Control characters, line breaks and spaces no font has become a plain space. */
function isBlank(ch: string, chain: FontChoice): boolean {
  return /[\p{Cc}\p{Zl}\p{Zp}]/u.test(ch) || (/\s/u.test(ch) && !chain.fontFor(ch.codePointAt(0)!));
}

// Invisible characters (joiners, direction marks, soft hyphens) that fontkit hides in any font;
// the Hangul fillers are default-ignorable too, but fontkit draws them.
const INVISIBLE = /(?![\u115f\u1160\u3164\uffa0])\p{Default_Ignorable_Code_Point}/u;
const VARIATION = /\p{Variation_Selector}/u;
const NEUTRAL = /[\p{Script=Common}\p{Script=Inherited}]/u;
const MARK = /\p{M}/u;

/**
 * The font for a character, `previous` being the one of the character before (null: it was left
 * out). Spaces, punctuation, digits and accents keep the font of the text around them, so a
 * Japanese name's spaces do not split it; invisible characters and accents follow a character
 * left out.
 */
function fontOf(ch: string, previous: Font | null, chain: FontChoice): Font | null {
  const codePoint = ch.codePointAt(0)!;
  if (INVISIBLE.test(ch)) return previous;
  if (!previous && MARK.test(ch)) return null;
  if (previous && NEUTRAL.test(ch) && previous.hasGlyphForCodePoint(codePoint)) return previous;
  return chain.fontFor(codePoint);
}

/** The paragraph in lines that fit, greedily; `more` when text is left after the last. */
function breakLines(para: Paragraph, box: TextBox): { lines: Span[]; more: boolean } {
  const lines: Span[] = [];
  let line: Span | null = null;
  for (const word of words(para.text)) {
    // A word wider than a line (a name without spaces) breaks between any two characters.
    const parts = fits(para, word, box) ? [word] : characters(para.text, word);
    for (const part of parts) {
      const longer: Span | null = line && { start: line.start, end: part.end };
      if (longer && fits(para, longer, box)) {
        line = longer;
        continue;
      }
      if (line) lines.push(line);
      if (lines.length === box.maxLines) return { lines, more: true };
      line = part;
    }
  }
  if (line) lines.push(line);
  return { lines, more: false };
}

function fits(para: Paragraph, span: Span, box: TextBox): boolean {
  return measure(pieces(para, span), box.size) <= box.width + 1e-6;
}

// Chinese, Japanese and Korean run on without spaces: a line may break before or after any of
// their characters, though not before closing punctuation nor after opening punctuation.
const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;
const CLOSING = /[\p{Pe}\p{Pf}\p{Po}]/u;
const OPENING = /[\p{Ps}\p{Pi}]/u;

/** Where lines may break: after each space and around CJK characters; each span ends at one. */
function words(text: string): Span[] {
  const spans: Span[] = [];
  let start = 0;
  let previous = "";
  let index = 0;
  for (const ch of text) {
    const cjkBreak = (CJK.test(ch) || CJK.test(previous)) && !CLOSING.test(ch) && !OPENING.test(previous);
    if (index > start && (previous === " " || cjkBreak)) {
      spans.push({ start, end: index });
      start = index;
    }
    previous = ch;
    index += ch.length;
  }
  if (index > start) spans.push({ start, end: index });
  return spans;
}

/** A span cut into its user-perceived characters (a letter with its accents stays whole). */
function characters(text: string, span: Span): Span[] {
  return [...graphemes.segment(text.slice(span.start, span.end))].map((g) => ({
    start: span.start + g.index,
    end: span.start + g.index + g.segment.length,
  }));
}

/** The span without the spaces at its end, as pieces of one font and level. */
function pieces(para: Paragraph, span: Span): Piece[] {
  let end = span.end;
  while (end > span.start && para.text[end - 1] === " ") end--;
  const out: Piece[] = [];
  for (let i = span.start; i < end; ) {
    const size = para.text.codePointAt(i)! > 0xffff ? 2 : 1;
    const text = para.text.slice(i, i + size);
    const font = para.fonts[i]!;
    const level = para.levels[i]!;
    const last = out.at(-1);
    if (last && last.font === font && last.level === level) last.text += text;
    else out.push({ text, font, level });
    i += size;
  }
  return out;
}

/** The last line's text cut short enough to end in "…" within the width. */
function withEllipsis(para: Paragraph, line: Span, chain: FontChoice, box: TextBox): Piece[] {
  const ends = characters(para.text, line).map((c) => c.end);
  for (let i = ends.length - 1; i >= 0; i--) {
    const cut = appended(pieces(para, { start: line.start, end: ends[i]! }), "…", chain.primary, para.base);
    if (measure(cut, box.size) <= box.width) return cut;
  }
  return [{ text: "…", font: chain.primary, level: para.base }];
}

/** The pieces and a text after them, in the last piece when it has the same font and level. */
function appended(logical: Piece[], text: string, font: Font, level: number): Piece[] {
  const last = logical.at(-1);
  if (last && last.font === font && last.level === level)
    return [...logical.slice(0, -1), { ...last, text: last.text + text }];
  return [...logical, { text, font, level }];
}

function measure(pieces: readonly Piece[], size: number): number {
  return pieces.reduce((sum, piece) => sum + advance(piece.font, piece.text, size), 0);
}

function advance(font: Font, text: string, size: number): number {
  return (font.layout(text, []).advanceWidth * size) / font.unitsPerEm;
}

/**
 * A line's pieces in drawing order: from the highest embedding level down to the lowest odd one,
 * each stretch at that level or above is reversed (rule L2 of the bidirectional algorithm).
 */
function visualLine(logical: Piece[], size: number): TextLine {
  const order = [...logical];
  const levels = order.map((piece) => piece.level);
  const lowestOdd = Math.min(...levels) | 1;
  for (let level = Math.max(...levels); level >= lowestOdd; level--) {
    for (let i = 0; i < order.length; ) {
      let j = i;
      while (j < order.length && order[j]!.level >= level) j++;
      if (j > i) order.splice(i, j - i, ...order.slice(i, j).reverse());
      i = Math.max(j, i + 1);
    }
  }
  const runs = order.map((piece) => run(piece, size));
  return { runs, width: runs.reduce((sum, r) => sum + r.width, 0) };
}

/**
 * A piece as pdfkit draws it. fontkit shapes a Hebrew or Arabic run and reverses it by its script,
 * not by its level; a piece whose direction differs from its script's (punctuation or an emoji
 * inside right-to-left text, Arabic-Indic digits inside it) is reversed here instead.
 */
function run(piece: Piece, size: number): TextRun {
  const rtl = piece.level % 2 === 1;
  const reversedByFontkit = piece.font.layout(piece.text, []).direction === "rtl";
  const text =
    reversedByFontkit === rtl
      ? piece.text
      : [...graphemes.segment(piece.text)]
          .map((g) => g.segment)
          .reverse()
          .join("");
  return { text, font: piece.font, width: advance(piece.font, text, size) };
}
