import { z } from "zod";
import type { AppContext } from "../../context.ts";
import {
  createLocationInTx,
  getLocation,
  listLocations,
  updateLocation,
} from "../../modules/business/index.ts";
import type { ZodApp } from "../app.ts";
import { createOnce, createResponses } from "../create-once.ts";
import { ErrorResponse, IdempotencyHeaders, IdParams, PageQuery, page } from "../schemas.ts";

const Name = z.string().trim().min(1).max(120);
const Address = z.string().trim().min(1).max(300);

const LocationSchema = z.object({
  id: z.string(),
  name: z.string(),
  address: z.string().nullable(),
  archived: z.boolean(),
  created_at: z.string(),
});

/** The business's locations (shops, counters), where purchases are recorded. */
export async function locationRoutes(app: ZodApp, ctx: AppContext): Promise<void> {
  app.get(
    "/locations",
    {
      schema: {
        tags: ["locations"],
        summary: "List locations",
        description:
          "Oldest first; `archived=false` gives only open ones. Any role. Errors: `invalid_cursor` (400).",
        querystring: PageQuery.extend({
          archived: z
            .enum(["true", "false"])
            .transform((v) => v === "true")
            .optional(),
        }),
        response: { 200: page(LocationSchema) },
      },
    },
    async (req) => listLocations(ctx.db, req.actor, req.query),
  );

  app.post(
    "/locations",
    {
      config: { role: "manager" },
      schema: {
        tags: ["locations"],
        summary: "Add a location",
        description:
          "Manager or owner. With an `Idempotency-Key`, a retry gets the first location back instead of a second one.",
        body: z.strictObject({ name: Name, address: Address.optional() }),
        headers: IdempotencyHeaders,
        response: createResponses(LocationSchema),
      },
    },
    async (req, reply) =>
      createOnce(ctx, req, reply, "location.create", (tx, now) =>
        createLocationInTx(tx, req.actor, req.body, now),
      ),
  );

  app.get(
    "/locations/:id",
    {
      schema: {
        tags: ["locations"],
        summary: "Get a location",
        description: "Any role. Errors: `location_not_found` (404).",
        params: IdParams,
        response: { 200: LocationSchema, 404: ErrorResponse },
      },
    },
    async (req) => getLocation(ctx.db, req.actor, req.params.id),
  );

  app.patch(
    "/locations/:id",
    {
      config: { role: "manager" },
      schema: {
        tags: ["locations"],
        summary: "Change a location",
        description:
          "Renames it, changes or clears (`null`) its address, archives it (no new purchases; history stays) or restores it. Manager or owner. Errors: `location_not_found` (404).",
        params: IdParams,
        body: z
          .strictObject({
            name: Name.optional(),
            address: Address.nullable().optional(),
            archived: z.boolean().optional(),
          })
          .refine((b) => Object.keys(b).length > 0, { error: "send at least one field to change" }),
        response: { 200: LocationSchema, 404: ErrorResponse },
      },
    },
    async (req) => updateLocation(ctx.db, req.actor, req.params.id, req.body, ctx.clock.now()),
  );
}
