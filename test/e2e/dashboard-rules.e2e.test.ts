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
 * The rule and reward editors in the merchant dashboard: a tier archived since a rule or reward
 * was made shows ticked and marked, so it can be unticked and another tier chosen; a rule can be
 * limited to locations and, for an event, to the event's properties; the preview tries a purchase
 * at a location; dates say their time zone and a date already passed is named next to its field.
 */

const PASSWORD = "owner-pass-2026";
const slow = { timeout: 15_000 };
let e2e: E2E;

const call = <T = any>(method: string, path: string, body?: unknown, token?: string): Promise<T> =>
  callApi<T>(e2e.baseUrl, method, path, body, token);

async function shop(locale = "en") {
  return signUpShop(e2e.baseUrl, { prefix: "rules", name: "Bakkerij Bol", password: PASSWORD, locale });
}

async function login(s: { slug: string; email: string }, uiLocale?: string) {
  const watched = await e2e.newPage({ locale: "en-US" });
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

/** Regular, Silver and Gold, with Gold archived: what the tier lists start from. */
async function ladderWithGoldArchived(token: string) {
  await call("POST", "/v1/tiers", { name: "Regular", rank: 1, threshold: 0 }, token);
  const silver = await call("POST", "/v1/tiers", { name: "Silver", rank: 2, threshold: 10_000 }, token);
  const gold = await call("POST", "/v1/tiers", { name: "Gold", rank: 3, threshold: 50_000 }, token);
  return { silver, gold };
}

beforeAll(async () => {
  e2e = await startE2E();
});
afterAll(async () => e2e?.close());

describe("rule and reward editors", () => {
  it("a reward for an archived tier shows it ticked and archived; unticking it and choosing Silver saves", async () => {
    const s = await shop();
    const { silver, gold } = await ladderWithGoldArchived(s.token);
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
    // The list names the tier as archived.
    await expect
      .poll(async () => (await row(page, "Priority service").textContent()) ?? "", slow)
      .toContain("Gold (archived)");
    await row(page, "Priority service").getByRole("button", { name: "Edit" }).click();
    const archived = page.getByRole("checkbox", { name: "Gold (archived)" });
    await expect.poll(() => archived.isChecked(), slow).toBe(true);
    await archived.uncheck();
    await page.getByRole("checkbox", { name: "Silver" }).check();
    // Unticked, the archived tier keeps its box (to tick it again before saving).
    expect(await archived.count()).toBe(1);
    await page.getByRole("button", { name: "Save" }).click();
    await expect
      .poll(
        async () => (await call("GET", "/v1/rewards", undefined, s.token)).data[0].eligible_tier_ids,
        slow,
      )
      .toEqual([silver.id]);
    // Saved and reopened: Gold is gone from the form, as nothing names it any more.
    await row(page, "Priority service").getByRole("button", { name: "Edit" }).click();
    await expect.poll(() => page.getByRole("checkbox", { name: "Silver" }).isChecked(), slow).toBe(true);
    expect(await page.getByRole("checkbox", { name: /Gold/ }).count()).toBe(0);
    expect(w.errors).toEqual([]);
  });

  it("a rule for an archived tier: unticking it and choosing Silver saves; an untouched rule keeps its days as sent", async () => {
    const s = await shop();
    const { silver, gold } = await ladderWithGoldArchived(s.token);
    await call(
      "POST",
      "/v1/rules",
      {
        name: "Gold weekend",
        trigger: "purchase",
        // Days sent unsorted: the form must not count them as a change.
        conditions: { tier_ids: [gold.id], days_of_week: [7, 6] },
        effect: { type: "fixed_points", points: 20 },
      },
      s.token,
    );
    await call("DELETE", `/v1/tiers/${gold.id}`, undefined, s.token);
    const w = await login(s);
    const { page } = w;
    await open(w, "/app/program/rules");
    await row(page, "Gold weekend").getByRole("button", { name: "Edit" }).click();
    const archived = page.getByRole("checkbox", { name: "Gold (archived)" });
    await expect.poll(() => archived.isChecked(), slow).toBe(true);
    // Renamed only: the conditions (the archived tier, the unsorted days) are not sent, so saved.
    await page.getByLabel("Name", { exact: true }).fill("Weekend bonus");
    await page.getByRole("button", { name: "Save" }).click();
    await expect.poll(() => row(page, "Weekend bonus").count(), slow).toBe(1);
    const renamed = (await call("GET", "/v1/rules", undefined, s.token)).data[0];
    expect(renamed.conditions).toEqual({ tier_ids: [gold.id], days_of_week: [7, 6] });

    await row(page, "Weekend bonus").getByRole("button", { name: "Edit" }).click();
    await page.getByRole("checkbox", { name: "Gold (archived)" }).uncheck();
    await page.getByRole("checkbox", { name: "Silver" }).check();
    await page.getByRole("button", { name: "Save" }).click();
    await expect
      .poll(
        async () => (await call("GET", "/v1/rules", undefined, s.token)).data[0].conditions.tier_ids,
        slow,
      )
      .toEqual([silver.id]);
    expect((await call("GET", "/v1/rules", undefined, s.token)).data[0].conditions.days_of_week).toEqual([
      7, 6,
    ]);
  });

  it("a rule limited to one location earns there only, as the preview shows at that location", async () => {
    const s = await shop();
    await call("POST", "/v1/locations", { name: "Main street" }, s.token);
    const kiosk = await call("POST", "/v1/locations", { name: "Station kiosk" }, s.token);
    const w = await login(s);
    const { page } = w;
    await open(w, "/app/program/rules");
    await page.getByRole("button", { name: "New rule" }).click();
    await page.getByLabel("Name", { exact: true }).fill("Kiosk bonus");
    await page.getByLabel("Points", { exact: true }).fill("7");
    const places = page.getByRole("group", { name: /Only at these locations/ });
    await places.getByRole("checkbox", { name: "Station kiosk" }).check();
    await expectAccessible(page, "the rule form");
    await page.getByRole("button", { name: "Save" }).click();
    await expect.poll(() => row(page, "Kiosk bonus").count(), slow).toBe(1);
    const rule = (await call("GET", "/v1/rules", undefined, s.token)).data[0];
    expect(rule.conditions).toEqual({ location_ids: [kiosk.id] });
    expect(await row(page, "Kiosk bonus").textContent()).toContain("at Station kiosk");

    // The preview, at the kiosk and elsewhere.
    const tryIt = page.getByRole("region", { name: "What would a purchase earn now?" });
    await tryIt.getByLabel("Amount (EUR)").fill("10");
    await tryIt.getByLabel("Location").selectOption({ label: "Station kiosk" });
    await tryIt.getByRole("button", { name: "Calculate" }).click();
    await expect
      .poll(async () => (await tryIt.getByRole("status").textContent()) ?? "", slow)
      .toContain("Kiosk bonus");
    await tryIt.getByLabel("Location").selectOption({ label: "Main street" });
    await tryIt.getByRole("button", { name: "Calculate" }).click();
    await expect
      .poll(async () => (await tryIt.getByRole("status").textContent()) ?? "", slow)
      .not.toContain("Kiosk bonus");
    await expect.poll(() => tryIt.getByRole("status").count(), slow).toBe(1);
    await expectNoMissingTranslations(w, "the rules page");
    expect(w.errors).toEqual([]);
  });

  it("an event rule with a property condition: rating at least 4 earns for 5 stars, not for 3", async () => {
    const s = await shop();
    const w = await login(s);
    const { page } = w;
    await open(w, "/app/program/rules");
    await page.getByRole("button", { name: "New rule" }).click();
    await page.getByLabel("Name", { exact: true }).fill("Good review");
    await page.getByLabel("When", { exact: true }).selectOption("event");
    await page.getByLabel("Event name").fill("review_written");
    await page.getByLabel("Points", { exact: true }).fill("25");
    const props = page.getByRole("group", { name: "Event details" });
    await props.getByRole("button", { name: "Add an event condition" }).click();
    await props.getByLabel("Property").fill("rating");
    await props.getByLabel("Is").selectOption("gte");
    await props.getByLabel("Value").fill("4");
    await page.getByRole("button", { name: "Save" }).click();
    await expect.poll(() => row(page, "Good review").count(), slow).toBe(1);
    const rule = (await call("GET", "/v1/rules", undefined, s.token)).data[0];
    expect(rule.conditions).toEqual({ event_properties: [{ key: "rating", op: "gte", value: 4 }] });

    const member = await call("POST", "/v1/members", { name: "Rita", marketing_consent: false }, s.token);
    const event = (id: string, rating: number) =>
      call(
        "POST",
        "/v1/events",
        { external_id: id, member_id: member.id, type: "review_written", properties: { rating } },
        s.token,
      );
    const five = await event("e1", 5);
    const three = await event("e2", 3);
    const earned = (r: { earned: { points: { points: number }[] } }) =>
      r.earned.points.reduce((sum, line) => sum + line.points, 0);
    expect(earned(five)).toBe(25);
    expect(earned(three)).toBe(0);

    // Switched away from an event, the property conditions go with it.
    await row(page, "Good review").getByRole("button", { name: "Edit" }).click();
    await expect
      .poll(() => page.getByRole("group", { name: "Event details" }).getByLabel("Value").inputValue(), slow)
      .toBe("4");
    await page.getByLabel("When", { exact: true }).selectOption("signup");
    expect(await page.getByRole("group", { name: "Event details" }).count()).toBe(0);
    expect(w.errors).toEqual([]);
  });

  it("dates say their time zone; an end already passed is named in the business's time next to its field", async () => {
    const s = await shop();
    const w = await login(s);
    const { page } = w;
    await open(w, "/app/program/rewards");
    await page.getByRole("button", { name: "New reward" }).click();
    await page.getByLabel("Name", { exact: true }).fill("Old offer");
    await page.getByLabel("Product", { exact: true }).fill("Croissant");
    await page.getByLabel("Points", { exact: true }).fill("50");
    const until = page.getByLabel("Available until");
    expect(await page.locator(`#${await until.getAttribute("id")}-hint`).textContent()).toBe(
      "Optional. In your time zone, Europe/Amsterdam.",
    );
    await until.fill("2020-01-01T09:00");
    await page.getByRole("button", { name: "Save" }).click();
    const error = page.locator(`#${await until.getAttribute("id")}-error`);
    await expect
      .poll(async () => (await error.textContent()) ?? "", slow)
      .toBe(
        "Jan 1, 2020, 9:00 AM has already passed: no member could redeem the reward. Choose a later date, or leave it empty.",
      );
    expect((await call("GET", "/v1/rewards", undefined, s.token)).data).toEqual([]);
  });

  it("orders the days of the week as the owner's calendar does: Sunday first in Brazilian Portuguese", async () => {
    const s = await shop("pt-BR");
    const w = await login(s, "pt-BR");
    const { page } = w;
    await open(w, "/app/program/rules");
    await page.getByRole("button", { name: "Nova regra" }).click();
    const days = page.getByRole("group", { name: "Nestes dias" });
    await expect.poll(() => days.getByRole("checkbox").count(), slow).toBe(7);
    const labels = await days.locator("label").allTextContents();
    expect(labels[0]).toBe("domingo");
    expect(labels[1]).toBe("segunda-feira");
    // Sunday ticked is still ISO 7.
    await page.getByLabel("Nome", { exact: true }).fill("Domingo em dobro");
    await days.getByRole("checkbox", { name: "domingo" }).check();
    await page.getByRole("button", { name: "Salvar" }).click();
    await expect
      .poll(
        async () => (await call("GET", "/v1/rules", undefined, s.token)).data[0]?.conditions.days_of_week,
        slow,
      )
      .toEqual([7]);
  });
});
