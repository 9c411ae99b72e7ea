import { type RawBuilder, sql } from "kysely";

/**
 * A SQL fragment written once, as text with named slots (`{{member}}`), for two kinds of caller:
 * a query built with Kysely fills the slots with bound values (`bindText`), and a constant
 * prepared statement fills them with its own expressions, `$1` or `m.id` (`fillText`). So a
 * module's definition (the tier metric, a rule's cap usage, the rewards on offer) has one text.
 *
 * @example fillText("member_id = {{member}}", { member: "m.id" }) // "member_id = m.id"
 */
const SLOT = /\{\{(\w+)\}\}/g;

/** The text with each slot replaced by the given SQL expression. */
export function fillText(text: string, expressions: Record<string, string>): string {
  return text.replace(SLOT, (_, name: string) => {
    const expression = expressions[name];
    if (expression === undefined) throw new Error(`no expression for the slot {{${name}}}`);
    return expression;
  });
}

/** The text as a Kysely fragment, each slot bound to the given value as a parameter. */
export function bindText<T>(text: string, values: Record<string, unknown>): RawBuilder<T> {
  const pieces = text.split(SLOT);
  const parts = pieces.map((piece, i) => {
    if (i % 2 === 0) return sql.raw(piece);
    if (!(piece in values)) throw new Error(`no value for the slot {{${piece}}}`);
    return sql`${values[piece]}`;
  });
  return sql<T>`${sql.join(parts, sql.raw(""))}`;
}
