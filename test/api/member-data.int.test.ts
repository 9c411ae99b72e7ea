import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type Tenant, type TestApp } from "../helpers/api.ts";

/**
 * A member's requests about their data (GDPR): to see everything the business holds about them,
 * and to be forgotten without the books losing a point.
 */
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ now: "2026-03-02T09:00:00Z" });
});
afterAll(async () => t?.close());

let seq = 0;
async function ok(
  tenant: Tenant,
  method: "GET" | "POST" | "PATCH",
  url: string,
  body?: unknown,
  headers = {},
) {
  const res = await tenant.call(method, url, body, headers);
  if (res.status >= 300) throw new Error(`${method} ${url} → ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** A café with a points reward, a review rule and a member who bought, reviewed and redeemed. */
async function regular() {
  const tenant = await t.signup();
  await ok(tenant, "POST", "/v1/rules", {
    name: "Review",
    trigger: "event",
    event_type: "review_written",
    effect: { type: "fixed_points", points: 10 },
  });
  const reward = await ok(tenant, "POST", "/v1/rewards", {
    name: "Cookie",
    type: "free_product",
    value: { product_name: "Cookie" },
    cost_points: 5,
  });
  const member = await ok(
    tenant,
    "POST",
    "/v1/members",
    {
      name: "Eve Evers",
      email: "eve@example.test",
      phone: "+31 6 11112222",
      birthday: "1990-01-01",
      external_id: "shop-77",
      attributes: { student: true },
      marketing_consent: true,
    },
    { "idempotency-key": `enrol-eve-${++seq}` },
  );
  const bought = await ok(tenant, "POST", "/v1/purchases", {
    external_id: `p-${++seq}`,
    member_id: member.id,
    amount_minor: 2_000,
    currency: "EUR",
  });
  await ok(tenant, "POST", "/v1/refunds", {
    external_id: `r-${seq}`,
    purchase_id: bought.purchase.id,
    amount_minor: 500,
  });
  await ok(tenant, "POST", "/v1/events", {
    external_id: `e-${seq}`,
    member_id: member.id,
    type: "review_written",
    properties: { text: "Eve loved the cookies", stars: 5 },
  });
  const voucher = await ok(tenant, "POST", `/v1/members/${member.id}/redemptions`, { reward_id: reward.id });
  return { tenant, member, voucher: voucher.voucher };
}

describe("a member's data", () => {
  it("is exported whole, for a manager: profile, card, entries, purchases, refunds, events, vouchers", async () => {
    const { tenant, member, voucher } = await regular();
    const res = await tenant.call("GET", `/v1/members/${member.id}/export`);
    expect(res.status).toBe(200);
    expect(res.headers["content-disposition"]).toBe(`attachment; filename="member-${member.id}.json"`);
    const doc = res.body;
    expect(doc.member).toMatchObject({ name: "Eve Evers", email: "eve@example.test", phone: "+31611112222" });
    expect(doc.card.points.available).toBe(20);
    expect(doc.points.map((e: { kind: string; points: number }) => [e.kind, e.points])).toEqual([
      ["earn", 20],
      ["reverse", -5],
      ["earn", 10],
      ["spend", -5],
    ]);
    expect(doc.purchases).toHaveLength(1);
    expect(doc.refunds.map((r: { amount_minor: number }) => r.amount_minor)).toEqual([500]);
    expect(doc.events[0].properties).toEqual({ text: "Eve loved the cookies", stars: 5 });
    expect(doc.vouchers.map((v: { code: string; reward: string }) => [v.code, v.reward])).toEqual([
      [voucher.code, "Cookie"],
    ]);
    const missing = await tenant.call("GET", "/v1/members/0193f1c2-7b4e-7c3a-9f2e-5a1b2c3d4e5f/export");
    expect([missing.status, missing.body.error.code]).toEqual([404, "member_not_found"]);
    // Who took a copy of the person's data is on record; a member that is not there, nobody's.
    const log = (await tenant.call("GET", "/v1/audit-log?action=member.exported")).body.data;
    expect(
      log.map((e: { actor: string; target_id: string; data: unknown }) => [e.actor, e.target_id, e.data]),
    ).toEqual([[expect.stringMatching(/^staff:/), member.id, { by: "staff" }]]);
  });

  it("is erased at the member's request: the person goes, the books still add up", async () => {
    const { tenant, member, voucher } = await regular();
    const before = (await ok(tenant, "GET", `/v1/members/${member.id}/card`)).points;
    const erased = await ok(tenant, "POST", `/v1/members/${member.id}/erase`, {
      reason: "asked by email, 2 March",
    });
    expect(erased).toMatchObject({
      id: member.id,
      name: null,
      email: null,
      phone: null,
      birthday: null,
      external_id: null,
      attributes: {},
      marketing_consent: false,
      erased_at: t.clock.now().toISOString(),
    });
    expect(erased.code).not.toBe(member.code);
    // Nothing finds the person any more: not the old card, nor the email or phone.
    for (const query of [`code=${member.code}`, "email=eve%40example.test", "phone=%2B31611112222"]) {
      expect((await tenant.call("GET", `/v1/members/lookup?${query}`)).status, query).toBe(404);
    }
    expect((await ok(tenant, "GET", "/v1/members?q=eve")).data).toEqual([]);
    // What they held is untouched; their voucher still works at the counter.
    expect((await ok(tenant, "GET", `/v1/members/${member.id}/card`)).points).toEqual(before);
    expect((await tenant.call("POST", `/v1/vouchers/${voucher.code}/redeem`, {})).status).toBe(200);
    // The event's free text and the enrolment's stored answer, which repeat the person, are gone.
    const doc = await ok(tenant, "GET", `/v1/members/${member.id}/export`);
    expect(doc.events[0].properties).toEqual({});
    const stored = await t.database.db
      .selectFrom("idempotency_keys")
      .select("response")
      .where("business_id", "=", tenant.businessId)
      .where("operation", "=", "member.create")
      .execute();
    expect(stored.map((s) => s.response)).toEqual([null]);
    expect(JSON.stringify(doc)).not.toMatch(/Eve|eve@|11112222|1990-01-01|shop-77/);
    // Audited with the reason, not the data.
    const log = await ok(tenant, "GET", "/v1/audit-log?action=member.erased");
    expect(log.data.map((a: { data: { reason: string } }) => a.data.reason)).toEqual([
      "asked by email, 2 March",
    ]);
    // For good: it cannot be erased twice, nor filled in again.
    const again = await tenant.call("POST", `/v1/members/${member.id}/erase`, { reason: "again" });
    expect([again.status, again.body.error.code]).toEqual([409, "member_erased"]);
    const refill = await tenant.call("PATCH", `/v1/members/${member.id}`, { name: "Eve" });
    expect([refill.status, refill.body.error.code]).toEqual([409, "member_erased"]);
    const bad = await tenant.call("POST", `/v1/members/${member.id}/erase`, {});
    expect([bad.status, bad.body.error.code]).toEqual([400, "validation_failed"]);
  });

  it("erased, keeps no event's text in a stored answer, and records no new event", async () => {
    const { tenant, member } = await regular();
    const event = {
      external_id: "review-ola",
      member_id: member.id,
      type: "review_written",
      properties: { text: "Ola Nowak, ul. Długa 5: great coffee", phone: "+48512345678" },
    };
    expect((await tenant.call("POST", "/v1/events", event)).status).toBe(201);
    await ok(tenant, "POST", `/v1/members/${member.id}/erase`, { reason: "asked at the counter" });
    const answers = await t.database.db
      .selectFrom("idempotency_keys")
      .select(["key", "response"])
      .where("business_id", "=", tenant.businessId)
      .where("operation", "=", "event.record")
      .execute();
    expect(answers.map((a) => [a.key, a.response]).sort()).toEqual([
      [`event:e-${seq}`, null],
      ["event:review-ola", null],
    ]);
    // Nor a fast hash of it: who wrote what could be confirmed by hashing a guess.
    const fingerprints = await t.database.db
      .selectFrom("idempotency_keys")
      .select("request_hash")
      .where("business_id", "=", tenant.businessId)
      .where("operation", "in", ["event.record", "member.create"])
      .execute();
    expect(fingerprints.length).toBeGreaterThanOrEqual(2);
    expect(new Set(fingerprints.map((f) => f.request_hash))).toEqual(new Set(["forgotten"]));
    // Sent again, the event is not recorded twice, and its text does not come back.
    const again = await tenant.call("POST", "/v1/events", event);
    expect([again.status, again.body.error.code]).toEqual([410, "idempotency_answer_expired"]);
    expect(again.text).not.toContain("Długa");
    const later = await tenant.call("POST", "/v1/events", { ...event, external_id: "review-ola-2" });
    expect([later.status, later.body.error.code]).toEqual([409, "member_erased"]);
    const events = await t.database.db
      .selectFrom("member_events")
      .select("properties")
      .where("business_id", "=", tenant.businessId)
      .execute();
    expect(events.map((e) => e.properties)).toEqual([{}, {}]);
  });
});
