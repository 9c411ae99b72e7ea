import { describe, expect, it } from "vitest";
import { AppError } from "../shared/errors.ts";
import { parseJsonBody } from "./json-body.ts";

function refusal(text: string): { code: string; message: string; details?: unknown } {
  try {
    parseJsonBody(text);
  } catch (error) {
    if (error instanceof AppError)
      return { code: error.code, message: error.message, details: error.details };
    throw error;
  }
  throw new Error(`accepted: ${text}`);
}

describe("a request's JSON body", () => {
  it.each([
    ['{"name":"Anna","tags":["a"],"n":1.5}', { name: "Anna", tags: ["a"], n: 1.5 }],
    ['{"note":"the constructor of the shop"}', { note: "the constructor of the shop" }],
    ['{"constructor":"Bob the builder"}', { constructor: "Bob the builder" }],
    ['{"constructor":{"name":"Bob"}}', { constructor: { name: "Bob" } }],
    ['{"name":"caf\\u00e9"}', { name: "café" }],
    ["[1,2]", [1, 2]],
  ])("parses %s", (text, value) => {
    expect(parseJsonBody(text)).toEqual(value);
  });

  it.each([
    ['{"__proto__":{"admin":true}}', "__proto__"],
    ['{"a":{"b":[{"__proto__":{"x":1}}]}}', "__proto__"],
    ['{"\\u005f_proto__":{"admin":true}}', "__proto__"],
    ['{"constructor":{"prototype":{"admin":true}}}', "constructor.prototype"],
    ['{"attributes":{"constructor":{"prototype":1}}}', "constructor.prototype"],
    ['{"\\u0063onstructor":{"\\u0070rototype":{}}}', "constructor.prototype"],
  ])("refuses %s, naming %s", (text, property) => {
    expect(refusal(text)).toMatchObject({ code: "forbidden_property", details: { property } });
  });

  it.each([
    ["", "The body is empty; send a JSON object.", undefined],
    ["  \n", "The body is empty; send a JSON object.", undefined],
    [
      "{not json",
      "The body is not valid JSON: the parse stopped at offset 1 (counting from 0).",
      { offset: 1 },
    ],
    [
      '{"a":1}x',
      "The body is not valid JSON: the parse stopped at offset 7 (counting from 0).",
      { offset: 7 },
    ],
    ['{"a":', "The body is not valid JSON: it ends too early.", undefined],
    // A stray character where a value belongs: named, not taken for a body cut short.
    ['{"external_id":x}', 'The body is not valid JSON: the parse stopped at an unexpected "x".', undefined],
  ])("refuses %j as malformed_json", (text, message, details) => {
    expect(refusal(text)).toEqual({ code: "malformed_json", message, details });
  });
});
