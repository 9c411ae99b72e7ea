import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.ts";
import { createContext } from "../../src/context.ts";
import { buildApp } from "../../src/http/app.ts";
import { createApiKey } from "../../src/modules/access/index.ts";
import { OWNER_PASSWORD, startTestApp, type TestApp } from "../helpers/api.ts";

/** The HTTP edges: limits, sizes and media types answer in the one error shape. */
let t: TestApp;
// Each test talks from its own client address where a per-address limit could interfere.
beforeAll(async () => {
  t = await startTestApp({ limits: { signupsPerHour: 2, loginsPerMinute: 3 }, rateLimitPerMinute: 30 });
});
afterAll(async () => t?.close());

describe("HTTP limits and malformed requests", () => {
  it("marks every answer nosniff: an answer, an error and a path no route has", async () => {
    for (const [url, status] of [
      ["/health", 200],
      ["/v1/business", 401],
      ["/v1/nope", 404],
    ] as const) {
      const res = await t.call("GET", url);
      expect([res.status, res.headers["x-content-type-options"]], url).toEqual([status, "nosniff"]);
    }
  });

  it("limits logins per client address", async () => {
    const tenant = await t.signup();
    const login = () =>
      t.app.inject({
        method: "POST",
        url: "/v1/auth/login",
        remoteAddress: "10.9.9.9",
        payload: { business: tenant.slug, email: tenant.ownerEmail, password: "not the password" },
      });
    const codes: number[] = [];
    for (let i = 0; i < 4; i++) codes.push((await login()).statusCode);
    expect(codes).toEqual([401, 401, 401, 429]);
    const limited = (await login()).json();
    expect(limited.error.code).toBe("rate_limited");
    expect(limited.error.message).toMatch(
      /^Too many requests: this limit allows 3 in its window\. Retry in \d+ s\.$/,
    );
    expect(limited.error.details.retry_after_seconds).toBeGreaterThan(0);
    // Another address is not affected, and the right password still works from there.
    const other = await t.app.inject({
      method: "POST",
      url: "/v1/auth/login",
      remoteAddress: "10.9.9.10",
      payload: { business: tenant.slug, email: tenant.ownerEmail, password: OWNER_PASSWORD },
    });
    expect(other.statusCode).toBe(200);
  });

  it("limits sign-ups per client address", async () => {
    const signup = (n: number) =>
      t.app.inject({
        method: "POST",
        url: "/v1/businesses",
        remoteAddress: "10.8.8.8",
        payload: {
          slug: `limit-${n}-${Date.now()}`,
          name: "L",
          currency: "EUR",
          timezone: "UTC",
          locale: "en",
          owner: { email: "l@l.test", name: "L", password: OWNER_PASSWORD },
        },
      });
    expect([
      (await signup(1)).statusCode,
      (await signup(2)).statusCode,
      (await signup(3)).statusCode,
    ]).toEqual([201, 201, 429]);
  });

  it("limits requests per credential", async () => {
    const tenant = await t.signup();
    const statuses: number[] = [];
    for (let i = 0; i < 31; i++) statuses.push((await tenant.call("GET", "/v1/business")).status);
    expect(statuses.slice(0, 30).every((s) => s === 200)).toBe(true);
    expect(statuses[30]).toBe(429);
    const limited = await tenant.call("GET", "/v1/business");
    expect([limited.status, limited.body.error.code]).toEqual([429, "rate_limited"]);
    expect(limited.body.error.message).toMatch(/^Too many requests: this limit allows 30 in its window/);
    // The same credential written another way is the same credential.
    for (const spaces of ["  ", "   ", " \t "]) {
      const again = await tenant.call("GET", "/v1/business", undefined, {
        authorization: `Bearer${spaces}${tenant.token} `,
      });
      expect([again.status, again.body.error.code]).toEqual([429, "rate_limited"]);
    }
  });

  it("refuses a body over 1 MB, a body that is not JSON, and an empty JSON body", async () => {
    const big = await t.app.inject({
      method: "POST",
      url: "/v1/businesses",
      remoteAddress: "10.7.7.1",
      headers: { "content-type": "application/json" },
      payload: JSON.stringify({ name: "x".repeat(1_100_000) }),
    });
    expect([big.statusCode, big.json().error.code]).toEqual([413, "body_too_large"]);
    const text = await t.app.inject({
      method: "POST",
      url: "/v1/businesses",
      remoteAddress: "10.7.7.2",
      headers: { "content-type": "text/plain" },
      payload: "hello",
    });
    expect([text.statusCode, text.json().error.code]).toEqual([415, "unsupported_media_type"]);
    const empty = await t.app.inject({
      method: "POST",
      url: "/v1/businesses",
      remoteAddress: "10.7.7.3",
      headers: { "content-type": "application/json" },
      payload: "",
    });
    expect([empty.statusCode, empty.json().error.code]).toEqual([400, "malformed_json"]);
  });
});

describe("made-up credentials", () => {
  it("refuse an address after too many, before looking the next one up, but never a credential valid lately", async () => {
    const limited = await startTestApp({
      limits: { signupsPerHour: 100, loginsPerMinute: 100, failedAuthPerMinute: 5 },
    });
    try {
      const tenant = await limited.signup();
      await tenant.call("POST", "/v1/program/publish");
      const card = (
        await limited.call("POST", `/v1/public/businesses/${tenant.slug}/members`, {
          name: "Guest",
          email: "guest@example.test",
          marketing_consent: false,
        })
      ).body.card_token;
      // Issued by another server of the installation (another node, or before a restart), and not
      // yet used here.
      const me = (await tenant.call("GET", "/v1/auth/me")).body.actor;
      const owner = { businessId: tenant.businessId, kind: "staff", id: me.id, role: "owner" } as const;
      const fresh = (
        await createApiKey(
          limited.database.db,
          owner,
          { name: "Till 2", role: "cashier" },
          limited.clock.now(),
        )
      ).key;
      const get = async (url: string, token: string, from = "10.6.6.6") =>
        limited.app.inject({
          method: "GET",
          url,
          remoteAddress: from,
          headers: { authorization: `Bearer ${token}` },
        });
      // The counter and a customer's phone on the café's Wi-Fi, before anything goes wrong.
      expect((await get("/v1/business", tenant.token)).statusCode).toBe(200);
      expect((await get("/v1/wallet/card", card)).statusCode).toBe(200);
      const made = (i: number) => `rk_${String(i).padStart(40, "x")}`;
      const codes: number[] = [];
      for (let i = 0; i < 5; i++) codes.push((await get("/v1/business", made(i))).statusCode);
      expect(codes).toEqual([401, 401, 401, 401, 401]);
      const refused = await get("/v1/business", made(5));
      expect(refused.statusCode).toBe(429);
      expect(refused.json().error).toMatchObject({
        code: "rate_limited",
        details: { retry_after_seconds: 60 },
      });
      expect(refused.headers["retry-after"]).toBe("60");
      // What this server issues meanwhile is spared at once: a cashier's log-in on the café's
      // Wi-Fi, a till's new API key, a customer's new card link.
      const login = await limited.app.inject({
        method: "POST",
        url: "/v1/auth/login",
        remoteAddress: "10.6.6.6",
        payload: { business: tenant.slug, email: tenant.ownerEmail, password: OWNER_PASSWORD },
      });
      expect(login.statusCode).toBe(200);
      expect((await get("/v1/business", login.json().token)).statusCode).toBe(200);
      const issued = (await tenant.call("POST", "/v1/api-keys", { name: "Till 3", role: "cashier" })).body
        .key;
      expect((await get("/v1/business", issued)).statusCode).toBe(200);
      const members = await tenant.call("GET", "/v1/members?q=guest");
      const link = await tenant.call("POST", `/v1/members/${members.body.data[0].id}/card-link`);
      expect(link.status).toBe(201);
      expect((await get("/v1/wallet/card", link.body.card_token)).statusCode).toBe(200);
      // The wallet's made-up card tokens count against the same address, and a credential not
      // seen lately waits too; the counter's session and the customer's card, valid lately, go on.
      expect((await get("/v1/wallet/card", "rm_made_up")).statusCode).toBe(429);
      expect((await get("/v1/business", fresh)).statusCode).toBe(429);
      expect((await get("/v1/business", tenant.token)).statusCode).toBe(200);
      // The card link just replaced the join's: the old token is refused, and not spared again.
      expect((await get("/v1/wallet/card", card)).statusCode).toBe(401);
      expect((await get("/v1/wallet/card", card)).statusCode).toBe(429);
      // Another address is not held up; nor is this one once the minute is over.
      expect((await get("/v1/business", fresh, "10.6.6.7")).statusCode).toBe(200);
      limited.clock.set(new Date(limited.clock.now().getTime() + 60_000));
      expect((await get("/v1/business", made(6))).statusCode).toBe(401);
      // Card tokens alone reach the limit as well.
      for (let i = 0; i < 5; i++)
        expect((await get("/v1/wallet/card", `rm_x_${i}`, "10.6.6.8")).statusCode).toBe(401);
      expect((await get("/v1/wallet/card", "rm_x_5", "10.6.6.8")).statusCode).toBe(429);
    } finally {
      await limited.close();
    }
  });
});

describe("limits count what one client holds", () => {
  it("counts an IPv6 client by its /64, so a new address in it gets no new allowance", async () => {
    const limited = await startTestApp({
      limits: { signupsPerHour: 100, loginsPerMinute: 100, failedAuthPerMinute: 3 },
    });
    try {
      const get = async (from: string, i: number) =>
        (
          await limited.app.inject({
            method: "GET",
            url: "/v1/business",
            remoteAddress: from,
            headers: { authorization: `Bearer rk_${String(i).padStart(40, "y")}` },
          })
        ).statusCode;
      const codes = [];
      for (let i = 0; i < 3; i++) codes.push(await get(`2001:db8:5:6::${i + 1}`, i));
      expect(codes).toEqual([401, 401, 401]);
      expect(await get("2001:db8:5:6:ffff:1:2:3", 3)).toBe(429);
      expect(await get("2001:db8:5:7::1", 4)).toBe(401);
    } finally {
      await limited.close();
    }
  });

  it("refuses an account after 10 failed log-ins from anywhere, for 15 minutes, and no other account", async () => {
    const limited = await startTestApp({ limits: { signupsPerHour: 100, loginsPerMinute: 100 } });
    try {
      const tenant = await limited.signup();
      const other = await limited.signup();
      const login = async (who: typeof tenant, password: string, from: string) =>
        limited.app.inject({
          method: "POST",
          url: "/v1/auth/login",
          remoteAddress: from,
          payload: { business: who.slug, email: who.ownerEmail.toUpperCase(), password },
        });
      for (let i = 0; i < 10; i++) {
        expect((await login(tenant, "wrong password", `198.51.100.${i}`)).statusCode).toBe(401);
      }
      // The right password from yet another address waits too: the guesses were for this account.
      const held = await login(tenant, OWNER_PASSWORD, "198.51.100.77");
      expect([held.statusCode, held.json().error.code]).toEqual([429, "rate_limited"]);
      expect(held.json().error.message).toContain("failed log-ins to this account");
      expect(Number(held.headers["retry-after"])).toBe(900);
      expect((await login(other, OWNER_PASSWORD, "198.51.100.77")).statusCode).toBe(200);
      limited.clock.set(new Date(limited.clock.now().getTime() + 15 * 60_000));
      expect((await login(tenant, OWNER_PASSWORD, "198.51.100.77")).statusCode).toBe(200);
    } finally {
      await limited.close();
    }
  });
});

describe("behind a trusted proxy", () => {
  it("limits logins by the client address the proxy reports", async () => {
    const app = await buildApp(
      createContext(t.database.db, t.clock, { signupsPerHour: 100, loginsPerMinute: 2 }),
      {
        trustProxy: ["127.0.0.1"],
      },
    );
    try {
      const login = async (client: string) =>
        (
          await app.inject({
            method: "POST",
            url: "/v1/auth/login",
            remoteAddress: "127.0.0.1",
            headers: { "x-forwarded-for": client },
            payload: { business: "nobody", email: "a@b.test", password: "wrong password" },
          })
        ).statusCode;
      expect([await login("203.0.113.1"), await login("203.0.113.1"), await login("203.0.113.1")]).toEqual([
        401, 401, 429,
      ]);
      expect(await login("203.0.113.2")).toBe(401);
    } finally {
      await app.close();
    }
  });

  it("with TRUST_PROXY=true believes one hop: a client cannot name its own address to escape the limit", async () => {
    const app = await buildApp(
      createContext(t.database.db, t.clock, { signupsPerHour: 100, loginsPerMinute: 2 }),
      { trustProxy: loadConfig({ TRUST_PROXY: "true" }).trustProxy },
    );
    try {
      // The load balancer appends the address it saw; whatever comes before it, the client wrote.
      const login = async (written: string) =>
        (
          await app.inject({
            method: "POST",
            url: "/v1/auth/login",
            remoteAddress: "10.0.0.1",
            headers: { "x-forwarded-for": `${written}, 198.51.100.7` },
            payload: { business: "nobody", email: "a@b.test", password: "wrong password" },
          })
        ).statusCode;
      expect([await login("203.0.113.1"), await login("203.0.113.2"), await login("203.0.113.3")]).toEqual([
        401, 401, 429,
      ]);
    } finally {
      await app.close();
    }
  });
});
