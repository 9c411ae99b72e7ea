import { type Kysely, sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { up } from "../../src/db/migrations/0025-settings-version.ts";
import { startTestApp, type TestApp } from "../helpers/api.ts";

/**
 * Migration 0025 gives the settings document a version of its own, starting where the program's
 * version stood, so a settings page read before the upgrade still saves with the `ETag` it holds.
 */
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => t?.close());

describe("migration 0025: the settings' own version", () => {
  it("starts each program's settings version at its version, so an ETag read before still matches", async () => {
    const shop = await t.signup();
    const other = await t.signup();
    const config = (await shop.call("GET", "/v1/program")).body.config;
    // The database as it was before 0025, after catalog changes had moved the version on.
    await sql`alter table programs drop column config_version`.execute(t.ctx.db);
    await sql`update programs set version = 7 where business_id = ${shop.businessId}`.execute(t.ctx.db);

    await up(t.database.db as unknown as Kysely<unknown>);

    const { rows } = await sql<{ business_id: string; version: number; config_version: number }>`
      select business_id, version, config_version from programs
      where business_id in (${shop.businessId}, ${other.businessId}) order by version`.execute(t.ctx.db);
    expect(rows.map((r) => [r.business_id, r.version, r.config_version])).toEqual([
      [other.businessId, 1, 1],
      [shop.businessId, 7, 7],
    ]);
    // A settings page read before the upgrade holds the ETag "7": it saves.
    const saved = await shop.call("PUT", "/v1/program", config, { "if-match": '"7"' });
    expect([saved.status, saved.body.version, saved.headers.etag]).toEqual([200, 8, '"8"']);
  });
});
