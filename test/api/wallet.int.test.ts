import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { walletCard } from "../../src/use-cases/wallet.ts";
import { startTestApp, type Tenant, type TestApp } from "../helpers/api.ts";
import { addStaff } from "../helpers/staff.ts";

/** The customer wallet: the public join page, the member's card by card token, and card links. */

let t: TestApp;
let biz: Tenant;
let card: string;
let coffee: string;
let mug: string;

const JOIN = { name: "Ana Souza", email: "ana@example.com", marketing_consent: false, locale: "pt-BR" };

async function publishedBusiness(overrides?: Record<string, unknown>): Promise<Tenant> {
  const tenant = await t.signup(overrides);
  const res = await tenant.call("POST", "/v1/program/publish");
  expect(res.status).toBe(200);
  return tenant;
}

function asMember(token: string) {
  return {
    call: (
      method: "GET" | "POST" | "PATCH",
      url: string,
      body?: unknown,
      headers: Record<string, string> = {},
    ) => t.call(method, url, body, { authorization: `Bearer ${token}`, ...headers }),
  };
}

async function joinAs(tenant: Tenant, body: Record<string, unknown>, headers: Record<string, string> = {}) {
  return t.call("POST", `/v1/public/businesses/${tenant.slug}/members`, body, headers);
}

async function purchase(tenant: Tenant, memberId: string, n: number) {
  for (let i = 0; i < n; i++) {
    const res = await tenant.call("POST", "/v1/purchases", {
      external_id: `p-${memberId}-${i}-${Math.random()}`,
      member_id: memberId,
      amount_minor: 450,
      currency: "EUR",
    });
    expect(res.status).toBe(201);
  }
}

beforeAll(async () => {
  t = await startTestApp();
  biz = await t.signup();
  card = (
    await biz.call("POST", "/v1/stamp-cards", { name: "Coffee card", stamps_required: 3, earn_on: "visit" })
  ).body.id;
  coffee = (
    await biz.call("POST", "/v1/rewards", {
      name: "Free coffee",
      type: "free_product",
      value: { product_name: "Coffee" },
      stamp_card_id: card,
    })
  ).body.id;
  mug = (
    await biz.call("POST", "/v1/rewards", {
      name: "Mug",
      type: "free_product",
      value: { product_name: "Mug" },
      cost_points: 20,
    })
  ).body.id;
  await biz.call("POST", "/v1/tiers", { name: "Gold", rank: 1, threshold: 5 });
});
afterAll(async () => t?.close());

describe("public business page", () => {
  it("is 404 until the program is published, then shows the program in customer terms", async () => {
    const before = await t.call("GET", `/v1/public/businesses/${biz.slug}`);
    expect(before.status).toBe(404);
    expect(before.body.error.code).toBe("business_not_found");
    const join = await joinAs(biz, JOIN);
    expect(join.status).toBe(404);
    expect((await t.call("GET", `/v1/public/businesses/${biz.slug}/manifest.webmanifest`)).status).toBe(404);

    expect((await biz.call("POST", "/v1/program/publish")).status).toBe(200);
    const res = await t.call("GET", `/v1/public/businesses/${biz.slug}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      slug: biz.slug,
      name: "Café Test",
      currency: "EUR",
      timezone: "Europe/Amsterdam",
      locale: "nl",
      program: {
        points: { earn_points: 1, earn_per_minor: 100 },
        stamp_cards: [{ id: card, name: "Coffee card", stamps_required: 3 }],
        tiers: { metric: expect.any(String), levels: [{ name: "Gold", threshold: 5 }] },
      },
    });
    expect(res.body.program.rewards.map((r: { id: string }) => r.id).sort()).toEqual([coffee, mug].sort());
    expect(JSON.stringify(res.body)).not.toContain(biz.businessId);
  });

  it("is 404 for an unknown slug", async () => {
    const res = await t.call("GET", "/v1/public/businesses/no-such-business");
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe("business_not_found");
  });

  it("serves a web app manifest and its icons", async () => {
    const res = await t.call("GET", `/v1/public/businesses/${biz.slug}/manifest.webmanifest`);
    expect(res.status).toBe(200);
    expect(String(res.headers["content-type"])).toContain("application/manifest+json");
    expect(res.body).toMatchObject({
      name: "Café Test",
      start_url: `/card/${biz.slug}`,
      scope: `/card/${biz.slug}`,
      display: "standalone",
    });
    for (const icon of res.body.icons as { src: string; type: string; sizes: string }[]) {
      const file = await t.app.inject({ method: "GET", url: icon.src });
      expect(file.statusCode, icon.src).toBe(200);
      expect(file.headers["content-type"]).toContain(icon.type);
      if (icon.type === "image/png") {
        const png = file.rawPayload;
        expect(png.subarray(1, 4).toString("ascii")).toBe("PNG");
        const size = Number(icon.sizes.split("x")[0]);
        expect(png.readUInt32BE(16)).toBe(size);
        expect(png.readUInt32BE(20)).toBe(size);
      }
    }
    const missing = await t.call("GET", "/v1/public/wallet-icons/nope.png");
    expect([missing.status, missing.body.error.code, missing.headers["cache-control"]]).toEqual([
      404,
      "icon_not_found",
      undefined,
    ]);
    expect(missing.body.error.message).toBe(
      'There is no wallet icon "nope.png": the icons are 192.png, 512.png and icon.svg.',
    );
  });
});

describe("joining", () => {
  it("creates the member with a card token, returned once, stored only as a hash", async () => {
    const res = await joinAs(biz, { ...JOIN, email: "join1@example.com", birthday: "1990-05-17" });
    expect(res.status).toBe(201);
    expect(res.body.member_code).toMatch(/^[A-Z0-9]{8}$/);
    expect(res.body.card_token).toMatch(/^rm_[0-9a-f]{32}_/);
    const member = (await biz.call("GET", `/v1/members/lookup?code=${res.body.member_code}`)).body;
    expect(member).toMatchObject({
      name: "Ana Souza",
      email: "join1@example.com",
      birthday: "1990-05-17",
      locale: "pt-BR",
      marketing_consent: false,
    });
    const row = await t.database.db
      .selectFrom("members")
      .select("card_token_hash")
      .where("id", "=", member.id)
      .executeTakeFirstOrThrow();
    expect(row.card_token_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(row.card_token_hash).not.toContain(res.body.card_token.slice(-20));
    const audit = (await biz.call("GET", "/v1/audit-log?action=member.created")).body.data;
    expect(audit.find((a: { target_id: string }) => a.target_id === member.id)?.actor).toBe("member:self");
  });

  it("takes a phone instead of an email, and uses the business's language when none is given", async () => {
    const res = await joinAs(biz, { name: "Piet", phone: "+31 6 12345678", marketing_consent: true });
    expect(res.status).toBe(201);
    const member = (await biz.call("GET", `/v1/members/lookup?code=${res.body.member_code}`)).body;
    // null: the business's language (Dutch here), whichever it is when the member is written to.
    expect(member).toMatchObject({ phone: "+31612345678", locale: null, marketing_consent: true });
    const card = await walletCard(t.ctx, biz.businessId, member.id);
    expect([card.member.locale, card.business.locale]).toEqual([null, "nl"]);
  });

  it("reads a phone number as dialled in the business's country", async () => {
    const dutch = await joinAs(biz, { name: "Joke", phone: "06 2222 3333", marketing_consent: false });
    expect(dutch.status).toBe(201);
    const joke = (await biz.call("GET", `/v1/members/lookup?phone=${encodeURIComponent("06-22223333")}`))
      .body;
    expect(joke).toMatchObject({ code: dutch.body.member_code, phone: "+31622223333" });
    // The same customer again, written from abroad with the trunk 0: the same number.
    const again = await joinAs(biz, { name: "Joke", phone: "+31 (0)6 2222 3333", marketing_consent: false });
    expect([again.status, again.body.error.code]).toEqual([409, "member_exists"]);

    const polish = await publishedBusiness({ timezone: "Europe/Warsaw", currency: "PLN", locale: "pl" });
    const res = await joinAs(polish, { name: "Ola", phone: "512 345 678", marketing_consent: true });
    expect(res.status).toBe(201);
    const ola = (await polish.call("GET", `/v1/members/lookup?code=${res.body.member_code}`)).body;
    expect(ola.phone).toBe("+48512345678");
  });

  it.each([
    [
      "Europe/Amsterdam",
      "12345",
      "must be a Dutch number (06 12345678) or start with + and the country code",
    ],
    [
      "America/Sao_Paulo",
      "11 91234-5678",
      "must be an international number: + and the country code, then 7–15 digits in all",
    ],
  ])("in %s refuses the phone %j at its field, saying what to write", async (timezone, phone, message) => {
    const shop = await publishedBusiness({ timezone, currency: "EUR" });
    const res = await joinAs(shop, { name: "X", phone, marketing_consent: true });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({
      code: "validation_failed",
      details: { issues: [{ in: "body", path: "phone", message }] },
    });
    expect((await shop.call("GET", "/v1/members")).body.data).toEqual([]);
  });

  it("refuses bad input with specific codes and creates nothing", async () => {
    const count = async () => (await biz.call("GET", "/v1/members?limit=200")).body.data.length;
    const before = await count();
    const cases: [Record<string, unknown>, string][] = [
      [{ name: "X", email: "x@example.com" }, "marketing_consent_required"],
      [{ name: "X", marketing_consent: true }, "contact_required"],
      [{ name: "X", email: null, phone: null, marketing_consent: true }, "contact_required"],
      [{ name: "X", email: "not-an-email", marketing_consent: true }, "validation_failed"],
      [{ name: "X", phone: "12", marketing_consent: true }, "validation_failed"],
      [{ name: "", email: "x@example.com", marketing_consent: true }, "validation_failed"],
      [{ email: "x@example.com", marketing_consent: true }, "validation_failed"],
      [{ name: "X", email: "x@example.com", marketing_consent: "yes" }, "validation_failed"],
      [
        { name: "X", email: "x@example.com", marketing_consent: true, birthday: "2999-01-01" },
        "validation_failed",
      ],
      [{ name: "X", email: "x@example.com", marketing_consent: true, locale: "de" }, "validation_failed"],
      [{ name: "X", email: "x@example.com", marketing_consent: true, tier_id: "x" }, "validation_failed"],
    ];
    for (const [body, code] of cases) {
      const res = await joinAs(biz, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.code, JSON.stringify(body)).toBe(code);
    }
    expect(await count()).toBe(before);
  });

  it("answers member_exists for an email or phone that is already a member, without leaking data", async () => {
    await joinAs(biz, { ...JOIN, email: "twice@example.com", phone: "+48 600 100 200" });
    for (const body of [
      { ...JOIN, email: "TWICE@example.com" },
      { ...JOIN, email: "other@example.com", phone: "+48600100200" },
    ]) {
      const res = await joinAs(biz, body);
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe("member_exists");
      expect(res.body.error.message).toMatch(/card link/);
      expect(JSON.stringify(res.body)).not.toMatch(/Ana|[A-Z0-9]{8}\b.*code/);
    }
  });

  it("is idempotent: the same key twice makes one member, and only the newest card link works", async () => {
    const body = { ...JOIN, email: "retry@example.com" };
    const headers = { "idempotency-key": "join-retry-1" };
    const first = await joinAs(biz, body, headers);
    const second = await joinAs(biz, body, headers);
    expect(first.status).toBe(201);
    expect(second.status).toBe(200);
    expect(second.headers["idempotent-replayed"]).toBe("true");
    expect(second.body.member_code).toBe(first.body.member_code);
    const found = (await biz.call("GET", "/v1/members?q=retry@example.com")).body.data;
    expect(found).toHaveLength(1);
    expect((await asMember(first.body.card_token).call("GET", "/v1/wallet/card")).status).toBe(401);
    expect((await asMember(second.body.card_token).call("GET", "/v1/wallet/card")).status).toBe(200);
    const reused = await joinAs(biz, { ...body, name: "Someone else" }, headers);
    expect(reused.status).toBe(409);
    expect(reused.body.error.code).toBe("idempotency_key_reused");
  });
});

describe("the member's card", () => {
  it("shows points, stamps, tier progress, rewards with what is missing, vouchers and history", async () => {
    const joined = await joinAs(biz, { ...JOIN, email: "card@example.com" });
    const me = asMember(joined.body.card_token);
    const empty = await me.call("GET", "/v1/wallet/card");
    expect(empty.status).toBe(200);
    expect(empty.headers["cache-control"]).toBe("no-store");
    const memberId = empty.body.member.id;
    expect(empty.body).toMatchObject({
      business: { slug: biz.slug, name: "Café Test", currency: "EUR" },
      member: { name: "Ana Souza", code: joined.body.member_code, locale: "pt-BR", marketing_consent: false },
      card: {
        points: { available: 0 },
        stamp_cards: [{ stamp_card_id: card, stamps: 0, stamps_required: 3, stamps_to_next_reward: 3 }],
        tier: { current: null, next: { name: "Gold", threshold: 5 } },
      },
      vouchers: [],
      history: [],
    });
    const coffeeReward = empty.body.rewards.find((r: { id: string }) => r.id === coffee);
    expect(coffeeReward).toMatchObject({
      available: false,
      blocked: "cost",
      missing_stamps: 3,
      missing_points: 0,
    });

    await purchase(biz, memberId, 3);
    const full = (await me.call("GET", "/v1/wallet/card")).body;
    expect(full.card.stamp_cards[0].stamps).toBe(3);
    expect(full.card.points.available).toBe(12);
    expect(full.rewards.find((r: { id: string }) => r.id === coffee)).toMatchObject({
      available: true,
      blocked: null,
      missing_stamps: 0,
    });
    expect(full.rewards.find((r: { id: string }) => r.id === mug)).toMatchObject({
      available: false,
      missing_points: 8,
    });
    expect(full.history.length).toBeGreaterThanOrEqual(6);
    expect(full.history[0]).not.toHaveProperty("actor");
  });

  it("redeems a reward once per idempotency key, naming the member on the ledger", async () => {
    const joined = await joinAs(biz, { ...JOIN, email: "redeem@example.com" });
    const me = asMember(joined.body.card_token);
    const memberId = (await me.call("GET", "/v1/wallet/card")).body.member.id;
    await purchase(biz, memberId, 3);
    const headers = { "idempotency-key": "redeem-1" };
    const first = await me.call("POST", "/v1/wallet/redemptions", { reward_id: coffee }, headers);
    expect(first.status).toBe(201);
    expect(first.body.voucher.code).toMatch(/^[A-Z0-9]{10}$/);
    expect(first.body.member.stamps).toBe(0);
    const again = await me.call("POST", "/v1/wallet/redemptions", { reward_id: coffee }, headers);
    expect(again.status).toBe(200);
    expect(again.body.voucher.code).toBe(first.body.voucher.code);
    const vouchers = (await biz.call("GET", `/v1/members/${memberId}/vouchers`)).body.data;
    expect(vouchers).toHaveLength(1);
    const cardAfter = (await me.call("GET", "/v1/wallet/card")).body;
    expect(cardAfter.vouchers[0]).toMatchObject({ code: first.body.voucher.code, status: "issued" });
    const history = (await biz.call("GET", `/v1/members/${memberId}/history`)).body.data;
    expect(history[0]).toMatchObject({ kind: "redeem", actor: `member:${memberId}` });

    const broke = await me.call("POST", "/v1/wallet/redemptions", { reward_id: coffee });
    expect(broke.status).toBe(409);
    expect(broke.body.error.code).toBe("insufficient_stamps");
    const bad = await me.call("POST", "/v1/wallet/redemptions", { reward_id: "nope" });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe("validation_failed");
    const unknown = await me.call("POST", "/v1/wallet/redemptions", {
      reward_id: "00000000-0000-4000-8000-000000000000",
    });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe("reward_not_found");
  });

  it("shows every valid voucher, however many newer ones were used since, and the latest 20 of the rest", async () => {
    const shop = await publishedBusiness();
    const anniversary = (
      await shop.call("POST", "/v1/rewards", {
        name: "Anniversary mug",
        type: "free_product",
        value: { product_name: "Mug" },
        cost_points: 1,
        voucher_valid_days: 365,
      })
    ).body.id;
    const sticker = (
      await shop.call("POST", "/v1/rewards", {
        name: "Sticker",
        type: "free_product",
        value: { product_name: "Sticker" },
        cost_points: 1,
      })
    ).body.id;
    const joined = await joinAs(shop, { ...JOIN, email: "collector@example.com" });
    const me = asMember(joined.body.card_token);
    const memberId = (await me.call("GET", "/v1/wallet/card")).body.member.id;
    await shop.call("POST", `/v1/members/${memberId}/adjustments`, { points: 100, reason: "Gift" });
    const mugVoucher = (await me.call("POST", "/v1/wallet/redemptions", { reward_id: anniversary })).body
      .voucher;
    for (let i = 0; i < 21; i++) {
      const v = (await me.call("POST", "/v1/wallet/redemptions", { reward_id: sticker })).body.voucher;
      expect((await shop.call("POST", `/v1/vouchers/${v.code}/redeem`)).status).toBe(200);
    }
    const shown = (await me.call("GET", "/v1/wallet/card")).body.vouchers;
    expect(shown).toHaveLength(21);
    expect(shown.filter((v: { status: string }) => v.status === "issued")).toEqual([
      expect.objectContaining({
        code: mugVoucher.code,
        reward: expect.objectContaining({ name: "Anniversary mug" }),
      }),
    ]);
    expect(shown.filter((v: { status: string }) => v.status === "redeemed")).toHaveLength(20);
    const ids = shown.map((v: { id: string }) => v.id);
    expect(ids).toEqual([...ids].sort().reverse());
  });

  it("refuses a card under another business's page, and tells the member no note staff wrote for themselves", async () => {
    const shop = await publishedBusiness();
    const other = await publishedBusiness();
    const joined = await joinAs(shop, { ...JOIN, email: "notes@example.com" });
    const me = asMember(joined.body.card_token);
    const elsewhere = await me.call("GET", `/v1/wallet/card?business=${other.slug}`);
    expect(elsewhere.status).toBe(401);
    expect(elsewhere.body.error.code).toBe("card_of_another_business");
    const mine = await me.call("GET", `/v1/wallet/card?business=${shop.slug}`);
    expect(mine.status).toBe(200);
    const memberId = mine.body.member.id as string;

    await shop.call("POST", `/v1/members/${memberId}/adjustments`, {
      points: 100,
      reason: "internal: suspected till fraud by cashier Jan",
    });
    const bought = await shop.call("POST", "/v1/purchases", {
      external_id: `notes-${memberId}`,
      member_id: memberId,
      amount_minor: 1_000,
      currency: "EUR",
    });
    await shop.call("POST", "/v1/refunds", {
      external_id: `notes-back-${memberId}`,
      purchase_id: bought.body.purchase.id,
      amount_minor: 1_000,
      reason: "customer shouted at staff",
    });
    const { history } = (await me.call("GET", "/v1/wallet/card")).body;
    const text = JSON.stringify(history);
    expect(text).not.toContain("fraud");
    expect(text).not.toContain("shouted");
    expect(history.find((h: { kind: string }) => h.kind === "adjust")).toMatchObject({
      points: 100,
      reason: "",
      reason_code: null,
      reason_params: null,
    });
    expect(history.find((h: { kind: string }) => h.kind === "reverse")).toMatchObject({
      reason: `Refund of purchase notes-${memberId}`,
      reason_code: "refund",
      reason_params: { purchase: `notes-${memberId}`, note: null },
    });
    // Staff still read their notes.
    const staffSide = JSON.stringify((await shop.call("GET", `/v1/members/${memberId}/history`)).body);
    expect(staffSide).toContain("fraud");
    expect(staffSide).toContain("shouted");
  });

  it("offers a reward of an archived stamp card to a member who holds a full one, as the counter does", async () => {
    const shop = await publishedBusiness();
    const card = await shop.call("POST", "/v1/stamp-cards", {
      name: "Tea",
      stamps_required: 2,
      earn_on: "visit",
    });
    const tea = await shop.call("POST", "/v1/rewards", {
      name: "Free tea",
      type: "free_product",
      value: { product_name: "Tea" },
      cost_points: null,
      stamp_card_id: card.body.id,
    });
    expect(tea.status).toBe(201);
    const joined = await joinAs(shop, { ...JOIN, email: "tea@example.com" });
    const me = asMember(joined.body.card_token);
    const memberId = (await me.call("GET", "/v1/wallet/card")).body.member.id;
    await purchase(shop, memberId, 2);
    expect((await shop.call("DELETE", `/v1/stamp-cards/${card.body.id}`)).status).toBe(200);
    const shown = (await me.call("GET", "/v1/wallet/card")).body;
    expect(shown.rewards.find((r: { id: string }) => r.id === tea.body.id)).toMatchObject({
      available: true,
      blocked: null,
      missing_stamps: 0,
    });
    const redeemed = await me.call("POST", "/v1/wallet/redemptions", { reward_id: tea.body.id });
    expect(redeemed.status).toBe(201);
    const after = (await me.call("GET", "/v1/wallet/card")).body;
    expect(after.rewards.find((r: { id: string }) => r.id === tea.body.id)).toMatchObject({
      available: false,
      blocked: "cost",
      missing_stamps: 2,
    });
  });

  it("changes the member's language and marketing choice", async () => {
    const joined = await joinAs(biz, { ...JOIN, email: "prefs@example.com" });
    const me = asMember(joined.body.card_token);
    const res = await me.call("PATCH", "/v1/wallet/me", { locale: "pl", marketing_consent: true });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ locale: "pl", marketing_consent: true });
    expect((await me.call("GET", "/v1/wallet/card")).body.member).toMatchObject({
      locale: "pl",
      marketing_consent: true,
    });
    for (const body of [{}, { locale: "xx" }, { marketing_consent: "no" }, { name: "New name" }]) {
      const bad = await me.call("PATCH", "/v1/wallet/me", body);
      expect(bad.status, JSON.stringify(body)).toBe(400);
      expect(bad.body.error.code).toBe("validation_failed");
    }
  });

  it("refuses missing, malformed, staff, rotated and foreign tokens", async () => {
    const joined = await joinAs(biz, { ...JOIN, email: "tokens@example.com" });
    const token: string = joined.body.card_token;
    const other = await publishedBusiness();
    const foreign = (await joinAs(other, { ...JOIN, email: "tokens@example.com" })).body.card_token as string;
    const forged = `rm_${biz.businessId.replace(/-/g, "")}_${foreign.split("_").at(-1)}`;
    const routes: ["GET" | "POST" | "PATCH", string, unknown][] = [
      ["GET", "/v1/wallet/card", undefined],
      ["POST", "/v1/wallet/redemptions", { reward_id: coffee }],
      ["PATCH", "/v1/wallet/me", { locale: "en" }],
    ];
    for (const [method, url, body] of routes) {
      expect((await t.call(method, url, body)).status, `${url} without a token`).toBe(401);
      for (const bad of ["nonsense", biz.token, `${token}x`, forged]) {
        const res = await asMember(bad).call(method, url, body);
        expect(res.status, `${url} with ${bad.slice(0, 12)}`).toBe(401);
        expect(res.body.error.code).toBe("unauthorized");
      }
    }
    // The other business's member reads only their own card.
    const theirs = (await asMember(foreign).call("GET", "/v1/wallet/card")).body;
    expect(theirs.business.slug).toBe(other.slug);
    expect(JSON.stringify(theirs)).not.toContain(biz.businessId);
    // A member token is no staff credential.
    expect((await asMember(token).call("GET", "/v1/members")).status).toBe(401);
    // Redeeming another business's reward with your own token finds nothing.
    const res = await asMember(foreign).call("POST", "/v1/wallet/redemptions", { reward_id: coffee });
    expect(res.status).toBe(404);
  });
});

describe("the join limit", () => {
  it("refuses more joins from one address than the limit, per hour", async () => {
    const limited = await startTestApp({
      limits: { signupsPerHour: 100, loginsPerMinute: 100, joinsPerHour: 2 },
    });
    try {
      const tenant = await limited.signup();
      await tenant.call("POST", "/v1/program/publish");
      const join = (email: string, remoteAddress: string) =>
        limited.app.inject({
          method: "POST",
          url: `/v1/public/businesses/${tenant.slug}/members`,
          remoteAddress,
          payload: { name: "N", email, marketing_consent: false },
        });
      expect((await join("a@example.com", "10.0.0.1")).statusCode).toBe(201);
      expect((await join("b@example.com", "10.0.0.1")).statusCode).toBe(201);
      const third = await join("c@example.com", "10.0.0.1");
      expect(third.statusCode).toBe(429);
      expect(third.json().error.code).toBe("rate_limited");
      expect((await join("c@example.com", "10.0.0.2")).statusCode).toBe(201);
    } finally {
      await limited.close();
    }
  });
});

describe("card links from the counter and the dashboard", () => {
  it("issues a new link that replaces the old one, for every role, audited", async () => {
    const joined = await joinAs(biz, { ...JOIN, email: "lost-phone@example.com" });
    const old = asMember(joined.body.card_token);
    const memberId = (await old.call("GET", "/v1/wallet/card")).body.member.id;
    const res = await biz.call("POST", `/v1/members/${memberId}/card-link`);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ member_id: memberId, member_code: joined.body.member_code });
    expect(res.body.card_path).toBe(`/card/${biz.slug}#t=${res.body.card_token}`);
    expect(res.body.card_url).toBe(`http://localhost:80${res.body.card_path}`);
    expect((await old.call("GET", "/v1/wallet/card")).status).toBe(401);
    expect((await asMember(res.body.card_token).call("GET", "/v1/wallet/card")).status).toBe(200);

    const cashier = await addStaff(t, biz, "cashier");
    const atCounter = await cashier.session.call("POST", `/v1/members/${memberId}/card-link`);
    expect(atCounter.status).toBe(201);
    expect((await asMember(res.body.card_token).call("GET", "/v1/wallet/card")).status).toBe(401);
    expect((await asMember(atCounter.body.card_token).call("GET", "/v1/wallet/card")).status).toBe(200);
    const log = await biz.call("GET", "/v1/audit-log?action=member.card_link_issued&limit=200");
    const issued = log.body.data.filter((e: { target_id: string }) => e.target_id === memberId);
    expect(issued).toHaveLength(2);
    const manager = await addStaff(t, biz, "manager");
    expect((await manager.session.call("POST", `/v1/members/${memberId}/card-link`)).status).toBe(201);
    const missing = await biz.call("POST", "/v1/members/00000000-0000-4000-8000-000000000000/card-link");
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe("member_not_found");
  });
});

describe("a card link for a member staff enrolled, and for an erased one", () => {
  it("gives a member enrolled at the counter a card, and refuses one for an erased member", async () => {
    const shop = await publishedBusiness();
    const member = (
      await shop.call("POST", "/v1/members", { email: "irene@example.com", marketing_consent: false })
    ).body;
    const join = await joinAs(shop, { ...JOIN, email: "irene@example.com" });
    expect(join.status).toBe(409);
    expect(join.body.error.code).toBe("member_exists");
    const link = await shop.call("POST", `/v1/members/${member.id}/card-link`);
    expect(link.status).toBe(201);
    const card = await asMember(link.body.card_token).call("GET", "/v1/wallet/card");
    expect(card.body.member.id).toBe(member.id);

    expect(
      (await shop.call("POST", `/v1/members/${member.id}/erase`, { reason: "Asked by email" })).status,
    ).toBe(200);
    const refused = await shop.call("POST", `/v1/members/${member.id}/card-link`);
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe("member_erased");
  });
});
