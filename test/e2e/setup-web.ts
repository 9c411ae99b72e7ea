import { existsSync } from "node:fs";
import { ensureWebBuilt } from "../../src/web.ts";
import { CHROMIUM } from "./browser.ts";

/** Before the browser tests: Chromium must be installed, and the web app built from its sources. */
export default async function setup(): Promise<void> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `The browser tests need Chromium at ${CHROMIUM}. Install it with: apt-get install -y chromium (as root; .ci/run does this).`,
    );
  }
  await ensureWebBuilt((line) => process.stdout.write(`${line}\n`));
}
