import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callApi, type E2E, signUpShop, startE2E, type WatchedPage } from "./browser.ts";

/**
 * Edit forms in the merchant dashboard never write back what they did not change: a member's own
 * opt-out, another owner's time zone, another manager's expiry, a text value of a rule, a tier or
 * location archived since. And a double click does a thing once.
 */

const PASSWORD = "owner-pass-2026";
const slow = { timeout: 15_000 };
let e2e: E2E;

const call = <T = any>(method: string, path: string, body?: unknown, token?: string): Promise<T> =>
  callApi<T>(e2e.baseUrl, method, path, body, token);

async function shop(locale = "en") {
  return signUpShop(e2e.baseUrl, { prefix: "shop", name: "Bakkerij Bol", password: PASSWORD, locale });
}

async function login(s: { slug: string; email: string }, pageLocale = "en-US", uiLocale?: string) {
  const watched = await e2e.newPage({ locale: pageLocale });
  if (uiLocale) {
    await watched.context.addInitScript((l) => localStorage.setItem("regulars.locale", l), uiLocale);
  }
  const res = await watched.page.request.post("/v1/auth/login", {
    data: { business: s.slug, email: s.email, password: PASSWORD, session: "cookie" },
  });
  expect(res.status()).toBe(200);
  return watched;
}

async function open(w: WatchedPage, path: string) {
  await w.page.goto(path);
  await expect.poll(() => w.page.locator("main h1").count(), slow).toBeGreaterThan(0);
  await expect.poll(() => w.page.locator("[aria-busy=true]").count(), slow).toBe(0);
}

function row(page: Page, name: string) {
  return page.getByRole("listitem").filter({ has: page.getByRole("heading", { name }) });
}

beforeAll(async () => {
  e2e = await startE2E();
});
afterAll(async () => e2e?.close());

describe("dashboard edits", () => {
  it("member details: a consent the member withdrew in the wallet is not written back by the next save", async () => {
    const s = await shop();
    const anna = await call(
      "POST",
      "/v1/members",
      { name: "Anna de Vries", email: "anna@x.test", marketing_consent: true },
      s.token,
    );
    const link = await call("POST", `/v1/members/${anna.id}/card-link`, {}, s.token);
    const w = await login(s);
    const { page } = w;
    await open(w, `/app/members/${anna.id}`);
    const details = page.getByRole("form", { name: "Details" });
    await expect
      .poll(() => details.getByRole("textbox", { name: "Name" }).inputValue(), slow)
      .toBe("Anna de Vries");

    // Meanwhile Anna opts out of marketing on her phone.
    await call("PATCH", "/v1/wallet/me", { marketing_consent: false }, link.card_token);

    // The owner fixes a typo in the name and saves.
    await details.getByRole("textbox", { name: "Name" }).fill("Anna de Vries-Bol");
    await details.getByRole("button", { name: "Save" }).click();
    await expect.poll(() => details.getByRole("status").textContent(), slow).toBe("Saved");
    expect((await call("GET", `/v1/members/${anna.id}`, undefined, s.token)).marketing_consent).toBe(false);
    // The form now shows the member as stored: the opt-out included.
    await expect
      .poll(() => details.getByRole("checkbox", { name: "Agrees to marketing messages" }).isChecked(), slow)
      .toBe(false);

    // Another small fix, saved.
    await details.getByRole("textbox", { name: "Name" }).fill("Anna de Vries-Bolk");
    await details.getByRole("button", { name: "Save" }).click();
    await expect
      .poll(async () => (await call("GET", `/v1/members/${anna.id}`, undefined, s.token)).name, slow)
      .toBe("Anna de Vries-Bolk");
    const afterSecond = await call("GET", `/v1/members/${anna.id}`, undefined, s.token);
    expect(afterSecond.marketing_consent).toBe(false);
  });

  it("points & expiry: a save over a change made elsewhere meanwhile is refused; the page keeps the typing and shows that change", async () => {
    const s = await shop();
    const w = await login(s);
    const { page } = w;
    await open(w, "/app/program");
    await expect.poll(() => page.getByLabel("Days before points can be spent").inputValue(), slow).toBe("0");
    // Another manager sets points to expire 12 months after the month earned.
    const program = await call("GET", "/v1/program", undefined, s.token);
    await call(
      "PUT",
      "/v1/program",
      {
        ...program.config,
        points: { ...program.config.points, expiry: { policy: "end_of_month", months_after: 12 } },
      },
      s.token,
    );
    // This manager changes only the pending days.
    await page.getByLabel("Days before points can be spent").fill("14");
    await page.getByRole("button", { name: "Save" }).click();
    await expect
      .poll(() => page.getByText(/^Someone changed these settings meanwhile/).count(), slow)
      .toBe(1);
    const after = await call("GET", "/v1/program", undefined, s.token);
    expect(after.config.points.expiry).toEqual({ policy: "end_of_month", months_after: 12 });
    expect(after.config.points.pending_days).toBe(0);
    // The page now shows the other manager's change, keeps this manager's typing, and says which
    // is which; saving again keeps both.
    await expect
      .poll(() => page.getByLabel("Months after the month they were earned in").inputValue(), slow)
      .toBe("12");
    expect(await page.getByLabel("Days before points can be spent").inputValue()).toBe("14");
    const alert = page.getByRole("alert");
    expect(await alert.textContent()).toContain("Changed by them: Points expire.");
    expect(await alert.textContent()).toContain(
      "Your changes, not saved yet: Days before points can be spent.",
    );
    await page.getByRole("button", { name: "Save" }).click();
    await expect.poll(() => page.getByRole("status").textContent(), slow).toBe("Saved");
    const saved = await call("GET", "/v1/program", undefined, s.token);
    expect(saved.config.points).toMatchObject({
      pending_days: 14,
      expiry: { policy: "end_of_month", months_after: 12 },
    });
  });

  it("points & expiry: a conflict over the same field keeps the typed value and names the field", async () => {
    const s = await shop();
    const w = await login(s);
    const { page } = w;
    await open(w, "/app/program");
    await expect
      .poll(() => page.getByLabel("Warn members this many days before").inputValue(), slow)
      .toBe("30");
    const program = await call("GET", "/v1/program", undefined, s.token);
    await call(
      "PUT",
      "/v1/program",
      { ...program.config, points: { ...program.config.points, expiring_soon_days: 7 } },
      s.token,
    );
    await page.getByLabel("Warn members this many days before").fill("14");
    await page.getByRole("button", { name: "Save" }).click();
    await expect
      .poll(async () => (await page.getByRole("alert").textContent()) ?? "", slow)
      .toContain(
        "They changed these too; saving puts yours in place of theirs: Warn members this many days before.",
      );
    expect(await page.getByLabel("Warn members this many days before").inputValue()).toBe("14");
    expect((await call("GET", "/v1/program", undefined, s.token)).config.points.expiring_soon_days).toBe(7);
    await page.getByRole("button", { name: "Save" }).click();
    await expect.poll(() => page.getByRole("status").textContent(), slow).toBe("Saved");
    expect((await call("GET", "/v1/program", undefined, s.token)).config.points.expiring_soon_days).toBe(14);
    // The refusal the test asks for is the only thing the console reports.
    expect(w.errors.filter((e) => !e.includes("Failed to load resource"))).toEqual([]);
  });

  it("points & expiry: switching the tier metric names the tiers, what their thresholds will mean, and asks first", async () => {
    const s = await shop();
    const program = await call("GET", "/v1/program", undefined, s.token);
    await call(
      "PUT",
      "/v1/program",
      { ...program.config, tiers: { ...program.config.tiers, metric: "visits" } },
      s.token,
    );
    await call("POST", "/v1/tiers", { name: "Regular", rank: 1, threshold: 0 }, s.token);
    await call("POST", "/v1/tiers", { name: "Gold", rank: 2, threshold: 10 }, s.token);
    const w = await login(s);
    const { page } = w;
    await open(w, "/app/program");
    const metric = page.getByLabel("Members reach a tier by");
    await expect.poll(() => metric.inputValue(), slow).toBe("visits");
    await metric.selectOption("spend");
    const main = page.locator("main");
    await expect
      .poll(async () => (await main.textContent()) ?? "", slow)
      .toContain("Gold: from €0.10 (now from 10 visits)");
    // Saving without confirming changes nothing and puts the focus on the confirmation.
    await page.getByRole("button", { name: "Save" }).click();
    const confirm = page.getByLabel("Change how tiers are counted anyway");
    await expect.poll(() => confirm.getAttribute("aria-invalid"), slow).toBe("true");
    expect(await confirm.evaluate((el) => el === document.activeElement)).toBe(true);
    expect((await call("GET", "/v1/program", undefined, s.token)).config.tiers.metric).toBe("visits");
    await confirm.check();
    await page.getByRole("button", { name: "Save" }).click();
    await expect.poll(() => page.getByRole("status").textContent(), slow).toBe("Saved");
    expect((await call("GET", "/v1/program", undefined, s.token)).config.tiers.metric).toBe("spend");
    expect(w.errors).toEqual([]);
  });

  it("points & expiry: points expiring before they can be spent are refused at the field, in the owner's language", async () => {
    const s = await shop("nl");
    const w = await login(s, "nl-NL");
    const { page } = w;
    await open(w, "/app/program");
    await page.getByLabel("Punten vervallen").selectOption("days_after_earn");
    await page.getByLabel("Dagen na het sparen").fill("14");
    const pending = page.getByLabel("Dagen voordat punten te besteden zijn");
    await pending.fill("30");
    await page.getByRole("button", { name: "Opslaan" }).click();
    await expect.poll(() => pending.getAttribute("aria-invalid"), slow).toBe("true");
    const text = (await page.locator("main form").textContent()) ?? "";
    expect(text).toContain("minder dan de dagen tot ze vervallen (14)");
    expect(text).not.toContain("pending_days");
    expect(await pending.evaluate((el) => el === document.activeElement)).toBe(true);
  });

  it("tiers: renaming a tier keeps a benefit another manager added meanwhile", async () => {
    const s = await shop();
    const gold = await call("POST", "/v1/tiers", { name: "Gold", rank: 1, threshold: 0 }, s.token);
    const w = await login(s);
    const { page } = w;
    await open(w, "/app/program/tiers");
    await row(page, "Gold").getByRole("button", { name: "Edit" }).click();
    await expect.poll(() => page.getByLabel("Name", { exact: true }).inputValue(), slow).toBe("Gold");
    await call("PATCH", `/v1/tiers/${gold.id}`, { benefits: ["Free coffee on Fridays"] }, s.token);
    await page.getByLabel("Name", { exact: true }).fill("Gold+");
    await page.getByRole("button", { name: "Save" }).click();
    await expect.poll(() => page.getByRole("heading", { name: "Gold+" }).count(), slow).toBe(1);
    const after = await call("GET", `/v1/tiers/${gold.id}`, undefined, s.token);
    expect(after).toMatchObject({ name: "Gold+", benefits: ["Free coffee on Fridays"] });
    expect(w.errors).toEqual([]);
  });

  it("tiers: a multiplier's limit is a factor, and an empty multiplier is ×1", async () => {
    const s = await shop();
    const w = await login(s);
    const { page } = w;
    await open(w, "/app/program/tiers");
    await page.getByRole("button", { name: "New tier" }).click();
    await page.getByLabel("Name", { exact: true }).fill("Silver");
    await page.getByLabel(/^Spend to reach/).fill("100");
    const multiplier = page.getByLabel("Points multiplier");
    await multiplier.fill("0.5");
    await page.getByRole("button", { name: "Save" }).click();
    await expect.poll(() => multiplier.getAttribute("aria-invalid"), slow).toBe("true");
    expect(await page.locator("main form").textContent()).toContain("Enter 1 or more.");
    expect(await page.locator("main form").textContent()).not.toContain("10000");
    // After the refused save the focus is on the field to correct.
    expect(await multiplier.evaluate((el) => el === document.activeElement)).toBe(true);
    await multiplier.fill("");
    await page.getByRole("button", { name: "Save" }).click();
    await expect.poll(() => page.getByRole("heading", { name: "Silver" }).count(), slow).toBe(1);
    const tiers = await call("GET", "/v1/tiers", undefined, s.token);
    expect(tiers.data[0]).toMatchObject({ name: "Silver", threshold: 10_000, earn_multiplier_bp: 10_000 });
    // The refusal the test asks for is the only thing the console reports.
    expect(w.errors.filter((e) => !e.includes("Failed to load resource"))).toEqual([]);
  });

  it("stamp cards: a product card stamps up to 10 per purchase unless told, and a card without a reward says so", async () => {
    const s = await shop();
    const w = await login(s);
    const { page } = w;
    await open(w, "/app/program/stamp-cards");
    await page.getByRole("button", { name: "New stamp card" }).click();
    const earnOn = page.getByLabel("A stamp for every");
    // "Purchase" stamps as "Visit" does: a new card is not offered both.
    expect(await earnOn.locator("option").allTextContents()).toEqual([
      "Visit",
      "Matching product on the receipt",
    ]);
    expect(await page.getByLabel("Most stamps per purchase").count()).toBe(0);
    await page.getByLabel("Name", { exact: true }).fill("Croissant card");
    await earnOn.selectOption("item");
    expect(await page.getByLabel("Most stamps per purchase").inputValue()).toBe("10");
    // Saving without products: the group's error describes the group, and the focus goes into it.
    await page.getByRole("button", { name: "Save" }).click();
    const group = page.getByRole("group", { name: "Which products" });
    await expect.poll(() => group.getAttribute("aria-describedby"), slow).toMatch(/error/);
    expect(await page.getByLabel(/^Product codes/).evaluate((el) => el === document.activeElement)).toBe(
      true,
    );
    await page.getByLabel(/^Product codes/).fill("croissant");
    await page.getByRole("button", { name: "Save" }).click();
    await expect.poll(() => page.getByRole("heading", { name: "Croissant card" }).count(), slow).toBe(1);
    const card = row(page, "Croissant card");
    expect(await card.textContent()).toContain("At most 10 stamps per purchase.");
    expect(await card.textContent()).toContain("No reward is paid with a full card yet.");
    const cards = await call("GET", "/v1/stamp-cards", undefined, s.token);
    expect(cards.data[0]).toMatchObject({ earn_on: "item", max_stamps_per_purchase: 10 });
    // The refusal the test asks for is the only thing the console reports.
    expect(w.errors.filter((e) => !e.includes("Failed to load resource"))).toEqual([]);
  });

  it("tiers: archiving a tier members are in is refused in the owner's language, with the count", async () => {
    const s = await shop("pl");
    await call("POST", "/v1/tiers", { name: "Srebrny", rank: 1, threshold: 0 }, s.token);
    const ola = await call("POST", "/v1/members", { name: "Ola", marketing_consent: false }, s.token);
    // A purchase qualifies her for the tier.
    await call(
      "POST",
      "/v1/purchases",
      { external_id: "p1", member_id: ola.id, amount_minor: 500, currency: "EUR" },
      s.token,
    );
    expect((await call("GET", `/v1/members/${ola.id}`, undefined, s.token)).tier_id).not.toBeNull();
    const w = await login(s, "pl-PL");
    const { page } = w;
    await open(w, "/app/program/tiers");
    await row(page, "Srebrny").getByRole("button", { name: "Archiwizuj" }).click();
    await page.getByRole("button", { name: /Srebrny/ }).click();
    await expect
      .poll(async () => (await page.getByRole("alert").textContent()) ?? "", slow)
      .toContain("Na poziomie „Srebrny” jest 1 członek.");
    expect((await call("GET", "/v1/tiers", undefined, s.token)).data).toHaveLength(1);
  });

  it('rule builder: renaming a rule keeps the text value "1012" as text; the rule still earns', async () => {
    const s = await shop();
    await call(
      "PUT",
      "/v1/program",
      {
        ...(await call("GET", "/v1/program", undefined, s.token)).config,
        points: { ...(await call("GET", "/v1/program", undefined, s.token)).config.points, enabled: true },
      },
      s.token,
    );
    await call(
      "POST",
      "/v1/rules",
      {
        name: "Neighbours bonus",
        trigger: "purchase",
        conditions: { member_attributes: [{ key: "postcode", op: "eq", value: "1012" }] },
        effect: { type: "fixed_points", points: 50 },
      },
      s.token,
    );
    const m = await call(
      "POST",
      "/v1/members",
      { name: "Nina", attributes: { postcode: "1012" }, marketing_consent: false },
      s.token,
    );
    const before = await call(
      "POST",
      "/v1/purchases",
      { external_id: "p1", member_id: m.id, amount_minor: 500, currency: "EUR" },
      s.token,
    );
    expect(before.purchase.points_earned).toBe(55);
    const w = await login(s);
    const { page } = w;
    await open(w, "/app/program/rules");
    await row(page, "Neighbours bonus").getByRole("button", { name: "Edit" }).click();
    await expect.poll(() => page.getByLabel("Value").inputValue(), slow).toBe("1012");
    await page.getByLabel("Name", { exact: true }).fill("Neighbours bonus (Centrum)");
    await page.getByRole("button", { name: "Save" }).click();
    await expect
      .poll(() => page.getByRole("heading", { name: "Neighbours bonus (Centrum)" }).count(), slow)
      .toBe(1);
    const rules = await call("GET", "/v1/rules", undefined, s.token);
    const after = await call(
      "POST",
      "/v1/purchases",
      { external_id: "p2", member_id: m.id, amount_minor: 500, currency: "EUR" },
      s.token,
    );
    expect(rules.data[0].conditions.member_attributes[0].value).toBe("1012");
    expect(after.purchase.points_earned).toBe(55);
  });

  it("reward editor: a reward for a tier that was archived can still be changed", async () => {
    const s = await shop();
    await call("POST", "/v1/tiers", { name: "Regular", rank: 1, threshold: 0 }, s.token);
    const gold = await call("POST", "/v1/tiers", { name: "Gold", rank: 2, threshold: 50_000 }, s.token);
    await call(
      "POST",
      "/v1/rewards",
      {
        type: "perk",
        name: "Priority service",
        value: { perk: "priority_service" },
        cost_points: 100,
        eligible_tier_ids: [gold.id],
      },
      s.token,
    );
    await call("DELETE", `/v1/tiers/${gold.id}`, undefined, s.token);
    const w = await login(s);
    const { page } = w;
    await open(w, "/app/program/rewards");
    await row(page, "Priority service").getByRole("button", { name: "Edit" }).click();
    await page.getByLabel("Points", { exact: true }).fill("80");
    await page.getByRole("button", { name: "Save" }).click();
    await expect
      .poll(async () => (await call("GET", "/v1/rewards", undefined, s.token)).data[0].cost_points, slow)
      .toBe(80);
    // The archived tier stays as it was: the change did not touch it.
    expect((await call("GET", "/v1/rewards", undefined, s.token)).data[0].eligible_tier_ids).toEqual([
      gold.id,
    ]);
  });

  it("rule editor: a rule for a location that was archived can still be paused", async () => {
    const s = await shop();
    const loc = await call("POST", "/v1/locations", { name: "Station kiosk" }, s.token);
    await call(
      "POST",
      "/v1/rules",
      {
        name: "Kiosk bonus",
        trigger: "purchase",
        conditions: { location_ids: [loc.id] },
        effect: { type: "fixed_points", points: 5 },
      },
      s.token,
    );
    await call("PATCH", `/v1/locations/${loc.id}`, { archived: true }, s.token);
    const w = await login(s);
    const { page } = w;
    await open(w, "/app/program/rules");
    await row(page, "Kiosk bonus").getByRole("button", { name: "Edit" }).click();
    await page.getByLabel("Active", { exact: true }).uncheck();
    await page.getByRole("button", { name: "Save" }).click();
    await page.waitForTimeout(1500);
    const rule = (await call("GET", "/v1/rules", undefined, s.token)).data[0];
    expect(rule.active).toBe(false);
  });

  it("settings: a double click on Create key or Add location does it once", async () => {
    const s = await shop();
    const w = await login(s);
    const { page } = w;
    await open(w, "/app/settings");
    const keys = page.getByRole("region", { name: "API keys" });
    await keys.getByLabel("Name").fill("Till 1");
    await keys.getByRole("button", { name: "Create key" }).dblclick();
    const loc = page.getByRole("region", { name: "Locations" });
    await loc.getByLabel("Name").fill("Main street");
    await loc.getByRole("button", { name: "Add location" }).dblclick();
    const staff = page.getByRole("region", { name: "Staff" });
    await staff.getByLabel("Name").fill("Carl Cashier");
    await staff.getByLabel("Email").fill("carl@x.test");
    await staff.getByLabel("Initial password").fill("carl-pass-2026");
    await staff.getByRole("button", { name: "Add staff member" }).dblclick();
    await page.waitForTimeout(2000);
    const apiKeys = await call("GET", "/v1/api-keys", undefined, s.token);
    const locations = await call("GET", "/v1/locations", undefined, s.token);
    const team = await call("GET", "/v1/staff", undefined, s.token);
    expect(apiKeys.data.length).toBe(1);
    expect(locations.data.length).toBe(1);
    // The owner, and Carl once.
    expect(
      team.data.map((m: { email: string }) => m.email).filter((e: string) => e === "carl@x.test"),
    ).toHaveLength(1);
  });

  it("onboarding: the names members read are in the business's language, not the owner's screen's", async () => {
    const s = await shop("nl");
    const w = await login(s, "en-US", "en");
    const { page } = w;
    await open(w, "/app/onboarding");
    await expect
      .poll(() => page.getByRole("radio", { name: /Café stamp card/ }).isChecked(), slow)
      .toBe(true);
    await page.getByRole("button", { name: "Publish my program" }).click();
    await expect
      .poll(() => page.getByRole("heading", { name: "Your program is live" }).count(), slow)
      .toBe(1);
    const rewards = await call("GET", "/v1/rewards", undefined, s.token);
    const cards = await call("GET", "/v1/stamp-cards", undefined, s.token);
    const rules = await call("GET", "/v1/rules", undefined, s.token);
    expect([cards.data[0].name, rewards.data[0].name, rules.data[0].name]).toEqual([
      "Stempelkaart: koffie",
      "Gratis koffie",
      "Welkomststempel",
    ]);
    expect(w.errors).toEqual([]);
  });

  it("says what is wrong with a field in the owner's language: a number expected, a number too small", async () => {
    const s = await shop("nl");
    const w = await login(s, "nl-NL");
    const { page } = w;
    await open(w, "/app/program/stamp-cards");
    await page.getByRole("button", { name: "Nieuwe stempelkaart" }).click();
    await page.getByLabel("Naam", { exact: true }).fill("Koffiekaart");
    const stamps = page.getByLabel(/Stempels voor een volle kaart/);
    await stamps.fill("tien");
    await page.getByRole("button", { name: "Opslaan" }).click();
    const form = page.locator("main form");
    await expect.poll(async () => await form.textContent(), slow).toContain("Vul een getal in.");
    expect(await stamps.getAttribute("aria-invalid")).toBe("true");
    await stamps.fill("0");
    await page.getByRole("button", { name: "Opslaan" }).click();
    await expect.poll(async () => await form.textContent(), slow).toContain("Vul 1 of meer in.");
    expect(await form.textContent()).not.toMatch(/expected|Invalid|Too small/);
  });

  it("words a refusal of the program next to its field in the owner's language, with its figures", async () => {
    const s = await shop("pl");
    await call("POST", "/v1/tiers", { name: "Srebrny", rank: 1, threshold: 0 }, s.token);
    const w = await login(s, "pl-PL");
    const { page } = w;
    await open(w, "/app/program/tiers");
    await page.getByRole("button", { name: "Nowy poziom" }).click();
    await page.getByLabel("Nazwa", { exact: true }).fill("Złoty");
    const rank = page.getByLabel(/^Ranga/);
    await rank.fill("1");
    await page.getByLabel(/potrzebne do osiągnięcia/).fill("500");
    await page.getByRole("button", { name: "Zapisz" }).click();
    const form = page.locator("main form");
    await expect
      .poll(async () => await form.textContent(), slow)
      .toContain("Ranga 1 należy już do innego poziomu.");
    expect(await rank.getAttribute("aria-invalid")).toBe("true");
    expect(await form.textContent()).not.toContain("is taken");
    const tiers = await call("GET", "/v1/tiers", undefined, s.token);
    expect(tiers.data.map((t: { name: string }) => t.name)).toEqual(["Srebrny"]);
  });

  it("lists every active reward, past the first page of 200, and counts them all on the home page", async () => {
    const s = await shop();
    for (let start = 1; start <= 205; start += 41) {
      await Promise.all(
        Array.from({ length: 41 }, (_, i) =>
          call(
            "POST",
            "/v1/rewards",
            {
              name: `Reward ${start + i}`,
              type: "perk",
              value: { perk: "priority_service" },
              cost_points: 100,
            },
            s.token,
          ),
        ),
      );
    }
    const w = await login(s);
    const { page } = w;
    await open(w, "/app/program/rewards");
    const rows = page.locator("main ul.plain > li");
    await expect.poll(() => rows.count(), slow).toBe(205);
    for (const name of ["Reward 1", "Reward 205"])
      expect(await page.getByRole("heading", { name, exact: true }).count()).toBe(1);
    await open(w, "/app");
    await expect.poll(async () => await page.locator("main").textContent(), slow).toContain("205 rewards");
    expect(w.errors).toEqual([]);
  });

  it("moves the focus into an editor as it opens and back to what opened it as it closes", async () => {
    const s = await shop();
    await call("POST", "/v1/tiers", { name: "Silver", rank: 1, threshold: 0 }, s.token);
    const w = await login(s);
    const { page } = w;
    await open(w, "/app/program/tiers");
    const focused = () => page.evaluate(() => document.activeElement?.textContent?.trim() ?? "");
    const edit = page.getByRole("button", { name: "Edit" });
    await edit.click();
    await expect.poll(focused, slow).toBe("Change “Silver”");
    await page.getByRole("button", { name: "Cancel" }).click();
    await expect.poll(focused, slow).toBe("Edit");
    expect(await edit.evaluate((el) => el === document.activeElement)).toBe(true);
    await page.getByRole("button", { name: "New tier" }).click();
    await expect.poll(focused, slow).toBe("New tier");
    expect(await page.evaluate(() => document.activeElement?.tagName)).toBe("H2");
    await page.getByLabel("Name", { exact: true }).fill("Gold");
    await page.getByLabel(/^Spend to reach/).fill("500");
    await page.getByRole("button", { name: "Save" }).click();
    await expect.poll(() => page.getByRole("heading", { name: "Gold", exact: true }).count(), slow).toBe(1);
    await expect
      .poll(() => page.evaluate(() => document.activeElement?.hasAttribute("data-catalog-new")), slow)
      .toBe(true);
    expect(w.errors).toEqual([]);
  });

  it("switching the editor from one reward to another shows and saves the second one's values", async () => {
    const s = await shop();
    for (const [name, cost] of [
      ["Tote bag", 900],
      ["Free coffee", 100],
    ] as const)
      await call(
        "POST",
        "/v1/rewards",
        { name, type: "perk", value: { perk: "priority_service" }, cost_points: cost },
        s.token,
      );
    const w = await login(s);
    const { page } = w;
    await open(w, "/app/program/rewards");
    await expect.poll(() => page.getByRole("button", { name: "Edit" }).count(), slow).toBe(2);
    const row = (name: string) => page.locator("main ul.plain > li").filter({ hasText: name });
    await row("Tote bag").getByRole("button", { name: "Edit" }).click();
    await expect.poll(() => page.getByLabel("Name", { exact: true }).inputValue(), slow).toBe("Tote bag");
    await row("Free coffee").getByRole("button", { name: "Edit" }).click();
    await expect.poll(() => page.getByLabel("Name", { exact: true }).inputValue(), slow).toBe("Free coffee");
    await page.getByRole("button", { name: "Save" }).click();
    await expect.poll(() => page.getByLabel("Name", { exact: true }).count(), slow).toBe(0);
    const rewards = await call("GET", "/v1/rewards", undefined, s.token);
    expect(
      rewards.data.map((r: { name: string; cost_points: number }) => [r.name, r.cost_points]).sort(),
    ).toEqual([
      ["Free coffee", 100],
      ["Tote bag", 900],
    ]);
    expect(w.errors).toEqual([]);
  });

  it("settings profile: a second save does not write back a time zone another owner changed", async () => {
    const s = await shop();
    const w = await login(s);
    const { page } = w;
    await open(w, "/app/settings");
    // Another owner moves the business to Lisbon.
    await call("PATCH", "/v1/business", { timezone: "Europe/Lisbon" }, s.token);
    await page.getByLabel("Business name").fill("Bakkerij Bol & Zn");
    await page.getByRole("button", { name: "Save" }).first().click();
    await expect
      .poll(async () => (await call("GET", "/v1/business", undefined, s.token)).name, slow)
      .toBe("Bakkerij Bol & Zn");
    // The page has read the business again (the form now shows Lisbon) once it says it saved.
    const profile = page.locator("form", { has: page.getByLabel("Business name") });
    await expect.poll(() => profile.getByRole("status").count(), slow).toBe(1);
    await page.getByLabel("Business name").fill("Bakkerij Bol en Zn");
    await page.getByRole("button", { name: "Save" }).first().click();
    await expect
      .poll(async () => (await call("GET", "/v1/business", undefined, s.token)).name, slow)
      .toBe("Bakkerij Bol en Zn");
    const b = await call("GET", "/v1/business", undefined, s.token);
    expect(b.timezone).toBe("Europe/Lisbon");
  });

  it("staff: a double click on Add staff member adds the person once and says so", async () => {
    const s = await shop();
    const w = await login(s);
    const { page } = w;
    await open(w, "/app/settings");
    const staff = page.getByRole("region", { name: "Staff" });
    await staff.getByLabel("Name").fill("Carl Cashier");
    await staff.getByLabel("Email").fill("carl@x.test");
    await staff.getByLabel("Initial password").fill("carl-pass-2026");
    await staff.getByRole("button", { name: "Add staff member" }).dblclick();
    await page.waitForTimeout(2000);
  });
});
