import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type Tenant, type TestApp } from "../helpers/api.ts";

/**
 * A customer's own data from their card, without asking at the counter: seeing and correcting
 * their details, downloading everything held about them, and deleting their card (GDPR articles
 * 15, 16, 17 and 20), each audited with the member as the actor.
 */

let t: TestApp;
let biz: Tenant;
let other: Tenant;
let mug: string;
let seq = 0;

type Method = "GET" | "POST" | "PATCH";

function asMember(token: string) {
  return (method: Method, url: string, body?: unknown, headers: Record<string, string> = {}) =>
    t.call(method, url, body, { authorization: `Bearer ${token}`, ...headers });
}

async function publishedBusiness(): Promise<Tenant> {
  const tenant = await t.signup();
  expect((await tenant.call("POST", "/v1/program/publish")).status).toBe(200);
  return tenant;
}

/** A customer who joins `tenant` from its join page: their member id and card token. */
async function join(
  tenant: Tenant,
  body: Record<string, unknown> = {},
): Promise<{ id: string; code: string; token: string; call: ReturnType<typeof asMember> }> {
  const res = await t.call("POST", `/v1/public/businesses/${tenant.slug}/members`, {
    name: "Ana Souza",
    email: `ana-${++seq}@example.com`,
    marketing_consent: false,
    ...body,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  const member = await tenant.call("GET", `/v1/members/lookup?code=${res.body.member_code}`);
  return {
    id: member.body.id,
    code: res.body.member_code,
    token: res.body.card_token,
    call: asMember(res.body.card_token),
  };
}

async function staffView(tenant: Tenant, id: string) {
  const res = await tenant.call("GET", `/v1/members/${id}`);
  expect(res.status).toBe(200);
  return res.body;
}

async function auditOf(tenant: Tenant, action: string, memberId: string) {
  const res = await tenant.call("GET", `/v1/audit-log?action=${action}&limit=100`);
  expect(res.status).toBe(200);
  return (res.body.data as { actor: string; target_id: string; data: Record<string, unknown> }[]).filter(
    (a) => a.target_id === memberId,
  );
}

beforeAll(async () => {
  t = await startTestApp();
  biz = await t.signup();
  mug = (
    await biz.call("POST", "/v1/rewards", {
      name: "Mug",
      type: "free_product",
      value: { product_name: "Mug" },
      cost_points: 5,
    })
  ).body.id;
  expect((await biz.call("POST", "/v1/program/publish")).status).toBe(200);
  other = await publishedBusiness();
});
afterAll(async () => t?.close());

describe("my details", () => {
  it("shows the member's own details, with whether the birthday may still be set", async () => {
    const ana = await join(biz, { email: "Ana.Details@Example.com", phone: "+31 6 10000001" });
    const res = await ana.call("GET", "/v1/wallet/me/details");
    expect(res.status).toBe(200);
    expect(res.headers["cache-control"]).toBe("no-store");
    expect(res.body).toEqual({
      name: "Ana Souza",
      email: "ana.details@example.com",
      phone: "+31610000001",
      birthday: null,
      birthday_editable: true,
    });
  });

  it("corrects name, email and phone as a staff change stores them, audited as the member", async () => {
    const ana = await join(biz);
    const res = await ana.call("PATCH", "/v1/wallet/me/details", {
      // "José" with a combining accent: stored in one Unicode form.
      name: "  Ana Jose\u0301 Souza ",
      email: "  ANA.NEW@Example.COM ",
      // As dialled in the Netherlands, the business's country.
      phone: "06 12345670",
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toEqual({
      name: "Ana José Souza",
      email: "ana.new@example.com",
      phone: "+31612345670",
      birthday: null,
      birthday_editable: true,
    });
    expect(await staffView(biz, ana.id)).toMatchObject({
      name: "Ana José Souza",
      email: "ana.new@example.com",
      phone: "+31612345670",
    });
    // Found at the counter by the new details.
    const found = await biz.call("GET", "/v1/members/lookup?phone=0612345670");
    expect(found.body.id).toBe(ana.id);
    const audit = await auditOf(biz, "member.updated", ana.id);
    expect(audit.map((a) => [a.actor, a.data.fields])).toEqual([
      [`member:${ana.id}`, ["email", "name", "phone"]],
    ]);
    // The card greets them by the new name.
    expect((await ana.call("GET", "/v1/wallet/card")).body.member.name).toBe("Ana José Souza");
  });

  it("refuses every wrong input with a specific code, and changes nothing", async () => {
    const ana = await join(biz, { phone: "+31 6 10000002", birthday: "1991-02-03" });
    const before = (await ana.call("GET", "/v1/wallet/me/details")).body;
    const cases: [unknown, number, string][] = [
      [{}, 400, "validation_failed"],
      [{ name: "" }, 400, "validation_failed"],
      [{ name: "   " }, 400, "validation_failed"],
      [{ name: null }, 400, "validation_failed"],
      [{ name: "x".repeat(121) }, 400, "validation_failed"],
      [{ name: 42 }, 400, "validation_failed"],
      [{ email: "not an email" }, 400, "validation_failed"],
      [{ email: "" }, 400, "validation_failed"],
      [{ phone: "12" }, 400, "validation_failed"],
      [{ phone: "x".repeat(41) }, 400, "validation_failed"],
      [{ birthday: "1991-13-01" }, 400, "validation_failed"],
      [{ birthday: "03-02-1991" }, 400, "validation_failed"],
      // Fields that are not the member's to change here, or not at all.
      [{ marketing_consent: true }, 400, "validation_failed"],
      [{ code: "AAAAAAAA" }, 400, "validation_failed"],
      [{ attributes: { vip: true } }, 400, "validation_failed"],
      [{ external_id: "x" }, 400, "validation_failed"],
      [{ name: "Ana", tier_id: null }, 400, "validation_failed"],
      [{ email: null, phone: null }, 400, "contact_required"],
      [{ birthday: "1991-02-04" }, 409, "birthday_already_set"],
      [{ birthday: null }, 409, "birthday_already_set"],
      [{ name: "Ana", birthday: "2000-01-01" }, 409, "birthday_already_set"],
    ];
    for (const [body, status, code] of cases) {
      const res = await ana.call("PATCH", "/v1/wallet/me/details", body);
      expect([res.status, res.body.error?.code], JSON.stringify(body)).toEqual([status, code]);
    }
    const text = await ana.call("PATCH", "/v1/wallet/me/details", "name=Ana", {
      "content-type": "text/plain",
    });
    expect(text.status).toBeGreaterThanOrEqual(400);
    expect(text.status).toBeLessThan(500);
    expect((await ana.call("GET", "/v1/wallet/me/details")).body).toEqual(before);
    expect(await auditOf(biz, "member.updated", ana.id)).toEqual([]);
  });

  it("keeps an email or a phone: one may go while the other stays", async () => {
    const ana = await join(biz, { phone: "+31 6 10000003" });
    const emailOnly = await ana.call("PATCH", "/v1/wallet/me/details", { phone: null });
    expect(emailOnly.status).toBe(200);
    expect(emailOnly.body.phone).toBeNull();
    const last = await ana.call("PATCH", "/v1/wallet/me/details", { email: null });
    expect([last.status, last.body.error.code]).toEqual([400, "contact_required"]);
    // Swapped in one change: the phone comes, the email goes.
    const swapped = await ana.call("PATCH", "/v1/wallet/me/details", {
      email: null,
      phone: "+48 512 345 678",
    });
    expect(swapped.status).toBe(200);
    expect(swapped.body).toMatchObject({ email: null, phone: "+48512345678" });
  });

  it("lets a member enrolled at the counter without contact details correct their name", async () => {
    const enrolled = await biz.call("POST", "/v1/members", { name: "Walk In", marketing_consent: false });
    expect(enrolled.status).toBe(201);
    const link = await biz.call("POST", `/v1/members/${enrolled.body.id}/card-link`);
    const me = asMember(link.body.card_token);
    const res = await me("PATCH", "/v1/wallet/me/details", { name: "Walter Inn" });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ name: "Walter Inn", email: null, phone: null });
  });

  it("refuses another member's email or phone with the 409 staff get; another business's is free", async () => {
    const taken = await join(biz, { email: "taken@example.com", phone: "+31 6 10000004" });
    const ana = await join(biz);
    const before = (await ana.call("GET", "/v1/wallet/me/details")).body;
    for (const [body, code] of [
      [{ email: "TAKEN@example.com" }, "member_email_taken"],
      [{ phone: "06 10000004" }, "member_phone_taken"],
      [{ name: "Ana", email: "taken@example.com" }, "member_email_taken"],
    ] as const) {
      const res = await ana.call("PATCH", "/v1/wallet/me/details", body);
      expect([res.status, res.body.error.code], JSON.stringify(body)).toEqual([409, code]);
      const staff = await biz.call("PATCH", `/v1/members/${ana.id}`, body);
      expect([staff.status, staff.body.error.code], `staff ${JSON.stringify(body)}`).toEqual([409, code]);
    }
    expect((await ana.call("GET", "/v1/wallet/me/details")).body).toEqual(before);
    expect((await staffView(biz, taken.id)).email).toBe("taken@example.com");
    // The same email at another business is no one's here.
    const elsewhere = await join(other, { email: "elsewhere@example.com" });
    const mine = await ana.call("PATCH", "/v1/wallet/me/details", { email: "elsewhere@example.com" });
    expect(mine.status).toBe(200);
    expect((await elsewhere.call("GET", "/v1/wallet/me/details")).body.email).toBe("elsewhere@example.com");
  });

  it("sets a birthday once from the card; after that it is the counter's to change", async () => {
    const ana = await join(biz);
    const future = await ana.call("PATCH", "/v1/wallet/me/details", { birthday: "2026-03-03" });
    expect([future.status, future.body.error.code]).toEqual([400, "validation_failed"]);
    const old = await ana.call("PATCH", "/v1/wallet/me/details", { birthday: "1899-12-31" });
    expect([old.status, old.body.error.code]).toEqual([400, "validation_failed"]);
    const set = await ana.call("PATCH", "/v1/wallet/me/details", { birthday: "1990-05-04" });
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({ birthday: "1990-05-04", birthday_editable: false });
    const moved = await ana.call("PATCH", "/v1/wallet/me/details", { birthday: "1990-03-02" });
    expect([moved.status, moved.body.error.code]).toEqual([409, "birthday_already_set"]);
    const cleared = await ana.call("PATCH", "/v1/wallet/me/details", { birthday: null });
    expect([cleared.status, cleared.body.error.code]).toEqual([409, "birthday_already_set"]);
    // The same birthday sent with a correction (a form sending every field) is no change of it.
    const same = await ana.call("PATCH", "/v1/wallet/me/details", { name: "Ana S.", birthday: "1990-05-04" });
    expect(same.status).toBe(200);
    expect(same.body).toMatchObject({ name: "Ana S.", birthday: "1990-05-04" });
    expect((await staffView(biz, ana.id)).birthday).toBe("1990-05-04");
    const audit = await auditOf(biz, "member.updated", ana.id);
    expect(audit.map((a) => a.data.fields)).toEqual([["name"], ["birthday"]]);
    // The counter still can.
    expect((await biz.call("PATCH", `/v1/members/${ana.id}`, { birthday: "1990-03-02" })).status).toBe(200);
    expect((await ana.call("GET", "/v1/wallet/me/details")).body.birthday).toBe("1990-03-02");
  });
});

describe("how often details change", () => {
  it("takes at most 10 changes an hour per card, refused ones too; a malformed body is not counted", async () => {
    const taken = await join(biz, { phone: "+31 6 10000009" });
    const ana = await join(biz);
    const bob = await join(biz);
    const answers: [number, string | undefined][] = [];
    for (let i = 0; i < 10; i++) {
      // Probes: is this phone a member's? 409 says it is, 200 that it is not.
      const phone = i === 4 ? "06 10000009" : `06 2000${String(i).padStart(4, "0")}`;
      const res = await ana.call("PATCH", "/v1/wallet/me/details", { phone });
      answers.push([res.status, res.body.error?.code]);
      // Refused as malformed before it is counted.
      const malformed = await ana.call("PATCH", "/v1/wallet/me/details", { email: "not an email" });
      expect([malformed.status, malformed.body.error?.code]).toEqual([400, "validation_failed"]);
    }
    expect(answers.filter(([status]) => status === 200)).toHaveLength(9);
    expect(answers[4]).toEqual([409, "member_phone_taken"]);
    // The same token however the header spells it.
    const limited = await t.call(
      "PATCH",
      "/v1/wallet/me/details",
      { phone: "06 10000009" },
      {
        authorization: `Bearer  ${ana.token} `,
      },
    );
    expect([limited.status, limited.body.error?.code]).toEqual([429, "rate_limited"]);
    expect(limited.body.error.details.retry_after_seconds).toBeGreaterThan(3000);
    expect(limited.headers["retry-after"]).toBe(String(limited.body.error.details.retry_after_seconds));
    // Nothing was changed, nor audited, by the refused one.
    expect((await ana.call("GET", "/v1/wallet/me/details")).body.phone).toBe("+31620000009");
    expect(await auditOf(biz, "member.updated", ana.id)).toHaveLength(9);
    expect((await staffView(biz, taken.id)).phone).toBe("+31610000009");
    // Another card is not held back.
    expect((await bob.call("PATCH", "/v1/wallet/me/details", { name: "Bob" })).status).toBe(200);
  });
});

describe("download my data", () => {
  it("is the staff export's document as the card shows it, as a download, audited as the member", async () => {
    const ana = await join(biz, { phone: "+31 6 10000005" });
    const bought = await biz.call("POST", "/v1/purchases", {
      external_id: `p-${++seq}`,
      member_id: ana.id,
      amount_minor: 1_000,
      currency: "EUR",
    });
    expect(bought.status).toBe(201);
    const res = await ana.call("GET", "/v1/wallet/me/export");
    expect(res.status).toBe(200);
    expect(res.headers["content-disposition"]).toBe(`attachment; filename="my-data-${ana.code}.json"`);
    expect(res.headers["cache-control"]).toBe("no-store");
    expect(String(res.headers["content-type"])).toContain("application/json");
    const staff = await biz.call("GET", `/v1/members/${ana.id}/export`);
    expect(staff.status).toBe(200);
    // The same document, but for who wrote the entries (below).
    const { exported_at: _a, points: myPoints, ...mine } = res.body;
    const { exported_at: _b, points: theirPoints, ...theirs } = staff.body;
    expect(mine).toEqual(theirs);
    expect(myPoints.map((e: Record<string, unknown>) => [e.id, e.kind, e.points, e.reason, e.actor])).toEqual(
      theirPoints.map((e: Record<string, unknown>) => [e.id, e.kind, e.points, e.reason, "staff"]),
    );
    expect(res.body.member).toMatchObject({ id: ana.id, name: "Ana Souza", phone: "+31610000005" });
    expect(res.body.purchases).toHaveLength(1);
    const audit = await auditOf(biz, "member.exported", ana.id);
    // The member's download, and the staff export beside it (by the owner).
    expect(audit.map((a) => [a.actor.split(":")[0], a.data]).sort()).toEqual([
      ["member", { by: "member" }],
      ["staff", { by: "staff" }],
    ]);
    expect(audit.map((a) => a.actor)).toContain(`member:${ana.id}`);
  });

  it("holds only the member's own data", async () => {
    const ana = await join(biz);
    const bob = await join(biz, { name: "Bob Bakker" });
    await biz.call("POST", "/v1/purchases", {
      external_id: `p-${++seq}`,
      member_id: bob.id,
      amount_minor: 700,
      currency: "EUR",
    });
    const doc = (await ana.call("GET", "/v1/wallet/me/export")).body;
    expect(doc.member.id).toBe(ana.id);
    expect(doc.business.id).toBe(biz.businessId);
    expect(doc.purchases).toEqual([]);
    expect(JSON.stringify(doc)).not.toContain(bob.id);
    expect(JSON.stringify(doc)).not.toContain("Bob");
  });

  it("leaves out what staff wrote for themselves and who they are; the staff export keeps both", async () => {
    const ana = await join(biz);
    const note = "Difficult customer, shouted at Kasia; watch for refund fraud";
    const refundNote = "suspect returns the same item weekly";
    const voidNote = "gave it by mistake, Kasia";
    const external = `p-${++seq}`;
    const bought = await biz.call("POST", "/v1/purchases", {
      external_id: external,
      member_id: ana.id,
      amount_minor: 3_000,
      currency: "EUR",
    });
    expect(bought.status).toBe(201);
    const adjusted = await biz.call("POST", `/v1/members/${ana.id}/adjustments`, { points: 7, reason: note });
    expect(adjusted.status).toBe(201);
    const refunded = await biz.call("POST", "/v1/refunds", {
      external_id: `r-${seq}`,
      purchase_id: bought.body.purchase.id,
      amount_minor: 1_000,
      reason: refundNote,
    });
    expect(refunded.status, JSON.stringify(refunded.body)).toBe(201);
    const voucher = await biz.call("POST", `/v1/members/${ana.id}/redemptions`, { reward_id: mug });
    expect(voucher.status).toBe(201);
    const voided = await biz.call("POST", `/v1/vouchers/${voucher.body.voucher.code}/void`, {
      reason: voidNote,
    });
    expect(voided.status, JSON.stringify(voided.body)).toBe(200);
    // Written by an integration (an API key) too.
    const key = await biz.call("POST", "/v1/api-keys", { name: "Till", role: "cashier" });
    expect(key.status, JSON.stringify(key.body)).toBe(201);
    const till = await biz.as(key.body.key).call("POST", "/v1/purchases", {
      external_id: `p-${++seq}`,
      member_id: ana.id,
      amount_minor: 500,
      currency: "EUR",
    });
    expect(till.status).toBe(201);

    const staff = (await biz.call("GET", `/v1/members/${ana.id}/export`)).body;
    const staffText = JSON.stringify(staff);
    for (const text of [note, refundNote, voidNote]) expect(staffText).toContain(text);
    expect(staffText).toMatch(/"actor":"staff:[0-9a-f-]{36}"/);
    expect(staffText).toMatch(/"actor":"api_key:[0-9a-f-]{36}"/);

    const mine = (await ana.call("GET", "/v1/wallet/me/export")).body;
    const text = JSON.stringify(mine);
    for (const secret of [note, refundNote, voidNote, "Kasia", "staff:", "api_key:", key.body.id]) {
      expect(text, secret).not.toContain(secret);
    }
    expect(new Set(mine.points.map((e: { actor: string }) => e.actor))).toEqual(
      new Set(["staff", "integration"]),
    );
    // Each entry as the card's history reads it.
    const card = (await ana.call("GET", "/v1/wallet/card")).body;
    const lines = (entries: { id: string; reason: string; reason_code: string | null }[]) =>
      new Map(entries.map((e) => [e.id, [e.reason, e.reason_code]]));
    const shown = lines(card.history);
    for (const [id, line] of lines(mine.points)) expect(line, id).toEqual(shown.get(id));
    expect(mine.points.map((e: { kind: string; reason: string }) => [e.kind, e.reason])).toEqual([
      ["earn", "1 point per €1.00"],
      ["adjust", ""],
      ["reverse", `Refund of purchase ${external}`],
      ["spend", 'Redeemed "Mug"'],
      ["restore", `Voucher ${voucher.body.voucher.code} voided`],
      ["earn", "1 point per €1.00"],
    ]);
    expect(mine.refunds.map((r: { reason: string | null }) => r.reason)).toEqual([null]);
    // Otherwise the same document.
    const strip = ({ exported_at: _e, points: _p, refunds: _r, ...rest }: Record<string, unknown>) => rest;
    expect(strip(mine)).toEqual(strip(staff));
  });

  it("is limited per card, not per address", async () => {
    const ana = await join(biz);
    const bob = await join(biz);
    for (let i = 0; i < 20; i++) {
      expect((await ana.call("GET", "/v1/wallet/me/export")).status, `export ${i + 1}`).toBe(200);
    }
    // The same token however the header spells it.
    const limited = await t.call("GET", "/v1/wallet/me/export", undefined, {
      authorization: `Bearer  ${ana.token} `,
    });
    expect([limited.status, limited.body.error.code]).toEqual([429, "rate_limited"]);
    expect(limited.headers["retry-after"]).toBeDefined();
    expect((await bob.call("GET", "/v1/wallet/me/export")).status).toBe(200);
    // Refused downloads are not audited.
    expect(await auditOf(biz, "member.exported", ana.id)).toHaveLength(20);
  });
});

describe("delete my card", () => {
  it("refuses a request that is not confirmed, and erases nothing", async () => {
    const ana = await join(biz);
    const cases: [unknown, number, string][] = [
      [undefined, 400, "validation_failed"],
      [{ confirm: "ERASE", reason: "x" }, 400, "validation_failed"],
      [{ confirm: 1 }, 400, "validation_failed"],
      [[], 400, "validation_failed"],
      [{}, 400, "erase_not_confirmed"],
      [{ confirm: "erase" }, 400, "erase_not_confirmed"],
      [{ confirm: "" }, 400, "erase_not_confirmed"],
      [{ confirm: ana.code }, 400, "erase_not_confirmed"],
    ];
    for (const [body, status, code] of cases) {
      const res = await ana.call("POST", "/v1/wallet/me/erase", body);
      expect([res.status, res.body.error?.code], JSON.stringify(body)).toEqual([status, code]);
    }
    expect((await ana.call("GET", "/v1/wallet/card")).status).toBe(200);
    expect((await staffView(biz, ana.id)).erased_at).toBeNull();
    expect(await auditOf(biz, "member.erased", ana.id)).toEqual([]);
  });

  it("erases the member as staff erasure does; points and stamps are forfeited; audited as the member", async () => {
    const ana = await join(biz, { phone: "+31 6 10000006", birthday: "1988-08-08" });
    const bought = await biz.call("POST", "/v1/purchases", {
      external_id: `p-${++seq}`,
      member_id: ana.id,
      amount_minor: 2_000,
      currency: "EUR",
    });
    expect(bought.status).toBe(201);
    const voucher = await ana.call("POST", "/v1/wallet/redemptions", { reward_id: mug });
    expect(voucher.status).toBe(201);
    const pointsBefore = (await biz.call("GET", `/v1/members/${ana.id}/card`)).body.points;
    expect(pointsBefore.available).toBe(15);

    const res = await ana.call("POST", "/v1/wallet/me/erase", { confirm: "ERASE" });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toEqual({ erased_at: t.clock.now().toISOString() });
    expect(res.headers["idempotent-replayed"]).toBeUndefined();

    const erased = await staffView(biz, ana.id);
    expect(erased).toMatchObject({
      name: null,
      email: null,
      phone: null,
      birthday: null,
      marketing_consent: false,
      erased_at: res.body.erased_at,
    });
    expect(erased.code).not.toBe(ana.code);
    expect((await biz.call("GET", `/v1/members/lookup?code=${ana.code}`)).status).toBe(404);
    // The points stay on the books, held by no card: the counter cannot hand them back.
    expect((await biz.call("GET", `/v1/members/${ana.id}/card`)).body.points).toEqual(pointsBefore);
    const link = await biz.call("POST", `/v1/members/${ana.id}/card-link`);
    expect([link.status, link.body.error.code]).toEqual([409, "member_erased"]);
    const audit = await auditOf(biz, "member.erased", ana.id);
    expect(audit.map((a) => [a.actor, a.data.reason, a.data.by])).toEqual([
      [`member:${ana.id}`, "asked by the member on their card", `member:${ana.id}`],
    ]);
  });

  it("answers a retry with the first answer, and every other call with 410 card_erased", async () => {
    const ana = await join(biz);
    const bob = await join(biz);
    const first = await ana.call("POST", "/v1/wallet/me/erase", { confirm: "ERASE" });
    expect(first.status).toBe(200);
    t.clock.advance(60_000);
    const retry = await ana.call("POST", "/v1/wallet/me/erase", { confirm: "ERASE" });
    expect(retry.status).toBe(200);
    expect(retry.body).toEqual(first.body);
    expect(retry.headers["idempotent-replayed"]).toBe("true");
    // The retry erased nothing more, and is not audited again.
    expect(await auditOf(biz, "member.erased", ana.id)).toHaveLength(1);
    const routes: [Method, string, unknown][] = [
      ["GET", "/v1/wallet/card", undefined],
      ["GET", "/v1/wallet/me/details", undefined],
      ["PATCH", "/v1/wallet/me/details", { name: "Ana" }],
      ["GET", "/v1/wallet/me/export", undefined],
      ["PATCH", "/v1/wallet/me", { locale: "en" }],
      ["POST", "/v1/wallet/redemptions", { reward_id: mug }],
      // Unconfirmed, the retry is no retry.
      ["POST", "/v1/wallet/me/erase", {}],
    ];
    for (const [method, url, body] of routes) {
      const res = await ana.call(method, url, body);
      expect([res.status, res.body.error?.code], `${method} ${url}`).toEqual([410, "card_erased"]);
      expect(res.body.error.details).toEqual({ erased_at: first.body.erased_at });
    }
    expect((await staffView(biz, ana.id)).name).toBeNull();
    // Another member's card is untouched.
    expect((await bob.call("GET", "/v1/wallet/card")).status).toBe(200);
    // A token that never was a card is still a 401, not a deleted card.
    const forged = `rm_${biz.businessId.replace(/-/g, "")}_${"A".repeat(43)}`;
    const res = await asMember(forged)("POST", "/v1/wallet/me/erase", { confirm: "ERASE" });
    expect([res.status, res.body.error.code]).toEqual([401, "unauthorized"]);
  });

  it("answers two erasures sent at once the same", async () => {
    const ana = await join(biz);
    const [a, b] = await Promise.all([
      ana.call("POST", "/v1/wallet/me/erase", { confirm: "ERASE" }),
      ana.call("POST", "/v1/wallet/me/erase", { confirm: "ERASE" }),
    ]);
    expect([a?.status, b?.status]).toEqual([200, 200]);
    expect(a?.body).toEqual(b?.body);
    expect([a?.headers["idempotent-replayed"], b?.headers["idempotent-replayed"]].sort()).toEqual([
      "true",
      undefined,
    ]);
    expect(await auditOf(biz, "member.erased", ana.id)).toHaveLength(1);
  });

  it("after a new card link, the old link's erasure retry finds nothing to replay", async () => {
    // The old link was replaced before the erasure: it is no card, and never was erased.
    const ana = await join(biz);
    const link = await biz.call("POST", `/v1/members/${ana.id}/card-link`);
    expect(link.status).toBe(201);
    const stale = await ana.call("POST", "/v1/wallet/me/erase", { confirm: "ERASE" });
    expect([stale.status, stale.body.error.code]).toEqual([401, "unauthorized"]);
    expect((await staffView(biz, ana.id)).erased_at).toBeNull();
    const fresh = asMember(link.body.card_token);
    expect((await fresh("POST", "/v1/wallet/me/erase", { confirm: "ERASE" })).status).toBe(200);
    // The old link still says only that it is no card.
    const old = await ana.call("GET", "/v1/wallet/card");
    expect([old.status, old.body.error.code]).toEqual([401, "unauthorized"]);
  });
});

describe("whose card", () => {
  it("refuses no, malformed, staff, replaced and forged tokens on every self-service route", async () => {
    const ana = await join(biz);
    const foreign = await join(other, { email: "foreign@example.com" });
    const forged = `rm_${biz.businessId.replace(/-/g, "")}_${foreign.token.split("_").at(-1)}`;
    const routes: [Method, string, unknown][] = [
      ["GET", "/v1/wallet/me/details", undefined],
      ["PATCH", "/v1/wallet/me/details", { name: "Mallory" }],
      ["GET", "/v1/wallet/me/export", undefined],
      ["POST", "/v1/wallet/me/erase", { confirm: "ERASE" }],
    ];
    for (const [method, url, body] of routes) {
      expect((await t.call(method, url, body)).status, `${url} without a token`).toBe(401);
      for (const bad of ["nonsense", biz.token, `${ana.token}x`, forged]) {
        const res = await asMember(bad)(method, url, body);
        expect([res.status, res.body.error?.code], `${method} ${url} with ${bad.slice(0, 12)}`).toEqual([
          401,
          "unauthorized",
        ]);
      }
    }
    // Nothing of either member changed.
    expect((await ana.call("GET", "/v1/wallet/me/details")).body.name).toBe("Ana Souza");
    expect((await foreign.call("GET", "/v1/wallet/me/details")).body.name).toBe("Ana Souza");
    expect((await staffView(biz, ana.id)).erased_at).toBeNull();
    expect((await staffView(other, foreign.id)).erased_at).toBeNull();
  });

  it("reaches only the token's own member, in its own business", async () => {
    const ana = await join(biz, { email: "same@example.com" });
    const twin = await join(other, { email: "same@example.com" });
    const changed = await twin.call("PATCH", "/v1/wallet/me/details", { name: "Twin" });
    expect(changed.status).toBe(200);
    expect((await ana.call("GET", "/v1/wallet/me/details")).body.name).toBe("Ana Souza");
    const doc = (await twin.call("GET", "/v1/wallet/me/export")).body;
    expect(doc.business.id).toBe(other.businessId);
    expect(JSON.stringify(doc)).not.toContain(biz.businessId);
    expect(JSON.stringify(doc)).not.toContain(ana.id);
    expect((await twin.call("POST", "/v1/wallet/me/erase", { confirm: "ERASE" })).status).toBe(200);
    expect((await ana.call("GET", "/v1/wallet/card")).status).toBe(200);
    expect((await staffView(biz, ana.id)).email).toBe("same@example.com");
    // Staff of one business do not see the other's audit.
    expect(await auditOf(biz, "member.erased", twin.id)).toEqual([]);
    expect(await auditOf(other, "member.erased", twin.id)).toHaveLength(1);
  });
});
