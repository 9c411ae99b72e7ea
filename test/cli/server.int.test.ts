import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Config, loadConfig } from "../../src/config.ts";
import { type RunningServer, startServer } from "../../src/server.ts";
import { emptyDatabase } from "../helpers/empty-database.ts";

let config: Config;
let cleanup: () => Promise<void>;

/** An empty database (no migrations yet): a temporary PGlite directory or a new server database. */
beforeAll(async () => {
  const base = { PORT: "0", LOG_LEVEL: "silent", DEMO: "true", WEB: "false" };
  const empty = await emptyDatabase("server");
  config = loadConfig({ ...base, ...empty.variables });
  cleanup = empty.cleanup;
});
afterAll(async () => cleanup?.());

async function start(): Promise<{ server: RunningServer; banner: string }> {
  const lines: string[] = [];
  const server = await startServer(config, { handleSignals: false, print: (line) => lines.push(line) });
  return { server, banner: lines.join("\n") };
}

describe("the server", () => {
  it("migrates, creates the demo on the first start, serves the API and its docs", async () => {
    const { server, banner } = await start();
    try {
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(banner).toContain(`API          ${server.url}/v1`);
      expect(banner).toContain(`OpenAPI JSON ${server.url}/docs/json`);
      expect(banner).toContain(`API docs     ${server.url}/docs`);
      expect(banner).toContain('Demo business "demo-cafe" (created now)');
      expect(banner).toMatch(
        /^Starting Regulars on the (embedded database in .+|PostgreSQL server of DATABASE_URL)…\nCreating the demo business \(first start\)…\n/,
      );
      expect(banner).toContain("Owner login  demo@regulars.test / regulars-demo");
      expect(banner).toContain(`API key      ${server.demo?.apiKey}`);
      expect(server.demo?.apiKey).toMatch(/^rk_/);

      expect(await (await fetch(`${server.url}/health`)).json()).toEqual({ status: "ok" });
      const openapi = await fetch(`${server.url}/docs/json`);
      expect(openapi.status).toBe(200);
      expect(((await openapi.json()) as any).info.title).toBe("Regulars API");
      expect((await fetch(`${server.url}/docs`, { redirect: "follow" })).status).toBe(200);
      const business = await fetch(`${server.url}/v1/business`, {
        headers: { authorization: `Bearer ${server.demo?.apiKey}` },
      });
      expect(((await business.json()) as any).slug).toBe("demo-cafe");
    } finally {
      await server.close();
    }
  }, 120_000);

  it("keeps its data across a restart and does not create the demo twice", async () => {
    const { server, banner } = await start();
    try {
      expect(server.demo).toMatchObject({ created: false, apiKey: null, members: 25 });
      expect(banner).not.toContain("Creating the demo business");
      expect(banner).toContain(
        'Demo business "demo-cafe" (the logins as created; a password changed since is not shown):',
      );
      expect(banner).toContain("A new one: POST /v1/api-keys with the owner's token (Try, below)");
      const login = await fetch(`${server.url}/v1/auth/login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          business: "demo-cafe",
          email: "demo@regulars.test",
          password: "regulars-demo",
        }),
      });
      expect(login.status).toBe(200);
    } finally {
      await server.close();
    }
  }, 60_000);
});
