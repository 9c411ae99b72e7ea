import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getMemberForUpdate } from "../../src/modules/members/index.ts";
import { startTestApp, type TestApp } from "../helpers/api.ts";
import { blockedOnALock, engine } from "../helpers/db.ts";

/**
 * The member's lock reads the member as the writer it waited for left it: a purchase that moved
 * the member's tier while a refund, a job or a redemption waited for the member must not leave it
 * working with the tier from before.
 */
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ poolSize: 4 });
});
afterAll(async () => t?.close());

describe("the member's lock", () => {
  it("reads the member as the writer it waited for committed it", async () => {
    const tenant = await t.signup();
    const gold = (await tenant.call("POST", "/v1/tiers", { name: "Gold", rank: 1, threshold: 10_000 })).body
      .id;
    const member = (await tenant.call("POST", "/v1/members", { marketing_consent: false })).body.id as string;
    const until = new Date("2030-01-01T00:00:00Z");
    let waiting: Promise<{ tier_id: string | null; tier_expires_at: Date | null }> | undefined;
    await t.database.db.transaction().execute(async (tx) => {
      // A writer holds the member and moves the tier, as a purchase reaching Gold does.
      await sql`update member_state set version = version + 1
        where business_id = ${tenant.businessId} and member_id = ${member}`.execute(tx);
      await sql`update members set tier_id = ${gold}, tier_expires_at = ${until}
        where business_id = ${tenant.businessId} and id = ${member}`.execute(tx);
      if (engine === "postgres") {
        waiting = t.database.db
          .transaction()
          .execute((other) => getMemberForUpdate(other, tenant.businessId, member));
        await blockedOnALock(t.database.db);
      }
    });
    // PGlite is one connection: there the lock is taken after the writer's transaction.
    const read = await (waiting ??
      t.database.db.transaction().execute((other) => getMemberForUpdate(other, tenant.businessId, member)));
    expect([read.tier_id, read.tier_expires_at?.toISOString()]).toEqual([gold, until.toISOString()]);
  });
});
