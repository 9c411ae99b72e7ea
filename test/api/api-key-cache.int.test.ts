import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createContext } from "../../src/context.ts";
import { buildApp } from "../../src/http/app.ts";
import { ApiKeyCache } from "../../src/modules/access/index.ts";
import { startTestApp, type TestApp } from "../helpers/api.ts";

/**
 * API keys are remembered for 5 seconds per server process. A revoked key stops at once on the
 * node that revoked it, and on every other node within those 5 seconds.
 */
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => t?.close());

describe("the API key cache", () => {
  it("stops a revoked key at once here and within five seconds on another node", async () => {
    const owner = await t.signup();
    const created = (await owner.call("POST", "/v1/api-keys", { name: "POS", role: "cashier" })).body;
    const other = await buildApp(createContext(t.database.db, t.clock), { rateLimitPerMinute: 1_000_000 });
    try {
      const viaOther = async () =>
        (
          await other.inject({
            method: "GET",
            url: "/v1/business",
            headers: { authorization: `Bearer ${created.key}` },
          })
        ).statusCode;
      const viaHere = async () => (await owner.as(created.key).call("GET", "/v1/business")).status;
      expect([await viaHere(), await viaOther()]).toEqual([200, 200]);
      expect((await owner.call("DELETE", `/v1/api-keys/${created.id}`)).status).toBe(204);
      expect(await viaHere()).toBe(401);
      expect(await viaOther()).toBe(200);
      t.clock.advance(5_000);
      expect(await viaOther()).toBe(401);
    } finally {
      await other.close();
    }
  });

  it("is not refilled by a request that read the key before it was revoked", async () => {
    const owner = await t.signup();
    // The revocation lands at various points of a request's lookup of the same key.
    for (let i = 0; i < 8; i++) {
      const created = (await owner.call("POST", "/v1/api-keys", { name: `POS ${i}`, role: "cashier" })).body;
      const revoke = owner.call("DELETE", `/v1/api-keys/${created.id}`);
      for (let j = 0; j < i; j++) await Promise.resolve();
      const use = owner.as(created.key).call("GET", "/v1/business");
      const [, revoked] = await Promise.all([use, revoke]);
      expect(revoked.status).toBe(204);
      const after = await owner.as(created.key).call("GET", "/v1/business");
      expect([after.status, after.body.error?.code], `round ${i}`).toEqual([401, "unauthorized"]);
    }
  });

  it("drops what a lookup begun before a revocation would keep", () => {
    const cache = new ApiKeyCache();
    const now = new Date("2026-11-24T12:00:00Z");
    const actor = { businessId: "b", kind: "api_key" as const, id: "k", role: "cashier" as const };
    const before = cache.generation;
    cache.forget("b", "k");
    cache.put("hash", actor, now, before);
    expect(cache.get("hash", now)).toBeUndefined();
    cache.put("hash", actor, now, cache.generation);
    expect(cache.get("hash", now)).toEqual(actor);
  });
});
