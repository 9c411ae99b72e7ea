import { inflateSync } from "node:zlib";

/** One text-showing operation (`TJ`) of a PDF: its font, glyph ids, and what they stand for. */
export interface DrawnText {
  /** The embedded font's name without its subset tag, e.g. `DejaVuSans-Bold`. */
  font: string;
  /** Glyph ids in drawing order; 0 is `.notdef`, the box a font draws for a missing glyph. */
  glyphs: number[];
  /** The glyphs' characters (by the font's ToUnicode map), in drawing order: left to right. */
  text: string;
}

/**
 * What a PDF written by pdfkit draws, operation by operation, read back from its objects: enough
 * to tell which font drew which characters and in what order, without a PDF renderer.
 */
export function drawnTexts(pdf: Buffer): DrawnText[] {
  const objects = pdfObjects(pdf.toString("latin1"));
  const fonts = fontResources(objects);
  const drawn: DrawnText[] = [];
  for (const object of objects.values()) {
    if (!/stream/.test(object) || /ToUnicode|FontFile|Subtype \/Image|\/Length1/.test(object)) continue;
    let font: { name: string; chars: Map<number, string> } | undefined;
    for (const m of streamOf(object).matchAll(/\/(F\d+) [\d.]+ Tf|\[([^\]]*)\] TJ/g)) {
      if (m[1]) {
        font = fonts.get(m[1]);
        continue;
      }
      const glyphs = [...(m[2] ?? "").matchAll(/<([0-9a-f]+)>/g)].flatMap((hex) =>
        (hex[1]?.match(/.{4}/g) ?? []).map((id) => Number.parseInt(id, 16)),
      );
      const text = glyphs.map((id) => font?.chars.get(id) ?? "\u25a1").join("");
      drawn.push({ font: font?.name ?? "", glyphs, text });
    }
  }
  return drawn;
}

function pdfObjects(source: string): Map<number, string> {
  const objects = new Map<number, string>();
  for (const m of source.matchAll(/(\d+) 0 obj([\s\S]*?)endobj/g)) objects.set(Number(m[1]), m[2] ?? "");
  return objects;
}

/**
 * An object's stream, decompressed. Its bytes are the `/Length` the dictionary gives after the
 * `stream` line: compressed data may itself end in a carriage return, which a pattern up to
 * `endstream` would take for the line break before it, one time in a few hundred.
 */
function streamOf(object: string): string {
  const start = /stream\r?\n/.exec(object);
  const length = Number(/\/Length (\d+)/.exec(object)?.[1] ?? Number.NaN);
  if (!start || !Number.isInteger(length)) return "";
  const data = object.slice(start.index + start[0].length, start.index + start[0].length + length);
  const bytes = Buffer.from(data, "latin1");
  return (/FlateDecode/.test(object) ? inflateSync(bytes) : bytes).toString("latin1");
}

/** Each font resource name (`F2`) with its font's name and glyph id → characters map. */
function fontResources(
  objects: Map<number, string>,
): Map<string, { name: string; chars: Map<number, string> }> {
  const fonts = new Map<string, { name: string; chars: Map<number, string> }>();
  for (const object of objects.values()) {
    for (const ref of object.matchAll(/\/(F\d+) (\d+) 0 R/g)) {
      const font = objects.get(Number(ref[2])) ?? "";
      const name = (/\/BaseFont \/(?:[A-Z]{6}\+)?(\S+)/.exec(font)?.[1] ?? "").replace(/\/.*/, "");
      const toUnicode = /\/ToUnicode (\d+) 0 R/.exec(font)?.[1];
      const chars = new Map<number, string>();
      const cmap = toUnicode ? streamOf(objects.get(Number(toUnicode)) ?? "") : "";
      for (const range of cmap.matchAll(/<([0-9a-f]{4})> <[0-9a-f]{4}> \[([^\]]*)\]/g)) {
        let id = Number.parseInt(range[1] ?? "0", 16);
        for (const unicode of (range[2] ?? "").matchAll(/<([0-9a-f ]+)>/g)) {
          const units = (unicode[1] ?? "").split(" ").map((hex) => Number.parseInt(hex, 16));
          chars.set(id++, String.fromCharCode(...units));
        }
      }
      fonts.set(ref[1] ?? "", { name, chars });
    }
  }
  return fonts;
}
