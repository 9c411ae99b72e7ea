import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, describeDatabase, loadConfig, maskUrl } from "../../src/config.ts";
import { banner } from "../../src/server.ts";

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

describe("loadConfig", () => {
  it("gives every setting a default when nothing is set", () => {
    expect(loadConfig({})).toEqual({
      port: 3000,
      host: "127.0.0.1",
      dataDir: resolve("./data"),
      databaseUrl: null,
      databasePoolSize: 10,
      logLevel: "info",
      demo: true,
      web: true,
      rateLimitPerMinute: 6000,
      jobsIntervalSeconds: 300,
      answerRetentionDays: 30,
      trustProxy: false,
      publicUrl: null,
    });
  });

  it("reads every variable", () => {
    expect(
      loadConfig({
        PORT: "8080",
        HOST: "0.0.0.0",
        DATA_DIR: "/var/lib/regulars",
        DATABASE_URL: "postgres://app:pw@db:5432/regulars",
        DATABASE_POOL_SIZE: "25",
        LOG_LEVEL: "warn",
        DEMO: "false",
        WEB: "no",
        RATE_LIMIT_PER_MINUTE: "600",
        JOBS_INTERVAL_SECONDS: "0",
        ANSWER_RETENTION_DAYS: "0",
        TRUST_PROXY: "10.0.0.0/8,192.168.1.1",
        PUBLIC_URL: "https://Loyalty.Example.com/",
      }),
    ).toEqual({
      port: 8080,
      host: "0.0.0.0",
      dataDir: "/var/lib/regulars",
      databaseUrl: "postgres://app:pw@db:5432/regulars",
      databasePoolSize: 25,
      logLevel: "warn",
      demo: false,
      web: false,
      rateLimitPerMinute: 600,
      jobsIntervalSeconds: 0,
      answerRetentionDays: 0,
      trustProxy: ["10.0.0.0/8", "192.168.1.1"],
      publicUrl: "https://loyalty.example.com",
    });
  });

  it("treats empty and blank variables as unset", () => {
    expect(loadConfig({ PORT: "", DATABASE_URL: "  ", DEMO: "" })).toMatchObject({
      port: 3000,
      databaseUrl: null,
      demo: true,
    });
  });

  it.each([
    ["true", true],
    ["1", true],
    ["YES", true],
    ["on", true],
    ["false", false],
    ["0", false],
    ["no", false],
    ["Off", false],
  ])("reads DEMO=%s as %s", (value, expected) => {
    expect(loadConfig({ DEMO: value }).demo).toBe(expected);
  });

  it.each([
    ["127.0.0.1", true],
    ["127.0.0.2", true],
    ["localhost", true],
    ["LOCALHOST.", true],
    ["::1", true],
    ["0.0.0.0", false],
    ["::", false],
    ["192.168.1.5", false],
    ["regulars.example.com", false],
  ])("with DEMO unset and HOST=%s, makes a demo: %s (its logins are in the README)", (host, expected) => {
    expect(loadConfig({ HOST: host }).demo).toBe(expected);
    // Asked for, the demo is made wherever the server listens; refused, nowhere.
    expect(loadConfig({ HOST: host, DEMO: "true" }).demo).toBe(true);
    expect(loadConfig({ HOST: host, DEMO: "false" }).demo).toBe(false);
  });

  it("names each invalid variable, what it accepts and what it got", () => {
    expect(
      problems({
        PORT: "http",
        DATABASE_POOL_SIZE: "0",
        LOG_LEVEL: "loud",
        DEMO: "maybe",
        RATE_LIMIT_PER_MINUTE: "-1",
      }),
    ).toEqual([
      'PORT must be a TCP port: a whole number from 0 to 65535 (got "http")',
      'DATABASE_POOL_SIZE must be the number of connections: a whole number from 1 to 1000 (got "0")',
      'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent (got "loud")',
      'DEMO must be true or false (also accepted: true, 1, yes, on, false, 0, no, off) (got "maybe")',
      'RATE_LIMIT_PER_MINUTE must be requests per minute per credential: a whole number from 1 to 10000000 (got "-1")',
    ]);
  });

  it.each([
    // One hop: the address the proxy in front appends, never one the client wrote before it.
    ["true", 1],
    ["1", 1],
    ["off", false],
    ["10.0.0.0/8, 192.168.1.1", ["10.0.0.0/8", "192.168.1.1"]],
    ["::1,fd00::/8", ["::1", "fd00::/8"]],
  ])("reads TRUST_PROXY=%s", (value, expected) => {
    expect(loadConfig({ TRUST_PROXY: value }).trustProxy).toEqual(expected);
  });

  it.each(["abc", "10.0.0.0/33", "::::::::1", "10.0.0.1/8/8", "10.0.0.0/x", "1.2.3"])(
    "refuses TRUST_PROXY=%s, which names no proxy, before the server starts",
    (value) => {
      expect(problems({ TRUST_PROXY: value })).toEqual([
        `TRUST_PROXY must be true or false (also accepted: true, 1, yes, on, false, 0, no, off), or a comma-separated list of proxy IP addresses or CIDRs such as 10.0.0.0/8 (got "${value}")`,
      ]);
    },
  );

  it.each([
    "loyalty.example.com",
    "ftp://loyalty.example.com",
    "https://loyalty.example.com/app",
    "https://loyalty.example.com/?x=1",
    "https://user:pw@loyalty.example.com",
  ])("refuses PUBLIC_URL=%s, which is not an origin customers can open", (value) => {
    expect(problems({ PUBLIC_URL: value })).toEqual([
      `PUBLIC_URL must be the web app's origin, such as https://loyalty.example.com (no path) (got "${value}")`,
    ]);
  });

  it("reads PUBLIC_URL with a port as its origin", () => {
    expect(loadConfig({ PUBLIC_URL: "http://192.168.1.20:3000" }).publicUrl).toBe("http://192.168.1.20:3000");
  });

  it("refuses an answer retention that is not a number of days", () => {
    expect(problems({ ANSWER_RETENTION_DAYS: "30d" })).toEqual([
      `ANSWER_RETENTION_DAYS must be days an idempotent request's answer is kept (0: for good): a whole number from 0 to 36500 (got "30d")`,
    ]);
    expect(problems({ ANSWER_RETENTION_DAYS: "40000" })).toHaveLength(1);
  });

  it.each(["127.0.0.1", "0.0.0.0", "::", "::1", "localhost", "regulars-app", "host.internal.", "fe80::1"])(
    "reads HOST=%s",
    (value) => {
      expect(loadConfig({ HOST: value }).host).toBe(value);
    },
  );

  it.each(["999.1.1.1", "1.2.3", "http://0.0.0.0", "[::1]", "127.0.0.1:3000", "my host", "-bad.example"])(
    "refuses HOST=%s, which is no address to listen on, before the server starts",
    (value) => {
      expect(problems({ HOST: value })).toEqual([
        `HOST must be an address of this machine to listen on: 127.0.0.1 (this machine only), 0.0.0.0 (every IPv4 address), :: (every address), one of its IP addresses, or a host name such as localhost (no brackets, port or http://) (got "${value}")`,
      ]);
    },
  );

  it("refuses a port above 65535", () => {
    expect(problems({ PORT: "70000" })).toEqual([
      'PORT must be a TCP port: a whole number from 0 to 65535 (got "70000")',
    ]);
  });

  it("refuses a DATABASE_URL that is not PostgreSQL, without echoing it", () => {
    const [problem] = problems({ DATABASE_URL: "mysql://root:hunter2@db/regulars" });
    expect(problem).toBe(
      "DATABASE_URL must be a PostgreSQL URL such as postgres://user:password@host:5432/regulars",
    );
    expect(problem).not.toContain("hunter2");
  });

  it("puts every problem in the error message", () => {
    expect(() => loadConfig({ PORT: "x", DEMO: "x" })).toThrow(
      /Invalid configuration:\n {2}- PORT .*\n {2}- DEMO /,
    );
  });
});

describe("maskUrl", () => {
  it.each([
    ["postgres://app:s3cret@db:5432/regulars", "postgres://app:***@db:5432/regulars"],
    ["postgresql://db/regulars", "postgresql://db/regulars"],
    ["postgres://app@db/regulars?sslpassword=k3y", "postgres://app@db/regulars?sslpassword=***"],
    ["not a url", "(invalid URL)"],
  ])("masks %s as %s", (url, masked) => {
    expect(maskUrl(url)).toBe(masked);
  });

  it("describes the database in use without its password", () => {
    const pg = loadConfig({ DATABASE_URL: "postgres://app:s3cret@db:5432/regulars" });
    expect(describeDatabase(pg)).toBe("PostgreSQL postgres://app:***@db:5432/regulars (pool 10)");
    expect(describeDatabase(loadConfig({ DATA_DIR: "/srv/data" }))).toBe("PGlite (embedded) in /srv/data");
  });
});

/** A demo as the banner gets it, made now or by an earlier start, with no secrets to show. */
function demoInfo(created: boolean): Parameters<typeof banner>[2] {
  return {
    slug: "demo-cafe",
    created,
    ownerEmail: "owner@demo.test",
    cashierEmail: "cashier@demo.test",
    password: "pw",
    apiKey: null,
    cardPath: null,
  } as unknown as Parameters<typeof banner>[2];
}

describe("banner", () => {
  it("shows where the API, its docs and the data are, never the database password", () => {
    const config = loadConfig({ DATABASE_URL: "postgres://app:s3cret@db:5432/regulars" });
    const lines = banner(config, "http://127.0.0.1:3000", null);
    expect(lines.filter(Boolean)).toEqual([
      "Regulars is running at http://127.0.0.1:3000",
      "  Dashboard    http://127.0.0.1:3000/app",
      "  Counter      http://127.0.0.1:3000/counter",
      "  API          http://127.0.0.1:3000/v1",
      "  API docs     http://127.0.0.1:3000/docs",
      "  OpenAPI JSON http://127.0.0.1:3000/docs/json",
      "  Database     PostgreSQL postgres://app:***@db:5432/regulars (pool 10)",
    ]);
    expect(lines.join("\n")).not.toContain("s3cret");
  });

  it("says when the web app is off", () => {
    const lines = banner(loadConfig({ WEB: "false" }), "http://127.0.0.1:3000", null);
    expect(lines).toContain("  Web app      off (WEB=false)");
    expect(lines.join("\n")).not.toContain("/counter");
    // Nor does the demo's cashier login point at a counter screen that is not served.
    const demo = demoInfo(true);
    const withDemo = banner(loadConfig({ WEB: "false" }), "http://127.0.0.1:3000", demo).join("\n");
    expect(withDemo).toContain("  Cashier      cashier@demo.test / pw");
    expect(withDemo).not.toContain("/counter");
  });

  it("warns that the demo's public logins can be reached when the server listens beyond this machine", () => {
    const demo = demoInfo(true);
    const note =
      "  Note         HOST is 0.0.0.0: anyone who reaches this server can log in to the demo with the";
    expect(banner(loadConfig({ HOST: "0.0.0.0", DEMO: "true" }), "http://0.0.0.0:3000", demo)).toContain(
      note,
    );
    const local = banner(loadConfig({}), "http://127.0.0.1:3000", demo).join("\n");
    expect(local).not.toContain("Note ");
  });

  it("says how to get a new API key and card link for a demo made by an earlier start", () => {
    const demo = demoInfo(false);
    const lines = banner(loadConfig({}), "http://127.0.0.1:3000", demo);
    expect(lines).toContain(
      "  API key      shown once, when the demo was created. A new one: the dashboard's Settings, or POST /v1/api-keys with the owner's token (Try, below)",
    );
    expect(lines).toContain(
      '  A customer   a card link was shown once, when the demo was created. A new one: at http://127.0.0.1:3000/counter (the cashier\'s login), find a member, "Show a new card link"',
    );
  });
});
