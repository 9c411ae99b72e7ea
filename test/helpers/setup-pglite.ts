import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { migrateToLatest, openDatabase } from "../../src/db/database.ts";
import { PGLITE_TEMPLATE_FILE } from "./engines.ts";

/** Creates and migrates one PGlite database and saves it as the template every test file loads. */
export default async function setup(): Promise<void> {
  const database = await openDatabase({ memory: true });
  await migrateToLatest(database.db);
  const blob = await database.pglite!.dumpDataDir("none");
  mkdirSync(dirname(PGLITE_TEMPLATE_FILE), { recursive: true });
  writeFileSync(PGLITE_TEMPLATE_FILE, Buffer.from(await blob.arrayBuffer()));
  await database.close();
}
