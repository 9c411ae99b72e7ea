import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  checkDataDir,
  databaseFailure,
  dataDirFailure,
  ExpectedFailure,
  listenFailure,
} from "../../src/cli/failures.ts";
import { loadConfig } from "../../src/config.ts";

const dir = mkdtempSync(join(tmpdir(), "regulars-failures-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** An error as Node or pg raises it: a message and a code (a system code or a SQLSTATE). */
function raised(message: string, fields: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(message), fields);
}

describe("listenFailure", () => {
  const config = { host: "example.invalid", port: 3000 };

  it("says a HOST that does not resolve is the HOST's problem, not the database's", () => {
    const error = raised("getaddrinfo ENOTFOUND example.invalid", {
      code: "ENOTFOUND",
      syscall: "getaddrinfo",
      hostname: "example.invalid",
    });
    const failure = listenFailure(error, config);
    expect(failure).toBeInstanceOf(ExpectedFailure);
    expect(failure.message).toBe(
      `Cannot listen on HOST "example.invalid": no such address (ENOTFOUND). Set HOST to one of this machine's addresses (127.0.0.1 for this machine only), or 0.0.0.0 for every one.`,
    );
  });

  it("names the address of a port in use", () => {
    const error = raised("listen EADDRINUSE", {
      code: "EADDRINUSE",
      syscall: "listen",
      address: "127.0.0.1",
      port: 4100,
    });
    expect(listenFailure(error, config).message).toBe(
      "Cannot listen on 127.0.0.1:4100: the port is in use (another server running?). Stop it, or set PORT to a free port.",
    );
  });
});

describe("databaseFailure", () => {
  const config = loadConfig({ DATABASE_URL: "postgres://app:s3cret@db.example:5432/regulars" });
  const said = (error: Error, during: "connect" | "migrate" | "work" = "connect") => {
    const failure = databaseFailure(error, config, during);
    expect(failure).toBeInstanceOf(ExpectedFailure);
    const { message } = failure as Error;
    expect(message).not.toContain("s3cret");
    expect(message.split("\n")).toHaveLength(1);
    return message;
  };

  it.each([
    ["The server does not support SSL connections", {}, "Remove sslmode from DATABASE_URL"],
    ["Connection terminated unexpectedly", {}, "a firewall?"],
    ["Connection terminated due to connection timeout", {}, "a firewall?"],
    ["timeout exceeded when trying to connect", {}, "a firewall?"],
    [
      "self-signed certificate in certificate chain",
      { code: "SELF_SIGNED_CERT_IN_CHAIN" },
      "NODE_EXTRA_CA_CERTS",
    ],
    ["self-signed certificate", { code: "DEPTH_ZERO_SELF_SIGNED_CERT" }, "NODE_EXTRA_CA_CERTS"],
    ['password authentication failed for user "app"', { code: "28P01" }, "user name and password"],
    ['no pg_hba.conf entry for host "10.0.0.1", no encryption', { code: "28000" }, "sslmode=require"],
    ['database "regulars" does not exist', { code: "3D000" }, "createdb"],
    ["the database system is starting up", { code: "57P03" }, "the server's log"],
    ["could not connect", { code: "08006" }, "the server's log"],
    ["connect ECONNREFUSED 10.0.0.1:5432", { code: "ECONNREFUSED" }, "Is the database server running"],
  ])("says %s in one line, with the URL masked and a hint", (message, fields, hint) => {
    const line = said(raised(message, fields));
    expect(line).toMatch(
      /^Cannot use the database, PostgreSQL postgres:\/\/app:\*\*\*@db\.example:5432\/regulars/,
    );
    expect(line).toContain(hint);
  });

  it("says a missing privilege while migrating is the role's", () => {
    const error = raised("permission denied for schema public", { code: "42501" });
    expect(said(error, "migrate")).toContain("GRANT CREATE ON SCHEMA public TO <role>");
    // An extension needs CREATE on the database, not on the schema.
    const extension = raised('permission denied to create extension "pg_trgm"', { code: "42501" });
    expect(said(extension, "migrate")).toContain("GRANT CREATE ON DATABASE <name> TO <role>");
    expect(said(extension, "migrate")).not.toContain("ON SCHEMA");
    // Elsewhere a refused privilege is not a setting to fix: it keeps its stack trace.
    expect(databaseFailure(error, config, "work")).toBe(error);
  });

  it("leaves an error that is not about the database as it is", () => {
    const bug = new TypeError("Cannot read properties of undefined");
    expect(databaseFailure(bug, config, "migrate")).toBe(bug);
  });
});

describe("the DATA_DIR", () => {
  it("accepts a new directory, an empty one, a database's, and one a stopped first start left", () => {
    expect(() => checkDataDir(join(dir, "new"))).not.toThrow();
    mkdirSync(join(dir, "empty"));
    expect(() => checkDataDir(join(dir, "empty"))).not.toThrow();
    mkdirSync(join(dir, "db/base"), { recursive: true });
    writeFileSync(join(dir, "db/PG_VERSION"), "17");
    writeFileSync(join(dir, "db/notes.txt"), "the operator's own");
    expect(() => checkDataDir(join(dir, "db"))).not.toThrow();
    // PostgreSQL's files without PG_VERSION, and the lock: a first start stopped while writing.
    mkdirSync(join(dir, "partial/global"), { recursive: true });
    mkdirSync(join(dir, "partial/pg_wal"));
    writeFileSync(join(dir, "partial/regulars.lock"), "1");
    expect(() => checkDataDir(join(dir, "partial"))).not.toThrow();
  });

  it("refuses a directory of other files, and a file", () => {
    mkdirSync(join(dir, "home/photos"), { recursive: true });
    writeFileSync(join(dir, "home/notes.txt"), "mine");
    writeFileSync(join(dir, "home/regulars.lock"), "1");
    expect(() => checkDataDir(join(dir, "home"))).toThrow(
      new ExpectedFailure(
        `DATA_DIR "${join(dir, "home")}" has other files (notes.txt, photos) and no database: choose an empty or new directory for the database, e.g. DATA_DIR=${join(dir, "home", "regulars-data")}.`,
      ),
    );
    writeFileSync(join(dir, "file"), "x");
    expect(() => checkDataDir(join(dir, "file"))).toThrow(/^DATA_DIR ".+file" is a file, not a directory\./);
    expect(() => checkDataDir(join(dir, "file", "sub"))).toThrow(
      /^DATA_DIR ".+" cannot be used: part of the path is a file, not a directory \(ENOTDIR\)\./,
    );
  });

  it("says a directory this user cannot write in terms of DATA_DIR", () => {
    const error = raised("EACCES: permission denied, open '/srv/data/regulars.lock'", { code: "EACCES" });
    expect((dataDirFailure(error, "/srv/data") as Error).message).toBe(
      'DATA_DIR "/srv/data" cannot be used: permission denied (EACCES). Set DATA_DIR to a directory this user can write.',
    );
  });
});
