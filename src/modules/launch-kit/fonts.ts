import * as fontkit from "fontkit";
import { assert } from "../../shared/errors.ts";
import { type FontFile, fontFiles } from "./font-files.ts";
import type { FontChoice } from "./text-layout.ts";

export type { Font } from "fontkit";

/**
 * The fonts of one weight, tried in order for each character: the first that has a glyph for it
 * draws it. A font file is read only when a character reaches it, then kept, so DejaVu alone
 * serves Latin text and a CJK collection is parsed once per process, not once per poster.
 */
export class FontChain implements FontChoice {
  private readonly slots: { file: FontFile; font?: fontkit.Font | null }[];
  private readonly found = new Map<number, fontkit.Font | null>();

  constructor(files: readonly FontFile[]) {
    this.slots = files.map((file) => ({ file }));
  }

  /** The first font, which sets the line height and draws the ellipsis. */
  get primary(): fontkit.Font {
    const font = this.font(0);
    assert(font, `the poster's own font ${this.slots[0]?.file.path} opens`);
    return font;
  }

  /** The first font with a glyph for the code point; null when none has one. */
  fontFor(codePoint: number): fontkit.Font | null {
    let font = this.found.get(codePoint);
    if (font === undefined) {
      font = null;
      for (let i = 0; i < this.slots.length && !font; i++) {
        const candidate = this.font(i);
        if (candidate?.hasGlyphForCodePoint(codePoint)) font = candidate;
      }
      this.found.set(codePoint, font);
    }
    return font;
  }

  private font(index: number): fontkit.Font | null {
    const slot = this.slots[index];
    if (!slot) return null;
    if (slot.font === undefined) slot.font = openFont(slot.file);
    return slot.font;
  }
}

/**
 * A font file as fontkit reads it; null when it is missing or not a font (the poster then does
 * without it: the configuration already refused a `POSTER_FONTS` path that is not there).
 */
function openFont(file: FontFile): fontkit.Font | null {
  try {
    const opened = fontkit.openSync(file.path);
    if (!("fonts" in opened)) return opened;
    const fonts = opened.fonts;
    return fonts.find((font) => font.postscriptName === file.name) ?? fonts[0] ?? null;
  } catch {
    return null;
  }
}

export interface PosterFonts {
  regular: FontChain;
  bold: FontChain;
}

/**
 * The poster's fonts for an environment (`POSTER_FONTS`), new each call.
 *
 * @example posterFontsFor({ POSTER_FONTS: "/srv/fonts/NotoSansJP-Regular.otf" }).regular.fontFor(0x55ab)
 */
export function posterFontsFor(env: Record<string, string | undefined>): PosterFonts {
  return {
    regular: new FontChain(fontFiles("regular", env)),
    bold: new FontChain(fontFiles("bold", env)),
  };
}

let cached: PosterFonts | undefined;

/** The process's poster fonts, from its environment, made on first use. */
export function posterFonts(): PosterFonts {
  cached ??= posterFontsFor(process.env);
  return cached;
}
