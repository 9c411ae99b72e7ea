import { type Kysely, sql } from "kysely";

/**
 * The program's settings document gets a version of its own. `programs.version` goes up with
 * every change to the program's catalog as well (a tier, stamp card or rule created, changed or
 * archived; a reward created), since it is what tells each API node to reload its snapshot. As
 * the settings' `ETag`, that made `PUT /v1/program` with `If-Match` refuse a manager's change of
 * the points settings (`409 program_changed`) whenever anyone had touched a tier meanwhile,
 * though nobody had touched the settings. `config_version` goes up only when the settings
 * document is written; it starts at the version clients may hold now, so an `ETag` read before
 * the upgrade still matches.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table programs add column config_version integer not null default 1`.execute(db);
  await sql`update programs set config_version = version`.execute(db);
}
