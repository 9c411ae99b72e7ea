import type { Db } from "./db/database.ts";
import { ApiKeyCache } from "./modules/access/index.ts";
import { SnapshotCache } from "./modules/program/snapshot.ts";
import type { Clock } from "./shared/clock.ts";
import { FailureLimit } from "./shared/failure-limit.ts";

/** Limits on unauthenticated endpoints, per client IP. */
export interface AuthLimits {
  signupsPerHour: number;
  loginsPerMinute: number;
  /** Customers joining from a business's join page (a café's Wi-Fi is one IP for all); default 300. */
  joinsPerHour?: number;
  /** Requests with a refused credential (401) per minute per IP before the IP is refused; default 60. */
  failedAuthPerMinute?: number;
  /** Failed log-ins to one account in 15 minutes, from any address, before it is refused; default 10. */
  failedLoginsPerAccount?: number;
}

/** The window of `failedLoginsPerAccount`. */
export const LOGIN_FAILURE_WINDOW_MS = 15 * 60_000;

export const DEFAULT_AUTH_LIMITS: AuthLimits = { signupsPerHour: 20, loginsPerMinute: 10 };

/** What every use case needs: the database, the clock and the program cache. Nothing global. */
export interface AppContext {
  db: Db;
  clock: Clock;
  snapshots: SnapshotCache;
  apiKeys: ApiKeyCache;
  limits: AuthLimits;
  /** Failed authentications per client IP (`limits.failedAuthPerMinute`). */
  authFailures: FailureLimit;
  /** Failed log-ins per account, from any address (`limits.failedLoginsPerAccount`). */
  loginFailures: FailureLimit;
}

/** Builds the context for a server, a CLI command or a test. */
export function createContext(db: Db, clock: Clock, limits: AuthLimits = DEFAULT_AUTH_LIMITS): AppContext {
  return {
    db,
    clock,
    snapshots: new SnapshotCache(),
    apiKeys: new ApiKeyCache(),
    limits,
    authFailures: new FailureLimit(limits.failedAuthPerMinute ?? 60),
    loginFailures: new FailureLimit(
      limits.failedLoginsPerAccount ?? 10,
      LOGIN_FAILURE_WINDOW_MS,
      "failed log-ins to this account",
      (account) => account,
    ),
  };
}

export type Role = "owner" | "manager" | "cashier";

/** Who is acting, inside which business. Every use case receives one and scopes all SQL by it. */
export interface Actor {
  businessId: string;
  /** `member`: a customer acting on their own card in the wallet (role is then irrelevant). */
  kind: "staff" | "api_key" | "system" | "member";
  id: string;
  role: Role;
}

/**
 * How an actor is written on ledger entries and audit rows: `staff:<id>`, `api_key:<id>`,
 * `system:<job>`, `member:<id>` (a customer on their own card; `member:self` when joining).
 */
export function actorLabel(actor: Actor): string {
  return `${actor.kind}:${actor.id}`;
}

const RANK: Record<Role, number> = { cashier: 1, manager: 2, owner: 3 };

/** True when `role` is at least `required` (owner > manager > cashier). */
export function roleAtLeast(role: Role, required: Role): boolean {
  return RANK[role] >= RANK[required];
}
