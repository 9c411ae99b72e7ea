import { readFileSync } from "node:fs";
import pg from "pg";
import { PG_CONNECTION_OPTIONS } from "../src/db/database.ts";
import { newId } from "../src/shared/ids.ts";
import { FAST_PATH_SQL } from "../src/use-cases/purchase-fast-path.ts";

/**
 * `npm run bench:statements`: the database CPU of a purchase's two statements, measured without
 * the noise of a loaded machine, on the database a bench run left behind
 * (`BENCH_KEEP_DATABASE=1 npm run bench`). One connection runs each statement many times, and
 * the figure is the CPU time its backend process used (`/proc/<pid>/schedstat`, in nanoseconds),
 * so PostgreSQL must run on this machine.
 *
 * - The read, for batches of 1, 6 and 12 of the café's members: its cost per statement and per
 *   member.
 * - The write, for batches made from the café's latest purchases (their lines, stamps and stored
 *   answers, with new ids and keys and the members' current versions), each in a transaction
 *   that is rolled back, so the database does not change. The commit is not measured.
 *
 * Settings: BENCH_DATABASE_URL (the server, as for `npm run bench`), BENCH_STATEMENT_ROUNDS (6).
 * docs/benchmarks.md shows what it found.
 */

const serverUrl = process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const rounds = Number(process.env.BENCH_STATEMENT_ROUNDS ?? 6);
const url = new URL(serverUrl);
url.pathname = "/regulars_bench";

const client = new pg.Client({ connectionString: url.toString(), options: PG_CONNECTION_OPTIONS });
await client.connect();
const pid: number = (await client.query("select pg_backend_pid() as pid")).rows[0].pid;

/**
 * CPU milliseconds the connection's backend has used: the first field of schedstat, its time on
 * a core in nanoseconds (`/proc/<pid>/stat` counts in ticks of 10 ms, too coarse for one round).
 */
function backendCpuMs(): number {
  return Number(readFileSync(`/proc/${pid}/schedstat`, "utf8").split(" ")[0]) / 1e6;
}

/** Backend CPU per call of `call`, in µs, over `rounds` rounds of `times` calls. */
async function measure(times: number, call: (i: number) => Promise<unknown>): Promise<number> {
  await call(0);
  let used = 0;
  for (let round = 0; round < rounds; round++) {
    const before = backendCpuMs();
    for (let i = 0; i < times; i++) await call(i);
    used += backendCpuMs() - before;
  }
  return (used / rounds / times) * 1000;
}

const business = await client.query<{ id: string; timezone: string }>(
  "select id, timezone from businesses limit 1",
);
const businessId = business.rows[0]?.id;
if (!businessId)
  throw new Error("No café in regulars_bench: run `BENCH_KEEP_DATABASE=1 npm run bench` first.");
const capped = await client.query<{ id: string }>(
  "select id from earning_rules where business_id = $1 and cap is not null",
  [businessId],
);
const memberRows = await client.query<{ id: string; tier_metric_from: Date | null }>(
  "select member_id as id, tier_metric_from from member_state where business_id = $1 order by random() limit 120",
  [businessId],
);
const now = new Date();

// The read, as the fast path sends it for the café's program (spend, by calendar year).
const winFrom = memberRows.rows.find((m) => m.tier_metric_from)?.tier_metric_from ?? now;
function readInputs(size: number, batch: number): string {
  return JSON.stringify(
    memberRows.rows.slice((batch * size) % 100, ((batch * size) % 100) + size).map((m, n) => ({
      n,
      member: m.id,
      code: null,
      key: `purchase:statement-bench-${batch}-${n}`,
      location: null,
      now: now.toISOString(),
      soon: new Date(now.getTime() + 30 * 86_400_000).toISOString(),
      win_from: winFrom.toISOString(),
      rules: capped.rows.map((r) => r.id),
      since: capped.rows.map(() => new Date(now.getTime() - 86_400_000).toISOString()),
    })),
  );
}
console.log("The purchase's read (backend CPU per statement):");
const perSize = new Map<number, number>();
for (const size of [1, 6, 12]) {
  const inputs = Array.from({ length: 10 }, (_, b) => readInputs(size, b));
  const us = await measure(300, (i) =>
    client.query({ name: "read", text: FAST_PATH_SQL.read.spend, values: [businessId, inputs[i % 10]] }),
  );
  perSize.set(size, us);
  console.log(`  ${String(size).padStart(2)} members: ${us.toFixed(0)} µs`);
}
const perMember = ((perSize.get(12) ?? 0) - (perSize.get(1) ?? 0)) / 11;
console.log(
  `  about ${((perSize.get(1) ?? 0) - perMember).toFixed(0)} µs per statement and ${perMember.toFixed(0)} µs per member`,
);

// The write: batches of 8 made from the latest purchases of distinct members.
interface Latest {
  id: string;
  external_id: string;
  member_id: string;
  location_id: string | null;
  amount_minor: number;
  currency: string;
  items: unknown;
  points_earned: number;
  stamps_earned: number;
  actor: string;
}
const latest = await client.query<Latest>(
  `select distinct on (member_id) id, external_id, member_id, location_id, amount_minor, currency, items,
     points_earned, stamps_earned, actor
   from purchases where business_id = $1 and member_id is not null order by member_id, id desc limit 64`,
  [businessId],
);
let serial = 0;
async function writeBatch(rows: Latest[]): Promise<unknown[]> {
  const parts: string[] = [];
  const answers: string[] = [];
  for (const [n, p] of rows.entries()) {
    const t = Date.now();
    const member = await client.query(
      `select s.version, m.tier_id, s.tier_metric_value, s.tier_metric_from, s.tier_metric_kind
       from members m join member_state s on s.business_id = m.business_id and s.member_id = m.id
       where m.business_id = $1 and m.id = $2`,
      [businessId, p.member_id],
    );
    const entries = await client.query(
      "select points, reason, rule_id from ledger_entries where business_id = $1 and member_id = $2 and source_id = $3 and kind = 'earn'",
      [businessId, p.member_id, p.id],
    );
    const stamps = await client.query(
      "select stamp_card_id as card, stamps, reason, rule_id from stamp_entries where business_id = $1 and source_type = 'purchase' and source_id = $2",
      [businessId, p.id],
    );
    const answer = await client.query(
      "select response from idempotency_keys where business_id = $1 and key = $2",
      [businessId, `purchase:${p.external_id}`],
    );
    const m = member.rows[0];
    serial++;
    const cards = new Map<string, number>();
    for (const s of stamps.rows) cards.set(s.card, (cards.get(s.card) ?? 0) + s.stamps);
    parts.push(
      JSON.stringify({
        r: n + 1,
        key: `purchase:statement-bench-${t}-${serial}`,
        operation: "purchase",
        hash: "0".repeat(64),
        now: now.toISOString(),
        purchase: newId(t),
        external_id: `statement-bench-${t}-${serial}`,
        location: p.location_id,
        amount: p.amount_minor,
        currency: p.currency,
        items: p.items,
        occurred: now.toISOString(),
        actor: p.actor,
        member: p.member_id,
        version: Number(m.version),
        points: p.points_earned,
        stamps: p.stamps_earned,
        entries: entries.rows.map((e) => ({ id: newId(t), ...e })),
        lot: p.points_earned > 0 ? newId(t) : null,
        available: p.points_earned > 0 ? now.toISOString() : null,
        lot_expires: null,
        stamp_lines: stamps.rows.map((s) => ({ id: newId(t), ...s })),
        cards: [...cards].map(([card, stamps]) => ({ card, stamps })),
        tier_write: false,
        tier: m.tier_id,
        tier_expires: null,
        tier_change: null,
        tier_from: null,
        metric: Number(m.tier_metric_value ?? 0),
        tier_reason: null,
        win_from: m.tier_metric_from?.toISOString() ?? null,
        metric_kind: m.tier_metric_kind,
      }),
    );
    answers.push(answer.rows[0]?.response ?? "{}");
  }
  return [businessId, `[${parts.join(",")}]`, rows.map((r) => r.member_id), answers.join("\u001e")];
}
const rolledBack = async (parameters: unknown[]) => {
  await client.query("begin");
  const result = await client.query({ name: "write", text: FAST_PATH_SQL.write, values: parameters });
  await client.query("rollback");
  return result.rows.length;
};
console.log("The purchase's write (rolled back, no commit; backend CPU per purchase):");
const writePerSize = new Map<number, number>();
for (const batchSize of [1, 8, 16]) {
  const writes: Latest[][] = [];
  for (let i = 0; i + batchSize <= latest.rows.length; i += batchSize)
    writes.push(latest.rows.slice(i, i + batchSize));
  if (writes.length === 0) throw new Error("Too few purchases in regulars_bench to make a write batch.");
  // Each round gets new keys and ids: a rolled-back insert leaves its index entries behind, and
  // inserting the same ones again would measure the unique checks stepping over them.
  let used = 0;
  let written = 0;
  const writeRounds = Math.ceil((rounds * 80) / (writes.length * batchSize));
  for (let round = 0; round < writeRounds; round++) {
    const parameters = [];
    for (const rows of writes) parameters.push(await writeBatch(rows));
    const before = backendCpuMs();
    for (const p of parameters) written += await rolledBack(p);
    used += backendCpuMs() - before;
  }
  if (written !== writeRounds * writes.length * batchSize) {
    throw new Error(`The write wrote ${written} purchases of ${writeRounds * writes.length * batchSize}.`);
  }
  const us = (used / written) * 1000;
  writePerSize.set(batchSize, us);
  console.log(`  batches of ${String(batchSize).padStart(2)}: ${us.toFixed(0)} µs per purchase`);
}
const writePerPurchase = ((writePerSize.get(16) ?? 0) * 16 - (writePerSize.get(1) ?? 0)) / 15;
console.log(
  `  about ${((writePerSize.get(1) ?? 0) - writePerPurchase).toFixed(0)} µs per statement and ${writePerPurchase.toFixed(0)} µs per purchase`,
);
await client.end();
