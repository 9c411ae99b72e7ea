import type { FastifyInstance } from "fastify";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createContext } from "../../src/context.ts";
import { buildApp } from "../../src/http/app.ts";
import {
  purchaseBatchStats,
  SLOW_STATEMENT_MS,
  slowStatementsSince,
} from "../../src/use-cases/purchase-fast-path.ts";
import { startTestApp, type TestApp } from "../helpers/api.ts";
import { blockedOnALock, engine } from "../helpers/db.ts";

/**
 * Purchases are read and written in batches (src/shared/batcher.ts): concurrent purchases of one
 * node share one statement. Here two API nodes — each with its own batches, over one database —
 * get the same 40 purchases at the same moment, as a till that retries against another node
 * would send them. Batches of the two nodes then collide on the same idempotency keys: a batch
 * that fails on a key is written again one purchase at a time, and every purchase still counts
 * exactly once, with the same answer from both nodes.
 */
let t: TestApp;
let second: FastifyInstance;
beforeAll(async () => {
  t = await startTestApp({ poolSize: 12 });
  // Another node: its own context (and so its own batches) over the same database.
  const ctx = createContext(t.database.db.withoutPlugins(), t.clock, {
    signupsPerHour: 100_000,
    loginsPerMinute: 100_000,
  });
  second = await buildApp(ctx, { rateLimitPerMinute: 1_000_000 });
  await second.ready();
});
afterAll(async () => {
  await second?.close();
  await t?.close();
});

describe("batched purchases on two nodes", () => {
  it("count each purchase once when both nodes get it at the same moment", async () => {
    const tenant = await t.signup();
    const card = (
      await tenant.call("POST", "/v1/stamp-cards", { name: "Coffee", stamps_required: 10, earn_on: "visit" })
    ).body;
    const members = await Promise.all(
      Array.from(
        { length: 12 },
        async () =>
          (await tenant.call("POST", "/v1/members", { marketing_consent: false })).body.id as string,
      ),
    );
    const purchases = [
      ...members.flatMap((member, m) =>
        [0, 1, 2].map((i) => ({
          external_id: `m${m}-p${i}`,
          member_id: member,
          amount_minor: 1_000 + 100 * i + m,
          currency: "EUR",
        })),
      ),
      ...[0, 1, 2, 3].map((i) => ({ external_id: `anon-${i}`, amount_minor: 700 + i, currency: "EUR" })),
    ];
    const onSecond = (body: unknown) =>
      second.inject({
        method: "POST",
        url: "/v1/purchases",
        headers: { authorization: `Bearer ${tenant.token}`, "content-type": "application/json" },
        payload: JSON.stringify(body),
      });
    const before = purchaseBatchStats();
    const answers = await Promise.all(
      purchases.map(async (body) => {
        const [a, b] = await Promise.all([tenant.call("POST", "/v1/purchases", body), onSecond(body)]);
        return { body, a, b: { status: b.statusCode, body: JSON.parse(b.body) } };
      }),
    );
    const after = purchaseBatchStats();

    for (const { body, a, b } of answers) {
      expect([a.status, b.status].sort(), body.external_id).toEqual([200, 201]);
      expect(b.body, body.external_id).toEqual(a.body);
    }
    // Concurrent purchases shared statements: fewer writes than purchases written.
    expect(after.writeItems - before.writeItems).toBeGreaterThan(after.writes - before.writes);

    const b = tenant.businessId;
    const { rows } = await sql<{ purchases: number; earned: number; entries: number; stamps: number }>`
      select (select count(*)::int from purchases where business_id = ${b}) as purchases,
             (select coalesce(sum(points_earned), 0)::int from purchases where business_id = ${b}) as earned,
             (select coalesce(sum(points), 0)::int from ledger_entries where business_id = ${b}) as entries,
             (select coalesce(sum(stamps), 0)::int from stamp_balances where business_id = ${b}) as stamps`.execute(
      t.database.db,
    );
    const expected = purchases.reduce(
      (s, p) => s + ("member_id" in p ? Math.floor(p.amount_minor / 100) : 0),
      0,
    );
    expect(rows[0]).toEqual({ purchases: 40, earned: expected, entries: expected, stamps: 36 });
    for (const [m, member] of members.entries()) {
      const view = (await tenant.call("GET", `/v1/members/${member}/card`)).body;
      expect(view.points.available, `member ${m}`).toBe(10 + 11 + 12);
      expect(view.stamp_cards).toEqual([expect.objectContaining({ stamp_card_id: card.id, stamps: 3 })]);
    }
  });

  it("do not all wait behind a purchase whose member another transaction holds", async () => {
    const tenant = await t.signup();
    const members = await Promise.all(
      Array.from(
        { length: 4 },
        async () =>
          (await tenant.call("POST", "/v1/members", { marketing_consent: false })).body.id as string,
      ),
    );
    const buy = (member: string, i: number) =>
      tenant.call("POST", "/v1/purchases", {
        external_id: `held-${i}`,
        member_id: member,
        amount_minor: 500,
        currency: "EUR",
      });
    let others: Promise<{ status: number }[]> | undefined;
    let held: Promise<{ status: number }> | undefined;
    let othersDoneWhileHeld = false;
    const before = purchaseBatchStats();
    const beganAt = performance.timeOrigin + performance.now();
    await t.database.db.transaction().execute(async (tx) => {
      // A long transaction holds the first member's lock (as an expiry run or a refund would).
      await sql`select member_id from member_state
        where business_id = ${tenant.businessId} and member_id = ${members[0]} for update`.execute(tx);
      held = buy(members[0] as string, 0);
      // Let the held member's write start and block on the row (on the server: seen waiting on a
      // lock, however long its read took on a busy machine), then hold it 100 ms more.
      if (engine === "postgres") await blockedOnALock(t.database.db);
      await new Promise((r) => setTimeout(r, 100));
      others = Promise.all(members.slice(1).map((m, i) => buy(m, i + 1)));
      // On the server the others finish while the row is still held: the stalled batch opened
      // another slot. (PGlite is one connection: this transaction holds it, so everything waits.)
      if (engine === "postgres") {
        await others;
        othersDoneWhileHeld = true;
      }
    });
    expect(othersDoneWhileHeld).toBe(engine === "postgres");
    expect((await others)?.map((r) => r.status)).toEqual([201, 201, 201]);
    expect((await held)?.status).toBe(201);
    // On the server the held purchase's write waited over 100 ms on the row, and the count of slow
    // statements says so. (On PGlite the wait comes earlier, for the one connection, when the
    // request's credentials are checked, before the purchase's own statements.)
    const after = purchaseBatchStats();
    const endedAt = performance.timeOrigin + performance.now();
    if (engine === "postgres") {
      expect(after.slowWrites - before.slowWrites).toBeGreaterThanOrEqual(1);
      // Its time is noted too, inside the test's time and at least as long as the hold.
      const waits = slowStatementsSince(beganAt);
      expect(waits.length).toBeGreaterThanOrEqual(1);
      for (const [from, to] of waits) {
        expect(from).toBeGreaterThanOrEqual(beganAt);
        expect(to).toBeLessThanOrEqual(endedAt);
        expect(to - from).toBeGreaterThan(SLOW_STATEMENT_MS);
      }
      expect(waits.some(([from, to]) => to - from >= 100)).toBe(true);
    }
  });
});
