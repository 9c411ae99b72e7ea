import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatDateTime } from "../../web/src/i18n/format.ts";
import { callApi, type E2E, signUpShop, startE2E } from "./browser.ts";
import { writeQrVideo } from "./fake-camera.ts";

const video = join(tmpdir(), `counter-races-${process.pid}.y4m`);
const CASHIER = { email: "cashier@corner.test", password: "counter-pass-2026" };
const slow = { timeout: 15_000 };
let e2e: E2E;

const call = <T = any>(method: string, path: string, body?: unknown, token?: string): Promise<T> =>
  callApi<T>(e2e.baseUrl, method, path, body, token);

async function setUpShop(locations: string[] = []) {
  const { slug, token: owner } = await signUpShop(e2e.baseUrl, {
    prefix: "corner",
    name: "Corner Café",
    password: "owner-pass-2026",
  });
  const cookie = await call<{ id: string }>(
    "POST",
    "/v1/rewards",
    { type: "free_product", name: "Cookie", cost_points: 5, value: { product_name: "Cookie" } },
    owner,
  );
  await call("POST", "/v1/staff", { ...CASHIER, name: "Carla Cashier", role: "cashier" }, owner);
  const anna = await call<{ id: string; code: string }>(
    "POST",
    "/v1/members",
    { name: "Anna Nowak", email: `anna@${slug}.test`, marketing_consent: false },
    owner,
  );
  const bram = await call<{ id: string; code: string }>(
    "POST",
    "/v1/members",
    { name: "Bram Bakker", email: `bram@${slug}.test`, marketing_consent: false },
    owner,
  );
  const created: Record<string, string> = {};
  for (const name of locations) {
    created[name] = (await call<{ id: string }>("POST", "/v1/locations", { name }, owner)).id;
  }
  const me = await call<{ business: { id: string } }>("GET", "/v1/auth/me", undefined, owner);
  return { slug, owner, cookie: cookie.id, anna, bram, locations: created, businessId: me.business.id };
}
type Shop = Awaited<ReturnType<typeof setUpShop>>;

async function buy(shop: Shop, memberId: string, amount: number) {
  await call(
    "POST",
    "/v1/purchases",
    {
      external_id: `seed-${Math.random()}`,
      member_id: memberId,
      amount_minor: amount,
      currency: "EUR",
    },
    shop.owner,
  );
}

async function logIn(page: Page, slug: string): Promise<void> {
  await page.goto("/counter");
  await expect.poll(() => page.getByRole("heading", { name: "Counter login" }).count(), slow).toBe(1);
  await page.getByLabel("Business handle").fill(slug);
  await page.getByLabel("Email").fill(CASHIER.email);
  await page.getByLabel("Password").fill(CASHIER.password);
  await page.getByRole("button", { name: "Log in" }).click();
}

async function typeCode(page: Page, code: string): Promise<void> {
  await page.getByLabel("Card code, voucher code, phone or email").fill(code);
  await page.getByRole("button", { name: "Find", exact: true }).click();
}

beforeAll(async () => {
  writeQrVideo(video, "00000000");
  e2e = await startE2E({ fakeVideo: video });
});
afterAll(async () => {
  await e2e?.close();
  rmSync(video, { force: true });
});

/**
 * What a busy counter and a member's phone meet: answers that come late or never, two tills at
 * once, a device that runs out of room, and refusals in the user's own language.
 */
describe("the counter and the wallet, when answers come late or not at all", () => {
  it("undo of one purchase finishing late does not take away the next purchase's undo", async () => {
    const shop = await setUpShop();
    const { page } = await e2e.newPage({ phone: true });
    await logIn(page, shop.slug);
    await expect.poll(() => page.getByRole("heading", { name: "Find the customer" }).count(), slow).toBe(1);
    await typeCode(page, shop.anna.code);
    await expect.poll(() => page.getByRole("heading", { name: "Anna Nowak" }).count(), slow).toBe(1);
    await page.getByLabel(/Amount paid/).fill("25,00");
    await page.getByRole("button", { name: "Record", exact: true }).click();
    await expect.poll(() => page.getByText("Recorded: €25.00").count(), slow).toBe(1);
    // A slow answer to the undo (a weak connection).
    await page.route("**/v1/refunds", async (route) => {
      await new Promise((r) => setTimeout(r, 2500));
      await route.continue();
    });
    await page.getByRole("button", { name: /^Undo/ }).click();
    // The cashier types the right amount at once.
    await page.getByLabel(/Amount paid/).fill("2,50");
    await page.getByRole("button", { name: "Record", exact: true }).click();
    await expect.poll(() => page.getByText("Recorded: €2.50").count(), slow).toBe(1);
    await page.waitForTimeout(4000);
    // The €2.50 purchase can still be undone.
    expect(await page.locator(".counter-undo").count()).toBe(1);
    expect(await page.locator(".counter-undo").textContent()).toContain("€2.50");
  });

  it("a voucher confirmed at one counter is not confirmed again at a second counter", async () => {
    const shop = await setUpShop();
    await buy(shop, shop.anna.id, 500);
    const issued = await call<{ voucher: { code: string } }>(
      "POST",
      `/v1/members/${shop.anna.id}/redemptions`,
      { reward_id: shop.cookie },
      shop.owner,
    );
    const code = issued.voucher.code;
    const a = (await e2e.newPage({ phone: true })).page;
    const b = (await e2e.newPage({ phone: true })).page;
    for (const page of [a, b]) {
      await logIn(page, shop.slug);
      await expect.poll(() => page.getByRole("heading", { name: "Find the customer" }).count(), slow).toBe(1);
      await typeCode(page, shop.anna.code);
      await expect.poll(() => page.getByRole("heading", { name: "Anna Nowak" }).count(), slow).toBe(1);
      await expect
        .poll(() => page.getByRole("button", { name: `Confirm handed over: Cookie (${code})` }).count(), slow)
        .toBe(1);
    }
    await a.getByRole("button", { name: `Confirm handed over: Cookie (${code})` }).click();
    await expect.poll(() => a.getByText("Handed over: Cookie").count(), slow).toBe(1);
    // The second counter still shows the voucher (its list was loaded before): the cashier presses confirm.
    await b.getByRole("button", { name: `Confirm handed over: Cookie (${code})` }).click();
    // The cashier is told it was already used, not "Handed over".
    await expect.poll(() => b.getByText("This voucher has already been used.").count(), slow).toBe(1);
    expect(await b.getByText("Handed over: Cookie").count()).toBe(0);
  });

  it("a voucher confirmed at one location, confirmed again at another: cashier-readable words", async () => {
    const shop = await setUpShop(["Main street", "Station kiosk"]);
    await buy(shop, shop.anna.id, 500);
    const issued = await call<{ voucher: { code: string } }>(
      "POST",
      `/v1/members/${shop.anna.id}/redemptions`,
      { reward_id: shop.cookie },
      shop.owner,
    );
    const code = issued.voucher.code;
    const a = (await e2e.newPage({ phone: true })).page;
    const b = (await e2e.newPage({ phone: true })).page;
    for (const [page, where] of [
      [a, "Main street"],
      [b, "Station kiosk"],
    ] as const) {
      await logIn(page, shop.slug);
      await page.getByRole("button", { name: where }).click();
      await expect.poll(() => page.getByRole("heading", { name: "Find the customer" }).count(), slow).toBe(1);
      await typeCode(page, code);
      await expect
        .poll(() => page.getByRole("button", { name: "Confirm handed over" }).count(), slow)
        .toBe(1);
    }
    await a.getByRole("button", { name: "Confirm handed over" }).click();
    await expect.poll(() => a.getByText("Handed over: Cookie").count(), slow).toBe(1);
    await b.getByRole("button", { name: "Confirm handed over" }).click();
    await expect.poll(() => b.locator(".alert.error").count(), slow).toBe(1);
    const shown = await b.locator(".alert.error").textContent();
    expect(shown).not.toMatch(/key|request/i);
  });

  it("the offline queue holds at most 500 purchases, as documented", async () => {
    const shop = await setUpShop();
    const watched = await e2e.newPage({ phone: true });
    const { page, context } = watched;
    await logIn(page, shop.slug);
    await expect.poll(() => page.getByRole("heading", { name: "Find the customer" }).count(), slow).toBe(1);
    await typeCode(page, shop.anna.code);
    await expect.poll(() => page.getByRole("heading", { name: "Anna Nowak" }).count(), slow).toBe(1);
    await context.setOffline(true);
    await page.evaluate((businessId) => {
      const items = Array.from({ length: 500 }, (_, i) => ({
        key: `fake-${i}`,
        label: "Anna Nowak",
        body: { external_id: `fake-${i}`, amount_minor: 100, currency: "EUR", items: [] },
        created_at: new Date().toISOString(),
        attempts: 1,
        last_error: "network",
      }));
      localStorage.setItem(`regulars.counter.pending.${businessId}`, JSON.stringify(items));
    }, shop.businessId);
    await page.getByLabel(/Amount paid/).fill("2,00");
    await page.getByRole("button", { name: "Record", exact: true }).click();
    await page.waitForTimeout(1500);
    const held = await page.evaluate(
      (businessId) =>
        JSON.parse(localStorage.getItem(`regulars.counter.pending.${businessId}`) ?? "[]").length,
      shop.businessId,
    );
    const full = await page.getByText(/already holds 500 purchases/).count();
    // Do not send the fake ones.
    await page.evaluate(() => localStorage.clear());
    expect(full).toBe(1);
    expect(held).toBe(500);
  });

  it("a purchase recorded when the device storage is full is not left hanging", async () => {
    const shop = await setUpShop();
    const { page, context } = await e2e.newPage({ phone: true });
    await logIn(page, shop.slug);
    await expect.poll(() => page.getByRole("heading", { name: "Find the customer" }).count(), slow).toBe(1);
    await typeCode(page, shop.anna.code);
    await expect.poll(() => page.getByRole("heading", { name: "Anna Nowak" }).count(), slow).toBe(1);
    await context.setOffline(true);
    await page.evaluate(() => {
      let size = 4_000_000;
      let n = 0;
      while (size > 16) {
        try {
          localStorage.setItem(`junk-${n++}`, "x".repeat(size));
        } catch {
          size = Math.floor(size / 2);
        }
      }
      return n;
    });
    await page.getByLabel(/Amount paid/).fill("2,00");
    await page.getByRole("button", { name: "Record", exact: true }).click();
    await page.waitForTimeout(3000);
    const disabled = await page.locator(".counter-purchase button[type=submit]").isDisabled();
    const alerts = await page.locator(".counter-member .alert").allTextContents();
    await page.evaluate(() => localStorage.clear());
    // The cashier hears it was not kept, and can record again.
    expect(disabled).toBe(false);
    expect(alerts.join(" ")).toContain("It was not recorded");
  });

  it("a lookup still under way does not replace the customer found after it", async () => {
    const shop = await setUpShop();
    writeQrVideo(video, shop.bram.code);
    const { page } = await e2e.newPage({ phone: true });
    await logIn(page, shop.slug);
    await expect.poll(() => page.getByRole("heading", { name: "Find the customer" }).count(), slow).toBe(1);
    // A slow answer for Anna's lookup (a weak connection).
    await page.route("**/v1/members/lookup?*", async (route) => {
      if (route.request().url().includes("anna")) await new Promise((r) => setTimeout(r, 4000));
      await route.continue();
    });
    await typeCode(page, `anna@${shop.slug}.test`);
    // The cashier gives up waiting and scans Bram's card instead.
    await page.getByRole("button", { name: "Scan card or voucher" }).click();
    await expect.poll(() => page.getByRole("heading", { name: "Bram Bakker" }).count(), slow).toBe(1);
    await page.waitForTimeout(5000);
    const shown = await page.locator("#counter-member-name").textContent();
    expect(shown).toBe("Bram Bakker");
    // The heading of the customer found has the focus: a screen reader says who it is.
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("counter-member-name");
  });

  it("wallet: a refused redemption is told in the member's language", async () => {
    const shop = await setUpShop();
    await buy(shop, shop.anna.id, 500);
    await call("PATCH", `/v1/members/${shop.anna.id}`, { locale: "pl" }, shop.owner);
    const link = await call<{ card_token: string }>(
      "POST",
      `/v1/members/${shop.anna.id}/card-link`,
      {},
      shop.owner,
    );
    const { page } = await e2e.newPage({ phone: true, locale: "pl-PL" });
    await page.goto(`/card/${shop.slug}#t=${link.card_token}`);
    await expect.poll(() => page.getByRole("button", { name: /Cookie/ }).count(), slow).toBe(1);
    // At the counter, the points are spent meanwhile.
    await call("POST", `/v1/members/${shop.anna.id}/redemptions`, { reward_id: shop.cookie }, shop.owner);
    await page.getByRole("button", { name: /Cookie/ }).click();
    await page.locator("dialog .button").first().click();
    await expect.poll(() => page.locator("dialog .alert.error").count(), slow).toBe(1);
    const shown = await page.locator("dialog .alert.error").textContent();
    expect(shown).not.toMatch(/The member has|available|costs/);
    expect(shown).toBe("Nie masz już wystarczająco punktów na tę nagrodę.");
  });

  it("wallet: a redemption whose answer was lost, tried again, issues one voucher", async () => {
    const shop = await setUpShop();
    await buy(shop, shop.anna.id, 1000);
    const link = await call<{ card_token: string }>(
      "POST",
      `/v1/members/${shop.anna.id}/card-link`,
      {},
      shop.owner,
    );
    const { page } = await e2e.newPage({ phone: true });
    await page.goto(`/card/${shop.slug}#t=${link.card_token}`);
    await expect.poll(() => page.getByRole("button", { name: "Redeem Cookie" }).count(), slow).toBe(1);
    let lost = 0;
    await page.route("**/v1/wallet/redemptions", async (route) => {
      if (lost === 0) {
        lost++;
        await route.fetch();
        await route.abort("connectionreset");
      } else await route.continue();
    });
    await page.getByRole("button", { name: "Redeem Cookie" }).click();
    await page
      .getByRole("button", { name: /^(Yes|Confirm|Redeem)/ })
      .last()
      .click();
    await expect.poll(() => page.locator("dialog .alert.error").count(), slow).toBe(1);
    // The member closes the dialog and tries again.
    await page.getByRole("button", { name: "Cancel" }).click();
    await expect.poll(() => page.getByRole("button", { name: "Redeem Cookie" }).count(), slow).toBe(1);
    await page.getByRole("button", { name: "Redeem Cookie" }).click();
    await page
      .getByRole("button", { name: /^(Yes|Confirm|Redeem)/ })
      .last()
      .click();
    await page.waitForTimeout(1500);
    const vouchers = await call<{ data: { status: string }[] }>(
      "GET",
      `/v1/members/${shop.anna.id}/vouchers`,
      undefined,
      shop.owner,
    );
    expect(vouchers.data).toHaveLength(1);
  });
});

/** Anna redeems a Cookie (5 points) through the API, as from her phone: the voucher's code. */
async function cookieVoucher(shop: Shop, member: { id: string }): Promise<string> {
  await buy(shop, member.id, 500);
  const issued = await call<{ voucher: { code: string } }>(
    "POST",
    `/v1/members/${member.id}/redemptions`,
    { reward_id: shop.cookie },
    shop.owner,
  );
  return issued.voucher.code;
}

async function voucherStatus(shop: Shop, code: string): Promise<string> {
  return (await call<{ status: string }>("GET", `/v1/vouchers/${code}`, undefined, shop.owner)).status;
}

/** A tablet (the laptop viewport): the identify form stays on screen next to the customer. */
async function tablet(shop: Shop): Promise<Page> {
  const { page } = await e2e.newPage();
  await logIn(page, shop.slug);
  // One location or none: the desk; more: the cashier first picks where they work.
  const first = Object.keys(shop.locations).length > 1 ? "Where are you working?" : "Find the customer";
  await expect.poll(() => page.getByRole("heading", { name: first }).count(), slow).toBe(1);
  return page;
}

describe("the counter on a tablet, the identify form always on screen", () => {
  it("a second voucher typed after the first is the one shown and the one confirmed", async () => {
    const shop = await setUpShop();
    const annas = await cookieVoucher(shop, shop.anna);
    const brams = await cookieVoucher(shop, shop.bram);
    const page = await tablet(shop);
    await typeCode(page, annas);
    await expect.poll(() => page.getByText("For Anna Nowak").count(), slow).toBe(1);
    await typeCode(page, brams);
    await expect.poll(() => page.getByText(`Voucher ${brams}`).count(), slow).toBe(1);
    await expect.poll(() => page.getByText("For Bram Bakker").count(), slow).toBe(1);
    expect(await page.getByText("For Anna Nowak").count()).toBe(0);
    await page.getByRole("button", { name: "Confirm handed over" }).click();
    await expect.poll(() => page.getByText("Handed over: Cookie").count(), slow).toBe(1);
    expect(await voucherStatus(shop, brams)).toBe("redeemed");
    expect(await voucherStatus(shop, annas)).toBe("issued");
  });

  it("the member on screen, found again, is read again: a voucher made meanwhile is listed", async () => {
    const shop = await setUpShop();
    await buy(shop, shop.anna.id, 500);
    const page = await tablet(shop);
    await typeCode(page, shop.anna.code);
    await expect.poll(() => page.getByRole("heading", { name: "Anna Nowak" }).count(), slow).toBe(1);
    await expect.poll(() => page.getByRole("button", { name: "Redeem Cookie" }).count(), slow).toBe(1);
    // Anna redeems the cookie on her phone meanwhile.
    const issued = await call<{ voucher: { code: string } }>(
      "POST",
      `/v1/members/${shop.anna.id}/redemptions`,
      { reward_id: shop.cookie },
      shop.owner,
    );
    await typeCode(page, shop.anna.code);
    await expect
      .poll(
        () =>
          page.getByRole("button", { name: `Confirm handed over: Cookie (${issued.voucher.code})` }).count(),
        slow,
      )
      .toBe(1);
    expect(await page.getByRole("button", { name: "Redeem Cookie" }).count()).toBe(0);
  });

  it("a lookup that never answers blocks neither the next lookup nor, for a card code, the offline card", async () => {
    const shop = await setUpShop();
    const page = await tablet(shop);
    // A connection half up: Anna's lookups never get an answer.
    await page.route("**/v1/members/lookup?*", async (route) => {
      const url = route.request().url();
      if (url.includes("anna") || url.includes(shop.anna.code)) return;
      await route.continue();
    });
    await typeCode(page, `anna@${shop.slug}.test`);
    await page.waitForTimeout(500);
    // The next customer: the cashier types Bram's code and presses Enter.
    await page.getByLabel("Card code, voucher code, phone or email").fill(shop.bram.code);
    await page.getByLabel("Card code, voucher code, phone or email").press("Enter");
    await expect.poll(() => page.getByRole("heading", { name: "Bram Bakker" }).count(), slow).toBe(1);
    // Anna's card code: past the counter's timeout it is treated as no connection.
    await typeCode(page, shop.anna.code);
    await expect
      .poll(() => page.getByRole("heading", { name: `Card ${shop.anna.code}` }).count(), { timeout: 20_000 })
      .toBe(1);
  });

  it("times in the list of saved purchases are the business's, not the device's", async () => {
    const shop = await setUpShop();
    const { page, context } = await e2e.newPage();
    // The device's clock is set to New York; the shop is in Amsterdam.
    const cdp = await context.newCDPSession(page);
    await cdp.send("Emulation.setTimezoneOverride", { timezoneId: "America/New_York" });
    await logIn(page, shop.slug);
    await expect.poll(() => page.getByRole("heading", { name: "Find the customer" }).count(), slow).toBe(1);
    await typeCode(page, shop.anna.code);
    await expect.poll(() => page.getByRole("heading", { name: "Anna Nowak" }).count(), slow).toBe(1);
    await context.setOffline(true);
    await page.getByLabel(/Amount paid/).fill("2,00");
    await page.getByRole("button", { name: "Record", exact: true }).click();
    await expect.poll(() => page.getByText(/1 purchase waiting to be sent/).count(), slow).toBe(1);
    const createdAt = await page.evaluate(
      (businessId) =>
        JSON.parse(localStorage.getItem(`regulars.counter.pending.${businessId}`) ?? "[]")[0]?.created_at,
      shop.businessId,
    );
    await page.getByText(/1 purchase waiting to be sent/).click();
    const item = (await page.locator(".counter-queue li").textContent()) ?? "";
    await context.setOffline(false);
    expect(item.replace(/\s/g, " ")).toContain(
      formatDateTime(createdAt, "en", "Europe/Amsterdam").replace(/\s/g, " "),
    );
  });

  it("after Confirm or Redeem by keyboard, the focus is on what happened, not lost to the page", async () => {
    const shop = await setUpShop();
    const code = await cookieVoucher(shop, shop.anna);
    await buy(shop, shop.anna.id, 500);
    const page = await tablet(shop);
    await typeCode(page, code);
    await page.getByRole("button", { name: "Confirm handed over" }).focus();
    await page.keyboard.press("Enter");
    await expect.poll(() => page.getByText("Handed over: Cookie").count(), slow).toBe(1);
    await expect
      .poll(() => page.evaluate(() => document.activeElement?.id), slow)
      .toBe("counter-voucher-status");
    await typeCode(page, shop.anna.code);
    await expect.poll(() => page.getByRole("button", { name: "Redeem Cookie" }).count(), slow).toBe(1);
    await page.getByRole("button", { name: "Redeem Cookie" }).focus();
    await page.keyboard.press("Enter");
    await expect.poll(() => page.getByText("Voucher issued: Cookie").count(), slow).toBe(1);
    await expect.poll(() => page.evaluate(() => document.activeElement?.id), slow).toBe("counter-notice");
  });

  it("another login in the same browser: the cashier is told to log in again, in words", async () => {
    const shop = await setUpShop();
    await buy(shop, shop.anna.id, 500);
    const page = await tablet(shop);
    await typeCode(page, shop.anna.code);
    await expect.poll(() => page.getByRole("button", { name: "Redeem Cookie" }).count(), slow).toBe(1);
    // The owner logs in to the dashboard on the same tablet: the session cookie is replaced.
    const login = await page.request.post("/v1/auth/login", {
      data: {
        business: shop.slug,
        email: `owner@${shop.slug}.test`,
        password: "owner-pass-2026",
        session: "cookie",
      },
    });
    expect(login.status()).toBe(200);
    await page.getByRole("button", { name: "Redeem Cookie" }).click();
    await expect
      .poll(
        () =>
          page
            .getByText("Someone else logged in on this device. Log out and log in to the counter again.")
            .count(),
        slow,
      )
      .toBe(1);
    expect(await page.getByText("X-CSRF-Token").count()).toBe(0);
  });

  it("a discount shows what to take off: on the voucher, in the lists and when it is issued", async () => {
    const shop = await setUpShop();
    const discount = await call<{ id: string }>(
      "POST",
      "/v1/rewards",
      { type: "discount_amount", name: "Discount", cost_points: 5, value: { amount_minor: 1000 } },
      shop.owner,
    );
    const percent = await call<{ id: string }>(
      "POST",
      "/v1/rewards",
      { type: "discount_percent", name: "Loyalty discount", cost_points: 5, value: { percent: 15 } },
      shop.owner,
    );
    await buy(shop, shop.anna.id, 1500);
    const issued = await call<{ voucher: { code: string } }>(
      "POST",
      `/v1/members/${shop.anna.id}/redemptions`,
      { reward_id: percent.id },
      shop.owner,
    );
    const page = await tablet(shop);
    // The voucher the customer shows.
    await typeCode(page, issued.voucher.code);
    await expect.poll(() => page.locator(".counter-voucher").getByText("15% off").count(), slow).toBe(1);
    // The member: what each reward gives, and the voucher to use.
    await typeCode(page, shop.anna.code);
    await expect.poll(() => page.getByRole("button", { name: "Redeem Discount" }).count(), slow).toBe(1);
    const lists = (await page.locator(".counter-member").textContent()) ?? "";
    expect(lists).toContain("€10.00 off");
    expect(lists).toContain("15% off");
    await page.getByRole("button", { name: "Redeem Discount" }).click();
    await expect.poll(() => page.getByText("Voucher issued: Discount").count(), slow).toBe(1);
    expect(await page.locator("#counter-notice").textContent()).toContain("€10.00 off");
    expect(discount.id).toBeTruthy();
  });
});

describe("the counter when its location is closed or its server is down", () => {
  it("the only location archived while the counter is open: the purchase refused, then recorded again", async () => {
    const shop = await setUpShop(["Main street"]);
    const page = await tablet(shop);
    await expect.poll(() => page.getByText("Main street").count(), slow).toBe(1);
    await typeCode(page, shop.anna.code);
    await expect.poll(() => page.getByRole("heading", { name: "Anna Nowak" }).count(), slow).toBe(1);
    await call("PATCH", `/v1/locations/${shop.locations["Main street"]}`, { archived: true }, shop.owner);
    await page.getByLabel(/Amount paid/).fill("2,00");
    await page.getByRole("button", { name: "Record", exact: true }).click();
    await expect.poll(() => page.getByText(/This location was closed/).count(), slow).toBe(1);
    await expect.poll(() => page.getByText("Main street").count(), slow).toBe(0);
    await page.getByRole("button", { name: "Record", exact: true }).click();
    await expect.poll(() => page.getByText("Recorded: €2.00").count(), slow).toBe(1);
  });

  it("the location in use archived, two still open: the cashier picks from the open ones", async () => {
    const shop = await setUpShop(["Main street", "Station kiosk", "Market stall"]);
    const page = await tablet(shop);
    await page.getByRole("button", { name: "Main street" }).click();
    await expect.poll(() => page.getByRole("heading", { name: "Find the customer" }).count(), slow).toBe(1);
    await typeCode(page, shop.anna.code);
    await expect.poll(() => page.getByRole("heading", { name: "Anna Nowak" }).count(), slow).toBe(1);
    await call("PATCH", `/v1/locations/${shop.locations["Main street"]}`, { archived: true }, shop.owner);
    await page.getByLabel(/Amount paid/).fill("2,00");
    await page.getByRole("button", { name: "Record", exact: true }).click();
    await expect
      .poll(() => page.getByRole("heading", { name: "Where are you working?" }).count(), slow)
      .toBe(1);
    expect(await page.getByRole("button", { name: "Main street" }).count()).toBe(0);
    await page.getByRole("button", { name: "Station kiosk" }).click();
    await typeCode(page, shop.anna.code);
    await expect.poll(() => page.getByRole("heading", { name: "Anna Nowak" }).count(), slow).toBe(1);
    await page.getByLabel(/Amount paid/).fill("2,00");
    await page.getByRole("button", { name: "Record", exact: true }).click();
    await expect.poll(() => page.getByText("Recorded: €2.00").count(), slow).toBe(1);
  });

  it("a card code looked up while the server answers 502: the offline card, and the purchase kept", async () => {
    const shop = await setUpShop();
    const page = await tablet(shop);
    const down = (route: Parameters<Parameters<Page["route"]>[1]>[0]) =>
      route.fulfill({ status: 502, contentType: "text/html", body: "<h1>502 Bad Gateway</h1>" });
    await page.route("**/v1/members/lookup?*", down);
    await page.route("**/v1/purchases", down);
    await typeCode(page, shop.anna.code);
    await expect
      .poll(() => page.getByRole("heading", { name: `Card ${shop.anna.code}` }).count(), slow)
      .toBe(1);
    expect(await page.getByText(/HTTP 502/).count()).toBe(0);
    await expect.poll(() => page.getByText(/^The server is not answering, so/).count(), slow).toBe(1);
    await page.getByLabel(/Amount paid/).fill("2,00");
    await page.getByRole("button", { name: "Record", exact: true }).click();
    await expect
      .poll(
        () => page.getByText(/^The server is not answering: the purchase of €2\.00 is saved/).count(),
        slow,
      )
      .toBe(1);
    // Another lookup than a card code says what is wrong in the cashier's words.
    await typeCode(page, `anna@${shop.slug}.test`);
    await expect
      .poll(() => page.getByText("The server is not answering. Try again in a moment.").count(), slow)
      .toBe(1);
    await page.unrouteAll();
  });
});
