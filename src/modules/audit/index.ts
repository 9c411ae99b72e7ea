import type { Actor } from "../../context.ts";
import { actorLabel } from "../../context.ts";
import type { Db, Tx } from "../../db/database.ts";
import type { AuditLogTable } from "../../db/schema.ts";
import { newId } from "../../shared/ids.ts";
import { decodeCursor, toPage } from "../../shared/pagination.ts";

export interface AuditRecord {
  action: string;
  targetType?: string;
  targetId?: string;
  data?: Record<string, unknown>;
}

/**
 * Records a staff or integration action in the business's audit log, inside the caller's
 * transaction so the record exists exactly when the change does. Never put secrets in `data`.
 *
 * @example await audit(tx, actor, now, { action: "member.adjusted", targetType: "member", targetId: id })
 */
export async function audit(tx: Tx, actor: Actor, now: Date, record: AuditRecord): Promise<void> {
  await tx
    .insertInto("audit_log")
    .values({
      business_id: actor.businessId,
      id: newId(now.getTime()),
      actor: actorLabel(actor),
      action: record.action,
      target_type: record.targetType ?? null,
      target_id: record.targetId ?? null,
      data: JSON.stringify(record.data ?? {}),
      created_at: now,
    })
    .execute();
}

export interface AuditEntry {
  id: string;
  actor: string;
  action: string;
  target_type: string | null;
  target_id: string | null;
  data: unknown;
  created_at: string;
}

function auditEntryDto(row: Omit<AuditLogTable, "business_id">): AuditEntry {
  return {
    id: row.id,
    actor: row.actor,
    action: row.action,
    target_type: row.target_type,
    target_id: row.target_id,
    data: row.data,
    created_at: row.created_at.toISOString(),
  };
}

/**
 * Reads the business's audit log, newest first, optionally only one `action`.
 *
 * @example await listAuditLog(db, actor, { limit: 50, action: "staff.updated" })
 */
export async function listAuditLog(
  db: Db,
  actor: Actor,
  query: { limit: number; cursor?: string | undefined; action?: string | undefined },
): Promise<{ data: AuditEntry[]; next_cursor: string | null }> {
  const scope = ["audit_log", actor.businessId, query.action];
  const before = decodeCursor(query.cursor, scope);
  let q = db
    .selectFrom("audit_log")
    .select(["id", "actor", "action", "target_type", "target_id", "data", "created_at"])
    .where("business_id", "=", actor.businessId);
  if (before) q = q.where("id", "<", before);
  if (query.action !== undefined) q = q.where("action", "=", query.action);
  const rows = await q
    .orderBy("id", "desc")
    .limit(query.limit + 1)
    .execute();
  return toPage(rows, query.limit, auditEntryDto, scope);
}
