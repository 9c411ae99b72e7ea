import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OWNER_PASSWORD, type Response, startTestApp, type Tenant, type TestApp } from "../helpers/api.ts";
import { addStaff } from "../helpers/staff.ts";

/**
 * The web app's sessions: an HttpOnly, SameSite=Strict cookie instead of a bearer token, and a
 * CSRF token that every change made with the cookie must carry.
 */

let t: TestApp;
let owner: Tenant;
beforeAll(async () => {
  t = await startTestApp();
  owner = await t.signup();
});
afterAll(async () => t?.close());

function sessionCookie(res: Response): { value: string; attributes: string } {
  const header = res.headers["set-cookie"];
  const line = (Array.isArray(header) ? header : [String(header)]).find((c) =>
    c.startsWith("regulars_session="),
  );
  if (!line) throw new Error(`no session cookie in ${JSON.stringify(header)}`);
  const [pair, ...attributes] = line.split(";");
  return { value: pair!.slice("regulars_session=".length), attributes: attributes.join(";") };
}

async function cookieLogin(): Promise<{ cookie: string; csrf: string }> {
  const res = await t.call("POST", "/v1/auth/login", {
    business: owner.slug,
    email: owner.ownerEmail,
    password: OWNER_PASSWORD,
    session: "cookie",
  });
  expect(res.status).toBe(200);
  return { cookie: `regulars_session=${sessionCookie(res).value}`, csrf: res.body.csrf_token };
}

describe("cookie sessions for the web app", () => {
  it("logs in with an HttpOnly, SameSite=Strict cookie and returns a CSRF token instead of the secret", async () => {
    const res = await t.call("POST", "/v1/auth/login", {
      business: owner.slug,
      email: owner.ownerEmail,
      password: OWNER_PASSWORD,
      session: "cookie",
    });
    expect(res.status).toBe(200);
    expect(res.body.token).toBeUndefined();
    expect(res.body.csrf_token).toMatch(/^[0-9a-f]{64}$/);
    const cookie = sessionCookie(res);
    expect(cookie.value).toMatch(/^rs_/);
    expect(cookie.attributes).toMatch(/HttpOnly/i);
    expect(cookie.attributes).toMatch(/SameSite=Strict/i);
    expect(cookie.attributes).toMatch(/Path=\//);
    expect(JSON.stringify(res.body)).not.toContain(cookie.value);
  });

  it("signs a business up straight into a cookie session", async () => {
    const res = await t.call("POST", "/v1/businesses", {
      slug: "cookie-cafe",
      name: "Cookie Café",
      currency: "EUR",
      timezone: "Europe/Warsaw",
      locale: "pl",
      owner: { email: "ola@cookie.test", name: "Ola", password: OWNER_PASSWORD },
      session: "cookie",
    });
    expect(res.status).toBe(201);
    expect(res.body.token).toBeUndefined();
    expect(res.body.business.published_at).toBeNull();
    const me = await t.call("GET", "/v1/auth/me", undefined, {
      cookie: `regulars_session=${sessionCookie(res).value}`,
    });
    expect(me.status).toBe(200);
    expect(me.body.business.slug).toBe("cookie-cafe");
    expect(me.body.csrf_token).toBe(res.body.csrf_token);
  });

  it("reads with the cookie alone and tells the web app its CSRF token", async () => {
    const { cookie, csrf } = await cookieLogin();
    const me = await t.call("GET", "/v1/auth/me", undefined, { cookie });
    expect(me.status).toBe(200);
    expect(me.body.csrf_token).toBe(csrf);
    expect((await t.call("GET", "/v1/members", undefined, { cookie })).status).toBe(200);
  });

  it("refuses a change made with the cookie but without the right CSRF token, and changes nothing", async () => {
    const { cookie, csrf } = await cookieLogin();
    const body = { name: "Forged", marketing_consent: false };
    const attempts: Record<string, string>[] = [
      { cookie },
      { cookie, "x-csrf-token": "0".repeat(64) },
      { cookie, "x-csrf-token": "" },
    ];
    for (const headers of attempts) {
      const res = await t.call("POST", "/v1/members", body, headers);
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe("csrf_token_invalid");
    }
    const list = await owner.call("GET", "/v1/members?q=Forged");
    expect(list.body.data).toEqual([]);
    const ok = await t.call("POST", "/v1/members", body, { cookie, "x-csrf-token": csrf });
    expect(ok.status).toBe(201);
  });

  it("does not accept one session's CSRF token with another session's cookie", async () => {
    const first = await cookieLogin();
    const second = await cookieLogin();
    const res = await t.call(
      "PATCH",
      "/v1/business",
      { name: "Mixed" },
      {
        cookie: first.cookie,
        "x-csrf-token": second.csrf,
      },
    );
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe("csrf_token_invalid");
  });

  it("logs out: the cookie is cleared and the session no longer works", async () => {
    const { cookie, csrf } = await cookieLogin();
    const out = await t.call("POST", "/v1/auth/logout", undefined, { cookie, "x-csrf-token": csrf });
    expect(out.status).toBe(204);
    const cleared = String(out.headers["set-cookie"]);
    expect(cleared).toMatch(/regulars_session=;/);
    const me = await t.call("GET", "/v1/auth/me", undefined, { cookie });
    expect(me.status).toBe(401);
    expect(me.body.error.code).toBe("unauthorized");
  });

  it("prefers an Authorization header over a cookie and needs no CSRF token with it", async () => {
    const res = await owner.call(
      "POST",
      "/v1/members",
      { name: "Bearer", marketing_consent: true },
      {
        cookie: "regulars_session=rs_garbage",
      },
    );
    expect(res.status).toBe(201);
    const bad = await t.call("GET", "/v1/auth/me", undefined, { authorization: "Basic abc" });
    expect(bad.status).toBe(401);
  });

  it("rejects a session mode it does not know", async () => {
    const res = await t.call("POST", "/v1/auth/login", {
      business: owner.slug,
      email: owner.ownerEmail,
      password: OWNER_PASSWORD,
      session: "jwt",
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("validation_failed");
  });
});

describe("publishing the program", () => {
  it("opens the program once; publishing again keeps the first date", async () => {
    const tenant = await t.signup();
    expect((await tenant.call("GET", "/v1/business")).body.published_at).toBeNull();
    const first = await tenant.call("POST", "/v1/program/publish");
    expect(first.status).toBe(200);
    expect(first.body.published_at).toBe(t.clock.now().toISOString());
    t.clock.advance(60_000);
    const again = await tenant.call("POST", "/v1/program/publish");
    expect(again.body.published_at).toBe(first.body.published_at);
    const audit = await tenant.call("GET", "/v1/audit-log");
    expect(audit.body.data.filter((e: { action: string }) => e.action === "program.published")).toHaveLength(
      1,
    );
  });

  it("is the owner's decision only", async () => {
    const tenant = await t.signup();
    for (const role of ["manager", "cashier"] as const) {
      const staff = await addStaff(t, tenant, role);
      const res = await staff.session.call("POST", "/v1/program/publish");
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe("forbidden");
    }
    expect((await tenant.call("GET", "/v1/business")).body.published_at).toBeNull();
  });
});
