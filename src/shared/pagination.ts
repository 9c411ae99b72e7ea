import { createHash } from "node:crypto";
import { AppError } from "./errors.ts";

/**
 * Cursors are opaque to clients: base64url of a tag of the list they page and the last row's
 * sort key. The tag is a digest of the list's scope (`CursorScope`: its name, the business and
 * its filters), so a cursor of another list, another business or another filter is refused
 * (`400 invalid_cursor`) rather than giving a page of something else, or an empty last page.
 *
 * @example const next = encodeCursor(rows.at(-1)!.id, ["members", businessId, query.q ?? null])
 */
export type CursorScope = readonly (string | number | boolean | null | undefined)[];

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function scopeTag(scope: CursorScope): string {
  return createHash("sha256")
    .update(JSON.stringify(scope.map((part) => part ?? null)))
    .digest("base64url")
    .slice(0, 10);
}

function invalidCursor(): AppError {
  return new AppError(400, "invalid_cursor", "The cursor is not one this API returned.");
}

/** The cursor's payload, once its tag says it belongs to `scope`. */
function payloadOf(cursor: string, scope: CursorScope): string {
  const text = Buffer.from(cursor, "base64url").toString("utf8");
  const dot = text.indexOf(".");
  if (dot < 0) throw invalidCursor();
  if (text.slice(0, dot) !== scopeTag(scope)) {
    throw new AppError(
      400,
      "invalid_cursor",
      "The cursor belongs to another list, another business or other filters: page this list from its start, without a cursor, with the same filters on every page.",
    );
  }
  return text.slice(dot + 1);
}

function encode(payload: string, scope: CursorScope): string {
  return Buffer.from(`${scopeTag(scope)}.${payload}`, "utf8").toString("base64url");
}

/** A cursor after the row `id` (a time-ordered UUID) in the list `scope` names. */
export function encodeCursor(id: string, scope: CursorScope): string {
  return encode(id, scope);
}

export function decodeCursor(cursor: string | undefined, scope: CursorScope): string | undefined {
  if (cursor === undefined) return undefined;
  const id = payloadOf(cursor, scope);
  if (!UUID.test(id)) throw invalidCursor();
  return id;
}

/**
 * A cursor that carries the last row's sort key itself (a rule's priority, a tier's rank, …),
 * for lists ordered by something that can change: the next page starts after those values, not
 * after wherever that row has moved to since.
 *
 * @example encodeKeyCursor([rule.priority, rule.created_at.toISOString(), rule.id], scope)
 */
export function encodeKeyCursor(key: readonly (string | number | boolean)[], scope: CursorScope): string {
  return encode(JSON.stringify(key), scope);
}

/** The sort key of a `encodeKeyCursor` cursor, checked against `shape` (one type per value). */
export function decodeKeyCursor(
  cursor: string | undefined,
  scope: CursorScope,
  shape: readonly ("number" | "string" | "boolean" | "uuid" | "time")[],
): (string | number | boolean)[] | undefined {
  if (cursor === undefined) return undefined;
  let key: unknown;
  try {
    key = JSON.parse(payloadOf(cursor, scope));
  } catch (error) {
    if (error instanceof AppError) throw error;
    throw invalidCursor();
  }
  if (!Array.isArray(key) || key.length !== shape.length) throw invalidCursor();
  key.forEach((value, i) => {
    const want = shape[i];
    const ok =
      want === "uuid"
        ? typeof value === "string" && UUID.test(value)
        : want === "time"
          ? typeof value === "string" && !Number.isNaN(Date.parse(value))
          : typeof value === want && (want !== "number" || Number.isFinite(value));
    if (!ok) throw invalidCursor();
  });
  return key as (string | number | boolean)[];
}

/**
 * A cursor for a list in the order things happened: the last row's time and id (ties by id).
 *
 * @example const next = encodeTimeCursor(last.occurred_at, last.id)
 */
export function encodeTimeCursor(at: Date, id: string, scope: CursorScope): string {
  return encode(`${at.toISOString()} ${id}`, scope);
}

export function decodeTimeCursor(
  cursor: string | undefined,
  scope: CursorScope,
): { at: Date; id: string } | undefined {
  if (cursor === undefined) return undefined;
  const [at = "", id = "", ...rest] = payloadOf(cursor, scope).split(" ");
  const time = new Date(at);
  if (
    rest.length > 0 ||
    !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(at) ||
    Number.isNaN(time.getTime()) ||
    !UUID.test(id)
  ) {
    throw invalidCursor();
  }
  return { at: time, id };
}

/** A page to read: at most `limit` rows after the row whose id the cursor holds. */
export interface PageRequest {
  limit: number;
  cursor?: string;
}

/**
 * Turns `limit + 1` fetched rows into a page and the cursor of the next one: after the last row's
 * id, or after its sort key (`key`) for a list ordered by values that can change.
 */
export function toPage<R extends { id: string }, D>(
  rows: R[],
  limit: number,
  map: (row: R) => D,
  scope: CursorScope,
  key?: (row: R) => readonly (string | number | boolean)[],
): { data: D[]; next_cursor: string | null } {
  const more = rows.length > limit;
  const pageRows = more ? rows.slice(0, limit) : rows;
  const last = pageRows.at(-1);
  const next = !more || !last ? null : key ? encodeKeyCursor(key(last), scope) : encodeCursor(last.id, scope);
  return { data: pageRows.map(map), next_cursor: next };
}
