import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "kysely";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { main } from "../../src/cli/main.ts";
import { loadConfig } from "../../src/config.ts";
import { openConfiguredDatabase } from "../../src/server.ts";
import { cliDatabase } from "../helpers/cli.ts";

/** The variables `main` reads, set for this file and put back afterwards. */
const VARIABLES = ["DATA_DIR", "DATABASE_URL", "DATABASE_POOL_SIZE", "ANSWER_RETENTION_DAYS", "LOG_LEVEL"];
const saved = Object.fromEntries(VARIABLES.map((name) => [name, process.env[name]]));
let cleanup: () => Promise<void>;
let dir: string;

/**
 * A migrated database for the CLI (a PGlite directory or a server database): what is tested is
 * pruning, not a first start.
 */
beforeAll(async () => {
  process.env.LOG_LEVEL = "silent";
  delete process.env.DATA_DIR;
  delete process.env.DATABASE_URL;
  const database = await cliDatabase("prune");
  Object.assign(process.env, database.variables);
  cleanup = database.cleanup;
  dir = mkdtempSync(join(tmpdir(), "regulars-prune-"));
}, 120_000);
afterAll(async () => {
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  await cleanup?.();
  if (dir) rmSync(dir, { recursive: true, force: true });
});
afterEach(() => {
  vi.restoreAllMocks();
  delete process.env.ANSWER_RETENTION_DAYS;
});

/** Runs the CLI with `args`; its exit code and what it printed. */
async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(console, "log").mockImplementation((...line: unknown[]) => void out.push(line.join(" ")));
  vi.spyOn(console, "error").mockImplementation((...line: unknown[]) => void err.push(line.join(" ")));
  const code = await main(args);
  vi.restoreAllMocks();
  return { code, out: out.join("\n"), err: err.join("\n") };
}

/** The stored answers in the CLI's database: how many, and how many are let go. */
async function answers(age?: string): Promise<{ all: number; gone: number }> {
  const database = await openConfiguredDatabase(loadConfig());
  try {
    if (age)
      await sql`update idempotency_keys set created_at = now() - ${age}::interval`.execute(database.db);
    const { rows } = await sql<{ all: number; gone: number }>`
      select count(*)::int as all, count(*) filter (where response is null)::int as gone
      from idempotency_keys`.execute(database.db);
    return rows[0] as { all: number; gone: number };
  } finally {
    await database.close();
  }
}

describe("regulars prune-answers", () => {
  it("lets go of the answers older than the retention, by hand, and refuses bad days", async () => {
    // A business and three purchases imported: each purchase's answer is stored under its key.
    const business = await cli(
      ...["create-business", "--slug", "prune-shop", "--name", "Prune shop", "--currency", "EUR"],
      ...["--timezone", "Europe/Amsterdam", "--owner-email", "owner@example.test", "--owner-name", "Owner"],
    );
    expect(business.code).toBe(0);
    const purchases = join(dir, "purchases.csv");
    writeFileSync(
      purchases,
      [
        "external_id,amount,currency,occurred_at",
        ...["p-1,5.00,EUR,2026-01-01", "p-2,6.00,EUR,2026-01-02", "p-3,7.00,EUR,2026-01-03"],
      ].join("\n"),
    );
    expect((await cli("import-purchases", purchases, "--business", "prune-shop")).code).toBe(0);
    const before = await answers("20 days");
    expect(before.all).toBeGreaterThan(0);
    expect(before.gone).toBe(0);

    // Bad input changes nothing.
    for (const days of ["0", "x", "1.5", "40000"]) {
      const bad = await cli("prune-answers", "--days", days);
      expect(bad.code).toBe(2);
      expect(bad.err).toContain(`--days must be a whole number of days from 1 to 36500; it is "${days}".`);
    }
    process.env.ANSWER_RETENTION_DAYS = "0";
    const off = await cli("prune-answers");
    expect(off.code).toBe(2);
    expect(off.err).toContain("ANSWER_RETENTION_DAYS is 0: answers are kept for good.");
    delete process.env.ANSWER_RETENTION_DAYS;
    expect(await answers()).toEqual(before);

    // 20 days old: within the default 30 days, kept; with --days 10, let go.
    const kept = await cli("prune-answers");
    expect(kept.code).toBe(0);
    expect(kept.out).toContain("Let go of 0 answers older than 30 days, in 1 businesses.");
    const pruned = await cli("prune-answers", "--days", "10");
    expect(pruned.code).toBe(0);
    expect(pruned.out).toContain(`Let go of ${before.all} answers older than 10 days, in 1 businesses.`);
    expect(await answers()).toEqual({ all: before.all, gone: before.all });
    expect((await cli("prune-answers", "--days", "10")).out).toContain("Let go of 0 answers");
  }, 120_000);
});
