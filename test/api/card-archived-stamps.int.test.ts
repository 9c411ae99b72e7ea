import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type Tenant, type TestApp } from "../helpers/api.ts";

/**
 * An archived stamp card earns nothing, but the stamps already collected on it stay and still pay
 * for its reward: the card keeps showing them (`archived: true`), on the staff's card, the
 * wallet's card and the data export alike, until none are left.
 */
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ now: "2026-03-02T09:00:00Z" });
});
afterAll(async () => t?.close());

let seq = 0;
async function ok(tenant: Tenant, method: "GET" | "POST" | "DELETE", url: string, body?: unknown) {
  const res = await tenant.call(method, url, body);
  if (res.status >= 300) throw new Error(`${method} ${url} → ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

async function cafe() {
  const tenant = await t.signup();
  const newCard = async (name: string, stamps_required: number) => {
    t.clock.advance(1_000);
    return (await ok(tenant, "POST", "/v1/stamp-cards", { name, stamps_required, earn_on: "visit" }))
      .id as string;
  };
  const member = async () =>
    (await ok(tenant, "POST", "/v1/members", { name: "Anna", marketing_consent: false })).id as string;
  const buy = async (memberId: string, times: number) => {
    for (let i = 0; i < times; i++) {
      await ok(tenant, "POST", "/v1/purchases", {
        external_id: `p-${++seq}`,
        member_id: memberId,
        amount_minor: 500,
        currency: "EUR",
      });
    }
  };
  const card = async (memberId: string) => ok(tenant, "GET", `/v1/members/${memberId}/card`);
  return { tenant, newCard, member, buy, card };
}

const holding = (id: string, name: string, stamps: number, required: number, archived: boolean) => ({
  stamp_card_id: id,
  name,
  stamps,
  stamps_required: required,
  full_cards: Math.floor(stamps / required),
  stamps_on_current_card: stamps % required,
  stamps_to_next_reward: required - (stamps % required),
  archived,
});

describe("stamps on an archived stamp card", () => {
  it("still show on the card, marked archived, after the active cards", async () => {
    const { tenant, newCard, member, buy, card } = await cafe();
    const coffee = await newCard("Coffee", 10);
    const anna = await member();
    await buy(anna, 9);
    expect((await card(anna)).stamp_cards).toEqual([holding(coffee, "Coffee", 9, 10, false)]);

    await ok(tenant, "DELETE", `/v1/stamp-cards/${coffee}`);
    const tea = await newCard("Tea", 5);
    await buy(anna, 1);
    const shown = await card(anna);
    expect(shown.stamp_cards).toEqual([
      holding(tea, "Tea", 1, 5, false),
      holding(coffee, "Coffee", 9, 10, true),
    ]);

    // The wallet's card and the export show the same.
    const link = await ok(tenant, "POST", `/v1/members/${anna}/card-link`);
    const wallet = await t.call("GET", "/v1/wallet/card", undefined, {
      authorization: `Bearer ${link.card_token}`,
    });
    expect(wallet.status).toBe(200);
    expect(wallet.body.card.stamp_cards).toEqual(shown.stamp_cards);
    expect((await ok(tenant, "GET", `/v1/members/${anna}/export`)).card.stamp_cards).toEqual(
      shown.stamp_cards,
    );
  });

  it("show while stamps are left on them, and not once none are", async () => {
    const { tenant, newCard, member, buy, card } = await cafe();
    const coffee = await newCard("Coffee", 3);
    const lunch = await newCard("Lunch", 4);
    const anna = await member();
    const ben = await member();
    await buy(anna, 2);
    await ok(tenant, "DELETE", `/v1/stamp-cards/${coffee}`);
    await ok(tenant, "DELETE", `/v1/stamp-cards/${lunch}`);
    // Archived cards oldest first; a member who never collected on them sees none.
    expect((await card(anna)).stamp_cards).toEqual([
      holding(coffee, "Coffee", 2, 3, true),
      holding(lunch, "Lunch", 2, 4, true),
    ]);
    expect((await card(ben)).stamp_cards).toEqual([]);

    // A correction on an archived card moves what shows; taking the last stamp hides the card.
    await ok(tenant, "POST", `/v1/members/${anna}/adjustments`, {
      stamp_card_id: coffee,
      stamps: 2,
      reason: "Stamps from the paper card",
    });
    await ok(tenant, "POST", `/v1/members/${anna}/adjustments`, {
      stamp_card_id: lunch,
      stamps: -2,
      reason: "Stamped by mistake",
    });
    expect((await card(anna)).stamp_cards).toEqual([holding(coffee, "Coffee", 4, 3, true)]);
  });

  it("pay for the reward of the archived card, and the card shows what is left", async () => {
    const { tenant, newCard, member, buy, card } = await cafe();
    const coffee = await newCard("Coffee", 3);
    const reward = (
      await ok(tenant, "POST", "/v1/rewards", {
        name: "Free coffee",
        type: "free_product",
        value: { product_name: "Coffee" },
        stamp_card_id: coffee,
      })
    ).id as string;
    const anna = await member();
    await buy(anna, 4);
    await ok(tenant, "DELETE", `/v1/stamp-cards/${coffee}`);
    await ok(tenant, "POST", `/v1/members/${anna}/redemptions`, { reward_id: reward });
    expect((await card(anna)).stamp_cards).toEqual([holding(coffee, "Coffee", 1, 3, true)]);
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
    const staff = answer("/v1/members/{id}/card")?.properties?.stamp_cards?.items;
    const wallet = answer("/v1/wallet/card")?.properties?.card?.properties?.stamp_cards?.items;
    for (const held of [staff, wallet]) {
      expect(held?.required).toContain("archived");
      expect(held?.properties?.archived).toMatchObject({ type: "boolean" });
    }
  });
});
