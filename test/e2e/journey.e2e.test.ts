import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type E2E, startE2E, type WatchedPage } from "./browser.ts";
import { writeQrVideo } from "./fake-camera.ts";

/**
 * The whole product as its three users meet it, in one story: an owner signs up, starts the café
 * stamp card and publishes it, prints the poster; a customer joins from the join link on a phone;
 * a cashier scans the customer's QR code through the camera and records ten coffees; the customer
 * redeems the free coffee on the phone and the cashier confirms the voucher; then the connection
 * drops with purchases queued — and nothing is lost or counted twice.
 */

const video = join(tmpdir(), `regulars-journey-${process.pid}.y4m`);
const OWNER = { email: "ines@koffiehoek.test", password: "a long enough password" };
const CASHIER = { email: "kees@koffiehoek.test", password: "counter-pass-2026" };
const slow = { timeout: 15_000 };

let e2e: E2E;
let owner: WatchedPage;
let customer: WatchedPage;
let cashier: WatchedPage;
let slug = "";
let memberCode = "";

beforeAll(async () => {
  // Chromium opens the fake camera's file when the camera starts: the customer's code is written
  // into it once the customer has joined.
  writeQrVideo(video, "00000000");
  e2e = await startE2E({ fakeVideo: video });
});
afterAll(async () => {
  await e2e?.close();
  rmSync(video, { force: true });
});

/** Reads the API as the owner's browser session. */
async function ownerGet<T = any>(path: string): Promise<T> {
  const res = await owner.page.request.get(path);
  expect(res.status(), `${path}: ${await res.text()}`).toBe(200);
  return (await res.json()) as T;
}

async function ownerPost<T = any>(path: string, body: unknown): Promise<T> {
  const { csrf_token } = await ownerGet<{ csrf_token: string }>("/v1/auth/me");
  const res = await owner.page.request.post(path, { data: body, headers: { "x-csrf-token": csrf_token } });
  expect(res.status(), `${path}: ${await res.text()}`).toBeLessThan(300);
  return (await res.json()) as T;
}

async function memberState() {
  const member = await ownerGet<{ id: string }>(`/v1/members/lookup?code=${memberCode}`);
  const purchases = await ownerGet<{ data: { amount_minor: number }[] }>(
    `/v1/purchases?member_id=${member.id}&limit=200`,
  );
  const card = await ownerGet<{ stamp_cards: { stamps: number }[] }>(`/v1/members/${member.id}/card`);
  const vouchers = await ownerGet<{ data: { code: string; status: string }[] }>(
    `/v1/members/${member.id}/vouchers`,
  );
  return { purchases: purchases.data, stamps: card.stamp_cards[0]?.stamps, vouchers: vouchers.data };
}

/** The café template stamps every visit, so the cashier types the amount and records it. */
async function recordCoffee(page: Page, amount: string): Promise<void> {
  await page.getByLabel(/Amount paid/).fill(amount);
  await page.getByRole("button", { name: "Record", exact: true }).click();
}

async function findByCode(page: Page, code: string): Promise<void> {
  await page.getByLabel("Card code, voucher code, phone or email").fill(code);
  await page.getByRole("button", { name: "Find", exact: true }).click();
}

describe("a café's first day with Regulars", () => {
  it("the owner signs up, starts the café stamp card, publishes it and downloads the poster", async () => {
    owner = await e2e.newPage();
    const { page } = owner;
    await page.goto("/");
    await page.getByRole("link", { name: "Start your program" }).click();
    await page.getByLabel("Business name").fill("Koffiehoek");
    slug = await page.getByLabel("Handle").inputValue();
    expect(slug).toBe("koffiehoek");
    await page.getByLabel("Currency").selectOption("EUR");
    await page.getByLabel("Time zone").selectOption("Europe/Amsterdam");
    await page.getByLabel("Your name").fill("Ines Eigenaar");
    await page.getByLabel("Email").fill(OWNER.email);
    await page.getByLabel("Password").fill(OWNER.password);
    await page.getByRole("button", { name: "Create my business" }).click();

    await page.waitForURL("**/app/onboarding");
    await expect
      .poll(() => page.getByRole("radio", { name: /Café stamp card/ }).isChecked(), slow)
      .toBe(true);
    await page.getByRole("button", { name: "Publish my program" }).click();
    await expect
      .poll(() => page.getByRole("heading", { name: "Your program is live" }).count(), slow)
      .toBe(1);

    await page.getByRole("navigation").getByRole("link", { name: "Launch kit" }).click();
    const joinLink = await page.getByRole("textbox", { name: "Join link" }).inputValue();
    expect(joinLink).toBe(`${e2e.baseUrl}/join/${slug}`);
    const href = await page.getByRole("link", { name: "Download A4 poster" }).getAttribute("href");
    const poster = await page.request.get(href ?? "");
    expect(poster.status()).toBe(200);
    expect(poster.headers()["content-type"]).toContain("application/pdf");
    expect((await poster.body()).subarray(0, 5).toString()).toBe("%PDF-");

    await ownerPost("/v1/staff", { ...CASHIER, name: "Kees Kassa", role: "cashier" });
    expect(owner.errors).toEqual([]);
  });

  it("a customer joins from the join link on a phone and sees the card with the welcome stamp", async () => {
    customer = await e2e.newPage({ phone: true });
    const { page } = customer;
    await page.goto(`/join/${slug}`);
    await expect.poll(() => page.getByRole("heading", { name: "Join Koffiehoek" }).count(), slow).toBe(1);
    await page.getByLabel("Your name").fill("Mila Jansen");
    await page.getByLabel("Email address").fill("mila@example.com");
    await page.getByRole("radio", { name: "No, thanks" }).check();
    await page.getByRole("button", { name: "Join and get my card" }).click();
    await expect.poll(() => new URL(page.url()).pathname, slow).toBe(`/card/${slug}`);
    // The café template gives a stamp for joining.
    await expect.poll(() => page.getByRole("img", { name: "1 of 10 stamps" }).count(), slow).toBe(1);
    memberCode =
      /[A-Z0-9]{8}$/.exec(
        ((await page.locator(".wallet-member .wallet-code").textContent()) ?? "").trim(),
      )?.[0] ?? "";
    expect(memberCode).toMatch(/^[A-Z0-9]{8}$/);
    writeQrVideo(video, memberCode);
  });

  it("the cashier scans the customer's QR code and records ten coffees: the free coffee is available", async () => {
    cashier = await e2e.newPage({ phone: true });
    const { page } = cashier;
    await page.goto("/counter");
    await page.getByLabel("Business handle").fill(slug);
    await page.getByLabel("Email").fill(CASHIER.email);
    await page.getByLabel("Password").fill(CASHIER.password);
    await page.getByRole("button", { name: "Log in" }).click();
    await expect.poll(() => page.getByRole("heading", { name: "Find the customer" }).count(), slow).toBe(1);

    await page.getByRole("button", { name: "Scan card or voucher" }).click();
    await expect.poll(() => page.getByRole("heading", { name: "Mila Jansen" }).count(), slow).toBe(1);
    await expect.poll(() => page.getByText("1 of 10 stamps").count(), slow).toBe(1);
    for (let i = 1; i <= 10; i++) {
      await recordCoffee(page, "3,20");
      await expect.poll(() => page.getByText("Recorded: €3.20").count(), slow).toBe(1);
      await expect.poll(() => page.getByText("+1 stamp on Stamp card: coffee").count(), slow).toBe(1);
      // The welcome stamp and nine coffees fill the card; the tenth starts the next one.
      if (i === 9)
        await expect.poll(() => page.getByText("Free coffee is available now!").count(), slow).toBe(1);
    }
    expect(await page.getByRole("button", { name: "Redeem Free coffee" }).count()).toBe(1);
    const state = await memberState();
    expect(state.purchases).toHaveLength(10);
    expect(state.stamps).toBe(11);
  });

  it("the customer redeems the free coffee on the phone and the cashier confirms the voucher", async () => {
    const { page } = customer;
    await page.reload();
    await expect.poll(() => page.getByRole("img", { name: "10 of 10 stamps" }).count(), slow).toBe(1);
    await expect.poll(() => page.getByText("Your card is full: redeem your reward!").count(), slow).toBe(1);
    expect(await page.getByText("1 stamp already on your next card").count()).toBe(1);
    await page.getByRole("button", { name: "Redeem Free coffee" }).click();
    await page.getByRole("button", { name: "Yes, redeem" }).click();
    const dialog = page.getByRole("dialog", { name: "Free coffee", exact: true });
    await expect.poll(() => dialog.count(), slow).toBe(1);
    const voucher =
      /[A-Z0-9]{10}$/.exec(((await dialog.locator(".wallet-code").textContent()) ?? "").trim())?.[0] ?? "";
    expect(voucher).toMatch(/^[A-Z0-9]{10}$/);

    await cashier.page.getByRole("button", { name: "Next customer" }).click();
    await findByCode(cashier.page, voucher);
    await expect.poll(() => cashier.page.getByText("For Mila Jansen", { exact: true }).count(), slow).toBe(1);
    await cashier.page.getByRole("button", { name: "Confirm handed over" }).click();
    await expect.poll(() => cashier.page.getByText("Handed over: Free coffee").count(), slow).toBe(1);

    const state = await memberState();
    expect(state.vouchers).toEqual([expect.objectContaining({ code: voucher, status: "redeemed" })]);
    expect(state.stamps).toBe(1);
  });

  it("the connection drops with purchases queued, and every one arrives exactly once", async () => {
    const { page, context } = cashier;
    await page.getByRole("button", { name: "Next customer" }).click();
    await findByCode(page, memberCode);
    await expect.poll(() => page.getByRole("heading", { name: "Mila Jansen" }).count(), slow).toBe(1);

    await context.setOffline(true);
    for (const amount of ["2,10", "2,20"]) {
      await recordCoffee(page, amount);
      await expect
        .poll(
          () =>
            page
              .getByText(`No connection: the purchase of €${amount.replace(",", ".")} is saved`, {
                exact: false,
              })
              .count(),
          slow,
        )
        .toBe(1);
    }
    await expect.poll(() => page.getByText("2 purchases waiting to be sent").count(), slow).toBe(1);
    expect((await memberState()).purchases).toHaveLength(10);

    // The connection comes back, but the answer to the first purchase sent is lost on the way:
    // the server has it, the counter does not know, and sends it again with the same key.
    let lost = 0;
    await page.route("**/v1/purchases", async (route) => {
      if (lost > 0) return route.continue();
      lost++;
      await route.fetch();
      await route.abort("connectionreset");
    });
    await context.setOffline(false);
    await expect.poll(() => lost, slow).toBe(1);
    await page.unrouteAll({ behavior: "wait" });
    await expect
      .poll(
        async () => {
          const sendNow = page.getByRole("button", { name: "Send now" });
          if ((await sendNow.count()) > 0 && (await sendNow.isEnabled({ timeout: 200 }).catch(() => false)))
            await sendNow.click().catch(() => {});
          return page.getByText(/purchases? waiting to be sent/).count();
        },
        { timeout: 30_000, interval: 500 },
      )
      .toBe(0);

    const state = await memberState();
    expect(state.purchases).toHaveLength(12);
    expect(state.purchases.slice(0, 2).map((p) => p.amount_minor)).toEqual([220, 210]);
    expect(state.stamps).toBe(3);

    await customer.page.reload();
    await expect.poll(() => customer.page.getByRole("img", { name: "3 of 10 stamps" }).count(), slow).toBe(1);
  });
});
