import type { Actor } from "../../context.ts";
import { actorLabel } from "../../context.ts";
import type { Tx } from "../../db/database.ts";
import { newId } from "../../shared/ids.ts";

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
