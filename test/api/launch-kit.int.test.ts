import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { publicBusiness, walletCard } from "../../src/use-cases/wallet.ts";
import { startTestApp, type Tenant, type TestApp } from "../helpers/api.ts";
import { addStaff } from "../helpers/staff.ts";

let t: TestApp;
let owner: Tenant;

beforeAll(async () => {
  t = await startTestApp();
  owner = await t.signup({
    locale: "pl",
    currency: "PLN",
    timezone: "Europe/Warsaw",
    name: "Kawiarnia Żółw",
  });
  const card = await owner.call("POST", "/v1/stamp-cards", {
    name: "Kawa",
    stamps_required: 5,
    earn_on: "visit",
  });
  await owner.call("POST", "/v1/rewards", {
    name: "Darmowa kawa",
    type: "free_product",
    value: { product_name: "Kawa" },
    stamp_card_id: card.body.id,
  });
});
afterAll(async () => t?.close());

/** The poster as bytes (the JSON helper would decode the PDF as text). */
async function poster(token: string, query = "") {
  const res = await t.app.inject({
    method: "GET",
    url: `/v1/launch-kit/poster.pdf${query}`,
    headers: { authorization: `Bearer ${token}`, host: "loyalty.example.com" },
  });
  return { status: res.statusCode, headers: res.headers, bytes: res.rawPayload, json: () => res.json() };
}

/** The page size of a one-page PDF, in points. */
function mediaBox(pdf: Buffer): number[] {
  const match = /\/MediaBox \[([^\]]+)\]/.exec(pdf.toString("latin1"));
  return (match?.[1] ?? "").trim().split(/\s+/).map(Number);
}

describe("the launch kit", () => {
  it("tells the join link and the program in the business's language", async () => {
    const res = await owner.call("GET", "/v1/launch-kit", undefined, { host: "loyalty.example.com" });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      join_url: `http://loyalty.example.com/join/${owner.slug}`,
      locale: "pl",
      headline: "Zbierz 5 pieczątek i odbierz nagrodę: Darmowa kawa.",
      tiers_line: null,
      published_at: null,
      staff_script: [
        "Czy znasz nasz program lojalnościowy? Dołączenie jest bezpłatne, trwa minutę i nie wymaga aplikacji.",
        "Zbierz 5 pieczątek i odbierz nagrodę: Darmowa kawa.",
        "Wystarczy zeskanować aparatem telefonu kod QR z naszego plakatu i podać imię oraz adres e-mail lub numer telefonu.",
        "Przy następnej wizycie pokaż przy kasie kod QR ze swojej karty, a dodamy Ci pieczątki.",
      ],
      launch_bonus: null,
    });
    const english = await owner.call("GET", "/v1/launch-kit?locale=en");
    expect(english.body.headline).toBe("Collect 5 stamps and get Darmowa kawa.");
  });

  it("renders an A4 poster by default and an A5 one on request", async () => {
    const a4 = await poster(owner.token);
    expect(a4.status).toBe(200);
    expect(a4.headers["content-type"]).toBe("application/pdf");
    expect(a4.headers["content-disposition"]).toContain("attachment");
    expect(a4.bytes.subarray(0, 5).toString("latin1")).toBe("%PDF-");
    expect(a4.bytes.subarray(-6).toString("latin1")).toContain("%%EOF");
    expect(mediaBox(a4.bytes).map(Math.round)).toEqual([0, 0, 595, 842]);
    expect(a4.bytes.toString("latin1")).toMatch(/\/Type \/Pages\s+\/Count 1\b/);

    const a5 = await poster(owner.token, "?size=a5&locale=pt-BR");
    expect(a5.status).toBe(200);
    expect(mediaBox(a5.bytes).map(Math.round)).toEqual([0, 0, 420, 595]);
  });

  it("embeds a font that has the Polish letters and names the join link", async () => {
    const pdf = (await poster(owner.token)).bytes.toString("latin1");
    expect(pdf).toContain("DejaVuSans");
    expect(pdf).toMatch(/\/FontFile2/);
    // The document's subject is the join link the QR code encodes.
    expect(pdf).toMatch(/\/Subject \d+ 0 R/);
    expect(pdf).toContain(`(http://loyalty.example.com/join/${owner.slug})`);
  });

  it.each([
    ["?size=a3", "size"],
    ["?size=A4x", "size"],
    ["?locale=de", "locale"],
    ["?colour=red", ""],
  ])("refuses %s with validation_failed", async (query, field) => {
    const res = await poster(owner.token, query);
    expect(res.status).toBe(400);
    expect(res.json().error.code).toBe("validation_failed");
    if (field) expect(res.json().error.details.issues[0].path).toBe(field);
  });

  it("is for managers and owners, not cashiers", async () => {
    const cashier = await addStaff(t, owner, "cashier");
    const manager = await addStaff(t, owner, "manager");
    const refused = await poster(cashier.session.token);
    expect(refused.status).toBe(403);
    expect(refused.json().error.code).toBe("forbidden");
    expect((await cashier.session.call("GET", "/v1/launch-kit")).status).toBe(403);
    expect((await poster(manager.session.token)).status).toBe(200);
  });

  it("gives another business its own poster, never this one's", async () => {
    const other = await t.signup({ name: "Bakkerij Bol" });
    const kit = await other.call("GET", "/v1/launch-kit");
    expect(kit.body.join_url).toMatch(new RegExp(`/join/${other.slug}$`));
    const pdf = (await poster(other.token)).bytes.toString("latin1");
    expect(pdf).toContain(`/join/${other.slug})`);
    expect(pdf).not.toContain(owner.slug);
  });

  it("says when the program is live", async () => {
    await owner.call("POST", "/v1/program/publish");
    const res = await owner.call("GET", "/v1/launch-kit");
    expect(res.body.published_at).toBe(t.clock.now().toISOString());
  });

  it("needs a session", async () => {
    const res = await t.call("GET", "/v1/launch-kit/poster.pdf");
    expect(res.status).toBe(401);
  });
});

describe("the launch kit with PUBLIC_URL set", () => {
  let pub: TestApp;
  afterAll(async () => pub?.close());

  it("points the join link and the poster's QR code at the public address, not the one the dashboard was opened on", async () => {
    pub = await startTestApp({ publicUrl: "https://club.example.org" });
    const shop = await pub.signup({ name: "Bakkerij Bol", locale: "nl" });
    const kit = await shop.call("GET", "/v1/launch-kit", undefined, { host: "localhost:3000" });
    expect(kit.body.join_url).toBe(`https://club.example.org/join/${shop.slug}`);
    const res = await pub.app.inject({
      method: "GET",
      url: "/v1/launch-kit/poster.pdf",
      headers: { authorization: `Bearer ${shop.token}`, host: "10.0.0.7:3000" },
    });
    const pdf = res.rawPayload.toString("latin1");
    expect(pdf).toContain(`(https://club.example.org/join/${shop.slug})`);
    expect(pdf).not.toContain("10.0.0.7");
    // The counter's invitation to join, for a cashier, points there too.
    const cashierKey = await shop.call("POST", "/v1/api-keys", { name: "Till", role: "cashier" });
    const me = await shop
      .as(cashierKey.body.key)
      .call("GET", "/v1/auth/me", undefined, { host: "10.0.0.7:3000" });
    expect(me.status).toBe(200);
    expect(me.body.join_url).toBe(`https://club.example.org/join/${shop.slug}`);
    // Made for this session: never kept by a cache on the way for someone else.
    expect(me.headers["cache-control"]).toBe("no-store");
  });

  it("gives the counter no join page when no public address is set: the address a request came to may be a proxy's internal one", async () => {
    const shop = await t.signup({ name: "Café Één" });
    const me = await shop.call("GET", "/v1/auth/me", undefined, {
      host: "app:3000",
      "x-forwarded-host": "loyalty.example",
      "x-forwarded-proto": "https",
    });
    expect(me.status).toBe(200);
    expect(me.body.join_url).toBeNull();
    expect(me.headers["cache-control"]).toBe("no-store");
  });
});

describe("the poster's promise", () => {
  it("names only a reward a new member can get now: not an ended, a future, a sold-out or a tier's own one", async () => {
    const shop = await t.signup({ name: "Boutique Bel", locale: "en" });
    const gold = (await shop.call("POST", "/v1/tiers", { name: "Gold", rank: 1, threshold: 50_000 })).body.id;
    const reward = async (name: string, cost_points: number, extra: Record<string, unknown> = {}) => {
      const res = await shop.call("POST", "/v1/rewards", {
        name,
        type: "perk",
        value: { perk: "priority_service" },
        cost_points,
        ...extra,
      });
      expect(res.status, name).toBe(201);
    };
    await reward("Tote bag", 500);
    // Ended since it was made (a reward made already ended is refused: valid_until_in_past).
    await reward("Ice cream", 50, {
      valid_from: "2026-02-01T00:00:00Z",
      valid_until: new Date(t.clock.now().getTime() + 60_000).toISOString(),
    });
    await reward("Christmas cookie", 60, { valid_from: "2026-12-01T00:00:00Z" });
    await reward("Sold-out mug", 70, { stock: 0 });
    await reward("Gold lounge pass", 80, { eligible_tier_ids: [gold] });
    const before = t.clock.now();
    t.clock.advance(120_000);
    const kit = (await shop.call("GET", "/v1/launch-kit")).body;
    t.clock.set(before);
    expect(kit.headline).toContain("Tote bag");
    for (const name of ["Ice cream", "Christmas cookie", "Sold-out mug", "Gold lounge pass"])
      expect(kit.headline).not.toContain(name);
  });
});

describe("a stamp card without a reward", () => {
  it("is told as stamps to collect on the poster and in the staff script, never for a reward, in every language", async () => {
    const shop = await t.signup({ name: "Koffiebar Kees", locale: "nl" });
    const card = await shop.call("POST", "/v1/stamp-cards", {
      name: "Koffiekaart",
      stamps_required: 8,
      earn_on: "visit",
    });
    expect(card.status).toBe(201);
    const expected = {
      en: "Koffiekaart: collect 8 stamps on your card.",
      nl: "Koffiekaart: verzamel 8 stempels op je kaart.",
      pl: "Koffiekaart: zbierz 8 pieczątek na swojej karcie.",
      "pt-BR": "Koffiekaart: junte 8 selos no seu cartão.",
    };
    const rewardWords = /reward|beloning|nagrod|recompensa/i;
    for (const [locale, headline] of Object.entries(expected)) {
      const kit = (await shop.call("GET", `/v1/launch-kit?locale=${locale}`)).body;
      expect(kit.headline, locale).toBe(headline);
      expect(kit.staff_script, locale).toContain(headline);
      expect(kit.staff_script.join(" "), locale).not.toMatch(rewardWords);
    }
    // The poster draws `headline` (posterPdf): what it says is what the kit says.

    // A reward for the card that no new member can get now (sold out) is no promise either.
    const soldOut = await shop.call("POST", "/v1/rewards", {
      name: "Gratis koffie",
      type: "free_product",
      value: { product_name: "Koffie" },
      stamp_card_id: card.body.id,
      stock: 0,
    });
    expect(soldOut.status, JSON.stringify(soldOut.body)).toBe(201);
    expect((await shop.call("GET", "/v1/launch-kit")).body.headline).toBe(expected.nl);
  });
});

describe("a gym's launch kit and card", () => {
  it("tells the points per visit and the tiers, promises no reward a new member cannot get, and the card says no 0 per euro", async () => {
    const gym = await t.signup({ name: "Gym Gijs", locale: "en" });
    const template = await gym.call("POST", "/v1/program/templates/gym_tiers", {
      tiers: [{}, { threshold: 2 }, { threshold: 3 }],
      points_per_visit: 5,
    });
    expect(template.status, JSON.stringify(template.body)).toBe(201);
    const [, second, third] = template.body.tiers.map((tier: { name: string }) => tier.name);
    await gym.call("POST", "/v1/program/publish");

    const kit = (await gym.call("GET", "/v1/launch-kit")).body;
    // The session reward is for the top tier only: nothing to "swap them for" yet.
    expect(kit.headline).toBe("Earn 5 points every visit.");
    expect(kit.tiers_line).toBe(`Reach ${second} and ${third} for extra benefits.`);
    expect(kit.staff_script).toContain("Earn 5 points every visit.");
    expect(kit.staff_script.at(-1)).toBe(
      "Next time, show the QR code on your card at the counter and we add your points.",
    );
    const nl = (await gym.call("GET", "/v1/launch-kit?locale=nl")).body;
    expect(nl.headline).toBe("Spaar 5 punten per bezoek.");

    // What the card and join page are told: no rate per amount, 5 points per visit.
    const joined = await t.call("POST", `/v1/public/businesses/${gym.slug}/members`, {
      name: "Rosa",
      email: "rosa@example.test",
      marketing_consent: false,
    });
    expect(joined.status).toBe(201);
    const member = (await gym.call("GET", `/v1/members/lookup?code=${joined.body.member_code}`)).body;
    const card = await walletCard(t.ctx, gym.businessId, member.id);
    expect(card.business.program.points).toMatchObject({ earn_points: 0, earn_per_visit: 5 });
    const page = await publicBusiness(t.ctx, gym.slug);
    expect(page.program.points).toMatchObject({ earn_points: 0, earn_per_visit: 5 });
  });
});

describe("the launch bonus", () => {
  it("is a signup rule with an end: the kit shows it and the staff script tells it until it ends", async () => {
    const shop = await t.signup({ name: "Bakkerij Bol", locale: "nl", timezone: "Europe/Amsterdam" });
    const start = t.clock.now();
    const end = new Date(start.getTime() + 7 * 24 * 3600 * 1000);
    const body = {
      name: "Startbonus",
      trigger: "signup",
      effect: { type: "fixed_points", points: 50 },
      starts_at: start.toISOString(),
      ends_at: end.toISOString(),
    };
    // As the launch-kit page sends it: once, however often the owner presses.
    const headers = { "idempotency-key": "launch-bonus-1" };
    const created = await shop.call("POST", "/v1/rules", body, headers);
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect((await shop.call("POST", "/v1/rules", body, headers)).body.id).toBe(created.body.id);

    const kit = (await shop.call("GET", "/v1/launch-kit")).body;
    expect(kit.launch_bonus).toEqual({
      rule_id: created.body.id,
      name: "Startbonus",
      points: 50,
      stamps: 0,
      stamp_card_id: null,
      starts_at: start.toISOString(),
      ends_at: end.toISOString(),
    });
    // 2026-03-09 09:00 UTC is 10:00 in Amsterdam.
    expect(kit.staff_script).toContain(
      "Word je lid vóór 9 maart 2026 om 10:00, dan krijg je 50 punten als startcadeau.",
    );

    // A member who joins now gets it.
    await shop.call("POST", "/v1/program/publish");
    const joined = await t.call("POST", `/v1/public/businesses/${shop.slug}/members`, {
      name: "Tom",
      email: "tom@example.test",
      marketing_consent: false,
    });
    const tom = (await shop.call("GET", `/v1/members/lookup?code=${joined.body.member_code}`)).body;
    expect((await shop.call("GET", `/v1/members/${tom.id}/card`)).body.points.available).toBe(50);

    t.clock.set(end);
    try {
      const after = (await shop.call("GET", "/v1/launch-kit")).body;
      expect(after.launch_bonus).toBeNull();
      expect(after.staff_script.join(" ")).not.toContain("startcadeau");
    } finally {
      t.clock.set(start);
    }
  });

  it("is not a bonus that gives nothing, nor one for some members only", async () => {
    const shop = await t.signup({ name: "Salon Sil", locale: "en" });
    const ends_at = new Date(t.clock.now().getTime() + 24 * 3600 * 1000).toISOString();
    const vip = await shop.call("POST", "/v1/rules", {
      name: "VIP welcome",
      trigger: "signup",
      conditions: { member_attributes: [{ key: "vip", op: "exists" }] },
      effect: { type: "fixed_points", points: 100 },
      ends_at,
    });
    expect(vip.status, JSON.stringify(vip.body)).toBe(201);
    const program = (await shop.call("GET", "/v1/program")).body;
    await shop.call("PUT", "/v1/program", {
      ...program.config,
      points: { ...program.config.points, enabled: false },
    });
    await shop.call("POST", "/v1/rules", {
      name: "Points while points are off",
      trigger: "signup",
      effect: { type: "fixed_points", points: 100 },
      ends_at,
    });
    const kit = (await shop.call("GET", "/v1/launch-kit")).body;
    expect(kit.launch_bonus).toBeNull();
    expect(kit.staff_script.join(" ")).not.toMatch(/gift/);
  });
});

describe("the poster's layout", () => {
  it("keeps one page and the join link with the longest name, reward and tier ladder the API accepts", async () => {
    const shop = await t.signup({ name: "W".repeat(120), locale: "pl" });
    await shop.call("POST", "/v1/rewards", {
      name: "M".repeat(120),
      type: "perk",
      value: { perk: "priority_service" },
      cost_points: 10,
    });
    for (let rank = 1; rank <= 20; rank++) {
      const res = await shop.call("POST", "/v1/tiers", {
        name: `${String(rank).padStart(2, "0")} ${"Ż".repeat(57)}`,
        rank,
        threshold: rank * 1000,
      });
      expect(res.status).toBe(201);
    }
    for (const size of ["a4", "a5"]) {
      const res = await t.app.inject({
        method: "GET",
        url: `/v1/launch-kit/poster.pdf?size=${size}`,
        headers: { authorization: `Bearer ${shop.token}`, host: "loyalty.example.com" },
      });
      expect(res.statusCode).toBe(200);
      const pdf = res.rawPayload.toString("latin1");
      expect(pdf.match(/\/Type \/Page[^s]/g), size).toHaveLength(1);
      expect(pdf).toContain(`(http://loyalty.example.com/join/${shop.slug})`);
    }
  });
});
