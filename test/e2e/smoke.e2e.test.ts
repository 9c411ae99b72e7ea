import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type E2E, expectAccessible, expectNoMissingTranslations, startE2E } from "./browser.ts";

let e2e: E2E;
beforeAll(async () => {
  e2e = await startE2E();
});
afterAll(async () => e2e?.close());

describe("the web app", () => {
  it("serves the start page in every language, accessible, with a strict content security policy", async () => {
    const watched = await e2e.newPage();
    const response = await watched.page.goto("/");
    expect(response?.headers()["content-security-policy"]).toContain("default-src 'self'");
    await expect.poll(() => watched.page.getByRole("heading", { level: 1 }).count()).toBe(1);
    for (const [locale, signup] of [
      ["nl", "Start je programma"],
      ["pl", "Uruchom swój program"],
      ["pt-BR", "Comece seu programa"],
      ["en", "Start your program"],
    ] as const) {
      await watched.page.getByLabel(/Language|Taal|Język|Idioma/).selectOption(locale);
      await expect.poll(() => watched.page.getByRole("link", { name: signup }).count()).toBe(1);
      expect(await watched.page.getAttribute("html", "lang")).toBe(locale);
      await expectNoMissingTranslations(watched, `/ in ${locale}`);
    }
    await expectAccessible(watched.page, "/");
    expect(watched.errors).toEqual([]);
  });

  it("serves the API's browsable docs under a content security policy that lets them run", async () => {
    const watched = await e2e.newPage();
    const response = await watched.page.goto("/docs");
    const policy = response?.headers()["content-security-policy"] ?? "";
    expect(policy).toContain("script-src 'self'");
    expect(policy).toContain("frame-ancestors 'none'");
    expect(policy).not.toContain("upgrade-insecure-requests");
    expect(policy).not.toContain("validator.swagger.io");
    // Swagger UI draws the document's operations: its scripts ran under the policy.
    await expect.poll(() => watched.page.getByText("/v1/purchases").count()).toBeGreaterThan(0);
    expect(watched.errors).toEqual([]);
  });

  it("answers an unknown page with the app and an unknown API route with the JSON error", async () => {
    const watched = await e2e.newPage();
    await watched.page.goto("/no/such/page");
    await expect.poll(() => watched.page.getByRole("heading", { name: "Page not found" }).count()).toBe(1);
    const api = await fetch(`${e2e.baseUrl}/v1/nothing-here`);
    expect(api.status).toBe(404);
    expect(await api.json()).toMatchObject({ error: { code: "route_not_found" } });
  });
});
