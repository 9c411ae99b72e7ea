import { createRequire } from "node:module";
import * as fontkit from "fontkit";
import { describe, expect, it } from "vitest";
import { parseFontFiles } from "./font-files.ts";
import { type Font, FontChain, posterFontsFor } from "./fonts.ts";
import { type FontChoice, layoutText, type TextLine } from "./text-layout.ts";

const require = createRequire(import.meta.url);
const DEJAVU = require.resolve("dejavu-fonts-ttf/ttf/DejaVuSans.ttf");
// DejaVu Sans Mono has some symbols DejaVu Sans lacks (⌒ U+2312, ⌓ U+2313): a fallback font
// that is in the repository, where a CJK or emoji font would not be.
const MONO = require.resolve("dejavu-fonts-ttf/ttf/DejaVuSansMono.ttf");

/** DejaVu alone, as on a server without other fonts, whatever this machine has. */
const dejavuOnly = new FontChain([{ path: DEJAVU }]);
const withMono = new FontChain([{ path: DEJAVU }, { path: MONO }]);
const box = { size: 19, width: 500, maxLines: 4 };

/** What a line draws, left to right, as fontkit lays out each run (hidden characters left out). */
function drawn(line: TextLine): string {
  return line.runs
    .map(({ font, text }) => {
      const run = font.layout(text, []);
      return run.glyphs
        .filter((glyph, i) => !(glyph.codePoints[0] === 0x20 && run.positions[i]?.xAdvance === 0))
        .map((glyph) => String.fromCodePoint(...glyph.codePoints))
        .join("");
    })
    .join("");
}

/** The glyph ids a line draws: 0 is .notdef, the box. */
function glyphIds(lines: TextLine[]): number[] {
  return lines.flatMap((line) =>
    line.runs.flatMap(({ font, text }) => font.layout(text, []).glyphs.map((g) => g.id)),
  );
}

describe("fonts for each character", () => {
  it("keeps text DejaVu has in DejaVu, in one run", () => {
    const [line, ...rest] = layoutText("Kawiarnia Żółw — ąęłśż, ação, één", withMono, box);
    expect(rest).toEqual([]);
    expect(line?.runs.map((r) => [r.font.postscriptName, r.text])).toEqual([
      ["DejaVuSans", "Kawiarnia Żółw — ąęłśż, ação, één"],
    ]);
    const font = line!.runs[0]!.font;
    expect(line?.width).toBeCloseTo(
      (font.layout(line!.runs[0]!.text, []).advanceWidth * 19) / font.unitsPerEm,
    );
  });

  it("leaves out what no font has instead of drawing a box", () => {
    const name = layoutText("喫茶 Sakura ☕🎁", dejavuOnly, box);
    expect(name.map(drawn)).toEqual(["Sakura ☕"]);
    expect(glyphIds(name)).not.toContain(0);
    expect(layoutText("Free coffee ☕🎁", dejavuOnly, box).map(drawn)).toEqual(["Free coffee ☕"]);
  });

  it("draws no box for emoji sequences: joiners, variation selectors, keycaps, flags", () => {
    const lines = layoutText("👨‍👩‍👧 Family ☕️ deal 1️⃣ 🇵🇱 now", dejavuOnly, box);
    expect(glyphIds(lines)).not.toContain(0);
    expect(lines.map(drawn)).toEqual(["Family ☕ deal 1 now"]);
  });

  it("gives no line for a text no font has any character of", () => {
    expect(layoutText("🎁🍩 喫茶店", dejavuOnly, box)).toEqual([]);
  });

  it("takes what DejaVu lacks from the next font, such as one POSTER_FONTS names", () => {
    expect(layoutText("Café ⌒", dejavuOnly, box).map(drawn)).toEqual(["Café"]);
    const fonts = posterFontsFor({ POSTER_FONTS: ` ${MONO} , ` });
    const [line] = layoutText("Café ⌒", fonts.regular, box);
    expect(line?.runs.map((r) => [r.font.postscriptName, r.text])).toEqual([
      ["DejaVuSans", "Café "],
      ["DejaVuSansMono", "⌒"],
    ]);
    expect(glyphIds([line!])).not.toContain(0);
  });

  it("reads POSTER_FONTS as comma-separated files, a collection's font after #", () => {
    expect(parseFontFiles(" /f/a.ttf,, /f/b.ttc#NotoSansCJKjp-Regular ")).toEqual([
      { path: "/f/a.ttf" },
      { path: "/f/b.ttc", name: "NotoSansCJKjp-Regular" },
    ]);
    expect(parseFontFiles(undefined)).toEqual([]);
  });

  it("skips a font file that is missing or not a font", () => {
    const chain = new FontChain([
      { path: DEJAVU },
      { path: "/nonexistent/font.ttf" },
      { path: import.meta.filename },
    ]);
    expect(layoutText("Café ⌒", chain, box).map(drawn)).toEqual(["Café"]);
  });
});

describe("right-to-left text", () => {
  it("puts Hebrew inside a left-to-right sentence in reading order", () => {
    const [line] = layoutText("Collect 10 stamps and get קפה חינם.", dejavuOnly, box);
    // Drawn left to right: each Hebrew word reversed, and the first word rightmost.
    expect(drawn(line!)).toBe("Collect 10 stamps and get םניח הפק.");
  });

  it("sets a Hebrew name right to left, with its number and brackets the right way round", () => {
    const [line] = layoutText("קפה השכונה (2024)", dejavuOnly, box);
    expect(drawn(line!)).toBe("(2024) הנוכשה הפק");
  });

  it("joins Arabic letters and keeps Arabic-Indic digits left to right", () => {
    const [line] = layoutText("اجمع ١٠ طوابع", dejavuOnly, box);
    expect(drawn(line!)).toBe("عباوط ١٠ عمجا");
    const font = line!.runs[0]!.font;
    const shaped = line!.runs.flatMap((r) => font.layout(r.text, []).glyphs.map((g) => g.id));
    const isolated = [..."عباوط١٠عمجا"].map((ch) => font.glyphForCodePoint(ch.codePointAt(0)!).id);
    // Joined letters are other glyphs than the letters alone (initial, medial and final forms).
    expect(shaped.filter((id) => !isolated.includes(id)).length).toBeGreaterThan(4);
  });

  it("reverses a run of symbols inside right-to-left text that fontkit would leave", () => {
    const [line] = layoutText("קפה ⌒⌓ חינם", withMono, box);
    expect(line?.runs.map((r) => r.font.postscriptName)).toEqual([
      "DejaVuSans",
      "DejaVuSansMono",
      "DejaVuSans",
    ]);
    expect(drawn(line!)).toBe("םניח ⌓⌒ הפק");
  });
});

describe("lines", () => {
  it("cuts a text past its lines with an ellipsis, every line within the width", () => {
    const lines = layoutText("W".repeat(120), dejavuOnly, { size: 34, width: 499, maxLines: 2 });
    expect(lines).toHaveLength(2);
    expect(drawn(lines[1]!).endsWith("W…")).toBe(true);
    for (const line of lines) {
      expect(line.width).toBeLessThanOrEqual(499);
      expect(line.width).toBeGreaterThan(440);
    }
  });

  it("cuts right-to-left text with the ellipsis at its left end", () => {
    const lines = layoutText("קפה חינם ".repeat(40), dejavuOnly, { size: 19, width: 300, maxLines: 2 });
    expect(lines).toHaveLength(2);
    expect(drawn(lines[1]!).startsWith("…")).toBe(true);
  });

  it("measures each run with its own font and breaks CJK text without spaces", () => {
    const dejavu = fontkit.openSync(DEJAVU) as Font;
    const wide = wideFont(/\p{Script=Han}|\p{Script=Katakana}|ー/u);
    const chain: FontChoice = {
      primary: dejavu,
      fontFor: (cp) =>
        dejavu.hasGlyphForCodePoint(cp) ? dejavu : wide.hasGlyphForCodePoint(cp) ? wide : null,
    };
    // Ten points a character at size 10: 20 of them fill a line of 200.
    const lines = layoutText(`Tokyo ${"東京コーヒー店".repeat(10)}`, chain, {
      size: 10,
      width: 200,
      maxLines: 3,
    });
    expect(lines).toHaveLength(3);
    for (const line of lines) {
      expect(line.width).toBeLessThanOrEqual(200);
      const widths = line.runs.map((r) => (r.font.layout(r.text, []).advanceWidth * 10) / r.font.unitsPerEm);
      expect(line.width).toBeCloseTo(widths.reduce((a, b) => a + b, 0));
    }
    expect(lines[0]?.runs.map((r) => r.font.postscriptName)).toEqual(["DejaVuSans", "Wide"]);
    expect(lines[1]?.runs.map((r) => r.text.length)).toEqual([20]);
    expect(drawn(lines[2]!)).toMatch(/^[東京コーヒー店]{19}…$/u);
  });
});

/** A stand-in CJK font: every character it has is one em wide. */
function wideFont(has: RegExp): Font {
  const font = {
    postscriptName: "Wide",
    unitsPerEm: 1000,
    hasGlyphForCodePoint: (cp: number) => has.test(String.fromCodePoint(cp)),
    layout: (text: string) => {
      const glyphs = [...text].map((ch, i) => ({ id: i + 1, codePoints: [ch.codePointAt(0)!] }));
      const positions = glyphs.map(() => ({ xAdvance: 1000 }));
      return { glyphs, positions, advanceWidth: glyphs.length * 1000, direction: "ltr" };
    },
  };
  return font as unknown as Font;
}
