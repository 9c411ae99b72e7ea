import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parse } from "csv-parse/sync";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ImportFileError,
  type ImportOptions,
  ImportUsageError,
  importCdnow,
  importMembers,
  importPurchases,
  MAX_IMPORT_BYTES,
  REFUSALS_LISTED,
} from "../../src/cli/import.ts";
import { PurchaseInput, recordPurchase } from "../../src/use-cases/purchases.ts";
import { startTestApp, type Tenant, type TestApp } from "../helpers/api.ts";
import { CLI, cliDatabase, runNode } from "../helpers/cli.ts";
import { engine } from "../helpers/db.ts";

/**
 * The CDNOW sample lives in the project's shared datasets, beside the repository (../shared) on a
 * developer's machine and in the workplace's shared folder elsewhere; CDNOW_SAMPLE names it
 * explicitly. Not finding it fails the test: it is never skipped.
 */
const CDNOW_CANDIDATES = [
  process.env.CDNOW_SAMPLE,
  resolve(import.meta.dirname, "../../../shared/datasets/cdnow/CDNOW_sample.txt"),
  "/work/shared/datasets/cdnow/CDNOW_sample.txt",
].filter((p): p is string => typeof p === "string" && p.length > 0);
const CDNOW = CDNOW_CANDIDATES.find((p) => existsSync(p)) ?? CDNOW_CANDIDATES.join(" or ");
const concurrency = engine === "postgres" ? 8 : 1;

let t: TestApp;
let dir: string;
beforeAll(async () => {
  t = await startTestApp({ now: "2026-03-02T09:00:00Z" });
  dir = mkdtempSync(join(tmpdir(), "regulars-import-"));
});
afterAll(async () => {
  await t?.close();
  rmSync(dir, { recursive: true, force: true });
});

function file(name: string, lines: string[]): string {
  const path = join(dir, name);
  writeFileSync(path, `${lines.join("\n")}\n`);
  return path;
}

const MEMBERS = [
  "external_id,name,email,phone,birthday,locale,marketing_consent,code",
  "m-1,Anna de Vries,anna@example.test,+31 6 12345678,1990-04-01,nl,yes,",
  "m-2,Jan Kowalski,JAN@Example.test,,,pl,false,",
  "m-3,Bad Email,not-an-email,,,en,true,",
  "m-4,No Consent,nc@example.test,,,en,,",
  "m-5,Same Email,anna@example.test,,,en,true,",
  ",No Key,,,,en,true,",
  "m-6,Future Birthday,fb@example.test,,2030-01-01,en,true,",
  'm-7,"Quoted, Name",q@example.test,,,pt-BR,1,',
  "m-8,Has Code,hc@example.test,,,en,true,ABCD2345",
  "m-9,Short Row",
];

const MEMBER_REFUSALS = [
  [4, "validation_failed", 'email "not-an-email": must be an email address.'],
  [
    5,
    "validation_failed",
    "marketing_consent is empty: every row needs the member's yes or no to marketing messages (true/false, yes/no, 1/0).",
  ],
  [6, "member_email_taken", "Another member of this business already has this email."],
  [
    7,
    "member_key_missing",
    "The row needs an external_id, email or phone, so that importing it again does not enrol the member twice.",
  ],
  [8, "validation_failed", 'birthday "2030-01-01": must not be in the future.'],
  [
    10,
    "member_code_not_supported",
    "Importing card codes is not supported yet: leave the code column empty and the member gets a new code.",
  ],
  [11, "csv_field_count", "The row has 2 fields; the header has 8."],
];

const PURCHASE_REFUSALS = [
  [
    4,
    "invalid_amount",
    'amount "12.5x" is not a plain decimal number such as 12.50 or 12,50 (no currency sign, no thousands separator).',
  ],
  [5, "member_not_found", "No member with external id m-99 in this business."],
  [6, "currency_mismatch", "This business records purchases in EUR; the purchase is in USD."],
  [8, "external_id_reused", "Row 8 repeats external_id p-1 of line 2 with different values."],
  [
    10,
    "invalid_amount",
    'amount "1.234" is ambiguous: is the "." a thousands separator or a decimal mark? EUR has 2 decimals: write 1234 without a thousands separator, or at most 2 decimals.',
  ],
  [11, "occurred_at_in_future", "occurred_at is in the future."],
  [13, "csv_field_count", "The row has 6 fields; the header has 9."],
  [
    14,
    "validation_failed",
    'occurred_at "yesterday": must be an ISO-8601 date-time with a time zone (2026-02-01T10:00:00+01:00), a local date-time (2026-02-01 10:00) or a date (2026-02-01).',
  ],
];

const refusals = (rows: (string | number)[][]) =>
  rows.map(([line, code, message]) => ({ line, code, message, record: expect.any(Array) }));

describe("importing members and purchases from CSV", () => {
  let tenant: Tenant;
  let membersFile: string;
  let purchasesFile: string;
  const balances = async () => {
    const members = (await tenant.call("GET", "/v1/members?limit=200")).body.data as any[];
    const result: Record<string, number> = {};
    for (const m of members) {
      result[m.external_id] = (await tenant.call("GET", `/v1/members/${m.id}/card`)).body.points.available;
    }
    return result;
  };

  it("imports good rows and refuses each bad row with its line and reason", async () => {
    tenant = await t.signup();
    membersFile = file("members.csv", MEMBERS);
    const members = await importMembers(t.ctx, membersFile, { business: tenant.slug, concurrency });
    expect(members.members).toEqual({
      total: 10,
      imported: 3,
      skipped: 0,
      refused: refusals(MEMBER_REFUSALS),
    });
    const anna = (await tenant.call("GET", "/v1/members/lookup?email=anna@example.test")).body;
    expect(anna).toMatchObject({
      name: "Anna de Vries",
      phone: "+31612345678",
      locale: "nl",
      marketing_consent: true,
    });
    const quoted = (await tenant.call("GET", "/v1/members/lookup?email=q@example.test")).body;
    expect(quoted).toMatchObject({ name: "Quoted, Name", locale: "pt-BR", external_id: "m-7" });

    purchasesFile = file("purchases.csv", [
      "external_id,member_external_id,member_email,member_code,amount,amount_minor,currency,occurred_at,location_id",
      "p-1,m-1,,,12.50,,EUR,2026-02-01T10:00:00+01:00,",
      "p-2,,jan@example.test,,3.40,,EUR,2026-02-02 08:15,",
      "p-3,m-1,,,12.5x,,EUR,2026-02-03,",
      "p-4,m-99,,,5.00,,EUR,2026-02-03,",
      "p-5,m-2,,,5.00,,USD,2026-02-03,",
      "p-1,m-1,,,12.50,,EUR,2026-02-01T10:00:00+01:00,",
      "p-1,m-1,,,99.00,,EUR,2026-02-01T10:00:00+01:00,",
      "p-6,,,,7.00,,EUR,2026-02-04,",
      "p-7,m-7,,,1.234,,EUR,2026-02-04,",
      "p-8,m-2,,,4.00,,EUR,2027-01-01,",
      "p-9,m-7,,,,250,EUR,2026-02-05T12:00:00Z,",
      "p-10,m-1,,,,",
      "p-11,m-2,,,3.00,,EUR,yesterday,",
      `p-12,,,${anna.code.toLowerCase()},20.00,,EUR,2026-02-06,`,
    ]);
    const purchases = await importPurchases(t.ctx, purchasesFile, { business: tenant.slug, concurrency });
    expect(purchases.purchases).toEqual({
      total: 14,
      imported: 5,
      skipped: 1,
      refused: refusals(PURCHASE_REFUSALS),
    });
    expect(await balances()).toEqual({ "m-1": 32, "m-2": 3, "m-7": 2 });

    const list = (await tenant.call("GET", "/v1/purchases?limit=50")).body.data as any[];
    const byId = Object.fromEntries(list.map((p) => [p.external_id, p]));
    expect(Object.keys(byId).sort()).toEqual(["p-1", "p-12", "p-2", "p-6", "p-9"]);
    // A local time and a bare date are read on the business's clock (Amsterdam, UTC+1 in winter).
    expect(byId["p-2"].occurred_at).toBe("2026-02-02T07:15:00.000Z");
    expect(byId["p-12"].occurred_at).toBe("2026-02-06T11:00:00.000Z");
    expect(byId["p-6"].member_id).toBeNull();
    expect(byId["p-9"].amount_minor).toBe(250);
  });

  it("writes the refused rows, with reasons, next to the input", () => {
    const rejects = parse(readFileSync(`${purchasesFile}.rejects.csv`), { columns: true }) as Record<
      string,
      string
    >[];
    expect(rejects.map((r) => [Number(r.line), r.error_code, r.error_message])).toEqual(PURCHASE_REFUSALS);
    expect(rejects[0]).toMatchObject({ external_id: "p-3", member_external_id: "m-1", amount: "12.5x" });
    const memberRejects = parse(readFileSync(`${membersFile}.rejects.csv`), { columns: true }) as Record<
      string,
      string
    >[];
    expect(memberRejects.map((r) => r.error_code)).toEqual(MEMBER_REFUSALS.map((r) => r[1]));
    expect(memberRejects.find((r) => r.line === "10")?.code).toBe("ABCD2345");
  });

  it("skips everything already imported on a second run and changes no balance", async () => {
    const before = await balances();
    const members = await importMembers(t.ctx, membersFile, { business: tenant.slug, concurrency });
    expect(members.members).toEqual({
      total: 10,
      imported: 0,
      skipped: 3,
      refused: refusals(MEMBER_REFUSALS),
    });
    const purchases = await importPurchases(t.ctx, purchasesFile, { business: tenant.slug, concurrency });
    expect(purchases.purchases).toEqual({
      total: 14,
      imported: 0,
      skipped: 6,
      refused: refusals(PURCHASE_REFUSALS),
    });
    expect(await balances()).toEqual(before);
    expect((await tenant.call("GET", "/v1/purchases?limit=50")).body.data).toHaveLength(5);
  });

  it("removes a stale rejects file when nothing is refused", async () => {
    const clean = file("clean.csv", ["external_id,marketing_consent", "c-1,no"]);
    writeFileSync(`${clean}.rejects.csv`, "stale");
    const report = await importMembers(t.ctx, clean, { business: tenant.slug, concurrency });
    expect(report).toEqual({
      members: { total: 1, imported: 1, skipped: 0, refused: [] },
      rejectsFile: null,
      format: { separator: ",", encoding: "utf-8", bom: false },
    });
    expect(() => readFileSync(`${clean}.rejects.csv`)).toThrow();
  });

  it("refuses a whole file with an unknown column, a missing column or an unknown business", async () => {
    const typo = file("typo.csv", ["external_id,emial,marketing_consent", "x,y,true"]);
    await expect(importMembers(t.ctx, typo, { business: tenant.slug })).rejects.toThrow(
      `${typo}: unknown column(s) "emial" (did you mean email?). Rename the column in the header row, or, if it is another column of yours, give it a name further from these. The columns are: name, email,`,
    );
    const noAmount = file("no-amount.csv", ["external_id,currency,occurred_at", "x,EUR,2026-01-01"]);
    await expect(importPurchases(t.ctx, noAmount, { business: tenant.slug })).rejects.toThrow(
      "the header needs an amount or an amount_minor column",
    );
    await expect(importMembers(t.ctx, typo, { business: "no-such-shop" })).rejects.toBeInstanceOf(
      ImportUsageError,
    );
    await expect(importMembers(t.ctx, join(dir, "missing.csv"), { business: tenant.slug })).rejects.toThrow(
      "no such file",
    );
    await expect(importMembers(t.ctx, typo, { business: tenant.slug })).rejects.toBeInstanceOf(
      ImportFileError,
    );
  });
});

describe("importing members again, from a corrected or newer export", () => {
  it("changes what the row changes, withdraws consent but never gives it, and skips the unchanged", async () => {
    const tenant = await t.signup();
    const first = await importMembers(
      t.ctx,
      file("leden-1.csv", [
        "external_id;name;email;phone;marketing_consent",
        "k-001;Jürgen Müller;jurgen@example.nl;+31 6 11111111;ja",
        "k-002;Bea;bea@example.nl;;nee",
        "k-003;Cas;cas@example.nl;;ja",
        "k-004;Dirk;dirk@example.nl;;ja",
      ]),
      { business: tenant.slug, concurrency },
    );
    expect(first.members).toMatchObject({ imported: 4, skipped: 0, refused: [] });
    const newer = file("leden-2.csv", [
      "external_id;name;email;phone;marketing_consent",
      // A new email and phone, and the customer said no to marketing since.
      "k-001;Jürgen Müller;jurgen.new@example.nl;+31 6 22222222;nee",
      // A yes the member never gave: refused, nothing of the row applied.
      "k-002;Beatrix;bea@example.nl;;ja",
      // Another member's email.
      "k-003;Cas;dirk@example.nl;;ja",
      // Empty cells say nothing: the member keeps their email.
      "k-004;Dirk;;;ja",
      "k-005;Eva;eva@example.nl;;nee",
    ]);
    const second = await importMembers(t.ctx, newer, { business: tenant.slug, concurrency });
    expect(second.members?.refused.map((r) => [r.line, r.code, r.message])).toEqual([
      [
        3,
        "marketing_consent_not_imported",
        "marketing_consent says yes, but the member with external_id k-002 has not said yes to marketing, and an import cannot say it for them: consent comes from the member (on their card, the join page, or to staff). Nothing of this row was changed; give the member's own answer (no), then import it again.",
      ],
      [
        4,
        "member_email_taken",
        "email dirk@example.nl: another member of this business has it, so the member with external_id k-003 was not changed.",
      ],
    ]);
    expect(second.members).toMatchObject({ total: 5, imported: 1, updated: 1, skipped: 1 });
    const byId = async (id: string) =>
      ((await tenant.call("GET", "/v1/members?limit=200")).body.data as any[]).find(
        (m) => m.external_id === id,
      );
    expect(await byId("k-001")).toMatchObject({
      email: "jurgen.new@example.nl",
      phone: "+31622222222",
      marketing_consent: false,
    });
    expect(await byId("k-002")).toMatchObject({ name: "Bea", marketing_consent: false });
    expect(await byId("k-003")).toMatchObject({ email: "cas@example.nl" });
    expect(await byId("k-004")).toMatchObject({ email: "dirk@example.nl", marketing_consent: true });
    // The change is audited as the import's, the withdrawn consent with it.
    const audit = (await tenant.call("GET", "/v1/audit-log?action=member.updated&limit=50")).body
      .data as any[];
    const k001 = await byId("k-001");
    expect(audit.map((a) => [a.actor, a.target_id, a.data])).toEqual([
      [
        "system:import",
        k001.id,
        { fields: ["email", "marketing_consent", "phone"], marketing_consent: false },
      ],
    ]);
    // The same file once more: what it says is there now, but for the two rows still refused.
    const third = await importMembers(t.ctx, newer, { business: tenant.slug, concurrency });
    expect(third.members).toMatchObject({ total: 5, imported: 0, skipped: 3 });
    expect(third.members?.updated).toBeUndefined();
    expect(third.members?.refused.map((r) => r.line)).toEqual([3, 4]);
  });
});

describe("a row's own values, before the member it names", () => {
  it("refuses a future birthday for that, whether or not a later row of the file enrolled the member", async () => {
    const tenant = await t.signup();
    const path = file("own-values.csv", [
      "external_id,name,birthday,marketing_consent",
      "m-1,Anna,2030-01-01,yes",
      "m-1,Anna,,no",
    ]);
    const reasons = async () =>
      (await importMembers(t.ctx, path, { business: tenant.slug, concurrency })).members?.refused.map((r) => [
        r.line,
        r.code,
        r.message,
      ]);
    const first = await reasons();
    expect(first).toEqual([[2, "validation_failed", 'birthday "2030-01-01": must not be in the future.']]);
    // The second time m-1 is there (line 3 enrolled it): still the birthday, not the marketing yes.
    expect(await reasons()).toEqual(first);
  });
});

describe("a header with columns of the till's own, or under other names", () => {
  it("reads the known columns under their other names, ignores the others and names them", async () => {
    const tenant = await t.signup();
    const members = file("till-members.csv", [
      "Klantnummer;Naam;E-mail;Telefoon;Marketing Consent;Notes;Address",
      "k-1;Anna;Anna@Example.test;+31 6 12345678;ja;likes oat milk;Dorpsstraat 1",
      "k-2;Bob;bob-at-example;;nee;;",
    ]);
    const report = await importMembers(t.ctx, members, { business: tenant.slug, concurrency });
    expect(report.ignoredColumns).toEqual(["Notes", "Address"]);
    expect(report.members).toMatchObject({ imported: 1, refused: [{ line: 3, code: "validation_failed" }] });
    const anna = (await tenant.call("GET", "/v1/members/lookup?email=anna@example.test")).body;
    expect(anna).toMatchObject({
      external_id: "k-1",
      name: "Anna",
      phone: "+31612345678",
      marketing_consent: true,
    });
    // The rejects file keeps the ignored columns, under the names the file gave them.
    const rejects = readFileSync(`${members}.rejects.csv`, "utf8").split("\n");
    expect(rejects[0]).toBe(
      "line;error_code;error_message;external_id;name;email;phone;marketing_consent;Notes;Address",
    );

    const purchases = file("till-purchases.csv", [
      "Order ID,Customer ID,Total,Currency,Datum,till,cashier",
      "o-1,k-1,12.50,EUR,2026-02-01 08:15,1,Piet",
    ]);
    const bought = await importPurchases(t.ctx, purchases, { business: tenant.slug, concurrency });
    expect(bought.ignoredColumns).toEqual(["till", "cashier"]);
    expect(bought.purchases).toMatchObject({ imported: 1, refused: [] });
    const list = (await tenant.call("GET", "/v1/purchases?limit=5")).body.data as any[];
    expect(list.map((p) => [p.external_id, p.member_id, p.amount_minor])).toEqual([["o-1", anna.id, 1250]]);
  });

  it("refuses a header with a typo of a known column, or a member named in a way it cannot read", async () => {
    const tenant = await t.signup();
    const typos = file("typos.csv", ["external_id,nmae,emal,marketing_consent", "x,y,z,true"]);
    await expect(importMembers(t.ctx, typos, { business: tenant.slug })).rejects.toThrow(
      `unknown column(s) "nmae" (did you mean name?), "emal" (did you mean email?).`,
    );
    const twice = file("twice.csv", [
      "external_id,email,E-mail,marketing_consent",
      "x,a@b.test,a@b.test,true",
    ]);
    await expect(importMembers(t.ctx, twice, { business: tenant.slug })).rejects.toThrow(
      `${twice}: the header names email ("email", "E-mail") more than once.`,
    );
    const noConsent = file("no-consent.csv", ["external_id,Newsletter", "x,yes"]);
    await expect(importMembers(t.ctx, noConsent, { business: tenant.slug })).rejects.toThrow(
      `${noConsent}: the header lacks the required column(s) marketing_consent. It has columns this import does not read: Newsletter.`,
    );
    const anonymous = file("member-id.csv", [
      "external_id,member_id,amount,currency,occurred_at",
      "p-1,42,5.00,EUR,2026-02-01",
    ]);
    await expect(importPurchases(t.ctx, anonymous, { business: tenant.slug })).rejects.toThrow(
      `${anonymous}: unknown column(s) "member_id": a purchase names its member by member_external_id`,
    );
    expect((await tenant.call("GET", "/v1/purchases?limit=5")).body.data).toEqual([]);
  });
});

describe("what an import says of a rough file", () => {
  it("names a directory given as the file", async () => {
    const tenant = await t.signup();
    await expect(importMembers(t.ctx, dir, { business: tenant.slug })).rejects.toThrow(
      new ImportFileError(`${dir} is a directory: name a CSV file in it.`),
    );
  });

  it("asks about an unquoted decimal comma, and says limits and choices in its own words", async () => {
    const tenant = await t.signup();
    await importMembers(
      t.ctx,
      file("one.csv", ["external_id,locale,marketing_consent", "k-1,de,no", "k-2,,no"]),
      {
        business: tenant.slug,
      },
    ).then((report) =>
      expect(report.members?.refused.map((r) => r.message)).toEqual([
        'locale "de": must be en, nl, pl or pt-BR.',
      ]),
    );
    const report = await importPurchases(
      t.ctx,
      file("commas.csv", [
        "external_id,member_external_id,amount,currency,occurred_at",
        "p-22,k-2,1,50,EUR,2026-02-01 08:15",
        "p-23,k-2,99999999999,EUR,2026-02-01 08:15",
      ]),
      { business: tenant.slug },
    );
    expect(report.purchases?.refused.map((r) => [r.line, r.code, r.message])).toEqual([
      [
        2,
        "csv_field_count",
        'The row has 6 fields; the header has 5. Is a decimal comma unquoted (1,50)? Write "1,50" in quotes or 1.50, or save the file with ; as the separator.',
      ],
      [3, "invalid_amount", 'amount "99999999999" is more than a purchase can be: at most 100000000.00.'],
    ]);
  });
});

describe("importing a CSV with broken quoting", () => {
  let tenant: Tenant;
  beforeAll(async () => {
    tenant = await t.signup();
  });
  const externalIds = async () =>
    ((await tenant.call("GET", "/v1/members?limit=200")).body.data as any[])
      .map((m) => m.external_id as string)
      .sort();
  const rows = (from: number, to: number) =>
    Array.from({ length: to - from + 1 }, (_, i) => `u-${from + i},Member ${from + i},yes`);

  it("refuses an unclosed quote by its line and imports every row after it", async () => {
    // 12 rows on lines 2–13; the quote opened on line 9 is never closed.
    const path = file("unclosed.csv", [
      "external_id,name,marketing_consent",
      ...rows(2, 8),
      'u-9,"Unclosed,yes',
      ...rows(10, 13),
    ]);
    const report = await importMembers(t.ctx, path, { business: tenant.slug, concurrency });
    expect(report.members).toEqual({
      total: 12,
      imported: 11,
      skipped: 0,
      refused: refusals([
        [
          9,
          "csv_malformed",
          'Column name: the quote that opens its value is never closed. Wrap a value that has a quote in quotes and double the quote inside: "12"" pizza".',
        ],
      ]),
    });
    expect(await externalIds()).toEqual(
      [...rows(2, 8), ...rows(10, 13)].map((r) => r.split(",")[0] as string).sort(),
    );
    const rejects = parse(readFileSync(`${path}.rejects.csv`), { columns: true }) as Record<string, string>[];
    expect(rejects).toMatchObject([{ line: "9", error_code: "csv_malformed", external_id: "u-9" }]);
  });

  it("refuses a stray quote by its line and imports the next row", async () => {
    const path = file("stray.csv", [
      "external_id,name,marketing_consent",
      "s-2,Two,yes",
      "s-3,Three,no",
      "s-4,Four,no",
      "s-5,Five,no",
      's-6,"x"y,no',
      "s-7,Seven,yes",
      's-8,5" disk,yes',
      "s-9,Nine,yes",
    ]);
    const report = await importMembers(t.ctx, path, { business: tenant.slug, concurrency });
    expect(report.members?.refused.map((r) => [r.line, r.code, r.message.split(".")[0]])).toEqual([
      [
        6,
        "csv_malformed",
        'Column name: "y" follows the closing quote of the value, where a comma should be',
      ],
      [8, "csv_malformed", "Column name: a quote inside a value that is not quoted"],
    ]);
    expect(report.members).toMatchObject({ total: 8, imported: 6 });
    expect((await externalIds()).filter((id) => id.startsWith("s-"))).toEqual([
      "s-2",
      "s-3",
      "s-4",
      "s-5",
      "s-7",
      "s-9",
    ]);
  });

  it("reports a record that spans lines by its first line", async () => {
    const path = file("multiline.csv", [
      "external_id,name,email,marketing_consent",
      'q-1,"Two',
      'lines",two@example.test,yes',
      'q-2,"Bad',
      'email",not-an-email,yes',
      "q-3,Three,three@example.test,yes",
      'q-4,"Oops, extra",x,y,"more',
      'text"',
      "q-5,Five,,yes",
    ]);
    const report = await importMembers(t.ctx, path, { business: tenant.slug, concurrency });
    expect(report.members).toEqual({
      total: 5,
      imported: 3,
      skipped: 0,
      refused: refusals([
        [4, "validation_failed", 'email "not-an-email": must be an email address.'],
        [
          7,
          "csv_field_count",
          "The row has 5 fields; the header has 4. It runs from line 7 to line 8: is a quote not closed?",
        ],
      ]),
    });
    const two = (await tenant.call("GET", "/v1/members/lookup?email=two@example.test")).body;
    expect(two).toMatchObject({ external_id: "q-1", name: "Two\nlines" });
  });

  it("refuses the whole file when the header row is not valid CSV", async () => {
    const path = file("bad-header.csv", ['external_id,"name,marketing_consent', "h-1,One,yes"]);
    await expect(importMembers(t.ctx, path, { business: tenant.slug })).rejects.toThrow(
      /the header row \(line 1\) is not valid CSV: field 2: the quote that opens its value is never closed/,
    );
  });

  it("counts the same rows in the progress bar as in the report", async () => {
    const bars: { label: string; total: number; ticks: number }[] = [];
    const progress: ImportOptions["progress"] = (label, total) => {
      const bar = { label, total, ticks: 0 };
      bars.push(bar);
      return { tick: () => void bar.ticks++, finish: () => {} };
    };
    const path = file("progress.csv", [
      "external_id,name,marketing_consent",
      "g-1,One,yes",
      'g-2,"Two,yes',
      "g-3,Three",
      "g-4,Four,maybe",
    ]);
    const report = await importMembers(t.ctx, path, { business: tenant.slug, concurrency, progress });
    expect(report.members).toMatchObject({ total: 4, imported: 1 });
    expect(bars).toEqual([{ label: "members", total: 4, ticks: 4 }]);
  });

  it("names the earlier line of an external_id repeated with other values, or an earlier import", async () => {
    await importMembers(t.ctx, file("r-members.csv", ["external_id,marketing_consent", "r-m,yes"]), {
      business: tenant.slug,
    });
    const header = "external_id,member_external_id,amount,currency,occurred_at";
    const first = file("r-1.csv", [header, "r-1,r-m,5.00,EUR,2026-02-01", "r-1,r-m,6.00,EUR,2026-02-01"]);
    const report = await importPurchases(t.ctx, first, { business: tenant.slug, concurrency });
    expect(report.purchases?.refused).toEqual(
      refusals([[3, "external_id_reused", "Row 3 repeats external_id r-1 of line 2 with different values."]]),
    );
    const second = file("r-2.csv", [header, "r-1,r-m,7.00,EUR,2026-02-01"]);
    const again = await importPurchases(t.ctx, second, { business: tenant.slug, concurrency });
    expect(again.purchases?.refused).toEqual(
      refusals([
        [
          2,
          "external_id_reused",
          "external_id r-1 was imported or recorded before with different values; a new purchase needs a new external_id.",
        ],
      ]),
    );
  });
});

describe("importing a CDNOW log", () => {
  // Customer 0001 bought twice on 1997-01-18 (the same again, then something else).
  const LOG = [
    " 00004 0001 19970101  2   29.33",
    " 00004 0001 19970118  2   29.73",
    " 00004 0001 19970118  2   29.73",
    " 00004 0001 19970118  1   14.96",
    " 00018 0002 19970112  1   14.96",
    " 00018 0002 19970112  1   14.96",
    " 00021 0003 19970102  2   26.48",
  ];
  const ids = async (businessId: string) =>
    (
      await t.database.db
        .selectFrom("purchases")
        .select(["external_id", "amount_minor"])
        .where("business_id", "=", businessId)
        .orderBy("external_id")
        .execute()
    ).map((p) => [p.external_id, p.amount_minor]);

  it("refuses a business whose currency is not USD before importing anything", async () => {
    const tenant = await t.signup({ currency: "EUR" });
    const input = file("cdnow-eur.txt", LOG);
    const error = await importCdnow(t.ctx, input, { business: tenant.slug }).catch((e) => e);
    expect(error).toBeInstanceOf(ImportUsageError);
    expect(error.message).toMatch(
      /The CDNOW log is in US dollars; the business "biz-\w+" records purchases in EUR/,
    );
    const members = await t.database.db
      .selectFrom("members")
      .select("id")
      .where("business_id", "=", tenant.businessId)
      .execute();
    expect(members).toEqual([]);
    expect(await ids(tenant.businessId)).toEqual([]);
  });

  it("names purchases by customer, day and turn, so added lines change nothing on a re-run", async () => {
    const tenant = await t.signup({ currency: "USD", timezone: "America/New_York" });
    const report = await importCdnow(t.ctx, file("cdnow-ids.txt", LOG), {
      business: tenant.slug,
      concurrency,
    });
    expect(report.purchases).toEqual({ total: 7, imported: 7, skipped: 0, refused: [] });
    const expected = [
      ["cdnow-0001-19970101-1", 2933],
      ["cdnow-0001-19970118-1", 2973],
      ["cdnow-0001-19970118-2", 2973],
      ["cdnow-0001-19970118-3", 1496],
      ["cdnow-0002-19970112-1", 1496],
      ["cdnow-0002-19970112-2", 1496],
      ["cdnow-0003-19970102-1", 2648],
    ];
    expect(await ids(tenant.businessId)).toEqual(expected);

    const shifted = file("cdnow-shifted.txt", ["", ...LOG.slice(0, 4), "", "   ", ...LOG.slice(4)]);
    const again = await importCdnow(t.ctx, shifted, { business: tenant.slug, concurrency });
    expect(again.members).toEqual({ total: 3, imported: 0, skipped: 3, refused: [] });
    expect(again.purchases).toEqual({ total: 7, imported: 0, skipped: 7, refused: [] });
    expect(await ids(tenant.businessId)).toEqual(expected);
  });

  it("skips what an earlier version imported with line numbers as ids", async () => {
    const tenant = await t.signup({ currency: "USD", timezone: "America/New_York" });
    const input = file("cdnow-legacy.txt", LOG);
    await importCdnow(t.ctx, input, { business: tenant.slug, concurrency });
    // As the earlier version named them: cdnow-<line>.
    const rows = await t.database.db
      .selectFrom("purchases")
      .select(["id", "external_id"])
      .where("business_id", "=", tenant.businessId)
      .orderBy("occurred_at")
      .orderBy("external_id")
      .execute();
    for (const [i, row] of rows.entries()) {
      await t.database.db
        .updateTable("purchases")
        .set({ external_id: `cdnow-${i + 1}` })
        .where("business_id", "=", tenant.businessId)
        .where("id", "=", row.id)
        .execute();
    }
    const before = await ids(tenant.businessId);
    const again = await importCdnow(t.ctx, file("cdnow-legacy-2.txt", ["", ...LOG]), {
      business: tenant.slug,
      concurrency,
    });
    expect(again.purchases).toEqual({ total: 7, imported: 0, skipped: 7, refused: [] });
    expect(await ids(tenant.businessId)).toEqual(before);
    expect(before).toHaveLength(7);
  });
});

describe("importing the CDNOW sample", () => {
  // The whole file (6,919 lines) takes about 35 s on PostgreSQL and about two minutes on PGlite:
  // PGlite imports the first 500 lines, PostgreSQL all of them.
  const lineLimit = engine === "postgres" ? Number.POSITIVE_INFINITY : 500;

  it("creates one member per customer and one purchase per line, with the file's total spend", async () => {
    const lines = readFileSync(CDNOW, "utf8")
      .split("\n")
      .filter((l) => l.trim() !== "")
      .slice(0, lineLimit);
    const fields = lines.map((l) => l.trim().split(/\s+/));
    const customers = new Set(fields.map((f) => f[1]));
    const totalCents = fields.reduce((sum, f) => sum + Math.round(Number(f[4]) * 100), 0);
    if (engine === "postgres") {
      expect(lines).toHaveLength(6919);
      expect(customers.size).toBe(2357);
    }
    const input = file("cdnow.txt", lines);

    const tenant = await t.signup({ currency: "USD", timezone: "America/New_York" });
    const report = await importCdnow(t.ctx, input, { business: tenant.slug, concurrency });
    expect(report.members).toEqual({
      total: customers.size,
      imported: customers.size,
      skipped: 0,
      refused: [],
    });
    expect(report.purchases).toEqual({
      total: lines.length,
      imported: lines.length,
      skipped: 0,
      refused: [],
    });
    expect(report.rejectsFile).toBeNull();

    const db = t.database.db;
    const stored = await db
      .selectFrom("purchases")
      .select((eb) => [eb.fn.countAll<number>().as("n"), eb.fn.sum<number>("amount_minor").as("cents")])
      .where("business_id", "=", tenant.businessId)
      .executeTakeFirstOrThrow();
    expect({ n: Number(stored.n), cents: Number(stored.cents) }).toEqual({
      n: lines.length,
      cents: totalCents,
    });
    const members = await db
      .selectFrom("members")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("business_id", "=", tenant.businessId)
      .where("external_id", "like", "cdnow-%")
      .executeTakeFirstOrThrow();
    expect(Number(members.n)).toBe(customers.size);

    // Line 1: customer 0001 bought 2 CDs for $29.33 on 1997-01-01, at noon in New York.
    const customer = await db
      .selectFrom("members")
      .select(["id", "joined_at"])
      .where("business_id", "=", tenant.businessId)
      .where("external_id", "=", "cdnow-0001")
      .executeTakeFirstOrThrow();
    expect(customer.joined_at.toISOString()).toBe("1997-01-01T17:00:00.000Z");
    const line1 = await db
      .selectFrom("purchases")
      .selectAll()
      .where("business_id", "=", tenant.businessId)
      .where("external_id", "=", "cdnow-0001-19970101-1")
      .executeTakeFirstOrThrow();
    expect(line1).toMatchObject({
      member_id: customer.id,
      amount_minor: 2933,
      currency: "USD",
      points_earned: 29,
    });
    expect(line1.occurred_at.toISOString()).toBe("1997-01-01T17:00:00.000Z");
    // $29.33 for two CDs: one at 14.66, one at 14.67, adding up to what was paid.
    expect(line1.items).toEqual([
      { sku: "cd", name: "CD", quantity: 1, unit_price_minor: 1466 },
      { sku: "cd", name: "CD", quantity: 1, unit_price_minor: 1467 },
    ]);
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from purchases p
      where p.business_id = ${tenant.businessId} and jsonb_array_length(p.items) > 0 and p.amount_minor <> (
        select sum((i->>'quantity')::bigint * (i->>'unit_price_minor')::bigint) from jsonb_array_elements(p.items) i)`.execute(
      db,
    );
    expect(rows[0]?.n).toBe(0);
  }, 300_000);
});

describe("imports as a business would hand them over", () => {
  it("takes a file newest first as the same history oldest first: the first purchase is the earliest", async () => {
    const run = async (order: "oldest" | "newest") => {
      const tenant = await t.signup();
      const rule = await tenant.call("POST", "/v1/rules", {
        name: "Double on the first purchase",
        trigger: "purchase",
        conditions: { first_purchase: true },
        effect: { type: "multiplier", factor_bp: 20_000 },
      });
      expect(rule.status).toBe(201);
      const members = file(`first-${order}-members.csv`, ["external_id,marketing_consent", "c-1,no"]);
      await importMembers(t.ctx, members, { business: tenant.slug, concurrency });
      const rows = [
        "p-1,c-1,50.00,EUR,2025-12-20 10:00",
        "p-2,c-1,10.00,EUR,2026-01-20 10:00",
        "p-3,c-1,10.00,EUR,2026-02-20 10:00",
      ];
      const path = file(`first-${order}.csv`, [
        "external_id,member_external_id,amount,currency,occurred_at",
        ...(order === "oldest" ? rows : [...rows].reverse()),
      ]);
      const report = await importPurchases(t.ctx, path, { business: tenant.slug, concurrency });
      expect(report.purchases?.imported).toBe(3);
      const member = await t.database.db
        .selectFrom("members")
        .select("id")
        .where("business_id", "=", tenant.businessId)
        .where("external_id", "=", "c-1")
        .executeTakeFirstOrThrow();
      const state = await t.database.db
        .selectFrom("member_state")
        .select("first_purchase_at")
        .where("business_id", "=", tenant.businessId)
        .where("member_id", "=", member.id)
        .executeTakeFirstOrThrow();
      const card = (await tenant.call("GET", `/v1/members/${member.id}/card`)).body;
      return { first: state.first_purchase_at?.toISOString(), lifetime: card.points.lifetime_earned };
    };
    const oldest = await run("oldest");
    expect(oldest).toEqual({ first: "2025-12-20T09:00:00.000Z", lifetime: 120 });
    expect(await run("newest")).toEqual(oldest);
  });

  it("reads a currency code in small letters as the code, as a payment provider's export writes it", async () => {
    const tenant = await t.signup();
    const path = file("lowercase-currency.csv", [
      "external_id,amount,currency,occurred_at",
      "ch_1,12.50,eur,2026-02-01 10:00",
      "ch_2,3.00,Eur,2026-02-01 11:00",
      "ch_3,4.00,usd,2026-02-01 12:00",
    ]);
    const report = await importPurchases(t.ctx, path, { business: tenant.slug, concurrency });
    expect(report.purchases).toEqual({
      total: 3,
      imported: 2,
      skipped: 0,
      refused: refusals([
        [4, "currency_mismatch", "This business records purchases in EUR; the purchase is in USD."],
      ]),
    });
    const list = (await tenant.call("GET", "/v1/purchases?limit=10")).body.data;
    const recorded = list.map((p: { currency: string; amount_minor: number }) => [
      p.currency,
      p.amount_minor,
    ]);
    expect(recorded.sort()).toEqual([
      ["EUR", 1250],
      ["EUR", 300],
    ]);
  });

  it("takes one instant written two ways as one purchase, and a file an earlier version imported as the same", async () => {
    const tenant = await t.signup();
    const members = file("instant-members.csv", ["external_id,marketing_consent", "c-1,no"]);
    await importMembers(t.ctx, members, { business: tenant.slug, concurrency });
    const header = "external_id,member_external_id,amount,currency,occurred_at";
    const options = { business: tenant.slug, concurrency };
    const first = await importPurchases(
      t.ctx,
      file("instant-1.csv", [header, "i-1,c-1,12.50,EUR,2026-02-20 10:00"]),
      options,
    );
    expect(first.purchases).toMatchObject({ imported: 1, skipped: 0 });
    // 10:00 in Amsterdam, written with its offset, then in UTC: the same purchase.
    for (const at of ["2026-02-20T10:00:00+01:00", "2026-02-20T09:00:00Z"]) {
      const again = await importPurchases(
        t.ctx,
        file("instant-2.csv", [header, `i-1,c-1,12.50,EUR,${at}`]),
        options,
      );
      expect(again.purchases, at).toMatchObject({ imported: 0, skipped: 1 });
    }
    // A purchase an earlier version imported with its time as the file wrote it.
    const member = await t.database.db
      .selectFrom("members")
      .select("id")
      .where("business_id", "=", tenant.businessId)
      .where("external_id", "=", "c-1")
      .executeTakeFirstOrThrow();
    const earlier = PurchaseInput.parse({
      external_id: "i-2",
      amount_minor: 800,
      currency: "EUR",
      items: [],
      occurred_at: "2026-02-21T10:00:00+01:00",
    });
    await recordPurchase(
      t.ctx,
      { businessId: tenant.businessId, kind: "system", id: "import", role: "owner" },
      { ...earlier, member_id: member.id },
    );
    const rerun = await importPurchases(
      t.ctx,
      file("instant-3.csv", [header, "i-2,c-1,8.00,EUR,2026-02-21T10:00:00+01:00"]),
      options,
    );
    expect(rerun.purchases).toMatchObject({ imported: 0, skipped: 1 });
    // Another time under the same id is still another purchase.
    const other = await importPurchases(
      t.ctx,
      file("instant-4.csv", [header, "i-1,c-1,12.50,EUR,2026-02-20T11:00:00+01:00"]),
      options,
    );
    expect(other.purchases).toMatchObject({ imported: 0, skipped: 0 });
    expect(other.purchases?.refused).toEqual([
      expect.objectContaining({ line: 2, code: "external_id_reused" }),
    ]);
  });

  it("says why today's purchase given by its date alone is refused in the morning", async () => {
    const tenant = await t.signup();
    t.clock.set(new Date("2026-03-02T09:00:00Z")); // 10:00 in Amsterdam
    const path = file("today.csv", [
      "external_id,amount,currency,occurred_at",
      "d-1,5.00,EUR,2026-03-02",
      "d-2,5.00,EUR,2026-03-02 09:30",
    ]);
    const report = await importPurchases(t.ctx, path, { business: tenant.slug, concurrency });
    expect(report.purchases?.imported).toBe(1);
    expect(report.purchases?.refused).toEqual([
      expect.objectContaining({
        line: 2,
        code: "occurred_at_in_future",
        message:
          "occurred_at 2026-03-02 is a date alone, which counts at 12:00 on that day, and that is still ahead: give the purchase's time (2026-03-02 09:30), or import it after 12:00.",
      }),
    ]);
  });

  it("refuses a file over the size limit before reading it, saying to split it", async () => {
    const tenant = await t.signup();
    const path = join(dir, "huge.csv");
    writeFileSync(path, "external_id,marketing_consent\n");
    truncateSync(path, MAX_IMPORT_BYTES + 1);
    await expect(importMembers(t.ctx, path, { business: tenant.slug })).rejects.toThrow(
      `huge.csv is ${MAX_IMPORT_BYTES + 1} bytes; an import reads at most ${MAX_IMPORT_BYTES} (512 MB) at once, as it keeps about twice the file's size in memory while it runs. Split it into files of fewer lines`,
    );
    const small = file("small.csv", ["external_id,marketing_consent", "s-1,no", "s-2,no"]);
    const limited = { business: tenant.slug, limits: { maxBytes: 40 } };
    await expect(importMembers(t.ctx, small, limited)).rejects.toThrow(
      "small.csv is 44 bytes; an import reads at most 40 (40 bytes) at once",
    );
    await expect(importPurchases(t.ctx, small, limited)).rejects.toBeInstanceOf(ImportFileError);
    const usd = await t.signup({ currency: "USD" });
    await expect(importCdnow(t.ctx, small, { ...limited, business: usd.slug })).rejects.toThrow(
      "an import reads at most 40",
    );
    expect(MAX_IMPORT_BYTES).toBeGreaterThan(30 * 1024 * 1024);
  });

  it("refuses a row holding a NUL character, naming its line and column, and imports the others", async () => {
    const tenant = await t.signup();
    const path = file("nul.csv", [
      "external_id,name,marketing_consent",
      "n-1,Ada,no",
      "n-2,Bo\u0000b,no",
      "n-3,Cy,no",
    ]);
    const report = await importMembers(t.ctx, path, { business: tenant.slug, concurrency });
    expect(report.members?.imported).toBe(2);
    expect(report.members?.refused).toEqual([
      expect.objectContaining({
        line: 3,
        code: "csv_invalid_text",
        message: "Column name must not contain the NUL character (U+0000).",
      }),
    ]);
  });

  it("imports the rejects file once its rows are corrected, its report columns and all", async () => {
    const tenant = await t.signup();
    const path = file("fix-me.csv", [
      "external_id,name,email,marketing_consent",
      "f-1,Ada,ada@example.test,no",
      "f-2,Bo,not-an-email,no",
    ]);
    const first = await importMembers(t.ctx, path, { business: tenant.slug, concurrency });
    expect(first.members?.refused.map((r) => r.code)).toEqual(["validation_failed"]);
    const rejects = readFileSync(`${path}.rejects.csv`, "utf8");
    const corrected = file(
      "fix-me.corrected.csv",
      rejects
        .trim()
        .split("\n")
        .map((l) => l.replace(",not-an-email,", ",bo@example.test,")),
    );
    const second = await importMembers(t.ctx, corrected, { business: tenant.slug, concurrency });
    expect(second.members).toMatchObject({ total: 1, imported: 1, refused: [] });
    // Corrected wrongly again: its own rejects file has one report's columns, and imports in turn.
    const again = file("fix-me.again.csv", rejects.trim().split("\n"));
    const third = await importMembers(t.ctx, again, { business: tenant.slug, concurrency });
    expect(third.members?.refused.map((r) => r.code)).toEqual(["validation_failed"]);
    const header = readFileSync(`${again}.rejects.csv`, "utf8").split("\n")[0];
    expect(header).toBe("line,error_code,error_message,external_id,name,email,marketing_consent");
    const fixed = file(
      "fix-me.again.corrected.csv",
      readFileSync(`${again}.rejects.csv`, "utf8")
        .trim()
        .split("\n")
        .map((l) => l.replace(",not-an-email,", ",bo2@example.test,")),
    );
    const fourth = await importMembers(t.ctx, fixed, { business: tenant.slug, concurrency });
    expect(fourth.members?.refused).toEqual([]);
  });
});

describe("a file read as a stream, a few bytes at a time", () => {
  /** A till's export, newest first, with a refusal of every kind (line numbers on the right). */
  const TILL = [
    "external_id,member_external_id,amount,currency,occurred_at", // 1
    "p-9,c-1,5.00,EUR,2026-02-09 10:00", // 2
    'p-8,c-2,"3,50",EUR,2026-02-08 10:00', // 3
    "p-7,c-1,12.5x,EUR,2026-02-07", // 4: not an amount
    "p-6,c-9,5.00,EUR,2026-02-06", // 5: no such member
    'p-5,c-1,"Unclosed,EUR,2026-02-05', // 6: a quote never closed
    "p-4,c-2,4.00,EUR,2026-02-04", // 7
    "p-1,c-1,9.99,EUR,2026-02-03 09:00", // 8: p-1 again, later, other amount
    "p-3,c-2,2.00,EUR,2026-02-03 12:00", // 9
    "p-2,c-1,1.00,EUR,yesterday", // 10: not a time
    "p-1,c-1,10.00,EUR,2026-02-01 09:00", // 11: c-1's first purchase
    "p-0,c-2,7.00,EUR,2026-02-01", // 12: c-2's first purchase
    "short,row", // 13
    "p-z,c-1,1,00,EUR,2026-01-31", // 14: a decimal comma without quotes
    "p-10,c-2,1.00,EUR,2026-02-10 08:00", // 15
    "p-4,c-2,4.00,EUR,2026-02-04", // 16: the same purchase again
  ];
  // What the import said of this file when it read it whole (the commit before streaming).
  const TILL_REFUSED = [
    [
      4,
      "invalid_amount",
      'amount "12.5x" is not a plain decimal number such as 12.50 or 12,50 (no currency sign, no thousands separator).',
    ],
    [5, "member_not_found", "No member with external id c-9 in this business."],
    [
      6,
      "csv_malformed",
      'Column amount: the quote that opens its value is never closed. Wrap a value that has a quote in quotes and double the quote inside: "12"" pizza".',
    ],
    [
      8,
      "external_id_reused",
      "Row 8 has external_id p-1, as line 11 has with different values; line 11 was recorded first, being the earlier purchase.",
    ],
    [
      10,
      "validation_failed",
      'occurred_at "yesterday": must be an ISO-8601 date-time with a time zone (2026-02-01T10:00:00+01:00), a local date-time (2026-02-01 10:00) or a date (2026-02-01).',
    ],
    [13, "csv_field_count", "The row has 2 fields; the header has 5."],
    [
      14,
      "csv_field_count",
      'The row has 6 fields; the header has 5. Is a decimal comma unquoted (1,50)? Write "1,50" in quotes or 1.50, or save the file with ; as the separator.',
    ],
  ];

  /** Imports the till's export into a new business with a rule for the first purchase. */
  async function importTill(name: string, limits?: ImportOptions["limits"]) {
    const tenant = await t.signup();
    await tenant.call("POST", "/v1/rules", {
      name: "Double on the first purchase",
      trigger: "purchase",
      conditions: { first_purchase: true },
      effect: { type: "multiplier", factor_bp: 20_000 },
    });
    await importMembers(
      t.ctx,
      file(`${name}-members.csv`, ["external_id,marketing_consent", "c-1,no", "c-2,no"]),
      {
        business: tenant.slug,
        ...(limits ? { limits } : {}),
      },
    );
    const path = file(`${name}.csv`, TILL);
    const report = await importPurchases(t.ctx, path, {
      business: tenant.slug,
      concurrency,
      ...(limits ? { limits } : {}),
    });
    const purchases = await t.database.db
      .selectFrom("purchases")
      .leftJoin("members", "members.id", "purchases.member_id")
      .select([
        "purchases.external_id",
        "amount_minor",
        "points_earned",
        "occurred_at",
        "members.external_id as member",
      ])
      .where("purchases.business_id", "=", tenant.businessId)
      .orderBy("purchases.external_id")
      .execute();
    const firsts = await t.database.db
      .selectFrom("member_state")
      .innerJoin("members", "members.id", "member_state.member_id")
      .select(["members.external_id", "first_purchase_at"])
      .where("member_state.business_id", "=", tenant.businessId)
      .orderBy("members.external_id")
      .execute();
    return { report, rejects: readFileSync(`${path}.rejects.csv`, "utf8"), purchases, firsts };
  }

  it("imports a newest-first file as reading it whole did, rejects file and all, in any chunk size", async () => {
    const whole = await importTill("till-whole");
    expect(whole.report.purchases).toEqual({
      total: 15,
      imported: 7,
      skipped: 1,
      refused: refusals(TILL_REFUSED),
    });
    expect(whole.purchases.map((p) => [p.external_id, p.member, p.amount_minor, p.points_earned])).toEqual([
      ["p-0", "c-2", 700, 14],
      ["p-1", "c-1", 1000, 20],
      ["p-10", "c-2", 100, 1],
      ["p-3", "c-2", 200, 2],
      ["p-4", "c-2", 400, 4],
      ["p-8", "c-2", 350, 3],
      ["p-9", "c-1", 500, 5],
    ]);
    expect(whole.firsts.map((m) => [m.external_id, m.first_purchase_at?.toISOString()])).toEqual([
      ["c-1", "2026-02-01T08:00:00.000Z"],
      ["c-2", "2026-02-01T11:00:00.000Z"],
    ]);
    expect(whole.rejects.split("\n").slice(0, 3)).toEqual([
      "line,error_code,error_message,external_id,member_external_id,amount,currency,occurred_at,extra_1",
      `4,invalid_amount,"amount ""12.5x"" is not a plain decimal number such as 12.50 or 12,50 (no currency sign, no thousands separator).",p-7,c-1,12.5x,EUR,2026-02-07,`,
      "5,member_not_found,No member with external id c-9 in this business.,p-6,c-9,5.00,EUR,2026-02-06,",
    ]);
    for (const readBytes of [1, 7]) {
      const chunked = await importTill(`till-${readBytes}`, { readBytes });
      expect(chunked.report, `read ${readBytes} at a time`).toEqual({
        ...whole.report,
        rejectsFile: expect.stringMatching(/till-\d\.csv\.rejects\.csv$/),
      });
      expect(chunked.rejects).toBe(whole.rejects);
      expect(
        chunked.purchases.map(({ occurred_at, ...p }) => ({ ...p, at: occurred_at.toISOString() })),
      ).toEqual(whole.purchases.map(({ occurred_at, ...p }) => ({ ...p, at: occurred_at.toISOString() })));
      expect(chunked.firsts).toEqual(whole.firsts);
    }
  });

  it.skipIf(process.platform === "win32")(
    "reads a file from a pipe (<(gunzip -c …)) as it reads a file",
    async () => {
      const whole = await importTill("till-file");
      const tenant = await t.signup();
      await importMembers(
        t.ctx,
        file("pipe-members.csv", ["external_id,marketing_consent", "c-1,no", "c-2,no"]),
        {
          business: tenant.slug,
        },
      );
      const pipe = join(dir, "till-pipe.csv");
      execFileSync("mkfifo", [pipe]);
      const source = file("till-source.csv", TILL);
      // The shell writes into the pipe as the import reads it, once: the import must keep a copy.
      const writer = spawn("sh", ["-c", 'cat "$0" > "$1"', source, pipe]);
      const written = new Promise((done) => writer.on("exit", done));
      const report = await importPurchases(t.ctx, pipe, {
        business: tenant.slug,
        concurrency,
        limits: { readBytes: 64 },
      });
      await written;
      expect(report.purchases).toEqual(whole.report.purchases);
      expect(readFileSync(`${pipe}.rejects.csv`, "utf8")).toBe(whole.rejects);
      const big = spawn("sh", ["-c", 'cat "$0" > "$1"', source, pipe]);
      await expect(
        importPurchases(t.ctx, pipe, { business: tenant.slug, limits: { maxBytes: 100 } }),
      ).rejects.toThrow(
        "till-pipe.csv is more than 100 bytes; an import reads at most 100 (100 bytes) at once",
      );
      big.kill();
    },
  );

  it("lists the first refusals by line when there are more than a report lists; the rejects file has all", async () => {
    const tenant = await t.signup();
    // Newest first: the purchases run in the reverse order of their lines.
    const rows = Array.from(
      { length: 25 },
      (_, i) => `q-${i},nobody-${i},1.00,EUR,2026-01-${String(31 - i).padStart(2, "0")}`,
    );
    const path = file("many-refused.csv", [
      "external_id,member_external_id,amount,currency,occurred_at",
      ...rows,
    ]);
    const bars: number[] = [];
    const report = await importPurchases(t.ctx, path, {
      business: tenant.slug,
      concurrency,
      limits: { refusalsListed: 10 },
      progress: (_label, total) => {
        bars.push(total);
        return { tick: () => void bars.push(-1), finish: () => {} };
      },
    });
    expect(report.purchases).toMatchObject({ total: 25, imported: 0, skipped: 0, unlisted: 15 });
    expect(report.purchases?.refused.map((r) => r.line)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(report.purchases?.refused[0]).toEqual({
      line: 2,
      code: "member_not_found",
      message: "No member with external id nobody-0 in this business.",
      record: ["q-0", "nobody-0", "1.00", "EUR", "2026-01-31"],
    });
    expect(bars).toEqual([25, ...Array(25).fill(-1)]);
    const rejects = parse(readFileSync(`${path}.rejects.csv`), { columns: true }) as Record<string, string>[];
    expect(rejects.map((r) => Number(r.line))).toEqual(Array.from({ length: 25 }, (_, i) => i + 2));
    expect(rejects.at(-1)).toMatchObject({ external_id: "q-24", member_external_id: "nobody-24" });
  });

  it("reads the CDNOW log a few bytes at a time as it reads it whole", async () => {
    const log = [
      " 00004 0001 19970101  2   29.33",
      " 00004 0001 19970118  2   29.73\r",
      "",
      " 00004 0001 19970118  1   14.96",
      "not a line of the log\r",
      " 00018 0002 19970112  1   14.96",
      " 00018 0002 19970112  1   14.96",
      " 00021 0003 19970102  1   9999999999.99",
    ];
    const run = async (name: string, readBytes?: number) => {
      const tenant = await t.signup({ currency: "USD", timezone: "America/New_York" });
      const path = file(name, log);
      const report = await importCdnow(t.ctx, path, {
        business: tenant.slug,
        concurrency,
        ...(readBytes ? { limits: { readBytes } } : {}),
      });
      const ids = await t.database.db
        .selectFrom("purchases")
        .select(["external_id", "amount_minor"])
        .where("business_id", "=", tenant.businessId)
        .orderBy("external_id")
        .execute();
      return { report, ids, rejects: readFileSync(`${path}.rejects.csv`, "utf8") };
    };
    const whole = await run("cdnow-whole.txt");
    expect(whole.report.purchases).toMatchObject({ total: 7, imported: 5, skipped: 0 });
    // A refused line is reported with its text, read again from the file (its CR gone with its LF).
    expect(whole.report.purchases?.refused.map((r) => [r.line, r.code, r.record])).toEqual([
      [5, "cdnow_malformed", ["not a line of the log"]],
      [8, "validation_failed", [" 00021 0003 19970102  1   9999999999.99"]],
    ]);
    expect(whole.ids.map((p) => p.external_id)).toEqual([
      "cdnow-0001-19970101-1",
      "cdnow-0001-19970118-1",
      "cdnow-0001-19970118-2",
      "cdnow-0002-19970112-1",
      "cdnow-0002-19970112-2",
    ]);
    for (const readBytes of [1, 5]) {
      const chunked = await run(`cdnow-${readBytes}.txt`, readBytes);
      expect(chunked.report).toEqual({
        ...whole.report,
        rejectsFile: expect.stringMatching(/cdnow-\d\.txt/),
      });
      expect(chunked.ids).toEqual(whole.ids);
      expect(chunked.rejects).toBe(whole.rejects);
    }
  });
});

describe("the import command, when more rows are refused than a report lists", () => {
  it("counts every refused row, lists the first, and writes them all to the rejects file", async () => {
    // A migrated database of its own: the command, in its own process, is what is tested here.
    const database = await cliDatabase("import-cli");
    try {
      const { DATABASE_URL: _url, DATA_DIR: _dir, ...rest } = process.env;
      const env = { ...rest, LOG_LEVEL: "silent", DEMO: "false", WEB: "false", ...database.variables };
      const run = (args: string[]) => runNode([...CLI, ...args], env);
      const created = await run([
        ...["create-business", "--slug", "veel-fouten", "--name", "Veel fouten", "--currency", "EUR"],
        ...[
          "--timezone",
          "Europe/Amsterdam",
          "--owner-email",
          "eigenaar@example.test",
          "--owner-name",
          "Eigenaar",
        ],
      ]);
      expect(created.status).toBe(0);
      const count = REFUSALS_LISTED + 5;
      const rows = Array.from({ length: count }, (_, i) => `m-${i},Member ${i},maybe`);
      const path = file("all-refused.csv", ["external_id,name,marketing_consent", ...rows]);
      const result = await run(["import-members", path, "--business", "veel-fouten"]);
      expect(result.status).toBe(3);
      expect(result.stdout).toContain(
        `members:   0 imported, 0 updated, 0 skipped as already imported and unchanged, ${count} refused (of ${count})`,
      );
      expect(result.stdout).toContain('  line 2: validation_failed: marketing_consent "maybe"');
      expect(result.stdout).toContain(`  … and ${count - 50} more.`);
      const rejects = readFileSync(`${path}.rejects.csv`, "utf8").trim().split("\n");
      expect(rejects).toHaveLength(count + 1);
      expect(rejects.at(-1)).toMatch(new RegExp(`^${count + 1},validation_failed,.*,m-${count - 1},`));
    } finally {
      await database.cleanup();
    }
  }, 120_000);
});

describe("a file that names members by more than one column", () => {
  it("still records each member's purchases oldest first, so the first-purchase bonus goes to the first", async () => {
    const tenant = await t.signup();
    const rule = await tenant.call("POST", "/v1/rules", {
      name: "Welcome purchase",
      trigger: "purchase",
      conditions: { first_purchase: true },
      effect: { type: "fixed_points", points: 100 },
    });
    expect(rule.status).toBe(201);
    const members = Array.from({ length: 12 }, (_, i) => `f${i},f${i}@example.test,yes`);
    await importMembers(t.ctx, file("f-members.csv", ["external_id,email,marketing_consent", ...members]), {
      business: tenant.slug,
    });
    // The till names members by their id, the web shop by email; the shop's lines come first.
    const lines: string[] = [];
    for (let i = 0; i < 12; i++) {
      for (let day = 6; day >= 1; day--) {
        const ref = day % 2 === 1 ? `f${i},` : `,f${i}@example.test`;
        lines.push(`pf-${i}-${day},${ref},1.00,EUR,2026-02-0${day} 10:00`);
      }
    }
    const report = await importPurchases(
      t.ctx,
      file("f-purchases.csv", [
        "external_id,member_external_id,member_email,amount,currency,occurred_at",
        ...lines,
      ]),
      { business: tenant.slug, concurrency },
    );
    expect(report.purchases).toMatchObject({ imported: 72, refused: [] });
    const rows = await t.database.db
      .selectFrom("purchases")
      .select(["external_id", "points_earned"])
      .where("business_id", "=", tenant.businessId)
      .where("points_earned", ">", 1)
      .orderBy("external_id")
      .execute();
    expect(rows.map((r) => r.external_id)).toEqual(Array.from({ length: 12 }, (_, i) => `pf-${i}-1`).sort());
  });
});
