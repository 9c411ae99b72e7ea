import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServerDatabase, engine } from "./db.ts";

/**
 * An empty database (no migrations yet) on this run's engine, for tests of what a fresh install
 * does: a temporary PGlite directory, or a new database on the PostgreSQL server. `variables` are
 * the environment variables that point the configuration at it; `cleanup` removes it.
 */
export async function emptyDatabase(
  prefix: string,
): Promise<{ variables: Record<string, string>; cleanup: () => Promise<void> }> {
  if (engine === "pglite") {
    const dir = mkdtempSync(join(tmpdir(), `regulars-${prefix}-`));
    return {
      variables: { DATA_DIR: join(dir, "data") },
      cleanup: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  const created = await createServerDatabase(`regulars_t_${randomBytes(6).toString("hex")}`);
  return { variables: { DATABASE_URL: created.url, DATABASE_POOL_SIZE: "4" }, cleanup: created.drop };
}
