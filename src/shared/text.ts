/**
 * Why PostgreSQL cannot store `text` as sent, or undefined when it can: a NUL character (text and
 * jsonb refuse it), or a lone UTF-16 surrogate (not Unicode: json and jsonb refuse it, and text
 * would store U+FFFD instead of what was sent). The API and the CSV import refuse such values.
 *
 * @example textProblem("Bo\u0000b") // "must not contain the NUL character (U+0000)"
 */
export function textProblem(text: string): string | undefined {
  if (text.includes("\u0000")) return "must not contain the NUL character (U+0000)";
  // (`isWellFormed` is in Node 20; TypeScript's library for the ES version we target lacks it.)
  if (!(text as string & { isWellFormed(): boolean }).isWellFormed())
    return "must be valid Unicode text (it holds a lone UTF-16 surrogate)";
  return undefined;
}
