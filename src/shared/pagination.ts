import { AppError } from "./errors.ts";

/**
 * Cursors are opaque to clients: base64url of the last row's sort key (a time-ordered UUID).
 *
 * @example const next = encodeCursor(rows.at(-1)!.id)
 */
export function encodeCursor(id: string): string {
  return Buffer.from(id, "utf8").toString("base64url");
}

export function decodeCursor(cursor: string | undefined): string | undefined {
  if (cursor === undefined) return undefined;
  const id = Buffer.from(cursor, "base64url").toString("utf8");
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id)) {
    throw new AppError(400, "invalid_cursor", "The cursor is not one this API returned.");
  }
  return id;
}

/**
 * A cursor for a list in the order things happened: the last row's time and id (ties by id).
 *
 * @example const next = encodeTimeCursor(last.occurred_at, last.id)
 */
export function encodeTimeCursor(at: Date, id: string): string {
  return encodeCursor(`${at.toISOString()} ${id}`);
}

export function decodeTimeCursor(cursor: string | undefined): { at: Date; id: string } | undefined {
  if (cursor === undefined) return undefined;
  const [at = "", id = "", ...rest] = Buffer.from(cursor, "base64url").toString("utf8").split(" ");
  const time = new Date(at);
  if (
    rest.length > 0 ||
    !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(at) ||
    Number.isNaN(time.getTime()) ||
    !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id)
  ) {
    throw new AppError(400, "invalid_cursor", "The cursor is not one this API returned.");
  }
  return { at: time, id };
}

/** A page to read: at most `limit` rows after the row whose id the cursor holds. */
export interface PageRequest {
  limit: number;
  cursor?: string;
}

/** Turns `limit + 1` fetched rows into a page and the cursor of the next one. */
export function toPage<R extends { id: string }, D>(
  rows: R[],
  limit: number,
  map: (row: R) => D,
): { data: D[]; next_cursor: string | null } {
  const more = rows.length > limit;
  const pageRows = more ? rows.slice(0, limit) : rows;
  const last = pageRows.at(-1);
  return { data: pageRows.map(map), next_cursor: more && last ? encodeCursor(last.id) : null };
}
