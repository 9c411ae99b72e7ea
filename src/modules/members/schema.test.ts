import { describe, expect, it } from "vitest";
import { CreateMemberInput, MemberAttributes, MemberLookup, UpdateMemberInput } from "./schema.ts";

/** The first issue of a failed parse, as `path: message`. */
function firstIssue(result: { error?: { issues: { path: PropertyKey[]; message: string }[] } }): string {
  const issue = result.error?.issues[0];
  return issue ? `${issue.path.join(".")}: ${issue.message}` : "none";
}

describe("CreateMemberInput", () => {
  // The phone is read by the module, in the business's country (phone.ts, readPhone).
  it("normalizes the email, keeps the phone as typed and turns joined_at into a Date", () => {
    const input = CreateMemberInput.parse({
      email: "  Anna@Example.COM ",
      phone: "06 1234 5678",
      marketing_consent: true,
      joined_at: "2026-01-05T10:00:00+01:00",
    });
    expect(input).toEqual({
      email: "anna@example.com",
      phone: "06 1234 5678",
      marketing_consent: true,
      joined_at: new Date("2026-01-05T09:00:00Z"),
    });
  });

  it.each([
    [{}, "marketing_consent: is required: the member's explicit yes or no to marketing messages"],
    [{ marketing_consent: "yes" }, "marketing_consent: must be true or false"],
    [{ marketing_consent: true, email: "anna@" }, "email: must be an email address"],
    [{ marketing_consent: true, phone: "0".repeat(41) }, "phone: must be at most 40 characters"],
    [{ marketing_consent: true, birthday: "1990-02-30" }, "birthday: must be a date as YYYY-MM-DD"],
    [{ marketing_consent: true, locale: "fr" }, "locale: "],
    [{ marketing_consent: true, nickname: "A" }, ': Unrecognized key: "nickname"'],
  ])("refuses %j", (body, expected) => {
    expect(firstIssue(CreateMemberInput.safeParse(body))).toContain(expected);
  });
});

describe("MemberAttributes", () => {
  const many = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i]));

  it("accepts flat strings, numbers and booleans up to 50 keys", () => {
    expect(MemberAttributes.safeParse({ dog_breed: "beagle", visits_2025: 12, vip: true }).success).toBe(
      true,
    );
    expect(MemberAttributes.safeParse(many(50)).success).toBe(true);
  });

  it.each([
    [many(51), ": must have at most 50 attributes"],
    [{ pet: { kind: "dog" } }, "pet: must be a string, number or boolean"],
    [{ pets: ["dog"] }, "pets: must be a string, number or boolean"],
    [{ pet: null }, "pet: must be a string, number or boolean"],
    [{ Pet: "dog" }, "Pet: attribute names must match"],
    [{ "1st": "dog" }, "1st: attribute names must match"],
    [{ [`a${"b".repeat(64)}`]: 1 }, "attribute names must match"],
    [{ note: "x".repeat(201) }, "note: must be at most 200 characters"],
    [["dog"], ": must be an object of attribute names to values"],
  ])("refuses %j", (value, expected) => {
    expect(firstIssue(MemberAttributes.safeParse(value))).toContain(expected);
  });
});

describe("UpdateMemberInput", () => {
  it("accepts null to clear a field and refuses an empty patch", () => {
    expect(UpdateMemberInput.parse({ email: null })).toEqual({ email: null });
    expect(firstIssue(UpdateMemberInput.safeParse({}))).toBe(": send at least one field to change");
  });
});

describe("MemberLookup", () => {
  it("normalizes the code and email it is given, and leaves the phone to the module", () => {
    expect(MemberLookup.parse({ code: " k7qx2m9d " })).toEqual({ code: "K7QX2M9D" });
    expect(MemberLookup.parse({ email: "Anna@Example.com" })).toEqual({ email: "anna@example.com" });
    expect(MemberLookup.parse({ phone: "06-12345678" })).toEqual({ phone: "06-12345678" });
  });
});
