import { z } from "zod";
import { type AppContext, roleAtLeast } from "../../context.ts";
import { clientKey } from "../../modules/idempotency/index.ts";
import {
  CreateMemberInput,
  getMember,
  listMembers,
  lookupMember,
  MemberLookup,
  UpdateMemberInput,
  updateMember,
} from "../../modules/members/index.ts";
import { forbidden } from "../../shared/errors.ts";
import { eraseMember, exportMemberAudited } from "../../use-cases/member-data.ts";
import { enrollMember } from "../../use-cases/member-points.ts";
import type { ZodApp } from "../app.ts";
import { MemberExportSchema } from "../responses.ts";
import { ErrorResponse, IdempotencyHeaders, IdParams, PageQuery, page } from "../schemas.ts";
import { sendOnce } from "../send-once.ts";

/** The shortest search a cashier may list members with: enough to find one, not to browse all. */
export const CASHIER_SEARCH_MIN = 3;
/** The fewest digits a cashier's phone search holds: "+316" would match every Dutch mobile. */
export const CASHIER_PHONE_DIGITS_MIN = 6;
/** A cashier's search answers one short page: a customer at the counter, not a list to page through. */
export const CASHIER_SEARCH_PAGE = 20;

/** Whether a search text reads as (the start of) a phone number: digits, `+` and separators only. */
const PHONE_LIKE = /^[+\d\s().\-/]+$/;

/** Refuses a cashier's search that would list more than the customer at the counter. */
function checkCashierSearch(q: string, cursor: string | undefined): void {
  if (q.length < CASHIER_SEARCH_MIN) {
    throw forbidden(
      `A cashier finds members by searching: send q with at least ${CASHIER_SEARCH_MIN} characters. Listing every member needs the manager role.`,
    );
  }
  if (PHONE_LIKE.test(q) && q.replace(/\D/g, "").length < CASHIER_PHONE_DIGITS_MIN) {
    throw forbidden(
      `A cashier searches a phone number by at least ${CASHIER_PHONE_DIGITS_MIN} of its digits. Listing members by a shorter number needs the manager role.`,
    );
  }
  if (cursor !== undefined) {
    throw forbidden(
      `A cashier's search answers one page of at most ${CASHIER_SEARCH_PAGE} members: search more precisely. Paging through members needs the manager role.`,
    );
  }
}

const MemberSchema = z.object({
  id: z.string(),
  code: z.string().describe("The code on the member's card and in its QR"),
  name: z.string().nullable(),
  email: z.string().nullable(),
  phone: z.string().nullable().describe("E.164, e.g. +31612345678"),
  birthday: z.string().nullable().describe("YYYY-MM-DD"),
  locale: z.string().nullable().describe("null: the business's language"),
  marketing_consent: z.boolean(),
  consent_updated_at: z.string().nullable(),
  attributes: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
  external_id: z.string().nullable(),
  tier_id: z.string().nullable(),
  joined_at: z.string(),
  first_purchase_at: z.string().nullable(),
  last_purchase_at: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
  erased_at: z.string().nullable().describe("When the member's personal data was erased at their request"),
});

const FIELD_ERRORS =
  "`validation_failed` (400: names the field, e.g. a bad phone or a birthday in the future)";
const DUPLICATE_ERRORS = "`member_email_taken`, `member_phone_taken`, `member_external_id_taken` (409)";

export async function memberRoutes(app: ZodApp, ctx: AppContext): Promise<void> {
  app.post(
    "/members",
    {
      schema: {
        tags: ["members"],
        summary: "Enrol a member",
        description: `Creates a member with a new card code. The marketing choice is required. Custom \`attributes\` need a manager (earning rules can depend on them). Send an \`Idempotency-Key\` to make a retry safe: the same key and body return the first member (status 200, header \`idempotent-replayed: true\`). Errors: ${FIELD_ERRORS}, \`forbidden\` (403), ${DUPLICATE_ERRORS}, \`idempotency_key_reused\` (409).`,
        headers: IdempotencyHeaders,
        body: CreateMemberInput,
        response: {
          201: MemberSchema,
          200: MemberSchema.describe(
            "The same request again: the first member, with `Idempotent-Replayed: true`",
          ),
          400: ErrorResponse,
          403: ErrorResponse,
          409: ErrorResponse,
        },
      },
    },
    async (req, reply) => {
      // As on a change: attributes can make a member qualify for a rule's bonus at once.
      if (Object.keys(req.body.attributes ?? {}).length > 0 && !roleAtLeast(req.actor.role, "manager")) {
        throw forbidden(
          "Enrolling a member with attributes needs the manager role: earning rules can depend on them. Enrol without them, and let a manager set them.",
        );
      }
      const result = await enrollMember(ctx, req.actor, req.body, clientKey(req.headers["idempotency-key"]));
      return sendOnce(reply, result);
    },
  );

  app.get(
    "/members",
    {
      schema: {
        tags: ["members"],
        summary: "List and search members",
        description:
          "Without `q`: every member, newest first, a page at a time (pass `next_cursor` back as `cursor`). With `q`: the members it finds, exact matches first (the card code, the email, the phone number as the business's country reads it), then by name. `q` is matched without regard to case or diacritics (`lukasz` finds Łukasz, `wojcik` Wójcik, `jose` José in either Unicode form), each of its words anywhere in the name, the email or the phone number (`jansen` finds Smit-Jansen, `firma.pl` finds jan@firma.pl, `kowal jan` finds Jan Kowalski); a single word of 1 or 2 characters matches the start of a word. A phone number, or part of one, matches by its digits as dialled at home (`(030) 1234567`, `06 1234`) or with + or 00 and the country code (`+31 6 12`). An erased member is never found. A manager may list every member; a cashier finds members only by searching, with a `q` of at least 3 characters (a phone number by at least 6 of its digits), and gets one page of at most 20 (the counter needs to find one customer, not to browse everyone's contact details): a `next_cursor` then says that more members matched than the page shows, and that the search must be more precise (a cashier cannot page on with it). Errors: `validation_failed`, `invalid_cursor` (400), `forbidden` (403).",
        querystring: PageQuery.extend({
          q: z.string().trim().min(1).max(100).optional().describe("Search text"),
        }),
        response: { 200: page(MemberSchema), 400: ErrorResponse, 403: ErrorResponse },
      },
    },
    async (req) => {
      if (roleAtLeast(req.actor.role, "manager")) return listMembers(ctx.db, req.actor.businessId, req.query);
      checkCashierSearch(req.query.q ?? "", req.query.cursor);
      // The next page's cursor says that more matched; a cashier cannot page on with it (403).
      return listMembers(ctx.db, req.actor.businessId, {
        ...req.query,
        limit: Math.min(req.query.limit, CASHIER_SEARCH_PAGE),
      });
    },
  );

  app.get(
    "/members/lookup",
    {
      schema: {
        tags: ["members"],
        summary: "Find a member at the counter",
        description:
          "By exactly one of the card `code`, `email` (case-insensitive) or `phone` (any common notation: with the country code, or local to the business's country as on enrolment, e.g. `06-12345678` in the Netherlands). Errors: `lookup_needs_one_key`, `validation_failed` (400), `member_not_found` (404).",
        querystring: MemberLookup,
        response: { 200: MemberSchema, 400: ErrorResponse, 404: ErrorResponse },
      },
    },
    async (req) => lookupMember(ctx.db, req.actor.businessId, req.query),
  );

  app.get(
    "/members/:id",
    {
      schema: {
        tags: ["members"],
        summary: "A member",
        description: "Errors: `member_not_found` (404).",
        params: IdParams,
        response: { 200: MemberSchema, 404: ErrorResponse },
      },
    },
    async (req) => getMember(ctx.db, req.actor.businessId, req.params.id),
  );

  app.patch(
    "/members/:id",
    {
      schema: {
        tags: ["members"],
        summary: "Change a member",
        description: `Send only the fields to change; \`null\` clears a field and \`attributes\` replaces all attributes. Changing \`marketing_consent\` moves \`consent_updated_at\`. Any role, but changing \`attributes\` needs a manager: earning rules can depend on them. Errors: ${FIELD_ERRORS}, \`forbidden\` (403), \`member_not_found\` (404), ${DUPLICATE_ERRORS}, \`member_erased\` (409).`,
        params: IdParams,
        body: UpdateMemberInput,
        response: {
          200: MemberSchema,
          400: ErrorResponse,
          403: ErrorResponse,
          404: ErrorResponse,
          409: ErrorResponse,
        },
      },
    },
    async (req) => {
      // A cashier fixes a name or a phone at the counter; attributes can make a member qualify for
      // a rule's bonus, so they are a manager's to change.
      if (req.body.attributes !== undefined && !roleAtLeast(req.actor.role, "manager")) {
        throw forbidden(
          "Changing a member's attributes needs the manager role: earning rules can depend on them.",
        );
      }
      return updateMember(ctx.db, req.actor, req.params.id, req.body, ctx.clock.now());
    },
  );

  app.get(
    "/members/:id/export",
    {
      config: { role: "manager" },
      schema: {
        tags: ["members"],
        summary: "Everything held about a member (access request)",
        description:
          "One JSON document for the member's request to see or take their data (GDPR articles 15 and 20): the profile, the card, and every points and stamps entry, purchase, refund, event, voucher and tier change, oldest first. Audited as `member.exported` by the staff member or API key that asked. Managers and owners. Errors: `member_not_found` (404).",
        params: IdParams,
        response: { 200: MemberExportSchema, 404: ErrorResponse },
      },
    },
    async (req, reply) => {
      reply.header("content-disposition", `attachment; filename="member-${req.params.id}.json"`);
      return reply.send((await exportMemberAudited(ctx, req.actor, req.params.id, "staff")) as never);
    },
  );

  app.post(
    "/members/:id/erase",
    {
      config: { role: "manager" },
      schema: {
        tags: ["members"],
        summary: "Erase a member's personal data (erasure request)",
        description:
          "At the member's request (GDPR article 17): name, email, phone, birthday, external id, custom attributes, the marketing choice and the card link are erased, the card gets a new code (the old card finds no one), and the properties of the member's events and the stored answers to their enrolment and their events are emptied (the same request sent again is refused with 410, not done twice). The member's points, purchases and vouchers stay, by id, so the books keep adding up; an erased member can no longer be changed, and no event is recorded for them (`409 member_erased`). Audited with the reason. Managers and owners. Errors: `validation_failed` (400), `member_not_found` (404), `member_erased` (409).",
        params: IdParams,
        body: z.strictObject({
          reason: z.string().trim().min(3).max(500).describe("Why, e.g. the request's date and channel"),
        }),
        response: { 200: MemberSchema, 400: ErrorResponse, 404: ErrorResponse, 409: ErrorResponse },
      },
    },
    async (req) => eraseMember(ctx, req.actor, req.params.id, req.body.reason),
  );
}
