import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Method, startTestApp, type Tenant, type TestApp } from "../helpers/api.ts";
import { digestOf } from "../helpers/digest.ts";

/**
 * What no route's own schema sees, for every route of the OpenAPI document: a NUL character
 * (which PostgreSQL cannot store in text), a body or a query string sent to an operation that
 * takes none, and a URL that does not decode. Each is a 400 in the one error shape, and changes
 * nothing.
 */

let t: TestApp;
let a: Tenant;
beforeAll(async () => {
  t = await startTestApp();
  a = await t.signup();
  const member = await a.call("POST", "/v1/members", { name: "Ada", marketing_consent: false });
  if (member.status !== 201) throw new Error(JSON.stringify(member.body));
});
afterAll(async () => t?.close());

interface Operation {
  method: Method;
  /** The path with every parameter filled in (the values need not exist: nothing gets that far). */
  url: string;
  route: string;
  takesBody: boolean;
  takesQuery: boolean;
}

function operations(): Operation[] {
  const doc = t.app.swagger() as {
    paths: Record<string, Record<string, { requestBody?: unknown; parameters?: { in: string }[] }>>;
  };
  return Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => ({
      method: method.toUpperCase() as Method,
      url: path.replace(/\{\w+\}/g, "0b5c7d1e-2f3a-4b5c-8d6e-7f8091a2b3c4"),
      route: `${method.toUpperCase()} ${path}`,
      takesBody: op.requestBody !== undefined,
      takesQuery: (op.parameters ?? []).some((p) => p.in === "query"),
    })),
  );
}

/** The routes whose answer was not the expected 400, with what they answered instead. */
async function refusals(
  cases: { route: string; send: () => Promise<{ status: number; body: any }> }[],
  message: RegExp,
  code = "validation_failed",
): Promise<string[]> {
  const wrong: string[] = [];
  for (const c of cases) {
    const res = await c.send();
    const error = res.body?.error;
    if (res.status !== 400 || error?.code !== code || !message.test(error?.message ?? "")) {
      wrong.push(`${c.route} → ${res.status} ${JSON.stringify(res.body)}`);
    }
  }
  return wrong;
}

describe("input no schema sees", () => {
  it("gives each schema issue its code and limit, for a client to word in its user's language", async () => {
    const res = await a.call("POST", "/v1/stamp-cards", {
      name: "Koffie",
      stamps_required: 0,
      earn_on: "visit",
    });
    expect([res.status, res.body.error.code]).toEqual([400, "validation_failed"]);
    expect(res.body.error.details.issues).toEqual([
      expect.objectContaining({ path: "stamps_required", code: "too_small", origin: "number", limit: 1 }),
    ]);
    const typed = await a.call("POST", "/v1/stamp-cards", {
      name: "Koffie",
      stamps_required: null,
      earn_on: "visit",
    });
    expect(typed.body.error.details.issues).toEqual([
      expect.objectContaining({ path: "stamps_required", code: "invalid_type", expected: "number" }),
    ]);
  });

  it("finds the API's routes", () => {
    const ops = operations();
    expect(ops.length).toBeGreaterThan(60);
    expect(ops.filter((o) => !o.takesBody && o.method !== "GET").length).toBeGreaterThan(5);
  });

  it("refuses a NUL character in any route's query string and body, and in the Idempotency-Key", async () => {
    const before = await digestOf(t.database.db, a.businessId);
    const nul = /at "zz": must not contain the NUL character/;
    const inQuery = operations().map((o) => ({
      route: o.route,
      send: () => a.call(o.method, `${o.url}?zz=caf%00e`),
    }));
    expect(await refusals(inQuery, nul)).toEqual([]);
    const inBody = operations()
      .filter((o) => o.method !== "GET")
      .map((o) => ({ route: o.route, send: () => a.call(o.method, o.url, { zz: "caf\u0000e" }) }));
    expect(await refusals(inBody, nul)).toEqual([]);
    // Deeper in a body, in a field the schema knows, and in a key.
    const deep = await a.call("POST", "/v1/members", {
      name: "Bo",
      marketing_consent: false,
      attributes: { favourite: "flat\u0000white" },
    });
    expect([deep.status, deep.body.error.code, deep.body.error.details]).toEqual([
      400,
      "validation_failed",
      {
        issues: [
          {
            in: "body",
            path: "attributes.favourite",
            message: "must not contain the NUL character (U+0000)",
          },
        ],
      },
    ]);
    const inKey = await a.call("POST", "/v1/members", {
      name: "Bo",
      marketing_consent: false,
      attributes: { "fav\u0000": "x" },
    });
    expect([inKey.status, inKey.body.error.details.issues[0].path]).toEqual([400, "attributes.fav\u0000"]);
    const inPath = await a.call("GET", "/v1/vouchers/AB%00CD");
    expect([inPath.status, inPath.body.error.message]).toEqual([
      400,
      'Invalid params at "code": must not contain the NUL character (U+0000)',
    ]);
    const header = await a.call(
      "POST",
      "/v1/purchases",
      { external_id: "nul-1", amount_minor: 100, currency: "EUR" },
      { "idempotency-key": "key\u0000" },
    );
    expect([header.status, header.body.error.message]).toEqual([
      400,
      'Invalid headers at "idempotency-key": must not contain the NUL character (U+0000)',
    ]);
    expect(await digestOf(t.database.db, a.businessId)).toEqual(before);
  });

  it("refuses a lone UTF-16 surrogate in any route's body, in a key and in the Idempotency-Key: nothing stored changed", async () => {
    const before = await digestOf(t.database.db, a.businessId);
    const lone = /at "zz": must be valid Unicode text \(it holds a lone UTF-16 surrogate\)/;
    const inBody = operations()
      .filter((o) => o.method !== "GET")
      .map((o) => ({ route: o.route, send: () => a.call(o.method, o.url, { zz: "caf\ud800e" }) }));
    expect(await refusals(inBody, lone)).toEqual([]);
    // In text a column would have stored as U+FFFD, and in JSON PostgreSQL refuses.
    for (const [url, body, path] of [
      ["/v1/members", { name: "Zo\udc00e", marketing_consent: false }, "name"],
      [
        "/v1/members",
        { name: "Bo", marketing_consent: false, attributes: { team: ["Ajax\ud800"] } },
        "attributes.team.0",
      ],
      [
        "/v1/members",
        { name: "Bo", marketing_consent: false, attributes: { "t\udfff": 1 } },
        "attributes.t\udfff",
      ],
      ["/v1/purchases", { external_id: "till-\ud800", amount_minor: 100, currency: "EUR" }, "external_id"],
    ] as const) {
      const res = await a.call("POST", url, body);
      expect([res.status, res.body.error.code, res.body.error.details.issues[0].path]).toEqual([
        400,
        "validation_failed",
        path,
      ]);
    }
    const header = await a.call(
      "POST",
      "/v1/members",
      { name: "Bo", marketing_consent: false },
      { "idempotency-key": "key\ud800" },
    );
    expect([header.status, header.body.error.message]).toEqual([
      400,
      'Invalid headers at "idempotency-key": must be valid Unicode text (it holds a lone UTF-16 surrogate)',
    ]);
    expect(await digestOf(t.database.db, a.businessId)).toEqual(before);
    // A surrogate pair is a character like any other.
    const emoji = await a.call("POST", "/v1/members", { name: "Bo \ud83c\udf70", marketing_consent: false });
    expect([emoji.status, emoji.body.name]).toEqual([201, "Bo 🍰"]);
  });

  it("refuses a __proto__ or constructor.prototype key in any route's body as forbidden_property, and changes nothing", async () => {
    const before = await digestOf(t.database.db, a.businessId);
    for (const [text, property] of [
      ['{"zz":1,"__proto__":{"role":"owner"}}', "__proto__"],
      ['{"zz":{"\\u005f_proto__":{"role":"owner"}}}', "__proto__"],
      ['{"zz":{"constructor":{"prototype":{"role":"owner"}}}}', "constructor.prototype"],
    ] as const) {
      const sent = operations()
        .filter((o) => o.method !== "GET")
        .map((o) => ({
          route: o.route,
          send: () => a.call(o.method, o.url, text, { "content-type": "application/json" }),
        }));
      const said = new RegExp(`holds a key "${property.replace(".", "\\.")}"`);
      expect(await refusals(sent, said, "forbidden_property")).toEqual([]);
    }
    const member = await a.call(
      "POST",
      "/v1/members",
      '{"name":"Eve","marketing_consent":false,"attributes":{"__proto__":{"vip":true}}}',
      { "content-type": "application/json" },
    );
    expect([member.status, member.body.error.code, member.body.error.details]).toEqual([
      400,
      "forbidden_property",
      { property: "__proto__" },
    ]);
    expect(await digestOf(t.database.db, a.businessId)).toEqual(before);
  });

  it("refuses a body nested deeper than 32 levels with a 400, however deep", async () => {
    const before = await digestOf(t.database.db, a.businessId);
    // As JSON text: too deep for JSON.stringify to write.
    const nested = (depth: number) =>
      `{"name":"Bo","marketing_consent":false,"attributes":{"deep":${"[".repeat(depth)}1${"]".repeat(depth)}}}`;
    for (const depth of [31, 20_000]) {
      const res = await a.call("POST", "/v1/members", nested(depth), { "content-type": "application/json" });
      expect([res.status, res.body.error.code]).toEqual([400, "validation_failed"]);
      expect(res.body.error.message).toMatch(
        /^Invalid body at "attributes\.deep(\.0)+": is nested too deeply: at most 32 levels of objects and arrays$/,
      );
    }
    expect(await digestOf(t.database.db, a.businessId)).toEqual(before);
    // 32 levels in all (the body, its attributes, and 30 arrays) get as far as the route's schema,
    // which wants a member's attributes flat.
    const within = await a.call("POST", "/v1/members", nested(30), { "content-type": "application/json" });
    expect([within.status, within.body.error.message]).toEqual([
      400,
      'Invalid body at "attributes.deep": must be a string, number or boolean (no objects, arrays or null)',
    ]);
  });

  it("refuses a body sent to an operation that takes none, and a query string where it takes none", async () => {
    const before = await digestOf(t.database.db, a.businessId);
    const noBody = operations()
      .filter((o) => !o.takesBody && o.method !== "GET")
      .map((o) => ({ route: o.route, send: () => a.call(o.method, o.url, { zz: 1 }) }));
    expect(await refusals(noBody, /at "zz": is not a field of this operation, which takes no body/)).toEqual(
      [],
    );
    const notAnObject = operations()
      .filter((o) => !o.takesBody && o.method !== "GET")
      .map((o) => ({ route: o.route, send: () => a.call(o.method, o.url, [1]) }));
    expect(await refusals(notAnObject, /this operation takes no body; send none, or \{\}/)).toEqual([]);
    const noQuery = operations()
      .filter((o) => !o.takesQuery)
      .map((o) => ({ route: o.route, send: () => a.call(o.method, `${o.url}?zz=1`) }));
    expect(
      await refusals(noQuery, /at "zz": is not a parameter of this operation, which takes none/),
    ).toEqual([]);
    expect(await digestOf(t.database.db, a.businessId)).toEqual(before);
    // An empty object is the same as no body at all.
    const tier = await a.call("POST", "/v1/tiers", { name: "Gold", rank: 1, threshold: 0 });
    const archived = await a.call("DELETE", `/v1/tiers/${tier.body.id}`, {});
    expect(archived.status).toBe(200);
  });

  it("answers a URL that does not decode in the one error shape", async () => {
    for (const url of [
      "/v1/members/%E0%A4%A",
      "/v1/vouchers/%ZZ",
      // In the query string too: not a lookup of the code "%ZZ", nor a search for half a character.
      "/v1/members/lookup?code=%ZZ",
      "/v1/members?q=%E0%A4",
      "/v1/members?q=ok&limit=1%",
    ]) {
      const res = await a.call("GET", url);
      expect([res.status, res.body], url).toEqual([
        400,
        {
          error: {
            code: "malformed_url",
            message: "The URL is not valid: check its percent-encoding (%XX).",
          },
        },
      ]);
    }
  });

  it("refuses a date-time outside 1900–9999 in every field that takes one, and changes nothing", async () => {
    const member = (await a.call("GET", "/v1/members?limit=1")).body.data[0].id;
    const before = await digestOf(t.database.db, a.businessId);
    const span = /must be from 1900-01-01T00:00:00Z to 9999-12-31T23:59:59Z/;
    const cases: [Method, string, (at: string) => Record<string, unknown>][] = [
      [
        "POST",
        "/v1/purchases",
        (at) => ({ external_id: `d-${at}`, amount_minor: 100, currency: "EUR", occurred_at: at }),
      ],
      ["POST", "/v1/purchases/preview", (at) => ({ amount_minor: 100, currency: "EUR", occurred_at: at })],
      [
        "POST",
        "/v1/events",
        (at) => ({ external_id: `e-${at}`, member_id: member, type: "review_written", occurred_at: at }),
      ],
      ["POST", "/v1/members", (at) => ({ name: "Old", marketing_consent: false, joined_at: at })],
      [
        "POST",
        "/v1/rules",
        (at) => ({
          name: "R",
          trigger: "purchase",
          effect: { type: "fixed_points", points: 1 },
          starts_at: at,
        }),
      ],
      [
        "POST",
        "/v1/rewards",
        (at) => ({ name: "W", type: "perk", value: { description: "x" }, cost_points: 1, valid_until: at }),
      ],
    ];
    const sends = cases.flatMap(([method, url, body]) =>
      ["0000-01-01T00:00:00Z", "1899-12-31T23:59:59Z", "9999-12-31T23:59:59-12:00"].map((at) => ({
        route: `${method} ${url} ${at}`,
        send: () => a.call(method, url, body(at)),
      })),
    );
    expect(await refusals(sends, span)).toEqual([]);
    expect(await digestOf(t.database.db, a.businessId)).toEqual(before);
    // The span's first moment is taken.
    const oldest = await a.call("POST", "/v1/members", {
      name: "Oldest",
      marketing_consent: false,
      joined_at: "1900-01-01T00:00:00Z",
    });
    expect([oldest.status, oldest.body.joined_at]).toEqual([201, "1900-01-01T00:00:00.000Z"]);
  });
});

describe("the OpenAPI document", () => {
  it("states the statuses the ledger's writes answer with, and what they answer", async () => {
    const doc = t.app.swagger() as unknown as {
      paths: Record<string, Record<string, { responses: Record<string, { content?: unknown }> }>>;
    };
    const statuses = (path: string, method: string) =>
      Object.keys(doc.paths[path]?.[method]?.responses ?? {});
    for (const path of ["/v1/purchases", "/v1/refunds", "/v1/events", "/v1/members/{id}/adjustments"]) {
      expect(statuses(path, "post"), path).toEqual(
        expect.arrayContaining(["200", "201", "400", "404", "409", "410", "422"]),
      );
      expect(doc.paths[path]?.post?.responses["201"]?.content, path).toBeDefined();
    }
    expect(statuses("/v1/auth/logout", "post").sort()).toEqual(["204", "400", "401", "413", "415", "429"]);
    // Every operation states the errors that come from code no route's schema knows of: a bad
    // request and the rate limit everywhere, a refused credential wherever one is needed, a role
    // too low on the manager's and owner's routes, an id that names nothing on every route with one.
    // The poster (PDF) and the wallet's icons (PNG) are files, described in words.
    const files = ["/v1/launch-kit/poster.pdf", "/v1/public/wallet-icons/{file}"];
    for (const [path, operations] of Object.entries(doc.paths)) {
      if (files.includes(path)) continue;
      for (const [method, operation] of Object.entries(operations)) {
        const documented = Object.keys(operation.responses);
        const where = `${method.toUpperCase()} ${path}`;
        expect(documented, where).toEqual(expect.arrayContaining(["400", "429"]));
        const open = path.startsWith("/v1/public/") || ["/v1/businesses", "/v1/auth/login"].includes(path);
        if (!open) expect(documented, where).toContain("401");
        if (path.includes("{")) expect(documented, where).toContain("404");
        expect(
          documented.filter((status) => Number(status) < 300),
          `${where} says what it answers`,
        ).not.toEqual([]);
      }
    }
    // OpenAPI 3.0: a nullable enum lists null among its values, or validators refuse every null.
    const nullableEnums: string[] = [];
    const walk = (node: unknown, where: string): void => {
      if (Array.isArray(node)) {
        for (const [i, n] of node.entries()) walk(n, `${where}.${i}`);
      } else if (node && typeof node === "object") {
        const o = node as { nullable?: boolean; enum?: unknown[] };
        if (o.nullable === true && Array.isArray(o.enum) && !o.enum.includes(null)) nullableEnums.push(where);
        for (const [k, v] of Object.entries(node)) walk(v, `${where}.${k}`);
      }
    };
    walk(doc.paths, "paths");
    expect(nullableEnums).toEqual([]);
    // Every list has one shape: its page of `data` and the `next_cursor` of the next page.
    const lists = Object.entries(doc.paths).flatMap(([path, operations]) => {
      const content = operations.get?.responses["200"]?.content as
        | Record<string, { schema?: { properties?: Record<string, { type?: string }> } }>
        | undefined;
      const properties = content?.["application/json"]?.schema?.properties;
      return properties?.data?.type === "array" ? [[path, Object.keys(properties).sort()]] : [];
    });
    expect(lists.length).toBeGreaterThan(10);
    for (const [path, keys] of lists) expect(keys, String(path)).toEqual(["data", "next_cursor"]);
    // Every operation has a name of its own, as SDK generators want.
    const ids = Object.values(doc.paths).flatMap((operations) =>
      Object.values(operations).map((operation) => (operation as { operationId?: string }).operationId),
    );
    expect(ids.every((id) => typeof id === "string" && /^[a-z]+[A-Za-z0-9]+$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toContain("postMembersByIdCardLink");
    for (const [path, method] of [
      ["/v1/staff", "get"],
      ["/v1/rules", "post"],
      ["/v1/audit-log", "get"],
      ["/v1/points/expire", "post"],
    ] as const)
      expect(statuses(path, method), `${method} ${path}`).toContain("403");
    // What the document says a purchase answers is what it answers, field for field at the top.
    const member = await a.call("POST", "/v1/members", { name: "Doc", marketing_consent: false });
    const bought = await a.call("POST", "/v1/purchases", {
      external_id: "doc-1",
      member_id: member.body.id,
      amount_minor: 500,
      currency: "EUR",
    });
    expect(bought.status).toBe(201);
    const schema = (
      (doc.paths["/v1/purchases"]?.post?.responses["201"]?.content ?? {}) as Record<
        string,
        { schema: { properties: Record<string, { anyOf?: { properties: object }[]; properties?: object }> } }
      >
    )["application/json"]?.schema;
    expect(Object.keys(schema?.properties ?? {}).sort()).toEqual(Object.keys(bought.body).sort());
    const memberSchema = schema?.properties.member;
    const memberProps = memberSchema?.properties ?? memberSchema?.anyOf?.[0]?.properties ?? {};
    expect(Object.keys(memberProps).sort()).toEqual(Object.keys(bought.body.member).sort());
  });
});
