import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type E2E,
  expectAccessible,
  expectNoMissingTranslations,
  startE2E,
  type WatchedPage,
} from "./browser.ts";

/**
 * The merchant dashboard in a real browser: an owner signs up, sets up a café stamp card from the
 * template, publishes it, builds an earning rule, logs out and in again — and every page reads
 * well and passes axe in all four languages.
 */

let e2e: E2E;
let owner: WatchedPage;
const SLUG = "cafe-e2e-boon";
const EMAIL = "owner@cafe-e2e.test";
const PASSWORD = "a long enough password";

beforeAll(async () => {
  e2e = await startE2E();
  owner = await e2e.newPage();
});
afterAll(async () => e2e?.close());

/** GET as the logged-in browser: the page's own cookie session. */
async function apiGet<T = any>(page: Page, path: string): Promise<T> {
  const res = await page.request.get(path);
  expect(res.status(), `${path}: ${await res.text()}`).toBe(200);
  return (await res.json()) as T;
}

/** A change as the logged-in browser, with the session's CSRF token. */
async function apiPost<T = any>(page: Page, path: string, body: unknown): Promise<T> {
  const me = await apiGet<{ csrf_token: string }>(page, "/v1/auth/me");
  const res = await page.request.post(path, { data: body, headers: { "x-csrf-token": me.csrf_token } });
  expect(res.status(), `${path}: ${await res.text()}`).toBeLessThan(300);
  return (await res.json()) as T;
}

async function pickLanguage(page: Page, locale: string) {
  await page.getByRole("combobox", { name: /^(Language|Taal|Język|Idioma)$/ }).selectOption(locale);
  await expect.poll(() => page.getAttribute("html", "lang")).toBe(locale);
}

describe("the merchant dashboard", () => {
  it("signs an owner up, sets up a café stamp card from the template with a live preview, and publishes it", async () => {
    const { page } = owner;
    await page.goto("/signup");
    await page.getByLabel("Business name").fill("Café E2E Boon");
    // The handle follows the name until it is edited.
    await expect.poll(() => page.getByLabel("Handle").inputValue()).toBe("cafe-e2e-boon");
    await page.getByLabel("Currency").selectOption("EUR");
    await page.getByLabel("Time zone").selectOption("Europe/Amsterdam");
    await page.getByLabel("Your name").fill("Olga Owner");
    await page.getByLabel("Email").fill(EMAIL);
    await page.getByLabel("Password").fill(PASSWORD);
    await expectAccessible(page, "/signup");
    await page.getByRole("button", { name: "Create my business" }).click();

    await page.waitForURL("**/app/onboarding");
    await expect.poll(() => page.getByRole("heading", { name: "Set up your program" }).count()).toBe(1);
    await expect.poll(() => page.getByRole("radio", { name: /Café stamp card/ }).isChecked()).toBe(true);
    await expect.poll(() => page.getByRole("img", { name: "3 of 10 stamps" }).count()).toBe(1);
    await page.getByLabel("Stamps for a full card").fill("8");
    await expect.poll(() => page.getByRole("img", { name: "3 of 8 stamps" }).count()).toBe(1);
    await expect.poll(() => page.locator(".preview-stamps .stamp").count()).toBe(8);
    await expect.poll(() => page.getByText("5 more stamps for: Free coffee").count()).toBe(1);
    await page.getByLabel("A full card gives a free").fill("latte");
    await expect.poll(() => page.getByText("5 more stamps for: Free latte").count()).toBe(1);

    // A wrong number is refused by the API and shown next to its field.
    await page.getByLabel("Stamps for a full card").fill("1");
    await page.getByRole("button", { name: "Publish my program" }).click();
    await expect
      .poll(() => page.getByLabel("Stamps for a full card").getAttribute("aria-invalid"))
      .toBe("true");
    await page.getByLabel("Stamps for a full card").fill("8");
    await page.getByRole("button", { name: "Publish my program" }).click();
    await expect.poll(() => page.getByRole("heading", { name: "Your program is live" }).count()).toBe(1);

    const business = await apiGet(page, "/v1/business");
    expect(business.published_at).not.toBeNull();
    const cards = await apiGet(page, "/v1/stamp-cards");
    expect(cards.data).toMatchObject([{ name: "Stamp card: latte", stamps_required: 8 }]);
    const rewards = await apiGet(page, "/v1/rewards");
    expect(rewards.data).toMatchObject([{ name: "Free latte", stamp_card_id: cards.data[0].id }]);
  });

  it("builds an earning rule that really earns: 2 extra stamps on purchases from €5 on weekdays", async () => {
    const { page } = owner;
    await page.getByRole("link", { name: "Earning rules" }).click();
    await page.getByRole("button", { name: "New rule" }).click();
    await page.getByLabel("Name", { exact: true }).fill("Big order bonus");
    await page.getByLabel("Kind of bonus").selectOption("stamps");
    await page.getByLabel("Stamps", { exact: true }).fill("2");
    await page.getByLabel("Minimum purchase (EUR)").fill("5,00");
    for (const day of ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]) {
      await page.getByLabel(day).check();
    }
    await expectAccessible(page, "rule builder");
    await page.getByRole("button", { name: "Save" }).click();
    await expect.poll(() => page.getByRole("heading", { name: "Big order bonus" }).count()).toBe(1);
    await expect.poll(() => page.getByText(/\+2 stamps on Stamp card: latte/).count()).toBe(1);

    // The page's own "what would a purchase earn?" shows it too.
    await page.getByLabel("Amount (EUR)").fill("6.50");
    await page.getByRole("button", { name: "Calculate" }).click();
    await expect
      .poll(() => page.getByRole("status").textContent())
      .toContain("+2 stamps on Stamp card: latte");

    const rules = await apiGet(page, "/v1/rules");
    const rule = rules.data.find((r: { name: string }) => r.name === "Big order bonus");
    expect(rule).toMatchObject({
      trigger: "purchase",
      conditions: { min_spend_minor: 500, days_of_week: [1, 2, 3, 4, 5, 6, 7] },
      effect: { type: "stamps", stamps: 2 },
    });
    const big = await apiPost(page, "/v1/purchases/preview", { amount_minor: 650, currency: "EUR" });
    expect(big.stamps.map((s: { stamps: number }) => s.stamps).sort()).toEqual([1, 2]);
    const small = await apiPost(page, "/v1/purchases/preview", { amount_minor: 300, currency: "EUR" });
    expect(small.stamps.map((s: { stamps: number }) => s.stamps)).toEqual([1]);
  });

  it("shows a refused tier next to the field it is about", async () => {
    const { page } = owner;
    await page.getByRole("link", { name: "Tiers" }).click();
    for (const [name, rank] of [
      ["Gold", "1"],
      ["Silver", "1"],
    ] as const) {
      await page.getByRole("button", { name: "New tier" }).click();
      await page.getByLabel("Name", { exact: true }).fill(name);
      await page.getByLabel("Rank").fill(rank);
      await page.getByLabel("Spend to reach it (EUR)").fill("0");
      await page.getByRole("button", { name: "Save" }).click();
      if (name === "Gold")
        await expect.poll(() => page.getByRole("heading", { name: "Gold" }).count()).toBe(1);
    }
    await expect.poll(() => page.getByLabel("Rank").getAttribute("aria-invalid")).toBe("true");
    await expect.poll(() => page.getByText("Rank 1 is taken by another tier.").count()).toBe(1);
    await page.getByRole("button", { name: "Cancel" }).click();

    // Archiving asks once more, by keyboard alone: the question takes the focus.
    await page.getByRole("button", { name: "Archive" }).focus();
    await page.keyboard.press("Enter");
    await expect
      .poll(() => page.evaluate(() => document.activeElement?.textContent))
      .toBe("Yes, archive “Gold”");
    await page.keyboard.press("Enter");
    await expect.poll(() => page.getByRole("heading", { name: "Gold" }).count()).toBe(0);
    expect((await apiGet(page, "/v1/tiers")).data).toEqual([]);
  });

  it("edits the points settings, a stamp card and the reward catalog without any JSON", async () => {
    const { page } = owner;
    await page.getByRole("link", { name: "Points & expiry" }).click();
    await page.getByLabel("Members earn points on purchases").check();
    await page.getByLabel("Days before points can be spent").fill("14");
    await page.getByLabel("Points expire", { exact: true }).selectOption("end_of_month");
    await page.getByLabel("Months after the month they were earned in").fill("6");
    await page.getByRole("button", { name: "Save" }).click();
    await expect.poll(() => page.getByRole("status").textContent()).toBe("Saved");
    const program = await apiGet(page, "/v1/program");
    expect(program.config.points).toMatchObject({
      enabled: true,
      pending_days: 14,
      expiry: { policy: "end_of_month", months_after: 6 },
    });

    await page.getByRole("link", { name: "Stamp cards" }).click();
    await page.getByRole("button", { name: "Edit" }).click();
    await page.getByLabel("Stamps for a full card").fill("9");
    await page.getByRole("button", { name: "Save" }).click();
    await expect.poll(() => page.getByText(/9 stamps for a full card/).count()).toBe(1);

    await page.getByRole("link", { name: "Rewards" }).click();
    await page.getByRole("button", { name: "New reward" }).click();
    await page.getByLabel("Kind of reward").selectOption("experience");
    await page.getByLabel("Name", { exact: true }).fill("Latte art workshop");
    await page.getByLabel("Place", { exact: true }).fill("Our café");
    await page.getByLabel("Points", { exact: true }).fill("0");
    await page.getByLabel("Places", { exact: true }).fill("12");
    await page.getByRole("button", { name: "Save" }).click();
    // The API refuses a price of 0 points; the message sits next to the price.
    await expect
      .poll(() => page.getByLabel("Points", { exact: true }).getAttribute("aria-invalid"))
      .toBe("true");
    await page.getByLabel("Points", { exact: true }).fill("150");
    await page.getByRole("button", { name: "Save" }).click();
    await expect.poll(() => page.getByRole("heading", { name: "Latte art workshop" }).count()).toBe(1);
    const rewards = await apiGet(page, "/v1/rewards");
    expect(rewards.data.find((r: { name: string }) => r.name === "Latte art workshop")).toMatchObject({
      type: "experience",
      value: { place: "Our café" },
      cost_points: 150,
      stock: 12,
    });

    // Places booked while a manager fixes the description stay booked: the form leaves the stock
    // alone unless it was changed.
    const workshop = page
      .getByRole("listitem")
      .filter({ has: page.getByRole("heading", { name: "Latte art workshop" }) });
    await workshop.getByRole("button", { name: "Edit" }).click();
    const me = await apiGet<{ csrf_token: string }>(page, "/v1/auth/me");
    const id = rewards.data.find((r: { name: string }) => r.name === "Latte art workshop").id;
    const booked = await page.request.fetch(`/v1/rewards/${id}`, {
      method: "PATCH",
      data: { stock: 9 },
      headers: { "x-csrf-token": me.csrf_token },
    });
    expect(booked.status()).toBe(200);
    await page.getByLabel("Description").fill("Two hours at the machine");
    await page.getByRole("button", { name: "Save" }).click();
    await expect
      .poll(async () => (await apiGet(page, `/v1/rewards/${id}`)).description)
      .toBe("Two hours at the machine");
    expect((await apiGet(page, `/v1/rewards/${id}`)).stock).toBe(9);
  });

  it("passes axe and has every text in all four languages on every page", async () => {
    const { page } = owner;
    const pages = [
      ["/app", "h1"],
      ["/app/onboarding", "h1"],
      ["/app/program", "h1"],
      ["/app/program/stamp-cards", "h1"],
      ["/app/program/tiers", "h1"],
      ["/app/program/rules", "h1"],
      ["/app/program/rewards", "h1"],
      ["/app/launch-kit", "h1"],
    ] as const;
    for (const locale of ["nl", "pl", "pt-BR", "en"]) {
      for (const [path] of pages) {
        await page.goto(path);
        await expect.poll(() => page.locator("main h1").count()).toBeGreaterThan(0);
        await pickLanguage(page, locale);
        await expect.poll(() => page.locator("main h1").count()).toBeGreaterThan(0);
        await expectNoMissingTranslations(owner, `${path} in ${locale}`);
        await expectAccessible(page, `${path} in ${locale}`);
      }
      // The editors' forms, open.
      for (const [path, button] of [
        ["/app/program/stamp-cards", 0],
        ["/app/program/rewards", 0],
      ] as const) {
        await page.goto(path);
        await page.locator("main .row.between .button").nth(button).click();
        await expect.poll(() => page.locator("main form").count()).toBe(1);
        await expectNoMissingTranslations(owner, `${path} form in ${locale}`);
        await expectAccessible(page, `${path} form in ${locale}`);
      }
    }
  });

  it("prints a staff script and starts a launch bonus once, even when the first answer is lost", async () => {
    const { page } = owner;
    await page.goto("/app/launch-kit");
    const script = page.getByRole("region", { name: "Staff script" });
    await expect.poll(() => script.getByRole("listitem").count()).toBeGreaterThan(3);
    const lines = await script.getByRole("listitem").allTextContents();
    expect(lines[0]).toBe(
      "Do you know our loyalty program? Joining is free, takes a minute and needs no app.",
    );
    expect(lines[1]).toMatch(/^Collect \d+ stamps and get Free latte\.$/);
    expect(lines.at(-1)).toBe(
      "Next time, show the QR code on your card at the counter and we add your stamps.",
    );

    // Printing prints the script alone: the print dialog is the browser's, so its call is recorded.
    await page.evaluate(() => {
      window.print = () => {
        (window as unknown as { printed: string | undefined }).printed =
          document.documentElement.dataset.print;
      };
    });
    await script.getByRole("button", { name: "Print the staff script" }).click();
    expect(await page.evaluate(() => (window as unknown as { printed?: string }).printed)).toBe(
      "staff-script",
    );
    await page.emulateMedia({ media: "print" });
    expect(await script.getByRole("listitem").first().isVisible()).toBe(true);
    expect(await page.getByRole("heading", { level: 1, name: "Launch kit" }).isVisible()).toBe(false);
    expect(await page.getByRole("link", { name: "Earning rules" }).isVisible()).toBe(false);
    expect(await script.getByRole("button", { name: "Print the staff script" }).isVisible()).toBe(false);
    await page.evaluate(() => window.dispatchEvent(new Event("afterprint")));
    await page.emulateMedia({ media: "screen" });
    expect(await page.evaluate(() => document.documentElement.dataset.print)).toBeUndefined();
    expect(await page.getByRole("heading", { level: 1, name: "Launch kit" }).isVisible()).toBe(true);

    // The launch bonus: 25 points for 3 days. The first answer is lost on the way back.
    const bonus = page.getByRole("region", { name: "Launch bonus" });
    await bonus.getByLabel("Gift").selectOption({ label: "Points" });
    await bonus.getByLabel("How many").fill("25");
    await bonus.getByLabel("For how long").selectOption({ label: "3 days" });
    let lost = 0;
    await page.route("**/v1/rules", async (route) => {
      if (route.request().method() === "POST" && lost === 0) {
        lost += 1;
        await route.fetch();
        await route.abort("connectionreset");
      } else await route.continue();
    });
    await bonus.getByRole("button", { name: "Start the launch bonus" }).click();
    await expect.poll(() => bonus.getByRole("alert").count()).toBe(1);
    expect(lost).toBe(1);
    await bonus.getByRole("button", { name: "Start the launch bonus" }).click();
    await expect
      .poll(() => bonus.getByText(/^Launch bonus running: 25 points for everyone who joins until /).count())
      .toBe(1);
    await page.unroute("**/v1/rules");
    // One launch bonus, next to the template's welcome stamp (a signup rule without an end).
    const signup = (await apiGet(page, "/v1/rules?trigger=signup")).data as { ends_at: string | null }[];
    const launch = signup.filter((rule) => rule.ends_at !== null) as { starts_at: string; ends_at: string }[];
    expect(launch).toHaveLength(1);
    expect(launch[0]).toMatchObject({ name: "Launch bonus", effect: { type: "fixed_points", points: 25 } });
    expect(Date.parse(launch[0]?.ends_at ?? "") - Date.parse(launch[0]?.starts_at ?? "")).toBe(
      3 * 24 * 3600 * 1000,
    );
    await expect
      .poll(() => script.getByText(/^Join before .+ and you get 25 points as a launch gift\.$/).count())
      .toBe(1);
    expect(await bonus.getByRole("button", { name: "Start the launch bonus" }).count()).toBe(0);
    expect(await bonus.getByRole("link", { name: "Change or end it under Earning rules" }).count()).toBe(1);
    await expectAccessible(page, "launch kit with a launch bonus");
    await expectNoMissingTranslations(owner, "launch kit with a launch bonus");
  });

  it("logs out, refuses a wrong password, and logs in again", async () => {
    const { page } = owner;
    await page.goto("/app");
    await page.getByRole("button", { name: "Log out" }).click();
    await page.waitForURL("**/login");
    expect((await page.request.get("/v1/auth/me")).status()).toBe(401);
    await page.goto("/app/program");
    await page.waitForURL("**/login");

    await page.getByLabel("Business handle").fill(SLUG);
    await page.getByLabel("Email").fill(EMAIL);
    await page.getByLabel("Password").fill("not the password");
    await page.getByRole("button", { name: "Log in" }).click();
    await expect.poll(() => page.getByRole("alert").textContent()).toContain("do not match");
    await expectAccessible(page, "/login with an error");

    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Log in" }).click();
    await page.waitForURL("**/app");
    await expect.poll(() => page.getByRole("heading", { name: "Welcome, Olga Owner" }).count()).toBe(1);
    await expect.poll(() => page.getByText("Live", { exact: true }).count()).toBe(1);

    // Already logged in: the log-in page forwards to the dashboard.
    await page.goto("/login");
    await page.waitForURL("**/app");
    await expect.poll(() => page.getByRole("heading", { name: "Welcome, Olga Owner" }).count()).toBe(1);
    expect(owner.errors.filter((e) => e.includes("page:"))).toEqual([]);
  });
});
