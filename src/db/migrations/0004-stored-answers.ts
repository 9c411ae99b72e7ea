import { type Kysely, sql } from "kysely";

/**
 * The answer stored with an idempotency key becomes text, the JSON exactly as it was sent:
 * - writing it costs nothing but the copy, where `jsonb` parsed every answer into a tree: parsing
 *   JSON was 11 % of the database's CPU on the purchase bench (perf), most of it the answers;
 * - a replay sends back the very bytes of the first answer;
 * - nothing ever queried inside it.
 *
 * Rows up to a page (8160 bytes) stay in the table as they are, rather than being compressed
 * from 2 kB on: a purchase's answer is 1.5-3 kB, and compressing the longer ones took 4 % of the
 * database's CPU on the bench. Together: 0.72-0.78 ms of backend CPU per purchase, from 0.82.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table idempotency_keys alter column response type text using response::text`.execute(db);
  await sql`alter table idempotency_keys set (toast_tuple_target = 8160)`.execute(db);
}
