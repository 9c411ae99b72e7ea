import { type RawBuilder, type SqlBool, sql } from "kysely";
import type { Db, Tx } from "../../db/database.ts";
import type { LedgerAccountsTable, LedgerEntryKind } from "../../db/schema.ts";
import { limitWaits, type StopWhen } from "../../jobs/limits.ts";
import { AppError, assert } from "../../shared/errors.ts";
import { MemberFailures } from "../../shared/failures.ts";
import { newId } from "../../shared/ids.ts";
import { because, type Reason, stored } from "../../shared/reason.ts";
import { zonedParts } from "../../shared/time.ts";
import { rezonedExpiry } from "./expiry.ts";
import { type Allocation, allocateReversal, allocateSpend, type OpenLot, summarize } from "./lots.ts";

export { expiresAt } from "./expiry.ts";
export type { Allocation, OpenLot } from "./lots.ts";

/**
 * The points ledger. Append-only: every change of a balance is a new entry that says why
 * (`reason`), who (`actor`) and from what (`source_type`/`source_id`). Points live in lots with a
 * release time (pending period) and an expiry. A lot starts with the points its earning entries
 * credit (the entries and the lot share their source: one lot per earning source), and every
 * later movement of its points — spent, reversed, expired, restored, taken to settle a debt — is
 * recorded as an allocation, so at all times:
 *
 *   sum(entries.points) = account.balance_points = sum(lots.points_remaining) − account.debt_points
 *   lot.points_remaining = lot.points_initial + sum(allocations to the lot)
 *   lot.points_initial   = sum(the earning entries of the lot's source)
 *   account.pending_until ≥ every lot's available_at (the latest release time credited)
 *
 * The last one lets a purchase skip reading pending lots while `pending_until` lies in the past.
 * All functions run inside the caller's transaction, after `lockAccount`, which serializes every
 * change of one member's points.
 */

export type Account = LedgerAccountsTable;

export interface EntryMeta extends Reason {
  actor: string;
  source_type: string;
  source_id: string;
  occurred_at: Date;
}

export interface EarnLine extends Reason {
  points: number;
  rule_id: string | null;
}

export interface PostedEntry extends Reason {
  id: string;
  kind: LedgerEntryKind;
  points: number;
  rule_id: string | null;
}

/**
 * Locks the member's account row for the rest of the transaction (creating it on first use) and
 * returns it. One statement: `on conflict do update` takes the row lock as well.
 */
export async function lockAccount(tx: Tx, businessId: string, memberId: string, now: Date): Promise<Account> {
  return tx
    .insertInto("ledger_accounts")
    .values({
      business_id: businessId,
      member_id: memberId,
      balance_points: 0,
      debt_points: 0,
      lifetime_earned_points: 0,
      lifetime_spent_points: 0,
      pending_until: null,
      updated_at: now,
    })
    .onConflict((oc) =>
      oc.columns(["business_id", "member_id"]).doUpdateSet({ updated_at: sql`ledger_accounts.updated_at` }),
    )
    .returningAll()
    .executeTakeFirstOrThrow();
}

/**
 * Locks the member (its `member_state` row) and moves its version (see `getMemberForUpdate` in the members module,
 * which the use cases call; the ledger's own jobs call this one).
 */
async function lockMember(tx: Tx, businessId: string, memberId: string): Promise<void> {
  await tx
    .updateTable("member_state")
    .set((eb) => ({ version: eb("version", "+", 1), tier_metric_from: null }))
    .where("business_id", "=", businessId)
    .where("member_id", "=", memberId)
    .execute();
}

/**
 * Lots that still hold points. Written out, not as a parameter: connections plan statements
 * generically (`PG_CONNECTION_OPTIONS`), and a generic plan can use the lots' partial indexes
 * (`where points_remaining > 0`) only when the query states that very condition.
 */
const OPEN = sql<SqlBool>`points_remaining > 0`;

/** The member's lots that still hold points, pending ones included. */
export async function openLots(tx: Tx | Db, businessId: string, memberId: string): Promise<OpenLot[]> {
  return openLotsQuery(tx, businessId, memberId).execute();
}

/** `openLots`' query (its plan is tested). */
export function openLotsQuery(tx: Tx | Db, businessId: string, memberId: string) {
  return tx
    .selectFrom("ledger_lots")
    .select(["id", "points_remaining", "available_at", "expires_at", "source_type", "source_id"])
    .where("business_id", "=", businessId)
    .where("member_id", "=", memberId)
    .where(OPEN);
}

/**
 * Credits earned points: one entry per line (base points, each rule), all into one new lot with
 * the given release time and expiry. Points first settle any debt left by earlier refunds.
 */
export async function earn(
  tx: Tx,
  account: Account,
  lines: readonly EarnLine[],
  meta: Omit<EntryMeta, keyof Reason> & {
    available_at: Date;
    expires_at: Date | null;
    /** The business's time zone the expiry was reckoned on (the lot's `zone`). */
    zone: string;
    kind?: "earn" | "adjust";
  },
  now: Date,
): Promise<PostedEntry[]> {
  const positive = lines.filter((l) => l.points > 0);
  if (positive.length === 0) return [];
  const total = positive.reduce((sum, l) => sum + l.points, 0);
  const kind = meta.kind ?? "earn";
  const entries = positive.map((l) => ({
    business_id: account.business_id,
    id: newId(now.getTime()),
    member_id: account.member_id,
    kind,
    points: l.points,
    reason: l.reason,
    reason_code: l.reason_code,
    reason_params: stored(l.reason_params),
    actor: meta.actor,
    source_type: meta.source_type,
    source_id: meta.source_id,
    rule_id: l.rule_id,
    occurred_at: meta.occurred_at,
    created_at: now,
  }));
  // Earlier debt (a refund of already-spent points) is settled from the new lot right away.
  const settle = Math.min(account.debt_points, total);
  const lotId = newId(now.getTime());
  // The lot's initial points are the entries' credit; only a settlement moves them at once.
  const settlements =
    settle > 0 ? await settlementAllocations(tx, account, [{ lot_id: lotId, points: settle }]) : [];
  applyDelta(account, { balance: total, debt: -settle, earned: total });
  if (account.pending_until === null || meta.available_at > account.pending_until) {
    account.pending_until = meta.available_at;
  }
  // Entries, lot and the account total go in one statement: one round trip. Foreign keys are
  // checked at the end of the statement, so the rows may reference each other.
  await tx
    .with("e", (db) => db.insertInto("ledger_entries").values(entries))
    .with("l", (db) =>
      db.insertInto("ledger_lots").values({
        business_id: account.business_id,
        id: lotId,
        member_id: account.member_id,
        source_type: meta.source_type,
        source_id: meta.source_id,
        points_initial: total,
        points_remaining: total - settle,
        available_at: meta.available_at,
        expires_at: meta.expires_at,
        zone: meta.zone,
        created_at: now,
      }),
    )
    .updateTable("ledger_accounts")
    .set(accountValues(account, now))
    .where("business_id", "=", account.business_id)
    .where("member_id", "=", account.member_id)
    .execute();
  await insertAllocations(tx, account.business_id, settlements, now);
  return entries.map((e, i) => toPosted(e, positive[i] as EarnLine));
}

/**
 * Spends points earliest-expiry-first. Throws `409 insufficient_points` when the spendable
 * balance is short; nothing is written then.
 */
export async function spend(
  tx: Tx,
  account: Account,
  points: number,
  meta: EntryMeta & { kind?: "spend" | "adjust" },
  now: Date,
): Promise<PostedEntry> {
  assert(Number.isInteger(points) && points > 0, "spend is a positive integer");
  const lots = await openLots(tx, account.business_id, account.member_id);
  const allocations = allocateSpend(lots, points, now);
  const spendable = summarize(lots, now, now).available - account.debt_points;
  if (!allocations || spendable < points) {
    throw new AppError(
      409,
      "insufficient_points",
      `The member has ${Math.max(0, spendable)} points available; ${points} are needed.`,
      { available: Math.max(0, spendable), needed: points },
    );
  }
  const entry = await postDebit(tx, account, meta.kind ?? "spend", -points, allocations, meta, null, now);
  // A correction down takes back what a correction up (or an earning) added to the lifetime
  // earned, never below zero: the member did not spend those points, nor ever have them.
  await updateAccount(
    tx,
    account,
    meta.kind === "adjust"
      ? { balance: -points, earned: -Math.min(points, account.lifetime_earned_points) }
      : { balance: -points, spent: points },
    now,
  );
  return entry;
}

/**
 * Takes back points a source earned (a refund): the source's own lots first (pending before
 * available), then other pending, then other available points. What cannot be covered becomes
 * debt when the policy allows a negative balance, and is otherwise written off (returned as
 * `unrecovered`).
 */
export async function reverse(
  tx: Tx,
  account: Account,
  points: number,
  meta: EntryMeta,
  options: { allowNegative: boolean; source: { type: string; id: string } },
  now: Date,
): Promise<{ entry: PostedEntry | null; reversed: number; unrecovered: number }> {
  if (points <= 0) return { entry: null, reversed: 0, unrecovered: 0 };
  const lots = await openLots(tx, account.business_id, account.member_id);
  const { allocations, shortfall } = allocateReversal(lots, points, options.source, now);
  const debt = options.allowNegative ? shortfall : 0;
  const reversed = points - shortfall + debt;
  if (reversed === 0) return { entry: null, reversed: 0, unrecovered: shortfall };
  const entry = await postDebit(tx, account, "reverse", -reversed, allocations, meta, null, now);
  await updateAccount(tx, account, { balance: -reversed, debt }, now);
  return { entry, reversed, unrecovered: shortfall - debt };
}

/** Points a `restore` gave back to one lot and left there (not taken to settle debt), with the lot's source. */
export interface RestoredLot {
  lot_id: string;
  source_type: string;
  source_id: string;
  expires_at: Date | null;
  points: number;
}

/**
 * Gives back the points of an earlier debit (a voided voucher): the same lots get their points
 * back, with the same expiry, so voiding never extends the life of a point. Like earned points,
 * points given back first settle any debt left by earlier refunds (from the lots that expire
 * first), so a member never stays in debt while holding points. Returns the entry and what each
 * lot kept of it: a refund that wrote off points of the lot's purchase takes them from there
 * (`collectWrittenOff` in src/use-cases/refunds.ts, with `reverseFromLots`).
 */
export async function restore(
  tx: Tx,
  account: Account,
  debitEntryId: string,
  meta: EntryMeta,
  now: Date,
): Promise<{ entry: PostedEntry; lots: RestoredLot[] } | null> {
  const taken = await tx
    .selectFrom("ledger_allocations as a")
    .innerJoin("ledger_lots as l", (join) =>
      join.onRef("l.business_id", "=", "a.business_id").onRef("l.id", "=", "a.lot_id"),
    )
    .select(["a.lot_id", "a.points", "l.expires_at", "l.source_type", "l.source_id"])
    .where("a.business_id", "=", account.business_id)
    .where("a.entry_id", "=", debitEntryId)
    .orderBy(sql`l.expires_at nulls last`)
    .orderBy("a.lot_id")
    .execute();
  const allocations = taken.map((a) => ({ lot_id: a.lot_id, points: -a.points }));
  const points = allocations.reduce((s, a) => s + a.points, 0);
  if (points <= 0) return null;
  const entry = await postDebit(tx, account, "restore", points, allocations, meta, null, now);
  // What each lot keeps of the points given back (an entry books one allocation per lot).
  const kept = new Map(allocations.map((a) => [a.lot_id, a.points]));
  const settle = Math.min(account.debt_points, points);
  if (settle > 0) {
    const sources: Allocation[] = [];
    let left = settle;
    for (const a of allocations) {
      if (left === 0) break;
      const take = Math.min(left, a.points);
      sources.push({ lot_id: a.lot_id, points: take });
      kept.set(a.lot_id, (kept.get(a.lot_id) ?? 0) - take);
      left -= take;
    }
    const settlements = await settlementAllocations(tx, account, sources);
    await moveLots(
      tx,
      account.business_id,
      sources.map((s) => ({ lot_id: s.lot_id, points: -s.points })),
    );
    await insertAllocations(tx, account.business_id, settlements, now);
  }
  await updateAccount(tx, account, { balance: points, spent: -points, debt: -settle }, now);
  const lots = taken
    .map((a) => ({
      lot_id: a.lot_id,
      source_type: a.source_type,
      source_id: a.source_id,
      expires_at: a.expires_at,
      points: kept.get(a.lot_id) ?? 0,
    }))
    .filter((l) => l.points > 0);
  return { entry, lots };
}

/**
 * Takes points out of the named lots as one `reverse` entry: a refund taking back what it had
 * written off once a voided voucher gave the points back to its purchase's lots
 * (`collectWrittenOff` in src/use-cases/refunds.ts). The caller names lots that hold the points
 * (just restored, under the same lock); nothing becomes debt.
 */
export async function reverseFromLots(
  tx: Tx,
  account: Account,
  allocations: readonly Allocation[],
  meta: EntryMeta,
  now: Date,
): Promise<PostedEntry> {
  assert(
    allocations.length > 0 && allocations.every((a) => Number.isInteger(a.points) && a.points < 0),
    "a reversal from lots takes a positive number of points out of each",
  );
  return postLotReversal(tx, account, allocations, meta, now);
}

/**
 * Gives points back to the named lots as one `reverse` entry of positive points: a refund handing
 * back what it took from the member's other lots once a voided voucher showed it should have
 * taken (or found expired) its own purchase's points instead (`collectWrittenOff` in
 * src/use-cases/refunds.ts). The caller names lots the refund took at least that much from, so no
 * lot ends above what it was credited; never called with debt (nothing to settle first).
 */
export async function giveBackToLots(
  tx: Tx,
  account: Account,
  allocations: readonly Allocation[],
  meta: EntryMeta,
  now: Date,
): Promise<PostedEntry> {
  assert(
    allocations.length > 0 && allocations.every((a) => Number.isInteger(a.points) && a.points > 0),
    "a give-back puts a positive number of points into each lot",
  );
  assert(account.debt_points === 0, "points are given back to lots only without debt");
  return postLotReversal(tx, account, allocations, meta, now);
}

/** A `reverse` entry moving points out of or into named lots, and the balance with it. */
async function postLotReversal(
  tx: Tx,
  account: Account,
  allocations: readonly Allocation[],
  meta: EntryMeta,
  now: Date,
): Promise<PostedEntry> {
  const points = allocations.reduce((s, a) => s + a.points, 0);
  const entry = await postDebit(tx, account, "reverse", points, allocations, meta, null, now);
  await updateAccount(tx, account, { balance: points }, now);
  return entry;
}

/** Writes a non-earning entry and its allocations, and moves the lots' remaining points. */
async function postDebit(
  tx: Tx,
  account: Account,
  kind: LedgerEntryKind,
  points: number,
  allocations: readonly Allocation[],
  meta: EntryMeta,
  ruleId: string | null,
  now: Date,
): Promise<PostedEntry> {
  const entry = {
    business_id: account.business_id,
    id: newId(now.getTime()),
    member_id: account.member_id,
    kind,
    points,
    reason: meta.reason,
    reason_code: meta.reason_code,
    reason_params: stored(meta.reason_params),
    actor: meta.actor,
    source_type: meta.source_type,
    source_id: meta.source_id,
    rule_id: ruleId,
    occurred_at: meta.occurred_at,
    created_at: now,
  };
  await tx.insertInto("ledger_entries").values(entry).execute();
  await moveLots(tx, account.business_id, allocations);
  await insertAllocations(
    tx,
    account.business_id,
    allocations.map((a) => ({ entry_id: entry.id, ...a })),
    now,
  );
  return toPosted(entry, meta);
}

/** Applies allocations to lots in one statement. */
async function moveLots(tx: Tx, businessId: string, allocations: readonly Allocation[]): Promise<void> {
  if (allocations.length === 0) return;
  const values = sql.join(allocations.map((a) => sql`(${a.lot_id}::uuid, ${a.points}::int)`));
  await sql`
    update ledger_lots l set points_remaining = l.points_remaining + v.points
    from (values ${values}) as v(lot_id, points)
    where l.business_id = ${businessId} and l.id = v.lot_id`.execute(tx);
}

async function insertAllocations(
  tx: Tx,
  businessId: string,
  rows: readonly { entry_id: string; lot_id: string; points: number }[],
  now: Date,
): Promise<void> {
  if (rows.length === 0) return;
  // A settlement may book more against a (reversal, lot) pair booked before: the row adds up.
  await tx
    .insertInto("ledger_allocations")
    .values(mergeAllocations(businessId, rows, now))
    .onConflict((oc) =>
      oc
        .columns(["business_id", "entry_id", "lot_id"])
        .doUpdateSet({ points: sql`ledger_allocations.points + excluded.points` }),
    )
    .execute();
}

/** One allocation row per (entry, lot): an entry may touch a lot twice (debt settlement from a lot it credits). */
function mergeAllocations(
  businessId: string,
  rows: readonly { entry_id: string; lot_id: string; points: number }[],
  now: Date,
) {
  const merged = new Map<string, { entry_id: string; lot_id: string; points: number }>();
  for (const r of rows) {
    const key = `${r.entry_id}/${r.lot_id}`;
    const prev = merged.get(key);
    merged.set(key, prev ? { ...prev, points: prev.points + r.points } : { ...r });
  }
  return [...merged.values()].map((r) => ({ business_id: businessId, ...r, created_at: now }));
}

/**
 * Debt is owed by the reversal entries that created it; settling it books the taken points against
 * those entries (oldest first), so every entry's allocations add up to its points once settled.
 * `sources` are the lots the settlement takes from, and how much from each, in order.
 */
async function settlementAllocations(
  tx: Tx,
  account: Account,
  sources: readonly Allocation[],
): Promise<{ entry_id: string; lot_id: string; points: number }[]> {
  const owing = await sql<{ id: string; owed: number }>`
    select e.id, (-e.points + coalesce(sum(a.points), 0))::int as owed
    from ledger_entries e
    left join ledger_allocations a on a.business_id = e.business_id and a.entry_id = e.id
    where e.business_id = ${account.business_id} and e.member_id = ${account.member_id} and e.kind = 'reverse'
    group by e.business_id, e.id, e.points
    having -e.points + coalesce(sum(a.points), 0) > 0
    order by e.id`.execute(tx);
  const out: { entry_id: string; lot_id: string; points: number }[] = [];
  const debts = owing.rows.map((row) => ({ ...row }));
  let d = 0;
  for (const source of sources) {
    let left = source.points;
    while (left > 0) {
      const debt = debts[d];
      assert(debt, "debt on the account equals the unallocated part of reversal entries");
      const take = Math.min(left, debt.owed);
      out.push({ entry_id: debt.id, lot_id: source.lot_id, points: -take });
      debt.owed -= take;
      left -= take;
      if (debt.owed === 0) d++;
    }
  }
  return out;
}

type AccountDelta = { balance: number; debt?: number; earned?: number; spent?: number };

/** Moves the in-memory account (held under its lock) by `delta`, checking it stays sound. */
function applyDelta(account: Account, delta: AccountDelta): void {
  account.balance_points += delta.balance;
  account.debt_points += delta.debt ?? 0;
  account.lifetime_earned_points += delta.earned ?? 0;
  account.lifetime_spent_points += delta.spent ?? 0;
  assert(account.debt_points >= 0, "debt is never negative");
}

function accountValues(account: Account, now: Date) {
  return {
    balance_points: account.balance_points,
    debt_points: account.debt_points,
    lifetime_earned_points: account.lifetime_earned_points,
    lifetime_spent_points: account.lifetime_spent_points,
    pending_until: account.pending_until,
    updated_at: now,
  };
}

async function updateAccount(tx: Tx, account: Account, delta: AccountDelta, now: Date): Promise<void> {
  applyDelta(account, delta);
  await tx
    .updateTable("ledger_accounts")
    .set(accountValues(account, now))
    .where("business_id", "=", account.business_id)
    .where("member_id", "=", account.member_id)
    .execute();
}

function toPosted(
  e: { id: string; kind: LedgerEntryKind; points: number; rule_id: string | null },
  why: Reason,
): PostedEntry {
  return {
    id: e.id,
    kind: e.kind,
    points: e.points,
    reason: why.reason,
    reason_code: why.reason_code,
    reason_params: why.reason_params,
    rule_id: e.rule_id,
  };
}

export interface PointsBalance {
  available: number;
  pending: number;
  debt: number;
  lifetime_earned: number;
  lifetime_spent: number;
  expiring_soon: { expires_at: string; points: number }[];
}

type PointsStateJson = {
  account: { debt_points: number; lifetime_earned_points: number; lifetime_spent_points: number } | null;
  lots: {
    id: string;
    points_remaining: number;
    available_at: string;
    expires_at: string | null;
    source_type: string;
    source_id: string;
  }[];
};

/**
 * The member's account and open lots as one JSON value, a scalar SQL expression a caller can read
 * in the same round trip as other things; `toPointsBalance` turns it into the balance.
 */
export function pointsStateSql(businessId: string, memberId: string): RawBuilder<PointsStateJson> {
  return sql<PointsStateJson>`json_build_object(
    'account', (select json_build_object('debt_points', debt_points, 'lifetime_earned_points', lifetime_earned_points,
                                         'lifetime_spent_points', lifetime_spent_points)
                  from ledger_accounts where business_id = ${businessId} and member_id = ${memberId}),
    'lots', (select coalesce(json_agg(json_build_object('id', id, 'points_remaining', points_remaining,
               'available_at', available_at, 'expires_at', expires_at, 'source_type', source_type, 'source_id', source_id)), '[]')
               from ledger_lots where business_id = ${businessId} and member_id = ${memberId} and points_remaining > 0))`;
}

/** A member's points at `now` from `pointsStateSql`'s value. */
export function toPointsBalance(state: PointsStateJson, now: Date, soonUntil: Date): PointsBalance {
  const lots: OpenLot[] = state.lots.map((l) => ({
    ...l,
    available_at: new Date(l.available_at),
    expires_at: l.expires_at === null ? null : new Date(l.expires_at),
  }));
  const s = summarize(lots, now, soonUntil);
  const debt = state.account?.debt_points ?? 0;
  return {
    available: s.available - debt,
    pending: s.pending,
    debt,
    lifetime_earned: state.account?.lifetime_earned_points ?? 0,
    lifetime_spent: state.account?.lifetime_spent_points ?? 0,
    expiring_soon: s.expiring.map((e) => ({ expires_at: e.expires_at.toISOString(), points: e.points })),
  };
}

/** A member's points at `now`: spendable, pending, debt, and what expires before `soonUntil`. */
export async function pointsBalance(
  db: Db | Tx,
  businessId: string,
  memberId: string,
  now: Date,
  soonUntil: Date,
): Promise<PointsBalance> {
  const { rows } = await sql<{
    state: PointsStateJson;
  }>`select ${pointsStateSql(businessId, memberId)} as state`.execute(db);
  return toPointsBalance(rows[0]?.state ?? { account: null, lots: [] }, now, soonUntil);
}

/**
 * Expires lots whose time has come, and throws at the end when a member failed (see
 * `expireDue`, which this runs to the end: no cap).
 *
 * @example await runExpiry(db, now, { businessId }) // { lots: 3, points: 120 }
 */
export async function runExpiry(
  db: Db,
  now: Date,
  options: { businessId?: string; batchSize?: number; maxBatches?: number } = {},
): Promise<{ lots: number; points: number }> {
  const run = await expireDue(db, now, options);
  run.failures.throwIfAny(run.members);
  return { lots: run.lots, points: run.points };
}

/** What one run of `expireDue` did. */
export interface ExpiryRun {
  lots: number;
  points: number;
  /** The members whose due lots it expired. */
  members: number;
  /** The members it could not do: their lots stay due, for the next run. */
  failures: MemberFailures;
  /** It stopped (`maxMembers`, `maxBatches`, `stop`) before it had been through every due lot. */
  more: boolean;
}

/** Where a walk through the due lots has got to: the last lot of the last batch. */
export interface DueLotKey {
  expires_at: Date;
  business_id: string;
  member_id: string;
}

/**
 * Expires lots whose time has come. It reads the due lots `batchSize` at a time, in the order of
 * the expiry index, and expires them one member per transaction: the member's lock, then the
 * account's, then every lot of that member that is due, each with one `expire` entry. A lot is
 * expired once because only lots that still hold points are taken, re-read under the member's
 * lock. Safe to stop and run again at any time, and to run twice at once.
 *
 * One member per transaction is what keeps it free of deadlocks: a batch of purchases locks
 * several members in one statement in an order of its own, and a transaction that held one member
 * while waiting for a second could close a cycle with it. Holding one member at a time never can.
 * Each transaction waits at most `JOB_LOCK_TIMEOUT_MS` for a lock (`limitWaits`).
 *
 * A member that fails (a bad row, a lock timeout, a bug) costs no other member their turn: the
 * next batch starts past the last lot of this one (`DueLotKey`), so the failed member's lots stay
 * due without any query having to leave them out, and the run goes on. It returns what it did and
 * who failed; `more` when it stopped at `maxMembers` (members done or failed), at `maxBatches`,
 * or when `stop` said so (asked after each member), with due lots left past where it stopped.
 */
export async function expireDue(
  db: Db,
  now: Date,
  options: {
    businessId?: string;
    batchSize?: number;
    maxBatches?: number;
    maxMembers?: number;
    stop?: StopWhen;
  } = {},
): Promise<ExpiryRun> {
  const batchSize = options.batchSize ?? 500;
  const maxMembers = options.maxMembers ?? Number.POSITIVE_INFINITY;
  const run: ExpiryRun = {
    lots: 0,
    points: 0,
    members: 0,
    failures: new MemberFailures("Points expiry", "the others' points expired"),
    more: false,
  };
  // A member that failed and has another due lot further on is not tried twice in one run.
  const failed = new Set<string>();
  let after: DueLotKey | undefined;
  for (let batch = 0; ; batch++) {
    if (batch >= (options.maxBatches ?? 10_000)) {
      run.more =
        after !== undefined &&
        (await dueLotsQuery(db, now, 1, options.businessId, after).execute()).length > 0;
      return run;
    }
    const due = await dueLotsQuery(db, now, batchSize, options.businessId, after).execute();
    const members = [...new Map(due.map((lot) => [`${lot.business_id}/${lot.member_id}`, lot])).entries()];
    for (const [i, [key, { business_id: businessId, member_id: memberId }]] of members.entries()) {
      if (failed.has(key)) continue;
      try {
        const expired = await db.transaction().execute(async (tx) => {
          await limitWaits(tx);
          return expireMember(tx, businessId, memberId, now);
        });
        run.lots += expired.lots;
        run.points += expired.points;
        run.members++;
      } catch (error) {
        run.failures.add(businessId, memberId, error);
        failed.add(key);
      }
      if (run.members + run.failures.count >= maxMembers || options.stop?.()) {
        const last = due.at(-1);
        run.more =
          i < members.length - 1 ||
          (due.length === batchSize &&
            last !== undefined &&
            (await dueLotsQuery(db, now, 1, options.businessId, dueKey(last)).execute()).length > 0);
        return run;
      }
    }
    const last = due.at(-1);
    if (!last || due.length < batchSize) return run;
    after = dueKey(last);
  }
}

function dueKey(lot: { expires_at: Date | null; business_id: string; member_id: string }): DueLotKey {
  return { expires_at: lot.expires_at as Date, business_id: lot.business_id, member_id: lot.member_id };
}

/**
 * A batch of lots due at `now` (of one business, or all), in the order of the expiry index
 * (`expires_at`, then business and member), starting past `after`. At a month's end every lot of
 * a month shares one instant: the index holds the business and member too, so a batch is read
 * from it in order, never by sorting all of them.
 */
export function dueLotsQuery(db: Db, now: Date, batchSize: number, businessId?: string, after?: DueLotKey) {
  let q = db
    .selectFrom("ledger_lots")
    .select(["expires_at", "business_id", "member_id"])
    .where("expires_at", "<=", now)
    .where(OPEN)
    .orderBy("expires_at")
    .orderBy("business_id")
    .orderBy("member_id")
    .limit(batchSize);
  if (businessId) q = q.where("business_id", "=", businessId);
  if (after) {
    q = q.where(
      sql<SqlBool>`(expires_at, business_id, member_id) > (${after.expires_at}::timestamptz, ${after.business_id}::uuid, ${after.member_id}::uuid)`,
    );
  }
  return q;
}

/** Expires every lot of one member that is due at `now`, under the member's lock. */
async function expireMember(
  tx: Tx,
  businessId: string,
  memberId: string,
  now: Date,
): Promise<{ lots: number; points: number }> {
  // Member first, then account: the order every other change of a member's points takes.
  await lockMember(tx, businessId, memberId);
  const account = await lockAccount(tx, businessId, memberId, now);
  // Read under the locks: a concurrent spend or another expiry run may have emptied a lot. The
  // lots themselves are locked too, in the order of their expiry, then id, and re-read once a
  // lock waited for is granted: a change of the business's time zone moves lots' expiries
  // without the member's lock (`rezoneLotsPage`, which locks its lots in this same order), and a
  // lot it moved later is no longer due.
  const lots = await tx
    .selectFrom("ledger_lots")
    .select(["id", "points_remaining", "expires_at", "source_type", "source_id"])
    .where("business_id", "=", businessId)
    .where("member_id", "=", memberId)
    .where("expires_at", "<=", now)
    .where(OPEN)
    .orderBy("expires_at")
    .orderBy("id")
    .forNoKeyUpdate()
    .execute();
  if (lots.length === 0) return { lots: 0, points: 0 };
  const sources = await sourceNames(tx, businessId, lots);
  // The date is written on the business's clock as it is now, read member by member: a run that
  // goes on across a change of time zone words each entry as the card shows its lot.
  const { timezone: timeZone } = await tx
    .selectFrom("businesses")
    .select("timezone")
    .where("id", "=", businessId)
    .executeTakeFirstOrThrow();
  let total = { lots: 0, points: 0 };
  for (const lot of lots) {
    const points = lot.points_remaining;
    const from = sources.get(lot.id) ?? { source: lot.source_type, ref: null };
    await postDebit(
      tx,
      account,
      "expire",
      -points,
      [{ lot_id: lot.id, points: -points }],
      {
        // The business's own date, as the card announced it.
        ...because("expired", {
          points,
          source: from.source,
          ref: from.ref,
          date: lot.expires_at ? localDate(lot.expires_at, timeZone) : "",
        }),
        actor: "system:expiry",
        source_type: "lot",
        source_id: lot.id,
        occurred_at: lot.expires_at ?? now,
      },
      null,
      now,
    );
    await updateAccount(tx, account, { balance: -points }, now);
    total = { lots: total.lots + 1, points: total.points + points };
  }
  return total;
}

/**
 * What each lot's points were earned by, as staff know it, for the expiry's reason: the entry
 * itself names the lot, which no screen shows. A purchase by its external id (`purchase
 * till-1-0042`), an event by its type and external id, the rest by their kind (`signup`, `birthday`, `adjustment`,
 * `voucher`: points a voided voucher gave back).
 */
async function sourceNames(
  tx: Tx,
  businessId: string,
  lots: readonly { id: string; source_type: string; source_id: string }[],
): Promise<Map<string, { source: string; ref: string | null }>> {
  const ids = (type: string) => [
    ...new Set(lots.filter((l) => l.source_type === type).map((l) => l.source_id)),
  ];
  const purchases = ids("purchase");
  const events = ids("event");
  const external = new Map<string, string>();
  if (purchases.length > 0) {
    const rows = await tx
      .selectFrom("purchases")
      .select(["id", "external_id"])
      .where("business_id", "=", businessId)
      .where("id", "in", purchases)
      .execute();
    for (const r of rows) external.set(`purchase:${r.id}`, r.external_id);
  }
  if (events.length > 0) {
    const rows = await tx
      .selectFrom("member_events")
      .select(["id", "type", "external_id"])
      .where("business_id", "=", businessId)
      .where("id", "in", events)
      .execute();
    for (const r of rows) external.set(`event:${r.id}`, `${r.type} ${r.external_id}`);
  }
  return new Map(
    lots.map((l) => [
      l.id,
      { source: l.source_type, ref: external.get(`${l.source_type}:${l.source_id}`) ?? null },
    ]),
  );
}

/** `at` as the date it is in `timeZone`, YYYY-MM-DD. */
function localDate(at: Date, timeZone: string): string {
  const p = zonedParts(at, timeZone);
  return `${p.year}-${String(p.month).padStart(2, "0")}-${String(p.day).padStart(2, "0")}`;
}

/** What one page of `rezoneLotsPage` did, and where the next one starts. */
export interface RezonedLotsPage {
  /** Lots whose expiry moved to the same date and time on the new clock. */
  moved: number;
  /** Lots whose expiry on the new clock would already have passed: they keep theirs, still ahead. */
  kept_passed: number;
  /** The last lot the page read (the next page starts after it); null when it read none. */
  last: string | null;
  /** No lot of the change is left after `last`. */
  done: boolean;
}

/**
 * One page of a change of the business's time zone, in the caller's transaction: the next
 * `pageSize` open lots of the business (points left, expiry still ahead at `now`) by id, after
 * `after`, whose expiry was reckoned on the old clock (`zone` is `from`; a lot from before lots
 * said so, by an id smaller than `before`, the change's own), each moved to the same date and time
 * on the new clock (`rezonedExpiry`) unless that has passed, and marked with the new zone. A lot
 * earned since the change has its expiry on the new clock already: whatever writes a lot holds
 * the program row's share lock, which the change takes first (`SnapshotCache.load`, the purchase
 * fast path's write), so a lot priced on the old clock was written before the change committed. Lots that
 * expired and wait for the expiry run, spent lots and lots that never expire stay as they are; no
 * entry is written (an expiry is no change of a balance), and release times (`available_at`,
 * `pending_until`) stay as announced (docs/api.md, "Changing the time zone").
 *
 * The page's lots are locked in the order of their expiry, then id: the order in which the expiry
 * run locks a member's due lots (`expireMember`), so the two never wait on each other in a
 * cycle, and an expiry run that read a lot as due before the page moved it re-reads it once the
 * page commits and leaves it. The new instants are reckoned in JS, with `Intl`'s zone data and
 * `addLocalDays`' reading of a time the clock skips or shows twice; PostgreSQL's
 * `(expires_at at time zone from) at time zone to` reads both the other way (a skipped 02:30 as
 * 03:30, a repeated one as the later), so it would move a lot an hour off what its policy gives.
 * Then one `update … from (values …)` writes them.
 *
 * @example await rezoneLotsPage(tx, businessId, { from: "Europe/Amsterdam", to: "Europe/Lisbon", before: changeId, after: null }, now) // { moved: 120, kept_passed: 0, last: "0193…", done: true }
 */
export async function rezoneLotsPage(
  tx: Tx,
  businessId: string,
  change: { from: string; to: string; before: string; after: string | null },
  now: Date,
  pageSize = 500,
): Promise<RezonedLotsPage> {
  assert(Number.isInteger(pageSize) && pageSize > 0 && pageSize <= 5000, "a page holds 1 to 5000 lots");
  let page = tx
    .selectFrom("ledger_lots")
    .select("id")
    .where("business_id", "=", businessId)
    .where(onTheOldClock(change))
    .where(OPEN)
    .where("expires_at", ">", now)
    .orderBy("id")
    .limit(pageSize);
  if (change.after !== null) page = page.where("id", ">", change.after);
  const ids = (await page.execute()).map((l) => l.id);
  const done: RezonedLotsPage = {
    moved: 0,
    kept_passed: 0,
    last: ids.at(-1) ?? null,
    done: ids.length < pageSize,
  };
  if (ids.length === 0 || change.from === change.to) return done;
  // Under the lock, each lot as it is now: a spend or an expiry since the read may have emptied it.
  const lots = await tx
    .selectFrom("ledger_lots")
    .select(["id", "expires_at"])
    .where("business_id", "=", businessId)
    .where("id", "in", ids)
    .where(onTheOldClock(change))
    .where(OPEN)
    .where("expires_at", ">", now)
    .orderBy("expires_at")
    .orderBy("id")
    .forNoKeyUpdate()
    .execute();
  // Every lot of the page goes onto the new clock (`zone`), with its expiry moved, or kept where
  // the zones agree that day or the new one has passed.
  const moves = lots.map((lot) => {
    const next = rezonedExpiry(lot.expires_at as Date, change.from, change.to, now);
    if (next.outcome === "moved") done.moved++;
    else if (next.outcome === "passed") done.kept_passed++;
    return { id: lot.id, next: next.outcome === "moved" ? next.expires_at : (lot.expires_at as Date) };
  });
  if (moves.length > 0) {
    const values = sql.join(moves.map((m) => sql`(${m.id}::uuid, ${m.next}::timestamptz)`));
    await sql`update ledger_lots l set expires_at = v.next, zone = ${change.to}
      from (values ${values}) as v(id, next)
      where l.business_id = ${businessId} and l.id = v.id`.execute(tx);
  }
  return done;
}

/**
 * The lots a change of zone moves: those whose expiry was reckoned on its old clock (`zone`); a
 * lot earned before lots said so (null) by its id, smaller than the change's own.
 */
function onTheOldClock(change: { from: string; before: string }) {
  return sql<SqlBool>`(zone = ${change.from} or (zone is null and id < ${change.before}::uuid))`;
}
