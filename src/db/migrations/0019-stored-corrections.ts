import { type Kysely, sql } from "kysely";

/**
 * Two corrections of what earlier releases stored:
 *
 * - **Phones with a trunk 0 after the calling code.** "+44 (0)20 7946 0958" was stored as
 *   `+4402079460958` for every country but the Netherlands, Belgium and Germany; it is now read as
 *   `+442079460958`, so a lookup by it found no one and enrolling it again made a second member.
 *   The 0 is dropped for calling codes whose national numbers never start with 0 (not Italy's,
 *   where it is part of the number), unless another member of the business already has the
 *   corrected number: that pair is left for the business to merge.
 * - **Pending points that expired before they could be spent.** With a pending period and an
 *   expiry at the end of a month or year, the expiry was counted from the earning, so points
 *   earned late in a month expired before they became spendable. Open lots whose expiry is not
 *   after their release get the expiry counted from the release, under the program's policy.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const codes = [
    "1",
    "27",
    "30",
    "33",
    "34",
    "36",
    "40",
    "41",
    "43",
    "44",
    "45",
    "46",
    "47",
    "48",
    "61",
    "64",
    "351",
    "352",
    "353",
    "358",
    "420",
    "421",
  ];
  for (const code of codes) {
    const prefix = `+${code}0`;
    await sql`update members m set phone = ${`+${code}`} || substr(m.phone, ${prefix.length + 1})
      where m.phone like ${`${prefix}%`} and length(m.phone) > ${prefix.length + 5}
        and not exists (select from members o where o.business_id = m.business_id
          and o.phone = ${`+${code}`} || substr(m.phone, ${prefix.length + 1}))`.execute(db);
  }
  await sql`update ledger_lots l set expires_at = case p.config #>> '{points,expiry,policy}'
      when 'end_of_month' then (date_trunc('month', l.available_at at time zone b.timezone)
        + make_interval(months => (p.config #>> '{points,expiry,months_after}')::int + 1)) at time zone b.timezone
      else (date_trunc('year', l.available_at at time zone b.timezone)
        + make_interval(years => (p.config #>> '{points,expiry,years_after}')::int + 1)) at time zone b.timezone
    end
    from programs p, businesses b
    where p.business_id = l.business_id and b.id = l.business_id
      and l.points_remaining > 0 and l.expires_at <= l.available_at
      and p.config #>> '{points,expiry,policy}' in ('end_of_month', 'end_of_year')`.execute(db);
}
