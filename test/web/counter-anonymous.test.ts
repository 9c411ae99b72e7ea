import { afterEach, beforeEach, describe, expect, it, type Mock, vi } from "vitest";
import {
  joinLink,
  mayRecordWithoutMember,
  saleWithoutMember,
  withoutMember,
  wouldEarn,
} from "../../web/src/counter/anonymous.ts";
import { PurchaseQueue } from "../../web/src/counter/queue.ts";
import type { PurchaseBody } from "../../web/src/counter/types.ts";

/**
 * Sales without a member at the counter: the body sent (never naming a member), a member's
 * purchase refused because the card was deleted turned into the same sale without a member (a key
 * of its own, the same at every press, at the refused purchase's location), the join link, what
 * the sale would have earned, and such a sale through the outbox: kept offline and sent later under
 * the key it got at the press.
 */

const AT = "2026-03-14T10:00:00.000Z";
const COFFEE = { sku: "coffee", name: "coffee", category: "coffee", quantity: 2, unit_price_minor: 0 };

const refusedBody: PurchaseBody = {
  external_id: "counter-k1",
  member_id: "m1",
  amount_minor: 350,
  currency: "EUR",
  items: [COFFEE],
  location_id: "loc-old",
  occurred_at: AT,
};
/** Saved offline for a card code, not for a member looked up. */
const byCode: PurchaseBody = {
  external_id: "counter-k2",
  member_code: "ABCD2345",
  amount_minor: 350,
  currency: "EUR",
  items: [COFFEE],
  occurred_at: AT,
};

describe("a sale without a member", () => {
  it("names no member, and takes its external id from the press's key", () => {
    const body = saleWithoutMember("k9", {
      amount_minor: 450,
      currency: "EUR",
      items: [COFFEE],
      location_id: "loc-1",
      occurred_at: AT,
    });
    expect(body).toEqual({
      external_id: "counter-k9",
      amount_minor: 450,
      currency: "EUR",
      items: [COFFEE],
      location_id: "loc-1",
      occurred_at: AT,
    });
    expect(body).not.toHaveProperty("member_id");
    expect(body).not.toHaveProperty("member_code");
  });

  it("sends no location when the counter has none", () => {
    const body = saleWithoutMember("k9", {
      amount_minor: 450,
      currency: "EUR",
      items: [],
      location_id: null,
      occurred_at: AT,
    });
    expect(body).not.toHaveProperty("location_id");
  });
});

describe("a purchase refused for a deleted card, recorded without a member", () => {
  it("is the same sale (amount, items, time, location) with no member", () => {
    const { body } = withoutMember({ key: "k1", body: refusedBody });
    expect(body).toMatchObject({ amount_minor: 350, currency: "EUR", items: [COFFEE], occurred_at: AT });
    // Where it was made, whichever location the counter moved to since: the same key, the same body.
    expect(body.location_id).toBe("loc-old");
    expect(body).not.toHaveProperty("member_id");
    // Saved offline for a card code, at a counter without a location: the code goes, no location comes.
    const fromCode = withoutMember({ key: "k2", body: byCode }).body;
    expect(fromCode).not.toHaveProperty("member_code");
    expect(fromCode).not.toHaveProperty("member_id");
    expect(fromCode).not.toHaveProperty("location_id");
  });

  it("goes to the location given (the counter's, when the refused purchase's was closed), under the same key", () => {
    const kept = withoutMember({ key: "k1", body: refusedBody });
    const moved = withoutMember({ key: "k1", body: refusedBody }, "loc-now");
    expect(moved.body.location_id).toBe("loc-now");
    expect(moved.key).toBe(kept.key);
    expect({ ...moved.body, location_id: "loc-old" }).toEqual(kept.body);
    expect(withoutMember({ key: "k1", body: refusedBody }, null).body).not.toHaveProperty("location_id");
  });

  it("is offered for a deleted card, and for a card code saved offline that finds no one", () => {
    expect(mayRecordWithoutMember("member_erased", refusedBody)).toBe(true);
    expect(mayRecordWithoutMember("member_erased", byCode)).toBe(true);
    expect(mayRecordWithoutMember("member_not_found", byCode)).toBe(true);
    // By id, a deleted card answers member_erased: an id that finds no one is something else.
    expect(mayRecordWithoutMember("member_not_found", refusedBody)).toBe(false);
    for (const code of [
      "location_archived",
      "validation_failed",
      "idempotency_key_reused",
      "points_too_large",
    ])
      expect(mayRecordWithoutMember(code, byCode)).toBe(false);
  });

  it("has a key of its own, not the refused one's, and the same one at every press", () => {
    const first = withoutMember({ key: "k1", body: refusedBody });
    const again = withoutMember({ key: "k1", body: refusedBody });
    expect(first.key).not.toBe("k1");
    expect(first.body.external_id).not.toBe(refusedBody.external_id);
    expect(first.body.external_id).toBe(`counter-${first.key}`);
    expect(again).toEqual(first);
    // Another refused purchase: another sale.
    expect(withoutMember({ key: "k2", body: refusedBody }).key).not.toBe(first.key);
  });
});

describe("the invitation to join", () => {
  it("links to the join page on PUBLIC_URL when the server has it, else on the counter's own origin", () => {
    expect(joinLink("https://club.example.org/join/corner-cafe", "http://app:3000", "corner-cafe")).toBe(
      "https://club.example.org/join/corner-cafe",
    );
    expect(joinLink(null, "https://loyalty.example", "corner-cafe")).toBe(
      "https://loyalty.example/join/corner-cafe",
    );
    expect(joinLink(null, "https://loyalty.example/", "café b")).toBe(
      "https://loyalty.example/join/caf%C3%A9%20b",
    );
  });

  it("adds up what the sale would have earned: points, and stamps by card", () => {
    expect(
      wouldEarn({
        total_points: 4,
        stamps: [
          { stamp_card_id: "c1", stamps: 1 },
          { stamp_card_id: "c2", stamps: 0 },
          { stamp_card_id: "c1", stamps: 2 },
        ],
      }),
    ).toEqual({ points: 4, stamps: [{ cardId: "c1", stamps: 3 }] });
    expect(wouldEarn({ total_points: 0, stamps: [] })).toEqual({ points: 0, stamps: [] });
  });
});

class MemoryStorage {
  private items = new Map<string, string>();
  getItem(key: string): string | null {
    return this.items.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    this.items.set(key, value);
  }
  removeItem(key: string): void {
    this.items.delete(key);
  }
}

let answers: (() => Response)[] = [];
let fetchMock: Mock<(path: string, init: RequestInit) => Promise<Response>>;
const json = (status: number, body: unknown) => () =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
const offline = () => {
  throw new TypeError("Failed to fetch");
};
const recorded = (key: string, amount: number) =>
  json(201, {
    purchase: {
      id: `p-${key}`,
      external_id: `counter-${key}`,
      amount_minor: amount,
      points_earned: 0,
      stamps_earned: 0,
    },
    earned: { points: [], stamps: [], points_available_at: null },
    member: null,
  });

/** What the queue sent to the purchases route: the idempotency key and the body. */
const sent = () =>
  fetchMock.mock.calls.map(([, init]) => ({
    key: (init.headers as Record<string, string>)["idempotency-key"],
    body: JSON.parse(String(init.body)) as Record<string, unknown>,
  }));

describe("a sale without a member through the outbox", () => {
  beforeEach(() => {
    answers = [];
    vi.stubGlobal("localStorage", new MemoryStorage());
    vi.stubGlobal("window", { addEventListener() {}, removeEventListener() {} });
    fetchMock = vi.fn(async () => {
      const next = answers.shift();
      if (!next) throw new Error("no answer left for this call");
      return next();
    });
    vi.stubGlobal("fetch", fetchMock);
  });
  afterEach(() => vi.unstubAllGlobals());

  it("is kept while offline and sent later under the key of the press, naming no member", async () => {
    const queue = new PurchaseQueue("b1");
    const body = saleWithoutMember("k5", {
      amount_minor: 450,
      currency: "EUR",
      items: [],
      location_id: null,
      occurred_at: AT,
    });
    answers.push(offline);
    const outcome = await queue.submit({ key: "k5", label: "Non-member", body });
    expect(outcome).toEqual({ kind: "queued", reason: "network" });
    await vi.waitFor(() => expect(queue.state().sending).toBe(false));
    expect(queue.pending().map((p) => p.key)).toEqual(["k5"]);

    answers.push(recorded("k5", 450));
    await queue.flush();
    expect(queue.pending()).toEqual([]);
    expect(queue.state().sentLater).toBe(1);
    const [first, retry] = sent();
    expect(retry?.key).toBe(first?.key);
    expect(retry?.key).toBe("k5");
    expect(retry?.body).toEqual({ ...body });
    expect(retry?.body).not.toHaveProperty("member_id");
  });

  it("a saved member's purchase refused for a deleted card is recorded again without the member", async () => {
    const queue = new PurchaseQueue("b1");
    answers.push(offline);
    await queue.submit({ key: "k1", label: "Anna Nowak", body: refusedBody });
    await vi.waitFor(() => expect(queue.state().sending).toBe(false));
    answers.push(json(409, { error: { code: "member_erased", message: "The member's data was erased." } }));
    await queue.flush();
    const [refused] = queue.rejected();
    expect(refused).toMatchObject({ key: "k1", code: "member_erased" });
    if (!refused) throw new Error("the refusal was not kept");

    const sale = withoutMember(refused, "loc-now");
    answers.push(recorded(sale.key, 350));
    const outcome = await queue.submit({ key: sale.key, label: "Non-member", body: sale.body });
    expect(outcome.kind).toBe("sent");
    const last = sent().at(-1);
    expect(last?.key).toBe(sale.key);
    expect(last?.key).not.toBe("k1");
    expect(last?.body).toEqual({
      external_id: `counter-${sale.key}`,
      amount_minor: 350,
      currency: "EUR",
      items: [COFFEE],
      location_id: "loc-now",
      occurred_at: AT,
    });

    // Seen: the refusal leaves the list, and the screen showing the list hears of it.
    const heard: number[] = [];
    queue.subscribe((state) => heard.push(state.rejected.length));
    queue.dismiss("k1");
    expect(queue.rejected()).toEqual([]);
    expect(heard).toEqual([0]);
  });
});
