import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import type { FastifyInstance } from "fastify";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { expect } from "vitest";
import { type AppContext, createContext } from "../../src/context.ts";
import type { Database } from "../../src/db/database.ts";
import { buildApp } from "../../src/http/app.ts";
import { systemClock } from "../../src/shared/clock.ts";
import { WEB_DIST } from "../../src/web.ts";
import { openTestDatabase } from "../helpers/db.ts";

/** Debian's Chromium, driven by playwright-core (no browser is downloaded). */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

// Without the background-networking flags Chromium keeps dialling Google's hosts, which this
// machine's closed network refuses.
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export interface E2E {
  /** e.g. http://127.0.0.1:41234 */
  baseUrl: string;
  app: FastifyInstance;
  ctx: AppContext;
  database: Database;
  browser: Browser;
  /** A new browser context (its own cookies and storage) with one page, watched for errors. */
  newPage(options?: PageOptions): Promise<WatchedPage>;
  close(): Promise<void>;
}

export interface PageOptions {
  /** A phone (390×844, touch) instead of a laptop screen. */
  phone?: boolean;
  locale?: string;
  permissions?: string[];
  /** Block service workers, so `page.route` sees every request the page makes. */
  blockServiceWorkers?: boolean;
}

export interface WatchedPage {
  page: Page;
  context: BrowserContext;
  /** Console errors, page errors and failed requests seen so far (a missing translation is one). */
  errors: string[];
}

/**
 * Starts the whole product for a browser test: a fresh database (the project's engine), the API
 * and the built web app on a free port, and Chromium.
 *
 * @example const e2e = await startE2E({ fakeVideo: "/tmp/qr.y4m" }); const { page } = await e2e.newPage()
 */
export async function startE2E(options: { fakeVideo?: string } = {}): Promise<E2E> {
  const database = await openTestDatabase();
  const ctx = createContext(database.db, systemClock, {
    signupsPerHour: 1000,
    loginsPerMinute: 1000,
    failedAuthPerMinute: 1000,
  });
  const app = await buildApp(ctx, { webDist: WEB_DIST, rateLimitPerMinute: 1_000_000 });
  await app.listen({ port: 0, host: "127.0.0.1" });
  const baseUrl = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const args = [...CHROMIUM_ARGS];
  if (options.fakeVideo) {
    args.push(
      "--use-fake-ui-for-media-stream",
      "--use-fake-device-for-media-stream",
      `--use-file-for-fake-video-capture=${options.fakeVideo}`,
    );
  }
  const browser = await chromium.launch({ executablePath: CHROMIUM, args, headless: true });
  const contexts: BrowserContext[] = [];
  return {
    baseUrl,
    app,
    ctx,
    database,
    browser,
    async newPage(pageOptions: PageOptions = {}) {
      const context = await browser.newContext({
        baseURL: baseUrl,
        locale: pageOptions.locale ?? "en-US",
        ...(pageOptions.phone
          ? { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 }
          : { viewport: { width: 1280, height: 860 } }),
        ...(pageOptions.permissions ? { permissions: pageOptions.permissions } : {}),
        ...(pageOptions.blockServiceWorkers ? { serviceWorkers: "block" as const } : {}),
      });
      contexts.push(context);
      const page = await context.newPage();
      const errors: string[] = [];
      page.on("console", (message) => {
        if (message.type() === "error") errors.push(`console: ${message.text()}`);
      });
      page.on("pageerror", (error) => errors.push(`page: ${error.message}`));
      return { page, context, errors };
    },
    async close() {
      for (const context of contexts) await context.close().catch(() => {});
      await browser.close();
      await app.close();
      await database.close();
    },
  };
}

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

/**
 * Runs axe-core on the page as it is now and fails on any serious or critical violation, naming
 * the rule and the elements.
 */
export async function expectAccessible(page: Page, label: string): Promise<void> {
  // Evaluated through the DevTools protocol: the page's content security policy (no inline
  // scripts) stays on for the app and does not block the test's own tool.
  await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const axe = (window as any).axe;
    const result = await axe.run(document, { resultTypes: ["violations"] });
    return (
      result.violations as { id: string; impact: string; help: string; nodes: { target: string[] }[] }[]
    )
      .filter((v) => v.impact === "serious" || v.impact === "critical")
      .map((v) => `${v.impact} ${v.id}: ${v.help} — ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
  });
  expect(violations, `axe on ${label}`).toEqual([]);
}

/** Fails when the page showed a missing translation (`⟦key⟧`) or logged an error. */
export async function expectNoMissingTranslations(watched: WatchedPage, label: string): Promise<void> {
  const text = await watched.page.evaluate(() => document.body.innerText);
  expect(text.match(/⟦[^⟧]+⟧/g) ?? [], `missing translations on ${label}`).toEqual([]);
  expect(
    watched.errors.filter((e) => e.includes("Missing translation")),
    `missing translations on ${label}`,
  ).toEqual([]);
}

/**
 * A call of the server's API from a test, outside the browser (to set a business up, or to check
 * what a page did): JSON in and out, a bearer token if given; throws with the answer on a non-2xx.
 *
 * @example const shop = await callApi(e2e.baseUrl, "POST", "/v1/businesses", { ... })
 */
export async function callApi<T = any>(
  baseUrl: string,
  method: string,
  path: string,
  body?: unknown,
  token?: string,
): Promise<T> {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: {
      ...(body === undefined ? {} : { "content-type": "application/json" }),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const json = response.status === 204 ? undefined : await response.json();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(json)}`);
  return json as T;
}

/**
 * Signs up a new business in Amsterdam, in euros, with a handle of its own (`<prefix>-xxxxxx`), and
 * returns its handle, its owner's email and the owner's API token.
 *
 * @example const { slug, token } = await signUpShop(e2e.baseUrl, { prefix: "corner", name: "Corner Café", password })
 */
export async function signUpShop(
  baseUrl: string,
  shop: { prefix: string; name: string; password: string; locale?: string },
): Promise<{ slug: string; email: string; token: string }> {
  const slug = `${shop.prefix}-${Math.random().toString(36).slice(2, 8)}`;
  const email = `owner@${slug}.test`;
  const { token } = await callApi<{ token: string }>(baseUrl, "POST", "/v1/businesses", {
    slug,
    name: shop.name,
    currency: "EUR",
    timezone: "Europe/Amsterdam",
    locale: shop.locale ?? "en",
    owner: { email, name: "Olga Owner", password: shop.password },
    session: "token",
  });
  return { slug, email, token };
}
