import { sql } from "kysely";
import type { AppContext } from "../context.ts";
import { onceInTransaction } from "../modules/idempotency/index.ts";
import { getMemberForUpdate } from "../modules/members/index.ts";
import { refreshTier } from "../modules/tiers/metric.ts";
import { zonedParts } from "../shared/time.ts";
import { creditPricing } from "./events.ts";
import { priceEvent } from "./price-purchase.ts";

/**
 * Gives today's birthday members of every business with birthday rules what those rules say, once
 * a year: the idempotency key `birthday:<member>:<year>` makes a second run the same day (or on
 * another node) a no-op. "Today" is the business's own date; a member born on 29 February
 * celebrates on 28 February in other years. One member's failure does not cost the others their
 * day: the run goes on, and fails at its end naming how many failed and the first error, so the
 * scheduler logs it and the next run (the same day) tries them again.
 */
export async function runBirthdays(
  ctx: AppContext,
  now: Date,
  batchSize = 200,
): Promise<{ members: number }> {
  const businesses = await ctx.db
    .selectFrom("earning_rules as r")
    .innerJoin("businesses as b", "b.id", "r.business_id")
    .select(["r.business_id", "b.timezone"])
    .distinct()
    .where("r.trigger", "=", "birthday")
    .where("r.active", "=", true)
    .where("r.archived_at", "is", null)
    .execute();
  let members = 0;
  const failures: { business: string; member: string; error: unknown }[] = [];
  for (const business of businesses) {
    const today = zonedParts(now, business.timezone);
    const leap = new Date(Date.UTC(today.year, 1, 29)).getUTCDate() === 29;
    const alsoLeapDay = !leap && today.month === 2 && today.day === 28;
    let after = "00000000-0000-0000-0000-000000000000";
    for (let batch = 0; batch < 10_000; batch++) {
      const due = await ctx.db
        .selectFrom("members")
        .select("id")
        .where("business_id", "=", business.business_id)
        .where("birthday", "is not", null)
        .where((eb) =>
          eb.or([
            eb.and([
              eb(sql`extract(month from birthday)`, "=", today.month),
              eb(sql`extract(day from birthday)`, "=", today.day),
            ]),
            ...(alsoLeapDay
              ? [
                  eb.and([
                    eb(sql`extract(month from birthday)`, "=", 2),
                    eb(sql`extract(day from birthday)`, "=", 29),
                  ]),
                ]
              : []),
          ]),
        )
        .where("id", ">", after)
        .orderBy("id")
        .limit(batchSize)
        .execute();
      for (const { id } of due) {
        try {
          const { replayed } = await onceInTransaction(
            ctx.db,
            business.business_id,
            `birthday:${id}:${today.year}`,
            "member.birthday",
            { member_id: id, year: today.year },
            now,
            async (tx) => {
              const locked = await getMemberForUpdate(tx, business.business_id, id);
              const snapshot = await ctx.snapshots.load(tx, business.business_id);
              // Tier rules see the tier as it stands now (one whose retention ended, re-evaluated).
              const member = await refreshTier(tx, snapshot, locked, now);
              const subject = { ...member, attributes: member.attributes as Record<string, unknown> };
              const pricing = await priceEvent(
                tx,
                snapshot,
                subject,
                { type: "birthday", properties: {}, occurred_at: now },
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
                  source_id: String(today.year),
                  occurred_at: now,
                },
                now,
              );
              return { status: 200, body: { points: pricing.total_points } };
            },
          );
          if (!replayed) members++;
        } catch (error) {
          failures.push({ business: business.business_id, member: id, error });
        }
      }
      const last = due.at(-1);
      if (!last || due.length < batchSize) break;
      after = last.id;
    }
  }
  const first = failures[0];
  if (first) {
    const why = first.error instanceof Error ? first.error.message : String(first.error);
    throw new Error(
      `Birthdays: ${failures.length} of ${members + failures.length} members failed (the others got their treat); the first, member ${first.member} of business ${first.business}: ${why}`,
      { cause: first.error },
    );
  }
  return { members };
}
