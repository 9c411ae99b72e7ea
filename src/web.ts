import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The web app's sources and the directory its build is served from. */
export const WEB_ROOT = fileURLToPath(new URL("../web", import.meta.url));
/** Where the build goes: `web/dist`, or WEB_DIST_DIR (so two test runs can build side by side). */
export const WEB_DIST = process.env.WEB_DIST_DIR ?? join(WEB_ROOT, "dist");

function newestMtime(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const name of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, name)));
  return newest;
}

/** True when `web/dist` is missing or older than a source file of the web app. */
export function webBuildIsStale(): boolean {
  const index = join(WEB_DIST, "index.html");
  if (!existsSync(index)) return true;
  const built = statSync(index).mtimeMs;
  const sources = [
    join(WEB_ROOT, "src"),
    join(WEB_ROOT, "public"),
    join(WEB_ROOT, "index.html"),
    join(WEB_ROOT, "vite.config.ts"),
  ];
  return sources.some((path) => existsSync(path) && newestMtime(path) > built);
}

/**
 * Builds the web app with Vite when its build is missing or stale, so `npm start` on a fresh
 * clone serves the current app without a separate build step. Takes a few seconds when it builds.
 *
 * @example await ensureWebBuilt((line) => console.log(line))
 */
export async function ensureWebBuilt(log: (line: string) => void = () => {}): Promise<boolean> {
  if (!webBuildIsStale()) return false;
  log("Building the web app (once, after a change to web/)…");
  const { build } = await import("vite");
  // Always React's production build, also when a test runner has set NODE_ENV=test: Vite follows
  // NODE_ENV, and a development build is larger, slower and runs every effect twice.
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = "production";
  try {
    await build({
      configFile: join(WEB_ROOT, "vite.config.ts"),
      mode: "production",
      logLevel: "warn",
      build: { outDir: WEB_DIST, emptyOutDir: true },
    });
  } finally {
    if (nodeEnv === undefined) delete process.env.NODE_ENV;
    else process.env.NODE_ENV = nodeEnv;
  }
  return true;
}
