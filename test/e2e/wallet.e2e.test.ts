import { randomBytes } from "node:crypto";
import { encode } from "uqr";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatFrom } from "../../web/src/i18n/format.ts";
import {
  callApi,
  type E2E,
  expectAccessible,
  expectNoMissingTranslations,
  signUpShop,
  startE2E,
  type WatchedPage,
} from "./browser.ts";

/**
 * A customer on a phone: joins a café's program, sees the card with its QR code, collects stamps
 * at the counter (recorded through the API), redeems the free coffee and shows the voucher, and
 * still sees the card offline. In four languages, accessible.
 */

let e2e: E2E;
let slug: string;
let token: string;
let reward: string;

async function call<T = any>(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
) {
  const res = await fetch(`${e2e.baseUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
      ...headers,
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const json = (await res.json().catch(() => undefined)) as T;
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/** The QR code's modules as drawn on the page (the SVG's path), compared with the code's own. */
async function expectQrOf(watched: WatchedPage, name: RegExp, content: string): Promise<void> {
  const svg = watched.page.getByRole("img", { name });
  const d = await svg.locator("path").getAttribute("d");
  const size = Number((await svg.getAttribute("viewBox"))?.split(" ")[2]);
  const drawn = Array.from({ length: size }, () => Array.from({ length: size }, () => false));
  for (const m of (d ?? "").matchAll(/M(\d+) (\d+)h1v1h-1z/g)) {
    const row = drawn[Number(m[2])];
    if (row) row[Number(m[1])] = true;
  }
  expect(drawn).toEqual(encode(content, { ecc: "M", border: 4 }).data);
}

beforeAll(async () => {
  e2e = await startE2E();
  slug = `cafe-${randomBytes(4).toString("hex")}`;
  const signup = await fetch(`${e2e.baseUrl}/v1/businesses`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      slug,
      name: "Café Aurora",
      currency: "EUR",
      timezone: "Europe/Amsterdam",
      locale: "en",
      owner: { email: `owner@${slug}.test`, name: "Olga", password: "correct horse battery" },
      session: "token",
    }),
  });
  token = ((await signup.json()) as { token: string }).token;
  const card = await call<{ id: string }>("POST", "/v1/stamp-cards", {
    name: "Coffee card",
    stamps_required: 10,
    earn_on: "visit",
  });
  reward = (
    await call<{ id: string }>("POST", "/v1/rewards", {
      name: "Free coffee",
      type: "free_product",
      value: { product_name: "Coffee" },
      stamp_card_id: card.id,
    })
  ).id;
  await call("POST", "/v1/program/publish");
});
afterAll(async () => e2e?.close());

async function purchases(memberId: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    await call("POST", "/v1/purchases", {
      external_id: `${memberId}-${i}-${randomBytes(3).toString("hex")}`,
      member_id: memberId,
      amount_minor: 350,
      currency: "EUR",
    });
  }
}

describe("the customer wallet", () => {
  it("joins, collects stamps, redeems a reward and shows the card offline", async () => {
    const watched = await e2e.newPage({ phone: true });
    const { page, context } = watched;
    await page.goto(`/join/${slug}`);
    await expect.poll(() => page.getByRole("heading", { name: "Join Café Aurora" }).count()).toBe(1);
    expect(await page.getByText("Collect 10 stamps for Free coffee").count()).toBe(1);

    // Consent must be an explicit choice: the form says so and sends nothing.
    await page.getByLabel("Your name").fill("Ana Souza");
    await page.getByLabel("Email address").fill("ana@example.com");
    await page.getByRole("button", { name: "Join and get my card" }).click();
    await expect.poll(() => page.getByText("Choose yes or no.").count()).toBe(1);
    expect(page.url()).toContain(`/join/${slug}`);
    await page.getByRole("radio", { name: "No, thanks" }).check();
    await page.getByRole("button", { name: "Join and get my card" }).click();

    await expect.poll(() => new URL(page.url()).pathname).toBe(`/card/${slug}`);
    await expect.poll(() => page.getByRole("heading", { name: "Hello, Ana Souza" }).count()).toBe(1);
    const member = await call<{ id: string; code: string; marketing_consent: boolean }>(
      "GET",
      "/v1/members/lookup?email=ana@example.com",
    );
    expect(member.marketing_consent).toBe(false);
    await expectQrOf(watched, /QR code of your member code/, member.code);
    expect(await page.locator(".wallet-member .wallet-code").textContent()).toContain(member.code);
    expect(await page.getByRole("img", { name: "0 of 10 stamps" }).count()).toBe(1);
    const stamps = page.getByRole("region", { name: "Coffee card" });
    expect(await stamps.getByText("10 more stamps to go", { exact: true }).count()).toBe(1);
    const rewards = page.getByRole("region", { name: "Rewards" });
    expect(await rewards.getByText("10 more stamps to go").count()).toBe(1);
    // The personal card link is shown, and it opens the card.
    const link = await page.locator(".wallet-link a").getAttribute("href");
    expect(link).toMatch(new RegExp(`/card/${slug}#t=rm_`));

    await purchases(member.id, 9);
    await page.reload();
    await expect.poll(() => page.getByRole("img", { name: "9 of 10 stamps" }).count()).toBe(1);
    expect(await stamps.getByText("1 more stamp to go", { exact: true }).count()).toBe(1);
    expect(await page.getByRole("button", { name: "Redeem Free coffee" }).count()).toBe(0);

    await purchases(member.id, 1);
    await page.reload();
    await expect.poll(() => page.getByRole("img", { name: "10 of 10 stamps" }).count()).toBe(1);
    await page.getByRole("button", { name: "Redeem Free coffee" }).click();
    await expect.poll(() => page.getByRole("dialog", { name: "Redeem Free coffee?" }).count()).toBe(1);
    await page.getByRole("button", { name: "Yes, redeem" }).click();
    await expect.poll(() => page.getByRole("dialog", { name: "Free coffee", exact: true }).count()).toBe(1);
    const vouchers = await call<{ data: { code: string; reward: { id: string } }[] }>(
      "GET",
      `/v1/members/${member.id}/vouchers`,
    );
    expect(vouchers.data).toHaveLength(1);
    const code = vouchers.data[0]?.code ?? "";
    expect(vouchers.data[0]?.reward.id).toBe(reward);
    expect(await page.getByRole("dialog").locator(".wallet-code").textContent()).toContain(code);
    await expectQrOf(watched, /QR code of voucher/, code);
    await expectAccessible(page, "voucher dialog");
    await page.getByRole("button", { name: "Close" }).click();
    await expect.poll(() => page.getByRole("img", { name: "0 of 10 stamps" }).count()).toBe(1);
    expect(await page.getByRole("heading", { name: "Your vouchers" }).count()).toBe(1);
    expect(watched.errors).toEqual([]);

    // The manifest makes the card installable.
    const href = await page.locator('link[rel="manifest"]').getAttribute("href");
    const manifest = (await (await fetch(`${e2e.baseUrl}${href}`)).json()) as {
      name: string;
      start_url: string;
      scope: string;
      display: string;
      icons: { src: string; sizes: string }[];
    };
    expect(manifest).toMatchObject({
      name: "Café Aurora",
      start_url: `/card/${slug}`,
      scope: `/card/${slug}`,
      display: "standalone",
    });
    expect(manifest.icons.map((i) => i.sizes)).toEqual(expect.arrayContaining(["192x192", "512x512"]));
    for (const icon of manifest.icons) expect((await fetch(`${e2e.baseUrl}${icon.src}`)).status).toBe(200);

    // Offline: the service worker answers with the app and the last card.
    await expect
      .poll(() => page.evaluate(() => navigator.serviceWorker.ready.then(() => true)), { timeout: 15_000 })
      .toBe(true);
    await page.reload();
    await expect.poll(() => page.getByRole("img", { name: "0 of 10 stamps" }).count()).toBe(1);
    await expect
      .poll(
        () =>
          page.evaluate(async () => {
            const cards = await (await caches.open("regulars-wallet-cards-v1")).keys();
            const assets = await (await caches.open("regulars-wallet-assets-v1")).keys();
            return cards.length > 0 && assets.length > 0 && navigator.serviceWorker.controller !== null;
          }),
        { timeout: 15_000 },
      )
      .toBe(true);
    await context.setOffline(true);
    await page.reload();
    await expect
      .poll(() => page.getByText(/You are offline — last updated/).count(), { timeout: 15_000 })
      .toBe(1);
    await expectQrOf(watched, /QR code of your member code/, member.code);
    await context.setOffline(false);
  });

  it("opens a card from its personal link, and answers a replaced link clearly", async () => {
    const joined = await call<{ card_token: string; member_code: string }>(
      "POST",
      `/v1/public/businesses/${slug}/members`,
      { name: "Piotr", phone: "+48 600 100 200", marketing_consent: true, locale: "pl" },
    );
    const watched = await e2e.newPage({ phone: true });
    const { page } = watched;
    await page.goto(`/card/${slug}#t=${joined.card_token}`);
    // The member's language (Polish) is used on their card, and the secret leaves the address bar.
    await expect.poll(() => page.getByRole("heading", { name: "Cześć, Piotr" }).count()).toBe(1);
    expect(page.url()).not.toContain("#t=");
    const stamps = page.getByRole("region", { name: "Coffee card" });
    expect(await stamps.getByText("Jeszcze 10 pieczątek", { exact: true }).count()).toBe(1);
    const member = await call<{ id: string }>("GET", `/v1/members/lookup?code=${joined.member_code}`);
    await call("POST", `/v1/members/${member.id}/card-link`);
    await page.reload();
    // The card this phone kept was Piotr's, in Polish: the page goes on speaking it.
    await expect
      .poll(() => page.getByRole("heading", { name: "Ten link do karty już nie działa" }).count())
      .toBe(1);
    expect(await page.getByRole("link", { name: "Dołącz do programu" }).getAttribute("href")).toBe(
      `/join/${slug}`,
    );
    await expectAccessible(page, "replaced card link");
  });

  const slow = { timeout: 15_000 };

  it("shows the card the phone keeps at once, and when the server answers badly or not at all", async () => {
    const joined = await call<{ card_token: string; member_code: string }>(
      "POST",
      `/v1/public/businesses/${slug}/members`,
      { name: "Lena", email: "lena@example.test", marketing_consent: false, locale: "en" },
    );
    const watched = await e2e.newPage({ phone: true, blockServiceWorkers: true });
    const { page } = watched;
    await page.goto(`/card/${slug}#t=${joined.card_token}`);
    await expect.poll(() => page.getByRole("heading", { name: "Hello, Lena" }).count(), slow).toBe(1);

    // A proxy answering 502 while the server restarts: the kept card, marked offline.
    await page.route("**/v1/wallet/card*", (route) => route.fulfill({ status: 502, body: "Bad Gateway" }));
    await page.reload();
    await expect.poll(() => page.getByText(/You are offline — last updated/).count(), slow).toBe(1);
    await expectQrOf(watched, /QR code of your member code/, joined.member_code);

    // A connection that carries nothing: the kept card shows at once while it is read, then offline.
    await page.unroute("**/v1/wallet/card*");
    await page.route("**/v1/wallet/card*", () => {});
    await page.reload();
    // Shown while the card is still being read (the request never answers).
    await expect.poll(() => page.getByText(/Updating… \(this copy:/).count(), slow).toBe(1);
    expect(await page.getByRole("heading", { name: "Hello, Lena" }).count()).toBe(1);
    // Meanwhile the card works with its token: the card link holds it, and a change sends it.
    await page.getByText("Your personal card link").click();
    expect(await page.locator(".wallet-link a").getAttribute("href")).toMatch(
      new RegExp(`/card/${slug}#t=${joined.card_token}$`),
    );
    const consent = page.waitForRequest((r) => r.method() === "PATCH" && r.url().endsWith("/v1/wallet/me"));
    await page.getByRole("checkbox", { name: /Send me news and offers/ }).click();
    expect((await consent).headers().authorization).toBe(`Bearer ${joined.card_token}`);
    expect(await page.getByText(/Updating… \(this copy:/).count()).toBe(1);
    await expect.poll(() => page.getByText(/You are offline — last updated/).count(), slow).toBe(1);
    await page.unroute("**/v1/wallet/card*");

    // Another member's link opened on this phone while the server fails: never Lena's kept card.
    const bart = await call<{ card_token: string }>("POST", `/v1/public/businesses/${slug}/members`, {
      name: "Bart",
      email: "bart@example.test",
      marketing_consent: false,
      locale: "en",
    });
    await page.route("**/v1/wallet/card*", (route) => route.fulfill({ status: 502, body: "Bad Gateway" }));
    await page.goto("about:blank");
    await page.goto(`/card/${slug}#t=${bart.card_token}`);
    await expect.poll(() => page.getByRole("alert").count(), slow).toBe(1);
    expect(await page.getByRole("heading", { name: "Hello, Lena" }).count()).toBe(0);
    expect(await page.getByText(/You are offline/).count()).toBe(0);
    await page.unroute("**/v1/wallet/card*");
    await page.reload();
    // Lena's card still works: Bart's replaces it only when the customer says so.
    await expect
      .poll(() => page.getByRole("heading", { name: "Replace the card on this phone?" }).count(), slow)
      .toBe(1);
    await page.getByRole("button", { name: "Use the card from the link" }).click();
    await expect.poll(() => page.getByRole("heading", { name: "Hello, Bart" }).count(), slow).toBe(1);
  });

  it("keeps the card on the phone when a card link does not work, and asks before another member's replaces it", async () => {
    const join = (name: string) =>
      call<{ card_token: string; member_code: string }>("POST", `/v1/public/businesses/${slug}/members`, {
        name,
        email: `${name.toLowerCase()}-${randomBytes(3).toString("hex")}@example.test`,
        marketing_consent: false,
        locale: "en",
      });
    const ana = await join("Ana");
    const bea = await join("Bea");
    const watched = await e2e.newPage({ phone: true, blockServiceWorkers: true });
    const { page } = watched;
    const stored = () => page.evaluate((key) => localStorage.getItem(key), `regulars.card.${slug}`);
    const open = async (token: string) => {
      await page.goto("about:blank");
      await page.goto(`/card/${slug}#t=${token}`);
    };
    await open(ana.card_token);
    await expect.poll(() => page.getByRole("heading", { name: "Hello, Ana" }).count(), slow).toBe(1);

    // A made-up (or old) link: refused, and Ana's card stays.
    await open("rm_bogus_bogus");
    await expect
      .poll(() => page.getByRole("alert").textContent(), slow)
      .toBe("The link you opened does not work (any more). The card on this phone is unchanged.");
    expect(await page.getByRole("heading", { name: "Hello, Ana" }).count()).toBe(1);
    expect(await stored()).toBe(ana.card_token);
    expect(page.url()).not.toContain("#t=");
    await page.reload();
    await expect.poll(() => page.getByRole("heading", { name: "Hello, Ana" }).count(), slow).toBe(1);
    expect(await page.getByRole("alert").count()).toBe(0);

    // Another member's valid link: asked, naming both cards; keeping comes first.
    await open(bea.card_token);
    const question = page.getByRole("heading", { name: "Replace the card on this phone?" });
    await expect.poll(() => question.count(), slow).toBe(1);
    expect(await page.getByText(`This phone holds the card of Ana (${ana.member_code}).`).count()).toBe(1);
    expect(await page.getByText(`The link you opened is the card of Bea (${bea.member_code}).`).count()).toBe(
      1,
    );
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe(
      "Keep the card on this phone",
    );
    expect(await stored()).toBe(ana.card_token);
    await expectAccessible(page, "another member's card link");
    await page.getByRole("button", { name: "Keep the card on this phone" }).click();
    await expect.poll(() => page.getByRole("heading", { name: "Hello, Ana" }).count(), slow).toBe(1);
    expect(await stored()).toBe(ana.card_token);
    await page.reload();
    await expect.poll(() => page.getByRole("heading", { name: "Hello, Ana" }).count(), slow).toBe(1);

    await open(bea.card_token);
    await expect.poll(() => question.count(), slow).toBe(1);
    await page.getByRole("button", { name: "Use the card from the link" }).click();
    await expect.poll(() => page.getByRole("heading", { name: "Hello, Bea" }).count(), slow).toBe(1);
    expect(await stored()).toBe(bea.card_token);
    await expect
      .poll(() => page.locator(".wallet-link a").getAttribute("href"))
      .toMatch(new RegExp(`#t=${bea.card_token}$`));

    // The stored card's link was replaced at the counter: the new link is taken without a question.
    const beaMember = await call<{ id: string }>("GET", `/v1/members/lookup?code=${bea.member_code}`);
    const renewed = await call<{ card_token: string }>("POST", `/v1/members/${beaMember.id}/card-link`);
    await open(renewed.card_token);
    await expect.poll(() => page.getByRole("heading", { name: "Hello, Bea" }).count(), slow).toBe(1);
    expect(await question.count()).toBe(0);
    expect(await stored()).toBe(renewed.card_token);
    expect(watched.errors.filter((e) => !/status of 401/.test(e))).toEqual([]);
  });

  it("names the tier a reward is for, and says when the most of a reward was had", async () => {
    const shop = await signUpShop(e2e.baseUrl, {
      prefix: "tiers",
      name: "Boutique Bel",
      password: "correct horse battery",
    });
    const as = <T = any>(method: string, path: string, body?: unknown) =>
      callApi<T>(e2e.baseUrl, method, path, body, shop.token);
    const bronze = await as<{ id: string }>("POST", "/v1/tiers", { name: "Bronze", rank: 1, threshold: 0 });
    await as("POST", "/v1/tiers", { name: "Gold", rank: 2, threshold: 1000 });
    await as("POST", "/v1/rewards", {
      name: "Starter gift",
      type: "perk",
      value: { perk: "priority_service" },
      cost_points: 1,
      eligible_tier_ids: [bronze.id],
    });
    await as("POST", "/v1/rewards", {
      name: "Tote bag",
      type: "perk",
      value: { perk: "priority_service" },
      cost_points: 1,
      per_member_limit: 1,
    });
    await as("POST", "/v1/program/publish", {});
    const joined = await callApi<{ card_token: string; member_code: string }>(
      e2e.baseUrl,
      "POST",
      `/v1/public/businesses/${shop.slug}/members`,
      { name: "Vera", email: "vera@example.test", marketing_consent: false, locale: "en" },
    );
    const member = await as<{ id: string }>("GET", `/v1/members/lookup?code=${joined.member_code}`);
    // Vera spends into Gold: the Bronze gift is not for her.
    await as("POST", "/v1/purchases", {
      external_id: "vera-1",
      member_id: member.id,
      amount_minor: 2000,
      currency: "EUR",
    });
    const bag = (await as<{ data: { id: string; name: string }[] }>("GET", "/v1/rewards")).data.find(
      (r) => r.name === "Tote bag",
    );
    const voucher = await as<{ voucher: { code: string } }>("POST", `/v1/members/${member.id}/redemptions`, {
      reward_id: bag?.id,
    });
    await as("POST", `/v1/vouchers/${voucher.voucher.code}/redeem`, {});
    const watched = await e2e.newPage({ phone: true });
    const { page } = watched;
    await page.goto(`/card/${shop.slug}#t=${joined.card_token}`);
    await expect.poll(() => page.getByText("for Bronze members").count(), slow).toBe(1);
    expect(await page.getByText("for a higher level").count()).toBe(0);
    expect(await page.getByText("you have had the most of this one").count()).toBe(1);
  });

  it("still shows the member's points after points were switched off, while they pay for a reward", async () => {
    const shop = await signUpShop(e2e.baseUrl, {
      prefix: "mugs",
      name: "Mug Shop",
      password: "correct horse battery",
    });
    const as = <T = any>(method: string, path: string, body?: unknown) =>
      callApi<T>(e2e.baseUrl, method, path, body, shop.token);
    await as("POST", "/v1/rewards", {
      name: "Mug",
      type: "perk",
      value: { perk: "priority_service" },
      cost_points: 5,
    });
    await as("POST", "/v1/program/publish", {});
    const joinShop = (name: string) =>
      callApi<{ card_token: string; member_code: string }>(
        e2e.baseUrl,
        "POST",
        `/v1/public/businesses/${shop.slug}/members`,
        { name, email: `${name.toLowerCase()}@example.test`, marketing_consent: false, locale: "en" },
      );
    const rosa = await joinShop("Rosa");
    const tom = await joinShop("Tom");
    const member = await as<{ id: string }>("GET", `/v1/members/lookup?code=${rosa.member_code}`);
    await as("POST", "/v1/purchases", {
      external_id: "rosa-1",
      member_id: member.id,
      amount_minor: 1000,
      currency: "EUR",
    });
    const program = await as<{ config: { points: Record<string, unknown> } }>("GET", "/v1/program");
    await as("PUT", "/v1/program", {
      ...program.config,
      points: { ...program.config.points, enabled: false },
    });
    const card = await callApi<{
      business: { program: { points: unknown } };
      card: { points: { available: number } };
    }>(e2e.baseUrl, "GET", "/v1/wallet/card", undefined, rosa.card_token);
    expect(card.business.program.points).toBeNull();
    expect(card.card.points.available).toBeGreaterThanOrEqual(5);

    const watched = await e2e.newPage({ phone: true });
    const { page } = watched;
    await page.goto(`/card/${shop.slug}#t=${rosa.card_token}`);
    await expect.poll(() => page.getByRole("heading", { name: "Hello, Rosa" }).count(), slow).toBe(1);
    const points = page.getByRole("region", { name: "Points" });
    expect(await points.getByText(`${card.card.points.available} points`, { exact: true }).count()).toBe(1);
    expect(await points.getByText("Enough for: Mug").count()).toBe(1);
    // No more earning: the program's earning line is gone.
    expect(await points.getByText(/for every/).count()).toBe(0);
    expect(await page.getByRole("button", { name: "Redeem Mug" }).count()).toBe(1);
    await expectAccessible(page, "points kept after points were switched off");

    // No points held: nothing to show.
    const other = await e2e.newPage({ phone: true });
    await other.page.goto(`/card/${shop.slug}#t=${tom.card_token}`);
    await expect.poll(() => other.page.getByRole("heading", { name: "Hello, Tom" }).count(), slow).toBe(1);
    expect(await other.page.getByRole("region", { name: "Points" }).count()).toBe(0);
    expect(watched.errors.concat(other.errors)).toEqual([]);
  });

  it("says when pending points can be spent, and shows an archived card's stamps — on the card, the member page and the counter", async () => {
    const password = "correct horse battery";
    const shop = await signUpShop(e2e.baseUrl, { prefix: "juice", name: "Juice Bar", password });
    const as = <T = any>(method: string, path: string, body?: unknown) =>
      callApi<T>(e2e.baseUrl, method, path, body, shop.token);
    const program = await as<{ config: { points: Record<string, unknown> } }>("GET", "/v1/program");
    await as("PUT", "/v1/program", {
      ...program.config,
      points: { ...program.config.points, pending_days: 14 },
    });
    const juice = await as<{ id: string }>("POST", "/v1/stamp-cards", {
      name: "Juice card",
      stamps_required: 10,
      earn_on: "visit",
    });
    const tea = await as<{ id: string }>("POST", "/v1/stamp-cards", {
      name: "Tea card",
      stamps_required: 2,
      earn_on: "visit",
    });
    for (const [name, card] of [
      ["Free juice", juice],
      ["Free tea", tea],
    ] as const) {
      await as("POST", "/v1/rewards", {
        name,
        type: "free_product",
        value: { product_name: name },
        stamp_card_id: card.id,
      });
    }
    await as("POST", "/v1/program/publish", {});
    const joined = await callApi<{ card_token: string; member_code: string }>(
      e2e.baseUrl,
      "POST",
      `/v1/public/businesses/${shop.slug}/members`,
      { name: "Mia", email: "mia@example.test", marketing_consent: false, locale: "en" },
    );
    const member = await as<{ id: string }>("GET", `/v1/members/lookup?code=${joined.member_code}`);
    // Two visits an hour apart: 3 and 5 points, pending 14 days from each; a stamp on each card.
    for (const [i, amount] of [350, 500].entries()) {
      await as("POST", "/v1/purchases", {
        external_id: `mia-${i}`,
        member_id: member.id,
        amount_minor: amount,
        currency: "EUR",
        occurred_at: new Date(Date.now() - (2 - i) * 3_600_000).toISOString(),
      });
    }
    await as("DELETE", `/v1/stamp-cards/${juice.id}`);
    await as("DELETE", `/v1/stamp-cards/${tea.id}`);
    const summary = await as<{ points: { pending_until: { available_at: string; points: number }[] } }>(
      "GET",
      `/v1/members/${member.id}/card`,
    );
    expect(summary.points.pending_until.map((p) => p.points)).toEqual([3, 5]);
    // As the screens say them: the release's date, with its time (not the start of a day).
    const [first = "", second = ""] = summary.points.pending_until.map(
      (p) => formatFrom(p.available_at, "en", "Europe/Amsterdam").date,
    );
    const words = (text: string | null) => (text ?? "").replace(/\s+/g, " ");

    // The customer's card.
    const wallet = await e2e.newPage({ phone: true });
    await wallet.page.goto(`/card/${shop.slug}#t=${joined.card_token}`);
    await expect.poll(() => wallet.page.getByRole("heading", { name: "Hello, Mia" }).count(), slow).toBe(1);
    const points = wallet.page.getByRole("region", { name: "Points" });
    const pointsText = words(await points.textContent());
    expect(pointsText).toContain("8 points are on the way:");
    expect(pointsText).toContain(words(`3 points from ${first}`));
    expect(pointsText).toContain(words(`5 points from ${second}`));
    const juiceCard = wallet.page.getByRole("region", { name: "Juice card" });
    expect(
      await juiceCard
        .getByText("No longer collecting stamps — your 2 stamps still count toward the reward")
        .count(),
    ).toBe(1);
    expect(await juiceCard.getByText(/more stamps? to go/).count()).toBe(0);
    // A full archived card: its reward is ready as on any card.
    const teaCard = wallet.page.getByRole("region", { name: "Tea card" });
    expect(await teaCard.getByText("Your card is full: redeem your reward!").count()).toBe(1);
    expect(await teaCard.getByText("This card no longer collects new stamps.").count()).toBe(1);
    const rewards = wallet.page.getByRole("region", { name: "Rewards" });
    expect(await rewards.getByText("this card no longer collects stamps").count()).toBe(1);
    expect(await rewards.getByText(/more stamps? to go/).count()).toBe(0);
    expect(await wallet.page.getByRole("button", { name: "Redeem Free tea" }).count()).toBe(1);
    await expectAccessible(wallet.page, "card with pending points and archived cards");
    for (const locale of ["nl", "pl", "pt-BR"]) {
      await wallet.page.getByLabel(/^(Language|Taal|Język|Idioma)$/).selectOption(locale);
      await expect.poll(() => wallet.page.getAttribute("html", "lang")).toBe(locale);
      await expectNoMissingTranslations(wallet, `archived cards in ${locale}`);
    }
    expect(wallet.errors).toEqual([]);

    // The member page: release dates, the archived cards, and a correction on one of them.
    const staff = await e2e.newPage();
    const login = await staff.page.request.post("/v1/auth/login", {
      data: { business: shop.slug, email: shop.email, password, session: "cookie" },
    });
    expect(login.status()).toBe(200);
    await staff.page.goto(`/app/members/${member.id}`);
    await expect.poll(() => staff.page.getByRole("heading", { level: 1, name: "Mia" }).count(), slow).toBe(1);
    const balances = staff.page.getByRole("region", { name: "Balances" });
    await expect.poll(() => balances.getByText("8 points pending").count(), slow).toBe(1);
    const balancesText = words(await balances.textContent());
    expect(balancesText).toContain(words(`3 points spendable from ${first}`));
    expect(balancesText).toContain(words(`5 points spendable from ${second}`));
    expect(await balances.getByRole("heading", { name: "Juice card Archived" }).count()).toBe(1);
    expect(
      await balances
        .getByText("Collects no more stamps; the member's 2 stamps still count toward its reward.")
        .count(),
    ).toBe(1);
    expect(await balances.getByText(/more stamps? to the reward/).count()).toBe(0);
    await staff.page.getByLabel("What to correct").selectOption({ label: "Stamps on Juice card (archived)" });
    await staff.page.getByLabel("Change", { exact: true }).fill("2");
    await staff.page.getByLabel("Reason").fill("Stamps missed before the card closed");
    await staff.page.getByRole("button", { name: "Apply correction" }).click();
    await expect.poll(() => balances.getByRole("list", { name: "4 of 10 stamps" }).count(), slow).toBe(1);
    await expectAccessible(staff.page, "member page with archived cards");

    // The counter: the same, briefly, and again after a sale.
    await staff.page.goto("/counter");
    await staff.page.getByLabel("Card code, voucher code, phone or email").fill(joined.member_code);
    await staff.page.getByRole("button", { name: "Find", exact: true }).click();
    await expect.poll(() => staff.page.getByRole("heading", { name: "Mia" }).count(), slow).toBe(1);
    const facts = staff.page.locator(".counter-facts");
    await expect
      .poll(async () => words(await facts.textContent()), slow)
      .toContain(words(`+8 points pending: 3 until ${first}, the rest later`));
    expect(await facts.getByText("Archived: no new stamps").count()).toBe(2);
    await staff.page.getByLabel(/Amount paid/).fill("2.00");
    await staff.page.getByRole("button", { name: "Record", exact: true }).click();
    const result = staff.page.getByTestId("counter-result");
    await expect.poll(() => result.count(), slow).toBe(1);
    const after = await as<{ points: { pending_until: { available_at: string }[] } }>(
      "GET",
      `/v1/members/${member.id}/card`,
    );
    const third = formatFrom(after.points.pending_until[2]?.available_at ?? "", "en", "Europe/Amsterdam");
    expect(third.time).toBe(true);
    expect(words(await result.textContent())).toContain(words(`+2 points, usable from ${third.date}`));
    await expect
      .poll(async () => words(await facts.textContent()), slow)
      .toContain(words(`+10 points pending: 3 until ${first}, the rest later`));
    // Archived cards earn nothing: the stamps stay where they were.
    expect(await facts.getByText("4 of 10 stamps").count()).toBe(1);
    await expectAccessible(staff.page, "counter with archived cards");
    expect(staff.errors).toEqual([]);
  });

  it("takes a phone number as dialled in the café's country, and says what to write when it is not one", async () => {
    const watched = await e2e.newPage({ phone: true });
    const { page } = watched;
    await page.goto(`/join/${slug}`);
    await expect.poll(() => page.getByRole("heading", { name: "Join Café Aurora" }).count()).toBe(1);
    // Café Aurora is in Amsterdam: a Dutch number, or one from abroad with its country code.
    expect(await page.getByText("E.g. 06 12345678; from abroad with + and the country code").count()).toBe(1);
    await page.getByLabel("Your name").fill("Daan");
    await page.getByLabel("Phone number").fill("12345");
    await page.getByRole("radio", { name: "No, thanks" }).check();
    await page.getByRole("button", { name: "Join and get my card" }).click();
    const refused = "Enter a number like 06 12345678, or one from abroad with + and the country code.";
    await expect.poll(() => page.getByText(refused).count()).toBe(1);
    expect(await page.getByLabel("Phone number").getAttribute("aria-invalid")).toBe("true");

    await page.getByLabel("Phone number").fill("06 2345 6789");
    await page.getByRole("button", { name: "Join and get my card" }).click();
    await expect.poll(() => page.getByRole("heading", { name: "Hello, Daan" }).count()).toBe(1);
    const member = await call<{ name: string; phone: string }>(
      "GET",
      `/v1/members/lookup?phone=${encodeURIComponent("06-23456789")}`,
    );
    expect(member).toMatchObject({ name: "Daan", phone: "+31623456789" });
    // The refused number is the failed request the browser logs.
    expect(watched.errors.filter((e) => !/status of 400/.test(e))).toEqual([]);
  });

  it("announces the join form's errors and moves to the first one", async () => {
    const watched = await e2e.newPage({ phone: true });
    const { page } = watched;
    await page.goto(`/join/${slug}`);
    await expect.poll(() => page.getByRole("heading", { name: "Join Café Aurora" }).count()).toBe(1);
    const submit = page.getByRole("button", { name: "Join and get my card" });
    const focused = () => page.evaluate(() => document.activeElement?.getAttribute("id") ?? "");
    const idOf = async (label: string) =>
      (await page.getByLabel(label, { exact: true }).getAttribute("id")) ?? "";
    const describedBy = async (label: string) =>
      ((await page.getByLabel(label, { exact: true }).getAttribute("aria-describedby")) ?? "").split(" ");

    // Nothing filled in: the errors are announced, and focus goes to the name.
    await submit.click();
    await expect
      .poll(() => page.getByRole("alert").textContent())
      .toBe("3 answers need a change: see the messages above.");
    await expect.poll(focused).toBe(await idOf("Your name"));

    // Without an email or a phone: both fields are marked, with the hint and the error, and the email has focus.
    await page.getByLabel("Your name").fill("Noor");
    await submit.click();
    await expect
      .poll(() => page.getByRole("alert").textContent())
      .toBe("2 answers need a change: see the messages above.");
    await expect.poll(focused).toBe(await idOf("Email address"));
    for (const label of ["Email address", "Phone number"]) {
      expect(await page.getByLabel(label, { exact: true }).getAttribute("aria-invalid"), label).toBe("true");
      expect(await describedBy(label), label).toEqual(
        expect.arrayContaining(["contact-hint", "contact-error"]),
      );
    }
    expect(await page.locator("#contact-error").textContent()).toBe(
      "Enter an email address or a phone number.",
    );
    expect(await page.locator("#contact-hint").textContent()).toContain("Give your email address");

    // Only the consent question left: focus goes to its first answer.
    await page.getByLabel("Email address").fill("noor@example.test");
    await submit.click();
    await expect
      .poll(() => page.getByRole("alert").textContent())
      .toBe("1 answer needs a change: see the messages above.");
    await expect
      .poll(() => page.evaluate(() => (document.activeElement as HTMLInputElement | null)?.type))
      .toBe("radio");
    expect(
      await page
        .getByRole("radio", { name: "Yes, send me news and offers" })
        .evaluate((e) => e === document.activeElement),
    ).toBe(true);
    expect(await page.getByLabel("Email address").getAttribute("aria-invalid")).toBeNull();
    await expectAccessible(page, "join form with errors");
    expect(watched.errors).toEqual([]);
  });

  it("is accessible and fully translated in every language, on the join page and the card", async () => {
    const joined = await call<{ card_token: string }>("POST", `/v1/public/businesses/${slug}/members`, {
      name: "Lena",
      email: "lena@example.com",
      marketing_consent: false,
    });
    for (const locale of ["en", "nl", "pl", "pt-BR"]) {
      const watched = await e2e.newPage({ phone: true, locale });
      const { page } = watched;
      await page.goto(`/join/${slug}`);
      await expect.poll(() => page.locator("form button[type=submit]").count()).toBe(1);
      await page.getByLabel(/^(Language|Taal|Język|Idioma)$/).selectOption(locale);
      await expect.poll(() => page.getAttribute("html", "lang")).toBe(locale);
      // Show every message of the form: its errors too.
      await page.locator("form button[type=submit]").click();
      await expect.poll(() => page.locator("form .error").count()).toBeGreaterThan(1);
      await expectNoMissingTranslations(watched, `/join in ${locale}`);
      await expectAccessible(page, `/join in ${locale}`);

      await page.goto(`/card/${slug}#t=${joined.card_token}`);
      await expect.poll(() => page.locator(".wallet-member h1").count()).toBe(1);
      await page.getByLabel(/^(Language|Taal|Język|Idioma)$/).selectOption(locale);
      await expect.poll(() => page.getAttribute("html", "lang")).toBe(locale);
      await expectNoMissingTranslations(watched, `/card in ${locale}`);
      await expectAccessible(page, `/card in ${locale}`);
      expect(watched.errors, locale).toEqual([]);
    }
    // The member's language choice was saved.
    const lena = await call<{ locale: string }>("GET", "/v1/members/lookup?email=lena@example.com");
    expect(lena.locale).toBe("pt-BR");
  });

  it("speaks the phone's language on the join page, falling back to the business's", async () => {
    const polish = await e2e.newPage({ phone: true, locale: "pl-PL" });
    await polish.page.goto(`/join/${slug}`);
    await expect
      .poll(() => polish.page.getByRole("heading", { name: "Dołącz do Café Aurora" }).count())
      .toBe(1);
    expect(await polish.page.getAttribute("html", "lang")).toBe("pl");

    const japanese = await e2e.newPage({ phone: true, locale: "ja-JP" });
    await japanese.page.goto(`/join/${slug}`);
    await expect.poll(() => japanese.page.getByRole("heading", { name: "Join Café Aurora" }).count()).toBe(1);
    expect(polish.errors.concat(japanese.errors)).toEqual([]);
  });

  it("says so when a business has no published program", async () => {
    const watched = await e2e.newPage({ phone: true });
    await watched.page.goto("/join/no-such-cafe");
    await expect
      .poll(() => watched.page.getByRole("heading", { name: "This program is not open" }).count())
      .toBe(1);
    await expectAccessible(watched.page, "unknown join page");
  });
});
