import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type Tenant, type TestApp } from "../helpers/api.ts";

/**
 * The server's log names no customer and holds no secret: an unexpected database error is logged
 * by what went wrong and where, not by the row it was about (PostgreSQL's "Failing row contains
 * (…)", PGlite's statement with its values), and the request log leaves out what a lookup looked
 * for and a voucher's code.
 */
let t: TestApp;
let tenant: Tenant;
const lines: string[] = [];
beforeAll(async () => {
  t = await startTestApp({ logStream: { write: (line) => lines.push(line) } });
  tenant = await t.signup();
});
afterAll(async () => t?.close());

const PERSONAL = ["jan.private@example.nl", "+31612345678", "1984-05-02", "Jan Private"];

describe("what the log keeps", () => {
  it("an unexpected database error: its constraint and code, not the member's data", async () => {
    // Stands for any write the database refuses unexpectedly (a bug, a full disk).
    await t.database.db.schema
      .alterTable("members")
      .addCheckConstraint("members_log_test", (await import("kysely")).sql`name <> 'Jan Private'`)
      .execute();
    try {
      lines.length = 0;
      const res = await tenant.call("POST", "/v1/members", {
        name: "Jan Private",
        email: "jan.private@example.nl",
        phone: "+31612345678",
        birthday: "1984-05-02",
        marketing_consent: true,
      });
      expect([res.status, res.body.error.code]).toEqual([500, "internal_error"]);
      const logged = lines.join("\n");
      expect(logged).toContain("unhandled error");
      expect(logged).toContain("members_log_test");
      for (const value of PERSONAL) expect(logged).not.toContain(value);
    } finally {
      await t.database.db.schema.alterTable("members").dropConstraint("members_log_test").execute();
    }
  });

  it("a lookup's email and phone and a voucher's code are left out of the request log", async () => {
    lines.length = 0;
    await tenant.call("GET", "/v1/members/lookup?email=jan.private%40example.nl");
    await tenant.call("GET", "/v1/members/lookup?phone=%2B31612345678");
    await tenant.call("GET", "/v1/members?q=Jan%20Private&limit=5");
    await tenant.call("GET", "/v1/vouchers/SECRETCODE1");
    const logged = lines.join("\n");
    expect(logged).toContain('"url":"/v1/members/lookup?email=…"');
    expect(logged).toContain('"url":"/v1/members?q=…&limit=5"');
    expect(logged).toContain('"url":"/v1/vouchers/…"');
    expect(logged).not.toContain("SECRETCODE1");
    for (const value of ["jan.private", "31612345678", "Jan%20Private"]) expect(logged).not.toContain(value);
    // Nor the bearer token that authenticated every one of these.
    expect(logged).not.toContain(tenant.token);
  });
});
