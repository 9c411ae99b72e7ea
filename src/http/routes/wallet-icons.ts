import { deflateSync } from "node:zlib";

/**
 * The wallet's home-screen icons, drawn here rather than shipped as binaries: a white stamp (a
 * ring around a dot) on the brand's green, antialiased by 4×4 supersampling and encoded as PNG
 * with node:zlib. The same picture as the SVG, so every platform shows one icon.
 */

export const THEME_COLOR = "#1f4d3a";
const BACKGROUND: [number, number, number] = [0x1f, 0x4d, 0x3a];
const FOREGROUND: [number, number, number] = [0xff, 0xff, 0xff];

/** How much of a pixel at (x, y) in a 1×1 square is the white stamp (0 or 1). */
function inStamp(x: number, y: number): boolean {
  const r = Math.hypot(x - 0.5, y - 0.5);
  return (r >= 0.27 && r <= 0.34) || r <= 0.15;
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const byte of bytes) c = (CRC_TABLE[(c ^ byte) & 0xff] ?? 0) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, "ascii");
  const body = Buffer.concat([head.subarray(4), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body), 0);
  return Buffer.concat([head.subarray(0, 4), body, crc]);
}

/** A square PNG of the stamp icon, `size` pixels wide (opaque: fine as a maskable icon too). */
export function iconPng(size: number): Buffer {
  const samples = 4;
  const raw = Buffer.alloc(size * (size * 3 + 1));
  for (let y = 0; y < size; y++) {
    const row = y * (size * 3 + 1);
    raw[row] = 0; // filter: none
    for (let x = 0; x < size; x++) {
      let hits = 0;
      for (let sy = 0; sy < samples; sy++)
        for (let sx = 0; sx < samples; sx++)
          if (inStamp((x + (sx + 0.5) / samples) / size, (y + (sy + 0.5) / samples) / size)) hits++;
      const a = hits / (samples * samples);
      for (let ch = 0; ch < 3; ch++) {
        raw[row + 1 + x * 3 + ch] = Math.round((BACKGROUND[ch] ?? 0) * (1 - a) + (FOREGROUND[ch] ?? 0) * a);
      }
    }
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // colour type: RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(raw, { level: 9 })),
    chunk("IEND", new Uint8Array()),
  ]);
}

/** The same stamp as SVG. */
export const ICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100"><rect width="100" height="100" fill="${THEME_COLOR}"/><circle cx="50" cy="50" r="30.5" fill="none" stroke="#fff" stroke-width="7"/><circle cx="50" cy="50" r="15" fill="#fff"/></svg>`;

const cache = new Map<number, Buffer>();

/** The PNG for a size, drawn once per process. */
export function cachedIconPng(size: 192 | 512): Buffer {
  let png = cache.get(size);
  if (!png) {
    png = iconPng(size);
    cache.set(size, png);
  }
  return png;
}
