import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Method, startTestApp, type Tenant, type TestApp } from "../helpers/api.ts";
import { digestOf } from "../helpers/digest.ts";
import { addStaff } from "../helpers/staff.ts";

/**
 * Random input for every route of the OpenAPI document. Each route's request body and query
 * string are drawn from its own schema, most often broken in one place (a value of another type,
 * a number past its limit, a text too long or not text at all, a field removed or added, a raw
 * JSON number no JavaScript value writes), and its path ids are real ones of the business, or
 * made-up text. Whatever comes: never a 5xx, every refusal in the one error shape with a specific
 * code and a message, neither a read nor a route that refused every call changed anything of the
 * business, and a write that may be retried, sent again with its key, answers as the first time
 * and does nothing twice. `FUZZ_RUNS` (24 a route) and `FUZZ_SEED` draw more, or others.
 */

const RUNS = Number(process.env.FUZZ_RUNS ?? 24);

let t: TestApp;
let a: Tenant;
/** The ids the path parameters are filled with, by the route's first path segment. */
const ids: Record<string, string> = {};
/** Real values the generators draw from, so that a valid draw reaches the use case. */
const real = { uuids: [] as string[], codes: [] as string[], emails: [] as string[] };
let walletToken = "";
let logoutToken = "";

beforeAll(async () => {
  t = await startTestApp();
  a = await t.signup();
  const post = async (url: string, body: unknown) => {
    const res = await a.call("POST", url, body);
    if (res.status >= 300) throw new Error(`${url}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };
  ids.location = (await post("/v1/locations", { name: "Main street" })).id;
  ids.staff = (await addStaff(t, a, "cashier")).id;
  ids.apiKey = (await post("/v1/api-keys", { name: "POS", role: "manager" })).id;
  ids.card = (await post("/v1/stamp-cards", { name: "Coffee", stamps_required: 3, earn_on: "visit" })).id;
  ids.tier = (await post("/v1/tiers", { name: "Gold", rank: 1, threshold: 0 })).id;
  ids.rule = (
    await post("/v1/rules", {
      name: "Bonus",
      trigger: "purchase",
      effect: { type: "fixed_points", points: 100 },
    })
  ).id;
  const member = await post("/v1/members", {
    name: "Alice",
    email: "alice@fuzz.test",
    phone: "+31612345678",
    marketing_consent: true,
  });
  ids.member = member.id;
  ids.reward = (
    await post("/v1/rewards", {
      name: "Mug",
      type: "free_product",
      value: { product_name: "Mug" },
      cost_points: 10,
    })
  ).id;
  ids.purchase = (
    await post("/v1/purchases", {
      external_id: "fuzz-1",
      member_id: ids.member,
      amount_minor: 5_000,
      currency: "EUR",
      location_id: ids.location,
    })
  ).purchase.id;
  ids.event = (
    await post("/v1/events", { external_id: "fuzz-e", member_id: ids.member, type: "review_written" })
  ).event.id;
  ids.voucher = (await post(`/v1/members/${ids.member}/redemptions`, { reward_id: ids.reward })).voucher.code;
  walletToken = (await post(`/v1/members/${ids.member}/card-link`, {})).card_token;
  const login = await t.call("POST", "/v1/auth/login", {
    business: a.slug,
    email: a.ownerEmail,
    password: a.password,
  });
  logoutToken = login.body.token;
  real.uuids.push(...Object.values(ids).filter((v) => /^[0-9a-f-]{36}$/.test(v)));
  real.codes.push(member.code, ids.voucher as string);
  real.emails.push("alice@fuzz.test", a.ownerEmail);
});
afterAll(async () => t?.close());

// ---------------------------------------------------------------------------------------------
// Values drawn from a route's JSON schema.

interface Schema {
  type?: string | string[];
  nullable?: boolean;
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  items?: Schema;
  enum?: unknown[];
  const?: unknown;
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minItems?: number;
  maxItems?: number;
  format?: string;
  pattern?: string;
}

/** Plausible values by field name, next to what the schema alone would draw. */
function hinted(name: string): fc.Arbitrary<unknown> | undefined {
  if (name === "currency") return fc.constantFrom("EUR", "USD", "PLN", "eur", "XXX", "EURO");
  if (name === "timezone") return fc.constantFrom("Europe/Warsaw", "America/New_York", "UTC", "Mars/Olympus");
  if (name === "locale") return fc.constantFrom("en", "nl", "pl", "pt-BR", "xx", "en-GB");
  if (name === "email") return fc.oneof(fc.constantFrom(...real.emails), fc.emailAddress());
  if (name === "phone") return fc.constantFrom("+31612345678", "+48 600 100 200", "0612345678", "+1");
  if (name === "code" || name === "member_code") return fc.constantFrom(...real.codes);
  if (name === "birthday") return fc.constantFrom("1990-02-28", "2000-02-29", "2001-02-29", "2030-01-01");
  return undefined;
}

function drawn(schema: Schema, name = "", depth = 0): fc.Arbitrary<unknown> {
  const plain = fromSchema(schema, name, depth);
  const hint = hinted(name);
  return hint ? fc.oneof(hint, plain) : plain;
}

function fromSchema(s: Schema, name: string, depth: number): fc.Arbitrary<unknown> {
  if (s.const !== undefined) return fc.constant(s.const);
  if (s.enum) return fc.constantFrom(...s.enum);
  const choices = s.anyOf ?? s.oneOf;
  if (choices) return fc.oneof(...choices.map((c) => drawn(c, name, depth)));
  if (s.allOf?.[0]) return drawn(s.allOf[0], name, depth);
  const types = Array.isArray(s.type) ? s.type : s.type ? [s.type] : ["string"];
  const arbitraries = types.map((type) => ofType(s, type, name, depth));
  if (s.nullable) arbitraries.push(fc.constant(null));
  return arbitraries.length === 1 ? (arbitraries[0] as fc.Arbitrary<unknown>) : fc.oneof(...arbitraries);
}

function ofType(s: Schema, type: string, name: string, depth: number): fc.Arbitrary<unknown> {
  switch (type) {
    case "null":
      return fc.constant(null);
    case "boolean":
      return fc.boolean();
    case "integer": {
      const min = s.minimum ?? (s.exclusiveMinimum !== undefined ? s.exclusiveMinimum + 1 : -1000);
      const max = s.maximum ?? (s.exclusiveMaximum !== undefined ? s.exclusiveMaximum - 1 : 1_000_000);
      return fc.oneof(
        fc.integer({ min, max: Math.min(max, min + 5_000) }),
        fc.constantFrom(min, max),
        fc.integer({ min, max }),
      );
    }
    case "number": {
      const min = s.minimum ?? -1000;
      const max = s.maximum ?? 1_000_000;
      return fc.oneof(
        fc.double({ min, max, noNaN: true, noDefaultInfinity: true }),
        fc.constantFrom(min, max),
      );
    }
    case "array": {
      if (depth > 4) return fc.constant([]);
      const minLength = s.minItems ?? 0;
      const maxLength = Math.min(s.maxItems ?? 4, minLength + 4);
      return fc.array(drawn(s.items ?? {}, name, depth + 1), { minLength, maxLength });
    }
    case "object": {
      if (depth > 4) return fc.constant({});
      const properties = s.properties ?? {};
      const model: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [key, value] of Object.entries(properties)) model[key] = drawn(value, key, depth + 1);
      if (Object.keys(model).length === 0)
        return fc.dictionary(fc.string({ minLength: 1, maxLength: 10 }), fc.jsonValue({ maxDepth: 1 }), {
          maxKeys: 3,
        });
      return fc.record(model, { requiredKeys: (s.required ?? []).filter((k) => k in model) });
    }
    default:
      return text(s);
  }
}

function text(s: Schema): fc.Arbitrary<string> {
  if (s.format === "uuid") return fc.oneof(fc.constantFrom(...real.uuids), fc.uuid());
  if (s.format === "date-time")
    return fc
      .date({
        min: new Date("2020-01-01T00:00:00Z"),
        max: new Date("2030-12-31T00:00:00Z"),
        noInvalidDate: true,
      })
      .map((d) => d.toISOString());
  if (s.format === "date") return fc.constantFrom("2026-03-02", "2026-02-29", "2024-02-29", "1900-01-01");
  if (s.format === "email") return fc.oneof(fc.constantFrom(...real.emails), fc.emailAddress());
  const minLength = s.minLength ?? 0;
  const maxLength = Math.min(s.maxLength ?? 40, minLength + 40);
  if (s.pattern) {
    return fc
      .stringMatching(new RegExp(s.pattern))
      .filter((x) => x.length >= minLength && x.length <= (s.maxLength ?? Number.POSITIVE_INFINITY));
  }
  return fc.string({ minLength, maxLength, unit: fc.constantFrom("a", "b", "é", "1", " ", "-", "_", ".") });
}

// ---------------------------------------------------------------------------------------------
// One place broken.

/** JSON numbers no JavaScript value serializes to, put in place of a marker string. */
const RAW = ["1e999", "-0", "1.0", "0.1e1", "123456789012345678901234567890", "-1e-999"];
const rawMarker = (i: number) => `\u0001raw${i}\u0001`;

const badValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(
    null,
    "",
    " ",
    -1,
    0,
    0.5,
    1e21,
    2 ** 53,
    -(2 ** 53),
    Number.MAX_SAFE_INTEGER + 2,
    true,
    [],
    {},
    "x".repeat(5_000),
    "a\u0000b",
    "💥".repeat(300),
    "\ud800",
    "' or 1=1 --",
    "2026-02-30",
    "2026-13-01T25:61:00Z",
    "NaN",
    "Infinity",
    "00000000-0000-0000-0000-000000000000",
    "ffffffff-ffff-ffff-ffff-ffffffffffff",
    "__proto__",
  ),
  fc.integer({ min: 0, max: RAW.length - 1 }).map(rawMarker),
  fc.jsonValue({ maxDepth: 2 }),
);

type Mutation =
  | { kind: "replace"; at: number; value: unknown }
  | { kind: "remove"; at: number }
  | { kind: "add"; at: number; key: string; value: unknown };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({ kind: fc.constant("replace" as const), at: fc.nat(), value: badValue }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("remove" as const), at: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("add" as const),
      at: fc.nat(),
      key: fc.constantFrom("extra", "__proto__", "constructor", "business_id", ""),
      value: badValue,
    }),
  },
);

/** Every place in a value: its parent container and key (the root has none). */
function places(
  value: unknown,
): { parent: Record<string, unknown> | unknown[] | null; key: string | number }[] {
  const out: { parent: Record<string, unknown> | unknown[] | null; key: string | number }[] = [
    { parent: null, key: "" },
  ];
  const walk = (v: unknown) => {
    if (Array.isArray(v))
      v.forEach((item, i) => {
        out.push({ parent: v, key: i });
        walk(item);
      });
    else if (v && typeof v === "object")
      for (const [k, item] of Object.entries(v)) {
        out.push({ parent: v as Record<string, unknown>, key: k });
        walk(item);
      }
  };
  walk(value);
  return out;
}

function broken(value: unknown, m: Mutation): unknown {
  const copy = structuredClone(value);
  const all = places(copy);
  const place = all[m.at % all.length];
  if (!place) return copy;
  const { parent, key } = place;
  if (m.kind === "replace") {
    if (parent === null) return m.value;
    (parent as Record<string | number, unknown>)[key] = m.value;
  } else if (m.kind === "remove") {
    if (parent === null) return undefined;
    if (Array.isArray(parent)) parent.splice(key as number, 1);
    else delete parent[key as string];
  } else {
    const containers = all
      .map((p) => (p.parent === null ? copy : (p.parent as Record<string | number, unknown>)[p.key]))
      .filter((v): v is Record<string, unknown> => !!v && typeof v === "object" && !Array.isArray(v));
    const target = containers[m.at % Math.max(containers.length, 1)];
    if (target) Object.defineProperty(target, m.key, { value: m.value, enumerable: true, writable: true });
    else return copy;
  }
  return copy;
}

function serialize(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  let out = JSON.stringify(value);
  RAW.forEach((raw, i) => {
    out = out.split(JSON.stringify(rawMarker(i))).join(raw);
  });
  return out;
}

// ---------------------------------------------------------------------------------------------
// The routes.

interface Operation {
  method: Method;
  path: string;
  route: string;
  body?: Schema;
  query: { name: string; schema: Schema }[];
  params: string[];
}

function operations(): Operation[] {
  const doc = t.app.swagger() as {
    paths: Record<
      string,
      Record<
        string,
        {
          requestBody?: { content: { "application/json": { schema: Schema } } };
          parameters?: { in: string; name: string; schema: Schema }[];
        }
      >
    >;
  };
  return Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => ({
      method: method.toUpperCase() as Method,
      path,
      route: `${method.toUpperCase()} ${path}`,
      body: op.requestBody?.content["application/json"].schema,
      query: (op.parameters ?? [])
        .filter((p) => p.in === "query")
        .map((p) => ({ name: p.name, schema: p.schema })),
      params: [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1] as string),
    })),
  );
}

/** The real id for a path parameter, by the route's resource. */
function realParam(path: string, param: string): string {
  if (param === "slug") return a.slug;
  if (param === "file") return "192.png";
  if (param === "code") return ids.voucher as string;
  const resource = path.split("/")[2] ?? "";
  const byResource: Record<string, string | undefined> = {
    staff: ids.staff,
    "api-keys": ids.apiKey,
    locations: ids.location,
    members: ids.member,
    "stamp-cards": ids.card,
    tiers: ids.tier,
    rules: ids.rule,
    purchases: ids.purchase,
    events: ids.event,
    rewards: ids.reward,
  };
  return byResource[resource] ?? (ids.member as string);
}

/** Changes that end what the rest of the run needs (an erased member, an archived card) come last. */
const LAST = new Set([
  "POST /v1/members/{id}/erase",
  "POST /v1/wallet/me/erase",
  "DELETE /v1/api-keys/{id}",
  "DELETE /v1/stamp-cards/{id}",
  "DELETE /v1/tiers/{id}",
  "DELETE /v1/rules/{id}",
  "DELETE /v1/rewards/{id}",
]);

/** Reads that leave a line in the audit log: who took a copy of a member's data. */
const AUDITED_READS = new Set(["GET /v1/members/{id}/export", "GET /v1/wallet/me/export"]);

/** The writes a client may send again: each with an `Idempotency-Key` (or its `external_id`). */
const REPLAYED = new Set([
  "POST /v1/purchases",
  "POST /v1/refunds",
  "POST /v1/events",
  "POST /v1/members",
  "POST /v1/members/{id}/redemptions",
  "POST /v1/members/{id}/adjustments",
  "POST /v1/vouchers/{code}/redeem",
  "POST /v1/vouchers/{code}/void",
  "POST /v1/program/templates/cafe_stamp_card",
  "POST /v1/program/templates/bakery_points",
  "POST /v1/program/templates/boutique_tiers",
  "POST /v1/program/templates/gym_tiers",
  "POST /v1/rewards",
  "POST /v1/rules",
  "POST /v1/stamp-cards",
  "POST /v1/tiers",
  "POST /v1/locations",
  "POST /v1/staff",
  "POST /v1/wallet/redemptions",
]);

/** The card's routes with the member's card token; logging out with a session of its own. */
function tokenFor(op: Operation): string {
  if (op.path.startsWith("/v1/wallet/")) return walletToken;
  if (op.route === "POST /v1/auth/logout") return logoutToken;
  return a.token;
}

interface Draw {
  body: unknown;
  query: [string, unknown][];
  params: (string | null)[];
  breakBody: Mutation | null;
  breakQuery: Mutation | null;
}

function draws(op: Operation): fc.Arbitrary<Draw> {
  const queryModel = op.query.map((q) =>
    fc.option(
      drawn(q.schema, q.name).map((v) => [q.name, v] as [string, unknown]),
      { nil: undefined, freq: 2 },
    ),
  );
  return fc.record({
    body: op.body ? drawn(op.body) : fc.constant(undefined),
    query: fc.tuple(...queryModel).map((qs) => qs.filter((q): q is [string, unknown] => q !== undefined)),
    // A made-up path parameter now and then: text of any kind, sent encoded.
    params: fc.tuple(...op.params.map(() => fc.option(fc.string({ maxLength: 40 }), { nil: null, freq: 5 }))),
    breakBody: fc.option(mutation, { nil: null, freq: 4 }),
    breakQuery: fc.option(mutation, { nil: null, freq: 2 }),
  });
}

function queryString(pairs: [string, unknown][]): string {
  const search = new URLSearchParams();
  for (const [name, value] of pairs) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) search.append(name, String(v));
    else search.append(name, typeof value === "object" ? JSON.stringify(value) : String(value));
  }
  const s = search.toString();
  return s ? `?${s}` : "";
}

function request(op: Operation, d: Draw): { url: string; body: string | undefined } {
  let path = op.path;
  op.params.forEach((param, i) => {
    const made = d.params[i];
    path = path.replace(`{${param}}`, made == null ? realParam(op.path, param) : encodeURIComponent(made));
  });
  let query = d.query;
  if (d.breakQuery && query.length > 0) {
    const i = d.breakQuery.at % query.length;
    const pair = query[i] as [string, unknown];
    query = query.map((q, j) =>
      j === i ? [pair[0], d.breakQuery?.kind === "replace" ? d.breakQuery.value : ""] : q,
    ) as [string, unknown][];
  }
  const body = op.body ? serialize(d.breakBody ? broken(d.body, d.breakBody) : d.body) : undefined;
  return { url: `${path}${queryString(query)}`, body };
}

describe("random input for every route", () => {
  it("never answers 5xx, refuses in the one error shape, a read or a refused call changes nothing, a retry nothing twice", async () => {
    const all = operations();
    expect(all.length).toBeGreaterThan(80);
    const ordered = [...all.filter((o) => !LAST.has(o.route)), ...all.filter((o) => LAST.has(o.route))];
    const problems: string[] = [];
    const statuses = new Map<number, number>();
    let unchangedChecked = 0;
    let keys = 0;
    let replays = 0;
    for (const op of ordered) {
      const before = await digestOf(t.database.db, a.businessId);
      let accepted = 0;
      await fc.assert(
        fc.asyncProperty(draws(op), async (d) => {
          const { url, body } = request(op, d);
          const key = `fuzz-${++keys}`;
          const send = () =>
            t.app.inject({
              method: op.method,
              url,
              headers: {
                authorization: `Bearer ${tokenFor(op)}`,
                ...(REPLAYED.has(op.route) ? { "idempotency-key": key } : {}),
                ...(body !== undefined ? { "content-type": "application/json" } : {}),
              },
              ...(body !== undefined ? { payload: body } : {}),
            });
          const res = await send();
          statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
          const sent = `${op.method} ${url} ${body?.slice(0, 300) ?? ""}`;
          if (res.statusCode >= 500) {
            problems.push(`${sent} → ${res.statusCode} ${res.body.slice(0, 300)}`);
            return;
          }
          if (res.statusCode < 400) {
            accepted += 1;
            // Sent again (a lost answer): the first answer back, and nothing done twice.
            if (REPLAYED.has(op.route)) {
              const before = await digestOf(t.database.db, a.businessId);
              const again = await send();
              const after = await digestOf(t.database.db, a.businessId);
              replays += 1;
              const changed = Object.keys(after).filter((table) => after[table] !== before[table]);
              if (
                again.statusCode !== 200 ||
                again.headers["idempotent-replayed"] !== "true" ||
                again.body !== res.body ||
                changed.length > 0
              )
                problems.push(
                  `${sent} → ${res.statusCode}, sent again → ${again.statusCode} replayed=${again.headers["idempotent-replayed"]} same answer=${again.body === res.body} changed=${changed.join(",")}`,
                );
            }
            return;
          }
          const error = (JSON.parse(res.body) as { error?: { code?: unknown; message?: unknown } }).error;
          if (
            typeof error?.code !== "string" ||
            !/^[a-z][a-z0-9_]+$/.test(error.code) ||
            typeof error.message !== "string" ||
            error.message.length < 10
          )
            problems.push(`${sent} → ${res.statusCode} not in the error shape: ${res.body.slice(0, 300)}`);
        }),
        { numRuns: RUNS, seed: Number(process.env.FUZZ_SEED ?? 20261125), endOnFailure: true },
      );
      // A read never changes anything; a write that refused every draw did not either.
      if (accepted === 0 || op.method === "GET") {
        unchangedChecked += 1;
        const after = await digestOf(t.database.db, a.businessId);
        const changed = Object.keys(after).filter(
          (table) =>
            after[table] !== before[table] && !(table === "audit_log" && AUDITED_READS.has(op.route)),
        );
        if (changed.length > 0)
          problems.push(
            `${op.route}: ${accepted} calls accepted, none a change, yet changed ${changed.join(", ")}`,
          );
      }
    }
    expect(problems).toEqual([]);
    // The draws reach the use cases: some calls are accepted, most are refused.
    const ok = [...statuses].filter(([s]) => s < 300).reduce((n, [, c]) => n + c, 0);
    const refused = [...statuses].filter(([s]) => s >= 400).reduce((n, [, c]) => n + c, 0);
    expect(ok).toBeGreaterThan(100);
    expect(refused).toBeGreaterThan(ok);
    // Routes that refused every draw were checked for changes: the reads and the stricter writes.
    expect(unchangedChecked).toBeGreaterThan(15);
    expect(replays).toBeGreaterThan(20);
  });
});
