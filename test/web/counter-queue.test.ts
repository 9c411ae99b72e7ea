import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { PurchaseQueue } from "../../web/src/counter/queue.ts";

/**
 * The counter's purchase outbox, on its own: a browser's storage and the API stood in for. What
 * a refusal leaves on screen, and a purchase the server says it recorded long ago.
 */

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
  clear(): void {
    this.items.clear();
  }
}

/** The API's answers to POST /v1/purchases, one per call, in order. */
let answers: (() => Response)[] = [];

const refusal = (status: number, code: string) => () =>
  new Response(JSON.stringify({ error: { code, message: `English text of ${code}` } }), {
    status,
    headers: { "content-type": "application/json" },
  });
const offline = () => {
  throw new TypeError("Failed to fetch");
};

beforeEach(() => {
  answers = [];
  vi.stubGlobal("localStorage", new MemoryStorage());
  vi.stubGlobal("window", { addEventListener() {}, removeEventListener() {} });
  vi.stubGlobal(
    "fetch",
    vi.fn(async () => {
      const next = answers.shift();
      if (!next) throw new Error("no answer left for this call");
      return next();
    }),
  );
});

afterEach(() => {
  vi.unstubAllGlobals();
});

const purchase = (key: string) => ({
  key,
  label: "Anna Nowak",
  body: {
    external_id: `counter-${key}`,
    member_id: "m1",
    amount_minor: 200,
    currency: "EUR",
    items: [],
    occurred_at: new Date().toISOString(),
  },
});

/** Until the send that kept the purchase has finished (the cashier heard "saved" before it did). */
const idle = (queue: PurchaseQueue) => vi.waitFor(() => expect(queue.state().sending).toBe(false));

describe("the counter's purchase queue", () => {
  it("a purchase refused at once is told to the cashier waiting for it, not also kept as a refused saved purchase", async () => {
    const queue = new PurchaseQueue("b1");
    answers.push(refusal(409, "location_archived"));
    const outcome = await queue.submit(purchase("k1"));
    expect(outcome.kind).toBe("rejected");
    expect(queue.state().rejected).toEqual([]);
    expect(queue.state().pending).toEqual([]);
  });

  it("a saved purchase refused when it is sent later is kept for the cashier to see", async () => {
    const queue = new PurchaseQueue("b1");
    answers.push(offline);
    expect((await queue.submit(purchase("k1"))).kind).toBe("queued");
    await idle(queue);
    answers.push(refusal(409, "location_archived"));
    await queue.flush();
    expect(queue.state().pending).toEqual([]);
    expect(queue.state().rejected.map((r) => [r.key, r.code])).toEqual([["k1", "location_archived"]]);
  });

  it("a saved purchase whose answer the server no longer keeps (410) was recorded: sent, not refused", async () => {
    const queue = new PurchaseQueue("b1");
    answers.push(offline);
    expect((await queue.submit(purchase("k1"))).kind).toBe("queued");
    await idle(queue);
    answers.push(refusal(410, "idempotency_answer_expired"));
    await queue.flush();
    const state = queue.state();
    expect(state.pending).toEqual([]);
    expect(state.rejected).toEqual([]);
    expect(state.sentLater).toBe(1);
  });
});
