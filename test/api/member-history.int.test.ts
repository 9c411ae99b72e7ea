import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../helpers/api.ts";

/** A member's history: in the order things happened, a page at a time. */
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ now: "2026-03-02T09:00:00Z" });
});
afterAll(async () => t?.close());

describe("a member's history", () => {
  it("lists entries by when they happened, a purchase sent late among the others, and pages in that order", async () => {
    const tenant = await t.signup();
    const member = (await tenant.call("POST", "/v1/members", { name: "Ola", marketing_consent: false })).body;
    t.clock.set(new Date("2026-03-10T12:00:00Z"));
    const buy = async (external_id: string, amount_minor: number, occurred_at?: string) =>
      expect(
        (
          await tenant.call("POST", "/v1/purchases", {
            external_id,
            member_id: member.id,
            amount_minor,
            currency: "EUR",
            ...(occurred_at ? { occurred_at } : {}),
          })
        ).status,
      ).toBe(201);
    await buy("today", 1000);
    // A till's offline queue sends a purchase of five days ago.
    await buy("late", 2000, "2026-03-05T08:30:00Z");
    await tenant.call("POST", `/v1/members/${member.id}/adjustments`, { points: 3, reason: "Birthday cake" });

    const all = (await tenant.call("GET", `/v1/members/${member.id}/history`)).body.data;
    const lines = all.map((h: { reason: string; occurred_at: string }) => [h.reason, h.occurred_at]);
    expect(lines).toEqual([
      ["Birthday cake", "2026-03-10T12:00:00.000Z"],
      [expect.any(String), "2026-03-10T12:00:00.000Z"],
      [expect.any(String), "2026-03-05T08:30:00.000Z"],
    ]);
    expect(all.map((h: { points: number }) => h.points)).toEqual([3, 10, 20]);

    const paged: string[] = [];
    let cursor: string | null = null;
    do {
      const url: string = `/v1/members/${member.id}/history?limit=1${cursor ? `&cursor=${cursor}` : ""}`;
      const page = (await tenant.call("GET", url)).body;
      paged.push(...page.data.map((h: { id: string }) => h.id));
      cursor = page.next_cursor;
    } while (cursor);
    expect(paged).toEqual(all.map((h: { id: string }) => h.id));

    // A cursor of another list (a bare id) is refused.
    const foreign = Buffer.from(all[0].id).toString("base64url");
    const refused = await tenant.call("GET", `/v1/members/${member.id}/history?cursor=${foreign}`);
    expect([refused.status, refused.body.error.code]).toEqual([400, "invalid_cursor"]);
  });
});
