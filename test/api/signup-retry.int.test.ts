import { randomBytes, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_PROGRAM } from "../../src/modules/program/index.ts";
import { OWNER_PASSWORD, type Response, startTestApp, type TestApp } from "../helpers/api.ts";

/**
 * Sign-up after a lost answer: the owner presses "Create my business" again. With the same
 * `Idempotency-Key` and body they are logged in to the business the first press made, instead of
 * being told their own handle is taken. And a program sent with the sign-up is checked as
 * `PUT /v1/program` checks it.
 */

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => t?.close());

function body(overrides: Record<string, unknown> = {}) {
  const slug = `retry-${randomBytes(5).toString("hex")}`;
  return {
    slug,
    name: "Café Retry",
    currency: "EUR",
    timezone: "Europe/Amsterdam",
    locale: "nl",
    owner: { email: `Owner@${slug}.test`, name: "Olga Owner", password: OWNER_PASSWORD },
    ...overrides,
  };
}

const signup = (payload: unknown, key?: string): Promise<Response> =>
  t.call("POST", "/v1/businesses", payload, key === undefined ? {} : { "idempotency-key": key });

async function count(table: "businesses" | "staff" | "staff_sessions", slug?: string): Promise<number> {
  const row = await t.database.db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .$if(slug !== undefined && table === "businesses", (q) => q.where("slug" as never, "=", slug as never))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

const me = (token: string) => t.call("GET", "/v1/auth/me", undefined, { authorization: `Bearer ${token}` });

describe("sign-up sent again under its Idempotency-Key", () => {
  it("logs the owner in to the business the first request made: same business, one row, a new session", async () => {
    const request = body();
    const key = randomUUID();
    const first = await signup(request, key);
    expect(first.status).toBe(201);
    expect(first.headers["idempotent-replayed"]).toBeUndefined();
    const businesses = await count("businesses");
    const staff = await count("staff");

    const again = await signup(request, key);
    expect(again.status).toBe(200);
    expect(again.headers["idempotent-replayed"]).toBe("true");
    expect(again.body.business).toEqual(first.body.business);
    expect(again.body.owner).toEqual(first.body.owner);
    expect(again.body.token).toMatch(/^rs_/);
    expect(again.body.token).not.toBe(first.body.token);
    expect([await count("businesses"), await count("staff")]).toEqual([businesses, staff]);
    expect(await count("businesses", request.slug)).toBe(1);

    // The new session opens the business as its owner; so does the first, if it ever arrived.
    for (const token of [again.body.token, first.body.token]) {
      const who = await me(token);
      expect([who.status, who.body.business.id, who.body.actor.role]).toEqual([
        200,
        first.body.business.id,
        "owner",
      ]);
    }
  });

  it("delivers the new session as the web app asks for it: a cookie and a CSRF token", async () => {
    const request = { ...body(), session: "cookie" };
    const key = randomUUID();
    expect((await signup(request, key)).status).toBe(201);
    const again = await signup(request, key);
    expect(again.status).toBe(200);
    expect(again.body.token).toBeUndefined();
    const header = again.headers["set-cookie"];
    const line = (Array.isArray(header) ? header : [String(header)]).find((c) =>
      c.startsWith("regulars_session="),
    );
    expect(line).toMatch(/^regulars_session=rs_.*HttpOnly/i);
    const cookie = line!.split(";")[0]!;
    const who = await t.call("GET", "/v1/auth/me", undefined, { cookie });
    expect([who.status, who.body.business.slug, who.body.csrf_token]).toEqual([
      200,
      request.slug,
      again.body.csrf_token,
    ]);
  });

  it("answers two presses at once under one key with the business once", async () => {
    for (let round = 0; round < 3; round++) {
      const request = body();
      const key = randomUUID();
      const answers = await Promise.all([signup(request, key), signup(request, key)]);
      expect(answers.map((a) => a.status).sort()).toEqual([200, 201]);
      expect(answers[0]!.body.business.id).toBe(answers[1]!.body.business.id);
      expect(await count("businesses", request.slug)).toBe(1);
    }
  });

  it("refuses the key with another body (409 idempotency_key_reused) and creates nothing", async () => {
    const request = body();
    const key = `form-${randomUUID()}`;
    const first = await signup(request, key);
    expect(first.status).toBe(201);
    const businesses = await count("businesses");
    const sessions = await count("staff_sessions");
    const other = body();
    for (const changed of [
      { ...request, name: "Another name" },
      { ...request, owner: { ...request.owner, name: "Someone else" } },
      // Another handle under the same key: a different sign-up, not a second business.
      { ...request, slug: other.slug },
      { ...request, program: { ...DEFAULT_PROGRAM, points: { ...DEFAULT_PROGRAM.points, earn_points: 2 } } },
      // The password is not what the key remembers, but it is checked: it must be the owner's.
      { ...request, owner: { ...request.owner, password: "another long password" } },
    ]) {
      const res = await signup(changed, key);
      expect([res.status, res.body.error.code, res.body.error.details]).toEqual([
        409,
        "idempotency_key_reused",
        { key },
      ]);
      expect(res.body.error.message).toBe(
        `The key "${key}" was already used for a different request. Use a new key for a new operation.`,
      );
    }
    expect([await count("businesses"), await count("staff_sessions")]).toEqual([businesses, sessions]);
    expect(await count("businesses", other.slug)).toBe(0);
  });

  it("answers the same sign-up as before without a key: 409 slug_taken", async () => {
    const request = body();
    expect((await signup(request)).status).toBe(201);
    const again = await signup(request);
    expect([again.status, again.body.error.code]).toEqual([409, "slug_taken"]);
    // A key the first request did not carry finds nothing to replay either.
    const keyed = await signup(request, randomUUID());
    expect([keyed.status, keyed.body.error.code]).toEqual([409, "slug_taken"]);
    expect(await count("businesses", request.slug)).toBe(1);
  });

  it("keeps another business's handle taken whatever key is sent", async () => {
    const request = body();
    expect((await signup(request, randomUUID())).status).toBe(201);
    // Another owner picks the same handle, with their own key.
    const rival = {
      ...request,
      owner: { email: "rival@elsewhere.test", name: "Rival", password: OWNER_PASSWORD },
    };
    const res = await signup(rival, randomUUID());
    expect([res.status, res.body.error.code]).toEqual([409, "slug_taken"]);
  });

  it.each([
    ["empty", ""],
    ["longer than 200 characters", "k".repeat(201)],
    ["holding a NUL character", "key\u0000"],
  ])(
    "refuses a key that is %s with 400 validation_failed at the header, and creates nothing",
    async (_what, key) => {
      const request = body();
      const res = await signup(request, key);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe("validation_failed");
      expect(res.body.error.details.issues[0]).toMatchObject({ in: "headers", path: "idempotency-key" });
      expect(await count("businesses", request.slug)).toBe(0);
    },
  );

  it("logs in for a day only: the same sign-up later is 410 idempotency_answer_expired, and not done again", async () => {
    const request = body();
    const key = randomUUID();
    const first = await signup(request, key);
    expect(first.status).toBe(201);
    const start = t.clock.now();
    try {
      t.clock.advance(24 * 3_600_000 - 1);
      expect((await signup(request, key)).status).toBe(200);
      t.clock.advance(1);
      const late = await signup(request, key);
      expect([late.status, late.body.error.code, late.body.error.details]).toEqual([
        410,
        "idempotency_answer_expired",
        { key, done_at: first.body.business.created_at },
      ]);
      expect(late.body.error.message).toContain(`Log in to the business "${request.slug}"`);
      expect(await count("businesses", request.slug)).toBe(1);
    } finally {
      t.clock.set(start);
    }
  });
});

describe("a program sent with the sign-up", () => {
  const outlasting = {
    ...DEFAULT_PROGRAM,
    points: { ...DEFAULT_PROGRAM.points, pending_days: 30, expiry: { policy: "days_after_earn", days: 10 } },
  };

  it("is refused as PUT /v1/program refuses it (422 pending_outlasts_expiry), and nothing is created", async () => {
    const request = body({ program: outlasting });
    const businesses = await count("businesses");
    const refused = await signup(request, randomUUID());
    expect(refused.status).toBe(422);
    const tenant = await t.signup();
    const put = await tenant.call("PUT", "/v1/program", outlasting);
    expect(put.status).toBe(422);
    expect(refused.body).toEqual(put.body);
    expect(refused.body.error).toMatchObject({
      code: "pending_outlasts_expiry",
      details: { pending_days: 30, expiry_days: 10 },
    });
    expect(await count("businesses")).toBe(businesses + 1); // the tenant's only
    expect(await count("businesses", request.slug)).toBe(0);
    // Without a key too; and the handle is still free for a program that passes.
    expect((await signup(request)).status).toBe(422);
    const fixed = {
      ...request,
      program: { ...outlasting, points: { ...outlasting.points, pending_days: 9 } },
    };
    const created = await signup(fixed);
    expect(created.status).toBe(201);
    const program = await t.call("GET", "/v1/program", undefined, {
      authorization: `Bearer ${created.body.token}`,
    });
    expect(program.body.config.points).toMatchObject({
      pending_days: 9,
      expiry: { policy: "days_after_earn", days: 10 },
    });
  });
});

describe("the refusals the dashboard's sign-up form words itself", () => {
  it("carry the code, origin and limit test/web/signup-words.test.ts words", async () => {
    const request = body({
      slug: "ab",
      name: "",
      owner: { email: "not an address", name: "Olga", password: "nine char" },
    });
    const res = await signup(request);
    expect(res.status).toBe(400);
    const issues = Object.fromEntries(
      (res.body.error.details.issues as { path: string }[]).map(({ path, ...rest }) => [path, rest]),
    );
    expect(issues).toMatchObject({
      slug: { code: "invalid_format" },
      name: { code: "too_small", origin: "string", limit: 1 },
      "owner.email": { code: "invalid_format" },
      "owner.password": { code: "too_small", origin: "string", limit: 10 },
    });
  });
});
