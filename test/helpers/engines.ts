import { resolve } from "node:path";

/** Where the migrated PGlite template is written once per test run. */
// (PGLITE_TEMPLATE_FILE moves it, so two test runs side by side do not overwrite each other's.)
export const PGLITE_TEMPLATE_FILE = resolve(
  process.env.PGLITE_TEMPLATE_FILE ?? resolve(import.meta.dirname, "../../.tmp/pglite-template.tar"),
);
export const TEST_DATABASE_URL =
  process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

/** The same server URL pointing at another database. */
export function urlFor(database: string): string {
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${database}`;
  return url.toString();
}
