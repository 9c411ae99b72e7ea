import { parseArgs } from "node:util";
import { type Config, ConfigError, describeDatabase, loadConfig } from "../config.ts";
import type { AppContext } from "../context.ts";
import type { Database } from "../db/database.ts";
import type { DemoInfo } from "../demo.ts";
import { AppError } from "../shared/errors.ts";
import { randomSecret } from "../shared/ids.ts";
import { findBusinessBySlug } from "./businesses.ts";
import { databaseFailure, ExpectedFailure } from "./failures.ts";
import type { ImportCounts, ImportOptions, ImportReport } from "./import.ts";
import {
  ImportFileError,
  ImportUsageError,
  ITEM_COLUMNS,
  MEMBER_COLUMNS,
  PURCHASE_COLUMNS,
} from "./import-format.ts";
import { PHONE_COUNTRIES } from "./phone.ts";
import { createProgress } from "./progress.ts";
import { describeFormat } from "./spreadsheet.ts";
import { startLogLevel } from "./start.ts";

// The engine (the database, the HTTP app, the importers) is loaded by the commands that use it,
// so help, usage errors and a bad setting answer at once.
const engine = {
  server: () => import("../server.ts"),
  database: () => import("../db/database.ts"),
  context: () => import("../context.ts"),
  demo: () => import("../demo.ts"),
  app: () => import("../http/app.ts"),
  importer: () => import("./import.ts"),
};

/** The `regulars` command line: `regulars <command> [options]`, `regulars <command> --help`. */

type Options = NonNullable<Parameters<typeof parseArgs>[0]>["options"];
type Values = Record<string, string | boolean | undefined>;

interface Command {
  summary: string;
  usage: string;
  /** Further help: what it does, columns, exit codes. */
  details?: string;
  options?: Options;
  /** The number of positional arguments it takes. */
  positionals?: number;
  run(values: Values, positionals: string[]): Promise<number>;
}

class UsageError extends Error {}

const ENVIRONMENT = `Environment (all optional):
  PORT (3000), HOST (127.0.0.1), DATA_DIR (./data: the embedded database),
  DATABASE_URL (a PostgreSQL server instead, e.g. postgres://user:pass@host:5432/regulars),
  DATABASE_POOL_SIZE (10), LOG_LEVEL (info; warn for start in a terminal),
  DEMO (on when HOST is this machine's loopback, else off), WEB (true),
  RATE_LIMIT_PER_MINUTE (6000),
  JOBS_INTERVAL_SECONDS (300: points expiry, tier sweep, birthdays, time zone follow-up, answer
      retention; 0 turns them off),
  ANSWER_RETENTION_DAYS (30: days a repeated request gets its first answer back; 0 keeps them),
  TRUST_PROXY (false; true: the one proxy in front, or the proxies' addresses/CIDRs),
  PUBLIC_URL (unset: the address the dashboard was opened on; set it, e.g. https://loyalty.example.com,
    for the join link and QR code on the printed poster),
  POSTER_FONTS (extra .ttf/.otf/.ttc font files for the poster, comma-separated)`;

const EXIT_CODES = `Exit codes: 0 done; 1 failed (a file, the database or the server: the message says why);
  2 usage error (an unknown command, option or business, a missing or wrong argument or setting);
  3 an import finished but refused rows (listed with their line numbers).`;

const FILE_NOTES = `The file is what a spreadsheet saves as CSV: the columns are separated by commas,
semicolons (Excel in the Netherlands, Belgium, Germany and Poland) or tabs, whichever the
header row uses; the report says which. It is UTF-8 (a byte-order mark, as Excel's "CSV UTF-8"
writes, is fine) or UTF-16 with its byte-order mark; a file in the Windows code page (Excel's
plain "CSV") is refused, with the first name read both ways, until --encoding windows-1250
(Polish) or --encoding windows-1252 (Dutch, German) says which it is. Rows whose fields are all
empty are skipped like blank lines.`;

const COLUMN_NOTES = `A header is read in any case, with spaces or hyphens for underscores ("External ID"). Other
columns (a till's notes, an address) are ignored, and the report names them; a name one or two
letters off a known one (emial) refuses the file, saying which it may mean.`;

const IMPORT_NOTES = `Every row goes through the same checks, rules and ledger as the API. Importing a file
again counts nothing twice: rows already imported are skipped. A bad row is refused with
its line number and reason and never stops the import; refused rows are also written to
<file>.rejects.csv, with the file's own separator. A malformed row (a stray or unclosed quote)
is refused by its first line and the import goes on at the next line. A file holds at most
512 MB (split a bigger one, each part with the header row). Exits 0, 3 when rows were refused,
2 for an unknown business or a wrong option, 1 when the file cannot be read. With the embedded
database, stop the server first.`;

const business = { business: { type: "string" as const, short: "b" } };
const encoding = { encoding: { type: "string" as const } };

const COMMANDS: Record<string, Command> = {
  start: {
    summary: "Start the API server",
    usage: "regulars start",
    details: `Opens (and migrates) the database and serves the API, its docs at /docs and the
OpenAPI document at /docs/json. On the first start with DEMO=true and no business yet, it
creates the demo business and prints its logins. Stops gracefully on Ctrl-C (SIGINT) or SIGTERM.
In a terminal, without LOG_LEVEL set, it logs warnings and errors only, so the addresses and
logins it prints stay readable; LOG_LEVEL=info logs every request, as it does by default when
its output goes to a file or a log collector.`,
    run: async () => {
      const config = loadConfig();
      const logLevel = startLogLevel(config.logLevel, process.env, Boolean(process.stdout.isTTY));
      const { startServer } = await engine.server();
      await startServer({ ...config, logLevel });
      if (logLevel !== config.logLevel) {
        console.log(
          "Logging warnings and errors only, in this terminal; LOG_LEVEL=info logs every request.\n",
        );
      }
      return -1; // Keeps running until a signal.
    },
  },

  migrate: {
    summary: "Apply pending database migrations",
    usage: "regulars migrate",
    run: () =>
      withDatabase(async ({ applied }) => {
        console.log(applied.length ? `Applied: ${applied.join(", ")}` : "The database is up to date.");
        return 0;
      }),
  },

  demo: {
    summary: 'Create the demo business "demo-cafe" now (does nothing if it exists)',
    usage: "regulars demo",
    run: () =>
      withDatabase(async ({ ctx, config }) => {
        const { createDemo } = await engine.demo();
        printDemo(await createDemo(ctx), config);
        return 0;
      }),
  },

  "create-business": {
    summary: "Sign up a business with its owner",
    usage:
      "regulars create-business --slug <slug> --name <name> --currency <EUR> --timezone <Europe/Amsterdam>\n" +
      "                         [--locale en|nl|pl|pt-BR] --owner-email <email> --owner-name <name>\n" +
      "                         [--owner-password <password>]",
    details: `The owner's password: from REGULARS_OWNER_PASSWORD in the environment, else --owner-password
(which other users of the machine can read, in ps and in the shell's history), else one is
generated and printed once. The business gets the default program: a point for about what €1 buys, as a round spend
of its currency (€1, 5 zł, 500 Ft, ¥200).`,
    options: {
      slug: { type: "string" },
      name: { type: "string" },
      currency: { type: "string" },
      timezone: { type: "string" },
      locale: { type: "string", default: "en" },
      "owner-email": { type: "string" },
      "owner-name": { type: "string" },
      "owner-password": { type: "string" },
    },
    run: (values) => withDatabase(({ ctx, config }) => createBusiness(ctx, config, values)),
  },

  "import-members": {
    summary: "Import members from a CSV file",
    usage: "regulars import-members <file.csv> --business <slug> [--country NL] [--encoding windows-1250]",
    details: `The CSV has a header row with some of these columns:
  ${MEMBER_COLUMNS.join(", ")}
and under other names a spreadsheet gives them, such as E-mail and Email address (email),
Telefoon, Tel and Mobile (phone), Naam (name), Geboortedatum and Date of birth (birthday),
Customer ID and Klantnummer (external_id).
${COLUMN_NOTES}

marketing_consent (true/false, yes/no, 1/0, ja/nee, tak/nie) is required; a row needs
external_id, email or phone, which recognise the member on a re-run. birthday is YYYY-MM-DD,
locale en/nl/pl/pt-BR, joined_at ISO-8601 with a time zone. Card codes (code) cannot be
imported yet: leave the column empty and members get new codes.

A member imported before (the same external_id, else email or phone) is left as it is when the
row says the same, and changed to what the row says when it differs (an empty cell changes
nothing); the report counts them as updated. marketing_consent may turn to no (a customer who
opted out), never to yes: consent comes from the member, so such a row is refused.

phone is international (+31 6 12345678, 0031 6 12345678) or local to the business's country
(06 12345678 in the Netherlands, 512 345 678 in Poland), stored as +31612345678. The country
is the one of the business's time zone (Europe/Amsterdam NL, Europe/Brussels BE, Europe/Berlin
DE, Europe/Warsaw PL) or --country (${Object.keys(PHONE_COUNTRIES).join(", ")}); without one, or when a number does
not have that country's length, the row is refused with the reason.

${FILE_NOTES}

${IMPORT_NOTES}`,
    options: { ...business, ...encoding, country: { type: "string" } },
    positionals: 1,
    run: (values, [file]) => runImport("importMembers", file, values),
  },

  "import-purchases": {
    summary: "Import purchases from a CSV file",
    usage: "regulars import-purchases <file.csv> --business <slug> [--encoding windows-1250]",
    details: `The CSV has a header row with some of these columns:
  ${PURCHASE_COLUMNS.filter((c) => !(ITEM_COLUMNS as readonly string[]).includes(c)).join(", ")}
and, for line items, ${ITEM_COLUMNS.join(", ")}.
They are also read under other names, such as Order ID (external_id), Customer ID
(member_external_id), Email (member_email), Total and Bedrag (amount), Date and Datum (occurred_at).
${COLUMN_NOTES} A column that names the member in another way (member_id, customer_code) refuses
the file: the purchase would be recorded without its member.
external_id (the purchase's id in the till or shop), currency (the business's own) and
occurred_at are required. The amount is either amount, in major units with a decimal point or
comma (12.50 or 12,50; no thousands separator: 1.234,56 is refused, and so is 1.234, which could
be either), or amount_minor (1250). The member is named by one of member_external_id,
member_code or member_email, or by none for an anonymous purchase. occurred_at is ISO-8601 with
a time zone, or a local "YYYY-MM-DD HH:MM" or a date "YYYY-MM-DD" (noon) on the business's clock.

Line items: with item columns, each row is one line (item_sku required, item_quantity 1 when
empty, item_unit_price like amount or item_unit_price_minor), and the rows with the same
external_id, anywhere in the file, are the lines of one purchase. Its other columns must be the
same on every line that fills them in. Leave amount empty to take the lines' total; an amount
that is not their total is refused (give lines at the price paid, after discounts). A purchase
is imported or refused whole. Without item columns a repeated external_id is the same purchase
again, as before.

${FILE_NOTES}

${IMPORT_NOTES}`,
    options: { ...business, ...encoding },
    positionals: 1,
    run: (values, [file]) => runImport("importPurchases", file, values),
  },

  "import-cdnow": {
    summary: "Import the CDNOW transaction log (members and purchases)",
    usage: "regulars import-cdnow <CDNOW_sample.txt> --business <slug>",
    details: `Reads the CDNOW format (whitespace separated: master id, customer id, date YYYYMMDD,
number of CDs, dollar amount). Each customer becomes a member (external id cdnow-<customer id>,
joined on their first purchase day); each line a purchase in USD (external id
cdnow-<customer id>-<YYYYMMDD>-<n>, the n-th line of that customer on that day, so added or
blank lines change no id; at noon on the business's clock, one item "cd" per CD). Purchases
imported by earlier versions (external id cdnow-<line>) are recognised and skipped. The
business's currency must be USD: otherwise nothing is imported and it exits 2.

${IMPORT_NOTES}`,
    options: business,
    positionals: 1,
    run: (values, [file]) => runImport("importCdnow", file, values),
  },

  expire: {
    summary: "Expire points whose time has come, now",
    usage: "regulars expire [--business <slug>]",
    details: `Expires due points in every business, or only in the one named by --business. Safe to run at
any time and to repeat: each lot of points expires once.`,
    options: business,
    run: (values) =>
      withDatabase(async ({ ctx }) => {
        const slug = values.business as string | undefined;
        const found = slug ? await findBusinessBySlug(ctx.db, slug) : undefined;
        if (slug && !found) throw new UsageError(`No business with the slug "${slug}".`);
        const { runExpiry } = await import("../modules/ledger/index.ts");
        const result = await runExpiry(ctx.db, ctx.clock.now(), found ? { businessId: found.id } : {});
        console.log(`Expired ${result.points} points in ${result.lots} lots.`);
        return 0;
      }),
  },

  "prune-answers": {
    summary: "Let go of the stored answers to idempotent requests older than the retention, now",
    usage: "regulars prune-answers [--days <n>]",
    details: `Sets the answers stored with idempotency keys more than n days ago to null, in every
business (default: ANSWER_RETENTION_DAYS, 30). The keys stay: a request sent again later is
refused with 410 idempotency_answer_expired and is never done twice. The server does this once a
day by itself; this runs it by hand. Safe to repeat.`,
    options: { days: { type: "string" } },
    run: (values) =>
      withDatabase(async ({ config, ctx }) => {
        const raw = values.days as string | undefined;
        if (raw === undefined && config.answerRetentionDays === 0) {
          throw new UsageError(
            "ANSWER_RETENTION_DAYS is 0: answers are kept for good. Pass --days <n> to let go of older ones anyway.",
          );
        }
        const days = raw === undefined ? config.answerRetentionDays : Number(raw);
        if (!/^\d+$/.test(raw ?? String(days)) || days < 1 || days > 36_500) {
          throw new UsageError(`--days must be a whole number of days from 1 to 36500; it is "${raw}".`);
        }
        const { pruneAnswers } = await import("../modules/idempotency/index.ts");
        const result = await pruneAnswers(ctx.db, ctx.clock.now(), days);
        console.log(
          `Let go of ${result.answers} answers older than ${days} days, in ${result.businesses} businesses.`,
        );
        return 0;
      }),
  },
};

function overview(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length));
  return [
    "Regulars — customer-loyalty platform",
    "",
    "Usage: regulars <command> [options]    (regulars <command> --help for more)",
    "",
    "Commands:",
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    "",
    ENVIRONMENT,
    "",
    EXIT_CODES,
  ].join("\n");
}

function commandHelp(command: Command): string {
  return [
    `${command.summary}.`,
    "",
    `Usage: ${command.usage}`,
    ...(command.details ? ["", command.details] : []),
    "",
    ENVIRONMENT,
    "",
    EXIT_CODES,
  ].join("\n");
}

/** Runs one command line; resolves to the exit code (-1: keep running, e.g. the server). */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    const topic = name === "help" ? rest[0] : undefined;
    if (topic !== undefined && !Object.hasOwn(COMMANDS, topic)) return unknownCommand(topic);
    const command = topic ? COMMANDS[topic] : undefined;
    console.log(command ? commandHelp(command) : overview());
    return 0;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) return unknownCommand(name);
  try {
    const { values, positionals } = parseArgs({
      args: rest,
      options: { ...command.options, help: { type: "boolean", short: "h" } },
      allowPositionals: true,
      strict: true,
    });
    if (values.help) {
      console.log(commandHelp(command));
      return 0;
    }
    if (positionals.length !== (command.positionals ?? 0)) {
      throw new UsageError(
        command.positionals
          ? `Expected ${command.positionals} file argument, got ${positionals.length}.`
          : `Unexpected argument "${positionals[0]}".`,
      );
    }
    return await command.run(values as Values, positionals);
  } catch (error) {
    if (error instanceof UsageError || error instanceof ImportUsageError || isParseArgsError(error)) {
      console.error(`${(error as Error).message}\nUsage: ${command.usage}\nSee: regulars ${name} --help`);
      return 2;
    }
    if (error instanceof ConfigError) {
      console.error(error.message);
      return 2;
    }
    const expected = expectedFailure(error);
    if (expected !== undefined) {
      console.error(expected);
      return 1;
    }
    // Not a condition the command knows: a bug, so the stack trace helps.
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    return 1;
  }
}

function unknownCommand(name: string): number {
  console.error(
    `Unknown command "${name}". The commands are: ${Object.keys(COMMANDS).join(", ")}.\nSee: regulars --help`,
  );
  return 2;
}

/**
 * The one-line message for a failure the command expects (a refused operation, a file it cannot
 * read, a database it cannot use or that another process holds, a port in use), or undefined
 * for anything else.
 */
function expectedFailure(error: unknown): string | undefined {
  // Said where it happened: listening, the DATA_DIR, opening or migrating the database.
  if (error instanceof ExpectedFailure) return error.message;
  if (error instanceof ImportFileError) return error.message;
  if (error instanceof AppError) return `Refused (${error.code}): ${error.message}`;
  if (!(error instanceof Error)) return undefined;
  // The database went away while a command worked (the server stopped, the network dropped).
  const lost = databaseFailure(error, loadConfig(), "work");
  if (lost instanceof ExpectedFailure) return lost.message;
  // A file-system or network condition of this machine (no such directory, no permission, disk full).
  const system = error as NodeJS.ErrnoException;
  if (typeof system.code === "string" && typeof system.syscall === "string") return error.message;
  return undefined;
}

function isParseArgsError(error: unknown): boolean {
  return error instanceof TypeError && "code" in error && String(error.code).startsWith("ERR_PARSE_ARGS");
}

interface Session {
  config: Config;
  database: Database;
  ctx: AppContext;
  applied: string[];
}

/** Opens and migrates the configured database for one command, and closes it afterwards. */
async function withDatabase(work: (session: Session) => Promise<number>): Promise<number> {
  const config = loadConfig();
  const [{ openConfiguredDatabase }, { migrateToLatest }, { createContext }, { systemClock }] =
    await Promise.all([engine.server(), engine.database(), engine.context(), import("../shared/clock.ts")]);
  const database = await openConfiguredDatabase(config);
  try {
    let applied: string[];
    try {
      applied = await migrateToLatest(database.db);
    } catch (error) {
      throw databaseFailure(error, config, "migrate");
    }
    return await work({ config, database, ctx: createContext(database.db, systemClock), applied });
  } finally {
    await database.close();
  }
}

async function createBusiness(ctx: AppContext, config: Config, values: Values): Promise<number> {
  const required = ["slug", "name", "currency", "timezone", "owner-email", "owner-name"];
  const missing = required.filter((key) => !values[key]);
  if (missing.length) throw new UsageError(`Missing ${missing.map((m) => `--${m}`).join(", ")}.`);
  // From the environment, a password stays out of `ps` and the shell's history.
  const given = process.env.REGULARS_OWNER_PASSWORD || (values["owner-password"] as string | undefined);
  const generated = given ? undefined : randomSecret().slice(0, 24);
  const password = given ?? (generated as string);
  const { buildApp } = await engine.app();
  const app = await buildApp(ctx);
  try {
    const res = await app.inject({
      method: "POST",
      url: "/v1/businesses",
      headers: { "content-type": "application/json" },
      payload: JSON.stringify({
        slug: values.slug,
        name: values.name,
        // eur is EUR, europe/amsterdam Europe/Amsterdam: the intent is plain.
        currency: String(values.currency).trim().toUpperCase(),
        timezone: timeZoneNamed(String(values.timezone)),
        locale: values.locale,
        owner: { email: values["owner-email"], name: values["owner-name"], password },
      }),
    });
    const body = res.json<{
      business: { id: string; slug: string };
      error?: { code: string; message: string; details?: { issues?: { path: string; message: string }[] } };
    }>();
    if (res.statusCode !== 201) {
      const issues = body.error?.details?.issues ?? [];
      if (issues.length === 0) console.error(`Refused (${body.error?.code}): ${body.error?.message}`);
      else {
        // Said in the command's terms: the option, not the API's body path.
        console.error(`Refused (${body.error?.code}):`);
        for (const issue of issues) console.error(`  ${optionOf(issue.path)}: ${issue.message}`);
      }
      // A wrong argument (a bad currency, a taken slug, a short password) is a usage error.
      return res.statusCode < 500 ? 2 : 1;
    }
    const slug = body.business.slug;
    const email = String(values["owner-email"]).trim().toLowerCase();
    console.log(`Created business "${slug}" (id ${body.business.id}).`);
    console.log(`  Owner     ${email}`);
    if (generated) console.log(`  Password  ${generated}   (generated and shown only now: store it safely)`);
    for (const line of nextSteps(config, slug, email, generated !== undefined)) console.log(line);
    return 0;
  } finally {
    await app.close();
  }
}

/** The create-business option of a field of the API's body: `owner.email` is `--owner-email`. */
function optionOf(path: string): string {
  const option = `--${path.replace(/\./g, "-")}`;
  return Object.hasOwn(COMMANDS["create-business"]?.options ?? {}, option.slice(2))
    ? option
    : path || "the request";
}

/** The time zone `text` names in any case (europe/amsterdam), else `text` as it is. */
function timeZoneNamed(text: string): string {
  const wanted = text.trim().toLowerCase();
  return Intl.supportedValuesOf("timeZone").find((zone) => zone.toLowerCase() === wanted) ?? text.trim();
}

/** What the owner of a new business does next: import customers, start the server, log in. */
function nextSteps(config: Config, slug: string, email: string, generated: boolean): string[] {
  const password = generated ? "the password above" : "your password";
  const login = config.web
    ? `Log in at ${baseUrl(config)}/login: business ${slug}, ${email} and ${password}.`
    : `Log in with POST ${baseUrl(config)}/v1/auth/login (business ${slug}, ${email}, ${password}); the web app is off (WEB=false).`;
  return [
    "",
    "Next:",
    `  1. Import your customers, if you have a list (a spreadsheet saved as CSV; see import-members --help):`,
    `       npm run cli -- import-members customers.csv --business ${slug}`,
    `  2. Start the server: npm start${config.databaseUrl ? "" : " (an import runs while it is stopped)"}`,
    `  3. ${login}`,
  ];
}

function baseUrl(config: Config): string {
  const host = ["0.0.0.0", "::"].includes(config.host) ? "localhost" : config.host;
  return `http://${host.includes(":") ? `[${host}]` : host}:${config.port}`;
}

type Importer = (ctx: AppContext, file: string, options: ImportOptions) => Promise<ImportReport>;

async function runImport(
  name: "importMembers" | "importPurchases" | "importCdnow",
  file: string | undefined,
  values: Values,
): Promise<number> {
  const slug = values.business as string | undefined;
  if (!slug) throw new UsageError("Missing --business <slug>.");
  const importer: Importer = (await engine.importer())[name];
  return withDatabase(async ({ ctx, database, config }) => {
    if (!(await findBusinessBySlug(ctx.db, slug)))
      throw new UsageError(`No business with the slug "${slug}".`);
    const concurrency = database.engine === "postgres" ? Math.min(8, config.databasePoolSize) : 1;
    const startedAt = Date.now();
    console.error(
      `Importing ${file} into "${slug}" (${describeDatabase(config)}, ${concurrency} at a time)…`,
    );
    const stopOnSignal = sayWhatStays();
    let report: ImportReport;
    try {
      report = await importer(ctx, file as string, {
        business: slug,
        concurrency,
        progress: (label, total) => createProgress(label, total),
        ...(typeof values.encoding === "string" ? { encoding: values.encoding } : {}),
        ...(typeof values.country === "string" ? { country: values.country } : {}),
      });
    } finally {
      stopOnSignal();
    }
    const seconds = (Date.now() - startedAt) / 1000;
    printReport(report, seconds, name === "importMembers");
    return refusedCount(report.members) + refusedCount(report.purchases) > 0 ? 3 : 0;
  });
}

/**
 * While an import runs, Ctrl-C (or SIGTERM) says that stopping is safe, then ends the process by
 * that signal, as it would have ended without a word. Each row is its own transaction: what was
 * imported stays, and a re-run skips it. Returns the function that takes the handler off.
 */
function sayWhatStays(): () => void {
  const onSignal = (signal: NodeJS.Signals) => {
    process.stderr.write(
      `\n${signal}: stopped. What was imported stays; run the same command again to finish (nothing is counted twice).\n`,
    );
    process.removeListener("SIGINT", onSignal).removeListener("SIGTERM", onSignal);
    process.kill(process.pid, signal);
  };
  process.on("SIGINT", onSignal).on("SIGTERM", onSignal);
  return () => process.removeListener("SIGINT", onSignal).removeListener("SIGTERM", onSignal);
}

const MAX_REFUSALS_SHOWN = 50;

/** The rows a phase refused: those its report lists and those only the rejects file has. */
function refusedCount(counts: ImportCounts | undefined): number {
  return (counts?.refused.length ?? 0) + (counts?.unlisted ?? 0);
}

function printReport(report: ImportReport, seconds: number, updates: boolean): void {
  const phases = Object.entries({ members: report.members, purchases: report.purchases }).filter(
    (entry): entry is [string, ImportCounts] => entry[1] !== undefined,
  );
  const rows = phases.reduce((sum, [, c]) => sum + c.total, 0);
  if (report.format) console.log(`Read as CSV separated by ${describeFormat(report.format)}.`);
  if (report.ignoredColumns) {
    console.log(
      `Ignored columns (not known to this import, so not read): ${report.ignoredColumns.join(", ")}.`,
    );
  }
  if (report.phones) {
    const { country, from } = report.phones;
    const code = country ? PHONE_COUNTRIES[country]?.callingCode : undefined;
    console.log(
      country
        ? `Local phone numbers read as ${country} (+${code}), ${from === "option" ? "as --country says" : "from the business's time zone; --country changes it"}.`
        : "Local phone numbers (no + and country code) cannot be read: the business's time zone names no country; --country NL (or BE, DE, PL) names one.",
    );
  }
  for (const [label, c] of phases) {
    // A members file is compared with the members it imported before: changes are applied.
    const compared = updates && label === "members";
    const done = compared
      ? `${c.imported} imported, ${c.updated ?? 0} updated, ${c.skipped} skipped as already imported and unchanged`
      : `${c.imported} imported, ${c.skipped} skipped as already imported`;
    console.log(`${`${label}:`.padEnd(11)}${done}, ${refusedCount(c)} refused (of ${c.total})`);
  }
  console.log(
    `${rows} rows in ${seconds.toFixed(1)} s (${Math.round(rows / Math.max(seconds, 0.001))} rows/s)`,
  );
  const refused = phases.flatMap(([, c]) => c.refused).sort((a, b) => a.line - b.line);
  const total = phases.reduce((sum, [, c]) => sum + refusedCount(c), 0);
  if (total === 0) return;
  console.log("\nRefused:");
  // Without a file to hold them (no folder could be written), every one the report has is listed.
  const shown = report.rejectsFile ? refused.slice(0, MAX_REFUSALS_SHOWN) : refused;
  for (const r of shown) console.log(`  line ${r.line}: ${r.code}: ${r.message}`);
  if (total > shown.length) console.log(`  … and ${total - shown.length} more.`);
  console.log(
    report.rejectsFile
      ? `All refused rows, with their reasons: ${report.rejectsFile}`
      : "The refused rows could not be written to a file (neither beside the file nor in the temporary directory).",
  );
}

function printDemo(demo: DemoInfo, config: Config): void {
  if (!demo.created) {
    console.log(`The demo business "${demo.slug}" exists already; nothing changed.`);
    return;
  }
  console.log(
    `Created the demo business "${demo.slug}": ${demo.members} members, ${demo.purchases} purchases.`,
  );
  console.log(`  Owner login    ${demo.ownerEmail} / ${demo.password}`);
  console.log(`  Cashier login  ${demo.cashierEmail} / ${demo.password}`);
  console.log(`  API key        ${demo.apiKey}   (manager role; shown only now)`);
  if (demo.cardPath) {
    console.log(
      `  A customer     ${baseUrl(config)}${demo.cardPath}   (their card, once the server runs${config.web ? "" : " with WEB=true"}; shown only now)`,
    );
  }
}

const code = await main(process.argv.slice(2));
if (code >= 0) process.exitCode = code;
