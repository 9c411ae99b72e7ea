import { hash as argonHash, verify as argonVerify } from "@node-rs/argon2";
import { sql } from "kysely";
import type { Actor, Role } from "../../context.ts";
import type { Db, Tx } from "../../db/database.ts";
import type { ApiKeysTable, StaffTable } from "../../db/schema.ts";
import { AppError, conflict, notFound } from "../../shared/errors.ts";
import { newId, randomSecret, sha256 } from "../../shared/ids.ts";
import { decodeCursor, toPage } from "../../shared/pagination.ts";
import { audit } from "../audit/index.ts";

/**
 * Staff accounts, login sessions and API keys.
 *
 * Secrets are never stored: passwords as argon2id hashes, session tokens and API keys as SHA-256
 * of 256-bit random secrets. Tokens carry their business id (`rk_<business>_<secret>`), so every
 * lookup is by (business_id, hash) and routes to one shard on a distributed cluster.
 */

export const SESSION_TTL_MS = 30 * 86_400_000;
const LAST_USED_RESOLUTION_MS = 60_000;

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
export function makeToken(kind: TokenKind, businessId: string): string {
  return `${kind}_${compactId(businessId)}_${randomSecret()}`;
}

/** Splits a bearer token into its kind, business and hash, or null when it is not one of ours. */
export function parseToken(token: string): { kind: TokenKind; businessId: string; hash: string } | null {
  const match = /^(rk|rs|rm)_([0-9a-f]{32})_([A-Za-z0-9_-]{43})$/.exec(token);
  if (!match) return null;
  return { kind: match[1] as TokenKind, businessId: expandId(match[2] ?? ""), hash: sha256(token) };
}

/** `rk` an API key, `rs` a staff session, `rm` a member's personal card link. */
export type TokenKind = "rk" | "rs" | "rm";

/** The cookie that carries a staff session in the web app (HttpOnly: scripts never see it). */
export const SESSION_COOKIE = "regulars_session";

/** The token of an `Authorization: Bearer <token>` header, or undefined for any other header. */
export function bearerToken(header: string | undefined): string | undefined {
  return header?.startsWith("Bearer ") ? header.slice("Bearer ".length).trim() : undefined;
}

/**
 * The CSRF token of a cookie session: derived from the session secret, so it needs no storage and
 * dies with the session. The web app receives it at login (and from `/v1/auth/me`) and sends it
 * as `X-CSRF-Token` with every change; a page on another site can neither read nor guess it.
 */
export function csrfTokenFor(sessionToken: string): string {
  return sha256(`csrf:${sessionToken}`);
}

const API_KEY_CACHE_MS = 5_000;
const API_KEY_CACHE_MAX = 10_000;

/**
 * Verified API keys, kept for a few seconds so a till's every purchase does not look its key up
 * again (a round trip on the hot path). A key revoked on this node stops at once; on other nodes
 * within `API_KEY_CACHE_MS`. Staff sessions are not cached: disabling a person takes effect at once.
 */
export class ApiKeyCache {
  private readonly entries = new Map<string, { actor: Actor; until: number }>();
  /**
   * Moves with every revocation. A lookup that began before a revocation may have read the key
   * still live: it must not put it back (`put` with the generation read before the lookup).
   */
  #generation = 0;

  get generation(): number {
    return this.#generation;
  }

  get(hash: string, now: Date): Actor | undefined {
    const hit = this.entries.get(hash);
    if (hit && hit.until > now.getTime()) return hit.actor;
    if (hit) this.entries.delete(hash);
    return undefined;
  }

  /** Keeps a key verified by a lookup that began at `generation` (no revocation since). */
  put(hash: string, actor: Actor, now: Date, generation: number): void {
    if (generation !== this.#generation) return;
    if (this.entries.size >= API_KEY_CACHE_MAX) this.entries.clear();
    this.entries.set(hash, { actor, until: now.getTime() + API_KEY_CACHE_MS });
  }

  /** Forgets a revoked key. */
  forget(businessId: string, keyId: string): void {
    this.#generation++;
    for (const [hash, hit] of this.entries) {
      if (hit.actor.businessId === businessId && hit.actor.id === keyId) this.entries.delete(hash);
    }
  }
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
export async function authenticate(db: Db, token: string, now: Date, keys?: ApiKeyCache): Promise<Actor> {
  const parsed = parseToken(token);
  if (!parsed || parsed.kind === "rm") throw unauthorized();
  if (parsed.kind === "rk") {
    const cached = keys?.get(parsed.hash, now);
    if (cached) return cached;
    const generation = keys?.generation ?? 0;
    const key = await db
      .selectFrom("api_keys")
      .select(["id", "role", "last_used_at"])
      .where("business_id", "=", parsed.businessId)
      .where("key_hash", "=", parsed.hash)
      .where("revoked_at", "is", null)
      .executeTakeFirst();
    if (!key) throw unauthorized();
    // "Last used" is shown to owners to the minute; writing it on every request would add a write
    // to every purchase, so it moves at most once a minute.
    if (!key.last_used_at || now.getTime() - key.last_used_at.getTime() > LAST_USED_RESOLUTION_MS) {
      await db
        .updateTable("api_keys")
        .set({ last_used_at: now })
        .where("business_id", "=", parsed.businessId)
        .where("id", "=", key.id)
        .execute();
    }
    const actor: Actor = { businessId: parsed.businessId, kind: "api_key", id: key.id, role: key.role };
    keys?.put(parsed.hash, actor, now, generation);
    return actor;
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
  if (parsed?.kind !== "rs") return;
  await db
    .updateTable("staff_sessions")
    .set({ revoked_at: now })
    .where("business_id", "=", parsed.businessId)
    .where("token_hash", "=", parsed.hash)
    .where("revoked_at", "is", null)
    .execute();
}

/** One page of a list: the rows and the opaque cursor of the next page (null on the last). */
export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

/** Which page to read: at most `limit` rows after `cursor` (a cursor this API returned). */
export interface PageRequest {
  limit: number;
  cursor?: string | undefined;
}

const STAFF_COLUMNS = ["id", "email", "name", "role", "disabled_at", "created_at"] as const;

/**
 * Lists the business's staff, oldest first.
 *
 * @example const { data, next_cursor } = await listStaff(db, actor, { limit: 50 })
 */
export async function listStaff(db: Db, actor: Actor, page: PageRequest): Promise<Page<StaffDto>> {
  const scope = ["staff", actor.businessId];
  const after = decodeCursor(page.cursor, scope);
  let query = db.selectFrom("staff").select(STAFF_COLUMNS).where("business_id", "=", actor.businessId);
  if (after) query = query.where("id", ">", after);
  const rows = await query
    .orderBy("id")
    .limit(page.limit + 1)
    .execute();
  return toPage(rows, page.limit, staffDto, scope);
}

/**
 * One staff member of the actor's business; `404 staff_not_found` otherwise.
 *
 * @example await getStaff(db, actor, staffId)
 */
export async function getStaff(db: Db, actor: Actor, staffId: string): Promise<StaffDto> {
  const row = await db
    .selectFrom("staff")
    .select(STAFF_COLUMNS)
    .where("business_id", "=", actor.businessId)
    .where("id", "=", staffId)
    .executeTakeFirst();
  if (!row) throw notFound("staff", staffId);
  return staffDto(row);
}

export interface NewStaff {
  email: string;
  name: string;
  role: Role;
  password: string;
}

/**
 * Adds a staff member who can log in at once, in the caller's transaction; the password is hashed
 * before (`hashPassword`), outside any transaction, as it takes a while. Emails are unique per
 * business (case-insensitive): `409 staff_email_taken`.
 *
 * @example await createStaffInTx(tx, actor, { email: "kim@cafe.test", name: "Kim", role: "cashier" }, await hashPassword(password), now)
 */
export async function createStaffInTx(
  tx: Tx,
  actor: Actor,
  input: Omit<NewStaff, "password">,
  passwordHash: string,
  now: Date,
): Promise<StaffDto> {
  const row: StaffTable = {
    business_id: actor.businessId,
    id: newId(now.getTime()),
    email: input.email.toLowerCase(),
    name: input.name,
    role: input.role,
    password_hash: passwordHash,
    disabled_at: null,
    created_at: now,
    updated_at: now,
  };
  // ON CONFLICT instead of a prior lookup: two concurrent sign-ups of one email cannot both pass.
  const inserted = await tx
    .insertInto("staff")
    .values(row)
    .onConflict((oc) => oc.columns(["business_id", "email"]).doNothing())
    .returning("id")
    .executeTakeFirst();
  if (!inserted) {
    throw conflict("staff_email_taken", `A staff member with email ${row.email} already exists.`);
  }
  await audit(tx, actor, now, {
    action: "staff.created",
    targetType: "staff",
    targetId: row.id,
    data: { email: row.email, name: row.name, role: row.role },
  });
  return staffDto(row);
}

export interface StaffPatch {
  name?: string | undefined;
  role?: Role | undefined;
  disabled?: boolean | undefined;
}

/**
 * Renames, changes the role of, disables or re-enables a staff member. Disabling revokes their
 * sessions. The business always keeps an active owner (`409 last_owner`), and an owner cannot
 * demote or disable their own account (`409 own_owner_account`): another owner must.
 *
 * @example await updateStaff(db, actor, staffId, { disabled: true }, now)
 */
export async function updateStaff(
  db: Db,
  actor: Actor,
  staffId: string,
  patch: StaffPatch,
  now: Date,
): Promise<StaffDto> {
  return db.transaction().execute(async (tx) => {
    // Serializes staff changes per business, so two owners demoting each other at the same
    // moment cannot both see "another owner remains" and leave the business without one.
    await sql`select pg_advisory_xact_lock(hashtextextended(${`staff/${actor.businessId}`}, 0))`.execute(tx);
    const current = await tx
      .selectFrom("staff")
      .select(STAFF_COLUMNS)
      .where("business_id", "=", actor.businessId)
      .where("id", "=", staffId)
      .executeTakeFirst();
    if (!current) throw notFound("staff", staffId);
    const losesOwner =
      current.role === "owner" &&
      current.disabled_at === null &&
      ((patch.role !== undefined && patch.role !== "owner") || patch.disabled === true);
    if (losesOwner) await assertAnotherOwner(tx, actor, staffId);
    const disabledAt =
      patch.disabled === undefined
        ? current.disabled_at
        : patch.disabled
          ? (current.disabled_at ?? now)
          : null;
    const row = await tx
      .updateTable("staff")
      .set({
        name: patch.name ?? current.name,
        role: patch.role ?? current.role,
        disabled_at: disabledAt,
        updated_at: now,
      })
      .where("business_id", "=", actor.businessId)
      .where("id", "=", staffId)
      .returning(STAFF_COLUMNS)
      .executeTakeFirstOrThrow();
    if (disabledAt && !current.disabled_at) await revokeSessions(tx, actor.businessId, staffId, now);
    await audit(tx, actor, now, {
      action: "staff.updated",
      targetType: "staff",
      targetId: staffId,
      data: { ...patch },
    });
    return staffDto(row);
  });
}

async function assertAnotherOwner(tx: Tx, actor: Actor, staffId: string): Promise<void> {
  const owners = await tx
    .selectFrom("staff")
    .select("id")
    .where("business_id", "=", actor.businessId)
    .where("role", "=", "owner")
    .where("disabled_at", "is", null)
    .execute();
  if (!owners.some((o) => o.id !== staffId)) {
    throw conflict(
      "last_owner",
      "This is the last active owner: promote another staff member to owner first.",
    );
  }
  if (actor.kind === "staff" && actor.id === staffId) {
    throw conflict(
      "own_owner_account",
      "You cannot demote or disable your own owner account; another owner must do it.",
    );
  }
}

/**
 * Sets a new password for a staff member and revokes all of their sessions (yours too, when you
 * reset your own), so whoever knew the old password is logged out.
 *
 * @example await resetStaffPassword(db, actor, staffId, "a new long password", now)
 */
export async function resetStaffPassword(
  db: Db,
  actor: Actor,
  staffId: string,
  password: string,
  now: Date,
): Promise<void> {
  const passwordHash = await hashPassword(password);
  await db.transaction().execute(async (tx) => {
    const row = await tx
      .updateTable("staff")
      .set({ password_hash: passwordHash, updated_at: now })
      .where("business_id", "=", actor.businessId)
      .where("id", "=", staffId)
      .returning("id")
      .executeTakeFirst();
    if (!row) throw notFound("staff", staffId);
    await revokeSessions(tx, actor.businessId, staffId, now);
    await audit(tx, actor, now, { action: "staff.password_reset", targetType: "staff", targetId: staffId });
  });
}

async function revokeSessions(tx: Tx, businessId: string, staffId: string, now: Date): Promise<void> {
  await tx
    .updateTable("staff_sessions")
    .set({ revoked_at: now })
    .where("business_id", "=", businessId)
    .where("staff_id", "=", staffId)
    .where("revoked_at", "is", null)
    .execute();
}

export interface ApiKeyDto {
  id: string;
  name: string;
  role: "manager" | "cashier";
  /** The key's first characters, enough to tell keys apart; never the secret. */
  prefix: string;
  created_at: string;
  last_used_at: string | null;
  revoked: boolean;
  revoked_at: string | null;
}

// "rk_" + 32 hex of the business + "_" name only the business, the same for all of its keys; six
// characters of the secret (36 of its 256 bits) tell one key from another.
const API_KEY_PREFIX_CHARS = 3 + 32 + 1 + 6;
const API_KEY_COLUMNS = [
  "id",
  "name",
  "role",
  "key_prefix",
  "created_at",
  "last_used_at",
  "revoked_at",
] as const;

function apiKeyDto(row: Pick<ApiKeysTable, (typeof API_KEY_COLUMNS)[number]>): ApiKeyDto {
  return {
    id: row.id,
    name: row.name,
    role: row.role,
    prefix: row.key_prefix,
    created_at: row.created_at.toISOString(),
    last_used_at: row.last_used_at?.toISOString() ?? null,
    revoked: row.revoked_at !== null,
    revoked_at: row.revoked_at?.toISOString() ?? null,
  };
}

/**
 * Lists the business's API keys, oldest first, without their secrets.
 *
 * @example await listApiKeys(db, actor, { limit: 50 })
 */
export async function listApiKeys(db: Db, actor: Actor, page: PageRequest): Promise<Page<ApiKeyDto>> {
  const scope = ["api_keys", actor.businessId];
  const after = decodeCursor(page.cursor, scope);
  let query = db.selectFrom("api_keys").select(API_KEY_COLUMNS).where("business_id", "=", actor.businessId);
  if (after) query = query.where("id", ">", after);
  const rows = await query
    .orderBy("id")
    .limit(page.limit + 1)
    .execute();
  return toPage(rows, page.limit, apiKeyDto, scope);
}

/**
 * Issues an API key for an integration. The key is returned here once; only its SHA-256 is kept.
 *
 * @example const { key } = await createApiKey(db, actor, { name: "POS", role: "cashier" }, now)
 */
export async function createApiKey(
  db: Db,
  actor: Actor,
  input: { name: string; role: "manager" | "cashier" },
  now: Date,
): Promise<ApiKeyDto & { key: string }> {
  const key = makeToken("rk", actor.businessId);
  const row = {
    business_id: actor.businessId,
    id: newId(now.getTime()),
    name: input.name,
    role: input.role,
    key_prefix: key.slice(0, API_KEY_PREFIX_CHARS),
    key_hash: sha256(key),
    created_by: actor.id,
    created_at: now,
    last_used_at: null,
    revoked_at: null,
  };
  await db.transaction().execute(async (tx) => {
    await tx.insertInto("api_keys").values(row).execute();
    await audit(tx, actor, now, {
      action: "api_key.created",
      targetType: "api_key",
      targetId: row.id,
      data: { name: row.name, role: row.role, prefix: row.key_prefix },
    });
  });
  return { ...apiKeyDto(row), key };
}

/**
 * Revokes an API key: it stops authenticating at once. Revoking a revoked key changes nothing.
 *
 * @example await revokeApiKey(db, actor, keyId, now)
 */
export async function revokeApiKey(db: Db, actor: Actor, keyId: string, now: Date): Promise<void> {
  await db.transaction().execute(async (tx) => {
    const row = await tx
      .selectFrom("api_keys")
      .select(["id", "revoked_at"])
      .where("business_id", "=", actor.businessId)
      .where("id", "=", keyId)
      .forUpdate()
      .executeTakeFirst();
    if (!row) throw notFound("api_key", keyId);
    if (row.revoked_at) return;
    await tx
      .updateTable("api_keys")
      .set({ revoked_at: now })
      .where("business_id", "=", actor.businessId)
      .where("id", "=", keyId)
      .execute();
    await audit(tx, actor, now, { action: "api_key.revoked", targetType: "api_key", targetId: keyId });
  });
}
