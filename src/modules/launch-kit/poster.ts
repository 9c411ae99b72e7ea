import PDFDocument from "pdfkit";
import { type Font, type FontChain, type PosterFonts, posterFonts } from "./fonts.ts";
import { type PosterLocale, posterMessage } from "./messages.ts";
import { qrModules } from "./qr.ts";
import { layoutText, type TextLine } from "./text-layout.ts";

export const POSTER_SIZES = ["a4", "a5"] as const;
export type PosterSize = (typeof POSTER_SIZES)[number];

export interface PosterInput {
  size: PosterSize;
  locale: PosterLocale;
  businessName: string;
  headline: string;
  tiersLine: string | null;
  joinUrl: string;
  now: Date;
}

const INK = "#111111";
const MUTED = "#4a4a4a";
/** Modules of blank paper around the QR code, as ISO/IEC 18004 asks. */
const QUIET = 4;

/**
 * A printable poster: the business's name, the program in one sentence, a large QR code of the
 * join link drawn as vector squares, the link in text and a line about the staff. Everything
 * scales with the paper, so A5 is A4 made smaller. The texts the business typed are drawn with
 * `fonts` character by character (text-layout.ts): what no font has is left out, never a box.
 *
 * @example const pdf = await renderPoster({ size: "a4", locale: "nl", businessName: "Café Anna", ... })
 */
export function renderPoster(input: PosterInput, fonts: PosterFonts = posterFonts()): Promise<Buffer> {
  const doc = new PDFDocument({
    size: input.size.toUpperCase(),
    margin: 0,
    lang: input.locale,
    displayTitle: true,
    info: {
      Title: input.businessName,
      Subject: input.joinUrl,
      Creator: "Regulars",
      Producer: "Regulars",
      CreationDate: input.now,
    },
  });
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on("data", (chunk: Buffer) => chunks.push(chunk));
    doc.on("end", () => resolve(Buffer.concat(chunks)));
    doc.on("error", reject);
  });
  const fontName = fontNames(doc);
  const regular = fontName(fonts.regular.primary);
  const bold = fontName(fonts.bold.primary);

  const width = doc.page.width;
  const height = doc.page.height;
  const s = width / 595.28;
  const margin = 48 * s;
  const textWidth = width - 2 * margin;
  const centered = { width: textWidth, align: "center" as const };
  const layout = (text: string, chain: FontChain, size: number, maxLines: number) =>
    layoutText(text, chain, { size, width: textWidth, maxLines });
  const draw = (lines: TextLine[], chain: FontChain, size: number, lineGap = 0) =>
    drawLines(doc, lines, { fontName, chain, x: margin, width: textWidth, size, lineGap });

  // Each text above the QR code gets a few lines at most, cut with an ellipsis past them: the
  // longest name, reward and tier ladder the API accepts leave the QR code its size (at least
  // 7.8 cm on A4, with its quiet zone) and the poster one page.
  doc.fillColor(INK);
  doc.y = 56 * s;
  const name = layout(input.businessName, fonts.bold, 34 * s, 2);
  draw(name.length > 0 ? name : layout(handle(input.joinUrl), fonts.bold, 34 * s, 2), fonts.bold, 34 * s);
  doc.moveDown(0.4);
  draw(layout(input.headline, fonts.regular, 19 * s, 4), fonts.regular, 19 * s, 3 * s);
  if (input.tiersLine) {
    doc.moveDown(0.3);
    doc.fillColor(MUTED);
    draw(layout(input.tiersLine, fonts.regular, 13 * s, 2), fonts.regular, 13 * s);
  }

  // The QR code and its quiet zone: QUIET modules of blank paper on every side (ISO/IEC 18004),
  // between the texts above and below and to the sides. The code shrinks to leave them room.
  const rows = qrModules(input.joinUrl);
  const span = rows.length + 2 * QUIET;
  const bottomBlock = 130 * s;
  const qrSize = Math.min(
    360 * s,
    ((height - doc.y - bottomBlock) * rows.length) / span,
    (width * rows.length) / span,
  );
  const quiet = (qrSize / rows.length) * QUIET;
  const qrTop = doc.y + quiet;
  drawQr(doc, rows, (width - qrSize) / 2, qrTop, qrSize);

  doc.y = qrTop + qrSize + quiet;
  doc
    .fillColor(INK)
    .font(bold)
    .fontSize(16 * s)
    .text(posterMessage(input.locale, "scan"), margin, doc.y, centered);
  doc.moveDown(0.2);
  doc
    .font(regular)
    .fontSize(13 * s)
    .text(input.joinUrl, margin, doc.y, centered);
  doc.moveDown(0.2);
  doc
    .fillColor(MUTED)
    .fontSize(12 * s)
    .text(posterMessage(input.locale, "free"), margin, doc.y, centered);
  doc.fontSize(11 * s).text(posterMessage(input.locale, "staff"), margin, height - margin - 14 * s, {
    ...centered,
    lineBreak: false,
  });
  doc.end();
  return done;
}

/**
 * The business's handle, the last part of the join link: it stands in for a name no font has any
 * character of (an emoji-only name on a server without an emoji font).
 */
function handle(joinUrl: string): string {
  return decodeURIComponent(joinUrl.slice(joinUrl.lastIndexOf("/") + 1));
}

/**
 * A name for each font in this document, registered on first use. pdfkit takes a fontkit font as
 * it is (PDFFontFactory.open), so one parsed font serves every poster of the process.
 */
function fontNames(doc: PDFKit.PDFDocument): (font: Font) => string {
  const names = new Map<Font, string>();
  return (font) => {
    let name = names.get(font);
    if (name === undefined) {
      name = `font${names.size}`;
      doc.registerFont(name, font as unknown as Buffer);
      names.set(font, name);
    }
    return name;
  };
}

interface LinesBox {
  fontName: (font: Font) => string;
  chain: FontChain;
  x: number;
  width: number;
  size: number;
  lineGap: number;
}

/**
 * Lines centred from `doc.y` down, each run in its font on one baseline. The line height is the
 * chain's first font's, as pdfkit's own text would have it; `doc.y` ends below the last line
 * with that font current, so `moveDown` goes on as after `doc.text`.
 */
function drawLines(doc: PDFKit.PDFDocument, lines: TextLine[], box: LinesBox): void {
  const primary = box.chain.primary;
  doc.font(box.fontName(primary)).fontSize(box.size);
  const advance = doc.currentLineHeight(true) + box.lineGap;
  const ascent = (primary.ascent / primary.unitsPerEm) * box.size;
  const top = doc.y;
  lines.forEach((line, i) => {
    let x = box.x + (box.width - line.width) / 2;
    for (const run of line.runs) {
      doc
        .font(box.fontName(run.font))
        .fontSize(box.size)
        // features: [] makes pdfkit shape the run whole rather than word by word, so fontkit
        // joins Arabic letters and keeps right-to-left words in their order.
        .text(run.text, x, top + i * advance + ascent, {
          lineBreak: false,
          baseline: "alphabetic",
          features: [],
        });
      x += run.width;
    }
  });
  doc.font(box.fontName(primary)).fontSize(box.size);
  doc.x = box.x;
  doc.y = top + lines.length * advance;
}

/** Dark modules as filled rectangles, a row's adjacent modules merged into one. */
function drawQr(doc: PDFKit.PDFDocument, rows: boolean[][], x: number, y: number, size: number): void {
  const module = size / rows.length;
  rows.forEach((row, r) => {
    let start = -1;
    for (let c = 0; c <= row.length; c++) {
      const dark = row[c] === true;
      if (dark && start < 0) start = c;
      if (!dark && start >= 0) {
        doc.rect(x + start * module, y + r * module, (c - start) * module, module);
        start = -1;
      }
    }
  });
  doc.fillColor("#000000").fill();
}
