import { mkdirSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { chromium, type Page } from "playwright-core";
import { createContext } from "../src/context.ts";
import { migrateToLatest, openDatabase } from "../src/db/database.ts";
import { createDemo } from "../src/demo.ts";
import { buildApp } from "../src/http/app.ts";
import { systemClock } from "../src/shared/clock.ts";
import { ensureWebBuilt, WEB_DIST } from "../src/web.ts";

/**
 * Takes the screenshots in docs/screenshots: the demo café on an in-memory database, in Debian's
 * Chromium. Run `npm run screenshots` after changing a screen, and commit the images.
 */

const OUT = join(import.meta.dirname, "../docs/screenshots");
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

async function main(): Promise<void> {
  await ensureWebBuilt((line) => console.log(line));
  const database = await openDatabase({ memory: true });
  await migrateToLatest(database.db);
  const ctx = createContext(database.db, systemClock, { signupsPerHour: 100, loginsPerMinute: 100 });
  const demo = await createDemo(ctx);
  const app = await buildApp(ctx, { webDist: WEB_DIST });
  await app.listen({ port: 0, host: "127.0.0.1" });
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--no-first-run",
    ],
  });
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });
  const shot = async (page: Page, name: string) => {
    await page.waitForLoadState("networkidle");
    await page.evaluate(() => Promise.all(Array.from(document.images, (i) => i.decode().catch(() => {}))));
    await page.screenshot({ path: join(OUT, `${name}.png`) });
    console.log(`docs/screenshots/${name}.png`);
  };
  try {
    // The owner's dashboard, on a laptop.
    const desk = await browser.newContext({
      baseURL: base,
      viewport: { width: 1280, height: 800 },
      locale: "en-GB",
    });
    const owner = await desk.newPage();
    await owner.goto("/login");
    await owner.getByLabel("Business handle").fill(demo.slug);
    await owner.getByLabel("Email").fill(demo.ownerEmail);
    await owner.getByLabel("Password").fill(demo.password);
    await owner.getByRole("button", { name: "Log in" }).click();
    await owner.waitForURL("**/app");
    await shot(owner, "dashboard-home");
    await owner.goto("/app/program/rules");
    await shot(owner, "dashboard-rules");
    await owner.goto("/app/members");
    await owner
      .getByRole("link")
      .filter({ hasText: /\w+ \w+/ })
      .first()
      .waitFor();
    await shot(owner, "dashboard-members");
    const token = demo.cardPath?.split("#t=")[1] ?? "";
    const card = (await (
      await fetch(`${base}/v1/wallet/card`, { headers: { authorization: `Bearer ${token}` } })
    ).json()) as { member: { code: string; id?: string } };
    const lookup = (await owner.request
      .get(`/v1/members/lookup?code=${card.member.code}`)
      .then((r) => r.json())) as {
      id: string;
    };
    await owner.goto(`/app/members/${lookup.id}`);
    await shot(owner, "dashboard-member");
    await owner.goto("/app/launch-kit");
    await shot(owner, "dashboard-launch-kit");

    // A new business choosing its template.
    const fresh = await browser.newContext({
      baseURL: base,
      viewport: { width: 1280, height: 800 },
      locale: "nl-NL",
    });
    const newcomer = await fresh.newPage();
    await newcomer.goto("/signup");
    await newcomer.getByLabel("Naam van je zaak").fill("Bakkerij Zoet");
    await newcomer.getByLabel("Je naam").fill("Sanne de Vries");
    await newcomer.getByLabel("E-mailadres").fill("sanne@zoet.test");
    await newcomer.getByLabel("Wachtwoord").fill("a long enough password");
    await newcomer.getByRole("button", { name: "Maak mijn bedrijf aan" }).click();
    await newcomer.waitForURL("**/app/onboarding");
    await newcomer.getByRole("radio").first().waitFor();
    await newcomer.getByRole("radio").nth(1).check();
    await shot(newcomer, "onboarding-nl");

    // The counter on a phone.
    const phone = {
      viewport: { width: 390, height: 844 },
      isMobile: true,
      hasTouch: true,
      deviceScaleFactor: 2,
    };
    const till = await browser.newContext({ baseURL: base, ...phone, locale: "en-GB" });
    const cashier = await till.newPage();
    await cashier.goto("/counter");
    await cashier.getByLabel("Business handle").fill(demo.slug);
    await cashier.getByLabel("Email").fill(demo.cashierEmail);
    await cashier.getByLabel("Password").fill(demo.password);
    await cashier.getByRole("button", { name: "Log in" }).click();
    await cashier.getByRole("heading", { name: "Where are you working?" }).waitFor();
    await cashier.getByRole("button", { name: /Canal/ }).first().click();
    await cashier.getByLabel("Card code, voucher code, phone or email").fill(card.member.code);
    await cashier.getByRole("button", { name: "Find", exact: true }).click();
    await cashier.getByLabel(/Amount paid/).fill("4,50");
    await cashier.getByRole("button", { name: "Record", exact: true }).click();
    await cashier.getByText(/^Recorded:/).waitFor();
    await shot(cashier, "counter-purchase");

    // The customer's card, in Polish.
    const pocket = await browser.newContext({ baseURL: base, ...phone, locale: "pl-PL" });
    const customer = await pocket.newPage();
    await customer.goto(demo.cardPath ?? "/");
    await customer.locator(".wallet-code").first().waitFor();
    // Anna reads her card in Dutch, the language saved with her membership.
    await shot(customer, "wallet-card-nl");
    const joiner = await pocket.newPage();
    await joiner.goto(`/join/${demo.slug}`);
    await joiner.getByRole("heading", { level: 1 }).waitFor();
    await shot(joiner, "wallet-join-pl");
  } finally {
    await browser.close();
    await app.close();
    await database.close();
  }
}

await main();
