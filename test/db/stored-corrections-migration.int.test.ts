import { type Kysely, sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { up } from "../../src/db/migrations/0019-stored-corrections.ts";
import { writeSearchTexts } from "../../src/db/migrations/0023-member-search.ts";
import { startTestApp, type Tenant, type TestApp } from "../helpers/api.ts";

/** Migration 0019: what earlier releases stored wrong, corrected where it can be told apart. */
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ now: "2026-03-28T10:00:00Z" });
});
afterAll(async () => t?.close());

const migrate = () => up(t.database.db as unknown as Kysely<unknown>);

async function phoneStored(tenant: Tenant, phone: string): Promise<string> {
  const id = (await tenant.call("POST", "/v1/members", { marketing_consent: false, phone: "+31 6 55550000" }))
    .body.id as string;
  await t.database.db
    .updateTable("members")
    .set({ phone })
    .where("business_id", "=", tenant.businessId)
    .where("id", "=", id)
    .execute();
  return id;
}

async function phoneOf(tenant: Tenant, id: string): Promise<string | null> {
  return (await tenant.call("GET", `/v1/members/${id}`)).body.phone;
}

describe("migration 0019: corrections of stored data", () => {
  it("drops the trunk 0 an earlier release kept after the calling code, where it is never part of the number", async () => {
    const shop = await t.signup();
    const uk = await phoneStored(shop, "+4402079460958");
    const rome = await phoneStored(shop, "+390612345678");
    // Enrolled again meanwhile, correctly: the old row is left for the business to merge.
    const old = await phoneStored(shop, "+33061234567");
    const twin = await phoneStored(shop, "+3361234567");
    await migrate();
    // On an upgrade, 0023 then writes the members' search text from the corrected numbers.
    await writeSearchTexts(t.database.db as unknown as Kysely<unknown>, shop.businessId);
    expect(await phoneOf(shop, uk)).toBe("+442079460958");
    expect(await phoneOf(shop, rome)).toBe("+390612345678");
    expect([await phoneOf(shop, old), await phoneOf(shop, twin)]).toEqual(["+33061234567", "+3361234567"]);
    const found = await shop.call(
      "GET",
      `/v1/members/lookup?phone=${encodeURIComponent("+44 (0)20 7946 0958")}`,
    );
    expect([found.status, found.body.id]).toEqual([200, uk]);
    const searched = await shop.call("GET", `/v1/members?q=${encodeURIComponent("+44 (0)20 7946")}`);
    expect(searched.body.data.map((m: { id: string }) => m.id)).toEqual([uk]);
  });

  it("counts the expiry of pending points from their release where it came before it", async () => {
    const shop = await t.signup();
    const program = (await shop.call("GET", "/v1/program")).body.config;
    const points = {
      ...program.points,
      pending_days: 7,
      expiry: { policy: "end_of_month", months_after: 0 },
    };
    expect((await shop.call("PUT", "/v1/program", { ...program, points })).status).toBe(200);
    const member = (await shop.call("POST", "/v1/members", { marketing_consent: false })).body.id as string;
    await shop.call("POST", "/v1/purchases", {
      external_id: "late-march",
      member_id: member,
      amount_minor: 5_000,
      currency: "EUR",
    });
    // As the earlier release stored it: the end of March, before the release on 4 April.
    await sql`update ledger_lots set expires_at = '2026-03-31T22:00:00Z'
      where business_id = ${shop.businessId} and member_id = ${member}`.execute(t.database.db);
    await migrate();
    const [lot] = await t.database.db
      .selectFrom("ledger_lots")
      .select(["available_at", "expires_at"])
      .where("business_id", "=", shop.businessId)
      .where("member_id", "=", member)
      .execute();
    // Seven dates after 11:00 on 28 March, at 11:00 again: summer time (UTC+2) since 29 March.
    expect(lot?.available_at.toISOString()).toBe("2026-04-04T09:00:00.000Z");
    // The end of April in Amsterdam.
    expect(lot?.expires_at?.toISOString()).toBe("2026-04-30T22:00:00.000Z");
    // Running it again changes nothing.
    await migrate();
    const again = await t.database.db
      .selectFrom("ledger_lots")
      .select("expires_at")
      .where("business_id", "=", shop.businessId)
      .where("member_id", "=", member)
      .executeTakeFirstOrThrow();
    expect(again.expires_at?.toISOString()).toBe("2026-04-30T22:00:00.000Z");
  });
});
