import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Response, startTestApp, type Tenant, type TestApp } from "../helpers/api.ts";
import { digestOf } from "../helpers/digest.ts";

/**
 * Every write a client may retry, sent eight times at once under one key (a till that retried
 * while its first try was still on its way, or several tabs): one is done, the others wait for it
 * and get its answer byte for byte, and sending it once more then changes nothing. On the
 * PostgreSQL server the eight run truly at once on eight connections; on PGlite the app interleaves
 * them on its one connection.
 */

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ poolSize: 8 });
});
afterAll(async () => t?.close());

const AT_ONCE = 8;

interface Setup {
  tenant: Tenant;
  member: string;
  reward: string;
  purchase: string;
  vouchers: string[];
  walletToken: string;
}

async function setUp(): Promise<Setup> {
  const tenant = await t.signup();
  const ok = async (url: string, body: unknown, as = tenant) => {
    const res = await as.call("POST", url, body);
    if (res.status >= 300) throw new Error(`${url}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };
  const member = (await ok("/v1/members", { name: "Ada", marketing_consent: false })).id;
  await ok(`/v1/members/${member}/adjustments`, { points: 1_000, reason: "Welcome gift" });
  const reward = (
    await ok("/v1/rewards", {
      name: "Mug",
      type: "free_product",
      value: { product_name: "Mug" },
      cost_points: 100,
    })
  ).id;
  const purchase = (
    await ok("/v1/purchases", {
      external_id: "sale-1",
      member_id: member,
      amount_minor: 2_000,
      currency: "EUR",
    })
  ).purchase.id;
  const vouchers: string[] = [];
  for (let i = 0; i < 2; i++)
    vouchers.push((await ok(`/v1/members/${member}/redemptions`, { reward_id: reward })).voucher.code);
  const walletToken = (await ok(`/v1/members/${member}/card-link`, {})).card_token;
  return { tenant, member, reward, purchase, vouchers, walletToken };
}

/** Each retryable write: its URL and body, and who sends it. */
interface Write {
  url: string;
  body: unknown;
  /** Sent with this token instead of the owner's. */
  token?: string;
  /** Sent by a business of its own, with nothing set up. */
  empty?: boolean;
}

const WRITES: Record<string, (s: Setup) => Write> = {
  "enrol a member": () => ({
    url: "/v1/members",
    body: { name: "Bo", email: "bo@x.test", marketing_consent: true },
  }),
  "adjust points": (s) => ({
    url: `/v1/members/${s.member}/adjustments`,
    body: { points: -50, reason: "Correction" },
  }),
  "redeem a reward": (s) => ({ url: `/v1/members/${s.member}/redemptions`, body: { reward_id: s.reward } }),
  "redeem it from the card": (s) => ({
    url: "/v1/wallet/redemptions",
    body: { reward_id: s.reward },
    token: s.walletToken,
  }),
  "confirm a voucher": (s) => ({ url: `/v1/vouchers/${s.vouchers[0]}/redeem`, body: {} }),
  "void a voucher": (s) => ({ url: `/v1/vouchers/${s.vouchers[1]}/void`, body: { reason: "Changed mind" } }),
  "refund a purchase": (s) => ({
    url: "/v1/refunds",
    body: { external_id: "return-1", purchase_id: s.purchase, amount_minor: 500 },
  }),
  "record an event": (s) => ({
    url: "/v1/events",
    body: { external_id: "review-1", member_id: s.member, type: "review_written" },
  }),
  "create a reward": () => ({
    url: "/v1/rewards",
    body: { name: "Tote", type: "perk", value: { perk: "priority_service" }, cost_points: 200 },
  }),
  "create a rule": () => ({
    url: "/v1/rules",
    body: {
      name: "Review bonus",
      trigger: "event",
      event_type: "review_written",
      effect: { type: "fixed_points", points: 5 },
    },
  }),
  "create a stamp card": () => ({
    url: "/v1/stamp-cards",
    body: { name: "Tea", stamps_required: 8, earn_on: "visit" },
  }),
  "create a tier": () => ({ url: "/v1/tiers", body: { name: "Gold", rank: 1, threshold: 1_000 } }),
  "add a location": () => ({ url: "/v1/locations", body: { name: "Centrum" } }),
  "add a staff member": () => ({
    url: "/v1/staff",
    body: { email: "kim@shop.test", name: "Kim", role: "cashier", password: "a long password 1" },
  }),
  // A template starts an empty program: a business of its own, without the set-up's reward.
  "apply a template": () => ({ url: "/v1/program/templates/cafe_stamp_card", body: {}, empty: true }),
};

describe("a retryable write sent eight times at once under one key", () => {
  it.each(Object.keys(WRITES))("%s: done once, every answer the first one", async (name) => {
    const s = await setUp();
    const write = (WRITES[name] as (s: Setup) => Write)(s);
    const tenant = write.empty ? await t.signup() : s.tenant;
    const as = write.token ? tenant.as(write.token) : tenant;
    const send = () => as.call("POST", write.url, write.body, { "idempotency-key": `retry-${name}` });
    const before = await digestOf(t.database.db, tenant.businessId);
    const answers: Response[] = await Promise.all(Array.from({ length: AT_ONCE }, send));
    const statuses = answers.map((r) => r.status).sort();
    const first = answers.find((r) => r.headers["idempotent-replayed"] === undefined);
    expect(first, `no first answer among ${statuses.join(", ")}: ${answers[0]?.text}`).toBeDefined();
    expect([200, 201]).toContain(first?.status);
    // The others: the first answer again, marked as a replay.
    const replays = answers.filter((r) => r !== first);
    expect(replays.map((r) => [r.status, r.headers["idempotent-replayed"], r.text])).toEqual(
      replays.map(() => [200, "true", first?.text]),
    );
    // Something was done, once: one more try changes nothing.
    const done = await digestOf(t.database.db, tenant.businessId);
    expect(done).not.toEqual(before);
    const again = await send();
    expect([again.status, again.text]).toEqual([200, first?.text]);
    expect(await digestOf(t.database.db, tenant.businessId)).toEqual(done);
  });
});
