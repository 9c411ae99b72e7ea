import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { beforeAll, describe, expect, it } from "vitest";
import { ensureWebBuilt, WEB_DIST } from "../../src/web.ts";

/**
 * The wallet is what a customer opens on a phone, often on a weak connection: its first load must
 * stay under 200 KB of compressed JavaScript. Measured on the production build: the entry chunk,
 * the wallet's chunk, every chunk they import statically, and the messages it loads at first
 * (common + wallet, in the largest language), each gzipped.
 */

const BUDGET_BYTES = 200 * 1024;

interface ManifestChunk {
  file: string;
  src?: string;
  isEntry?: boolean;
  imports?: string[];
  dynamicImports?: string[];
}
type Manifest = Record<string, ManifestChunk>;

let manifest: Manifest;

beforeAll(async () => {
  const path = join(WEB_DIST, ".vite", "manifest.json");
  // A build from before `build.manifest` was switched on is rebuilt (the config is no source file).
  if (!existsSync(path)) rmSync(join(WEB_DIST, "index.html"), { force: true });
  await ensureWebBuilt();
  expect(existsSync(path), `${path} (build.manifest in web/vite.config.ts)`).toBe(true);
  manifest = JSON.parse(readFileSync(path, "utf8")) as Manifest;
}, 180_000);

/** The chunk ids loaded when `id` loads: itself and its static imports, transitively. */
function staticClosure(id: string, seen = new Set<string>()): Set<string> {
  if (seen.has(id)) return seen;
  seen.add(id);
  for (const dep of manifest[id]?.imports ?? []) staticClosure(dep, seen);
  return seen;
}

function gzipSize(file: string): number {
  return gzipSync(readFileSync(join(WEB_DIST, file)), { level: 9 }).length;
}

describe("the wallet's first load", () => {
  it("is under 200 KB of gzipped JavaScript", () => {
    const entry = Object.entries(manifest).find(([, c]) => c.isEntry)?.[0];
    const wallet = Object.keys(manifest).find((id) => id.endsWith("src/wallet/index.tsx"));
    expect(entry, "the entry chunk").toBeDefined();
    expect(wallet, "the wallet chunk").toBeDefined();
    const chunks = new Set([...staticClosure(entry ?? ""), ...staticClosure(wallet ?? "")]);
    // The messages the wallet shows first: the common and wallet areas, in the largest language.
    for (const area of ["common", "wallet"]) {
      const candidates = Object.keys(manifest).filter((id) => id.includes(`i18n/messages/${area}/`));
      expect(candidates.length, `${area} messages`).toBeGreaterThan(0);
      const largest = candidates.sort(
        (a, b) => gzipSize(manifest[b]?.file ?? "") - gzipSize(manifest[a]?.file ?? ""),
      )[0];
      if (largest) for (const id of staticClosure(largest)) chunks.add(id);
    }
    const files = [...chunks].map((id) => manifest[id]?.file ?? "").filter((f) => f.endsWith(".js"));
    const sizes = files.map((file) => ({ file, bytes: gzipSize(file) }));
    const total = sizes.reduce((sum, s) => sum + s.bytes, 0);
    // Never a chunk of the dashboard or the counter.
    expect(files.filter((f) => /dashboard|counter/.test(f))).toEqual([]);
    console.log(
      `wallet first load: ${(total / 1024).toFixed(1)} KB gzipped JavaScript in ${files.length} files\n${sizes
        .sort((a, b) => b.bytes - a.bytes)
        .map((s) => `  ${s.file}: ${(s.bytes / 1024).toFixed(1)} KB`)
        .join("\n")}`,
    );
    expect(total).toBeLessThan(BUDGET_BYTES);
  });
});
