import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config.ts";

const require = createRequire(import.meta.url);
const MONO = require.resolve("dejavu-fonts-ttf/ttf/DejaVuSansMono.ttf");

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe("POSTER_FONTS", () => {
  it("takes font files that are there, a collection's font named after #", () => {
    expect(problems({ POSTER_FONTS: MONO })).toEqual([]);
    expect(problems({ POSTER_FONTS: `${MONO}, ${MONO}#DejaVuSansMono` })).toEqual([]);
  });

  it("refuses a path that is not a file, naming the variable", () => {
    for (const value of ["/nonexistent/NotoSansCJK-Regular.ttc", `${MONO},/nonexistent.ttf`, "/tmp"]) {
      const [problem, ...rest] = problems({ POSTER_FONTS: value });
      expect(rest).toEqual([]);
      expect(problem).toMatch(/^POSTER_FONTS must be a comma-separated list of font files/);
    }
  });
});
