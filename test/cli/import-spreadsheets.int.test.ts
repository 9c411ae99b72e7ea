import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "csv-parse/sync";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ImportFileError, ImportUsageError, importMembers, importPurchases } from "../../src/cli/import.ts";
import { startTestApp, type Tenant, type TestApp } from "../helpers/api.ts";
import { engine } from "../helpers/db.ts";

/**
 * The files small Dutch and Polish businesses really have: "CSV" saved by Excel with semicolons,
 * a byte-order mark or a Windows code page, decimal commas, local phone numbers, and purchases
 * exported from a till one line item per row.
 */
const concurrency = engine === "postgres" ? 8 : 1;
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

let t: TestApp;
let dir: string;
beforeAll(async () => {
  t = await startTestApp({ now: "2026-03-02T09:00:00Z" });
  dir = mkdtempSync(join(tmpdir(), "regulars-spreadsheet-"));
});
afterAll(async () => {
  await t?.close();
  rmSync(dir, { recursive: true, force: true });
});

function file(name: string, lines: string[], before: Buffer = Buffer.alloc(0)): string {
  const path = join(dir, name);
  writeFileSync(path, Buffer.concat([before, Buffer.from(`${lines.join("\r\n")}\r\n`)]));
  return path;
}

function bytesFile(name: string, bytes: Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

const refusals = (rows: (string | number)[][]) =>
  rows.map(([line, code, message]) => ({ line, code, message, record: expect.any(Array) }));

async function memberNamed(tenant: Tenant, externalId: string) {
  const members = (await tenant.call("GET", "/v1/members?limit=200")).body.data as any[];
  return members.find((m) => m.external_id === externalId);
}

async function purchasesOf(businessId: string) {
  const rows = await t.database.db
    .selectFrom("purchases")
    .select(["external_id", "amount_minor", "items", "stamps_earned"])
    .where("business_id", "=", businessId)
    .orderBy("external_id")
    .execute();
  return Object.fromEntries(rows.map((r) => [r.external_id, r]));
}

describe("a Dutch Excel file: semicolons, a byte-order mark, local numbers, decimal commas", () => {
  let tenant: Tenant;
  let members: string;

  it("imports members with local Dutch numbers as E.164 and refuses a number it cannot place", async () => {
    tenant = await t.signup(); // Europe/Amsterdam, EUR
    members = file(
      "leden.csv",
      [
        "external_id;name;email;phone;marketing_consent",
        "nl-1;Jürgen Müller;jurgen@example.test;06 12345678;ja",
        "nl-2;Anna de Vries;anna@example.test;612345679;nee",
        "nl-3;Kees Jansen;kees@example.test;+31 (0)6 12345670;ja",
        "nl-4;Short Number;short@example.test;06 1234567;ja",
        // What Excel leaves after the last row when cells below were ever touched.
        ";;;;",
      ],
      BOM,
    );
    const report = await importMembers(t.ctx, members, { business: tenant.slug, concurrency });
    expect(report.format).toEqual({ separator: ";", encoding: "utf-8", bom: true });
    expect(report.phones).toEqual({ country: "NL", from: "time zone" });
    expect(report.members).toEqual({
      total: 4,
      imported: 3,
      skipped: 0,
      refused: refusals([
        [
          5,
          "invalid_phone",
          'phone "06 1234567" is not a Dutch number: after the leading 0 it has 8 digits, where a Dutch number has 9 (06 12345678). A number from abroad needs + and its country code.',
        ],
      ]),
    });
    const phones = Object.fromEntries(
      await Promise.all(
        ["nl-1", "nl-2", "nl-3"].map(async (id) => {
          const m = await memberNamed(tenant, id);
          return [m.name, m.phone];
        }),
      ),
    );
    expect(phones).toEqual({
      "Jürgen Müller": "+31612345678",
      "Anna de Vries": "+31612345679",
      "Kees Jansen": "+31612345670",
    });
    expect((await memberNamed(tenant, "nl-1")).marketing_consent).toBe(true);
    expect((await memberNamed(tenant, "nl-2")).marketing_consent).toBe(false);
    const lookup = await tenant.call("GET", "/v1/members/lookup?phone=%2B31612345678");
    expect(lookup.body.external_id).toBe("nl-1");
  });

  it("writes the rejects as the file came: semicolons and a byte-order mark, for Excel", () => {
    const bytes = readFileSync(`${members}.rejects.csv`);
    expect(bytes.subarray(0, 3)).toEqual(BOM);
    const rejects = parse(bytes, { bom: true, delimiter: ";", columns: true }) as Record<string, string>[];
    expect(rejects).toEqual([
      {
        line: "5",
        error_code: "invalid_phone",
        error_message: expect.stringContaining("is not a Dutch number"),
        external_id: "nl-4",
        name: "Short Number",
        email: "short@example.test",
        phone: "06 1234567",
        marketing_consent: "ja",
      },
    ]);
  });

  it("recognises a member by a local number on a second run, written either way", async () => {
    const again = file("leden-2.csv", ["name;phone;marketing_consent", "Jürgen Müller;+31 6 1234 5678;ja"]);
    const report = await importMembers(t.ctx, again, { business: tenant.slug, concurrency });
    expect(report.members).toEqual({ total: 1, imported: 0, skipped: 1, refused: [] });
  });

  it("reads decimal commas and refuses thousands separators and three decimals", async () => {
    const purchases = file("aankopen.csv", [
      "external_id;member_external_id;amount;currency;occurred_at",
      "s-1;nl-1;12,50;EUR;2026-02-01 10:00",
      "s-2;nl-2;3.40;EUR;2026-02-01 11:00",
      "s-3;nl-1;1.234,56;EUR;2026-02-01",
      "s-4;nl-1;1,234;EUR;2026-02-01",
      "s-5;nl-2;7;EUR;2026-02-01",
    ]);
    const report = await importPurchases(t.ctx, purchases, { business: tenant.slug, concurrency });
    expect(report.purchases).toEqual({
      total: 5,
      imported: 3,
      skipped: 0,
      refused: refusals([
        [4, "invalid_amount", 'amount "1.234,56" has a thousands separator: write it without one (1234,56).'],
        [
          5,
          "invalid_amount",
          'amount "1,234" is ambiguous: is the "," a thousands separator or a decimal mark? EUR has 2 decimals: write 1234 without a thousands separator, or at most 2 decimals.',
        ],
      ]),
    });
    const stored = await purchasesOf(tenant.businessId);
    expect([stored["s-1"]?.amount_minor, stored["s-2"]?.amount_minor, stored["s-5"]?.amount_minor]).toEqual([
      1250, 340, 700,
    ]);
    expect(Object.keys(stored)).toEqual(["s-1", "s-2", "s-5"]);
  });
});

describe("Excel's sep= line", () => {
  it("names the separator, and the file's line numbers stay as they are", async () => {
    const tenant = await t.signup();
    const path = file("sep.csv", [
      "sep=;",
      "external_id;name;marketing_consent",
      "s-1;de Vries, Anna;ja",
      "s-2;Maybe;misschien",
    ]);
    const report = await importMembers(t.ctx, path, { business: tenant.slug });
    expect(report.format?.separator).toBe(";");
    expect(report.members).toEqual({
      total: 2,
      imported: 1,
      skipped: 0,
      refused: refusals([
        [
          4,
          "validation_failed",
          'marketing_consent "misschien": must be true/false, yes/no, 1/0, ja/nee or tak/nie.',
        ],
      ]),
    });
    expect((await memberNamed(tenant, "s-1")).name).toBe("de Vries, Anna");
  });
});

describe("a file in a Windows code page", () => {
  // "Łukasz" in Windows-1250 (Polish Excel) and "Jürgen" in Windows-1252 (Dutch Excel).
  const polish = Buffer.concat([
    Buffer.from("external_id;name;marketing_consent\r\npl-1;"),
    Buffer.from([0xa3, 0x75, 0x6b, 0x61, 0x73, 0x7a]),
    Buffer.from(" Nowak;tak\r\n"),
  ]);
  const dutch = Buffer.concat([
    Buffer.from("external_id;name;marketing_consent\r\nnl-9;"),
    Buffer.from([0x4a, 0xfc, 0x72, 0x67, 0x65, 0x6e]),
    Buffer.from(";nee\r\n"),
  ]);

  it("is refused whole, showing the first name read both ways, until the encoding is named", async () => {
    const tenant = await t.signup({ timezone: "Europe/Warsaw", currency: "PLN", locale: "pl" });
    const path = bytesFile("klienci.csv", polish);
    const error = await importMembers(t.ctx, path, { business: tenant.slug }).catch((e) => e);
    expect(error).toBeInstanceOf(ImportFileError);
    expect(error.message).toContain(
      'line 2 is not UTF-8: Excel saves plain "CSV" in the computer\'s code page. Say which: with --encoding windows-1250 (Central European: Polish, Czech, Hungarian…) it reads "Łukasz Nowak", with --encoding windows-1252 (Western European: Dutch, German, French…) it reads "£ukasz Nowak".',
    );
    expect(await memberNamed(tenant, "pl-1")).toBeUndefined();

    const report = await importMembers(t.ctx, path, { business: tenant.slug, encoding: "windows-1250" });
    expect(report).toMatchObject({
      members: { imported: 1, refused: [] },
      format: { separator: ";", encoding: "windows-1250", bom: false },
    });
    expect(await memberNamed(tenant, "pl-1")).toMatchObject({
      name: "Łukasz Nowak",
      marketing_consent: true,
    });

    const western = await importMembers(t.ctx, bytesFile("leden-1252.csv", dutch), {
      business: tenant.slug,
      encoding: "windows-1252",
    });
    expect(western.members).toMatchObject({ imported: 1, refused: [] });
    expect((await memberNamed(tenant, "nl-9")).name).toBe("Jürgen");
  });

  it("refuses an encoding it does not know as a usage error", async () => {
    const tenant = await t.signup();
    const path = bytesFile("unknown-encoding.csv", dutch);
    await expect(
      importMembers(t.ctx, path, { business: tenant.slug, encoding: "klingon" }),
    ).rejects.toBeInstanceOf(ImportUsageError);
  });
});

describe("local phone numbers in other countries", () => {
  it("reads Polish numbers for a Warsaw business, in a tab-separated file", async () => {
    const tenant = await t.signup({ timezone: "Europe/Warsaw", currency: "PLN", locale: "pl" });
    const path = file("klienci.tsv", [
      "external_id\tname\tphone\tmarketing_consent",
      "pl-1\tAnna\t512 345 678\ttak",
      "pl-2\tJan\t0512 345 678\tnie",
    ]);
    const report = await importMembers(t.ctx, path, { business: tenant.slug, concurrency });
    expect(report.format?.separator).toBe("\t");
    expect(report.members).toEqual({
      total: 2,
      imported: 1,
      skipped: 0,
      refused: refusals([
        [
          3,
          "invalid_phone",
          'phone "0512 345 678" is not a Polish number: it has 10 digits, where a Polish number has 9 (512 345 678). A number from abroad needs + and its country code.',
        ],
      ]),
    });
    expect((await memberNamed(tenant, "pl-1")).phone).toBe("+48512345678");
  });

  it("refuses local numbers where the business's time zone names no country, unless --country does", async () => {
    const tenant = await t.signup({ timezone: "America/New_York", currency: "USD", locale: "en" });
    const path = file("abroad.csv", ["external_id,phone,marketing_consent", "x-1,06 12345678,yes"]);
    const without = await importMembers(t.ctx, path, { business: tenant.slug });
    expect(without.phones).toEqual({ country: null, from: "none" });
    expect(without.members?.refused).toEqual(
      refusals([
        [
          2,
          "invalid_phone",
          `phone "06 12345678" has no country code, and the business's country is not known: write it with + and the country code (+31 6 12345678), or name the country with --country (NL, BE, DE, PL).`,
        ],
      ]),
    );
    const withCountry = await importMembers(t.ctx, path, { business: tenant.slug, country: "nl" });
    expect(withCountry.phones).toEqual({ country: "NL", from: "option" });
    expect(withCountry.members).toMatchObject({ imported: 1, refused: [] });
    expect((await memberNamed(tenant, "x-1")).phone).toBe("+31612345678");
    await expect(importMembers(t.ctx, path, { business: tenant.slug, country: "US" })).rejects.toThrow(
      '--country "US": local phone numbers can be read for NL, BE, DE, PL.',
    );
  });
});

describe("purchases with line items", () => {
  let tenant: Tenant;
  let card: { id: string };
  const HEADER =
    "external_id;member_external_id;amount;currency;occurred_at;item_sku;item_name;item_category;item_quantity;item_unit_price";
  const LINES = [
    HEADER,
    "li-1;c-1;;EUR;2026-02-01 08:15;latte;Latte;coffee;2;3,50", // 2: with line 4, 9,50
    "li-2;c-1;4,20;EUR;2026-02-01 09:00;;;;;", // 3: no items: a plain purchase
    "li-1;;;;;croissant;Croissant;pastry;;2,50", // 4: the purchase's columns left empty, quantity 1
    "li-3;c-1;9,00;EUR;2026-02-02;latte;Latte;coffee;2;3,50", // 5
    "li-3;c-1;9,00;EUR;2026-02-02;cake;Cake;pastry;1;1,50", // 6: the lines add up to 8,50
    "li-4;c-1;;EUR;2026-02-02;latte;;coffee;x;3,50", // 7: no quantity
    "li-4;c-1;;EUR;2026-02-02;tea;;tea;1;2,00", // 8
    "li-5;c-1;;EUR;2026-02-02;latte;;coffee;1;3,50", // 9
    "li-5;c-1;;EUR;2026-02-03;tea;;tea;1;2,00", // 10: another day
    "li-6;c-1;;EUR;2026-02-03;latte;;coffee;1;3,50", // 11
    "li-6;c-1;;EUR;2026-02-03;;;;;", // 12: no item
    "li-7;c-1;7,00;EUR;2026-02-04;latte;;coffee;2;3,50", // 13: one line, its amount right
    "li-8;c-1;;EUR;2026-02-04;;Nameless;coffee;1;3,50", // 14: no sku
  ];
  const REFUSED = [
    ...[5, 6].map((line) => [
      line,
      "amount_mismatch",
      `Purchase li-3 (lines 5 and 6): amount "9,00" is not what the 2 lines add up to (8,50 EUR). Give each line at the price paid, after any discount, or leave amount empty to take the lines' total.`,
    ]),
    ...[7, 8].map((line) => [
      line,
      "validation_failed",
      'Purchase li-4 (lines 7 and 8): line 7: item_quantity "x": must be a whole number from 1 to 10000 (empty: 1).',
    ]),
    ...[9, 10].map((line) => [
      line,
      "purchase_lines_disagree",
      'Purchase li-5 (lines 9 and 10): its lines disagree on occurred_at: "2026-02-02" on line 9, "2026-02-03" on line 10. The lines of one purchase share its external_id and have the same occurred_at (or leave it empty).',
    ]),
    ...[11, 12].map((line) => [
      line,
      "item_missing",
      "Purchase li-6 (lines 11 and 12): line 12 has no item (its item columns are empty): each line of a purchase with several lines is one item.",
    ]),
    [
      14,
      "validation_failed",
      "item_sku is empty: every line needs the item's sku (its product code in the till).",
    ],
  ];

  it("imports each purchase whole, with its lines, so item stamp cards count them", async () => {
    tenant = await t.signup();
    card = (
      await tenant.call("POST", "/v1/stamp-cards", {
        name: "Coffee card",
        stamps_required: 10,
        earn_on: "item",
        item_match: { categories: ["coffee"] },
      })
    ).body;
    await importMembers(t.ctx, file("c-members.csv", ["external_id;marketing_consent", "c-1;ja"]), {
      business: tenant.slug,
    });
    const path = file("bonnen.csv", LINES);
    const report = await importPurchases(t.ctx, path, { business: tenant.slug, concurrency });
    expect(report.purchases).toEqual({ total: 13, imported: 4, skipped: 0, refused: refusals(REFUSED) });

    const stored = await purchasesOf(tenant.businessId);
    expect(Object.keys(stored)).toEqual(["li-1", "li-2", "li-7"]);
    expect(stored["li-1"]).toMatchObject({
      amount_minor: 950,
      items: [
        { sku: "latte", name: "Latte", category: "coffee", quantity: 2, unit_price_minor: 350 },
        { sku: "croissant", name: "Croissant", category: "pastry", quantity: 1, unit_price_minor: 250 },
      ],
      stamps_earned: 2,
    });
    expect(stored["li-2"]).toMatchObject({ amount_minor: 420, items: [], stamps_earned: 0 });
    expect(stored["li-7"]).toMatchObject({ amount_minor: 700, stamps_earned: 2 });
    const member = await memberNamed(tenant, "c-1");
    const wallet = (await tenant.call("GET", `/v1/members/${member.id}/card`)).body;
    expect(wallet.stamp_cards.find((c: any) => c.stamp_card_id === card.id)?.stamps).toBe(4);
    expect(wallet.points.available).toBe(9 + 4 + 7);
  });

  it("skips every purchase on a second run, and refuses changed lines of one imported before", async () => {
    const again = await importPurchases(t.ctx, file("bonnen.csv", LINES), {
      business: tenant.slug,
      concurrency,
    });
    expect(again.purchases).toEqual({ total: 13, imported: 0, skipped: 4, refused: refusals(REFUSED) });

    // Without an amount column: the lines price the purchase. li-1 gains a line it did not have.
    const changed = file("bonnen-2.csv", [
      "external_id,member_external_id,currency,occurred_at,item_sku,item_category,item_unit_price_minor",
      "li-1,c-1,EUR,2026-02-01 08:15,latte,coffee,350",
      "li-1,c-1,EUR,2026-02-01 08:15,latte,coffee,350",
      "li-1,c-1,EUR,2026-02-01 08:15,croissant,pastry,250",
      "li-9,c-1,EUR,2026-02-05,latte,coffee,350",
      "li-1,c-1,EUR,2026-02-01 08:15,cookie,pastry,100",
    ]);
    const report = await importPurchases(t.ctx, changed, { business: tenant.slug, concurrency });
    const reused =
      "Purchase li-1 (lines 2, 3, 4 and 6): external_id li-1 was imported or recorded before with different values; a new purchase needs a new external_id.";
    expect(report.purchases).toEqual({
      total: 5,
      imported: 1,
      skipped: 0,
      refused: refusals([2, 3, 4, 6].map((line) => [line, "external_id_reused", reused])),
    });
    expect((await purchasesOf(tenant.businessId))["li-9"]).toMatchObject({
      amount_minor: 350,
      stamps_earned: 1,
    });
  });
});

describe("the README's example files", () => {
  it("import as the README says, with nothing refused", async () => {
    const readme = readFileSync(join(import.meta.dirname, "../../README.md"), "utf8");
    const examples = [...readme.matchAll(/```csv\n([\s\S]*?)```/g)].map((m) => m[1] ?? "");
    expect(examples).toHaveLength(3);
    const [members = "", purchases = "", withItems = ""] = examples;
    const tenant = await t.signup();
    await tenant.call("POST", "/v1/stamp-cards", {
      name: "Coffee card",
      stamps_required: 10,
      earn_on: "item",
      item_match: { categories: ["coffee"] },
    });
    const imported = async (name: string, text: string, importer: typeof importMembers) => {
      const report = await importer(t.ctx, bytesFile(name, Buffer.from(text)), { business: tenant.slug });
      return report.members ?? report.purchases;
    };
    expect(await imported("readme-members.csv", members, importMembers)).toMatchObject({
      imported: 2,
      refused: [],
    });
    expect(await imported("readme-purchases.csv", purchases, importPurchases)).toMatchObject({
      imported: 2,
      refused: [],
    });
    expect(await imported("readme-items.csv", withItems, importPurchases)).toMatchObject({
      imported: 3,
      refused: [],
    });
    const stored = await purchasesOf(tenant.businessId);
    expect(stored["till-1-0003"]).toMatchObject({ amount_minor: 950, stamps_earned: 2 });
    expect(stored["till-1-0004"]).toMatchObject({ amount_minor: 420, items: [] });
    expect((await memberNamed(tenant, "k-001")).phone).toBe("+31612345678");
  });
});

describe("what else a real till or spreadsheet export does", () => {
  it("imports a file whose rows end with Excel's empty column, and refuses a row that fills it", async () => {
    const tenant = await t.signup();
    const path = file("leden-trailing.csv", [
      "external_id;name;email;marketing_consent;",
      "k-1;Anna;anna@example.test;ja;",
      "k-2;Bert;bert@example.test;nee;",
      "k-3;Cor;cor@example.test;nee;extra",
    ]);
    const report = await importMembers(t.ctx, path, { business: tenant.slug, concurrency });
    expect(report.members).toMatchObject({
      imported: 2,
      refused: refusals([
        [4, "csv_unnamed_column", 'Field 5 holds "extra", but its column has no name in the header.'],
      ]),
    });
  });

  it("reads Excel for Mac's line endings (CR alone)", async () => {
    const tenant = await t.signup();
    const path = bytesFile(
      "leden-mac.csv",
      Buffer.from(["external_id;name;marketing_consent", "k-1;Anna;ja", "k-2;Bert;nee", ""].join("\r")),
    );
    const report = await importMembers(t.ctx, path, { business: tenant.slug, concurrency });
    expect(report.members).toMatchObject({ imported: 2, refused: [] });
  });

  it("skips the purchases it imported before, even once their stored answers were let go", async () => {
    const tenant = await t.signup();
    const path = file("kassa.csv", [
      "external_id;amount;currency;occurred_at",
      "till-1;12,50;EUR;2026-02-01 08:15",
      "till-2;3,40;EUR;2026-02-01 08:20",
    ]);
    const first = await importPurchases(t.ctx, path, { business: tenant.slug, concurrency });
    expect(first.purchases).toMatchObject({ imported: 2, skipped: 0, refused: [] });
    // The answers' retention (ANSWER_RETENTION_DAYS) let them go: a repeat is a 410 to the API.
    await t.database.db
      .updateTable("idempotency_keys")
      .set({ response: null })
      .where("business_id", "=", tenant.businessId)
      .execute();
    const again = await importPurchases(t.ctx, path, { business: tenant.slug, concurrency });
    expect(again.purchases).toMatchObject({ imported: 0, skipped: 2, refused: [] });
    expect(again.rejectsFile).toBeNull();
  });

  it("writes the refused rows to the temporary directory when the file's folder is read-only", async () => {
    const tenant = await t.signup();
    const folder = mkdtempSync(join(dir, "readonly-"));
    const path = join(folder, "leden-ro.csv");
    writeFileSync(
      path,
      ["external_id;name;marketing_consent", "k-1;Anna;ja", "k-2;Bert;misschien", ""].join("\n"),
    );
    // A folder nobody may write to, as a read-only mount or share is (root ignores permissions,
    // so a directory where the rejects file's name is taken by a directory stands in for one).
    mkdirSync(`${path}.rejects.csv`);
    const report = await importMembers(t.ctx, path, { business: tenant.slug, concurrency });
    expect(report.members).toMatchObject({ imported: 1, refused: [{ line: 3 }] });
    expect(report.rejectsFile).toBe(join(tmpdir(), "leden-ro.csv.rejects.csv"));
    expect(readFileSync(report.rejectsFile as string, "utf8")).toContain("k-2");
    rmSync(report.rejectsFile as string);
  });
});

describe("every kind of file, read a byte at a time", () => {
  const members = [
    "external_id;name;phone;marketing_consent",
    "k-1;Łukasz Żółć;06 12345678;ja",
    'k-2;"de Vries; Anna";06 1234567;nee',
    "k-3;Jürgen;;misschien",
  ];
  const crlf = `${members.join("\r\n")}\r\n`;
  const FILES: [string, Buffer, { encoding?: string }][] = [
    ["bom.csv", Buffer.concat([BOM, Buffer.from(crlf)]), {}],
    // Saved twice over by a tool that adds one whatever is there: both go.
    ["two-boms.csv", Buffer.concat([BOM, BOM, Buffer.from(crlf)]), {}],
    [
      "utf16.csv",
      Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(crlf.replace(/;/g, "\t"), "utf16le")]),
      {},
    ],
    ["mac.csv", Buffer.from(crlf.replace(/\r\n/g, "\r")), {}],
    [
      "sep.csv",
      Buffer.from(`sep=;\r\n${crlf.replace("external_id;name", "external_id,x;name").replace(",x;", ";")}`),
      {},
    ],
    [
      "cp1250.csv",
      Buffer.concat([
        Buffer.from("external_id;name;marketing_consent\r\nk-1;"),
        Buffer.from([0xa3]),
        Buffer.from("ukasz;tak\r\n"),
      ]),
      { encoding: "windows-1250" },
    ],
  ];

  it("imports what it imports reading the file a megabyte at a time, rejects file and all", async () => {
    for (const [name, bytes, options] of FILES) {
      const results = [];
      for (const readBytes of [undefined, 1]) {
        const tenant = await t.signup();
        const path = bytesFile(`${readBytes ?? "whole"}-${name}`, bytes);
        const report = await importMembers(t.ctx, path, {
          business: tenant.slug,
          concurrency,
          ...options,
          ...(readBytes ? { limits: { readBytes } } : {}),
        });
        const names = await Promise.all(
          ["k-1", "k-2", "k-3"].map(async (id) => (await memberNamed(tenant, id))?.name),
        );
        results.push({
          ...report,
          rejectsFile: report.rejectsFile && readFileSync(report.rejectsFile, "utf8"),
          names,
        });
      }
      expect(results[1], name).toEqual(results[0]);
      expect(results[0]?.members?.imported, name).toBeGreaterThan(0);
    }
  });

  it("refuses a file in a code page, or named in one while it is UTF-8, with the same words", async () => {
    const tenant = await t.signup();
    const polish = Buffer.concat([
      Buffer.from("external_id;name;marketing_consent\r\npl-0;Anna;tak\r\npl-1;"),
      Buffer.from([0xa3, 0x75, 0x6b, 0x61, 0x73, 0x7a]),
      Buffer.from(" Nowak;tak\r\n"),
    ]);
    const refusal = async (bytes: Buffer, encoding?: string) => {
      const messages = [];
      for (const readBytes of [undefined, 1]) {
        const error = await importMembers(t.ctx, bytesFile("refused.csv", bytes), {
          business: tenant.slug,
          ...(encoding ? { encoding } : {}),
          ...(readBytes ? { limits: { readBytes } } : {}),
        }).catch((e) => e);
        expect(error).toBeInstanceOf(ImportFileError);
        messages.push(error.message);
      }
      expect(messages[1]).toBe(messages[0]);
      return messages[0];
    };
    expect(await refusal(polish)).toContain('line 3 is not UTF-8: Excel saves plain "CSV"');
    expect(await refusal(Buffer.from(crlf), "windows-1250")).toContain(
      'the file is UTF-8 already: reading it as windows-1250 would change its letters ("Łukasz Żółć" would read as',
    );
    expect(await refusal(Buffer.concat([BOM, Buffer.from("name\n"), Buffer.from([0xff])]))).toContain(
      "the file starts with the byte-order mark of UTF-8 but is not valid UTF-8.",
    );
    expect(await memberNamed(tenant, "pl-0")).toBeUndefined();
  });

  it("reads items purchases newest first, a few bytes at a time, as it reads them whole", async () => {
    const results = [];
    for (const readBytes of [undefined, 3]) {
      const tenant = await t.signup();
      await importMembers(
        t.ctx,
        file(`c-members-${readBytes}.csv`, ["external_id;marketing_consent", "c-1;ja"]),
        {
          business: tenant.slug,
        },
      );
      const newestFirst = file(`bonnen-${readBytes ?? "whole"}.csv`, [
        "external_id;member_external_id;amount;currency;occurred_at;item_sku;item_name;item_category;item_quantity;item_unit_price",
        "li-3;c-1;;EUR;2026-02-03;tea;;tea;1;2,00",
        "li-2;c-1;;EUR;2026-02-02;latte;Latte;coffee;2;3,50",
        "li-1;;;;;croissant;Croissant;pastry;;2,50",
        "li-2;;;;;cake;Cake;pastry;1;1,50",
        "li-1;c-1;;EUR;2026-02-01 08:15;latte;Latte;coffee;1;3,50",
        "li-4;c-1;9,00;EUR;2026-02-04;latte;;coffee;1;3,50",
      ]);
      const report = await importPurchases(t.ctx, newestFirst, {
        business: tenant.slug,
        concurrency,
        ...(readBytes ? { limits: { readBytes } } : {}),
      });
      const stored = await purchasesOf(tenant.businessId);
      results.push({
        purchases: report.purchases,
        rejects: readFileSync(report.rejectsFile ?? "", "utf8"),
        stored: Object.values(stored).map((p) => [
          p.external_id,
          p.amount_minor,
          (p.items as unknown[]).length,
        ]),
      });
    }
    expect(results[0]?.stored).toEqual([
      ["li-1", 600, 2],
      ["li-2", 850, 2],
      ["li-3", 200, 1],
    ]);
    expect(results[0]?.purchases?.refused.map((r) => [r.line, r.code])).toEqual([[7, "amount_mismatch"]]);
    expect(results[1]).toEqual(results[0]);
  });
});

describe("a line refused while the file is read", () => {
  const HEADER =
    "external_id,member_external_id,amount,currency,occurred_at,item_sku,item_name,item_quantity,item_unit_price";

  it("refuses its purchase whole; the corrected rejects file imports the purchase whole", async () => {
    const tenant = await t.signup();
    await importMembers(t.ctx, file("k.csv", ["external_id,marketing_consent", "k1,yes"]), {
      business: tenant.slug,
    });
    // A decimal comma unquoted in a comma-separated file: the cake's line has a field too many.
    const path = file("short.csv", [
      HEADER,
      "s2,k1,,EUR,2026-02-01 11:00,latte,Latte,1,3.50",
      "s2,,,,,cake,Cake,1,20,00",
      "s2,,,,,tea,Tea,1,2.00",
      "s3,k1,,EUR,2026-02-01 12:00,tea,Tea,1,2.00",
    ]);
    const report = await importPurchases(t.ctx, path, { business: tenant.slug });
    expect(report.purchases?.refused.map((r) => [r.line, r.code])).toEqual([
      [2, "purchase_line_refused"],
      [3, "csv_field_count"],
      [4, "purchase_line_refused"],
    ]);
    expect(report.purchases?.refused[0]?.message).toBe(
      "Purchase s2 (lines 2 and 4): line 3 of this purchase was refused (csv_field_count), so the purchase is not recorded without it: correct that line and import all of the purchase's lines again (the rejects file holds them together).",
    );
    expect(Object.keys(await purchasesOf(tenant.businessId))).toEqual(["s3"]);
    // The rejects file holds all three lines; with the comma quoted (and the extra_1 cell emptied,
    // as a spreadsheet saves it) it imports s2 whole.
    const rejects = readFileSync(report.rejectsFile as string, "utf8").replace(",20,00", ',"20,00",');
    writeFileSync(report.rejectsFile as string, rejects);
    const again = await importPurchases(t.ctx, report.rejectsFile as string, { business: tenant.slug });
    expect(again.purchases).toMatchObject({ imported: 3, refused: [] });
    expect((await purchasesOf(tenant.businessId)).s2?.amount_minor).toBe(2_550);
  });

  it("a rejects file imported again uncorrected refuses a row that had a field too many", async () => {
    const tenant = await t.signup();
    const path = file("extra.csv", [
      "external_id,amount,currency,occurred_at",
      "z1,12,50,EUR,2026-02-02 10:00",
    ]);
    const first = await importPurchases(t.ctx, path, { business: tenant.slug });
    expect(first.purchases?.refused.map((r) => r.code)).toEqual(["csv_field_count"]);
    const again = await importPurchases(t.ctx, first.rejectsFile as string, { business: tenant.slug });
    expect(again.purchases?.refused.map((r) => [r.code, r.message])).toEqual([
      [
        "csv_field_count",
        'The row has a field past the original header (extra_1: "2026-02-02 10:00"): merge it into the right column, or remove it.',
      ],
    ]);
    expect(await purchasesOf(tenant.businessId)).toEqual({});
  });

  it("refuses a quote that closes lines later and holds the rows in between, so none is lost unreported", async () => {
    const tenant = await t.signup();
    const path = file("swallowed.csv", [
      "external_id,name,marketing_consent",
      'n1,"Anna,yes',
      "n2,Bob,yes",
      'n3,Cee",yes',
      "n4,Dee,yes",
    ]);
    const report = await importMembers(t.ctx, path, { business: tenant.slug });
    expect(report.members?.imported).toBe(1);
    expect(report.members?.refused.map((r) => [r.line, r.code])).toEqual([[2, "csv_line_break"]]);
  });

  it("names at most ten lines of a refused purchase of many, and how many", async () => {
    const tenant = await t.signup();
    const lines = Array.from(
      { length: 12 },
      (_, i) => `big,,,${i === 0 ? "USD" : ""},${i === 0 ? "2026-02-03 10:00" : ""},sku${i},Item,1,1.00`,
    );
    const report = await importPurchases(t.ctx, file("big.csv", [HEADER, ...lines]), {
      business: tenant.slug,
    });
    expect(report.purchases?.refused).toHaveLength(12);
    expect(report.purchases?.refused[0]?.message).toMatch(
      /^Purchase big \(lines 2, 3, 4, 5, 6, 7, 8, 9, 10, … 13: 12 lines\): /,
    );
  });
});

describe("one member on two rows of a file", () => {
  it("refuses the second row when it says something else, and skips it when it says the same", async () => {
    const tenant = await t.signup();
    const path = file("twice.csv", [
      "external_id,name,marketing_consent",
      "k5,Anna,yes",
      "k5,Anne,no",
      "k6,Bea,yes",
      "k6,Bea,yes",
    ]);
    const report = await importMembers(t.ctx, path, { business: tenant.slug });
    expect(report.members).toMatchObject({ imported: 2, skipped: 1 });
    expect(report.members?.refused.map((r) => [r.line, r.code, r.message])).toEqual([
      [
        3,
        "member_row_repeated",
        "An earlier row of this file named the member with external_id k5, with another name, marketing_consent: one member, one row. Merge the two rows into one, then import the file again.",
      ],
    ]);
    // Imported again as it is, the file still says two things of k5: refused again, not skipped,
    // and the member keeps what the first row said.
    const again = await importMembers(t.ctx, path, { business: tenant.slug });
    expect(again.members).toMatchObject({ imported: 0, skipped: 3 });
    expect(again.members?.updated).toBeUndefined();
    expect(again.members?.refused.map((r) => [r.line, r.code])).toEqual([[3, "member_row_repeated"]]);
    const members = ((await tenant.call("GET", "/v1/members?limit=200")).body.data as any[]).filter(
      (m) => m.external_id === "k5",
    );
    expect(members.map((m) => [m.name, m.marketing_consent])).toEqual([["Anna", true]]);
  });
});

describe("one external_id on two rows, the earlier purchase further down", () => {
  it("names the line that was recorded first, not an earlier import", async () => {
    const tenant = await t.signup();
    const path = file("order.csv", [
      "external_id,amount,currency,occurred_at",
      "u1,5.00,EUR,2026-02-02 10:00",
      "u1,6.00,EUR,2026-02-01 10:00",
    ]);
    const report = await importPurchases(t.ctx, path, { business: tenant.slug });
    expect(report.purchases?.refused.map((r) => [r.line, r.code, r.message])).toEqual([
      [
        2,
        "external_id_reused",
        "Row 2 has external_id u1, as line 3 has with different values; line 3 was recorded first, being the earlier purchase.",
      ],
    ]);
  });
});
