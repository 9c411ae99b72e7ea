import { type Kysely, sql } from "kysely";

/**
 * The wallet's keys, as 0014 left them, moved to where the wallet looks for them. The wallet
 * stores a member's redemption under `wallet:<member>:<client key>` and a join under
 * `join:<client key>`, and since 0014 the client key is `client:<key as sent>`: today's keys are
 * `wallet:<member>:client:<key>` and `join:client:<key>`. Migration 0014 put `client:` in front
 * of the whole stored key instead (`client:wallet:<member>:<key>`, `client:join:<key>`), where no
 * retry finds it: a wallet's retry after a lost answer would have redeemed again. A key already
 * present in today's form (a retry made in between) is kept, and the old one left as it is.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`update idempotency_keys k
    set key = regexp_replace(k.key, '^client:wallet:([0-9a-f-]{36}):', 'wallet:\\1:client:')
    where k.operation = 'reward.redeem' and k.key ~ '^client:wallet:[0-9a-f-]{36}:'
      and not exists (select from idempotency_keys n where n.business_id = k.business_id
        and n.key = regexp_replace(k.key, '^client:wallet:([0-9a-f-]{36}):', 'wallet:\\1:client:'))`.execute(
    db,
  );
  await sql`update idempotency_keys k
    set key = 'join:client:' || substr(k.key, length('client:join:') + 1)
    where k.operation = 'member.create' and k.key like 'client:join:%'
      and not exists (select from idempotency_keys n where n.business_id = k.business_id
        and n.key = 'join:client:' || substr(k.key, length('client:join:') + 1))`.execute(db);
}
