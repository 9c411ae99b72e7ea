import { z } from "zod";
import { dateTimeInput } from "../../shared/date-time.ts";

/**
 * The member fields as Zod schemas: they validate and normalize (email lowercased), so every path
 * into the members table — API, join page, import — stores the same canonical form. Checks that
 * depend on the business (a phone number without its country code, a birthday in the future in
 * its time zone) are made by the module.
 */

export const MAX_ATTRIBUTES = 50;
export const ATTRIBUTE_KEY = /^[a-z][a-z0-9_]{0,63}$/;

// The languages of customer-facing text; the same list as a business's locale.
export const MemberLocale = z.enum(["en", "nl", "pl", "pt-BR"]).describe("Language of the member's messages");

export const MemberEmail = z
  .string()
  .trim()
  .toLowerCase()
  .max(254, { error: "must be at most 254 characters" })
  .pipe(z.email({ error: "must be an email address" }))
  .describe("Stored trimmed and lowercased; unique within the business");

// Only the length is checked here: whether a number without its country code can be read depends
// on the business's country, which the module knows (`readPhone`, in create, update and lookup).
export const MemberPhone = z
  .string()
  .max(40, { error: "must be at most 40 characters" })
  .describe(
    "International (+31 6 12345678, 0031 …) or, for a business in the Netherlands, Belgium, Germany or Poland (by its time zone), local to that country (06 12345678); stored as E.164 (+31612345678), unique",
  );

export const MemberBirthday = z.iso
  .date({ error: "must be a date as YYYY-MM-DD" })
  .describe("YYYY-MM-DD, from 1900-01-01 up to today");

export const AttributeValue = z.union(
  [z.string().max(200, { error: "must be at most 200 characters" }), z.number(), z.boolean()],
  { error: "must be a string, number or boolean (no objects, arrays or null)" },
);

export const MemberAttributes = z
  .record(z.string().regex(ATTRIBUTE_KEY), AttributeValue, {
    error: (issue) =>
      issue.code === "invalid_key"
        ? "attribute names must match ^[a-z][a-z0-9_]{0,63}$ (lowercase letters, digits, underscores)"
        : "must be an object of attribute names to values",
  })
  .refine((attributes) => Object.keys(attributes).length <= MAX_ATTRIBUTES, {
    error: `must have at most ${MAX_ATTRIBUTES} attributes`,
  })
  .describe(`Custom attributes for segments and rules: flat, at most ${MAX_ATTRIBUTES} keys`);
export type MemberAttributes = z.infer<typeof MemberAttributes>;

const MarketingConsent = z
  .boolean({
    error: (issue) =>
      issue.input === undefined
        ? "is required: the member's explicit yes or no to marketing messages"
        : "must be true or false",
  })
  .describe("The member's explicit choice about marketing messages");

const MemberFields = z.strictObject({
  // In one Unicode form (NFC), whatever form a till export or a keyboard sent: "José" is stored
  // the same way however it was typed.
  name: z.string().trim().normalize("NFC").min(1).max(120).nullable(),
  email: MemberEmail.nullable(),
  phone: MemberPhone.nullable(),
  birthday: MemberBirthday.nullable(),
  locale: MemberLocale.nullable()
    // OpenAPI 3.0: a nullable enum lists null among its values, or validators refuse null.
    .meta({ enum: [...MemberLocale.options, null] })
    .describe(
      "Language of the member's messages; null (or left out on enrolment): the business's language, whichever it is when a message is sent",
    ),
  marketing_consent: MarketingConsent,
  attributes: MemberAttributes,
  external_id: z
    .string()
    .trim()
    .min(1)
    .max(100)
    .nullable()
    .describe("The customer's id in the POS or web shop; unique within the business"),
  joined_at: dateTimeInput()
    .transform((value) => new Date(value))
    .describe(
      "When the customer joined; now when absent; not in the future. Signup rules apply as of now, the enrolment, whatever the date given.",
    ),
});

/** A new member: every field optional but the marketing choice. */
export const CreateMemberInput = MemberFields.partial().extend({ marketing_consent: MarketingConsent });
export type CreateMemberInput = z.output<typeof CreateMemberInput>;

/** A change to a member: at least one field; `null` clears a field; `attributes` replaces them all. */
export const UpdateMemberInput = MemberFields.partial().refine((patch) => Object.keys(patch).length > 0, {
  error: "send at least one field to change",
});
export type UpdateMemberInput = z.output<typeof UpdateMemberInput>;

/** The keys a member can be found by at the counter; exactly one is given. */
export const MemberLookup = z.strictObject({
  code: z.string().trim().toUpperCase().min(1).max(32).optional().describe("The code on the member's card"),
  email: MemberEmail.optional(),
  phone: MemberPhone.optional(),
});
export type MemberLookup = z.output<typeof MemberLookup>;
