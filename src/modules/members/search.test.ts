import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { foldText } from "../../shared/fold.ts";
import { indexable, memberSearchText, searchTerms } from "./search.ts";

describe("foldText", () => {
  it.each([
    // Polish, Dutch, German, Scandinavian, Portuguese, French, Turkish, Croatian…
    ["Łukasz Wójcik", "lukasz wojcik"],
    ["ŁÓDŹ Żółć Ęą Śń", "lodz zolc ea sn"],
    ["Zoë Jansen-Dijkstra", "zoe jansen-dijkstra"],
    ["IJsbrand van ’t Hoff", "ijsbrand van 't hoff"],
    ["Jürgen Groß", "jurgen gross"],
    ["GROẞMANN", "grossmann"],
    ["Søren Ærø", "soren aero"],
    ["João Conceição", "joao conceicao"],
    ["François Cœur", "francois coeur"],
    ["İpek Işık", "ipek isik"],
    ["Đorđe Ðurić", "dorde duric"],
    ["Þór Ħal", "thor hal"],
    ["Col·lecció", "collecció".normalize("NFKD").replace(/\p{M}/gu, "")],
    // Both Unicode forms of one name, compatibility forms (ligatures, full width), invisible marks.
    ["Jose\u0301", "jose"],
    ["José", "jose"],
    ["ﬁnn ＡＢＣ", "finn abc"],
    ["Anne\u00ad\u200bMarie", "annemarie"],
    ["  Anna \t de\u00a0Vries  ", "anna de vries"],
    ["Smit–Jansen", "smit-jansen"],
    ["ΟΔΟΣ", "οδοσ"],
  ])("folds %j as %j", (text, folded) => {
    expect(foldText(text)).toBe(folded);
  });

  it("is stable: folding again, or folding any part of a folded text, changes nothing", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 40 }), fc.nat(), fc.nat(), (text, a, b) => {
        const folded = foldText(text);
        expect(foldText(folded)).toBe(folded);
        const part = folded.slice(Math.min(a, b) % (folded.length + 1), Math.max(a, b) % (folded.length + 1));
        expect(folded).toContain(foldText(part));
      }),
      { numRuns: 2000 },
    );
  });
});

describe("memberSearchText", () => {
  it("holds the folded name and its words, the email and its parts, the phone as stored and as dialled at home", () => {
    expect(
      memberSearchText({
        name: "Anne-Marie Smit-Jánsen",
        email: "jan.kowalski@firma.pl",
        phone: "+31612345678",
      }),
    ).toBe(
      "anne-marie smit-jansen anne marie smit jansen jan.kowalski@firma.pl jan kowalski firma pl +31612345678 0612345678",
    );
    expect(memberSearchText({ name: "Łukasz", email: null, phone: "+48512345678" })).toBe(
      "lukasz +48512345678",
    );
    expect(memberSearchText({ name: null, email: null, phone: "+49301234567" })).toBe(
      "+49301234567 0301234567",
    );
  });

  it("is empty for a member without name, email or phone (an erased one)", () => {
    expect(memberSearchText({ name: null, email: null, phone: null })).toBe("");
  });
});

describe("searchTerms", () => {
  it.each([
    // Words anywhere, each on its own, folded; the card code exactly.
    ["Wójcik", [["%wojcik%"]], {}],
    ["K7QX2M9D", [["%k7qx2m9d%"]], { code: "K7QX2M9D" }],
    ["  kowal  FIRMA ", [["%kowal%", "%firma%"]], {}],
    ["jan jan", [["%jan%"]], {}],
    // One or two characters: the start of a word.
    ["jo", [["jo%"], ["% jo%"]], { code: "JO" }],
    ["Ł", [["l%"], ["% l%"]], {}],
    // LIKE's own characters match themselves.
    ["100%_", [["%100\\%\\_%"]], {}],
    // An email: its text, and the email exactly.
    ["Jan.Kowalski@Firma.pl", [["%jan.kowalski@firma.pl%"]], { email: "jan.kowalski@firma.pl" }],
    // Without a letter or a digit, nothing for the index to look for: exact matches only.
    ["@@@", [], { email: "@@@" }],
    ["___", [], {}],
    ["-", [], {}],
    ["@", [], { email: "@" }],
    ["+-(", [], {}],
    // With one, even short: found (without the index's help).
    ["a b", [["%a%", "%b%"]], {}],
  ] as const)("reads %j", (q, patterns, exact) => {
    expect(searchTerms(q, undefined)).toEqual({ patterns, exact });
  });

  it.each([
    // The area code in parentheses, as Germans write it; the number exactly as lookup reads it.
    ["(030) 1234567", "Europe/Berlin", [["%0301234567%"]], { phone: "+49301234567" }],
    // (A German number may be as short as this: it is one exactly, as lookup would read it.)
    ["(030) 12345", "Europe/Berlin", [["%03012345%"]], { phone: "+493012345" }],
    ["06 12345678", "Europe/Amsterdam", [["%0612345678%"]], { phone: "+31612345678" }],
    ["+31 (0)6 12", "Europe/Amsterdam", [["%+31612%"]], {}],
    ["0048 512 345 678", "Europe/Amsterdam", [["%+48512345678%"]], { phone: "+48512345678" }],
    ["512-345-678", "Europe/Warsaw", [["%512345678%"]], { phone: "+48512345678" }],
    // Too few digits to be a part of a phone number: the text as written.
    ["1 2", undefined, [["%1 2%"]], {}],
  ] as const)("reads %j in %s as a phone number", (q, timeZone, patterns, exact) => {
    const terms = searchTerms(q, timeZone);
    expect(terms.patterns).toEqual(patterns);
    expect(terms.exact.phone).toBe("phone" in exact ? exact.phone : undefined);
  });
});

describe("indexable", () => {
  it.each([
    ["%jan%", true],
    ["%0612%", true],
    ["%łod%", true],
    ["jo%", true],
    ["% jo%", true],
    ["%a@b%", true],
    ["%a%", false],
    ["%ab%", false],
    ["%@@@%", false],
    ["%_%", false],
  ])("%j: %s", (pattern, expected) => {
    expect(indexable(pattern)).toBe(expected);
  });
});
