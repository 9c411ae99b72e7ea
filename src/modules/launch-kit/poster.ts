import { createRequire } from "node:module";
import PDFDocument from "pdfkit";
import { type PosterLocale, posterMessage } from "./messages.ts";
import { qrModules } from "./qr.ts";

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

const require = createRequire(import.meta.url);
// DejaVu Sans ships with the app (npm dejavu-fonts-ttf, a free licence) and covers Polish,
// Portuguese and Dutch letters; the PDF standard fonts do not (no ą, ę, ł, ś, ż).
const FONT_REGULAR = require.resolve("dejavu-fonts-ttf/ttf/DejaVuSans.ttf");
const FONT_BOLD = require.resolve("dejavu-fonts-ttf/ttf/DejaVuSans-Bold.ttf");

const INK = "#111111";
const MUTED = "#4a4a4a";

/**
 * A printable poster: the business's name, the program in one sentence, a large QR code of the
 * join link drawn as vector squares, the link in text and a line about the staff. Everything
 * scales with the paper, so A5 is A4 made smaller.
 *
 * @example const pdf = await renderPoster({ size: "a4", locale: "nl", businessName: "Café Anna", ... })
 */
export function renderPoster(input: PosterInput): Promise<Buffer> {
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
  doc.registerFont("regular", FONT_REGULAR);
  doc.registerFont("bold", FONT_BOLD);

  const width = doc.page.width;
  const height = doc.page.height;
  const s = width / 595.28;
  const margin = 48 * s;
  const textWidth = width - 2 * margin;
  const centered = { width: textWidth, align: "center" as const };

  // Each text above the QR code gets a few lines at most, cut with an ellipsis past them: the
  // longest name, reward and tier ladder the API accepts leave the QR code its size (at least
  // 7.8 cm on A4) and the poster one page.
  const lines = (size: number, count: number) => ({ height: size * 1.25 * count, ellipsis: true });
  doc
    .fillColor(INK)
    .font("bold")
    .fontSize(34 * s)
    .text(input.businessName, margin, 56 * s, { ...centered, ...lines(34 * s, 2) });
  doc.moveDown(0.4);
  doc
    .font("regular")
    .fontSize(19 * s)
    .text(input.headline, margin, doc.y, { ...centered, lineGap: 3 * s, ...lines(22 * s, 4) });
  if (input.tiersLine) {
    doc.moveDown(0.3);
    doc
      .fillColor(MUTED)
      .fontSize(13 * s)
      .text(input.tiersLine, margin, doc.y, { ...centered, ...lines(13 * s, 2) });
  }

  const bottomBlock = 150 * s;
  const qrTop = doc.y + 24 * s;
  const qrSize = Math.min(360 * s, height - qrTop - bottomBlock, textWidth);
  drawQr(doc, input.joinUrl, (width - qrSize) / 2, qrTop, qrSize);

  doc.y = qrTop + qrSize + 20 * s;
  doc
    .fillColor(INK)
    .font("bold")
    .fontSize(16 * s)
    .text(posterMessage(input.locale, "scan"), margin, doc.y, centered);
  doc.moveDown(0.2);
  doc
    .font("regular")
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

/** Dark modules as filled rectangles, a row's adjacent modules merged into one. */
function drawQr(doc: PDFKit.PDFDocument, text: string, x: number, y: number, size: number): void {
  const rows = qrModules(text);
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
