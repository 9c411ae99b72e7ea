import { writeFileSync } from "node:fs";
import { encode } from "uqr";

/**
 * A video file for Chromium's fake camera (`--use-file-for-fake-video-capture`) that shows a QR
 * code: YUV4MPEG2, 4:2:0, the code centred with a white quiet zone. Chromium loops the file, so a
 * few identical frames are enough.
 *
 * @example writeQrVideo("/tmp/member.y4m", member.code)
 */
export function writeQrVideo(
  path: string,
  text: string,
  options: { width?: number; height?: number; frames?: number } = {},
): void {
  const width = options.width ?? 640;
  const height = options.height ?? 480;
  const frames = options.frames ?? 5;
  const qr = encode(text, { border: 0, ecc: "M" });
  // Quiet zone of 4 modules on each side (the standard), the whole code about 70% of the height.
  const module = Math.floor((height * 0.7) / (qr.size + 8));
  const side = module * qr.size;
  const left = Math.floor((width - side) / 2);
  const top = Math.floor((height - side) / 2);

  const luma = Buffer.alloc(width * height, 235);
  for (let y = 0; y < side; y++) {
    const row = qr.data[Math.floor(y / module)];
    for (let x = 0; x < side; x++) {
      if (row?.[Math.floor(x / module)]) luma[(top + y) * width + left + x] = 16;
    }
  }
  const chroma = Buffer.alloc((width / 2) * (height / 2) * 2, 128);
  const frame = Buffer.concat([Buffer.from("FRAME\n"), luma, chroma]);
  const header = Buffer.from(`YUV4MPEG2 W${width} H${height} F10:1 Ip A1:1 C420jpeg\n`);
  writeFileSync(path, Buffer.concat([header, ...Array.from({ length: frames }, () => frame)]));
}
