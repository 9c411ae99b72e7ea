import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createContext } from "../../src/context.ts";
import type { Database } from "../../src/db/database.ts";
import { buildApp } from "../../src/http/app.ts";
import { systemClock } from "../../src/shared/clock.ts";
import { openTestDatabase } from "../helpers/db.ts";

/**
 * GET /v1, the "API" address the server's banner prints, with the web app served beside the API
 * (whose pages answer every other GET that names no file).
 */
let database: Database;
let app: FastifyInstance;
const webDist = mkdtempSync(join(tmpdir(), "regulars-web-"));
beforeAll(async () => {
  writeFileSync(join(webDist, "index.html"), "<!doctype html><title>Regulars</title>");
  database = await openTestDatabase();
  app = await buildApp(createContext(database.db, systemClock), { webDist, rateLimitPerMinute: 1_000_000 });
  await app.ready();
});
afterAll(async () => {
  await app?.close();
  await database?.close();
  rmSync(webDist, { recursive: true, force: true });
});

describe("GET /v1", () => {
  it("answers what the API is and where its docs are, without a credential, not the web app's page", async () => {
    const res = await app.inject({ method: "GET", url: "/v1" });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^application\/json/);
    expect(res.json()).toEqual({
      name: "Regulars API",
      version: "1.0.0",
      docs: "/docs",
      openapi: "/docs/json",
    });
    // The version is the OpenAPI document's.
    const openapi = await app.inject({ method: "GET", url: "/docs/json" });
    expect(openapi.json().info.version).toBe("1.0.0");
    // The web app still has its pages; a path under /v1 that names nothing is the API's 404.
    expect((await app.inject({ method: "GET", url: "/app/members" })).body).toContain("<!doctype html>");
    const missing = await app.inject({ method: "GET", url: "/v1/nothing-here" });
    expect([missing.statusCode, missing.json().error.code]).toEqual([404, "route_not_found"]);
    // Other methods are refused as for any route.
    const post = await app.inject({ method: "POST", url: "/v1" });
    expect([post.statusCode, post.json().error.code]).toEqual([405, "method_not_allowed"]);
  });
});
