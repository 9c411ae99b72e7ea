import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { followTimeZoneChanges, followTimeZonePage } from "../../src/modules/business/index.ts";
import { purchaseBatchStats } from "../../src/use-cases/purchase-fast-path.ts";
import { type Response, startTestApp, type Tenant, type TestApp } from "../helpers/api.ts";
import { goldBoutique } from "../helpers/tiers.ts";

/**
 * Changes of the program next to the writes that are priced on it. Every transaction that loads
 * the program snapshot takes a share lock on the business's `programs` row, the purchase fast
 * path's write takes it when it writes a lot's expiry or a tier's end, and every change of the
 * program (rules, tiers, rewards, `PUT /v1/program`, a new time zone) updates that row first.
 * Here a stream of purchases (in batches), adjustments, events, redemptions and refunds runs while
 * the rules, the tiers, a reward and the settings are edited and the time zone moves back and
 * forth three times. Nothing may fail with a 500 or a 503 (a deadlock between these paths would be
 * a 503 `database_busy`), nothing may be lost or counted twice, the ledger must add up, and once
 * the time zone follow-up is done every open lot and every calendar-year tier must end at midnight
 * on the final clock. On the PostgreSQL server the requests run in parallel on 12 connections; on
 * PGlite they interleave in the app and queue for its one connection, and the same must hold.
 */
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ poolSize: 12, now: "2026-04-10T09:00:00Z" });
});
afterAll(async () => t?.close());

const MEMBERS = 20;
const WAVES = 12;
const PER_WAVE = 10;
/** The zones the business moves through, from Amsterdam (UTC+2 in April): −4, +2, +1 hours. */
const ZONES = ["America/New_York", "Europe/Amsterdam", "Europe/Lisbon"] as const;
/** Midnight on 1 May 2026 in Lisbon: where every open lot of April ends once the follow-up is done. */
const LOTS_END = "2026-04-30T23:00:00.000Z";
/** Midnight on 1 January 2028 in Lisbon: the end of a tier reached in 2026 (kept through 2027). */
const TIERS_END = "2028-01-01T00:00:00.000Z";

/** Every answer of the run, by kind, with the key (external id or Idempotency-Key) it was sent under. */
interface Sent {
  kind: string;
  key: string;
  res: Response;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function ok(tenant: Tenant, method: "GET" | "POST" | "PUT" | "PATCH", url: string, body?: unknown) {
  const res = await tenant.call(method, url, body);
  if (res.status >= 300) throw new Error(`${method} ${url} → ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

describe("program changes next to purchases, adjustments, events, redemptions and refunds", () => {
  it("lose nothing, count nothing twice, never deadlock, and leave every expiry and tier end on the final clock", async () => {
    // A boutique with calendar-year tiers by spend (Silver from 200.00, Gold from 500.00) whose
    // points expire at the end of the month, a rule to edit, an event that earns, and a reward.
    const owner = await t.signup();
    const { tenant, silver, gold } = await goldBoutique(owner);
    const program = (await ok(tenant, "GET", "/v1/program")).config;
    await ok(tenant, "PUT", "/v1/program", {
      ...program,
      points: {
        ...program.points,
        pending_days: 0,
        allow_negative_balance: false,
        expiry: { policy: "end_of_month", months_after: 0 },
      },
    });
    const bonus = await ok(tenant, "POST", "/v1/rules", {
      name: "Spring bonus",
      trigger: "purchase",
      effect: { type: "fixed_points", points: 5 },
    });
    const survey = await ok(tenant, "POST", "/v1/rules", {
      name: "Survey",
      trigger: "event",
      event_type: "survey_answered",
      effect: { type: "fixed_points", points: 15 },
    });
    const coffee = await ok(tenant, "POST", "/v1/rewards", {
      name: "Free coffee",
      type: "free_product",
      value: { product_name: "Coffee" },
      cost_points: 30,
    });
    const members: string[] = [];
    for (let m = 0; m < MEMBERS; m++) {
      members.push((await ok(tenant, "POST", "/v1/members", { marketing_consent: false })).id);
    }
    // A first purchase each: some members start as Silver or Gold, and every one has points.
    const seeded: { id: string; amount: number }[] = [];
    for (const [m, member] of members.entries()) {
      const amount = m < 3 ? 55_000 : m < 8 ? 25_000 : 4_000;
      const body = { external_id: `seed-${m}`, member_id: member, amount_minor: amount, currency: "EUR" };
      seeded.push({ id: (await ok(tenant, "POST", "/v1/purchases", body)).purchase.id, amount });
    }

    const sent: Sent[] = [];
    const send = async (
      kind: string,
      key: string,
      method: "POST" | "PUT" | "PATCH",
      url: string,
      body: unknown,
      headers: Record<string, string> = {},
      as: Tenant = tenant,
    ) => {
      const res = await as.call(method, url, body, headers);
      sent.push({ kind, key, res });
      return res;
    };
    /** Purchases answered 201 so far: refunds take from them. */
    const bought: { id: string; amount: number }[] = [...seeded];
    let wavesStarted = 0;
    const whenWave = async (n: number) => {
      while (wavesStarted < n) await sleep(2);
    };
    const before = purchaseBatchStats();

    // Purchases: waves of ten, each over ten different members, so batches form; every seventh is
    // sent twice at once, as a till that retries would.
    const purchases = (async () => {
      for (let w = 0; w < WAVES; w++) {
        wavesStarted = w + 1;
        t.clock.advance(1_000);
        await Promise.all(
          Array.from({ length: PER_WAVE }, async (_, i) => {
            const n = w * PER_WAVE + i;
            const body = {
              external_id: `p-${n}`,
              member_id: members[(w * 3 + i * 7) % MEMBERS],
              amount_minor: 1_000 + ((n * 1_237) % 9_000),
              currency: "EUR",
            };
            const copies = n % 7 === 0 ? 2 : 1;
            const answers = await Promise.all(
              Array.from({ length: copies }, () =>
                send("purchase", body.external_id, "POST", "/v1/purchases", body),
              ),
            );
            const first = answers.find((r) => r.status === 201);
            if (first) bought.push({ id: first.body.purchase.id, amount: body.amount_minor });
          }),
        );
      }
    })();

    // Adjustments, events, redemptions and refunds, a few at a time, each under its own key; every
    // fifth sent twice at once.
    const twice = (n: number) => (n % 5 === 0 ? 2 : 1);
    const others = (async () => {
      for (let n = 0; n < 36; n++) {
        const member = members[(n * 11) % MEMBERS] as string;
        const jobs: Promise<unknown>[] = [];
        for (let c = 0; c < twice(n); c++) {
          jobs.push(
            send(
              "adjustment",
              `adj-${n}`,
              "POST",
              `/v1/members/${member}/adjustments`,
              { points: n % 3 === 0 ? -25 : 20, reason: "Counted by hand" },
              { "idempotency-key": `adj-${n}` },
            ),
            send("event", `ev-${n}`, "POST", "/v1/events", {
              external_id: `ev-${n}`,
              member_id: members[(n * 13 + 1) % MEMBERS],
              type: "survey_answered",
            }),
            send(
              "redemption",
              `red-${n}`,
              "POST",
              `/v1/members/${members[(n * 17 + 2) % MEMBERS]}/redemptions`,
              { reward_id: coffee.id },
              { "idempotency-key": `red-${n}` },
            ),
          );
        }
        // A refund of an earlier purchase: part of it, or (now and then) a whole seeded one, which
        // can take a tier back.
        const target =
          n % 9 === 4 ? (seeded[n % 3] as { id: string; amount: number }) : bought[(n * 5) % bought.length];
        if (target) {
          const amount = n % 9 === 4 ? 30_000 : Math.max(100, Math.floor(target.amount / 4));
          for (let c = 0; c < twice(n); c++) {
            jobs.push(
              send("refund", `ref-${n}`, "POST", "/v1/refunds", {
                external_id: `ref-${n}`,
                purchase_id: target.id,
                amount_minor: amount,
              }),
            );
          }
        }
        await Promise.all(jobs);
      }
    })();

    // The program's changes: rule, tier and reward edits, and the settings under If-Match from two
    // managers at once, each retrying on 409 program_changed with the version it reads again.
    const edits = (async () => {
      for (let n = 0; n < 8; n++) {
        await whenWave(n + 1);
        await Promise.all([
          send("rule", `rule-${n}`, "PATCH", `/v1/rules/${bonus.id}`, {
            effect: { type: "fixed_points", points: 5 + (n % 3) },
          }),
          send("rule", `survey-${n}`, "PATCH", `/v1/rules/${survey.id}`, {
            effect: { type: "fixed_points", points: 15 + (n % 2) * 5 },
          }),
          send("tier", `tier-${n}`, "PATCH", `/v1/tiers/${n % 2 === 0 ? gold : silver}`, {
            earn_multiplier_bp: n % 2 === 0 ? 15_000 + (n % 4) * 500 : 12_500 + (n % 4) * 250,
          }),
          send("reward", `reward-${n}`, "PATCH", `/v1/rewards/${coffee.id}`, {
            cost_points: 30 + (n % 3) * 5,
          }),
        ]);
      }
    })();
    const settings = async (who: string) => {
      for (let n = 0; n < 4; n++) {
        await whenWave(2 * n + 1);
        for (let attempt = 0; ; attempt++) {
          const read = await tenant.call("GET", "/v1/program");
          const config = read.body.config;
          const res = await send(
            "settings",
            `${who}-${n}`,
            "PUT",
            "/v1/program",
            {
              ...config,
              points: { ...config.points, rounding: config.points.rounding === "floor" ? "round" : "floor" },
            },
            { "if-match": String(read.headers.etag) },
          );
          if (res.status !== 409 || attempt >= 20) break;
        }
      }
    };
    // The time zone: to New York, back to Amsterdam, then to Lisbon, while the waves go on.
    const zones = (async () => {
      for (const [n, timezone] of ZONES.entries()) {
        await whenWave(3 * n + 3);
        await send("timezone", timezone, "PATCH", "/v1/business", { timezone }, {}, owner);
      }
    })();
    await Promise.all([purchases, others, edits, settings("a"), settings("b"), zones]);
    const after = purchaseBatchStats();

    // Some purchases sent again afterwards get their first answer.
    for (const n of [1, 2, 3]) {
      const first = sent.find((s) => s.key === `p-${n}` && s.res.status === 201);
      const again = await tenant.call("POST", "/v1/purchases", {
        external_id: `p-${n}`,
        member_id: members[(n * 7) % MEMBERS],
        amount_minor: 1_000 + ((n * 1_237) % 9_000),
        currency: "EUR",
      });
      expect(again.status).toBe(200);
      expect(again.body).toEqual(first?.res.body);
    }

    // No request failed for a reason of ours: each answered as its kind may answer.
    const allowed: Record<string, Record<number, string | null>> = {
      purchase: { 200: null, 201: null },
      adjustment: { 200: null, 201: null, 409: "insufficient_points" },
      event: { 200: null, 201: null },
      redemption: { 200: null, 201: null, 409: "insufficient_points" },
      refund: { 200: null, 201: null, 422: "refund_exceeds_purchase" },
      rule: { 200: null },
      tier: { 200: null },
      reward: { 200: null },
      settings: { 200: null, 409: "program_changed" },
      timezone: { 200: null },
    };
    const refused = sent.filter(({ kind, res }) => {
      const code = allowed[kind]?.[res.status];
      return code === undefined || (code !== null && res.body?.error?.code !== code);
    });
    expect(
      refused.map(({ kind, key, res }) => `${kind} ${key}: ${res.status} ${JSON.stringify(res.body)}`),
    ).toEqual([]);
    // Each of the two managers got every change of the settings through.
    const settled = sent.filter((s) => s.kind === "settings" && s.res.status === 200).map((s) => s.key);
    expect(new Set(settled).size).toBe(8);

    // Each key answered 201 at most once, and every copy of it gave the same answer.
    const byKey = new Map<string, Sent[]>();
    for (const s of sent) {
      if (!["purchase", "adjustment", "event", "redemption", "refund"].includes(s.kind)) continue;
      byKey.set(`${s.kind}:${s.key}`, [...(byKey.get(`${s.kind}:${s.key}`) ?? []), s]);
    }
    const created = { purchase: 0, adjustment: 0, event: 0, redemption: 0, refund: 0 } as Record<
      string,
      number
    >;
    for (const [key, copies] of byKey) {
      const firsts = copies.filter((c) => c.res.status === 201);
      expect(firsts.length, key).toBeLessThanOrEqual(1);
      const [first] = firsts;
      if (!first) continue;
      created[first.kind] = (created[first.kind] ?? 0) + 1;
      for (const c of copies) {
        if (c.res.status === 200) expect(c.res.body, key).toEqual(first.res.body);
      }
    }
    expect(created.purchase).toBe(WAVES * PER_WAVE);

    // What the database holds: every key that answered 201 once, nothing else.
    const b = owner.businessId;
    const counts = async (table: "purchases" | "member_events" | "refunds", prefix: string) => {
      const rows = await t.database.db
        .selectFrom(table)
        .select(["external_id", (eb) => eb.fn.countAll<number>().as("n")])
        .where("business_id", "=", b)
        .where("external_id", "like", `${prefix}%`)
        .groupBy("external_id")
        .execute();
      return rows;
    };
    const purchaseRows = await counts("purchases", "p-");
    expect(purchaseRows.filter((r) => Number(r.n) !== 1)).toEqual([]);
    expect(purchaseRows.length).toBe(created.purchase);
    const eventRows = await counts("member_events", "ev-");
    expect(eventRows.filter((r) => Number(r.n) !== 1)).toEqual([]);
    expect(eventRows.length).toBe(created.event);
    const refundRows = await counts("refunds", "ref-");
    expect(refundRows.filter((r) => Number(r.n) !== 1)).toEqual([]);
    expect(refundRows.length).toBe(created.refund);
    const { rows: written } = await sql<{ adjustments: number; vouchers: number; earned_off: number }>`
      select (select count(*)::int from ledger_entries where business_id = ${b} and source_type = 'adjustment') as adjustments,
             (select count(*)::int from vouchers where business_id = ${b}) as vouchers,
             -- A purchase's points_earned is what its own entries earned: none lost, none doubled.
             (select count(*)::int from purchases p where p.business_id = ${b} and p.member_id is not null
                and p.points_earned <> (select coalesce(sum(e.points), 0) from ledger_entries e
                  where e.business_id = p.business_id and e.member_id = p.member_id
                    and e.source_type = 'purchase' and e.source_id = p.id::text)) as earned_off`.execute(
      t.database.db,
    );
    expect(written[0]).toEqual({
      adjustments: created.adjustment,
      vouchers: created.redemption,
      earned_off: 0,
    });

    // The time zone follow-up, to the end: the changes a request left pending, page by page.
    await followTimeZoneChanges(t.database.db, b, t.clock);
    while (await followTimeZonePage(t.database.db, b, t.clock.now())) {}
    expect((await ok(owner, "GET", "/v1/business")).timezone).toBe("Europe/Lisbon");
    const followed = (await ok(owner, "GET", "/v1/audit-log?action=business.timezone_followed&limit=50"))
      .data as { data: { from: string; to: string; lots: { moved: number } } }[];
    expect(followed.map((r) => [r.data.from, r.data.to]).reverse()).toEqual([
      ["Europe/Amsterdam", "America/New_York"],
      ["America/New_York", "Europe/Amsterdam"],
      ["Europe/Amsterdam", "Europe/Lisbon"],
    ]);

    // The ledger's invariants, member by member (those of test/ledger/invariants.int.test.ts that
    // hold at any moment): the entries add up to the balance, the lots' points left to the
    // balance, each lot's points to its allocations and its earning entries, nothing negative.
    const { rows: ledger } = await sql<{
      member_id: string;
      entries: number;
      balance: number;
      debt: number;
      lots: number;
      bad_lots: number;
    }>`
      select m.id as member_id,
        (select coalesce(sum(points), 0)::int from ledger_entries e where e.business_id = m.business_id and e.member_id = m.id) as entries,
        coalesce((select balance_points::int from ledger_accounts a where a.business_id = m.business_id and a.member_id = m.id), 0) as balance,
        coalesce((select debt_points::int from ledger_accounts a where a.business_id = m.business_id and a.member_id = m.id), 0) as debt,
        (select coalesce(sum(points_remaining), 0)::int from ledger_lots l where l.business_id = m.business_id and l.member_id = m.id) as lots,
        (select count(*)::int from ledger_lots l where l.business_id = m.business_id and l.member_id = m.id
           and (points_remaining < 0 or points_remaining > points_initial or points_remaining <> points_initial +
                (select coalesce(sum(a.points), 0) from ledger_allocations a where a.business_id = l.business_id and a.lot_id = l.id)
             or points_initial <> (select coalesce(sum(e.points), 0) from ledger_entries e
                where e.business_id = l.business_id and e.member_id = l.member_id and e.source_type = l.source_type
                  and e.source_id = l.source_id and e.kind in ('earn', 'adjust') and e.points > 0))) as bad_lots
      from members m where m.business_id = ${b} order by m.id`.execute(t.database.db);
    expect(ledger).toHaveLength(MEMBERS);
    for (const r of ledger) {
      expect(r.entries, r.member_id).toBe(r.balance);
      expect(r.lots - r.debt, r.member_id).toBe(r.balance);
      expect(r.bad_lots, r.member_id).toBe(0);
      expect(r.debt, r.member_id).toBe(0);
      expect(r.balance, r.member_id).toBeGreaterThanOrEqual(0);
      // The card counts the same points: nothing has expired or waits for release here.
      const points = (await ok(tenant, "GET", `/v1/members/${r.member_id}/card`)).points;
      expect(points.available + points.pending, r.member_id).toBe(r.lots);
    }

    // Every open lot ends at midnight on 1 May in Lisbon, and every tier (all reached in 2026, by
    // calendar year) at midnight on 1 January 2028 in Lisbon: none was left on another clock.
    const lots = await t.database.db
      .selectFrom("ledger_lots")
      .select(["id", "expires_at"])
      .where("business_id", "=", b)
      .where("points_remaining", ">", 0)
      .execute();
    expect(lots.length).toBeGreaterThan(MEMBERS);
    expect(lots.filter((l) => l.expires_at?.toISOString() !== LOTS_END)).toEqual([]);
    const tiers = await t.database.db
      .selectFrom("members")
      .select(["id", "tier_id", "tier_expires_at"])
      .where("business_id", "=", b)
      .where("tier_id", "is not", null)
      .execute();
    expect(tiers.length).toBeGreaterThan(3);
    expect(tiers.filter((m) => m.tier_expires_at?.toISOString() !== TIERS_END)).toEqual([]);

    // The run did what it meant to: purchases were priced on more than one clock (the ends their
    // answers showed differ), shared statements, and the follow-ups moved lots.
    const ends = new Set(
      sent
        .filter((s) => s.kind === "purchase" && s.res.status === 201)
        .flatMap((s) =>
          (s.res.body.member.points.expiring_soon as { expires_at: string }[]).map((e) => e.expires_at),
        ),
    );
    expect(ends.size).toBeGreaterThanOrEqual(2);
    expect(after.writeItems - before.writeItems).toBeGreaterThan(after.writes - before.writes);
    expect(followed.every((r) => r.data.lots.moved > 0)).toBe(true);
  });
});
