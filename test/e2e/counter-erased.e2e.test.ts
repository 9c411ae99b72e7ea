import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callApi, type E2E, signUpShop, startE2E } from "./browser.ts";

/**
 * The customer deletes their card while the counter still shows it: the purchase the cashier then
 * records is refused (409 member_erased), and the counter says why in the cashier's words.
 */

const CASHIER = { email: "cashier@corner.test", password: "counter-pass-2026" };
const slow = { timeout: 15_000 };
let e2e: E2E;

const call = <T = any>(method: string, path: string, body?: unknown, token?: string): Promise<T> =>
  callApi<T>(e2e.baseUrl, method, path, body, token);

beforeAll(async () => {
  e2e = await startE2E();
});
afterAll(async () => e2e?.close());

describe("the counter, when a card was deleted", () => {
  it("says the card was deleted by its holder, and records nothing on it", async () => {
    const { slug, token: owner } = await signUpShop(e2e.baseUrl, {
      prefix: "corner",
      name: "Corner Café",
      password: "owner-pass-2026",
    });
    await call("POST", "/v1/staff", { ...CASHIER, name: "Carla Cashier", role: "cashier" }, owner);
    const anna = await call<{ id: string; code: string }>(
      "POST",
      "/v1/members",
      { name: "Anna Nowak", email: `anna@${slug}.test`, marketing_consent: false },
      owner,
    );
    const { page } = await e2e.newPage({ phone: true });
    await page.goto("/counter");
    await expect.poll(() => page.getByRole("heading", { name: "Counter login" }).count(), slow).toBe(1);
    await page.getByLabel("Business handle").fill(slug);
    await page.getByLabel("Email").fill(CASHIER.email);
    await page.getByLabel("Password").fill(CASHIER.password);
    await page.getByRole("button", { name: "Log in" }).click();
    await page.getByLabel("Card code, voucher code, phone or email").fill(anna.code);
    await page.getByRole("button", { name: "Find", exact: true }).click();
    await expect.poll(() => page.getByRole("heading", { name: "Anna Nowak" }).count(), slow).toBe(1);

    // Erased meanwhile (here by staff, as the card's own "Delete my card" does).
    await call("POST", `/v1/members/${anna.id}/erase`, { reason: "asked by the member" }, owner);
    await page.getByLabel(/Amount paid/).fill("3,50");
    await page.getByRole("button", { name: "Record", exact: true }).click();
    await expect.poll(() => page.getByText(/This card was deleted by its holder/).count(), slow).toBe(1);
    const purchases = await call<{ data: unknown[] }>(
      "GET",
      `/v1/purchases?member_id=${anna.id}`,
      undefined,
      owner,
    );
    expect(purchases.data).toEqual([]);
  });
});
