import { z } from "zod";
import type { AppContext } from "../../context.ts";
import {
  createStaffInTx,
  getStaff,
  hashPassword,
  listStaff,
  resetStaffPassword,
  updateStaff,
} from "../../modules/access/index.ts";
import { clientKey, keyTaken } from "../../modules/idempotency/index.ts";
import type { ZodApp } from "../app.ts";
import { createOnce, createResponses } from "../create-once.ts";
import { ErrorResponse, IdempotencyHeaders, IdParams, PageQuery, page } from "../schemas.ts";

const Email = z.email({ error: "must be an email address" }).max(254);
const Password = z.string().min(10, { error: "must be at least 10 characters" }).max(200);
const Name = z.string().trim().min(1).max(120);
const StaffRole = z.enum(["owner", "manager", "cashier"]);

const StaffSchema = z.object({
  id: z.string(),
  email: z.string(),
  name: z.string(),
  role: StaffRole,
  disabled: z.boolean(),
  created_at: z.string(),
});

/** Staff accounts of the business: owners manage who can log in, with which role. */
export async function staffRoutes(app: ZodApp, ctx: AppContext): Promise<void> {
  app.get(
    "/staff",
    {
      config: { role: "manager" },
      schema: {
        tags: ["staff"],
        summary: "List staff",
        description:
          "Oldest first, one page at a time. Managers and owners: a manager reads the audit log and members' histories, and sees who did what by name. Only owners change staff. Errors: `invalid_cursor` (400).",
        querystring: PageQuery,
        response: { 200: page(StaffSchema) },
      },
    },
    async (req) => listStaff(ctx.db, req.actor, req.query),
  );

  app.post(
    "/staff",
    {
      config: { role: "owner" },
      schema: {
        tags: ["staff"],
        summary: "Add a staff member",
        description:
          "Creates an account that can log in at once with the given password. Owner only. With an `Idempotency-Key`, a retry gets the first account back instead of `staff_email_taken`; the password is not part of what the key remembers (no fast hash of it is kept), so a retry with another password gets the first account, with its first password. Errors: `staff_email_taken` (409).",
        body: z.strictObject({ email: Email, name: Name, role: StaffRole, password: Password }),
        headers: IdempotencyHeaders,
        response: createResponses(StaffSchema),
      },
    },
    async (req, reply) => {
      const { password, ...account } = req.body;
      // The hash takes a while, so it is made before the transaction; a retry whose key is already
      // taken is answered from what the key keeps, without hashing again. (A key taken in between
      // by a request that then rolls back leaves the hash to be made in the transaction.)
      const header = req.headers["idempotency-key"];
      const key = clientKey(typeof header === "string" ? header : undefined);
      const taken = key !== undefined && (await keyTaken(ctx.db, req.actor.businessId, key));
      const passwordHash = taken ? null : await hashPassword(password);
      return createOnce(
        ctx,
        req,
        reply,
        "staff.create",
        async (tx, now) =>
          createStaffInTx(tx, req.actor, account, passwordHash ?? (await hashPassword(password)), now),
        account,
      );
    },
  );

  app.get(
    "/staff/:id",
    {
      config: { role: "manager" },
      schema: {
        tags: ["staff"],
        summary: "Get a staff member",
        description: "Managers and owners. Errors: `staff_not_found` (404).",
        params: IdParams,
        response: { 200: StaffSchema, 404: ErrorResponse },
      },
    },
    async (req) => getStaff(ctx.db, req.actor, req.params.id),
  );

  app.patch(
    "/staff/:id",
    {
      config: { role: "owner" },
      schema: {
        tags: ["staff"],
        summary: "Change a staff member",
        description:
          "Renames, changes the role of, disables (which ends their sessions) or re-enables a staff member. Owner only. Errors: `staff_not_found` (404), `last_owner` (409: the business would have no active owner), `own_owner_account` (409: owners cannot demote or disable themselves).",
        params: IdParams,
        body: z
          .strictObject({
            name: Name.optional(),
            role: StaffRole.optional(),
            disabled: z.boolean().optional(),
          })
          .refine((b) => Object.keys(b).length > 0, { error: "send at least one field to change" }),
        response: { 200: StaffSchema, 404: ErrorResponse, 409: ErrorResponse },
      },
    },
    async (req) => updateStaff(ctx.db, req.actor, req.params.id, req.body, ctx.clock.now()),
  );

  app.post(
    "/staff/:id/password",
    {
      config: { role: "owner" },
      schema: {
        tags: ["staff"],
        summary: "Reset a staff member's password",
        description:
          "Sets a new password and ends all of that member's sessions. Owner only. Errors: `staff_not_found` (404).",
        params: IdParams,
        body: z.strictObject({ password: Password }),
        response: { 204: z.null().describe("Password changed"), 404: ErrorResponse },
      },
    },
    async (req, reply) => {
      await resetStaffPassword(ctx.db, req.actor, req.params.id, req.body.password, ctx.clock.now());
      return reply.status(204).send(null);
    },
  );
}
