import { existsSync } from "node:fs";
import { createRequire } from "node:module";

/**
 * Which font files the poster may draw with, best first. This file only names them (the
 * configuration checks `POSTER_FONTS` with it without loading a font engine); fonts.ts opens them.
 */

/** A font file; `name` picks one font of a collection (.ttc) by its PostScript name. */
export interface FontFile {
  path: string;
  name?: string | undefined;
}

export type FontWeight = "regular" | "bold";

const require = createRequire(import.meta.url);
// DejaVu Sans ships with the app (npm dejavu-fonts-ttf, a free licence): Latin with Polish,
// Portuguese and Dutch letters, Greek, Cyrillic, Hebrew, Arabic and many symbols.
const DEJAVU: Record<FontWeight, FontFile> = {
  regular: { path: require.resolve("dejavu-fonts-ttf/ttf/DejaVuSans.ttf") },
  bold: { path: require.resolve("dejavu-fonts-ttf/ttf/DejaVuSans-Bold.ttf") },
};

/**
 * Fonts a Debian or Ubuntu server has once their package is installed, for what DejaVu lacks.
 * Each is opened only when a text holds a character the fonts before it cannot draw.
 */
const SYSTEM_FONTS: Record<FontWeight, FontFile>[] = [
  // fonts-noto-cjk: Chinese, Japanese and Korean (one collection per weight; any of its fonts
  // has every ideograph, kana and hangul).
  {
    regular: {
      path: "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
      name: "NotoSansCJKsc-Regular",
    },
    bold: { path: "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc", name: "NotoSansCJKsc-Bold" },
  },
  // fonts-noto-core: the Arabic and Hebrew letters DejaVu lacks, and many more scripts' Latin.
  noto("NotoSansArabic"),
  noto("NotoSansHebrew"),
  noto("NotoSans"),
  // fonts-symbola: emoji in black and white (a colour emoji font cannot go into a PDF).
  {
    regular: { path: "/usr/share/fonts/truetype/ancient-scripts/Symbola_hint.ttf" },
    bold: { path: "/usr/share/fonts/truetype/ancient-scripts/Symbola_hint.ttf" },
  },
];

function noto(family: string): Record<FontWeight, FontFile> {
  const dir = "/usr/share/fonts/truetype/noto";
  return { regular: { path: `${dir}/${family}-Regular.ttf` }, bold: { path: `${dir}/${family}-Bold.ttf` } };
}

/**
 * The files of a `POSTER_FONTS` value: comma-separated paths, each optionally ending in
 * `#PostScriptName` to pick one font of a collection.
 *
 * @example parseFontFiles("/fonts/a.ttf, /fonts/b.ttc#NotoSansCJKjp-Regular")
 *   // [{ path: "/fonts/a.ttf" }, { path: "/fonts/b.ttc", name: "NotoSansCJKjp-Regular" }]
 */
export function parseFontFiles(value: string | undefined): FontFile[] {
  return (value ?? "")
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0)
    .map((entry) => {
      const hash = entry.lastIndexOf("#");
      return hash > 0
        ? { path: entry.slice(0, hash), name: entry.slice(hash + 1) || undefined }
        : { path: entry };
    });
}

/**
 * The fonts to try for one weight, in order: DejaVu Sans (bold text falls back to the regular
 * weight before any other font), then `POSTER_FONTS` (the operator's choice beats a guess), then
 * the system fonts that are present, in their bold weight where it is installed.
 */
export function fontFiles(weight: FontWeight, env: Record<string, string | undefined>): FontFile[] {
  const own = weight === "bold" ? [DEJAVU.bold, DEJAVU.regular] : [DEJAVU.regular];
  const system = SYSTEM_FONTS.map((family) =>
    existsSync(family[weight].path) ? family[weight] : family.regular,
  ).filter((file) => existsSync(file.path));
  return [...own, ...parseFontFiles(env.POSTER_FONTS), ...system];
}
