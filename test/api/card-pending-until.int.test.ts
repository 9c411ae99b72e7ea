import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addLocalDays } from "../../src/shared/time.ts";
import { PENDING_UNTIL_SHOWN } from "../../src/use-cases/member-summary.ts";
import { startTestApp, type Tenant, type TestApp } from "../helpers/api.ts";

/**
 * The card says when pending points become spendable (`points.pending_until`): each release time
 * of the member's open pending lots, earliest first, on the staff's card, the wallet's card and
 * the data export alike.
 */
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ now: "2026-03-02T09:00:00Z" });
});
afterAll(async () => t?.close());

const ZONE = "Europe/Amsterdam";
let seq = 0;

async function ok(tenant: Tenant, method: "GET" | "POST" | "PUT", url: string, body?: unknown) {
  const res = await tenant.call(method, url, body);
  if (res.status >= 300) throw new Error(`${method} ${url} → ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** A café whose points wait 14 days and expire 60 days after they can be spent; one member. */
async function cafe() {
  const owner = await t.signup();
  // Staff sessions last 30 days; an API key outlives the clock moves below.
  const tenant = owner.as((await ok(owner, "POST", "/v1/api-keys", { name: "POS", role: "manager" })).key);
  const program = (await ok(tenant, "GET", "/v1/program")).config;
  await ok(tenant, "PUT", "/v1/program", {
    ...program,
    points: { ...program.points, pending_days: 14, expiry: { policy: "days_after_earn", days: 60 } },
  });
  const member = (await ok(tenant, "POST", "/v1/members", { name: "Anna", marketing_consent: false }))
    .id as string;
  const buy = async (amount_minor: number) =>
    ok(tenant, "POST", "/v1/purchases", {
      external_id: `p-${++seq}`,
      member_id: member,
      amount_minor,
      currency: "EUR",
    });
  const card = async () => (await ok(tenant, "GET", `/v1/members/${member}/card`)) as CardBody;
  return { tenant, member, buy, card };
}

interface CardBody {
  points: {
    available: number;
    pending: number;
    pending_until: { available_at: string; points: number }[];
  };
}

describe("the card's pending points", () => {
  it("say when they become spendable, grouped by release time, earliest first", async () => {
    const { tenant, member, buy, card } = await cafe();
    const first = t.clock.now();
    // Two purchases at one moment share a release time; one a day later has its own.
    const a = await buy(5_000);
    await buy(3_000);
    expect(a.earned.points_available_at).toBe(addLocalDays(first, 14, ZONE).toISOString());
    t.clock.advance(24 * 3600_000);
    const second = t.clock.now();
    const c = await buy(2_000);

    const at1 = addLocalDays(first, 14, ZONE).toISOString();
    const at2 = addLocalDays(second, 14, ZONE).toISOString();
    expect(c.earned.points_available_at).toBe(at2);
    const before = await card();
    expect(before.points).toMatchObject({ available: 0, pending: 100 });
    expect(before.points.pending_until).toEqual([
      { available_at: at1, points: 80 },
      { available_at: at2, points: 20 },
    ]);

    // The wallet's card and the export show the same.
    const link = await ok(tenant, "POST", `/v1/members/${member}/card-link`);
    const wallet = await t.call("GET", "/v1/wallet/card", undefined, {
      authorization: `Bearer ${link.card_token}`,
    });
    expect(wallet.status).toBe(200);
    expect(wallet.body.card.points).toEqual(before.points);
    const exported = await ok(tenant, "GET", `/v1/members/${member}/export`);
    expect(exported.card.points).toEqual(before.points);

    // A refund takes back the refunded purchase's own pending points: what is left shows.
    await ok(tenant, "POST", "/v1/refunds", {
      external_id: `r-${++seq}`,
      purchase_id: c.purchase.id,
      amount_minor: 1_000,
    });
    expect((await card()).points.pending_until).toEqual([
      { available_at: at1, points: 80 },
      { available_at: at2, points: 10 },
    ]);

    // Released points leave the list; a release time that has come is no longer pending.
    t.clock.set(new Date(at1));
    const released = await card();
    expect(released.points).toMatchObject({ available: 80, pending: 10 });
    expect(released.points.pending_until).toEqual([{ available_at: at2, points: 10 }]);
    t.clock.set(new Date(at2));
    const all = await card();
    expect(all.points).toMatchObject({ available: 90, pending: 0, pending_until: [] });
  });

  it("is empty for a member with nothing pending, and for a program without a pending period", async () => {
    const { tenant, member, card } = await cafe();
    expect((await card()).points).toMatchObject({ pending: 0, pending_until: [] });
    const program = (await ok(tenant, "GET", "/v1/program")).config;
    await ok(tenant, "PUT", "/v1/program", { ...program, points: { ...program.points, pending_days: 0 } });
    await ok(tenant, "POST", "/v1/purchases", {
      external_id: `p-${++seq}`,
      member_id: member,
      amount_minor: 1_000,
      currency: "EUR",
    });
    expect((await card()).points).toMatchObject({ available: 10, pending: 0, pending_until: [] });
  });

  it(`shows the earliest ${PENDING_UNTIL_SHOWN} release times; \`pending\` still counts them all`, async () => {
    const { buy, card } = await cafe();
    const times: string[] = [];
    for (let i = 0; i < PENDING_UNTIL_SHOWN + 2; i++) {
      times.push(addLocalDays(t.clock.now(), 14, ZONE).toISOString());
      await buy(100 * (i + 1));
      t.clock.advance(60_000);
    }
    const { points } = await card();
    const total = ((PENDING_UNTIL_SHOWN + 2) * (PENDING_UNTIL_SHOWN + 3)) / 2;
    expect(points.pending).toBe(total);
    expect(points.pending_until).toEqual(
      times.slice(0, PENDING_UNTIL_SHOWN).map((available_at, i) => ({ available_at, points: i + 1 })),
    );
  });

  it("is documented in the OpenAPI answers of the staff's and the wallet's card", async () => {
    type Schema = { properties?: Record<string, Schema>; items?: Schema; required?: string[] };
    const doc = t.app.swagger() as unknown as {
      paths: Record<
        string,
        Record<string, { responses: Record<string, { content: Record<string, { schema: Schema }> }> }>
      >;
    };
    const answer = (path: string) =>
      doc.paths[path]?.get?.responses["200"]?.content["application/json"]?.schema;
    const staff = answer("/v1/members/{id}/card")?.properties?.points;
    const wallet = answer("/v1/wallet/card")?.properties?.card?.properties?.points;
    for (const points of [staff, wallet]) {
      expect(points?.required).toContain("pending_until");
      expect(Object.keys(points?.properties?.pending_until?.items?.properties ?? {}).sort()).toEqual([
        "available_at",
        "points",
      ]);
    }
  });
});
