import { type Kysely, sql } from "kysely";

/**
 * What a purchase changes of a member moves from `members` to a narrow table of its own,
 * `member_state`, one row per member:
 *
 * - `version`: moved by every transaction that changes what the member holds (migration 0003);
 *   updating it is the per-member lock (`getMemberForUpdate`);
 * - `first_purchase_at`, `last_purchase_at`;
 * - the tier metric's running total (`tier_metric_value`, `_from`, `_kind`; migration 0007).
 *
 * Every purchase updated the member's row, and although the update was HOT, PostgreSQL opened
 * all nine indexes of `members` for it and wrote the whole row (attributes included) to the WAL.
 * `member_state` has one index and short rows with room to spare on their pages (fillfactor 50),
 * so the update stays on its page. Replayed in rolled-back transactions on the bench's database,
 * the purchase's write cost 7–15 % less database CPU (docs/benchmarks.md).
 *
 * The tier (`tier_id`, `tier_expires_at`) stays on `members`: it changes only when the member
 * moves up or down. `members.updated_at` now moves with the member's own fields and tier, not
 * with every purchase (`last_purchase_at` says when the member last bought).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of [
    sql`create table member_state (
          business_id uuid not null,
          member_id uuid not null,
          version bigint not null default 0,
          first_purchase_at timestamptz,
          last_purchase_at timestamptz,
          tier_metric_value bigint,
          tier_metric_from timestamptz,
          tier_metric_kind text,
          primary key (business_id, member_id)
        ) with (fillfactor = 50)`,
    sql`insert into member_state (business_id, member_id, version, first_purchase_at, last_purchase_at,
          tier_metric_value, tier_metric_from, tier_metric_kind)
        select business_id, id, version, first_purchase_at, last_purchase_at,
          tier_metric_value, tier_metric_from, tier_metric_kind
        from members`,
    sql`alter table member_state add foreign key (business_id, member_id) references members (business_id, id)`,
    sql`alter table members drop column version, drop column first_purchase_at, drop column last_purchase_at,
          drop column tier_metric_value, drop column tier_metric_from, drop column tier_metric_kind`,
  ]) {
    await statement.execute(db);
  }
}
