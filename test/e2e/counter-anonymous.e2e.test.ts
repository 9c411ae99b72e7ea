import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
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
 * Sales without a member at the counter: from the desk, for a customer who is not a member (a
 * double tap and a lost answer each count once; offline it waits in the outbox), with the
 * invitation to join after it; and for a member whose card was deleted while the counter showed
 * it, one press records the refused sale without the member, from the member's screen or (saved
 * offline for the card's code, which finds no one once the card is deleted) from the list of saved
 * purchases refused later, which it then leaves: at the refused purchase's location while that one
 * is open. Each lands in the database as a purchase with no member.
 */

const CASHIER = { email: "cashier@corner.test", password: "counter-pass-2026" };
const slow = { timeout: 15_000 };
const LANGUAGE = /Language|Taal|Język|Idioma/;

let e2e: E2E;
let shop: { slug: string; owner: string; businessId: string; cardId: string };

const call = <T = any>(method: string, path: string, body?: unknown, token?: string): Promise<T> =>
  callApi<T>(e2e.baseUrl, method, path, body, token);

beforeAll(async () => {
  e2e = await startE2E();
  const { slug, token: owner } = await signUpShop(e2e.baseUrl, {
    prefix: "corner",
    name: "Corner Café",
    password: "owner-pass-2026",
  });
  const card = await call<{ id: string }>(
    "POST",
    "/v1/stamp-cards",
    { name: "Coffee card", stamps_required: 10, earn_on: "item", item_match: { categories: ["coffee"] } },
    owner,
  );
  await call("POST", "/v1/staff", { ...CASHIER, name: "Carla Cashier", role: "cashier" }, owner);
  // Live: its join page is open, so the counter invites customers to it.
  await call("POST", "/v1/program/publish", undefined, owner);
  const me = await call<{ business: { id: string } }>("GET", "/v1/auth/me", undefined, owner);
  shop = { slug, owner, businessId: me.business.id, cardId: card.id };
});
afterAll(async () => e2e?.close());

/** The business's purchases with no member, read from the database itself, oldest first. */
async function anonymousPurchases() {
  return e2e.database.db
    .selectFrom("purchases")
    .select(["id", "external_id", "amount_minor", "items", "points_earned", "stamps_earned", "location_id"])
    .where("business_id", "=", shop.businessId)
    .where("member_id", "is", null)
    .orderBy("created_at")
    .orderBy("id")
    .execute();
}

async function purchasesOf(memberId: string) {
  return call<{ data: unknown[] }>("GET", `/v1/purchases?member_id=${memberId}`, undefined, shop.owner);
}

async function newMember(name: string) {
  return call<{ id: string; code: string }>(
    "POST",
    "/v1/members",
    { name, email: `${name.split(" ")[0]?.toLowerCase()}@${shop.slug}.test`, marketing_consent: false },
    shop.owner,
  );
}

/**
 * Logs the cashier in, after loading the counter's messages in every language once; at `location`
 * when the shop has several.
 */
async function logIn(page: Page, location?: string): Promise<void> {
  await page.goto("/counter");
  const titles = {
    nl: "Inloggen aan de kassa",
    pl: "Logowanie do kasy",
    "pt-BR": "Entrar no caixa",
    en: "Counter login",
  };
  for (const [locale, title] of Object.entries(titles)) {
    await page.getByLabel(LANGUAGE).selectOption(locale);
    await expect.poll(() => page.getByRole("heading", { name: title }).count(), slow).toBe(1);
  }
  await page.getByLabel("Business handle").fill(shop.slug);
  await page.getByLabel("Email").fill(CASHIER.email);
  await page.getByLabel("Password").fill(CASHIER.password);
  await page.getByRole("button", { name: "Log in" }).click();
  if (location) {
    await expect
      .poll(() => page.getByRole("heading", { name: "Where are you working?" }).count(), slow)
      .toBe(1);
    await page.getByRole("button", { name: location }).click();
  }
  await expect.poll(() => page.getByRole("heading", { name: "Find the customer" }).count(), slow).toBe(1);
}

/** The text of the element that has the keyboard's focus, and its id. */
async function focused(page: Page): Promise<{ id: string; text: string }> {
  return page.evaluate(() => ({
    id: document.activeElement?.id ?? "",
    text: document.activeElement?.textContent ?? "",
  }));
}

/** Ids the page holds more than once (each would send focus or a label to the wrong element). */
async function duplicateIds(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const ids = Array.from(document.querySelectorAll("[id]"), (e) => e.id);
    return ids.filter((id, i) => ids.indexOf(id) !== i);
  });
}

/** Every language: no missing text, and axe finds nothing serious; back to English at the end. */
async function checkLanguages(watched: WatchedPage, label: string): Promise<void> {
  for (const locale of ["nl", "pl", "pt-BR", "en"]) {
    await watched.page.getByLabel(LANGUAGE).selectOption(locale);
    await expect.poll(() => watched.page.getAttribute("html", "lang"), slow).toBe(locale);
    await expectNoMissingTranslations(watched, `${label} in ${locale}`);
    await expectAccessible(watched.page, `${label} in ${locale}`);
  }
}

/** Two presses in the same moment, as a double tap on a phone gives them (before any re-render). */
async function doubleTap(page: Page, name: string): Promise<void> {
  await page.getByRole("button", { name, exact: true }).evaluate((button: HTMLButtonElement) => {
    button.click();
    button.click();
  });
}

/** The POST /v1/purchases requests the page makes, with their idempotency keys. */
function watchPurchases(page: Page): string[] {
  const keys: string[] = [];
  page.on("request", (request) => {
    if (request.method() === "POST" && request.url().endsWith("/v1/purchases"))
      keys.push(request.headers()["idempotency-key"] ?? "");
  });
  return keys;
}

describe("a sale without a member at the counter", () => {
  it("records it from the desk once for a double tap, invites the customer to join, and can be undone", async () => {
    const watched = await e2e.newPage({ phone: true });
    const { page } = watched;
    const keys = watchPurchases(page);
    await logIn(page);
    const before = (await anonymousPurchases()).length;

    await page.getByRole("button", { name: "Sale without a member" }).click();
    await expect
      .poll(() => page.getByRole("heading", { name: "Sale without a member" }).count(), slow)
      .toBe(1);
    await page.getByLabel(/Amount paid/).fill("4,50");
    await page.getByRole("button", { name: "+ coffee" }).click();
    await doubleTap(page, "Record");
    await expect.poll(() => page.getByText("Sale of €4.50 recorded without a member").count(), slow).toBe(1);
    expect(keys).toHaveLength(1);

    const recorded = await anonymousPurchases();
    expect(recorded).toHaveLength(before + 1);
    expect(recorded.at(-1)).toMatchObject({
      external_id: `counter-${keys[0]}`,
      amount_minor: 450,
      points_earned: 0,
      stamps_earned: 0,
    });
    expect(recorded.at(-1)?.items).toEqual([
      { sku: "coffee", name: "coffee", category: "coffee", quantity: 1, unit_price_minor: 0 },
    ]);

    // The invitation: what the sale would have earned as a member's, and the join page's QR code.
    await expect
      .poll(() => page.getByText("As a member, this sale would have earned:").count(), slow)
      .toBe(1);
    expect(await page.getByText("+1 stamp on Coffee card").count()).toBe(1);
    await page.getByRole("button", { name: "Show the join QR code" }).click();
    expect(await page.getByRole("img", { name: "QR code of the join page" }).count()).toBe(1);
    expect(await page.getByText(`${e2e.baseUrl}/join/${shop.slug}`, { exact: true }).count()).toBe(1);
    // Served here on 127.0.0.1: the cashier is told customers' phones cannot open it.
    expect(await page.getByText(/which customers' phones cannot reach/).count()).toBe(1);
    await checkLanguages(watched, "counter sale without a member");

    // The form is ready for the next one; the undo bar names the sale.
    expect(await page.getByLabel(/Amount paid/).inputValue()).toBe("");
    await expect.poll(() => page.getByText("Last: sale of €4.50 without a member").count(), slow).toBe(1);
    await page.getByRole("button", { name: /^Undo/ }).click();
    await expect
      .poll(() => page.getByText("The sale of €4.50 without a member was undone.").count(), slow)
      .toBe(1);
    const undone = await call<{ data: { id: string; refunded_minor: number }[] }>(
      "GET",
      "/v1/purchases?limit=200",
      undefined,
      shop.owner,
    );
    expect(undone.data.find((p) => p.id === recorded.at(-1)?.id)?.refunded_minor).toBe(450);

    await page.getByRole("button", { name: "Next customer" }).click();
    await expect
      .poll(() => page.getByRole("heading", { name: "Sale without a member" }).count(), slow)
      .toBe(0);
    expect(watched.errors.filter((e) => !e.includes("Failed to load resource"))).toEqual([]);
  });

  it("keeps it offline and sends it later; a lost answer is retried under the same key and counts once", async () => {
    const { page, context } = await e2e.newPage({ phone: true });
    await logIn(page);
    const before = (await anonymousPurchases()).length;
    await page.getByRole("button", { name: "Sale without a member" }).click();

    await context.setOffline(true);
    await page.getByLabel(/Amount paid/).fill("2,00");
    await page.getByRole("button", { name: "Record", exact: true }).click();
    await expect
      .poll(
        () =>
          page
            .getByText("No connection: the purchase of €2.00 is saved on this device", { exact: false })
            .count(),
        slow,
      )
      .toBe(1);
    await expect.poll(() => page.getByText("1 purchase waiting to be sent").count(), slow).toBe(1);
    expect(await page.getByText(/Non-member · €2\.00/).count()).toBe(1);
    expect(await anonymousPurchases()).toHaveLength(before);
    await context.setOffline(false);
    await expect.poll(() => page.getByText(/purchases? waiting to be sent/).count(), slow).toBe(0);
    expect((await anonymousPurchases()).map((p) => p.amount_minor).slice(before)).toEqual([200]);

    // The answer is lost on the way back: the sale is recorded, and kept to be sent again.
    const keys: string[] = [];
    await page.route("**/v1/purchases", async (route) => {
      keys.push(route.request().headers()["idempotency-key"] ?? "");
      await route.fetch();
      await route.abort("connectionreset");
    });
    await page.getByLabel(/Amount paid/).fill("3,00");
    await page.getByRole("button", { name: "Record", exact: true }).click();
    await expect.poll(() => page.getByText("1 purchase waiting to be sent").count(), slow).toBe(1);
    await page.unrouteAll({ behavior: "wait" });
    const replayed = page.waitForResponse((r) => r.url().endsWith("/v1/purchases"));
    await page.getByRole("button", { name: "Send now" }).click();
    const response = await replayed;
    expect(response.status()).toBe(200);
    expect(response.headers()["idempotent-replayed"]).toBe("true");
    expect(response.request().headers()["idempotency-key"]).toBe(keys[0]);
    await expect.poll(() => page.getByText(/purchases? waiting to be sent/).count(), slow).toBe(0);
    expect((await anonymousPurchases()).map((p) => p.amount_minor).slice(before)).toEqual([200, 300]);
  });
});

describe("a card deleted while the counter shows it", () => {
  it("offers to record the refused sale without a member, and records it once", async () => {
    const bea = await newMember("Bea Bakker");
    const watched = await e2e.newPage({ phone: true });
    const { page } = watched;
    await logIn(page);
    await page.getByLabel("Card code, voucher code, phone or email").fill(bea.code);
    await page.getByRole("button", { name: "Find", exact: true }).click();
    await expect.poll(() => page.getByRole("heading", { name: "Bea Bakker" }).count(), slow).toBe(1);
    const before = (await anonymousPurchases()).length;

    await call("POST", `/v1/members/${bea.id}/erase`, { reason: "asked by the member" }, shop.owner);
    await page.getByLabel(/Amount paid/).fill("3,50");
    await page.getByRole("button", { name: "+ coffee" }).click();
    const keys = watchPurchases(page);
    await page.getByRole("button", { name: "Record", exact: true }).click();
    await expect.poll(() => page.getByText(/This card was deleted by its holder/).count(), slow).toBe(1);
    // Nothing more can be recorded on the card: the form gives way to the offer.
    expect(await page.getByRole("button", { name: "Record", exact: true }).count()).toBe(0);
    expect(
      await page
        .getByText("The purchase of €3.50 can still be recorded without a member.", { exact: false })
        .count(),
    ).toBe(1);
    await checkLanguages(watched, "counter card deleted, the offer");

    await doubleTap(page, "Record without a member");
    await expect.poll(() => page.getByText("Sale of €3.50 recorded without a member").count(), slow).toBe(1);
    // The button is gone: the keyboard goes on from what happened.
    await expect
      .poll(async () => (await focused(page)).text, slow)
      .toBe("Sale of €3.50 recorded without a member");
    expect(await duplicateIds(page)).toEqual([]);
    expect(keys).toHaveLength(2);
    expect(keys[1]).not.toBe(keys[0]);
    const recorded = (await anonymousPurchases()).slice(before);
    expect(recorded).toHaveLength(1);
    expect(recorded[0]).toMatchObject({ external_id: `counter-${keys[1]}`, amount_minor: 350 });
    expect(recorded[0]?.items).toEqual([
      { sku: "coffee", name: "coffee", category: "coffee", quantity: 1, unit_price_minor: 0 },
    ]);
    expect((await purchasesOf(bea.id)).data).toEqual([]);
    // The sale is the last action, to undo like any other.
    await expect.poll(() => page.getByText("Last: sale of €3.50 without a member").count(), slow).toBe(1);
  });

  it("offers it for a purchase saved offline for the card and refused when sent, from the list of refused purchases", async () => {
    const cas = await newMember("Cas Claes");
    const { page, context } = await e2e.newPage({ phone: true });
    await logIn(page);
    const before = (await anonymousPurchases()).length;

    // Offline: the card code is taken as it is, the purchase saved for it.
    await context.setOffline(true);
    await page.getByLabel("Card code, voucher code, phone or email").fill(cas.code);
    await page.getByRole("button", { name: "Find", exact: true }).click();
    await expect.poll(() => page.getByRole("heading", { name: `Card ${cas.code}` }).count(), slow).toBe(1);
    await page.getByLabel(/Amount paid/).fill("2,50");
    await page.getByRole("button", { name: "Record", exact: true }).click();
    await expect.poll(() => page.getByText("1 purchase waiting to be sent").count(), slow).toBe(1);
    await page.getByRole("button", { name: "Next customer" }).click();

    // The card is deleted before the connection is back: it got a new code, so the one the
    // purchase was saved for finds no one, and the saved purchase is refused.
    await call("POST", `/v1/members/${cas.id}/erase`, { reason: "asked by the member" }, shop.owner);
    await context.setOffline(false);
    await expect
      .poll(
        () =>
          page
            .getByText(`A saved purchase was refused: Card ${cas.code}, €2.50. This member no longer exists.`)
            .count(),
        slow,
      )
      .toBe(1);
    // The code may have been mistyped rather than deleted: the offer says when not to use it.
    expect(await page.getByText(/The card code may have been mistyped/).count()).toBe(1);
    await page.getByRole("button", { name: "Record without a member" }).click();
    await expect.poll(() => page.getByText("Sale of €2.50 recorded without a member").count(), slow).toBe(1);
    await expect.poll(async () => (await focused(page)).text, slow).toMatch(/^Sale of €2\.50 recorded/);
    const recorded = (await anonymousPurchases()).slice(before);
    expect(recorded.map((p) => p.amount_minor)).toEqual([250]);
    expect((await purchasesOf(cas.id)).data).toEqual([]);
    // Done with: the refusal leaves the list, and the offer does not come back after a reload.
    expect(await page.getByText(/A saved purchase was refused/).count()).toBe(0);
    await page.reload();
    await expect.poll(() => page.getByRole("heading", { name: "Find the customer" }).count(), slow).toBe(1);
    expect(await page.getByRole("button", { name: "Record without a member" }).count()).toBe(0);
    expect((await anonymousPurchases()).slice(before)).toHaveLength(1);
  });

  it("records it at the refused purchase's location, the counter's once that one is closed; a sale saved offline leaves the focus on the desk once sent", async () => {
    const main = await call<{ id: string }>("POST", "/v1/locations", { name: "Main street" }, shop.owner);
    const station = await call<{ id: string }>("POST", "/v1/locations", { name: "Station" }, shop.owner);
    const dan = await newMember("Dan Dekker");
    const eva = await newMember("Eva Evers");
    const { page, context } = await e2e.newPage({ phone: true });
    await logIn(page, "Main street");
    const before = (await anonymousPurchases()).length;

    // Saved offline at Main street for two cards, both deleted before the connection is back.
    await context.setOffline(true);
    for (const [member, amount] of [
      [dan, "1,00"],
      [eva, "2,00"],
    ] as const) {
      await page.getByLabel("Card code, voucher code, phone or email").fill(member.code);
      await page.getByRole("button", { name: "Find", exact: true }).click();
      await expect
        .poll(() => page.getByRole("heading", { name: `Card ${member.code}` }).count(), slow)
        .toBe(1);
      await page.getByLabel(/Amount paid/).fill(amount);
      await page.getByRole("button", { name: "Record", exact: true }).click();
      await expect.poll(() => page.getByText(/No connection: the purchase of/).count(), slow).toBe(1);
      await page.getByRole("button", { name: "Next customer" }).click();
    }
    for (const member of [dan, eva])
      await call("POST", `/v1/members/${member.id}/erase`, { reason: "asked by the member" }, shop.owner);
    await context.setOffline(false);
    await expect.poll(() => page.getByText(/A saved purchase was refused/).count(), slow).toBe(2);

    // The counter moves to the Station meanwhile.
    await page.getByRole("button", { name: "Main street · change" }).click();
    await page.getByRole("button", { name: "Station" }).click();
    await expect.poll(() => page.getByRole("heading", { name: "Find the customer" }).count(), slow).toBe(1);
    const offer = (member: { code: string }) =>
      page
        .getByRole("alert")
        .filter({ hasText: `Card ${member.code}` })
        .getByRole("button", { name: "Record without a member" });

    // Offline: saved on this device, and said so; once sent, that notice goes, and the keyboard
    // goes on from the desk's heading rather than from the top of the page.
    await context.setOffline(true);
    await offer(dan).click();
    await expect
      .poll(async () => (await focused(page)).text, slow)
      .toMatch(/^No connection: the purchase of €1\.00 is saved on this device/);
    expect(await page.getByText(`Card ${dan.code}`, { exact: false }).count()).toBe(0);
    await context.setOffline(false);
    await expect.poll(async () => (await focused(page)).id, slow).toBe("counter-identify-title");
    let recorded = (await anonymousPurchases()).slice(before);
    expect(recorded.map((p) => [p.amount_minor, p.location_id])).toEqual([[100, main.id]]);

    // Main street closes: Eva's sale goes to the counter's location.
    await call("PATCH", `/v1/locations/${main.id}`, { archived: true }, shop.owner);
    await offer(eva).click();
    await expect
      .poll(async () => (await focused(page)).text, slow)
      .toMatch(/^Sale of €2\.00 recorded without a member/);
    recorded = (await anonymousPurchases()).slice(before);
    expect(recorded.map((p) => [p.amount_minor, p.location_id])).toEqual([
      [100, main.id],
      [200, station.id],
    ]);
    expect(await duplicateIds(page)).toEqual([]);

    await page.reload();
    await expect.poll(() => page.getByRole("heading", { name: "Find the customer" }).count(), slow).toBe(1);
    expect(await page.getByText(/A saved purchase was refused/).count()).toBe(0);
    expect(await page.getByRole("button", { name: "Record without a member" }).count()).toBe(0);
  });
});
