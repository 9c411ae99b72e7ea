import { statSync } from "node:fs";
import { isIP } from "node:net";
import { resolve } from "node:path";
import { z } from "zod";
import { parseFontFiles } from "./modules/launch-kit/font-files.ts";

/**
 * The server's and the CLI's configuration, read from environment variables. Every variable has a
 * default, so `npm start` works with none set; a bad value stops the program with a message that
 * names the variable and what it accepts.
 */

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface Config {
  port: number;
  host: string;
  /** Absolute path of the PGlite directory; unused when `databaseUrl` is set. */
  dataDir: string;
  /** A PostgreSQL server to use instead of PGlite; may hold a password: print it with `maskUrl`. */
  databaseUrl: string | null;
  databasePoolSize: number;
  logLevel: LogLevel;
  /**
   * Create the demo business on the first start, when the database has no business yet. Unset
   * (`DEMO`), on only when HOST is this machine's loopback: the demo's logins are public.
   */
  demo: boolean;
  /** Serve the web app at `/` (built from web/ on start when missing or stale). */
  web: boolean;
  rateLimitPerMinute: number;
  /** Seconds between runs of points expiry and the tier sweep; 0 turns the schedule off. */
  jobsIntervalSeconds: number;
  /** Days the answer to an idempotent request is kept for replays; 0 keeps them for good. */
  answerRetentionDays: number;
  /** Which proxies to believe about the client's address (per-IP limits, logs); false: none. */
  /** Fastify's `trustProxy`: off, one hop (`TRUST_PROXY=true`), or the proxies' addresses. */
  trustProxy: false | 1 | string[];
  /**
   * Where customers reach the web app (`https://loyalty.example.com`): the join link and its QR code
   * on the launch kit's poster. Null: the address the dashboard was opened on.
   */
  publicUrl: string | null;
}

/** Thrown by `loadConfig` with one line per invalid variable. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

const int = (min: number, max: number, what: string) => {
  const error = `must be ${what}: a whole number from ${min} to ${max}`;
  return z
    .string()
    .regex(/^\d+$/, { error })
    .transform(Number)
    .pipe(z.number().min(min, { error }).max(max, { error }));
};

const TRUE = ["true", "1", "yes", "on"];
const FALSE = ["false", "0", "no", "off"];

const Env = z.object({
  PORT: int(0, 65_535, "a TCP port").default(3000),
  HOST: z
    .string()
    .refine(isHost, {
      error:
        "must be an address of this machine to listen on: 127.0.0.1 (this machine only), 0.0.0.0 (every IPv4 address), :: (every address), one of its IP addresses, or a host name such as localhost (no brackets, port or http://)",
    })
    .default("127.0.0.1"),
  DATA_DIR: z.string().min(1).default("./data"),
  DATABASE_URL: z
    .string()
    .refine((v) => URL.canParse(v) && /^postgres(ql)?:$/.test(new URL(v).protocol), {
      error: "must be a PostgreSQL URL such as postgres://user:password@host:5432/regulars",
    })
    .optional(),
  DATABASE_POOL_SIZE: int(1, 1000, "the number of connections").default(10),
  LOG_LEVEL: z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(", ")}` }).default("info"),
  DEMO: z
    .string()
    .toLowerCase()
    .refine((v) => TRUE.includes(v) || FALSE.includes(v), {
      error: `must be true or false (also accepted: ${[...TRUE, ...FALSE].join(", ")})`,
    })
    .transform((v) => TRUE.includes(v))
    .optional(),
  WEB: z
    .string()
    .toLowerCase()
    .refine((v) => TRUE.includes(v) || FALSE.includes(v), {
      error: `must be true or false (also accepted: ${[...TRUE, ...FALSE].join(", ")})`,
    })
    .transform((v) => TRUE.includes(v))
    .default(true),
  RATE_LIMIT_PER_MINUTE: int(1, 10_000_000, "requests per minute per credential").default(6000),
  JOBS_INTERVAL_SECONDS: int(0, 86_400, "seconds between runs of the scheduled jobs (0: off)").default(300),
  ANSWER_RETENTION_DAYS: int(0, 36_500, "days an idempotent request's answer is kept (0: for good)").default(
    30,
  ),
  TRUST_PROXY: z
    .string()
    .refine(
      (v) =>
        TRUE.includes(v.toLowerCase()) ||
        FALSE.includes(v.toLowerCase()) ||
        v.split(",").every(isProxyAddress),
      {
        error: `must be true or false (also accepted: ${[...TRUE, ...FALSE].join(", ")}), or a comma-separated list of proxy IP addresses or CIDRs such as 10.0.0.0/8`,
      },
    )
    // `true` believes one hop, the proxy in front: it appends the address it saw to
    // X-Forwarded-For, and anything left of that was written by the client, who could name any
    // address and so escape the per-IP limits.
    .transform((v): false | 1 | string[] =>
      TRUE.includes(v.toLowerCase())
        ? 1
        : FALSE.includes(v.toLowerCase())
          ? false
          : v.split(",").map((a) => a.trim()),
    )
    .default(false),
  PUBLIC_URL: z
    .string()
    .refine(
      (v) =>
        URL.canParse(v) &&
        /^https?:$/.test(new URL(v).protocol) &&
        new URL(v).pathname === "/" &&
        !new URL(v).search &&
        !new URL(v).hash &&
        !new URL(v).username,
      { error: "must be the web app's origin, such as https://loyalty.example.com (no path)" },
    )
    .transform((v) => new URL(v).origin)
    .optional(),
  // Read by the poster itself when it first draws a text (src/modules/launch-kit/fonts.ts); checked
  // here so a wrong path stops the start with this message rather than posters quietly doing
  // without that font.
  POSTER_FONTS: z
    .string()
    .refine((v) => parseFontFiles(v).every((file) => isFile(file.path)), {
      error:
        "must be a comma-separated list of font files (.ttf, .otf, or .ttc with #PostScriptName to pick one of its fonts), each one present",
    })
    .optional(),
});

function isFile(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false })?.isFile() ?? false;
}

/**
 * An IP address, or a name that could be a host's (letters, digits and hyphens between dots). A
 * name only looks like an address here; whether it resolves to one of this machine's is found
 * when the server listens. Digits and dots alone (999.1.1.1) are a mistyped IPv4 address.
 */
function isHost(text: string): boolean {
  if (isIP(text) !== 0) return true;
  if (/^[\d.]+$/.test(text) || text.length > 253) return false;
  return text
    .replace(/\.$/, "")
    .split(".")
    .every((label) => /^[a-z\d](?:[a-z\d-]{0,61}[a-z\d])?$/i.test(label));
}

/**
 * Whether a HOST to listen on is this machine's own loopback (127.0.0.0/8, ::1, localhost), which
 * no other machine can reach.
 *
 * @example isLoopbackHost("127.0.0.1") // true; isLoopbackHost("0.0.0.0") // false
 */
export function isLoopbackHost(host: string): boolean {
  const name = host.toLowerCase().replace(/\.$/, "");
  if (name === "localhost" || name.endsWith(".localhost") || name === "::1") return true;
  return isIP(name) === 4 && name.startsWith("127.");
}

/** An IP address (v4 or v6) or a CIDR range of them, as a trusted proxy is named. */
function isProxyAddress(text: string): boolean {
  const [address = "", prefix, ...rest] = text.trim().split("/");
  const version = isIP(address);
  if (version === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (version === 4 ? 32 : 128);
}

/**
 * Reads the configuration from environment variables (unset or empty ones take their default).
 * Throws a `ConfigError` listing every invalid variable.
 *
 * @example const config = loadConfig(process.env) // { port: 3000, host: "127.0.0.1", ... }
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const present = Object.fromEntries(
    Object.keys(Env.shape).flatMap((key) => {
      const value = env[key]?.trim();
      return value ? [[key, value]] : [];
    }),
  );
  const parsed = Env.safeParse(present);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const key = String(issue.path[0]);
        // A database URL may carry a password: never echo it back.
        const got = key === "DATABASE_URL" ? "" : ` (got "${present[key]}")`;
        return `${key} ${issue.message}${got}`;
      }),
    );
  }
  const e = parsed.data;
  return {
    port: e.PORT,
    host: e.HOST,
    dataDir: resolve(e.DATA_DIR),
    databaseUrl: e.DATABASE_URL ?? null,
    databasePoolSize: e.DATABASE_POOL_SIZE,
    logLevel: e.LOG_LEVEL,
    // The demo's logins are in the README: on by default only where no one else can reach them.
    demo: e.DEMO ?? isLoopbackHost(e.HOST),
    web: e.WEB,
    rateLimitPerMinute: e.RATE_LIMIT_PER_MINUTE,
    jobsIntervalSeconds: e.JOBS_INTERVAL_SECONDS,
    answerRetentionDays: e.ANSWER_RETENTION_DAYS,
    trustProxy: e.TRUST_PROXY,
    publicUrl: e.PUBLIC_URL ?? null,
  };
}

/**
 * A database URL safe to print: the password replaced by `***`.
 *
 * @example maskUrl("postgres://app:s3cret@db:5432/regulars") // "postgres://app:***@db:5432/regulars"
 */
export function maskUrl(url: string): string {
  if (!URL.canParse(url)) return "(invalid URL)";
  const parsed = new URL(url);
  if (parsed.password) parsed.password = "***";
  for (const key of [...parsed.searchParams.keys()]) {
    if (/pass|secret|key/i.test(key)) parsed.searchParams.set(key, "***");
  }
  return parsed.toString();
}

/** Where the data lives, for banners and logs: the PGlite directory or the masked server URL. */
export function describeDatabase(config: Config): string {
  return config.databaseUrl
    ? `PostgreSQL ${maskUrl(config.databaseUrl)} (pool ${config.databasePoolSize})`
    : `PGlite (embedded) in ${config.dataDir}`;
}
