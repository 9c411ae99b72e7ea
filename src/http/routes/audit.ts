import { z } from "zod";
import type { AppContext } from "../../context.ts";
import { listAuditLog } from "../../modules/audit/index.ts";
import type { ZodApp } from "../app.ts";
import { PageQuery, page } from "../schemas.ts";

const AuditEntrySchema = z.object({
  id: z.string(),
  actor: z.string().describe("`staff:<id>`, `api_key:<id>` or `system:<job>`"),
  action: z.string(),
  target_type: z.string().nullable(),
  target_id: z.string().nullable(),
  data: z.unknown(),
  created_at: z.string(),
});

/** The audit log: who did what, for owners and managers to review. */
export async function auditRoutes(app: ZodApp, ctx: AppContext): Promise<void> {
  app.get(
    "/audit-log",
    {
      config: { role: "manager" },
      schema: {
        tags: ["audit"],
        summary: "Read the audit log",
        description:
          "Every staff and integration action, newest first; `action` (e.g. `staff.updated`) keeps only that action. Manager or owner. Errors: `invalid_cursor` (400).",
        querystring: PageQuery.extend({ action: z.string().min(1).max(100).optional() }),
        response: { 200: page(AuditEntrySchema) },
      },
    },
    async (req) => listAuditLog(ctx.db, req.actor, req.query),
  );
}
