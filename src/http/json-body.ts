import { AppError } from "../shared/errors.ts";

/**
 * Parses a request's JSON body, refusing what Fastify's parser refused but saying why:
 * - an empty body, or text that is not JSON: `400 malformed_json`, with the position where the
 *   parse stopped (`details.offset`) when there is one;
 * - valid JSON holding a key `__proto__`, or a `constructor` with a `prototype` in it:
 *   `400 forbidden_property`, naming it. Such keys are how a body changes the prototype of the
 *   server's objects once they are merged; Fastify refused them too, as "not valid JSON".
 *
 * @example parseJsonBody('{"name":"Anna"}') // { name: "Anna" }
 */
export function parseJsonBody(text: string): unknown {
  if (text.trim() === "") {
    throw new AppError(400, "malformed_json", "The body is empty; send a JSON object.");
  }
  let value: unknown;
  try {
    // Keys can hide behind escapes (`"\u005f_proto__"`): only a body with neither escapes nor
    // the names themselves is safe to parse without looking at every key.
    value = mayHideForbiddenKey(text) ? JSON.parse(text, refuseForbiddenKeys) : JSON.parse(text);
  } catch (error) {
    if (error instanceof AppError) throw error;
    const message = String((error as Error).message);
    const position = /position (\d+)/.exec(message)?.[1];
    // V8 names a position for most mistakes; for an unexpected character (`{"a":x}`) it names the
    // character only, and for a body cut short neither.
    const token = /^Unexpected token '(.{1,2})'/u.exec(message)?.[1];
    throw new AppError(
      400,
      "malformed_json",
      position !== undefined
        ? `The body is not valid JSON: the parse stopped at offset ${position} (counting from 0).`
        : token !== undefined
          ? `The body is not valid JSON: the parse stopped at an unexpected ${JSON.stringify(token)}.`
          : /end of JSON input/.test(message)
            ? "The body is not valid JSON: it ends too early."
            : "The body is not valid JSON.",
      position === undefined ? undefined : { offset: Number(position) },
    );
  }
  return value;
}

function mayHideForbiddenKey(text: string): boolean {
  return text.includes("\\u") || text.includes("__proto__") || text.includes("constructor");
}

function refuseForbiddenKeys(key: string, value: unknown): unknown {
  const property =
    key === "__proto__"
      ? "__proto__"
      : key === "constructor" && typeof value === "object" && value !== null && "prototype" in value
        ? "constructor.prototype"
        : null;
  if (property) {
    throw new AppError(
      400,
      "forbidden_property",
      `The body holds a key "${property}", which is refused: such a key could change how the server's objects behave. Send the body without it.`,
      { property },
    );
  }
  return value;
}
