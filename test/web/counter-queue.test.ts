import { afterEach, beforeEach, describe, expect, it, type Mock, vi } from "vitest";
import { PurchaseQueue, stillSaved } from "../../web/src/counter/queue.ts";

/**
 * The counter's purchase outbox, on its own: a browser's storage and the API stood in for. What
 * a refusal leaves on screen, a purchase the server says it recorded long ago, and a saved
 * purchase cancelled by the cashier: dropped when it was never sent, else sent and refunded.
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

/** The API's answers, one per call (purchases and refunds), in order. */
let answers: (() => Response | Promise<Response>)[] = [];
let fetchMock: Mock<(path: string, init: RequestInit) => Promise<Response>>;

const refusal = (status: number, code: string) => () =>
  new Response(JSON.stringify({ error: { code, message: `English text of ${code}` } }), {
    status,
    headers: { "content-type": "application/json" },
  });
const offline = () => {
  throw new TypeError("Failed to fetch");
};
const ok = (status: number, body: unknown) => () =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
/** The server's answer to the purchase of `purchase(key)`: recorded (201) or replayed (200). */
const recorded = (key: string, status = 201) =>
  ok(status, {
    purchase: {
      id: `p-${key}`,
      external_id: `counter-${key}`,
      amount_minor: 200,
      points_earned: 2,
      stamps_earned: 0,
    },
    earned: { points: [{ points: 2 }], stamps: [], points_available_at: null },
    member: null,
  });
const refunded = ok(201, { refund: { id: "r1" }, purchase: { refunded_minor: 200 }, member: null });

/** What the queue sent, in order: where, with which idempotency key, and the body. */
function sent(): { path: string; key: string | undefined; body: Record<string, unknown> }[] {
  return fetchMock.mock.calls.map(([path, init]) => ({
    path,
    key: (init.headers as Record<string, string>)["idempotency-key"],
    body: JSON.parse(String(init.body)),
  }));
}

beforeEach(() => {
  answers = [];
  vi.stubGlobal("localStorage", new MemoryStorage());
  vi.stubGlobal("window", { addEventListener() {}, removeEventListener() {} });
  fetchMock = vi.fn(async (_path: string, _init: RequestInit) => {
    const next = answers.shift();
    if (!next) throw new Error("no answer left for this call");
    return next();
  });
  vi.stubGlobal("fetch", fetchMock);
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

  it("marks a purchase as tried in storage before its first request goes out", async () => {
    const queue = new PurchaseQueue("b1");
    let storedWhenSent: unknown;
    answers.push(() => {
      storedWhenSent = JSON.parse(localStorage.getItem("regulars.counter.pending.b1") ?? "[]")[0]?.tried;
      return recorded("k1")();
    });
    expect((await queue.submit(purchase("k1"))).kind).toBe("sent");
    expect(storedWhenSent).toBe(true);
  });
});

describe("cancelling a saved purchase", () => {
  /** k1 tried (its send failed), k2 behind it and never sent: the run stops at the first failure. */
  async function twoSavedOffline(queue: PurchaseQueue): Promise<void> {
    answers.push(offline);
    expect((await queue.submit(purchase("k1"))).kind).toBe("queued");
    await idle(queue);
    answers.push(offline);
    expect((await queue.submit(purchase("k2"))).kind).toBe("queued");
    await idle(queue);
    expect(queue.pending().map((p) => [p.key, p.tried])).toEqual([
      ["k1", true],
      ["k2", false],
    ]);
  }

  it("one never sent is removed and nothing of it is ever sent", async () => {
    const queue = new PurchaseQueue("b1");
    await twoSavedOffline(queue);
    expect(queue.cancel("k2")).toBe("removed");
    expect(queue.pending().map((p) => p.key)).toEqual(["k1"]);

    answers.push(recorded("k1"));
    await queue.flush();
    const state = queue.state();
    expect(state.pending).toEqual([]);
    expect(state.rejected).toEqual([]);
    expect(state.sentLater).toBe(1);
    expect(sent().filter((r) => r.key === "k2" || JSON.stringify(r.body).includes("k2"))).toEqual([]);
    expect(sent().map((r) => r.path)).not.toContain("/v1/refunds");
  });

  it("one tried is sent with its own key, then refunded in full with the cancel's key, then removed", async () => {
    const queue = new PurchaseQueue("b1");
    const item = purchase("k1");
    answers.push(offline);
    expect((await queue.submit(item)).kind).toBe("queued");
    await idle(queue);
    const before = sent().length;

    answers.push(recorded("k1"), refunded);
    expect(queue.cancel("k1")).toBe("refunding");
    const cancelKey = queue.pending()[0]?.cancel?.key;
    expect(cancelKey).toEqual(expect.any(String));
    expect(cancelKey).not.toBe("k1");
    // Pressed twice: still one cancel, with the same key.
    expect(queue.cancel("k1")).toBe("refunding");
    await idle(queue);
    await queue.flush();

    expect(sent().slice(before)).toEqual([
      { path: "/v1/purchases", key: "k1", body: item.body },
      {
        path: "/v1/refunds",
        key: cancelKey,
        body: {
          external_id: "undo-counter-k1",
          purchase_id: "p-k1",
          amount_minor: 200,
          reason: "Cancelled at the counter",
        },
      },
    ]);
    const state = queue.state();
    expect(state.pending).toEqual([]);
    expect(state.rejected).toEqual([]);
    // Cancelled: never announced as a saved purchase sent.
    expect(state.sentLater).toBe(0);
  });

  it("a refund that fails for now is retried on the next run with the same key, the purchase's answer replayed", async () => {
    const queue = new PurchaseQueue("b1");
    answers.push(offline);
    expect((await queue.submit(purchase("k1"))).kind).toBe("queued");
    await idle(queue);
    const before = sent().length;

    answers.push(recorded("k1"), refusal(503, "unavailable"));
    expect(queue.cancel("k1")).toBe("refunding");
    await idle(queue);
    const [kept] = queue.pending();
    expect(kept).toMatchObject({ key: "k1", last_error: "server:503", cancel: { key: expect.any(String) } });

    answers.push(recorded("k1", 200), refunded);
    await queue.flush();
    const requests = sent().slice(before);
    expect(requests.map((r) => [r.path, r.key])).toEqual([
      ["/v1/purchases", "k1"],
      ["/v1/refunds", kept?.cancel?.key],
      ["/v1/purchases", "k1"],
      ["/v1/refunds", kept?.cancel?.key],
    ]);
    expect(requests[3]?.body).toEqual(requests[1]?.body);
    const state = queue.state();
    expect(state.pending).toEqual([]);
    expect(state.rejected).toEqual([]);
    expect(state.sentLater).toBe(0);
  });

  it("one the server refuses for good leaves nothing: no refund, no refused entry", async () => {
    const queue = new PurchaseQueue("b1");
    answers.push(offline);
    expect((await queue.submit(purchase("k1"))).kind).toBe("queued");
    await idle(queue);

    answers.push(refusal(409, "location_archived"));
    expect(queue.cancel("k1")).toBe("refunding");
    await idle(queue);
    const state = queue.state();
    expect(state.pending).toEqual([]);
    expect(state.rejected).toEqual([]);
    expect(state.sentLater).toBe(0);
    expect(sent().map((r) => r.path)).not.toContain("/v1/refunds");
  });

  it("one whose answer the server no longer keeps (410) was recorded: refunded by its external id", async () => {
    const queue = new PurchaseQueue("b1");
    answers.push(offline);
    expect((await queue.submit(purchase("k1"))).kind).toBe("queued");
    await idle(queue);

    answers.push(refusal(410, "idempotency_answer_expired"), refunded);
    expect(queue.cancel("k1")).toBe("refunding");
    await idle(queue);
    expect(sent().at(-1)).toMatchObject({
      path: "/v1/refunds",
      body: {
        external_id: "undo-counter-k1",
        purchase_external_id: "counter-k1",
        amount_minor: 200,
        reason: "Cancelled at the counter",
      },
    });
    const state = queue.state();
    expect(state.pending).toEqual([]);
    expect(state.rejected).toEqual([]);
    expect(state.sentLater).toBe(0);
  });

  it("one recorded (410) whose refund is refused lands in the refused list, marked as cancelled", async () => {
    const queue = new PurchaseQueue("b1");
    answers.push(offline);
    expect((await queue.submit(purchase("k1"))).kind).toBe("queued");
    await idle(queue);

    answers.push(refusal(410, "idempotency_answer_expired"), refusal(404, "purchase_not_found"));
    expect(queue.cancel("k1")).toBe("refunding");
    await idle(queue);
    const state = queue.state();
    expect(state.pending).toEqual([]);
    expect(state.rejected.map((r) => [r.key, r.code, r.cancelled])).toEqual([
      ["k1", "purchase_not_found", true],
    ]);
    expect(state.sentLater).toBe(0);
  });

  it("one recorded whose refund is refused for good lands in the refused list, marked as cancelled", async () => {
    const queue = new PurchaseQueue("b1");
    answers.push(offline);
    expect((await queue.submit(purchase("k1"))).kind).toBe("queued");
    await idle(queue);

    answers.push(recorded("k1"), refusal(403, "forbidden"));
    expect(queue.cancel("k1")).toBe("refunding");
    await idle(queue);
    const state = queue.state();
    expect(state.pending).toEqual([]);
    expect(state.rejected.map((r) => [r.key, r.code, r.cancelled])).toEqual([["k1", "forbidden", true]]);
    expect(state.sentLater).toBe(0);
  });

  it("one saved by an earlier version of the counter (no `tried`) may be on the server: refunded, not dropped", async () => {
    const { tried: _, ...old } = {
      ...purchase("k1"),
      created_at: new Date().toISOString(),
      attempts: 0,
      last_error: null,
      tried: false,
    };
    localStorage.setItem("regulars.counter.pending.b1", JSON.stringify([old]));
    const queue = new PurchaseQueue("b1");
    answers.push(recorded("k1", 200), refunded);
    expect(queue.cancel("k1")).toBe("refunding");
    await idle(queue);
    expect(sent().map((r) => r.path)).toEqual(["/v1/purchases", "/v1/refunds"]);
    expect(queue.state().pending).toEqual([]);
  });

  it("one no longer in the outbox is not cancelled", () => {
    const queue = new PurchaseQueue("b1");
    expect(queue.cancel("k9")).toBe("gone");
  });

  it("the till waiting for a purchase hears it was not taken; one on its way is still refunded", async () => {
    const queue = new PurchaseQueue("b1");
    let answer: (response: Response) => void = () => {};
    answers.push(() => new Promise<Response>((resolve) => (answer = resolve)));
    const first = queue.submit(purchase("k1"));
    const second = queue.submit(purchase("k2"));
    // k1 is on its way; k2 waits behind it, never sent.
    expect(queue.state().waiting.sort()).toEqual(["k1", "k2"]);

    expect(queue.cancel("k2")).toBe("removed");
    expect(await second).toMatchObject({ kind: "rejected", error: { code: "purchase_cancelled" } });
    expect(queue.cancel("k1")).toBe("refunding");
    expect(await first).toMatchObject({ kind: "rejected", error: { code: "purchase_cancelled" } });
    expect(queue.state().waiting).toEqual([]);

    // k1's answer comes after the cancel: the purchase was recorded, so it is refunded.
    answers.push(refunded);
    answer(recorded("k1")());
    await idle(queue);
    expect(sent().map((r) => [r.path, r.key === "k1"])).toEqual([
      ["/v1/purchases", true],
      ["/v1/refunds", false],
    ]);
    const state = queue.state();
    expect(state.pending).toEqual([]);
    expect(state.rejected).toEqual([]);
    expect(state.sentLater).toBe(0);
  });
});

describe("the member's screen's \"saved on this device\" notice", () => {
  /** What the member's screen shows of `key`, as it reads the outbox on each of its changes. */
  const saved = (queue: PurchaseQueue, key: string) => stillSaved(key, queue.state().pending);

  it("goes once its purchase is cancelled, whether never sent or tried (then sent and refunded)", async () => {
    const queue = new PurchaseQueue("b1");
    const seen: boolean[] = [];
    queue.subscribe((state) => seen.push(stillSaved("k1", state.pending)));
    answers.push(offline);
    expect((await queue.submit(purchase("k1"))).kind).toBe("queued");
    await idle(queue);
    answers.push(offline);
    expect((await queue.submit(purchase("k2"))).kind).toBe("queued");
    await idle(queue);
    expect([saved(queue, "k1"), saved(queue, "k2")]).toEqual([true, true]);

    // k2 was never sent: dropped, its notice goes at once.
    expect(queue.cancel("k2")).toBe("removed");
    expect(saved(queue, "k2")).toBe(false);
    expect(saved(queue, "k1")).toBe(true);

    // k1 was tried: it stays in the outbox until it is sent and refunded, but it is no longer
    // "saved" from the moment it is cancelled.
    seen.length = 0;
    answers.push(recorded("k1"), refunded);
    expect(queue.cancel("k1")).toBe("refunding");
    expect(queue.pending().map((p) => p.key)).toEqual(["k1"]);
    expect(saved(queue, "k1")).toBe(false);
    // The screen heard of it from the outbox itself, not only by reading it again.
    expect(seen.length).toBeGreaterThan(0);
    expect(seen).not.toContain(true);

    await idle(queue);
    await queue.flush();
    expect(sent().map((r) => r.path)).toContain("/v1/refunds");
    expect(queue.state().pending).toEqual([]);
    expect(saved(queue, "k1")).toBe(false);
  });

  it("goes once its purchase is sent later, or refused when sent", async () => {
    const queue = new PurchaseQueue("b1");
    answers.push(offline);
    expect((await queue.submit(purchase("k1"))).kind).toBe("queued");
    await idle(queue);
    answers.push(offline);
    expect((await queue.submit(purchase("k2"))).kind).toBe("queued");
    await idle(queue);

    answers.push(recorded("k1"), refusal(409, "location_archived"));
    await queue.flush();
    await idle(queue);
    expect([saved(queue, "k1"), saved(queue, "k2")]).toEqual([false, false]);
    // The refusal is the queue's list's to tell.
    expect(queue.state().rejected.map((r) => r.key)).toEqual(["k2"]);
  });
});
