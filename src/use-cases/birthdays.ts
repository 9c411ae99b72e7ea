import { sql } from "kysely";
import type { AppContext } from "../context.ts";
import { limitWaits, type StopWhen } from "../jobs/limits.ts";
import { idempotent } from "../modules/idempotency/index.ts";
import { getMemberForUpdate } from "../modules/members/index.ts";
import type { Rule } from "../modules/rules/schema.ts";
import { settleTier } from "../modules/tiers/metric.ts";
import { AppError } from "../shared/errors.ts";
import { MemberFailures } from "../shared/failures.ts";
import { zonedParts, zonedTimeToUtc } from "../shared/time.ts";
import { creditPricing } from "./events.ts";
import { priceEvent } from "./price-purchase.ts";

/**
 * How many days back a run still gives a birthday no run gave: a day without a run (every node
 * down, a daily schedule that skips the 23-hour day of spring) costs no member their treat.
 */
export const BIRTHDAY_CATCH_UP_DAYS = 7;

/** A local calendar date. */
interface Day {
  year: number;
  month: number;
  day: number;
}

/**
 * Gives the birthday members of every business with birthday rules what those rules say, once a
 * year, and throws at the end when a member failed (see `giveBirthdays`).
 */
export async function runBirthdays(
  ctx: AppContext,
  now: Date,
  batchSize = 200,
): Promise<{ members: number }> {
  const run = await giveBirthdays(ctx, now, { batchSize });
  run.failures.throwIfAny(run.members);
  return { members: run.members };
}

/** What one run of `giveBirthdays` did. */
export interface BirthdaysRun {
  /** The members given their treat. */
  members: number;
  failures: MemberFailures;
  /** It stopped (`stop`) with members maybe left to treat. */
  more: boolean;
}

/** A member read as due whom the lock shows no longer is: erased, or their birthday changed since. */
class NoLongerDue extends Error {}

/**
 * Gives the birthday members of every business with birthday rules what those rules say, once a
 * year: the idempotency key `birthday:<member>:<year>` makes a second run the same day (or on
 * another node) a no-op. A birthday is due on the business's own date, and stays due for
 * `BIRTHDAY_CATCH_UP_DAYS` days (counting today) for a member no run gave it yet, if they were a
 * member by then; a member born on 29 February celebrates on 28 February in other years. Under
 * the member's lock the member is read again: one erased, or whose birthday was changed, since the
 * batch was read gets nothing (a changed birthday is the next run's to judge). Each member's
 * transaction waits a bounded time (`limitWaits`). One member's failure does not cost the others
 * their day: the run goes on, and returns who failed, for the next run to try again. `stop` is
 * asked after each member.
 */
export async function giveBirthdays(
  ctx: AppContext,
  now: Date,
  options: { batchSize?: number; stop?: StopWhen } = {},
): Promise<BirthdaysRun> {
  const batchSize = options.batchSize ?? 200;
  const businesses = await ctx.db
    .selectFrom("earning_rules as r")
    .innerJoin("businesses as b", "b.id", "r.business_id")
    .select(["r.business_id", "b.timezone"])
    .distinct()
    .where("r.trigger", "=", "birthday")
    .where("r.active", "=", true)
    .where("r.archived_at", "is", null)
    .execute();
  const run: BirthdaysRun = {
    members: 0,
    failures: new MemberFailures("Birthdays", "the others got their treat"),
    more: false,
  };
  for (const business of businesses) {
    const today = zonedParts(now, business.timezone);
    // The days a birthday is still due on, latest first, each with the birthdays it celebrates.
    const days = lastDays(today, BIRTHDAY_CATCH_UP_DAYS);
    const celebrated = days.flatMap((d) => birthdaysOn(d).map((b) => ({ ...b, on: d })));
    let after = "00000000-0000-0000-0000-000000000000";
    for (let batch = 0; batch < 10_000; batch++) {
      const due = await ctx.db
        .selectFrom("members")
        .select(["id", "birthday", "joined_at"])
        .where("business_id", "=", business.business_id)
        .where("birthday", "is not", null)
        .where((eb) =>
          eb.or(
            celebrated.map((c) =>
              eb.and([
                eb(sql`extract(month from birthday)`, "=", c.month),
                eb(sql`extract(day from birthday)`, "=", c.day),
                // Not one already treated for that day (the key `onceInTransaction` writes): a
                // run every few minutes would otherwise open a transaction for each of them.
                eb.not(
                  eb.exists(
                    eb
                      .selectFrom("idempotency_keys as k")
                      .select(sql`1`.as("one"))
                      .whereRef("k.business_id", "=", "members.business_id")
                      .where("k.operation", "=", "member.birthday")
                      .where(
                        "k.key",
                        "=",
                        sql<string>`'birthday:' || members.id::text || ':' || ${String(c.on.year)}::text`,
                      ),
                  ),
                ),
              ]),
            ),
          ),
        )
        .where("id", ">", after)
        .orderBy("id")
        .limit(batchSize)
        .execute();
      for (const { id, birthday, joined_at } of due) {
        const [, month, day] = String(birthday).split("-").map(Number);
        // The latest day in the window that celebrates this birthday.
        const on = celebrated.find((c) => c.month === month && c.day === day)?.on;
        if (!on) continue;
        // Not for a birthday before the member joined.
        const joined = zonedParts(joined_at, business.timezone);
        if (compareDays(joined, on) > 0) continue;
        try {
          const { replayed } = await ctx.db.transaction().execute(async (tx) => {
            await limitWaits(tx);
            return idempotent(
              tx,
              business.business_id,
              `birthday:${id}:${on.year}`,
              "member.birthday",
              { member_id: id, year: on.year },
              now,
              async () => {
                // The program first, then the member: the order every writer takes them (`SnapshotCache.load`).
                const snapshot = await ctx.snapshots.load(tx, business.business_id);
                const locked = await getMemberForUpdate(tx, business.business_id, id);
                // Erased, or the birthday changed, since the batch was read: nothing, and no key
                // (the transaction rolls back), so a birthday corrected to a due day is the next
                // run's to give.
                if (locked.erased_at !== null || String(locked.birthday) !== String(birthday)) {
                  throw new NoLongerDue();
                }
                // Tier rules see the tier as the card shows it now: one whose retention ended is
                // re-evaluated, and one reached since it was stored is recorded first.
                const member = await settleTier(tx, snapshot, locked, now);
                const subject = { ...member, attributes: member.attributes as Record<string, unknown> };
                // The rules of the birthday itself: a rule that started since gives nothing for it,
                // and one that ended since still gives what it gave on the day. A rule made after
                // the day gives nothing for it either: the catch-up is for days the job missed,
                // not for birthdays before the rule existed.
                const day = birthdayInstant(on, business.timezone, now);
                const madeBy = (r: Rule) =>
                  r.trigger !== "birthday" ||
                  r.created_at === undefined ||
                  compareDays(zonedParts(r.created_at, business.timezone), on) <= 0;
                const pricing = await priceEvent(
                  tx,
                  { ...snapshot, rules: snapshot.rules.filter(madeBy) },
                  subject,
                  { type: "birthday", properties: {}, occurred_at: day },
                  "birthday",
                );
                await creditPricing(
                  tx,
                  snapshot,
                  member,
                  pricing,
                  {
                    actor: "system:birthdays",
                    source_type: "birthday",
                    source_id: String(on.year),
                    occurred_at: now,
                  },
                  now,
                );
                return { status: 200, body: { points: pricing.total_points } };
              },
            );
          });
          if (!replayed) run.members++;
        } catch (error) {
          // Given long ago: its stored answer was pruned (ANSWER_RETENTION_DAYS), the key stays.
          const given = error instanceof AppError && error.code === "idempotency_answer_expired";
          if (!given && !(error instanceof NoLongerDue)) run.failures.add(business.business_id, id, error);
        }
        if (options.stop?.()) {
          run.more = true;
          return run;
        }
      }
      const last = due.at(-1);
      if (!last || due.length < batchSize) break;
      after = last.id;
    }
  }
  return run;
}

/** `today` and the `count - 1` local days before it, latest first. */
function lastDays(today: Day, count: number): Day[] {
  return Array.from({ length: count }, (_, back) => {
    const d = new Date(Date.UTC(today.year, today.month - 1, today.day - back));
    return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
  });
}

/** The birthdays (month and day) celebrated on `d`: its own, and 29 February on 28 February of a common year. */
function birthdaysOn(d: Day): { month: number; day: number }[] {
  const leap = new Date(Date.UTC(d.year, 1, 29)).getUTCDate() === 29;
  const own = { month: d.month, day: d.day };
  return !leap && d.month === 2 && d.day === 28 ? [own, { month: 2, day: 29 }] : [own];
}

function compareDays(a: Day, b: Day): number {
  return a.year - b.year || a.month - b.month || a.day - b.day;
}

/** The instant a birthday due on `on` is celebrated at: noon there, or now if that is earlier (today). */
function birthdayInstant(on: Day, timeZone: string, now: Date): Date {
  const noon = zonedTimeToUtc({ year: on.year, month: on.month, day: on.day, hour: 12 }, timeZone);
  return noon < now ? noon : now;
}
