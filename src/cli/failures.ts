import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { type Config, describeDatabase } from "../config.ts";

/**
 * The failures an operator can fix (a port in use, a HOST that is no address, a database that
 * cannot be reached or used, a DATA_DIR that cannot be written), each said in one line with what
 * to do. They are told apart where they happen (listening, opening the database, migrating), so
 * an unknown host name is reported as the HOST's or the database's, whichever it was.
 */

/** A failure the command line prints as its one-line message (exit 1), without a stack trace. */
export class ExpectedFailure extends Error {
  override name = "ExpectedFailure";
}

type SystemError = NodeJS.ErrnoException & { address?: string; port?: number; hostname?: string };

/**
 * Says why the server cannot listen on the configured HOST and PORT: the port in use, no such
 * address, no permission, or a host name that does not resolve.
 *
 * @example listenFailure(error, config).message // "Cannot listen on 127.0.0.1:3000: the port is in use …"
 */
export function listenFailure(error: unknown, config: Pick<Config, "host" | "port">): Error {
  const system = error as SystemError;
  if (!(error instanceof Error) || typeof system.code !== "string") return error as Error;
  if (system.syscall === "getaddrinfo" || system.code === "ENOTFOUND" || system.code === "EAI_AGAIN") {
    return new ExpectedFailure(
      `Cannot listen on HOST "${config.host}": no such address (${system.code}). Set HOST to one of this machine's addresses (127.0.0.1 for this machine only), or 0.0.0.0 for every one.`,
    );
  }
  const where = `${system.address ?? config.host}:${system.port ?? config.port}`;
  const why =
    system.code === "EADDRINUSE"
      ? "the port is in use (another server running?). Stop it, or set PORT to a free port."
      : system.code === "EADDRNOTAVAIL"
        ? "this machine has no such address. Set HOST to one of its addresses, or 0.0.0.0."
        : system.code === "EACCES"
          ? "permission denied (ports below 1024 need privileges). Set PORT to 1024 or above."
          : error.message;
  return new ExpectedFailure(`Cannot listen on ${where}: ${why}`);
}

/** Network failures on the way to a database server. */
const NETWORK = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EPIPE",
]);

/** The certificate errors of Node's TLS: the server's certificate is not one Node trusts. */
const CERTIFICATE =
  /^(SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT(_LOCALLY)?|CERT_HAS_EXPIRED|CERT_NOT_YET_VALID|CERT_UNTRUSTED|CERT_REJECTED|ERR_TLS_CERT_ALTNAME_INVALID|ERR_SSL_.*)$/;

/**
 * The hint for a database failure the operator can fix, or undefined for one that is not about
 * reaching or using the database (a bug, which keeps its stack trace). `during` is what the
 * command was doing: a missing privilege while migrating is the role's, not the code's.
 */
export function databaseHint(error: unknown, during: "connect" | "migrate" | "work"): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const code = "code" in error ? String(error.code) : "";
  const message = error.message;
  if (NETWORK.has(code)) {
    return "Is the database server running, and are the host and port in DATABASE_URL right?";
  }
  if (code === "28P01") return "Check the user name and password in DATABASE_URL.";
  if (code === "28000") {
    return /pg_hba|no encryption|SSL off/i.test(message)
      ? "The server does not accept this connection (pg_hba.conf): it may need TLS (add ?sslmode=require to DATABASE_URL), or another user or host."
      : "Check the user name in DATABASE_URL; the role must exist and be allowed to log in.";
  }
  if (code === "3D000") {
    return "Create the database (createdb <name>), or fix its name at the end of DATABASE_URL.";
  }
  if (code.startsWith("08") || code === "57P03" || code === "53300") {
    return "The server refused or dropped the connection; check DATABASE_URL and the server's log.";
  }
  if (code === "42501" && during === "migrate" && /for (table|sequence|relation)/i.test(message)) {
    return "The role of DATABASE_URL may not use the tables another role made: connect as the role that owns them (the one the migrations ran as), or make this role their owner.";
  }
  if (code === "42501" && during === "migrate" && /extension/i.test(message)) {
    return "The role of DATABASE_URL may not create the extensions member search uses (pg_trgm, btree_gin): make it the database's owner (ALTER DATABASE <name> OWNER TO <role>), GRANT CREATE ON DATABASE <name> TO <role>, or have a superuser run CREATE EXTENSION pg_trgm; CREATE EXTENSION btree_gin; in the database first.";
  }
  if (code === "42501" && during === "migrate") {
    return "The role of DATABASE_URL may not create tables: make it the database's owner (ALTER DATABASE <name> OWNER TO <role>) or GRANT CREATE ON SCHEMA public TO <role> (PostgreSQL 15 and later no longer grant it to every role).";
  }
  if (CERTIFICATE.test(code)) {
    return "The server's TLS certificate is not one Node trusts: give Node its CA with NODE_EXTRA_CA_CERTS=/path/to/ca.pem, or, on a network you trust, use ?sslmode=no-verify in DATABASE_URL.";
  }
  if (/does not support SSL/i.test(message)) {
    return "Remove sslmode from DATABASE_URL (or set sslmode=disable), or turn TLS on at the server.";
  }
  if (/Connection terminated|timeout expired|timeout exceeded|connection timeout/i.test(message)) {
    return "The connection was closed or timed out: is the host reachable (a firewall?), and does the server want TLS (?sslmode=require in DATABASE_URL)?";
  }
  return undefined;
}

/**
 * The one-line failure for a database that cannot be reached or used, with the URL masked and a
 * hint; the error itself when it is not one of those.
 */
export function databaseFailure(
  error: unknown,
  config: Config,
  during: "connect" | "migrate" | "work",
): unknown {
  if (error instanceof ExpectedFailure) return error;
  const hint = databaseHint(error, during);
  if (hint === undefined) return error;
  const message = (error as Error).message.replace(/\.$/, "");
  return new ExpectedFailure(`Cannot use the database, ${describeDatabase(config)}: ${message}. ${hint}`);
}

/** Files PostgreSQL (and a PGlite directory) holds, and the lock the server writes there. */
const DATABASE_FILES =
  /^(PG_VERSION|base|global|pg_\w+|postgresql(\.auto)?\.conf|postmaster\.\w+|regulars\.lock)$/;

/**
 * Refuses a DATA_DIR that cannot hold the embedded database: a file, a directory with other files
 * and no database (the database's files would be strewn among them), or one this user cannot
 * write. A missing directory is fine: it is created.
 */
export function checkDataDir(dir: string): void {
  let stat: ReturnType<typeof statSync>;
  try {
    stat = statSync(dir, { throwIfNoEntry: false });
  } catch (error) {
    throw dataDirFailure(error, dir);
  }
  if (!stat) return;
  if (!stat.isDirectory()) {
    throw new ExpectedFailure(
      `DATA_DIR "${dir}" is a file, not a directory. Set DATA_DIR to a directory for the database (a new one is created).`,
    );
  }
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch (error) {
    throw dataDirFailure(error, dir);
  }
  if (entries.includes("PG_VERSION")) return;
  // A start stopped while the database was being written may leave PostgreSQL's files without
  // PG_VERSION: that directory is the database's, and the next start creates it again.
  const others = entries.filter((name) => !DATABASE_FILES.test(name));
  if (others.length > 0) {
    const shown = others.slice(0, 3).join(", ") + (others.length > 3 ? ", …" : "");
    throw new ExpectedFailure(
      `DATA_DIR "${dir}" has other files (${shown}) and no database: choose an empty or new directory for the database, e.g. DATA_DIR=${join(dir, "regulars-data")}.`,
    );
  }
}

/** A file-system failure on DATA_DIR, worded with DATA_DIR and what to do. */
export function dataDirFailure(error: unknown, dir: string): unknown {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const reasons: Record<string, string> = {
    EACCES: "permission denied",
    EPERM: "permission denied",
    EROFS: "the file system is read-only",
    EEXIST: "a file of that name is in the way",
    ENOTDIR: "part of the path is a file, not a directory",
    ENOSPC: "the disk is full",
    EISDIR: "a directory is where a file should be",
  };
  const reason = code ? reasons[code] : undefined;
  if (!reason) return error;
  return new ExpectedFailure(
    `DATA_DIR "${dir}" cannot be used: ${reason} (${code}). Set DATA_DIR to a directory this user can write${code === "ENOSPC" ? ", on a disk with space" : ""}.`,
  );
}
