import { describe, expect, it } from "vitest";
import { splitCsv } from "../../src/cli/import.ts";
import {
  decodeText,
  describeFormat,
  detectSeparator,
  FileFormatError,
  formatMinor,
  toMinorUnits,
} from "../../src/cli/spreadsheet.ts";
import { AppError } from "../../src/shared/errors.ts";

/** What Excel in the Netherlands and Poland saves as "CSV": its text, separator and amounts. */

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
// "Łukasz" in Windows-1250 (Ł is 0xA3) and "Jürgen" in Windows-1252 (ü is 0xFC).
const LUKASZ_1250 = Buffer.from([0xa3, 0x75, 0x6b, 0x61, 0x73, 0x7a]);
const JURGEN_1252 = Buffer.from([0x4a, 0xfc, 0x72, 0x67, 0x65, 0x6e]);

const refusal = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected a refusal");
};

describe("decodeText", () => {
  it("reads UTF-8, and drops the byte-order mark of Excel's CSV UTF-8", () => {
    expect(decodeText(Buffer.from("naam;email\nJürgen;j@x\n"))).toEqual({
      text: "naam;email\nJürgen;j@x\n",
      encoding: "utf-8",
      bom: false,
    });
    expect(decodeText(Buffer.concat([BOM, Buffer.from("name;email\nŁukasz;l@x\n")]))).toEqual({
      text: "name;email\nŁukasz;l@x\n",
      encoding: "utf-8",
      bom: true,
    });
  });

  it("reads UTF-16 with its byte-order mark (Excel's Unicode text)", () => {
    const bytes = Buffer.concat([
      Buffer.from([0xff, 0xfe]),
      Buffer.from("name\tphone\nŁukasz\t1\n", "utf16le"),
    ]);
    expect(decodeText(bytes)).toEqual({ text: "name\tphone\nŁukasz\t1\n", encoding: "utf-16le", bom: true });
  });

  it("refuses a file in a Windows code page, showing the first name read both ways", () => {
    const bytes = Buffer.concat([
      Buffer.from("external_id;name\nm-1;Anna\nm-2;"),
      LUKASZ_1250,
      Buffer.from(" Nowak;x\n"),
    ]);
    const error = refusal(() => decodeText(bytes));
    expect(error).toBeInstanceOf(FileFormatError);
    expect(error.message).toBe(
      'line 3 is not UTF-8: Excel saves plain "CSV" in the computer\'s code page. Say which: with --encoding windows-1250 (Central European: Polish, Czech, Hungarian…) it reads "Łukasz Nowak", with --encoding windows-1252 (Western European: Dutch, German, French…) it reads "£ukasz Nowak". Choose the one that shows the names right, or save the file as "CSV UTF-8".',
    );
  });

  it("offers Mac Roman for Excel for Mac's CSV (lines ended by CR alone), and counts its lines", () => {
    // "Jürgen" in Mac Roman: ü is 0x9F.
    const bytes = Buffer.concat([
      Buffer.from("external_id,name\rm-1,Anna\rm-2,J"),
      Buffer.from([0x9f]),
      Buffer.from("rgen\r"),
    ]);
    const error = refusal(() => decodeText(bytes));
    expect(error.message).toMatch(/^line 3 is not UTF-8: /);
    expect(error.message).toContain('with --encoding macintosh (Excel for Mac) it reads "Jürgen"');
    expect(decodeText(bytes, "macintosh").text).toBe("external_id,name\rm-1,Anna\rm-2,Jürgen\r");
  });

  it("reads the code page it is told", () => {
    const polish = Buffer.concat([Buffer.from("name\n"), LUKASZ_1250, Buffer.from("\n")]);
    expect(decodeText(polish, "windows-1250")).toEqual({
      text: "name\nŁukasz\n",
      encoding: "windows-1250",
      bom: false,
    });
    const dutch = Buffer.concat([Buffer.from("name\n"), JURGEN_1252, Buffer.from("\n")]);
    expect(decodeText(dutch, "windows-1252").text).toBe("name\nJürgen\n");
  });

  it("refuses a code page for a file that is UTF-8 already, which it would garble", () => {
    const error = refusal(() => decodeText(Buffer.from("name\nJürgen\n"), "windows-1250"));
    expect(error.message).toBe(
      'the file is UTF-8 already: reading it as windows-1250 would change its letters ("Jürgen" would read as "JĂĽrgen"). Leave out --encoding.',
    );
    // Plain ASCII reads the same in every code page.
    expect(decodeText(Buffer.from("name\nAnna\n"), "windows-1250").text).toBe("name\nAnna\n");
  });
});

describe("detectSeparator", () => {
  it.each([
    ["external_id,name,email\n1,Anna,a@x\n", ","],
    ["external_id;name;email\n1;Anna;a@x\n", ";"],
    ["external_id\tname\temail\n", "\t"],
    ['\n\n"name;first",email\n', ","],
    ["external_id\n1\n", ","],
  ])("reads the header of %j as %j", (text, separator) => {
    expect(detectSeparator(text)).toEqual({ separator, text });
  });

  it("follows Excel's sep= line, blanking it so that line numbers stay the file's", () => {
    expect(detectSeparator("sep=;\r\nexternal_id,name;email\r\n")).toEqual({
      separator: ";",
      text: "\nexternal_id,name;email\r\n",
    });
  });

  it("refuses a header with as many commas as semicolons", () => {
    expect(refusal(() => detectSeparator("external_id;name,email\n")).message).toBe(
      "the header row has as many commas as semicolons, so it does not say which separates the columns. Use one of them between the column names.",
    );
  });
});

describe("splitCsv with another separator", () => {
  it("splits on semicolons, keeping the decimal comma and quoted semicolons in their values", () => {
    expect(splitCsv('a;b;c\n1;12,50;"x; y"\n', ";")).toEqual([
      { line: 1, lastLine: 1, fields: ["a", "b", "c"] },
      { line: 2, lastLine: 2, fields: ["1", "12,50", "x; y"] },
    ]);
  });
});

describe("toMinorUnits", () => {
  it.each([
    ["12.50", 1250],
    ["12,50", 1250],
    ["12,5", 1250],
    ["12", 1200],
    ["0,99", 99],
    ["1234,56", 123456],
  ])("reads %s EUR as %i cents", (text, minor) => {
    expect(toMinorUnits("amount", text, "EUR", 2)).toBe(minor);
  });

  it("reads three decimals when the currency has three (Kuwaiti dinar)", () => {
    expect(toMinorUnits("amount", "1,234", "KWD", 3)).toBe(1234);
  });

  it.each([
    ["1.234,56", 'amount "1.234,56" has a thousands separator: write it without one (1234,56).'],
    ["1,234.56", 'amount "1,234.56" has a thousands separator: write it without one (1234.56).'],
    ["1.234.567", 'amount "1.234.567" has a thousands separator: write it without one (1234567).'],
    [
      "1.234",
      'amount "1.234" is ambiguous: is the "." a thousands separator or a decimal mark? EUR has 2 decimals: write 1234 without a thousands separator, or at most 2 decimals.',
    ],
    [
      "1,234",
      'amount "1,234" is ambiguous: is the "," a thousands separator or a decimal mark? EUR has 2 decimals: write 1234 without a thousands separator, or at most 2 decimals.',
    ],
    ["1,2345", 'amount "1,2345" has more decimals than EUR has (2).'],
    [
      "€ 12,50",
      'amount "€ 12,50" is not a plain decimal number such as 12.50 or 12,50 (no currency sign, no thousands separator).',
    ],
    [
      "-3,00",
      'amount "-3,00" is negative: a purchase is recorded with what was paid, and a return as a refund of it (POST /v1/refunds), not as a purchase.',
    ],
    [
      "−3,00",
      'amount "−3,00" is negative: a purchase is recorded with what was paid, and a return as a refund of it (POST /v1/refunds), not as a purchase.',
    ],
  ])("refuses %s", (text, message) => {
    const error = refusal(() => toMinorUnits("amount", text, "EUR", 2));
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ code: "invalid_amount", message });
  });
});

describe("formatting", () => {
  it("writes minor units as the file would and says how the file was read", () => {
    expect([formatMinor(850, 2, ","), formatMinor(5, 2, "."), formatMinor(1200, 0, ",")]).toEqual([
      "8,50",
      "0.05",
      "1200",
    ]);
    expect(describeFormat({ separator: ";", encoding: "utf-8", bom: true })).toBe(
      "semicolons (;), UTF-8 with a byte-order mark",
    );
    expect(describeFormat({ separator: "\t", encoding: "windows-1250", bom: false })).toBe(
      "tabs, Windows-1250",
    );
  });
});
