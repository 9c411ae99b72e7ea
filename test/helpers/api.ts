import { randomBytes } from "node:crypto";
import type { FastifyInstance } from "fastify";
import { type AppContext, type AuthLimits, createContext } from "../../src/context.ts";
import type { Database } from "../../src/db/database.ts";
import { buildApp } from "../../src/http/app.ts";
import { FixedClock } from "../../src/shared/clock.ts";
import { openTestDatabase } from "./db.ts";

export interface Response<T = any> {
  status: number;
  body: T;
  /** The body as sent. */
  text: string;
  headers: Record<string, string | string[] | number | undefined>;
}

export type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/** A signed-up business and a way to call the API as its owner (or with any other token). */
export interface Tenant {
  businessId: string;
  slug: string;
  token: string;
  ownerEmail: string;
  password: string;
  call<T = any>(
    method: Method,
    url: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<Response<T>>;
  as(token: string): Tenant;
}

export interface TestApp {
  app: FastifyInstance;
  database: Database;
  ctx: AppContext;
  clock: FixedClock;
  call<T = any>(
    method: Method,
    url: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<Response<T>>;
  signup(overrides?: Record<string, unknown>): Promise<Tenant>;
  close(): Promise<void>;
}

export const OWNER_PASSWORD = "correct horse battery";

/** Starts the API in-process on a fresh test database, with a clock the test controls. */
export async function startTestApp(
  options: {
    now?: string;
    poolSize?: number;
    limits?: AuthLimits;
    rateLimitPerMinute?: number;
    publicUrl?: string;
    /** Turns the server's log on, into this stream. */
    logStream?: { write(line: string): void };
  } = {},
): Promise<TestApp> {
  const database = await openTestDatabase({ poolSize: options.poolSize });
  const clock = new FixedClock(new Date(options.now ?? "2026-03-02T09:00:00Z"));
  const ctx: AppContext = createContext(
    database.db,
    clock,
    // Tests refuse many made-up credentials from one address, on a clock that stands still.
    {
      failedAuthPerMinute: 100_000,
      ...(options.limits ?? { signupsPerHour: 100_000, loginsPerMinute: 100_000 }),
    },
  );
  const app = await buildApp(ctx, {
    rateLimitPerMinute: options.rateLimitPerMinute ?? 1_000_000,
    publicUrl: options.publicUrl ?? null,
    ...(options.logStream ? { logStream: options.logStream } : {}),
  });
  await app.ready();

  async function call<T>(
    method: Method,
    url: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Response<T>> {
    const res = await app.inject({
      method,
      url,
      headers: {
        ...(body !== undefined && typeof body !== "string" ? { "content-type": "application/json" } : {}),
        ...headers,
      },
      ...(body === undefined ? {} : { payload: typeof body === "string" ? body : JSON.stringify(body) }),
    });
    const text = res.body;
    return {
      status: res.statusCode,
      body: text ? safeJson(text) : undefined,
      text,
      headers: res.headers,
    } as Response<T>;
  }

  function tenant(base: Omit<Tenant, "call" | "as">): Tenant {
    return {
      ...base,
      call: (method, url, body, headers = {}) =>
        call(method, url, body, { authorization: `Bearer ${base.token}`, ...headers }),
      as: (token) => tenant({ ...base, token }),
    };
  }

  async function signup(overrides: Record<string, unknown> = {}): Promise<Tenant> {
    const slug = `biz-${randomBytes(5).toString("hex")}`;
    const ownerEmail = `owner@${slug}.test`;
    const res = await call<any>("POST", "/v1/businesses", {
      slug,
      name: "Café Test",
      currency: "EUR",
      timezone: "Europe/Amsterdam",
      locale: "nl",
      owner: { email: ownerEmail, name: "Olga Owner", password: OWNER_PASSWORD },
      ...overrides,
    });
    if (res.status !== 201) throw new Error(`signup failed: ${res.status} ${JSON.stringify(res.body)}`);
    return tenant({
      businessId: res.body.business.id,
      slug,
      token: res.body.token,
      ownerEmail,
      password: OWNER_PASSWORD,
    });
  }

  return {
    app,
    database,
    ctx,
    clock,
    call,
    signup,
    close: async () => {
      await app.close();
      await database.close();
    },
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
