import jsqr from "jsqr";
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
 * The owner's admin pages in Chromium: finding a member, reading their history, correcting their
 * points with a reason, issuing an API key that is shown once, downloading the poster — and every
 * page accessible and fully translated in English, Dutch, Polish and Brazilian Portuguese.
 */

const PASSWORD = "owner-pass-2026";
// jsqr is CommonJS typed as an ES default export: at run time the module is the function itself.
const jsQR = ((jsqr as unknown as { default?: unknown }).default ?? jsqr) as typeof jsqr.default;
const slow = { timeout: 15_000 };

let e2e: E2E;
let shop: { slug: string; email: string; token: string; anna: string };

const call = <T = any>(method: string, path: string, body?: unknown, token?: string): Promise<T> =>
  callApi<T>(e2e.baseUrl, method, path, body, token);

/** A bakery with a stamp card and its reward, two tiers, two members and a purchase by one of them. */
async function setUpShop() {
  const { slug, email, token } = await signUpShop(e2e.baseUrl, {
    prefix: "bakery",
    name: "Bakkerij Bol",
    password: PASSWORD,
  });
  const card = await call<{ id: string }>(
    "POST",
    "/v1/stamp-cards",
    { name: "Bread card", stamps_required: 8, earn_on: "visit" },
    token,
  );
  await call(
    "POST",
    "/v1/rewards",
    { type: "free_product", name: "Free loaf", stamp_card_id: card.id, value: { product_name: "Loaf" } },
    token,
  );
  await call(
    "POST",
    "/v1/rewards",
    {
      type: "free_product",
      name: "Cinnamon roll",
      cost_points: 30,
      value: { product_name: "Cinnamon roll" },
    },
    token,
  );
  await call("POST", "/v1/tiers", { name: "Regular", rank: 1, threshold: 0 }, token);
  await call("POST", "/v1/tiers", { name: "Gold", rank: 2, threshold: 50_000 }, token);
  const anna = await call<{ id: string }>(
    "POST",
    "/v1/members",
    { name: "Anna de Vries", email: "anna@example.test", marketing_consent: true },
    token,
  );
  await call(
    "POST",
    "/v1/members",
    { name: "Bram Bakker", phone: "+31 6 12345678", marketing_consent: false },
    token,
  );
  await call(
    "POST",
    "/v1/purchases",
    { external_id: "till-1", member_id: anna.id, amount_minor: 1_250, currency: "EUR" },
    token,
  );
  return { slug, email, token, anna: anna.id };
}

/** A page logged in as the owner through a cookie session, as the login form would do. */
async function ownerPage(): Promise<WatchedPage> {
  const watched = await e2e.newPage();
  const login = await watched.page.request.post("/v1/auth/login", {
    data: { business: shop.slug, email: shop.email, password: PASSWORD, session: "cookie" },
  });
  expect(login.status()).toBe(200);
  return watched;
}

/** Opens a dashboard page and waits until it has its heading and nothing is loading any more. */
async function open(watched: WatchedPage, path: string, heading: string | RegExp) {
  await watched.page.goto(path);
  await expect
    .poll(() => watched.page.getByRole("heading", { level: 1, name: heading }).count(), slow)
    .toBe(1);
  await expect.poll(() => watched.page.locator("[aria-busy=true]").count(), slow).toBe(0);
}

beforeAll(async () => {
  e2e = await startE2E();
  shop = await setUpShop();
});
afterAll(async () => e2e?.close());

describe("the admin pages", () => {
  it("finds a member, shows why each line of history happened, and corrects the points with a reason", async () => {
    const watched = await ownerPage();
    const { page } = watched;
    await open(watched, "/app/members", "Members");
    await page.getByLabel("Search by name, email, phone or card code").fill("anna");
    await expect.poll(() => page.getByRole("link", { name: "Bram Bakker" }).count(), slow).toBe(0);
    await page.getByRole("link", { name: "Anna de Vries" }).click();

    await expect
      .poll(() => page.getByRole("heading", { level: 1, name: "Anna de Vries" }).count(), slow)
      .toBe(1);
    const points = page.getByTestId("points-available");
    await expect.poll(() => points.textContent(), slow).toBe("12 points");
    // The rewards come from a request of their own, which may answer after the balance.
    await expect.poll(() => page.getByText("Nothing to redeem yet.").count(), slow).toBe(1);
    const history = page.getByRole("region", { name: "History" });
    await expect.poll(() => history.getByRole("row").count(), slow).toBeGreaterThan(1);
    expect(await history.textContent()).toContain("from a purchase");
    await expect.poll(() => page.getByRole("list", { name: "1 of 8 stamps" }).count(), slow).toBe(1);

    await page.getByLabel("Change", { exact: true }).fill("-20");
    await page.getByLabel("Reason").fill("Wrong till");
    await page.getByRole("button", { name: "Apply correction" }).click();
    await expect
      .poll(() => page.getByText("The member does not have that many points to take away.").count(), slow)
      .toBe(1);
    expect(await points.textContent()).toBe("12 points");

    await page.getByLabel("Change", { exact: true }).fill("25");
    await page.getByLabel("Reason").fill("");
    await page.getByRole("button", { name: "Apply correction" }).click();
    await expect.poll(() => page.getByText("Say why, in at least 3 characters.").count()).toBe(1);

    await page.getByLabel("Reason").fill("Welcome gift from the owner");
    await page.getByRole("button", { name: "Apply correction" }).click();
    await expect.poll(() => points.textContent(), slow).toBe("37 points");
    // With 37 points the roll (30) is now within reach.
    const rewards = page.getByRole("region", { name: "Rewards available now" });
    await expect.poll(() => rewards.getByText("Cinnamon roll").count(), slow).toBe(1);
    const line = history.getByRole("row", { name: /Welcome gift from the owner/ });
    await expect.poll(() => line.count(), slow).toBe(1);
    expect(await line.textContent()).toMatch(/\+25 points.*Correction.*by hand.*Olga Owner/);

    // Details: the bakery is in the Netherlands, so a phone is typed as dialled there; a number
    // that is not a Dutch one is refused at the field, saying what to write, then saved.
    const details = page.getByRole("form", { name: "Details" });
    const phone = details.getByRole("textbox", { name: "Phone" });
    expect(await details.textContent()).toContain(
      "E.g. 06 12345678, or with + and the country code for a number from abroad.",
    );
    await phone.fill("0612");
    await details.getByRole("button", { name: "Save" }).click();
    await expect.poll(() => phone.getAttribute("aria-invalid"), slow).toBe("true");
    expect(await details.textContent()).toContain(
      "Not accepted: must be a Dutch number (06 12345678) or start with + and the country code",
    );
    await phone.fill("06-1111 2222");
    await details.getByRole("checkbox", { name: "Agrees to marketing messages" }).uncheck();
    await details.getByRole("button", { name: "Save" }).click();
    await expect.poll(() => details.getByRole("status").textContent(), slow).toBe("Saved");
    const saved = await call<{ phone: string; marketing_consent: boolean }>(
      "GET",
      `/v1/members/${shop.anna}`,
      undefined,
      shop.token,
    );
    expect(saved).toMatchObject({ phone: "+31611112222", marketing_consent: false });

    await expectAccessible(page, "member page");
    // The refused correction (409) and phone (400) are the failed requests the browser logs.
    expect(watched.errors.filter((e) => !/status of (409|400)/.test(e))).toEqual([]);
  });

  it("says why a line happened and why the tier moved in the reader's language", async () => {
    const watched = await ownerPage();
    const { page } = watched;
    await open(watched, `/app/members/${shop.anna}`, "Anna de Vries");
    const tiers = page.getByRole("region", { name: "Tier changes" });
    await expect.poll(() => tiers.getByRole("row").count(), slow).toBeGreaterThan(1);
    expect(await tiers.textContent()).toMatch(/No tier → Regular.*Regular: reached with €0\.00 spent/);
    const history = page.getByRole("region", { name: "History" });
    await expect.poll(() => history.textContent(), slow).toContain("1 point per €1.00");

    // The same page in Dutch: the server's figures, worded and formatted in Dutch.
    await page.evaluate(() => localStorage.setItem("regulars.locale", "nl"));
    await open(watched, `/app/members/${shop.anna}`, "Anna de Vries");
    const geschiedenis = page.getByRole("region", { name: "Geschiedenis" });
    await expect.poll(() => geschiedenis.textContent(), slow).toMatch(/1 punt per €\s1,00/);
    const niveaus = page.getByRole("region", { name: "Niveauwijzigingen" });
    await expect
      .poll(() => niveaus.textContent(), slow)
      .toMatch(/Geen niveau → Regular.*Regular: bereikt met €\s0,00/);
    await page.evaluate(() => localStorage.removeItem("regulars.locale"));
    expect(watched.errors).toEqual([]);
  });

  it("enrols a member by hand, asking for the marketing choice and refusing a taken email at its field", async () => {
    const watched = await ownerPage();
    const { page } = watched;
    await open(watched, "/app/members", "Members");
    await page.getByRole("button", { name: "Add member" }).click();
    const form = page.getByRole("form", { name: "New member" });
    await form.getByLabel("Name").fill("Cor Claes");
    await form.getByLabel("Email").fill("anna@example.test");
    await form.getByLabel("No marketing messages").check();
    await form.getByRole("button", { name: "Add member" }).click();
    const email = form.getByRole("textbox", { name: "Email" });
    await expect.poll(() => email.getAttribute("aria-invalid"), slow).toBe("true");
    expect(await form.textContent()).toContain("Another member already has this email address.");

    await email.fill("cor@example.test");
    await form.getByRole("button", { name: "Add member" }).click();
    await expect.poll(() => page.getByRole("heading", { level: 1, name: "Cor Claes" }).count(), slow).toBe(1);
    expect(page.url()).toMatch(/\/app\/members\/[0-9a-f-]{36}$/);
    expect(await page.getByRole("checkbox", { name: "Agrees to marketing messages" }).isChecked()).toBe(
      false,
    );
    // Enrolled by hand, Cor has no card on the phone yet: the page gives one, to scan.
    await page.getByRole("button", { name: "Show a new card link" }).click();
    await page.getByRole("button", { name: "Yes, end the old link and show a new one" }).click();
    await expect
      .poll(() => page.getByRole("img", { name: "QR code of the customer's card link" }).count(), slow)
      .toBe(1);
    expect(await page.locator(".card-link-url").textContent()).toMatch(/\/card\/bakery-[a-z0-9]+#t=rm_/);
    expect(watched.errors.filter((e) => !e.includes("status of 409"))).toEqual([]);
  });

  it("shows a new API key once, with a copy button, and never again", async () => {
    const watched = await ownerPage();
    const { page } = watched;
    await open(watched, "/app/settings", "Settings");
    const keys = page.getByRole("region", { name: "API keys" });
    await keys.getByLabel("Name").fill("Till at the bakery");
    await keys.getByLabel("Role").selectOption("manager");
    await keys.getByRole("button", { name: "Create key" }).click();
    const secret = keys.getByLabel("The new API key");
    await expect.poll(() => secret.count(), slow).toBe(1);
    const key = await secret.inputValue();
    expect(key).toMatch(/^rk_/);
    expect(await keys.getByRole("button", { name: "Copy key" }).count()).toBe(1);
    expect(await keys.textContent()).toContain("It is shown only this once");
    // The key works.
    const me = await call<{ actor: { role: string } }>("GET", "/v1/auth/me", undefined, key);
    expect(me.actor.role).toBe("manager");

    await keys.getByRole("button", { name: "I have stored it" }).click();
    await expect.poll(() => secret.count()).toBe(0);
    await page.reload();
    await expect.poll(() => page.getByText("Till at the bakery", { exact: true }).count(), slow).toBe(1);
    expect(await page.content()).not.toContain(key);

    // Revoking asks once more, then the key stops working at once.
    await page.getByRole("button", { name: "Revoke Till at the bakery" }).click();
    await page.getByRole("button", { name: /^Yes, revoke “Till at the bakery”/ }).click();
    await expect.poll(() => page.getByText(/^Revoked /).count(), slow).toBe(1);
    const refused = await fetch(`${e2e.baseUrl}/v1/auth/me`, { headers: { authorization: `Bearer ${key}` } });
    expect(refused.status).toBe(401);
    expect(watched.errors).toEqual([]);
  });

  it("manages locations and staff, with the API's errors next to the field they concern", async () => {
    const watched = await ownerPage();
    const { page } = watched;
    await open(watched, "/app/settings", "Settings");
    const locations = page.getByRole("region", { name: "Locations" });
    await locations.getByLabel("Name").fill("Market stall");
    await locations.getByRole("button", { name: "Add location" }).click();
    await expect.poll(() => locations.getByText("Market stall", { exact: true }).count(), slow).toBe(1);
    await locations.getByRole("button", { name: "Rename Market stall" }).click();
    await locations.getByLabel("New name for Market stall").fill("Saturday market");
    await locations.getByRole("button", { name: "Save" }).click();
    await expect.poll(() => locations.getByText("Saturday market", { exact: true }).count(), slow).toBe(1);
    await locations.getByRole("button", { name: "Archive Saturday market" }).click();
    await expect.poll(() => locations.getByText("Archived", { exact: true }).count(), slow).toBe(1);

    const staff = page.getByRole("region", { name: "Staff" });
    await staff.getByLabel("Name").fill("Sam Seller");
    await staff.getByLabel("Email").fill(shop.email);
    await staff.getByLabel("Role", { exact: true }).selectOption("manager");
    await staff.getByLabel("Initial password").fill("seller-pass-2026");
    await staff.getByRole("button", { name: "Add staff member" }).click();
    const email = staff.getByRole("textbox", { name: "Email" });
    await expect.poll(() => email.getAttribute("aria-invalid"), slow).toBe("true");
    expect(await staff.textContent()).toContain("A staff member with this email address already exists.");

    await email.fill(`sam@${shop.slug}.test`);
    await staff.getByRole("button", { name: "Add staff member" }).click();
    await expect.poll(() => staff.getByText("Sam Seller can log in now.").count(), slow).toBe(1);
    await staff.getByLabel("Role of Sam Seller").selectOption("cashier");
    await expect
      .poll(
        async () =>
          (
            await call<{ data: { name: string; role: string }[] }>("GET", "/v1/staff", undefined, shop.token)
          ).data.find((s) => s.name === "Sam Seller")?.role,
        slow,
      )
      .toBe("cashier");
    await staff.getByRole("button", { name: "Reset password of Sam Seller" }).click();
    await staff.getByLabel("New password for Sam Seller").fill("a brand new password");
    await staff.getByRole("button", { name: "Set password", exact: true }).click();
    await expect.poll(() => staff.getByText(/Sam Seller's password was changed/).count(), slow).toBe(1);
    const login = await fetch(`${e2e.baseUrl}/v1/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        business: shop.slug,
        email: `sam@${shop.slug}.test`,
        password: "a brand new password",
      }),
    });
    expect(login.status).toBe(200);
    await staff.getByRole("button", { name: "Disable Sam Seller" }).click();
    await expect.poll(() => staff.getByRole("button", { name: "Enable Sam Seller" }).count(), slow).toBe(1);

    await expectAccessible(page, "settings after changes");
    // The refused invitation (409) is the one failed request the browser logs.
    expect(watched.errors.filter((e) => !e.includes("status of 409"))).toEqual([]);
  });

  it("adds a location once when its answer was lost and the owner presses Add again", async () => {
    const watched = await ownerPage();
    const { page } = watched;
    let lost = 0;
    // The first POST reaches the server and is done there; its answer never reaches the page.
    await page.route("**/v1/locations", async (route) => {
      if (route.request().method() === "POST" && lost === 0) {
        lost++;
        await route.fetch();
        await route.abort("connectionreset");
      } else await route.continue();
    });
    await open(watched, "/app/settings", "Settings");
    const locations = page.getByRole("region", { name: "Locations" });
    await locations.getByLabel("Name", { exact: true }).fill("Harbour kiosk");
    await locations.getByRole("button", { name: "Add location" }).click();
    await expect.poll(() => locations.getByRole("alert").count(), slow).toBe(1);
    await locations.getByRole("button", { name: "Add location" }).click();
    await expect.poll(() => locations.getByText("Harbour kiosk", { exact: true }).count(), slow).toBe(1);
    const all = await call<{ data: { name: string }[] }>("GET", "/v1/locations", undefined, shop.token);
    expect([lost, all.data.filter((l) => l.name === "Harbour kiosk").length]).toEqual([1, 1]);
  });

  it("shows a manager what a manager may do", async () => {
    const email = `mia@${shop.slug}.test`;
    await call(
      "POST",
      "/v1/staff",
      { email, name: "Mia Manager", role: "manager", password: "manager-pass-2026" },
      shop.token,
    );
    const watched = await e2e.newPage();
    const { page } = watched;
    const login = await page.request.post("/v1/auth/login", {
      data: { business: shop.slug, email, password: "manager-pass-2026", session: "cookie" },
    });
    expect(login.status()).toBe(200);
    await open(watched, "/app/settings", "Settings");
    expect(await page.getByText("Only an owner can change these settings").count()).toBe(1);
    expect(
      await page.getByRole("textbox", { name: "Business name" }).getAttribute("readonly"),
    ).not.toBeNull();
    expect(await page.getByRole("region", { name: "Locations" }).count()).toBe(1);
    expect(await page.getByRole("region", { name: "Staff" }).count()).toBe(0);
    expect(await page.getByRole("region", { name: "API keys" }).count()).toBe(0);
    await expectAccessible(page, "settings as a manager");
    await open(watched, `/app/members/${shop.anna}`, "Anna de Vries");
    expect(await page.getByRole("button", { name: "Apply correction" }).count()).toBe(1);
    await open(watched, "/app/launch-kit", "Launch kit");
    // The poster's links come with the kit, which loads after the page's heading.
    await expect.poll(() => page.getByRole("link", { name: "Download A5 poster" }).count(), slow).toBe(1);
    expect(watched.errors).toEqual([]);
  });

  it("downloads a member's data and erases it at their request, keeping their points", async () => {
    const member = await call<{ id: string }>(
      "POST",
      "/v1/members",
      { name: "Erik Erased", email: "erik@example.test", marketing_consent: true },
      shop.token,
    );
    await call(
      "POST",
      "/v1/purchases",
      { external_id: "till-erik", member_id: member.id, amount_minor: 800, currency: "EUR" },
      shop.token,
    );
    const watched = await ownerPage();
    const { page } = watched;
    await open(watched, `/app/members/${member.id}`, "Erik Erased");
    const privacy = page.getByRole("region", { name: "Personal data" });
    const download = page.waitForEvent("download");
    await privacy.getByRole("button", { name: "Download their data" }).click();
    const file = await download;
    const saved = await file.path();
    const { readFileSync } = await import("node:fs");
    const doc = JSON.parse(readFileSync(saved, "utf8"));
    expect(doc.member).toMatchObject({ name: "Erik Erased", email: "erik@example.test" });
    expect(doc.purchases).toHaveLength(1);

    await privacy.getByRole("button", { name: "Erase personal data" }).click();
    await privacy.getByLabel("Why (e.g. the date and how they asked)").fill("asked by email today");
    await privacy.getByRole("button", { name: "Erase for good" }).click();
    await expect.poll(() => page.getByText(/^Personal data erased on /).count(), slow).toBe(1);
    await expect
      .poll(() => page.getByRole("heading", { level: 1, name: "Erik Erased" }).count(), slow)
      .toBe(0);
    const card = await call<{ points: { available: number } }>(
      "GET",
      `/v1/members/${member.id}/card`,
      undefined,
      shop.token,
    );
    expect(card.points.available).toBeGreaterThan(0);
    await expectAccessible(page, "an erased member");
    expect(watched.errors).toEqual([]);
  });

  it("downloads the A4 poster and tells the program in a sentence", async () => {
    const watched = await ownerPage();
    const { page } = watched;
    await open(watched, "/app/launch-kit", "Launch kit");
    // On the poster, and in the staff script that tells it at the counter.
    const sentence = "Collect 8 stamps and get Free loaf.";
    await expect.poll(() => page.locator("figure.admin-poster").getByText(sentence).count(), slow).toBe(1);
    expect(await page.getByRole("listitem").filter({ hasText: sentence }).count()).toBe(1);
    expect(await page.getByText(/not published yet/).count()).toBe(1);
    expect(
      await page.getByRole("link", { name: "Finish and publish your program" }).getAttribute("href"),
    ).toBe("/app/onboarding");
    expect(await page.getByRole("textbox", { name: "Join link" }).inputValue()).toBe(
      `${e2e.baseUrl}/join/${shop.slug}`,
    );
    // The test server is on 127.0.0.1, which no customer's phone reaches: the page says so.
    expect(await page.getByText(/customers' phones cannot open it.*PUBLIC_URL/).count()).toBe(1);
    // The QR code on the page scans as the join link.
    const side = 300;
    const pixels = await page.evaluate(async (size) => {
      const svg = document.querySelector("svg.admin-qr");
      if (!svg) return [];
      const image = new Image();
      image.src = `data:image/svg+xml;base64,${btoa(new XMLSerializer().serializeToString(svg))}`;
      await image.decode();
      const canvas = document.createElement("canvas");
      canvas.width = size;
      canvas.height = size;
      const context = canvas.getContext("2d");
      context?.drawImage(image, 0, 0, size, size);
      return Array.from(context?.getImageData(0, 0, size, size).data ?? []);
    }, side);
    expect(jsQR(Uint8ClampedArray.from(pixels), side, side)?.data).toBe(`${e2e.baseUrl}/join/${shop.slug}`);
    const href = await page.getByRole("link", { name: "Download A4 poster" }).getAttribute("href");
    expect(href).toContain("size=a4");
    const pdf = await page.request.get(href ?? "");
    expect(pdf.status()).toBe(200);
    expect(pdf.headers()["content-type"]).toBe("application/pdf");
    expect((await pdf.body()).subarray(0, 5).toString("latin1")).toBe("%PDF-");
    expect(watched.errors).toEqual([]);
  });

  for (const [locale, headings] of [
    ["nl", { members: "Leden", kit: "Startkit", settings: "Instellingen" }],
    ["pl", { members: "Klienci", kit: "Zestaw startowy", settings: "Ustawienia" }],
    ["pt-BR", { members: "Clientes", kit: "Kit de lançamento", settings: "Configurações" }],
    ["en", { members: "Members", kit: "Launch kit", settings: "Settings" }],
  ] as const) {
    it(`has every admin page accessible and translated in ${locale}`, async () => {
      const watched = await ownerPage();
      const { page } = watched;
      await page.goto("/app/members");
      await page.evaluate((l) => localStorage.setItem("regulars.locale", l), locale);
      const pages: [string, string | RegExp][] = [
        ["/app/members", headings.members],
        [`/app/members/${shop.anna}`, "Anna de Vries"],
        ["/app/launch-kit", headings.kit],
        ["/app/settings", headings.settings],
      ];
      for (const [path, heading] of pages) {
        await open(watched, path, heading);
        expect(await page.getAttribute("html", "lang")).toBe(locale);
        await expectNoMissingTranslations(watched, `${path} in ${locale}`);
        await expectAccessible(page, `${path} in ${locale}`);
      }
      expect(watched.errors).toEqual([]);
    });
  }
});
