import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { MemberDto } from "../../src/modules/members/index.ts";
import { foldText } from "../../src/shared/fold.ts";
import { startTestApp, type Tenant, type TestApp } from "../helpers/api.ts";

/**
 * Member search (`GET /v1/members?q=`) as staff type it: without the diacritics of Polish, Dutch
 * and German names, in either Unicode form, by any part of a hyphenated name or an email, a phone
 * number as written at home or from abroad; exact matches first, then by name; a cashier told
 * when more matched than the one page they get. Never another business's member, never an erased
 * one.
 */

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ now: "2026-03-02T09:00:00Z" });
});
afterAll(async () => t?.close());

async function enrol(to: Tenant, body: Record<string, unknown>): Promise<MemberDto> {
  const res = await to.call<MemberDto>("POST", "/v1/members", { marketing_consent: false, ...body });
  if (res.status !== 201) throw new Error(`enrol failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** The names found by `q`, in the order given (one page of up to 200). */
async function search(who: Tenant, q: string): Promise<(string | null)[]> {
  const res = await who.call("GET", `/v1/members?q=${encodeURIComponent(q)}&limit=200`);
  expect(res.status, q).toBe(200);
  return res.body.data.map((m: MemberDto) => m.name);
}

/** The ids of every member `q` finds, through every page. */
async function everyId(who: Tenant, q: string, limit = 200): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const url: string = `/v1/members?q=${encodeURIComponent(q)}&limit=${limit}${cursor ? `&cursor=${cursor}` : ""}`;
    const res = await who.call("GET", url);
    expect(res.status, q).toBe(200);
    ids.push(...res.body.data.map((m: MemberDto) => m.id));
    cursor = res.body.next_cursor;
  } while (cursor);
  return ids;
}

async function cashierOf(shop: Tenant): Promise<Tenant> {
  const key = await shop.call("POST", "/v1/api-keys", { name: "Till", role: "cashier" });
  return shop.as(key.body.key);
}

describe("names, whatever their diacritics and Unicode form", () => {
  let shop: Tenant;
  let nfd: MemberDto;
  beforeAll(async () => {
    shop = await t.signup({ timezone: "Europe/Warsaw", currency: "PLN", locale: "pl" });
    for (const name of ["Łukasz Wójcik", "José Ramos", "Zoë Jansen", "Małgorzata Żółkiewska", "Jürgen Groß"])
      await enrol(shop, { name });
    // As some till exports write it: the accent as a mark of its own (NFD).
    nfd = await enrol(shop, { name: "Jose\u0301 Decomposed" });
    await enrol(shop, { name: "Søren Ærø" });
  });

  it("stores a name in one Unicode form (NFC), however it was sent", () => {
    expect(nfd.name).toBe("José Decomposed");
    expect(nfd.name).toBe("José Decomposed".normalize("NFC"));
  });

  it.each([
    ["lukasz", ["Łukasz Wójcik"]],
    ["ŁUKASZ", ["Łukasz Wójcik"]],
    ["wojcik", ["Łukasz Wójcik"]],
    ["Wójcik", ["Łukasz Wójcik"]],
    ["Wo\u0301jcik", ["Łukasz Wójcik"]],
    ["zoe", ["Zoë Jansen"]],
    ["Zoë", ["Zoë Jansen"]],
    ["jose", ["José Decomposed", "José Ramos"]],
    ["José", ["José Decomposed", "José Ramos"]],
    ["Jose\u0301", ["José Decomposed", "José Ramos"]],
    ["malgorzata zolkiewska", ["Małgorzata Żółkiewska"]],
    ["ŻÓŁKIEWSKA", ["Małgorzata Żółkiewska"]],
    ["gross", ["Jürgen Groß"]],
    ["groß", ["Jürgen Groß"]],
    ["jurgen", ["Jürgen Groß"]],
    ["soren aero", ["Søren Ærø"]],
  ])("%j finds %j", async (q, names) => {
    expect(await search(shop, q)).toEqual(names);
  });
});

describe("parts of names and emails", () => {
  let shop: Tenant;
  beforeAll(async () => {
    shop = await t.signup({ timezone: "Europe/Amsterdam" });
    await enrol(shop, { name: "Anne-Marie Smit-Jansen", email: "am.smit@example.nl" });
    await enrol(shop, { name: "Jan de Vries", email: "jan.kowalski@firma.pl" });
    await enrol(shop, { name: "IJsbrand van ’t Hoff" });
    await enrol(shop, { name: "Pieter van der Berg", email: "pieter@bakkerij-berg.nl" });
  });

  it.each([
    // The second part of a hyphenated name, and either part of a double surname.
    ["marie", ["Anne-Marie Smit-Jansen"]],
    ["jansen", ["Anne-Marie Smit-Jansen"]],
    ["smit-jansen", ["Anne-Marie Smit-Jansen"]],
    // Every word anywhere, in any order.
    ["vries jan", ["Jan de Vries"]],
    ["de jan kowalski vries", ["Jan de Vries"]],
    ["de jan kowalski vries smit", []],
    ["van der", ["Pieter van der Berg"]],
    ["van 't hoff", ["IJsbrand van ’t Hoff"]],
    ["ijsbrand", ["IJsbrand van ’t Hoff"]],
    // Any part of an email.
    ["kowalski@", ["Jan de Vries"]],
    ["firma.pl", ["Jan de Vries"]],
    ["kowalski", ["Jan de Vries"]],
    ["bakkerij", ["Pieter van der Berg"]],
    ["JAN.KOWALSKI@FIRMA.PL", ["Jan de Vries"]],
    // One or two characters: the start of a word, also after a hyphen.
    ["ja", ["Anne-Marie Smit-Jansen", "Jan de Vries"]],
    ["ij", ["IJsbrand van ’t Hoff"]],
    ["zz", []],
  ])("%j finds %j", async (q, names) => {
    expect(await search(shop, q)).toEqual(names);
  });
});

describe("phone numbers as written", () => {
  it("in Germany: the area code in parentheses, with a slash, from abroad, or a part of the number", async () => {
    const shop = await t.signup({ timezone: "Europe/Berlin" });
    const anna = await enrol(shop, { name: "Anna Berliner", phone: "030 1234567" });
    expect(anna.phone).toBe("+49301234567");
    await enrol(shop, { name: "Bert Hamburger", phone: "040 7654321" });
    for (const q of [
      "(030) 1234567",
      "(030) 12345",
      "030/1234567",
      "030 123 45 67",
      "+49 30 1234567",
      "+49 (0)30 1234567",
      "0049 30 123",
      "1234567",
    ]) {
      expect(await search(shop, q), q).toEqual(["Anna Berliner"]);
    }
    // A number from abroad is matched from its start: "+30…" is Greece, not Berlin's 030.
    expect(await search(shop, "+30 1234567")).toEqual([]);
    expect((await t.signup()).businessId).not.toBe(shop.businessId);
  });

  it("in the Netherlands and Poland", async () => {
    const nl = await t.signup({ timezone: "Europe/Amsterdam" });
    await enrol(nl, { name: "Piet", phone: "06 12345678" });
    for (const q of ["(06) 12345678", "06-1234 5678", "+31 6 1234", "0031 (0)6 12345678", "612345678"])
      expect(await search(nl, q), q).toEqual(["Piet"]);
    const pl = await t.signup({ timezone: "Europe/Warsaw", currency: "PLN", locale: "pl" });
    await enrol(pl, { name: "Ola", phone: "512 345 678" });
    for (const q of ["512 345 678", "512-345", "+48 512 345 678", "(+48) 512345678", "0048 512 345"])
      expect(await search(pl, q), q).toEqual(["Ola"]);
  });
});

describe("order and pages", () => {
  it("puts exact matches first (card code, email, phone), then orders by folded name, nameless last", async () => {
    const shop = await t.signup({ timezone: "Europe/Amsterdam" });
    for (const name of ["Zygmunt Anders", "Łucja Anders", "anders", "Ándrea Anders", "Lars Anders"])
      await enrol(shop, { name });
    await enrol(shop, { name: "Zuzanna", email: "anders@example.nl" });
    await enrol(shop, { email: "xanders@example.nl" });
    expect(await search(shop, "anders")).toEqual([
      "anders",
      "Ándrea Anders",
      "Lars Anders",
      "Łucja Anders",
      "Zuzanna",
      "Zygmunt Anders",
      null,
    ]);
    // The email exactly: before a name that sorts first, and the nameless member it is part of.
    await enrol(shop, { name: "Aart", email: "anders@example.nl.invalid" });
    expect(await search(shop, "Anders@Example.nl")).toEqual(["Zuzanna", "Aart", null]);
    // The phone exactly, as the business's country reads it, before a member it is only part of.
    await enrol(shop, { name: "Zenon", phone: "06 55512345" });
    await enrol(shop, { name: "Adam", email: "0655512345@example.nl" });
    expect(await search(shop, "06-5551 2345")).toEqual(["Zenon", "Adam"]);
    // The card code, whole, in any case.
    const coded = await enrol(shop, { name: "Zbigniew" });
    expect(await search(shop, coded.code.toLowerCase())).toEqual(["Zbigniew"]);
  });

  it("pages through a search without duplicates or gaps, in the order of one page", async () => {
    const shop = await t.signup();
    for (let i = 0; i < 9; i++) await enrol(shop, { name: `Kees ${String.fromCharCode(90 - i)} ${i % 3}` });
    const whole = await everyId(shop, "kees");
    expect(whole).toHaveLength(9);
    expect(await everyId(shop, "kees", 2)).toEqual(whole);
    // A cursor belongs to its search.
    const first = await shop.call("GET", "/v1/members?q=kees&limit=2");
    const other = await shop.call("GET", `/v1/members?q=kee&limit=2&cursor=${first.body.next_cursor}`);
    expect([other.status, other.body.error.code]).toEqual([400, "invalid_cursor"]);
  });

  it("tells a cashier that more matched than their one page, and a manager pages on", async () => {
    const shop = await t.signup();
    for (let i = 0; i < 22; i++) await enrol(shop, { name: `Jan ${i}` });
    await enrol(shop, { name: "Janina Nowak" });
    const cashier = await cashierOf(shop);
    const broad = await cashier.call("GET", "/v1/members?q=jan");
    expect([broad.status, broad.body.data.length, typeof broad.body.next_cursor]).toEqual([
      200,
      20,
      "string",
    ]);
    // A cursor that says more matched, not one to page on: the cashier types more.
    const paged = await cashier.call("GET", `/v1/members?q=jan&cursor=${broad.body.next_cursor}`);
    expect([paged.status, paged.body.error.code]).toEqual([403, "forbidden"]);
    const narrow = await cashier.call("GET", "/v1/members?q=janina");
    expect([narrow.body.data.map((m: MemberDto) => m.name), narrow.body.next_cursor]).toEqual([
      ["Janina Nowak"],
      null,
    ]);
    // A manager pages through them all; a page that holds them all has no next one.
    expect(new Set(await everyId(shop, "jan", 5)).size).toBe(23);
    expect((await shop.call("GET", "/v1/members?q=jan&limit=23")).body.next_cursor).toBeNull();
  });
});

describe("what a search never finds", () => {
  it("another business's members, with the same names", async () => {
    const mine = await t.signup();
    const theirs = await t.signup();
    const own = await enrol(mine, {
      name: "Fleur Bakker",
      email: "fleur@example.nl",
      phone: "+31 6 4444 0001",
    });
    await enrol(theirs, { name: "Fleur Bakker", email: "fleur@example.com", phone: "+31 6 4444 0002" });
    for (const q of ["fleur", "bakker", "fleur@", "+31 6 4444", "example"]) {
      expect(await everyId(mine, q), q).toEqual([own.id]);
    }
    expect(await everyId(theirs, own.code)).toEqual([]);
  });

  it("an erased member, by anything they were found by before", async () => {
    const shop = await t.signup({ timezone: "Europe/Amsterdam" });
    const gone = await enrol(shop, {
      name: "Wiebe Vergeten",
      email: "wiebe@example.nl",
      phone: "06 33344455",
    });
    const kept = await enrol(shop, { name: "Wiebe Blijft" });
    const erased = await shop.call("POST", `/v1/members/${gone.id}/erase`, { reason: "asked by email" });
    expect(erased.status).toBe(200);
    for (const q of ["wiebe", "vergeten", "wiebe@example.nl", "06 33344455", "333444", erased.body.code]) {
      expect(await everyId(shop, q), q).toEqual(q === "wiebe" ? [kept.id] : []);
    }
    const stored = await t.database.db
      .selectFrom("members")
      .select("search")
      .where("business_id", "=", shop.businessId)
      .where("id", "=", gone.id)
      .executeTakeFirstOrThrow();
    expect(stored.search).toBe("");
  });

  it("a member by what they were called before a change, and by what they are called after it", async () => {
    const shop = await t.signup({ timezone: "Europe/Amsterdam" });
    const member = await enrol(shop, { name: "Ria Oud", email: "ria@oud.nl", phone: "06 77788899" });
    const changed = await shop.call("PATCH", `/v1/members/${member.id}`, {
      name: "Ria Nieuwenhuis",
      email: null,
      phone: "06 11122233",
    });
    expect(changed.status).toBe(200);
    for (const q of ["oud", "ria@oud", "77788899"]) expect(await everyId(shop, q), q).toEqual([]);
    for (const q of ["nieuwenhuis", "11122233", "ria"])
      expect(await everyId(shop, q), q).toEqual([member.id]);
    // A change of something else keeps the search text.
    await shop.call("PATCH", `/v1/members/${member.id}`, { birthday: "1980-01-01" });
    expect(await everyId(shop, "nieuwenhuis")).toEqual([member.id]);
  });
});

describe("a search finds every member whose name holds it", () => {
  it("whenever the folded search is part of the folded name (3 characters or more)", async () => {
    const shop = await t.signup();
    // Names as people have them: letters of Polish, Dutch, German and Portuguese, in either form.
    const letter = fc.constantFrom(
      ..."abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZąćęłńóśźżĄĆĘŁŃÓŚŹŻäöüßÄÖÜëïéèêáàãâçõôíúÉÁÇØøÆæ".split(
        "",
      ),
      "e\u0301",
      "o\u0308",
    );
    const word = fc.array(letter, { minLength: 1, maxLength: 9 }).map((parts) => parts.join(""));
    const name = fc
      .array(fc.tuple(word, fc.constantFrom(" ", "-", "'", " van ", " de ")), { minLength: 1, maxLength: 4 })
      .map((parts) =>
        parts
          .map(([w, sep]) => `${w}${sep}`)
          .join("")
          .replace(/[\s'-]+$/, ""),
      );
    const form = fc.constantFrom("as is", "NFC", "NFD", "upper", "lower");
    await fc.assert(
      fc.asyncProperty(name, fc.nat(), fc.nat(), form, async (full, a, b, how) => {
        const from = Math.min(a, b) % (full.length + 1);
        const to = Math.max(a, b) % (full.length + 1);
        const part = full.slice(from, to);
        const q = {
          "as is": part,
          NFC: part.normalize("NFC"),
          NFD: part.normalize("NFD"),
          upper: part.toUpperCase(),
          lower: part.toLowerCase(),
        }[how];
        fc.pre(foldText(q).length >= 3 && foldText(full).includes(foldText(q)));
        const member = await enrol(shop, { name: full });
        expect(await everyId(shop, q), `${JSON.stringify(q)} in ${JSON.stringify(full)}`).toContain(
          member.id,
        );
      }),
      { numRuns: 60 },
    );
  });
});
