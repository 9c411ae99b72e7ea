import type { LogLevel } from "../config.ts";

/**
 * The log level `regulars start` runs at. The server logs two JSON lines per request at info
 * (Fastify's request log); in a terminal they push the banner — the addresses and logins the
 * person who just started it needs — off the screen within a page load or two. So in a terminal,
 * when LOG_LEVEL is not set, the server logs warnings and errors only (failed jobs, unhandled
 * errors: what needs a look). Anywhere else (a service manager, a container's log collector),
 * and whenever LOG_LEVEL is set, it logs at the configured level, info by default.
 *
 * @example startLogLevel("info", {}, true) // "warn"
 */
export function startLogLevel(configured: LogLevel, env: NodeJS.ProcessEnv, terminal: boolean): LogLevel {
  return terminal && !env.LOG_LEVEL ? "warn" : configured;
}
