import { type CompiledQuery, Kysely, PostgresDialect } from "kysely";
import { describe, expect, it } from "vitest";
import { bindText, fillText } from "./sql-text.ts";

// Compiling needs a dialect but no connection.
const db = new Kysely<Record<string, never>>({ dialect: new PostgresDialect({ pool: {} as never }) });

describe("SQL text with slots", () => {
  const text = "select x from t where a = {{a}} and b >= {{b}} and c = '{}' and d::text = {{a}}";

  it("fills slots with expressions", () => {
    expect(fillText(text, { a: "$1", b: "m.id" })).toBe(
      "select x from t where a = $1 and b >= m.id and c = '{}' and d::text = $1",
    );
  });

  it("binds slots as parameters, in order, each use its own", () => {
    const compiled: CompiledQuery = bindText(text, { a: "A", b: 7 }).compile(db);
    expect(compiled.sql).toBe("select x from t where a = $1 and b >= $2 and c = '{}' and d::text = $3");
    expect(compiled.parameters).toEqual(["A", 7, "A"]);
  });

  it("refuses a slot it has nothing for", () => {
    expect(() => fillText(text, { a: "$1" })).toThrow("{{b}}");
    expect(() => bindText(text, { b: 1 })).toThrow("{{a}}");
  });
});
