import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  callApi,
  type E2E,
  expectAccessible,
  expectNoMissingTranslations,
  signUpShop,
  startE2E,
} from "./browser.ts";

/**
 * A customer looks after their own data from their card, on a phone: corrects their name and
 * gives their birthday, downloads everything held about them, and deletes the card after being
 * told what is lost; the phone then keeps nothing of it.
 */

let e2e: E2E;
let shop: { slug: string; token: string };

beforeAll(async () => {
  e2e = await startE2E();
  shop = await signUpShop(e2e.baseUrl, {
    prefix: "bakery",
    name: "Bakkerij Zon",
    password: "correct horse battery",
  });
  await callApi(e2e.baseUrl, "POST", "/v1/program/publish", undefined, shop.token);
});
afterAll(async () => e2e?.close());

describe("the customer's own data", () => {
  it("corrects the name, downloads the data and deletes the card", async () => {
    const joined = await callApi<{ member_code: string; card_token: string }>(
      e2e.baseUrl,
      "POST",
      `/v1/public/businesses/${shop.slug}/members`,
      { name: "Ana Souza", email: "ana@example.test", marketing_consent: true, locale: "en" },
    );
    const member = await callApi<{ id: string }>(
      e2e.baseUrl,
      "GET",
      `/v1/members/lookup?code=${joined.member_code}`,
      undefined,
      shop.token,
    );
    await callApi(
      e2e.baseUrl,
      "POST",
      "/v1/purchases",
      { external_id: "till-ana-1", member_id: member.id, amount_minor: 1_250, currency: "EUR" },
      shop.token,
    );

    const watched = await e2e.newPage({ phone: true });
    const { page } = watched;
    await page.goto(`/card/${shop.slug}#t=${joined.card_token}`);
    await expect.poll(() => page.getByRole("heading", { name: "Hello, Ana Souza" }).count()).toBe(1);

    // My details: shown when asked for, then corrected.
    const details = page.getByRole("region", { name: "My details" });
    await details.getByRole("button", { name: "Show my details" }).click();
    await expect.poll(() => details.getByText("ana@example.test").count()).toBe(1);
    await details.getByRole("button", { name: "Correct my details" }).click();
    await expect.poll(() => details.getByLabel("Name").count()).toBe(1);
    await expectAccessible(page, "the details form");
    // Neither an email nor a phone left: the form says so and sends nothing.
    await details.getByLabel("Email address").fill("");
    await details.getByRole("button", { name: "Save my details" }).click();
    await expect.poll(() => details.getByText(/^Keep an email address or a phone number/).count()).toBe(1);
    await details.getByLabel("Email address").fill("ana@example.test");
    await details.getByLabel("Name").fill("Ana Lima");
    await details.getByLabel("Birthday").fill("1990-05-04");
    await details.getByRole("button", { name: "Save my details" }).click();
    await expect.poll(() => details.getByText("Your details are saved.").count()).toBe(1);
    await expect.poll(() => page.getByRole("heading", { name: "Hello, Ana Lima" }).count()).toBe(1);
    expect(await details.getByText("Not given").count()).toBe(1);
    const stored = await callApi<{ name: string; birthday: string; email: string }>(
      e2e.baseUrl,
      "GET",
      `/v1/members/${member.id}`,
      undefined,
      shop.token,
    );
    expect(stored).toMatchObject({ name: "Ana Lima", birthday: "1990-05-04", email: "ana@example.test" });
    // The birthday, once given, is the counter's to change.
    await details.getByRole("button", { name: "Correct my details" }).click();
    await expect
      .poll(() => details.getByText("Your birthday can only be changed at the counter.").count())
      .toBe(1);
    expect(await details.getByLabel("Birthday").getAttribute("readonly")).not.toBeNull();
    await details.getByRole("button", { name: "Cancel" }).click();

    // Download my data: the whole record, as a file.
    const data = page.getByRole("region", { name: "Your data" });
    const download = page.waitForEvent("download");
    await data.getByRole("button", { name: "Download my data" }).click();
    const file = await download;
    expect(file.suggestedFilename()).toBe(`my-data-${joined.member_code}.json`);
    const doc = JSON.parse(readFileSync(await file.path(), "utf8"));
    expect(doc.member).toMatchObject({ id: member.id, name: "Ana Lima", email: "ana@example.test" });
    expect(doc.purchases).toHaveLength(1);

    // Delete my card: first told what is lost, then gone, here and on the server.
    await data.getByRole("button", { name: "Delete my card" }).click();
    const confirm = page.getByRole("region", { name: "Delete your card for good?" });
    await expect.poll(() => confirm.count()).toBe(1);
    expect(await confirm.getByText("Your 12 points are lost: no one can use them any more.").count()).toBe(1);
    expect(await confirm.getByText(/its QR code stop working on every phone/).count()).toBe(1);
    await expectAccessible(page, "the erasure confirmation");
    await expectNoMissingTranslations(watched, "the card's data sections");
    await confirm.getByRole("button", { name: "Yes, delete my card" }).click();
    await expect
      .poll(() => page.getByRole("heading", { name: "Your card has been deleted" }).count())
      .toBe(1);
    await expectAccessible(page, "a deleted card");
    expect(
      await page.evaluate((slug) => localStorage.getItem(`regulars.card.${slug}`), shop.slug),
    ).toBeNull();
    const kept = await page.evaluate(async (slug) => {
      const cache = await caches.open("regulars-wallet-cards-v1");
      return (await cache.keys()).filter((r) => new URL(r.url).searchParams.get("business") === slug).length;
    }, shop.slug);
    expect(kept).toBe(0);
    const erased = await callApi<{ name: string | null; erased_at: string | null }>(
      e2e.baseUrl,
      "GET",
      `/v1/members/${member.id}`,
      undefined,
      shop.token,
    );
    expect(erased.name).toBeNull();
    expect(erased.erased_at).not.toBeNull();
    // The phone holds no card any more.
    await page.reload();
    await expect.poll(() => page.getByRole("heading", { name: "No card on this phone yet" }).count()).toBe(1);
    expect(watched.errors).toEqual([]);
  });

  it("shows a card deleted on another phone as deleted, and forgets it", async () => {
    const joined = await callApi<{ card_token: string }>(
      e2e.baseUrl,
      "POST",
      `/v1/public/businesses/${shop.slug}/members`,
      { name: "Bo Berg", phone: "+31 6 22223333", marketing_consent: false, locale: "nl" },
    );
    const watched = await e2e.newPage({ phone: true, locale: "nl-NL" });
    const { page } = watched;
    await page.goto(`/card/${shop.slug}#t=${joined.card_token}`);
    await expect.poll(() => page.getByRole("heading", { name: "Hallo, Bo Berg" }).count()).toBe(1);
    // Deleted from another phone with the same link.
    const res = await fetch(`${e2e.baseUrl}/v1/wallet/me/erase`, {
      method: "POST",
      headers: { authorization: `Bearer ${joined.card_token}`, "content-type": "application/json" },
      body: JSON.stringify({ confirm: "ERASE" }),
    });
    expect(res.status).toBe(200);
    await page.reload();
    await expect.poll(() => page.getByRole("heading", { name: "Je kaart is verwijderd" }).count()).toBe(1);
    expect(
      await page.evaluate((slug) => localStorage.getItem(`regulars.card.${slug}`), shop.slug),
    ).toBeNull();
    await expectNoMissingTranslations(watched, "a deleted card in Dutch");
    // The refused card read is the only failed request.
    expect(watched.errors.filter((e) => !e.includes("410"))).toEqual([]);
  });
});
