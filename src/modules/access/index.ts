import { hash as argonHash, verify as argonVerify } from "@node-rs/argon2";
import type { Actor, Role } from "../../context.ts";
import type { Db, Tx } from "../../db/database.ts";
import type { StaffTable } from "../../db/schema.ts";
import { AppError } from "../../shared/errors.ts";
import { newId, randomSecret, sha256 } from "../../shared/ids.ts";

/**
 * Staff accounts, login sessions and API keys.
 *
 * Secrets are never stored: passwords as argon2id hashes, session tokens and API keys as SHA-256
 * of 256-bit random secrets. Tokens carry their business id (`rk_<business>_<secret>`), so every
 * lookup is by (business_id, hash) and routes to one shard on a distributed cluster.
 */

export const SESSION_TTL_MS = 30 * 86_400_000;

export async function hashPassword(password: string): Promise<string> {
  // @node-rs/argon2 defaults to argon2id with OWASP-recommended cost parameters.
  return argonHash(password);
}

export async function verifyPassword(hash: string, password: string): Promise<boolean> {
  try {
    return await argonVerify(hash, password);
  } catch {
    return false;
  }
}

// A fixed hash to verify against when the email is unknown, so a wrong email and a wrong password
// take the same time and cannot be told apart.
let dummyHash: Promise<string> | null = null;
function dummy(): Promise<string> {
  dummyHash ??= argonHash("regulars-dummy-password");
  return dummyHash;
}

const compactId = (uuid: string) => uuid.replace(/-/g, "");
function expandId(hex: string): string {
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Builds a bearer token that names its business: `<kind>_<business hex>_<secret>`. */
export function makeToken(kind: "rk" | "rs", businessId: string): string {
  return `${kind}_${compactId(businessId)}_${randomSecret()}`;
}

/** Splits a bearer token into its kind, business and hash, or null when it is not one of ours. */
export function parseToken(token: string): { kind: "rk" | "rs"; businessId: string; hash: string } | null {
  const match = /^(rk|rs)_([0-9a-f]{32})_([A-Za-z0-9_-]{43})$/.exec(token);
  if (!match) return null;
  return { kind: match[1] as "rk" | "rs", businessId: expandId(match[2] ?? ""), hash: sha256(token) };
}

const unauthorized = () =>
  new AppError(
    401,
    "unauthorized",
    "Missing, invalid or expired credentials. Send `Authorization: Bearer <token>`.",
  );

/**
 * Resolves a bearer token (API key or session) to the acting staff member or key.
 *
 * @example const actor = await authenticate(db, "rk_0193…_abc…", new Date())
 */
export async function authenticate(db: Db, token: string, now: Date): Promise<Actor> {
  const parsed = parseToken(token);
  if (!parsed) throw unauthorized();
  if (parsed.kind === "rk") {
    const key = await db
      .updateTable("api_keys")
      .set({ last_used_at: now })
      .where("business_id", "=", parsed.businessId)
      .where("key_hash", "=", parsed.hash)
      .where("revoked_at", "is", null)
      .returning(["id", "role"])
      .executeTakeFirst();
    if (!key) throw unauthorized();
    return { businessId: parsed.businessId, kind: "api_key", id: key.id, role: key.role };
  }
  const session = await db
    .selectFrom("staff_sessions as s")
    .innerJoin("staff as st", (j) =>
      j.onRef("st.business_id", "=", "s.business_id").onRef("st.id", "=", "s.staff_id"),
    )
    .select(["st.id", "st.role"])
    .where("s.business_id", "=", parsed.businessId)
    .where("s.token_hash", "=", parsed.hash)
    .where("s.revoked_at", "is", null)
    .where("s.expires_at", ">", now)
    .where("st.disabled_at", "is", null)
    .executeTakeFirst();
  if (!session) throw unauthorized();
  return { businessId: parsed.businessId, kind: "staff", id: session.id, role: session.role };
}

export interface StaffDto {
  id: string;
  email: string;
  name: string;
  role: Role;
  disabled: boolean;
  created_at: string;
}

export function staffDto(
  row: Pick<StaffTable, "id" | "email" | "name" | "role" | "disabled_at" | "created_at">,
): StaffDto {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    role: row.role,
    disabled: row.disabled_at !== null,
    created_at: row.created_at.toISOString(),
  };
}

/** Opens a session for a staff member and returns its bearer token (shown once). */
export async function createSession(
  tx: Tx,
  businessId: string,
  staffId: string,
  now: Date,
): Promise<{ token: string; expires_at: string }> {
  const token = makeToken("rs", businessId);
  const expires = new Date(now.getTime() + SESSION_TTL_MS);
  await tx
    .insertInto("staff_sessions")
    .values({
      business_id: businessId,
      id: newId(now.getTime()),
      staff_id: staffId,
      token_hash: sha256(token),
      created_at: now,
      expires_at: expires,
      revoked_at: null,
    })
    .execute();
  return { token, expires_at: expires.toISOString() };
}

/**
 * Checks a staff member's email and password within a business (named by its slug).
 * Wrong slug, email or password all give the same `401 invalid_credentials`.
 */
export async function login(
  db: Db,
  input: { business: string; email: string; password: string },
  now: Date,
): Promise<{ token: string; expires_at: string; staff: StaffDto; business_id: string }> {
  const row = await db
    .selectFrom("staff as st")
    .innerJoin("businesses as b", "b.id", "st.business_id")
    .select([
      "st.business_id",
      "st.id",
      "st.email",
      "st.name",
      "st.role",
      "st.password_hash",
      "st.disabled_at",
      "st.created_at",
    ])
    .where("b.slug", "=", input.business.toLowerCase())
    .where("st.email", "=", input.email.toLowerCase())
    .executeTakeFirst();
  const ok = await verifyPassword(row?.password_hash ?? (await dummy()), input.password);
  if (!row || !ok || row.disabled_at) {
    throw new AppError(401, "invalid_credentials", "The business, email or password is not correct.");
  }
  const session = await db.transaction().execute((tx) => createSession(tx, row.business_id, row.id, now));
  return { ...session, staff: staffDto(row), business_id: row.business_id };
}

export async function logout(db: Db, token: string, now: Date): Promise<void> {
  const parsed = parseToken(token);
  if (!parsed || parsed.kind !== "rs") return;
  await db
    .updateTable("staff_sessions")
    .set({ revoked_at: now })
    .where("business_id", "=", parsed.businessId)
    .where("token_hash", "=", parsed.hash)
    .where("revoked_at", "is", null)
    .execute();
}
