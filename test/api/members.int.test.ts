import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Actor } from "../../src/context.ts";
import {
  createMemberTx,
  findMemberByCode,
  getMemberForUpdate,
  type MemberDto,
} from "../../src/modules/members/index.ts";
import { startTestApp, type Tenant, type TestApp } from "../helpers/api.ts";

let t: TestApp;
// Sign-ups are rate-limited per IP (20 an hour), so the tests share two businesses and give
// every member its own email, phone and external id; only listings get a business of their own.
let tenant: Tenant;
let stranger: Tenant;
beforeAll(async () => {
  // 09:00 UTC on 2 March is 10:00 in Amsterdam: "today" for a birthday is 2026-03-02.
  t = await startTestApp({ now: "2026-03-02T09:00:00Z" });
  tenant = await t.signup();
  stranger = await t.signup();
});
afterAll(async () => t?.close());

let seq = 0;
/** A unique email, phone and external id per call, so members never collide by accident. */
function unique(): { email: string; phone: string; external_id: string } {
  seq += 1;
  return {
    email: `member${seq}@example.test`,
    phone: `+3161000${String(seq).padStart(4, "0")}`,
    external_id: `pos-${seq}`,
  };
}

async function enrol(to: Tenant, body: Record<string, unknown> = {}): Promise<MemberDto> {
  const res = await to.call<MemberDto>("POST", "/v1/members", { marketing_consent: false, ...body });
  if (res.status !== 201) throw new Error(`enrol failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

async function memberCount(businessId: string): Promise<number> {
  const row = await t.database.db
    .selectFrom("members")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("business_id", "=", businessId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

describe("creating and reading members", () => {
  it("enrols a member with normalized contact details and the business's defaults", async () => {
    const res = await tenant.call<MemberDto>("POST", "/v1/members", {
      name: "  Anna de Vries ",
      email: " Anna.deVries@Example.COM ",
      phone: "+31 (6) 1234-5678",
      birthday: "1988-06-14",
      marketing_consent: true,
      attributes: { dog_breed: "beagle", visits_2025: 12, vip: false },
      external_id: "shopify-991",
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      name: "Anna de Vries",
      email: "anna.devries@example.com",
      phone: "+31612345678",
      birthday: "1988-06-14",
      // No language chosen: the business's, whichever it is when the member is written to.
      locale: null,
      marketing_consent: true,
      consent_updated_at: "2026-03-02T09:00:00.000Z",
      attributes: { dog_breed: "beagle", visits_2025: 12, vip: false },
      external_id: "shopify-991",
      tier_id: null,
      joined_at: "2026-03-02T09:00:00.000Z",
      first_purchase_at: null,
      last_purchase_at: null,
      created_at: "2026-03-02T09:00:00.000Z",
    });
    expect(res.body.code).toMatch(/^[2-9A-HJKMNP-Z]{8}$/);

    const got = await tenant.call("GET", `/v1/members/${res.body.id}`);
    expect(got.status).toBe(200);
    expect(got.body).toEqual(res.body);

    const audit = await t.database.db
      .selectFrom("audit_log")
      .selectAll()
      .where("business_id", "=", tenant.businessId)
      .where("target_id", "=", res.body.id)
      .execute();
    expect(audit.map((a) => a.action)).toEqual(["member.created"]);
  });

  it("keeps an explicit locale and join date and lets a cashier enrol", async () => {
    const key = await tenant.call("POST", "/v1/api-keys", { name: "Till 1", role: "cashier" });
    expect(key.status).toBe(201);
    const res = await tenant.as(key.body.key).call("POST", "/v1/members", {
      marketing_consent: false,
      locale: "pt-BR",
      joined_at: "2025-12-31T23:30:00-03:00",
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ locale: "pt-BR", joined_at: "2026-01-01T02:30:00.000Z", name: null });
  });

  it("lets a cashier fix a member's contact details, and only a manager change the attributes", async () => {
    const member = await tenant.call("POST", "/v1/members", {
      name: "Cas",
      marketing_consent: false,
      attributes: { student: false },
    });
    const key = await tenant.call("POST", "/v1/api-keys", { name: "Till 2", role: "cashier" });
    const cashier = tenant.as(key.body.key);
    const url = `/v1/members/${member.body.id}`;
    expect((await cashier.call("PATCH", url, { name: "Cass" })).status).toBe(200);
    const refused = await cashier.call("PATCH", url, { name: "Cassie", attributes: { student: true } });
    expect([refused.status, refused.body.error.code]).toEqual([403, "forbidden"]);
    expect((await tenant.call("GET", url)).body).toMatchObject({
      name: "Cass",
      attributes: { student: false },
    });
    const manager = await tenant.call("POST", "/v1/api-keys", { name: "Back office", role: "manager" });
    const changed = await tenant.as(manager.body.key).call("PATCH", url, { attributes: { student: true } });
    expect([changed.status, changed.body.attributes]).toEqual([200, { student: true }]);
  });

  it("lets a cashier enrol a member without attributes only: they can earn a rule's bonus at once", async () => {
    const key = await tenant.call("POST", "/v1/api-keys", { name: "Till 3", role: "cashier" });
    const cashier = tenant.as(key.body.key);
    const email = `student-${Date.now()}@cafe.test`;
    const refused = await cashier.call("POST", "/v1/members", {
      name: "Stu",
      email,
      marketing_consent: false,
      attributes: { student: true },
    });
    expect([refused.status, refused.body.error.code]).toEqual([403, "forbidden"]);
    expect(refused.body.error.message).toContain("manager");
    const found = await tenant.call("GET", `/v1/members/lookup?email=${encodeURIComponent(email)}`);
    expect(found.status).toBe(404);
    // No attributes, or none at all: the counter's everyday enrolment.
    for (const body of [{ attributes: {} }, {}]) {
      const res = await cashier.call("POST", "/v1/members", {
        name: "Stu",
        marketing_consent: false,
        ...body,
      });
      expect([res.status, res.body.attributes]).toEqual([201, {}]);
    }
  });

  it("answers 404 member_not_found for an unknown id", async () => {
    const res = await tenant.call("GET", "/v1/members/0193f1c2-7b4e-7c3a-9f2e-5a1b2c3d4e5f");
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe("member_not_found");
  });
});

describe("refusing bad input", () => {
  it.each([
    ["an extra field", { nickname: "Annie" }, "", 'Unrecognized key: "nickname"'],
    ["no marketing choice", { marketing_consent: undefined }, "marketing_consent", "is required"],
    ["a bad email", { email: "anna@@example" }, "email", "must be an email address"],
    [
      "a phone that is no Dutch number, without a country code",
      { phone: "12345" },
      "phone",
      "must be a Dutch number (06 12345678) or start with + and the country code",
    ],
    ["a phone with letters", { phone: "+31 6 CALL ME" }, "phone", "must be an international number"],
    ["an impossible birthday", { birthday: "1990-02-30" }, "birthday", "must be a date as YYYY-MM-DD"],
    ["a birthday tomorrow", { birthday: "2026-03-03" }, "birthday", "must not be in the future"],
    ["a birthday before 1900", { birthday: "1899-12-31" }, "birthday", "must not be before 1900-01-01"],
    [
      "a join date in the future",
      { joined_at: "2026-03-02T09:00:01Z" },
      "joined_at",
      "must not be in the future",
    ],
    [
      "too many attributes",
      { attributes: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`a${i}`, i])) },
      "attributes",
      "must have at most 50 attributes",
    ],
    [
      "a nested attribute",
      { attributes: { pet: { kind: "dog" } } },
      "attributes.pet",
      "string, number or boolean",
    ],
    ["a list attribute", { attributes: { pets: ["dog"] } }, "attributes.pets", "string, number or boolean"],
    ["a bad attribute name", { attributes: { "Pet Name": "Rex" } }, "attributes.Pet Name", "attribute names"],
    ["an unsupported locale", { locale: "fr" }, "locale", ""],
  ])("refuses %s with a 400 naming the field and creates nothing", async (_label, patch, path, message) => {
    const before = await memberCount(tenant.businessId);
    const res = await tenant.call("POST", "/v1/members", { marketing_consent: true, ...patch });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("validation_failed");
    expect(res.body.error.details.issues[0].path).toBe(path);
    expect(res.body.error.message).toContain(message);
    expect(await memberCount(tenant.businessId)).toBe(before);
  });

  it("accepts a birthday of today in the business's time zone", async () => {
    const member = await enrol(tenant, { birthday: "2026-03-02" });
    expect(member.birthday).toBe("2026-03-02");
  });
});

describe("duplicates", () => {
  it.each([
    ["email", { email: "SAME@example.test" }, { email: " same@EXAMPLE.test" }, "member_email_taken"],
    ["phone", { phone: "+48 601 234 567" }, { phone: "0048601234567" }, "member_phone_taken"],
    ["external id", { external_id: "pos-dup" }, { external_id: "pos-dup" }, "member_external_id_taken"],
  ])("refuses a second member with the same %s", async (_label, first, second, code) => {
    await enrol(tenant, first);
    const before = await memberCount(tenant.businessId);
    const res = await tenant.call("POST", "/v1/members", { marketing_consent: false, ...second });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe(code);
    expect(await memberCount(tenant.businessId)).toBe(before);
  });

  it("refuses a change that would duplicate another member's email", async () => {
    await enrol(tenant, { email: "anna@example.test" });
    const bob = await enrol(tenant, { email: "bob@example.test" });
    const res = await tenant.call("PATCH", `/v1/members/${bob.id}`, { email: "ANNA@example.test" });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe("member_email_taken");
    expect((await tenant.call("GET", `/v1/members/${bob.id}`)).body.email).toBe("bob@example.test");
  });

  it("allows the same email in two businesses", async () => {
    const inOne = await enrol(tenant, { email: "shared@example.test" });
    const inOther = await enrol(stranger, { email: "shared@example.test" });
    expect(inOther.id).not.toBe(inOne.id);
  });
});

describe("changing a member", () => {
  it("changes, clears and replaces fields, and moves consent_updated_at only when the choice changes", async () => {
    const member = await enrol(tenant, { ...unique(), attributes: { a: 1, b: "x" } });
    t.clock.advance(60_000);
    const same = await tenant.call("PATCH", `/v1/members/${member.id}`, {
      marketing_consent: false,
      name: "Bea",
    });
    expect(same.status).toBe(200);
    expect(same.body.consent_updated_at).toBe(member.consent_updated_at);

    t.clock.advance(60_000);
    const res = await tenant.call("PATCH", `/v1/members/${member.id}`, {
      marketing_consent: true,
      email: null,
      phone: "+44 20 7946 0958",
      attributes: { c: true },
      locale: "pl",
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      name: "Bea",
      email: null,
      phone: "+442079460958",
      attributes: { c: true },
      locale: "pl",
      marketing_consent: true,
      consent_updated_at: t.clock.now().toISOString(),
      updated_at: t.clock.now().toISOString(),
      code: member.code,
      created_at: member.created_at,
    });

    const audit = await t.database.db
      .selectFrom("audit_log")
      .select(["action", "data"])
      .where("business_id", "=", tenant.businessId)
      .where("target_id", "=", member.id)
      .orderBy("id")
      .execute();
    expect(audit).toEqual([
      { action: "member.created", data: { code: member.code, marketing_consent: false } },
      { action: "member.updated", data: { fields: ["marketing_consent", "name"] } },
      {
        action: "member.updated",
        data: {
          fields: ["attributes", "email", "locale", "marketing_consent", "phone"],
          marketing_consent: true,
        },
      },
    ]);
  });

  it("leaves the language to the business until the member chooses one, and gives the choice back with null", async () => {
    const shop = await t.signup({ locale: "en" });
    const member = await enrol(shop, { name: "Noor" });
    expect(member.locale).toBeNull();
    // The business changes its language: the member, who chose none, follows it (nothing to move).
    expect((await shop.call("PATCH", "/v1/business", { locale: "nl" })).status).toBe(200);
    expect((await shop.call("GET", `/v1/members/${member.id}`)).body.locale).toBeNull();

    const chosen = await shop.call("PATCH", `/v1/members/${member.id}`, { locale: "pl" });
    expect([chosen.status, chosen.body.locale]).toEqual([200, "pl"]);
    const back = await shop.call("PATCH", `/v1/members/${member.id}`, { locale: null });
    expect([back.status, back.body.locale]).toEqual([200, null]);
    expect((await shop.call("GET", `/v1/members/${member.id}`)).body.locale).toBeNull();
    const enrolledNull = await shop.call("POST", "/v1/members", { marketing_consent: false, locale: null });
    expect([enrolledNull.status, enrolledNull.body.locale]).toEqual([201, null]);
  });

  it.each([
    ["an empty patch", {}, "send at least one field to change"],
    ["an extra field", { code: "AAAAAAAA" }, 'Unrecognized key: "code"'],
    ["a future birthday", { birthday: "2030-01-01" }, "must not be in the future"],
    ["a null marketing choice", { marketing_consent: null }, "must be true or false"],
  ])("refuses %s and changes nothing", async (_label, patch, message) => {
    const member = await enrol(tenant, { name: "Cas" });
    const res = await tenant.call("PATCH", `/v1/members/${member.id}`, patch);
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain(message);
    expect((await tenant.call("GET", `/v1/members/${member.id}`)).body).toEqual(member);
  });
});

describe("listing and searching", () => {
  it("pages through every member newest first, without duplicates or gaps", async () => {
    const listed = await t.signup();
    const created: string[] = [];
    for (let i = 0; i < 7; i++) {
      created.push((await enrol(listed, { name: `Member ${i}` })).id);
      t.clock.advance(1);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const url: string = `/v1/members?limit=3${cursor ? `&cursor=${cursor}` : ""}`;
      const res = await listed.call("GET", url);
      expect(res.status).toBe(200);
      seen.push(...res.body.data.map((m: MemberDto) => m.id));
      cursor = res.body.next_cursor;
      pages += 1;
    } while (cursor && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toEqual([...created].reverse());
  });

  it("refuses a cursor it did not issue", async () => {
    const res = await tenant.call("GET", "/v1/members?cursor=bm9wZQ");
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("invalid_cursor");
  });

  it("finds members by name prefix, email, phone digits or code, case-insensitively", async () => {
    const searched = await t.signup();
    const anna = await enrol(searched, {
      name: "Anna Kowalska",
      email: "anna.k@example.test",
      phone: "+48601234567",
    });
    const jan = await enrol(searched, {
      name: "Jan de Vries",
      email: "jan@example.test",
      phone: "+31612345678",
    });
    await enrol(searched, { name: "Annemarie 100%", email: "am@example.test" });
    const names = async (q: string) => {
      const res = await searched.call("GET", `/v1/members?q=${encodeURIComponent(q)}`);
      expect(res.status).toBe(200);
      return res.body.data.map((m: MemberDto) => m.name).sort();
    };
    expect(await names("ann")).toEqual(["Anna Kowalska", "Annemarie 100%"]);
    expect(await names("KOWAL")).toEqual(["Anna Kowalska"]);
    expect(await names("vries")).toEqual(["Jan de Vries"]);
    expect(await names("JAN@EXAMPLE")).toEqual(["Jan de Vries"]);
    expect(await names("+31 6 1234")).toEqual(["Jan de Vries"]);
    expect(await names("601 234")).toEqual(["Anna Kowalska"]);
    expect(await names(anna.code.toLowerCase())).toEqual(["Anna Kowalska"]);
    expect(await names("%")).toEqual([]);
    expect(await names("annemarie 100%")).toEqual(["Annemarie 100%"]);
    expect(await names("nobody")).toEqual([]);
    expect(jan.id).not.toBe(anna.id);
  });

  it("lets a cashier find members by a search of 3 characters or more, one short page, never list them all", async () => {
    const shop = await t.signup();
    await enrol(shop, { name: "Anna Kowalska", email: "anna.k@example.test" });
    await enrol(shop, { name: "Jan de Vries", email: "jan@example.test" });
    const key = await shop.call("POST", "/v1/api-keys", { name: "Till", role: "cashier" });
    const cashier = shop.as(key.body.key);
    for (const url of [
      "/v1/members",
      "/v1/members?q=an",
      "/v1/members?q=%20an%20",
      "/v1/members?limit=100",
    ]) {
      const refused = await cashier.call("GET", url);
      expect(refused.status, url).toBe(403);
      expect(refused.body.error.code, url).toBe("forbidden");
      expect(refused.body.error.message, url).toContain("at least 3 characters");
    }
    const found = await cashier.call("GET", "/v1/members?q=kowal");
    expect(found.status).toBe(200);
    expect(found.body.data.map((m: MemberDto) => m.name)).toEqual(["Anna Kowalska"]);
    // A few digits of a phone number would match a whole country's mobiles; paging would list all.
    for (const [url, says] of [
      [`/v1/members?q=${encodeURIComponent("+316")}`, "at least 6 of its digits"],
      [`/v1/members?q=${encodeURIComponent("06 12")}`, "at least 6 of its digits"],
      ["/v1/members?q=anna&cursor=AAAA", "one page"],
    ] as const) {
      const refused = await cashier.call("GET", url);
      expect([refused.status, refused.body.error.code], url).toEqual([403, "forbidden"]);
      expect(refused.body.error.message, url).toContain(says);
    }
    // A manager lists everyone.
    const managerKey = await shop.call("POST", "/v1/api-keys", { name: "Office", role: "manager" });
    const all = await shop.as(managerKey.body.key).call("GET", "/v1/members");
    expect(all.body.data.map((m: MemberDto) => m.name).sort()).toEqual(["Anna Kowalska", "Jan de Vries"]);
    // A common start of a name finds many: a cashier gets one short page of them, and a cursor that
    // says more matched, which they cannot page on with: they search more precisely instead.
    expect(found.body.next_cursor).toBeNull();
    for (let i = 0; i < 22; i++) await enrol(shop, { name: `Anne ${i}`, email: `anne${i}@example.test` });
    const page = await cashier.call("GET", "/v1/members?q=ann&limit=200");
    expect([page.status, page.body.data.length, typeof page.body.next_cursor]).toEqual([200, 20, "string"]);
    const next = await cashier.call("GET", `/v1/members?q=ann&cursor=${page.body.next_cursor}`);
    expect([next.status, next.body.error.code]).toEqual([403, "forbidden"]);
    expect(next.body.error.message).toContain("search more precisely");
  });
});

describe("a phone written with its trunk 0 in parentheses", () => {
  it("is one number in any country: found by the other notation, and taken by it", async () => {
    const uk = await t.signup({ timezone: "Europe/London", currency: "GBP", locale: "en" });
    const first = await enrol(uk, { phone: "+44 (0)20 7946 0958" });
    expect(first.phone).toBe("+442079460958");
    const found = await uk.call("GET", `/v1/members/lookup?phone=${encodeURIComponent("+44 20 7946 0958")}`);
    expect([found.status, found.body.id]).toEqual([200, first.id]);
    const second = await uk.call("POST", "/v1/members", {
      marketing_consent: false,
      phone: "+44 20 7946 0958",
    });
    expect([second.status, second.body.error.code]).toEqual([409, "member_phone_taken"]);
  });
});

describe("looking a member up at the counter", () => {
  let member: MemberDto;
  beforeAll(async () => {
    member = await enrol(tenant, { email: "dora@example.test", phone: "+48 601 000 111" });
  });

  it.each([
    ["code", () => `code=${member.code.toLowerCase()}`],
    ["email in capitals", () => "email=DORA%40Example.TEST"],
    ["phone in another notation", () => `phone=${encodeURIComponent("0048 (601) 000-111")}`],
  ])("finds the member by %s", async (_label, query) => {
    const res = await tenant.call("GET", `/v1/members/lookup?${query()}`);
    expect(res.status).toBe(200);
    expect(res.body.id).toBe(member.id);
  });

  it.each([
    ["no key", ""],
    ["two keys", "email=dora%40example.test&phone=%2B48601000111"],
  ])("refuses %s with lookup_needs_one_key", async (_label, query) => {
    const res = await tenant.call("GET", `/v1/members/lookup?${query}`);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("lookup_needs_one_key");
  });

  it("answers 404 member_not_found for an unknown code", async () => {
    const res = await tenant.call("GET", "/v1/members/lookup?code=ZZZZZZZZ");
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe("member_not_found");
  });
});

describe("phone numbers as typed in the business's country", () => {
  const DUTCH = "must be a Dutch number (06 12345678) or start with + and the country code";

  it("reads a Dutch business's local numbers, and finds the member by any notation of them", async () => {
    const cafe = await t.signup({ timezone: "Europe/Amsterdam" });
    const piet = await enrol(cafe, { name: "Piet", phone: "06 12345678" });
    expect(piet.phone).toBe("+31612345678");
    for (const phone of ["06-12345678", "+31 6 12345678", "+31 (0)6 12345678", "0031 6 1234 5678"]) {
      const found = await cafe.call("GET", `/v1/members/lookup?phone=${encodeURIComponent(phone)}`);
      expect([found.status, found.body.id], phone).toEqual([200, piet.id]);
    }
    // The search at the counter, as the cashier types the start of the number.
    for (const q of ["06 1234", "0612345678", "+31 (0)6 12"]) {
      const listed = await cafe.call("GET", `/v1/members?q=${encodeURIComponent(q)}`);
      expect(
        listed.body.data.map((m: MemberDto) => m.id),
        q,
      ).toEqual([piet.id]);
    }
    // The same customer written with the trunk 0 after the calling code is the same number.
    const again = await cafe.call("POST", "/v1/members", {
      marketing_consent: false,
      phone: "+31 (0)6 12345678",
    });
    expect([again.status, again.body.error.code]).toEqual([409, "member_phone_taken"]);

    const changed = await cafe.call("PATCH", `/v1/members/${piet.id}`, { phone: "06 1111 2222" });
    expect([changed.status, changed.body.phone]).toEqual([200, "+31611112222"]);
  });

  it("stores an international number with the trunk 0 after the calling code without it", async () => {
    const member = await enrol(tenant, { phone: "+31 (0)6 5555 0001" });
    expect(member.phone).toBe("+31655550001");
    const us = await t.signup({ timezone: "America/New_York", currency: "USD", locale: "en" });
    expect((await enrol(us, { phone: "+31 (0)6 12345678" })).phone).toBe("+31612345678");
  });

  it("reads a Polish business's local numbers", async () => {
    const shop = await t.signup({ timezone: "Europe/Warsaw", currency: "PLN", locale: "pl" });
    const anna = await enrol(shop, { name: "Anna", phone: "512 345 678" });
    expect(anna.phone).toBe("+48512345678");
    const found = await shop.call("GET", `/v1/members/lookup?phone=${encodeURIComponent("512-345-678")}`);
    expect([found.status, found.body.id]).toEqual([200, anna.id]);
  });

  it("refuses a number a Dutch business cannot place, saying what to write, and changes nothing", async () => {
    const cafe = await t.signup({ timezone: "Europe/Amsterdam" });
    const created = await cafe.call("POST", "/v1/members", { marketing_consent: true, phone: "12345" });
    expect(created.status).toBe(400);
    expect(created.body.error).toMatchObject({
      code: "validation_failed",
      message: `Invalid body at "phone": ${DUTCH}`,
      details: { issues: [{ in: "body", path: "phone", message: DUTCH }] },
    });
    expect(await memberCount(cafe.businessId)).toBe(0);

    const member = await enrol(cafe, { name: "Cas", phone: "06 12345678" });
    const changed = await cafe.call("PATCH", `/v1/members/${member.id}`, { name: "Cees", phone: "12345" });
    expect([changed.status, changed.body.error.code]).toEqual([400, "validation_failed"]);
    expect(changed.body.error.details.issues).toEqual([{ in: "body", path: "phone", message: DUTCH }]);
    expect((await cafe.call("GET", `/v1/members/${member.id}`)).body).toEqual(member);

    const looked = await cafe.call("GET", "/v1/members/lookup?phone=12345");
    expect([looked.status, looked.body.error.code]).toEqual([400, "validation_failed"]);
    expect(looked.body.error.details.issues).toEqual([{ in: "querystring", path: "phone", message: DUTCH }]);
  });

  it.each([
    ["America/New_York", "USD", "(415) 555-0100"],
    ["America/Sao_Paulo", "BRL", "11 91234-5678"],
    ["America/Sao_Paulo", "BRL", "06 12345678"],
  ])("keeps taking only international numbers in %s (refuses %j)", async (timezone, currency, phone) => {
    const shop = await t.signup({ timezone, currency, locale: "en" });
    const res = await shop.call("POST", "/v1/members", { marketing_consent: true, phone });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({
      code: "validation_failed",
      message:
        'Invalid body at "phone": must be an international number: + and the country code, then 7–15 digits in all',
    });
    expect(await memberCount(shop.businessId)).toBe(0);
    const looked = await shop.call("GET", `/v1/members/lookup?phone=${encodeURIComponent(phone)}`);
    expect([looked.status, looked.body.error.code]).toEqual([400, "validation_failed"]);
    expect((await enrol(shop, { phone: "+1 415 555 0100" })).phone).toBe("+14155550100");
  });
});

describe("Idempotency-Key", () => {
  it("returns the same member for a retried request and refuses the key for another body", async () => {
    const body = { name: "Eva", marketing_consent: true, ...unique() };
    const headers = { "idempotency-key": "signup-eva-1" };
    const before = await memberCount(tenant.businessId);
    const first = await tenant.call("POST", "/v1/members", body, headers);
    const again = await tenant.call("POST", "/v1/members", body, headers);
    expect(first.status).toBe(201);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    expect(again.headers["idempotent-replayed"]).toBe("true");
    expect(first.headers["idempotent-replayed"]).toBeUndefined();
    expect(await memberCount(tenant.businessId)).toBe(before + 1);

    const other = await tenant.call("POST", "/v1/members", { ...body, name: "Eve" }, headers);
    expect(other.status).toBe(409);
    expect(other.body.error.code).toBe("idempotency_key_reused");
    expect(await memberCount(tenant.businessId)).toBe(before + 1);
  });

  it("stores nothing for a failed request, so the key can be retried with a fixed body", async () => {
    await enrol(tenant, { email: "taken@example.test" });
    const headers = { "idempotency-key": "k-2" };
    const failed = await tenant.call(
      "POST",
      "/v1/members",
      { marketing_consent: true, email: "taken@example.test" },
      headers,
    );
    expect(failed.body.error.code).toBe("member_email_taken");
    const fixed = await tenant.call(
      "POST",
      "/v1/members",
      { marketing_consent: true, email: "free@example.test" },
      headers,
    );
    expect(fixed.status).toBe(201);
  });
});

describe("isolation between businesses", () => {
  it("another business can neither see nor change the member", async () => {
    const member = await enrol(tenant, { name: "Fleur", ...unique() });
    const get = await stranger.call("GET", `/v1/members/${member.id}`);
    expect(get.status).toBe(404);
    expect(get.body.error.code).toBe("member_not_found");
    const patch = await stranger.call("PATCH", `/v1/members/${member.id}`, { name: "Hacked" });
    expect(patch.status).toBe(404);
    expect(patch.body.error.code).toBe("member_not_found");
    expect((await stranger.call("GET", `/v1/members/lookup?code=${member.code}`)).status).toBe(404);
    expect((await stranger.call("GET", `/v1/members/lookup?email=${member.email}`)).status).toBe(404);
    expect((await stranger.call("GET", "/v1/members?q=fleur")).body.data).toEqual([]);
    expect((await tenant.call("GET", `/v1/members/${member.id}`)).body.name).toBe("Fleur");
  });
});

describe("service hooks for the ledger", () => {
  it("creates inside a caller's transaction, finds by code and locks by id within the business", async () => {
    const actor: Actor = { businessId: tenant.businessId, kind: "system", id: "test", role: "owner" };
    const now = t.clock.now();
    const member = await t.database.db.transaction().execute(async (tx) => {
      const created = await createMemberTx(tx, actor, { marketing_consent: false, name: "Gus" }, now);
      expect((await getMemberForUpdate(tx, tenant.businessId, created.id)).name).toBe("Gus");
      expect((await findMemberByCode(tx, tenant.businessId, created.code.toLowerCase()))?.id).toBe(
        created.id,
      );
      expect(await findMemberByCode(tx, stranger.businessId, created.code)).toBeUndefined();
      await expect(getMemberForUpdate(tx, stranger.businessId, created.id)).rejects.toMatchObject({
        code: "member_not_found",
      });
      return created;
    });
    expect((await tenant.call("GET", `/v1/members/${member.id}`)).status).toBe(200);
  });
});
