import { createRequire } from "node:module";
import { inflateSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { drawnTexts } from "../../../test/helpers/pdf-text.ts";
import { FontChain, type PosterFonts, posterFontsFor } from "./fonts.ts";
import { type PosterInput, renderPoster } from "./poster.ts";

const require = createRequire(import.meta.url);
const font = (file: string) => ({ path: require.resolve(`dejavu-fonts-ttf/ttf/${file}`) });
/** DejaVu alone, as on a server without other fonts, whatever this machine has. */
const dejavu: PosterFonts = {
  regular: new FontChain([font("DejaVuSans.ttf")]),
  bold: new FontChain([font("DejaVuSans-Bold.ttf"), font("DejaVuSans.ttf")]),
};

const input: PosterInput = {
  size: "a4",
  locale: "en",
  businessName: "Kawiarnia Żółw",
  headline: "Collect 5 stamps and get Darmowa kawa.",
  tiersLine: null,
  joinUrl: "https://loyalty.example.com/join/kawiarnia-zolw",
  now: new Date("2026-05-01T10:00:00Z"),
};

const pages = (pdf: Buffer) => pdf.toString("latin1").match(/\/Type \/Page[^s]/g)?.length;

describe("the poster's texts", () => {
  it("draws a name with CJK and emoji without a single box, on one page", async () => {
    const pdf = await renderPoster(
      { ...input, businessName: "喫茶 Sakura ☕🎁", headline: "Get Free coffee ☕🎁." },
      dejavu,
    );
    const texts = drawnTexts(pdf);
    expect(texts.flatMap((t) => t.glyphs)).not.toContain(0);
    expect(texts.map((t) => t.text).slice(0, 2)).toEqual(["Sakura ☕", "Get Free coffee ☕."]);
    expect(pages(pdf)).toBe(1);
  });

  it("draws what DejaVu has with DejaVu alone", async () => {
    const texts = drawnTexts(await renderPoster(input, dejavu));
    expect(new Set(texts.map((t) => t.font))).toEqual(new Set(["DejaVuSans-Bold", "DejaVuSans"]));
    expect(texts[0]).toMatchObject({ font: "DejaVuSans-Bold", text: "Kawiarnia Żółw" });
  });

  it("draws Hebrew words in reading order, not word by word left to right", async () => {
    const pdf = await renderPoster({ ...input, headline: "Collect 5 stamps and get קפה חינם טרי." }, dejavu);
    const headline = drawnTexts(pdf)
      .filter((t) => t.font === "DejaVuSans")
      .map((t) => t.text);
    // Left to right: each word's letters reversed, and the first word rightmost.
    expect(headline.join("")).toMatch(/^Collect 5 stamps and get ירט םניח הפק\./);
  });

  it("prints the handle when no character of the name can be drawn", async () => {
    const texts = drawnTexts(await renderPoster({ ...input, businessName: "🎁🍩" }, dejavu));
    expect(texts[0]).toMatchObject({ font: "DejaVuSans-Bold", text: "kawiarnia-zolw" });
  });

  it("embeds a font POSTER_FONTS names for what DejaVu lacks", async () => {
    const fonts = posterFontsFor({ POSTER_FONTS: font("DejaVuSansMono.ttf").path });
    const texts = drawnTexts(await renderPoster({ ...input, businessName: "Café ⌒" }, fonts));
    expect(texts.slice(0, 2).map((t) => [t.font, t.text])).toEqual([
      ["DejaVuSans-Bold", "Café "],
      ["DejaVuSansMono", "⌒"],
    ]);
  });

  it("keeps one page and a full-size QR code with the longest texts in mixed scripts and fonts", async () => {
    for (const size of ["a4", "a5"] as const) {
      const pdf = await renderPoster(
        {
          ...input,
          size,
          businessName: "喫茶 קפה השכונה ☕🎁 Żółw مقهى ".repeat(5).slice(0, 120),
          headline: `Collect 10 stamps and get ${"قهوة مجانية ☕ קפה חינם 無料 ".repeat(6).slice(0, 120)}.`,
          tiersLine: Array.from({ length: 20 }, (_, i) => `${i} ${"ש".repeat(50)} 🎁`).join(", "),
        },
        dejavu,
      );
      expect(pages(pdf), size).toBe(1);
      expect(drawnTexts(pdf).flatMap((t) => t.glyphs)).not.toContain(0);
      // At least 7.8 cm on A4, and A5 in proportion.
      const cm = (qrWidth(pdf) / 72) * 2.54;
      expect(cm, size).toBeGreaterThanOrEqual(size === "a4" ? 7.8 : 7.8 / Math.SQRT2);
    }
  });
});

describe("the poster's QR code", () => {
  const longest: Partial<PosterInput> = {
    businessName: "喫茶 קפה השכונה ☕🎁 Żółw مقهى ".repeat(5).slice(0, 120),
    headline: `Collect 10 stamps and get ${"Darmowa kawa z mlekiem ".repeat(6).slice(0, 120)}.`,
    tiersLine: Array.from({ length: 20 }, (_, i) => `${i} ${"Ż".repeat(50)}`).join(", "),
  };
  it.each([
    ["a4", "short texts", {}],
    ["a5", "short texts", {}],
    ["a4", "the longest texts", longest],
    ["a5", "the longest texts", longest],
    ["a4", "a long join link", { joinUrl: `https://loyalty.example.com/join/${"kawiarnia-".repeat(6)}zolw` }],
  ] as const)("has a quiet zone of 4 modules on every side (%s, %s)", async (size, _, extra) => {
    const pdf = await renderPoster({ ...input, size, ...extra }, dejavu);
    const page = pageLayout(pdf);
    const qr = page.rects;
    const left = Math.min(...qr.map((r) => r.x));
    const right = Math.max(...qr.map((r) => r.x + r.w));
    const top = Math.min(...qr.map((r) => r.y));
    const bottom = Math.max(...qr.map((r) => r.y + r.h));
    // Every rectangle is one row of modules high.
    const module = Math.min(...qr.map((r) => r.h));
    expect(Math.max(...qr.map((r) => r.h)) - module).toBeLessThan(0.01);
    expect(Math.round((right - left) / module)).toBeGreaterThanOrEqual(21);
    const quiet = 4 * module - 0.01;
    expect(left, "left").toBeGreaterThanOrEqual(quiet);
    expect(page.width - right, "right").toBeGreaterThanOrEqual(quiet);
    const above = page.texts.filter((t) => t.baseline < top);
    const below = page.texts.filter((t) => t.baseline > bottom);
    expect(above.length + below.length).toBe(page.texts.length);
    expect(below.length).toBeGreaterThan(0);
    // Each text's ink stays within its font's ascent above the baseline and descent below it.
    const fonts = [dejavu.regular.primary, dejavu.bold.primary];
    const ascent = Math.max(...fonts.map((f) => f.ascent / f.unitsPerEm));
    const descent = Math.max(...fonts.map((f) => -f.descent / f.unitsPerEm));
    const lastAbove = Math.max(...above.map((t) => t.baseline + descent * t.size));
    const firstBelow = Math.min(...below.map((t) => t.baseline - ascent * t.size));
    expect(top - lastAbove, "above").toBeGreaterThanOrEqual(quiet);
    expect(firstBelow - bottom, "below").toBeGreaterThanOrEqual(quiet);
    expect(pages(pdf)).toBe(1);
  });
});

/** What a one-page poster draws: its rectangles (the QR code) and texts, from the page's top left, in points. */
function pageLayout(pdf: Buffer): {
  width: number;
  rects: { x: number; y: number; w: number; h: number }[];
  texts: { baseline: number; size: number }[];
} {
  const source = pdf.toString("latin1");
  const [, , width = 0, height = 0] = (/\/MediaBox \[([^\]]+)\]/.exec(source)?.[1] ?? "")
    .trim()
    .split(/\s+/)
    .map(Number);
  const rects: { x: number; y: number; w: number; h: number }[] = [];
  const texts: { baseline: number; size: number }[] = [];
  for (const m of source.matchAll(/stream\r?\n([\s\S]*?)\r?\nendstream/g)) {
    let content: string;
    try {
      content = inflateSync(Buffer.from(m[1] ?? "", "latin1")).toString("latin1");
    } catch {
      continue;
    }
    // pdfkit draws shapes in a page flipped to start at the top (`1 0 0 -1 0 h cm`), and each text
    // flipped back, its `Tm` at the baseline counted from the bottom; the font size follows (`Tf`).
    let baseline: number | null = null;
    for (const op of content.matchAll(
      /([\d.-]+) ([\d.-]+) ([\d.-]+) ([\d.-]+) re|1 0 0 1 [\d.-]+ ([\d.-]+) Tm|\/F\d+ ([\d.]+) Tf/g,
    )) {
      if (op[1] !== undefined) {
        rects.push({ x: Number(op[1]), y: Number(op[2]), w: Number(op[3]), h: Number(op[4]) });
      } else if (op[5] !== undefined) {
        baseline = height - Number(op[5]);
      } else if (op[6] !== undefined && baseline !== null) {
        texts.push({ baseline, size: Number(op[6]) });
        baseline = null;
      }
    }
  }
  return { width, rects, texts };
}

/** The width of the QR code: the extent of the rectangles the page fills. */
function qrWidth(pdf: Buffer): number {
  const source = pdf.toString("latin1");
  let left = Number.POSITIVE_INFINITY;
  let right = Number.NEGATIVE_INFINITY;
  for (const m of source.matchAll(/stream\r?\n([\s\S]*?)\r?\nendstream/g)) {
    let content: string;
    try {
      content = inflateSync(Buffer.from(m[1] ?? "", "latin1")).toString("latin1");
    } catch {
      continue;
    }
    for (const re of content.matchAll(/([\d.-]+) [\d.-]+ ([\d.-]+) [\d.-]+ re/g)) {
      left = Math.min(left, Number(re[1]));
      right = Math.max(right, Number(re[1]) + Number(re[2]));
    }
  }
  return right - left;
}
