import { sql } from "kysely";
import type { Db } from "../../src/db/database.ts";

/**
 * A digest of every row of one business, table by table (every table with a `business_id`): two
 * equal digests mean nothing of the business changed in between.
 */
export async function digestOf(db: Db, businessId: string): Promise<Record<string, string>> {
  const tables = await sql<{ table_name: string }>`
    select table_name from information_schema.columns
    where column_name = 'business_id' and table_schema = current_schema() order by table_name`.execute(db);
  const out: Record<string, string> = {};
  for (const { table_name } of tables.rows) {
    const row = await sql<{ d: string | null }>`
      select md5(string_agg(x::text, ',' order by x::text)) as d from ${sql.table(table_name)} x
      where business_id = ${businessId}`.execute(db);
    out[table_name] = row.rows[0]?.d ?? "empty";
  }
  return out;
}
