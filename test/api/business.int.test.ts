import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OWNER_PASSWORD, startTestApp, type TestApp } from "../helpers/api.ts";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => t?.close());

describe("business signup and login", () => {
  it("signs a business up and returns the owner's session", async () => {
    const tenant = await t.signup();
    const me = await tenant.call("GET", "/v1/auth/me");
    expect(me.status).toBe(200);
    expect(me.body.actor.role).toBe("owner");
    expect(me.body.business.currency).toBe("EUR");
  });

  it("refuses a handle that is taken", async () => {
    const tenant = await t.signup();
    const res = await t.call("POST", "/v1/businesses", {
      slug: tenant.slug,
      name: "Other",
      currency: "EUR",
      timezone: "Europe/Amsterdam",
      locale: "en",
      owner: { email: "x@y.test", name: "X", password: OWNER_PASSWORD },
    });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe("slug_taken");
  });

  it("answers one of two sign-ups of one handle at once with 409 slug_taken, never a 500", async () => {
    for (let round = 0; round < 4; round++) {
      const slug = `race-${round}-${Date.now().toString(36)}`;
      const body = (n: number) => ({
        slug,
        name: "Race",
        currency: "EUR",
        timezone: "Europe/Amsterdam",
        locale: "en",
        owner: { email: `o${n}@race.test`, name: "O", password: OWNER_PASSWORD },
      });
      const answers = await Promise.all([
        t.call("POST", "/v1/businesses", body(1)),
        t.call("POST", "/v1/businesses", body(2)),
      ]);
      expect(answers.map((a) => a.status).sort()).toEqual([201, 409]);
      expect(answers.find((a) => a.status === 409)?.body.error.code).toBe("slug_taken");
      const { count } = await t.database.db
        .selectFrom("businesses")
        .select((eb) => eb.fn.countAll<number>().as("count"))
        .where("slug", "=", slug)
        .executeTakeFirstOrThrow();
      expect(Number(count)).toBe(1);
    }
  });

  it.each([
    ["an unknown currency", { currency: "XYZ" }, "currency"],
    ["an unknown time zone", { timezone: "Mars/Olympus" }, "timezone"],
    ["an unsupported locale", { locale: "fr" }, "locale"],
    ["an extra field", { plan: "gold" }, ""],
    ["a short password", { owner: { email: "a@b.test", name: "A", password: "short" } }, "owner.password"],
  ])("refuses %s with validation_failed", async (_label, patch, path) => {
    const res = await t.call("POST", "/v1/businesses", {
      slug: "valid-slug-1",
      name: "N",
      currency: "EUR",
      timezone: "Europe/Amsterdam",
      locale: "en",
      owner: { email: "a@b.test", name: "A", password: OWNER_PASSWORD },
      ...patch,
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("validation_failed");
    expect(res.body.error.details.issues.map((i: { path: string }) => i.path)).toContain(path);
    const login = await t.call("POST", "/v1/auth/login", {
      business: "valid-slug-1",
      email: "a@b.test",
      password: OWNER_PASSWORD,
    });
    expect(login.status).toBe(401);
  });

  it("refuses malformed JSON", async () => {
    const res = await t.call("POST", "/v1/businesses", "{not json", { "content-type": "application/json" });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("malformed_json");
  });

  it("logs in with the right password only, and logs out", async () => {
    const tenant = await t.signup();
    const wrong = await t.call("POST", "/v1/auth/login", {
      business: tenant.slug,
      email: tenant.ownerEmail,
      password: "wrong password!",
    });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.code).toBe("invalid_credentials");
    const ok = await t.call("POST", "/v1/auth/login", {
      business: tenant.slug,
      email: tenant.ownerEmail.toUpperCase(),
      password: OWNER_PASSWORD,
    });
    expect(ok.status).toBe(200);
    const session = tenant.as(ok.body.token);
    expect((await session.call("GET", "/v1/business")).status).toBe(200);
    expect((await session.call("POST", "/v1/auth/logout")).status).toBe(204);
    const after = await session.call("GET", "/v1/business");
    expect(after.status).toBe(401);
    expect(after.body.error.code).toBe("unauthorized");
  });

  it("rejects requests without or with a forged token", async () => {
    expect((await t.call("GET", "/v1/business")).body.error.code).toBe("unauthorized");
    const tenant = await t.signup();
    const forged = `${tenant.token.slice(0, -4)}AAAA`;
    expect((await tenant.as(forged).call("GET", "/v1/business")).status).toBe(401);
  });

  it("updates the profile and refuses an empty patch", async () => {
    const tenant = await t.signup();
    const res = await tenant.call("PATCH", "/v1/business", { name: "Café Anna", timezone: "Europe/Warsaw" });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ name: "Café Anna", timezone: "Europe/Warsaw" });
    const empty = await tenant.call("PATCH", "/v1/business", {});
    expect(empty.status).toBe(400);
  });

  it("starts a business on a point per about what €1 buys, in its own currency", async () => {
    for (const [currency, spend] of [
      ["EUR", 100],
      ["HUF", 500],
      ["JPY", 200],
      ["PLN", 500],
    ] as const) {
      const tenant = await t.signup({ currency });
      const config = (await tenant.call("GET", "/v1/program")).body.config;
      expect([currency, config.points.earn_per_minor]).toEqual([currency, spend]);
    }
  });

  it("changes the currency before the first purchase, converting the earn rate, and refuses it after", async () => {
    const tenant = await t.signup();
    const rate = async () => (await tenant.call("GET", "/v1/program")).body.config.points.earn_per_minor;
    expect(await rate()).toBe(100);
    // EUR → JPY: a point per about what €1 buys (¥200), not per ¥100 (src/shared/price-level.ts;
    // every amount: test/api/currency-change.int.test.ts).
    expect((await tenant.call("PATCH", "/v1/business", { currency: "JPY" })).status).toBe(200);
    expect(await rate()).toBe(200);
    // A rate the business set itself is converted by what the currencies are worth: ¥50 is about
    // 0.33 BHD (not in the price table: worth €1), a round 0.500 BHD.
    const program = (await tenant.call("GET", "/v1/program")).body;
    const own = { ...program.config, points: { ...program.config.points, earn_per_minor: 50 } };
    expect((await tenant.call("PUT", "/v1/program", own)).status).toBe(200);
    expect((await tenant.call("PATCH", "/v1/business", { currency: "BHD" })).status).toBe(200);
    expect(await rate()).toBe(500);
    expect((await tenant.call("PATCH", "/v1/business", { currency: "EUR" })).status).toBe(200);
    expect(await rate()).toBe(50);

    const member = await tenant.call("POST", "/v1/members", { name: "Ann", marketing_consent: false });
    const bought = await tenant.call("POST", "/v1/purchases", {
      external_id: "till-1",
      member_id: member.body.id,
      amount_minor: 1000,
      currency: "EUR",
    });
    expect(bought.status).toBe(201);
    const locked = await tenant.call("PATCH", "/v1/business", { currency: "USD", name: "Renamed" });
    expect(locked.status).toBe(409);
    expect(locked.body.error.code).toBe("currency_locked");
    const after = (await tenant.call("GET", "/v1/business")).body;
    expect(after).toMatchObject({ currency: "EUR" });
    expect(after.name).not.toBe("Renamed");
  });

  it("answers unknown routes with route_not_found", async () => {
    const res = await t.call("GET", "/v1/nope");
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe("route_not_found");
  });

  it.each([
    ["DELETE", "/v1/members/m_123", ["GET", "HEAD", "PATCH"]],
    ["PUT", "/v1/purchases", ["GET", "HEAD", "POST"]],
    ["GET", "/v1/auth/login", ["POST"]],
  ])("answers %s %s, a path that takes other methods, with 405 and Allow", async (method, url, allowed) => {
    const tenant = await t.signup();
    const res = await tenant.call(method as "GET", url);
    expect([res.status, res.body.error.code, res.body.error.details]).toEqual([
      405,
      "method_not_allowed",
      { allowed },
    ]);
    expect(res.headers.allow).toBe(allowed.join(", "));
    expect(res.body.error.message).toBe(`${url} does not take ${method}: it takes ${allowed.join(", ")}.`);
  });

  it("keeps 404 for a path no route has, whatever the method", async () => {
    for (const url of ["/v1/members/m_1/nothing", "/v1/members/", "/v1/nope"]) {
      const res = await t.call("DELETE", url);
      expect([url, res.status, res.body.error.code]).toEqual([url, 404, "route_not_found"]);
    }
  });
});
