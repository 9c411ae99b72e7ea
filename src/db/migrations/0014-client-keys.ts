import { type Kysely, sql } from "kysely";

/**
 * The keys clients send in the `Idempotency-Key` header are stored as `client:<key>`, apart from
 * the keys the server makes itself (`purchase:<external id>`, `refund:…`, `event:…`,
 * `birthday:<member>:<year>`; src/modules/idempotency/index.ts). The keys stored before this
 * migration are moved into that namespace by what they were used for: every operation a client
 * names by a header key, and none the server names, so a retry sent after the upgrade still finds
 * the request it repeats.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`update idempotency_keys set key = 'client:' || key
    where operation in ('member.create', 'member.adjust', 'reward.redeem', 'voucher.redeem', 'voucher.void')
       or operation like 'program.template.%'`.execute(db);
}
