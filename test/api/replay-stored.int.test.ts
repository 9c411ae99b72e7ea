import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type Tenant, type TestApp } from "../helpers/api.ts";

/**
 * A retry gets the answer as it was stored, byte for byte: after an upgrade that added a field to
 * a route's answer, an answer stored before it no longer fits the route's response schema, and
 * the retry of a POS whose first answer was lost must still get it (200, `Idempotent-Replayed`),
 * never a 500 for the rest of the answer's retention.
 */
let t: TestApp;
let tenant: Tenant;
beforeAll(async () => {
  t = await startTestApp();
  tenant = await t.signup();
});
afterAll(async () => t?.close());

/** Rewrites a stored answer as an older release would have stored it: without `drop`. */
async function storeOlderAnswer(key: string, drop: (answer: Record<string, any>) => void): Promise<string> {
  const row = await t.database.db
    .selectFrom("idempotency_keys")
    .select("response")
    .where("business_id", "=", tenant.businessId)
    .where("key", "=", key)
    .executeTakeFirstOrThrow();
  const answer = JSON.parse(row.response as string);
  drop(answer);
  const older = JSON.stringify(answer);
  await t.database.db
    .updateTable("idempotency_keys")
    .set({ response: older })
    .where("business_id", "=", tenant.businessId)
    .where("key", "=", key)
    .execute();
  return older;
}

describe("a replay sends the stored answer as it was stored", () => {
  it("an enrolment stored before members had erased_at: 200, the stored bytes", async () => {
    const body = { name: "Ann", marketing_consent: false };
    const first = await tenant.call("POST", "/v1/members", body, { "idempotency-key": "enrol-old" });
    expect(first.status).toBe(201);
    const older = await storeOlderAnswer("client:enrol-old", (a) => {
      delete a.erased_at;
    });
    for (let i = 0; i < 2; i++) {
      const again = await tenant.call("POST", "/v1/members", body, { "idempotency-key": "enrol-old" });
      expect(again.status).toBe(200);
      expect(again.headers["idempotent-replayed"]).toBe("true");
      expect(again.text).toBe(older);
    }
  });

  it("a refund stored before refunds said which points had expired: 200, the stored bytes", async () => {
    const member = await tenant.call("POST", "/v1/members", { name: "Bo", marketing_consent: false });
    const bought = await tenant.call("POST", "/v1/purchases", {
      external_id: "old-answer-1",
      member_id: member.body.id,
      amount_minor: 1000,
      currency: "EUR",
    });
    expect(bought.status).toBe(201);
    const body = { external_id: "old-refund-1", purchase_external_id: "old-answer-1", amount_minor: 500 };
    const first = await tenant.call("POST", "/v1/refunds", body);
    expect(first.status).toBe(201);
    expect(first.body.refund).toHaveProperty("points_expired");
    const older = await storeOlderAnswer("refund:old-refund-1", (a) => {
      delete a.refund.points_expired;
    });
    const again = await tenant.call("POST", "/v1/refunds", body);
    expect(again.status).toBe(200);
    expect(again.headers["idempotent-replayed"]).toBe("true");
    expect(again.text).toBe(older);
  });

  it("an event, an adjustment and a created reward replay their stored bytes with 200", async () => {
    const member = await tenant.call("POST", "/v1/members", { name: "Cy", marketing_consent: false });
    const writes: [string, Record<string, unknown>, Record<string, string>, string][] = [
      [
        "/v1/events",
        { external_id: "old-event-1", member_id: member.body.id, type: "review_written" },
        {},
        "event:old-event-1",
      ],
      [
        `/v1/members/${member.body.id}/adjustments`,
        { points: 5, reason: "Welcome back" },
        { "idempotency-key": "adjust-old" },
        "client:adjust-old",
      ],
      [
        "/v1/rewards",
        { name: "Mug", type: "perk", value: { perk: "priority_service" }, cost_points: 100 },
        { "idempotency-key": "reward-old" },
        "client:reward-old",
      ],
    ];
    for (const [url, body, headers, key] of writes) {
      const first = await tenant.call("POST", url, body, headers);
      expect(first.status, url).toBe(201);
      const older = await storeOlderAnswer(key, (a) => {
        a.from_an_older_release = true;
        delete a.id;
      });
      const again = await tenant.call("POST", url, body, headers);
      expect(again.status, url).toBe(200);
      expect(again.headers["idempotent-replayed"], url).toBe("true");
      expect(again.text, url).toBe(older);
    }
  });

  it("a 409 names the external_id the client sent, not the server's key for it", async () => {
    const member = await tenant.call("POST", "/v1/members", { name: "Di", marketing_consent: false });
    const event = { external_id: "e-named", member_id: member.body.id, type: "review_written" };
    expect((await tenant.call("POST", "/v1/events", event)).status).toBe(201);
    const other = await tenant.call("POST", "/v1/events", { ...event, type: "survey_answered" });
    expect([other.status, other.body.error.code]).toEqual([409, "idempotency_key_reused"]);
    expect(other.body.error.details).toEqual({ external_id: "e-named" });
    expect(other.body.error.message).toBe(
      'The external_id "e-named" was already used for a different event. Send that event again as it was, or give a new event a new external_id.',
    );
  });
});
