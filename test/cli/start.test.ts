import { describe, expect, it } from "vitest";
import { startLogLevel } from "../../src/cli/start.ts";

describe("the log level of regulars start", () => {
  it("logs warnings and errors only in a terminal, unless LOG_LEVEL says otherwise", () => {
    expect(startLogLevel("info", {}, true)).toBe("warn");
    expect(startLogLevel("info", { LOG_LEVEL: "info" }, true)).toBe("info");
    expect(startLogLevel("debug", { LOG_LEVEL: "debug" }, true)).toBe("debug");
    // Not a terminal (a service manager, a log collector): the configured level, info by default.
    expect(startLogLevel("info", {}, false)).toBe("info");
  });
});
