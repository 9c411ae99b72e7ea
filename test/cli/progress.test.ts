import { describe, expect, it } from "vitest";
import { createProgress } from "../../src/cli/progress.ts";

function stream(isTTY: boolean) {
  const written: string[] = [];
  return {
    written,
    stream: { isTTY, write: (s: string) => written.push(s) } as unknown as NodeJS.WriteStream,
  };
}

describe("progress", () => {
  it("writes a line at every tenth of the way when stderr is not a terminal", () => {
    const out = stream(false);
    let now = 0;
    const progress = createProgress("purchases", 20, out.stream, () => now);
    for (let i = 0; i < 20; i++) {
      now += 100;
      progress.tick();
    }
    progress.finish();
    expect(out.written).toHaveLength(10);
    expect(out.written[0]).toBe("purchases: 10% 2/20 rows 10/s\n");
    expect(out.written[9]).toBe("purchases: 100% 20/20 rows 10/s\n");
  });

  it("redraws a bar in place on a terminal, at most ten times a second", () => {
    const out = stream(true);
    let now = 1_000;
    const progress = createProgress("members", 10, out.stream, () => now);
    for (let i = 0; i < 10; i++) {
      now += 50;
      progress.tick();
    }
    progress.finish();
    expect(out.written.length).toBeLessThan(10);
    expect(out.written.at(-2)).toBe(`\rmembers [${"#".repeat(30)}] 10/10 rows 20/s\x1b[K`);
    expect(out.written.at(-1)).toBe("\n");
  });
});
