import { describe, expect, it } from "vitest";
import {
  CASHIER_PHONE_DIGITS_MIN,
  CASHIER_SEARCH_MIN,
  CASHIER_SEARCH_PAGE,
} from "../../src/http/routes/members.ts";
import { randomCode } from "../../src/shared/ids.ts";
import {
  classify,
  MEMBER_CODE_LENGTH,
  mayBeName,
  moreMatched,
  SEARCH_MIN,
  SEARCH_PAGE,
  SEARCH_PHONE_DIGITS_MIN,
  searchPath,
} from "../../web/src/counter/lookup.ts";

/**
 * What the counter does with what the cashier types: codes, emails and whole phone numbers are
 * looked up exactly; a name, a part of an email or of a phone number is searched, by the rules the
 * server holds a cashier's search to; too little to search with is said at once.
 */
describe("classify", () => {
  it.each([
    ["K7QX2M9D", { kind: "code", value: "K7QX2M9D" }],
    ["k7qx 2m9d", { kind: "code", value: "K7QX2M9D" }],
    ["ABCD2345EF", { kind: "voucher", value: "ABCD2345EF" }],
    ["anna@example.nl", { kind: "email", value: "anna@example.nl" }],
    ["+31 6 12345678", { kind: "phone", value: "+31 6 12345678" }],
    ["06 12345678", { kind: "phone", value: "06 12345678" }],
    ["(030) 1234567", { kind: "phone", value: "(030) 1234567" }],
    // Names, and parts of what a member is found by: searched.
    ["Wójcik", { kind: "search", value: "Wójcik" }],
    ["Kowalski", { kind: "search", value: "Kowalski" }],
    ["Anne-Marie Smit", { kind: "search", value: "Anne-Marie Smit" }],
    ["kowalski@", { kind: "search", value: "kowalski@" }],
    ["firma.pl", { kind: "search", value: "firma.pl" }],
    ["612345", { kind: "search", value: "612345" }],
    // Too little to search with: said at once, not asked of the server.
    ["an", null],
    ["  ", null],
    ["+316", null],
    ["06 12", null],
  ] as const)("reads %j as %j", (text, expected) => {
    expect(classify(text)).toEqual(expected);
  });

  it("reads every card code the server makes as a code", () => {
    for (let i = 0; i < 500; i++) {
      const code = randomCode(MEMBER_CODE_LENGTH);
      expect(classify(code)).toEqual({ kind: "code", value: code });
    }
  });

  it("searches a name that looks like a code when no card has it", () => {
    const schwartz = classify("Schwartz");
    expect(schwartz).toEqual({ kind: "code", value: "SCHWARTZ" });
    expect(schwartz && mayBeName(schwartz)).toBe(true);
    expect(mayBeName({ kind: "code", value: "K7QX2M9D" })).toBe(false);
  });
});

describe("the search", () => {
  it("asks as the server lets a cashier: at least 3 characters, 6 digits of a phone, one page of 20", () => {
    expect([SEARCH_MIN, SEARCH_PHONE_DIGITS_MIN, SEARCH_PAGE]).toEqual([
      CASHIER_SEARCH_MIN,
      CASHIER_PHONE_DIGITS_MIN,
      CASHIER_SEARCH_PAGE,
    ]);
    expect(searchPath("Wójcik & Co")).toBe("/v1/members?q=W%C3%B3jcik+%26+Co&limit=20");
  });

  it("says more matched when the page has a next one", () => {
    expect(moreMatched({ next_cursor: "abc" })).toBe(true);
    expect(moreMatched({ next_cursor: null })).toBe(false);
  });
});
