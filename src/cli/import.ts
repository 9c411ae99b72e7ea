import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { CsvError, parse } from "csv-parse/sync";
import type { z } from "zod";
import type { Actor, AppContext } from "../context.ts";
import type { BusinessesTable } from "../db/schema.ts";
import { CreateMemberInput, lookupMember, MemberLookup } from "../modules/members/index.ts";
import { AppError, conflict, invalid } from "../shared/errors.ts";
import { isCurrency, minorDigits } from "../shared/money.ts";
import { textProblem } from "../shared/text.ts";
import { zonedParts, zonedTimeToUtc } from "../shared/time.ts";
import { enrollMember } from "../use-cases/member-points.ts";
import { PurchaseInput, recordPurchase } from "../use-cases/purchases.ts";
import { findBusinessBySlug } from "./businesses.ts";
import {
  ImportFileError,
  ImportUsageError,
  ITEM_COLUMNS,
  MEMBER_COLUMNS,
  PURCHASE_COLUMNS,
} from "./import-format.ts";
import { countryOfTimeZone, PHONE_COUNTRIES, toE164 } from "./phone.ts";
import type { Progress } from "./progress.ts";
import {
  decodeText,
  detectSeparator,
  type FileFormat,
  FileFormatError,
  formatMinor,
  type Separator,
  textDecoder,
  toMinorUnits,
} from "./spreadsheet.ts";

/**
 * CSV and CDNOW imports. Every row goes through the same use cases as the API (`enrollMember`,
 * `recordPurchase`) as the system actor `system:import`, so rules, the ledger, stamps and tiers
 * apply, and external ids make a re-run count nothing twice. A bad row is refused with an error
 * code and a reason in the file's terms (its line, columns and values) and never stops the import.
 */

/** A row the import refused: its line in the file, why, and its fields (for the rejects file). */
export interface Refusal {
  line: number;
  code: string;
  message: string;
  record: string[];
}

export interface ImportCounts {
  total: number;
  imported: number;
  /** Rows already imported by an earlier run (same external id), left as they were. */
  skipped: number;
  refused: Refusal[];
}

export interface ImportReport {
  members?: ImportCounts;
  purchases?: ImportCounts;
  /** `<file>.rejects.csv` when rows were refused, else null. */
  rejectsFile: string | null;
  /** How a CSV file was read: its separator and encoding (absent for the CDNOW log). */
  format?: FileFormat;
  /**
   * The country whose local phone numbers a members file was read in, and where that came from;
   * absent when the file has no phone column.
   */
  phones?: { country: string | null; from: "option" | "time zone" | "none" };
}

export interface ImportOptions {
  /** The slug of the business to import into. */
  business: string;
  /** Rows in flight at once: 1 on PGlite (one connection), about 8 on PostgreSQL. */
  concurrency?: number;
  /** Makes a progress reporter per phase (members, purchases); none by default. */
  progress?: (label: string, total: number) => Progress;
  /**
   * The file's encoding when it is not UTF-8 (windows-1250, windows-1252); a file that is not
   * UTF-8 is refused without it. A byte-order mark always decides.
   */
  encoding?: string;
  /**
   * Members: the country (NL, BE, DE, PL) whose local phone numbers ("06 12345678") the file
   * holds; by default the country of the business's time zone.
   */
  country?: string;
}

export { ImportFileError, ImportUsageError, ITEM_COLUMNS, MEMBER_COLUMNS, PURCHASE_COLUMNS };

/**
 * Largest file an import reads. The file is parsed in memory, at about 35 times its size at the
 * peak (measured: a 95 MB file of 2.2 million purchase lines took 3.3 GB): 30 MB, some 600,000
 * lines, stays near 1 GB, within Node's default heap on a small machine. A bigger file is split.
 */
export const MAX_IMPORT_BYTES = 30 * 1024 * 1024;

/**
 * Imports members from a CSV with a header row (columns: `MEMBER_COLUMNS`). A member whose
 * external id (or, without one, email or phone) is already there is skipped. A local phone
 * number ("06 12345678") is read in the country of `options.country` or of the business's time
 * zone (see `phone.ts`) and stored as E.164.
 *
 * @example await importMembers(ctx, "members.csv", { business: "cafe-anna" })
 */
export async function importMembers(
  ctx: AppContext,
  file: string,
  options: ImportOptions,
): Promise<ImportReport> {
  const business = await requireBusiness(ctx, options.business);
  const chosen = options.country?.toUpperCase();
  if (chosen !== undefined && !Object.hasOwn(PHONE_COUNTRIES, chosen)) {
    throw new ImportUsageError(
      `--country "${options.country}": local phone numbers can be read for ${Object.keys(PHONE_COUNTRIES).join(", ")}. Numbers of other countries need + and the country code in the file; leave out --country.`,
    );
  }
  const country = chosen ?? countryOfTimeZone(business.timezone) ?? null;
  const csv = readCsv(file, MEMBER_COLUMNS, ["marketing_consent"], options.encoding);
  const actor = importActor(business);
  const phoneKey = (raw: string) => {
    const read = toE164(raw, country ?? undefined);
    return "phone" in read ? read.phone : raw;
  };
  const members = await runRows(
    "members",
    csv.rows,
    options,
    (row) => [
      row.values.external_id && `external_id:${row.values.external_id}`,
      row.values.email && `email:${row.values.email.toLowerCase()}`,
      row.values.phone && `phone:${phoneKey(row.values.phone)}`,
    ],
    async (row) => {
      try {
        return await enrol(ctx, actor, memberInput(row.values, country ?? undefined));
      } catch (error) {
        throw inCsvTerms(error, row.values);
      }
    },
    csv.refused,
  );
  return {
    members,
    rejectsFile: writeRejects(file, csv.columns, members.refused, csv.format),
    format: csv.format,
    ...(csv.columns.includes("phone")
      ? { phones: { country, from: chosen ? "option" : country ? "time zone" : "none" } as const }
      : {}),
  };
}

/**
 * Imports purchases from a CSV with a header row (columns: `PURCHASE_COLUMNS`; `amount` in major
 * units such as 12.50 or 12,50, or `amount_minor`). A purchase whose external id was imported
 * before is skipped; the same external id with different content is refused
 * (`external_id_reused`, naming the earlier line when it is in the same file).
 *
 * With item columns (`ITEM_COLUMNS`), a row is a line of a purchase, and the rows with the same
 * external id, wherever they are in the file, are the lines of one purchase. Its other columns
 * must agree on every line that fills them in (a line may leave them empty); its amount, when
 * given, must be what the lines add up to, and is their total when left empty. A purchase is
 * imported or refused whole: a refusal names every line of it.
 *
 * @example await importPurchases(ctx, "purchases.csv", { business: "cafe-anna", concurrency: 8 })
 */
export async function importPurchases(
  ctx: AppContext,
  file: string,
  options: ImportOptions,
): Promise<ImportReport> {
  const business = await requireBusiness(ctx, options.business);
  const csv = readCsv(file, PURCHASE_COLUMNS, ["external_id", "currency", "occurred_at"], options.encoding);
  const withItems = csv.columns.some((c) => (ITEM_COLUMNS as readonly string[]).includes(c));
  const priced = ["amount", "amount_minor", "item_unit_price", "item_unit_price_minor"];
  if (!csv.columns.some((c) => priced.includes(c))) {
    throw new ImportFileError(
      `${file}: the header needs an amount or an amount_minor column (or item_unit_price with the item columns).`,
    );
  }
  const actor = importActor(business);
  const groups = inTimeOrder(
    withItems ? purchaseGroups(csv.rows) : csv.rows.map((row) => ({ ...row, lines: [row] })),
    business.timezone,
  );
  const firstLine = new Map<string, number>();
  for (const group of groups) {
    const id = group.values.external_id;
    if (id !== undefined && !firstLine.has(id)) firstLine.set(id, group.line);
  }
  const purchases = await runRows(
    "purchases",
    groups,
    options,
    (group) =>
      group.lines.flatMap(({ values }) => [
        values.external_id && `purchase:${values.external_id}`,
        values.member_external_id && `external_id:${values.member_external_id}`,
        values.member_code && `code:${values.member_code.toUpperCase()}`,
        values.member_email && `email:${values.member_email.toLowerCase()}`,
      ]),
    async (group) => {
      try {
        const { input, member } = purchaseInput(group, business);
        const memberId = member ? await resolveMember(ctx, business.id, member) : undefined;
        return await recordImported(ctx, actor, {
          ...input,
          ...(memberId ? { member_id: memberId } : {}),
        });
      } catch (error) {
        throw ofPurchase(group, purchaseRefusal(error, group, firstLine, today(ctx, business.timezone)));
      }
    },
    csv.refused,
  );
  return {
    purchases,
    rejectsFile: writeRejects(file, csv.columns, purchases.refused, csv.format),
    format: csv.format,
  };
}

/**
 * Records a purchase of the file. One imported before is skipped, however long ago: once its
 * stored answer has been let go (ANSWER_RETENTION_DAYS) the same purchase again is a
 * `410 idempotency_answer_expired`, which still means it is there.
 */
async function recordImported(ctx: AppContext, actor: Actor, input: PurchaseInput): Promise<Outcome> {
  try {
    const { replayed } = await recordPurchase(ctx, actor, input);
    return replayed ? "skipped" : "imported";
  } catch (error) {
    if (error instanceof AppError && error.code === "idempotency_answer_expired") return "skipped";
    throw error;
  }
}

/** Today's date (`YYYY-MM-DD`) on the business's clock. */
function today(ctx: AppContext, timeZone: string): string {
  const { year, month, day } = zonedParts(ctx.clock.now(), timeZone);
  return `${year}-${String(month).padStart(2, "0")}-${String(day).padStart(2, "0")}`;
}

/** Says why a purchase was refused in the file's terms (`todayDate`: the business's today). */
function purchaseRefusal(
  error: unknown,
  group: PurchaseGroup,
  firstLine: Map<string, number>,
  todayDate: string,
): unknown {
  if (error instanceof AppError && error.code === "idempotency_key_reused") {
    const id = group.values.external_id;
    const first = firstLine.get(id ?? "") ?? group.line;
    return conflict(
      "external_id_reused",
      first < group.line
        ? `Row ${group.line} repeats external_id ${id} of line ${first} with different values.`
        : `external_id ${id} was imported or recorded before with different values; a new purchase needs a new external_id.`,
    );
  }
  // A date alone counts at noon on that day: today's, imported in the morning, is hours ahead.
  const day = group.values.occurred_at ?? "";
  if (error instanceof AppError && error.code === "occurred_at_in_future" && day === todayDate) {
    return new AppError(
      error.status,
      error.code,
      `occurred_at ${day} is a date alone, which counts at 12:00 on that day, and that is still ahead: give the purchase's time (${day} 09:30), or import it after 12:00.`,
    );
  }
  return inCsvTerms(error, group.values, (path) => PURCHASE_PATHS[path]?.(group.values) ?? path);
}

/** A refusal of a purchase of several lines names the purchase and its lines, on each of them. */
function ofPurchase(group: PurchaseGroup, error: unknown): unknown {
  if (!(error instanceof AppError) || group.lines.length < 2) return error;
  const lines = group.lines.map((l) => l.line);
  const named = `${lines.slice(0, -1).join(", ")} and ${lines.at(-1)}`;
  return new AppError(
    error.status,
    error.code,
    `Purchase ${group.values.external_id} (lines ${named}): ${error.message}`,
    error.details,
  );
}

/**
 * The rows of a file with item columns, as purchases: the rows with one external id are its
 * lines, in file order, wherever they are; the purchase's columns are taken from whichever line
 * fills them in. A row without an external id is a purchase of its own (and refused for it).
 */
function purchaseGroups(rows: CsvRow[]): PurchaseGroup[] {
  const byId = new Map<string, CsvRow[]>();
  const groups: CsvRow[][] = [];
  for (const row of rows) {
    const id = row.values.external_id;
    const lines = id === undefined ? undefined : byId.get(id);
    if (lines) {
      lines.push(row);
      continue;
    }
    const fresh = [row];
    if (id !== undefined) byId.set(id, fresh);
    groups.push(fresh);
  }
  return groups.map((lines) => {
    const [first] = lines as [CsvRow];
    const values: Record<string, string> = {};
    for (const line of lines) {
      for (const [column, value] of Object.entries(line.values)) {
        if (!(ITEM_COLUMNS as readonly string[]).includes(column)) values[column] ??= value;
      }
    }
    return { line: first.line, record: first.record, values, lines };
  });
}

/**
 * Imports the CDNOW transaction log (whitespace separated: master id, customer id, YYYYMMDD,
 * number of CDs, dollar amount): one member per customer (external id `cdnow-<customer id>`,
 * joined on their first purchase day), one purchase per line (external id
 * `cdnow-<customer id>-<YYYYMMDD>-<n>`, the n-th line of that customer on that day, so blank or
 * added lines elsewhere change no id; at noon in the business's time zone, one item "cd" per
 * CD). Amounts are in USD: a business with another currency is refused before anything is
 * imported. Purchases an earlier version imported as `cdnow-<line>` are recognised by member,
 * day and amount and skipped.
 *
 * @example await importCdnow(ctx, "CDNOW_sample.txt", { business: "cd-shop", concurrency: 8 })
 */
export async function importCdnow(
  ctx: AppContext,
  file: string,
  options: ImportOptions,
): Promise<ImportReport> {
  const business = await requireBusiness(ctx, options.business);
  if (business.currency !== "USD") {
    throw new ImportUsageError(
      `The CDNOW log is in US dollars; the business "${business.slug}" records purchases in ${business.currency}, so nothing was imported. Import it into a business whose currency is USD (create-business --currency USD).`,
    );
  }
  const actor = importActor(business);
  const lines = readBytes(file).toString("utf8").split(/\r?\n/);
  const parsed: CdnowRow[] = [];
  const malformed: Refusal[] = [];
  lines.forEach((text, index) => {
    if (text.trim() === "") return;
    const row = parseCdnowLine(text, index + 1);
    if ("code" in row) malformed.push(row);
    else parsed.push(row);
  });

  const customers = new Map<string, CdnowRow>();
  for (const row of parsed) {
    const first = customers.get(row.customer);
    if (!first || row.date < first.date) customers.set(row.customer, row);
  }
  const memberIds = new Map<string, string>();
  const members = await runRows(
    "members",
    [...customers.values()].map((row) => ({ line: row.line, record: row.record, row })),
    options,
    (item) => [item.row.customer],
    async ({ row }) => {
      const input = parseOrRefuse(CreateMemberInput, {
        external_id: `cdnow-${row.customer}`,
        marketing_consent: false,
        joined_at: noon(row.date, business.timezone),
      });
      return enrol(ctx, actor, input, (id) => memberIds.set(row.customer, id));
    },
    [],
  );
  const perDay = new Map<string, number>();
  const items = parsed.map((row) => {
    const day = `${row.customer}-${row.date}`;
    const n = (perDay.get(day) ?? 0) + 1;
    perDay.set(day, n);
    return { line: row.line, record: row.record, row, externalId: `cdnow-${day}-${n}` };
  });
  const legacy = await legacyCdnowPurchases(ctx, business.id);
  const purchases = await runRows(
    "purchases",
    items,
    options,
    (item) => [item.row.customer],
    async ({ row, externalId }) => {
      const memberId = memberIds.get(row.customer);
      if (!memberId) {
        throw new AppError(
          404,
          "member_not_found",
          `Customer ${row.customer} was not imported as a member (see the members report).`,
        );
      }
      const occurredAt = noon(row.date, business.timezone);
      const legacyKey = `${memberId}|${occurredAt}|${row.amountMinor}`;
      const legacyLeft = legacy.get(legacyKey) ?? 0;
      if (legacyLeft > 0) {
        legacy.set(legacyKey, legacyLeft - 1);
        return "skipped";
      }
      const input = parseOrRefuse(PurchaseInput, {
        external_id: externalId,
        member_id: memberId,
        amount_minor: row.amountMinor,
        currency: "USD",
        items: cdLines(row.amountMinor, row.cds),
        occurred_at: occurredAt,
      });
      return recordImported(ctx, actor, input);
    },
    malformed,
  );
  const refused = [...members.refused, ...purchases.refused].sort((a, b) => a.line - b.line);
  return { members, purchases, rejectsFile: writeRejects(file, ["record"], refused) };
}

type Outcome = "imported" | "skipped";

/** A row of the file: the line it starts on and its fields. */
interface FileRow {
  line: number;
  record: string[];
}

interface CsvRow extends FileRow {
  values: Record<string, string>;
}

/**
 * A purchase and its rows (one without item columns; its lines with them): the first row's line
 * and fields, and the purchase's columns taken from whichever line fills them in.
 */
interface PurchaseGroup extends CsvRow {
  lines: CsvRow[];
}

interface CdnowRow {
  line: number;
  record: string[];
  customer: string;
  /** YYYYMMDD */
  date: string;
  cds: number;
  amountMinor: number;
}

/**
 * The purchases an earlier version imported from a CDNOW log with the line number as external id
 * (`cdnow-<line>`), counted by member, time and amount. A row that matches one is skipped (and
 * uses it up), so re-running a log imported before imports nothing twice.
 */
async function legacyCdnowPurchases(ctx: AppContext, businessId: string): Promise<Map<string, number>> {
  const rows = await ctx.db
    .selectFrom("purchases")
    .select(["external_id", "member_id", "occurred_at", "amount_minor"])
    .where("business_id", "=", businessId)
    .where("external_id", "like", "cdnow-%")
    .execute();
  const counts = new Map<string, number>();
  for (const row of rows) {
    if (!/^cdnow-\d+$/.test(row.external_id)) continue;
    const key = `${row.member_id}|${new Date(row.occurred_at).toISOString()}|${Number(row.amount_minor)}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

function importActor(business: BusinessesTable): Actor {
  return { businessId: business.id, kind: "system", id: "import", role: "owner" };
}

async function requireBusiness(ctx: AppContext, slug: string): Promise<BusinessesTable> {
  const business = await findBusinessBySlug(ctx.db, slug);
  if (!business) throw new ImportUsageError(`No business with the slug "${slug}".`);
  return business;
}

function readBytes(file: string): Buffer {
  if (!existsSync(file)) throw new ImportFileError(`${file}: no such file.`);
  const size = statSync(file).size;
  if (size > MAX_IMPORT_BYTES) {
    throw new ImportFileError(
      `${file} is ${size} bytes; an import reads at most ${MAX_IMPORT_BYTES} (30 MB) at once, as it holds the file in memory. Split it into files of fewer lines, each with the header row, and import them one after the other (the members first).`,
    );
  }
  return readFileSync(file);
}

/**
 * Parses a CSV with a header row, in UTF-8 (or `encoding`), separated by commas, semicolons or
 * tabs, whichever the header uses (see `spreadsheet.ts`). Unknown or missing required columns
 * refuse the whole file; a malformed record or one with the wrong number of fields is refused on
 * its own, by its first line. A row whose fields are all empty (spreadsheets leave them after
 * the last row) is skipped like a blank line.
 */
function readCsv(
  file: string,
  allowed: readonly string[],
  required: readonly string[],
  encoding?: string,
): { columns: string[]; rows: CsvRow[]; refused: Refusal[]; format: FileFormat } {
  if (encoding !== undefined) {
    try {
      textDecoder(encoding);
    } catch (error) {
      if (error instanceof FileFormatError) throw new ImportUsageError(error.message);
      throw error;
    }
  }
  let format: FileFormat;
  let text: string;
  try {
    const decoded = decodeText(readBytes(file), encoding);
    const detected = detectSeparator(decoded.text);
    // Excel for Mac's "CSV (Macintosh)" ends its lines with CR alone.
    text =
      detected.text.includes("\r") && !detected.text.includes("\n")
        ? detected.text.replace(/\r/g, "\n")
        : detected.text;
    format = { separator: detected.separator, encoding: decoded.encoding, bom: decoded.bom };
  } catch (error) {
    if (error instanceof FileFormatError) throw new ImportFileError(`${file}: ${error.message}`);
    throw error;
  }
  const pieces = splitCsv(text, format.separator);
  const headerAt = pieces.findIndex((piece) => "fields" in piece);
  const header = pieces[headerAt];
  const broken = pieces.find((piece) => "problem" in piece);
  if (broken && "problem" in broken && (!header || broken.line < header.line)) {
    throw new ImportFileError(
      `${file}: the header row (line ${broken.line}) is not valid CSV: ${broken.problem(`field ${broken.field + 1}`)}`,
    );
  }
  if (!header || !("fields" in header)) throw new ImportFileError(`${file} is empty: it needs a header row.`);
  // A column with no name in the header is Excel's empty column past the data (a header ending in
  // a separator): allowed while its rows leave it empty too.
  const columns = header.fields.map((c) => c.trim().toLowerCase());
  const unknown = columns.filter((c) => c !== "" && !allowed.includes(c) && !REPORT_COLUMNS.test(c));
  if (unknown.length > 0) {
    throw new ImportFileError(
      `${file}: unknown column(s) ${unknown.join(", ")}. The columns are: ${allowed.join(", ")}.`,
    );
  }
  const repeated = columns.filter((c, i) => c !== "" && columns.indexOf(c) !== i);
  if (repeated.length > 0) {
    throw new ImportFileError(
      `${file}: the header names ${[...new Set(repeated)].join(", ")} more than once.`,
    );
  }
  const missing = required.filter((c) => !columns.includes(c));
  if (missing.length > 0) {
    throw new ImportFileError(`${file}: the header lacks the required column(s) ${missing.join(", ")}.`);
  }
  const rows: CsvRow[] = [];
  const refused: Refusal[] = [];
  for (const piece of pieces.slice(headerAt + 1)) {
    if ("problem" in piece) {
      refused.push({
        line: piece.line,
        code: "csv_malformed",
        message: piece.problem(
          piece.field < columns.length ? `Column ${columns[piece.field]}` : `Field ${piece.field + 1}`,
        ),
        record: piece.text.split(format.separator),
      });
      continue;
    }
    const { line, lastLine, fields: record } = piece;
    if (record.every((field) => field === "")) continue;
    if (record.length !== columns.length) {
      const span =
        lastLine > line ? ` It runs from line ${line} to line ${lastLine}: is a quote not closed?` : "";
      refused.push({
        line,
        code: "csv_field_count",
        message: `The row has ${record.length} fields; the header has ${columns.length}.${span}`,
        record,
      });
      continue;
    }
    const unnamed = columns.findIndex((column, i) => column === "" && (record[i] ?? "") !== "");
    if (unnamed >= 0) {
      refused.push({
        line,
        code: "csv_unnamed_column",
        message: `Field ${unnamed + 1} holds "${record[unnamed]}", but its column has no name in the header.`,
        record,
      });
      continue;
    }
    // Text the database cannot store (a NUL character) is this row's problem, not the import's.
    const bad = record.findIndex((field) => textProblem(field) !== undefined);
    if (bad >= 0) {
      refused.push({
        line,
        code: "csv_invalid_text",
        message: `${columns[bad] ? `Column ${columns[bad]}` : `Field ${bad + 1}`} ${textProblem(record[bad] ?? "")}.`,
        record,
      });
      continue;
    }
    const values: Record<string, string> = {};
    columns.forEach((column, i) => {
      const value = record[i] ?? "";
      if (column !== "" && value !== "" && !REPORT_COLUMNS.test(column)) values[column] = value;
    });
    rows.push({ line, record, values });
  }
  return { columns, rows, refused, format };
}

/**
 * The columns a rejects file adds (`line`, `error_code`, `error_message`, `extra_N`): ignored, so
 * the rejects file, once corrected, imports as it is.
 */
const REPORT_COLUMNS = /^(line|error_code|error_message|extra_\d+)$/;

/** A record of a CSV file: the line it starts on, the line it ends on, its fields. */
interface CsvRecord {
  line: number;
  lastLine: number;
  fields: string[];
}

/**
 * A line that is not valid CSV: where it starts, its text, the field (0-based) where it breaks and
 * the reason, given the name of that field's column.
 */
interface CsvProblem {
  line: number;
  text: string;
  field: number;
  problem: (column: string) => string;
}

/**
 * Splits CSV (RFC 4180, comma separated or by `separator`; a quoted value may hold separators,
 * doubled quotes and line breaks; read by csv-parse) into records, each with the lines it spans. Whitespace around a value
 * is dropped; blank lines are skipped; a BOM is dropped. A record that is not valid CSV becomes a
 * problem of its first line only, and reading goes on at the next line: a stray or unclosed quote
 * costs that one line, never the rest of the file.
 *
 * csv-parse cannot resume after a bad quote by itself (it reads on as if inside the quotes, and an
 * unclosed quote swallows the rest of the file; with skip_records_with_error, a character after a
 * closing quote even ends the parse silently), so on an error this parses again from the line
 * after the broken record's first line, on the same bytes (no copy).
 *
 * @example splitCsv('a,b\n1,"x, y"\n') // [{ line: 1, lastLine: 1, fields: ["a", "b"] }, { line: 2, lastLine: 2, fields: ["1", "x, y"] }]
 */
export function splitCsv(csv: string | Buffer, separator: Separator = ","): (CsvRecord | CsvProblem)[] {
  const bytes = typeof csv === "string" ? Buffer.from(csv) : csv;
  const pieces: (CsvRecord | CsvProblem)[] = [];
  let from = 0; // the byte this parse starts at
  let next = 0; // the byte the next record starts at
  let line = 1; // the line it starts on
  while (from < bytes.length) {
    try {
      parse(bytes.subarray(from), {
        bom: from === 0,
        delimiter: separator,
        trim: true,
        relax_column_count: true,
        // Only LF ends a record, as in the line numbers; the CR of a CRLF is trimmed as whitespace.
        record_delimiter: "\n",
        // Blank lines come through as records (no skip_empty_lines), so each record runs from
        // where the one before ended to `bytes`: its line breaks keep the line numbers right.
        on_record: (record, { bytes: end }) => {
          const start = next;
          next = from + end;
          let lastLine = line;
          for (
            let at = bytes.indexOf(10, start);
            at !== -1 && at < next - 1;
            at = bytes.indexOf(10, at + 1)
          ) {
            lastLine++;
          }
          const blank = record.length === 1 && bytes.toString("utf8", start, next).trim() === "";
          if (!blank) pieces.push({ line, lastLine, fields: record });
          line = lastLine + 1;
          return null;
        },
      });
      break;
    } catch (error) {
      if (!(error instanceof CsvError)) throw error;
      const newline = bytes.indexOf(10, next);
      const end = newline === -1 ? bytes.length : newline;
      const text = bytes.toString("utf8", next, end).replace(/\r$/, "");
      pieces.push({ line, text, ...quotingProblem(error, bytes, from, separator) });
      line++;
      from = next = end + 1;
    }
  }
  return pieces;
}

const SEPARATOR_WORDS: Record<Separator, string> = { ",": "comma", ";": "semicolon", "\t": "tab" };

const QUOTING_HELP = 'Wrap a value that has a quote in quotes and double the quote inside: "12"" pizza".';

/**
 * Says a csv-parse error in the file's terms: the field (0-based) it is in and why. `from` is the
 * byte the parse that failed started at.
 */
function quotingProblem(
  error: CsvError,
  bytes: Buffer,
  from: number,
  separator: Separator,
): { field: number; problem: (column: string) => string } {
  const field = typeof error.column === "number" ? error.column : 0;
  const say = (problem: string) => ({ field, problem: (column: string) => `${column}: ${problem}` });
  switch (error.code) {
    case "CSV_QUOTE_NOT_CLOSED":
      return say(`the quote that opens its value is never closed. ${QUOTING_HELP}`);
    case "INVALID_OPENING_QUOTE" as CsvError["code"]: // csv-parse 7 spells it without CSV_
      return say(`a quote inside a value that is not quoted. ${QUOTING_HELP}`);
    case "CSV_INVALID_CLOSING_QUOTE":
    case "CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE": {
      // The error names only the first byte of the character after the closing quote, so it is
      // read from the value's first line (the value starts after the comma at `error.bytes`). No
      // closing quote on that line: the value runs on to a later line, where the problem is.
      // csv-parse trims only one-byte whitespace after a closing quote: the character is the
      // first after that (a no-break space after a closing quote is what it refuses).
      const valueStart = from + Number(error.bytes) + (field > 0 ? 1 : 0);
      const newline = bytes.indexOf(10, valueStart);
      const value = bytes.toString("utf8", valueStart, newline === -1 ? bytes.length : newline);
      const after = /^\s*"(?:[^"]|"")*"(?!")[\t-\r ]*([\s\S])/u.exec(value)?.[1];
      return after === undefined
        ? say(`the quote that opens its value is not closed on this line. ${QUOTING_HELP}`)
        : say(
            `"${after}" follows the closing quote of the value, where a ${SEPARATOR_WORDS[separator]} should be. ${QUOTING_HELP}`,
          );
    }
    default:
      return say(`${error.message}. ${QUOTING_HELP}`);
  }
}

/**
 * Runs `work` over the rows, `concurrency` lanes at once. Rows that share a key (the same member,
 * the same external id) land in one lane and run one after another in file order, so a member's
 * purchases count in order and two rows never race for one key. An `AppError` refuses the row;
 * any other error (the database went away) stops the import: rows done so far are committed,
 * and a re-run skips them.
 */
async function runRows<R extends FileRow & { lines?: FileRow[] }>(
  label: string,
  rows: R[],
  options: ImportOptions,
  keysOf: (row: R) => (string | undefined)[],
  work: (row: R) => Promise<Outcome>,
  refusedBefore: Refusal[],
): Promise<ImportCounts> {
  // A purchase of several lines counts as its lines: the report is in rows of the file.
  const linesOf = (row: R): FileRow[] => row.lines ?? [row];
  const counts: ImportCounts = {
    total: rows.reduce((sum, row) => sum + linesOf(row).length, 0) + refusedBefore.length,
    imported: 0,
    skipped: 0,
    refused: [...refusedBefore],
  };
  const lanes = Math.max(1, Math.min(options.concurrency ?? 1, 64));
  const queues: R[][] = Array.from({ length: lanes }, () => []);
  const groupOf = keyGroups(rows.map((row) => keysOf(row).filter((k): k is string => Boolean(k))));
  rows.forEach((row, i) => {
    queues[hash(groupOf(i) ?? `line:${row.line}`) % lanes]?.push(row);
  });
  // The bar counts what the report counts: the rows refused before this phase are done already.
  const progress = options.progress?.(label, counts.total);
  for (const _ of refusedBefore) progress?.tick();
  let failed = false;
  const lanesDone = await Promise.allSettled(
    queues.map(async (queue) => {
      for (const row of queue) {
        if (failed) return;
        try {
          counts[await work(row)] += linesOf(row).length;
        } catch (error) {
          if (!(error instanceof AppError)) {
            failed = true;
            throw error;
          }
          for (const { line, record } of linesOf(row)) {
            counts.refused.push({ line, code: error.code, message: error.message, record });
          }
        }
        for (const _ of linesOf(row)) progress?.tick();
      }
    }),
  );
  progress?.finish();
  // Every lane has stopped by now: the caller may close the database safely.
  const failure = lanesDone.find((lane) => lane.status === "rejected");
  if (failure) throw failure.reason;
  counts.refused.sort((a, b) => a.line - b.line);
  return counts;
}

/**
 * Union-find over the rows' keys: rows that share a key, directly or through other rows, get the
 * same group name (one of their keys); a row without keys gets undefined.
 */
function keyGroups(keysByRow: string[][]): (row: number) => string | undefined {
  const parent = new Map<string, string>();
  const find = (key: string): string => {
    let root = key;
    while (parent.get(root) !== root) root = parent.get(root) ?? root;
    for (let k = key; k !== root; ) {
      const next = parent.get(k) ?? root;
      parent.set(k, root);
      k = next;
    }
    return root;
  };
  for (const keys of keysByRow) {
    for (const key of keys) if (!parent.has(key)) parent.set(key, key);
    const [first, ...rest] = keys;
    if (first === undefined) continue;
    for (const key of rest) parent.set(find(key), find(first));
  }
  return (row) => {
    const first = keysByRow[row]?.[0];
    return first === undefined ? undefined : find(first);
  };
}

/** FNV-1a: spreads lane keys evenly and the same way on every run. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Validates with the API's schema; a failure is a `validation_failed` refusal naming the field. */
function parseOrRefuse<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const path = issue?.path.join(".") ?? "";
  throw new AppError(400, "validation_failed", `${path ? `${path}: ` : ""}${issue?.message}`, {
    issues: parsed.error.issues.map((i) => ({ path: i.path.join("."), message: i.message })),
  });
}

/** The purchase fields whose column in the file has another name. */
const PURCHASE_PATHS: Record<string, (values: Record<string, string>) => string> = {
  amount_minor: (values) => (values.amount !== undefined ? "amount" : "amount_minor"),
  code: () => "member_code",
  email: () => "member_email",
};

/** Import-specific wording for a column whose API message does not fit a file. */
const COLUMN_MESSAGES: Record<string, string> = {
  occurred_at:
    "must be an ISO-8601 date-time with a time zone (2026-02-01T10:00:00+01:00), a local date-time (2026-02-01 10:00) or a date (2026-02-01)",
};

/**
 * Says a validation refusal in the file's terms, the column and its value, instead of the API's
 * body path: `email "anna@": must be an email address`. Other errors pass unchanged.
 */
function inCsvTerms(
  error: unknown,
  values: Record<string, string>,
  columnOf: (path: string) => string = (path) => path,
): unknown {
  if (!(error instanceof AppError) || error.code !== "validation_failed") return error;
  const issue = (error.details?.issues as { path: string; message: string }[] | undefined)?.[0];
  if (!issue?.path) return error;
  const column = columnOf(issue.path);
  const value = values[column];
  const message = (COLUMN_MESSAGES[column] ?? issue.message).replace(/\.$/, "");
  return new AppError(
    error.status,
    error.code,
    `${column}${value === undefined ? "" : ` "${value}"`}: ${message}.`,
    error.details,
  );
}

// Also in Dutch (ja/nee) and Polish (tak/nie): the owners' own spreadsheets say so.
const YES = ["true", "yes", "1", "y", "ja", "j", "tak", "t"];
const NO = ["false", "no", "0", "n", "nee", "nie"];

/** A member row as the API's input; a local phone number is read in `country` (see `toE164`). */
function memberInput(values: Record<string, string>, country: string | undefined): CreateMemberInput {
  if (values.code) {
    throw invalid(
      "member_code_not_supported",
      "Importing card codes is not supported yet: leave the code column empty and the member gets a new code.",
    );
  }
  const consent = values.marketing_consent?.toLowerCase();
  if (!consent) {
    throw new AppError(
      400,
      "validation_failed",
      "marketing_consent is empty: every row needs the member's yes or no to marketing messages (true/false, yes/no, 1/0).",
    );
  }
  if (!YES.includes(consent) && !NO.includes(consent)) {
    throw new AppError(
      400,
      "validation_failed",
      `marketing_consent "${values.marketing_consent}": must be true/false, yes/no, 1/0, ja/nee or tak/nie.`,
    );
  }
  let phone = values.phone;
  if (phone !== undefined) {
    const read = toE164(phone, country);
    if ("problem" in read) throw invalid("invalid_phone", `phone "${phone}" ${read.problem}`);
    phone = read.phone;
  }
  const input = parseOrRefuse(CreateMemberInput, {
    ...values,
    ...(phone === undefined ? {} : { phone }),
    marketing_consent: YES.includes(consent),
  });
  if (!input.external_id && !input.email && !input.phone) {
    throw invalid(
      "member_key_missing",
      "The row needs an external_id, email or phone, so that importing it again does not enrol the member twice.",
    );
  }
  return input;
}

/**
 * Enrols a member through the API's use case (so the signup rules apply) unless one with the same
 * external id (or, without one, email or phone) exists. Rows with one key run one after another
 * (see `runRows`), so the check cannot race with another row of the file.
 */
async function enrol(
  ctx: AppContext,
  actor: Actor,
  input: CreateMemberInput,
  onMember?: (memberId: string) => void,
): Promise<Outcome> {
  const field = input.external_id ? "external_id" : input.email ? "email" : "phone";
  const value = input[field];
  const existing = value
    ? await ctx.db
        .selectFrom("members")
        .select("id")
        .where("business_id", "=", actor.businessId)
        .where(field, "=", value)
        .executeTakeFirst()
    : undefined;
  const id = existing?.id ?? (await enrollMember(ctx, actor, input, undefined)).body.id;
  onMember?.(id);
  return existing ? "skipped" : "imported";
}

type MemberRef = { external_id: string } | { code: string } | { email: string };

/** The columns of a purchase that every line of it shares (all but the item columns). */
const PURCHASE_WIDE = PURCHASE_COLUMNS.filter((c) => !(ITEM_COLUMNS as readonly string[]).includes(c));

/**
 * A CDNOW purchase's CDs as line items that add up to what was paid: the log gives a count and a
 * total, so the cent left over by an uneven split goes to some of the CDs (`3 CDs for 10.00`:
 * two at 3.33, one at 3.34).
 *
 * @example cdLines(1000, 3) // [{ …, quantity: 2, unit_price_minor: 333 }, { …, quantity: 1, unit_price_minor: 334 }]
 */
export function cdLines(
  amountMinor: number,
  cds: number,
): { sku: string; name: string; quantity: number; unit_price_minor: number }[] {
  if (cds <= 0) return [];
  const base = Math.floor(amountMinor / cds);
  const dearer = amountMinor - base * cds;
  const line = (quantity: number, unit_price_minor: number) => ({
    sku: "cd",
    name: "CD",
    quantity,
    unit_price_minor,
  });
  return [
    ...(cds - dearer > 0 ? [line(cds - dearer, base)] : []),
    ...(dearer > 0 ? [line(dearer, base + 1)] : []),
  ];
}

/**
 * The purchases oldest first (a till's export is often newest first): a member's first purchase,
 * and whatever a rule gives for it, must be their earliest, whatever the file's order. Equal
 * times keep the file's order; a row whose time cannot be read goes last, to be refused.
 */
function inTimeOrder<G extends { values: Record<string, string> }>(groups: G[], timeZone: string): G[] {
  const at = (group: G): number => {
    try {
      const time = Date.parse(occurredAt(group.values.occurred_at ?? "", timeZone));
      return Number.isNaN(time) ? Number.POSITIVE_INFINITY : time;
    } catch {
      return Number.POSITIVE_INFINITY;
    }
  };
  return groups
    .map((group, place) => ({ group, place, time: at(group) }))
    .sort((a, b) => (a.time === b.time ? a.place - b.place : a.time < b.time ? -1 : 1))
    .map((x) => x.group);
}

function purchaseInput(
  group: PurchaseGroup,
  business: BusinessesTable,
): { input: PurchaseInput; member: MemberRef | undefined } {
  const { values } = group;
  for (const column of PURCHASE_WIDE) {
    const given = group.lines.filter((l) => l.values[column] !== undefined);
    const other = given.find((l) => l.values[column] !== given[0]?.values[column]);
    if (other && given[0]) {
      throw invalid(
        "purchase_lines_disagree",
        `its lines disagree on ${column}: "${given[0].values[column]}" on line ${given[0].line}, "${other.values[column]}" on line ${other.line}. The lines of one purchase share its external_id and have the same ${column} (or leave it empty).`,
      );
    }
  }
  const refs: MemberRef[] = [];
  if (values.member_external_id) refs.push({ external_id: values.member_external_id });
  if (values.member_code) refs.push({ code: values.member_code });
  if (values.member_email) refs.push({ email: values.member_email });
  if (refs.length > 1) {
    throw invalid(
      "member_ambiguous",
      "Name the member by one of member_external_id, member_code, member_email.",
    );
  }
  if (!values.occurred_at) {
    throw new AppError(
      400,
      "validation_failed",
      "occurred_at is empty: every row needs the time of the purchase.",
    );
  }
  const currency = values.currency ?? "";
  const money = isCurrency(currency) ? currency : business.currency;
  const items = lineItems(group, money);
  const input = parseOrRefuse(PurchaseInput, {
    external_id: values.external_id,
    amount_minor: items.length > 0 ? amountOfLines(values, items, money) : amountMinor(values, money),
    currency,
    items,
    occurred_at: occurredAt(values.occurred_at, business.timezone),
    location_id: values.location_id,
  });
  return { input, member: refs[0] };
}

function amountMinor(values: Record<string, string>, currency: string): number {
  const { amount, amount_minor } = values;
  if (amount !== undefined && amount_minor !== undefined) {
    throw invalid("invalid_amount", "Give amount or amount_minor, not both.");
  }
  if (amount_minor !== undefined) return wholeMinor("amount_minor", amount_minor);
  if (amount === undefined) throw invalid("invalid_amount", "The row has no amount.");
  return toMinorUnits("amount", amount, currency, minorDigits(currency));
}

function wholeMinor(column: string, text: string): number {
  if (!/^\d{1,15}$/.test(text)) {
    throw invalid("invalid_amount", `${column} "${text}" is not a whole number of minor units.`);
  }
  return Number(text);
}

type LineItem = PurchaseInput["items"][number];

/** The purchase's line items, one per line that has one; none when the file has no item columns. */
function lineItems(group: PurchaseGroup, currency: string): LineItem[] {
  const several = group.lines.length > 1;
  const items: LineItem[] = [];
  for (const { line, values } of group.lines) {
    let item: LineItem | undefined;
    try {
      item = lineItem(values, currency);
    } catch (error) {
      if (!several || !(error instanceof AppError)) throw error;
      throw new AppError(error.status, error.code, `line ${line}: ${error.message}`, error.details);
    }
    if (item) items.push(item);
    else if (several) {
      throw invalid(
        "item_missing",
        `line ${line} has no item (its item columns are empty): each line of a purchase with several lines is one item.`,
      );
    }
  }
  if (items.length > MAX_LINES) {
    throw invalid("too_many_lines", `It has ${items.length} lines; a purchase has at most ${MAX_LINES}.`);
  }
  return items;
}

const MAX_LINES = 500;
const ItemInput = PurchaseInput.shape.items.unwrap().element;

/** The line item of a row, or undefined when its item columns are all empty. */
function lineItem(values: Record<string, string>, currency: string): LineItem | undefined {
  if (!ITEM_COLUMNS.some((c) => values[c] !== undefined)) return undefined;
  if (values.item_sku === undefined) {
    throw new AppError(
      400,
      "validation_failed",
      "item_sku is empty: every line needs the item's sku (its product code in the till).",
    );
  }
  const quantity = values.item_quantity ?? "1";
  if (!/^\d{1,5}$/.test(quantity) || Number(quantity) < 1 || Number(quantity) > 10_000) {
    throw new AppError(
      400,
      "validation_failed",
      `item_quantity "${quantity}": must be a whole number from 1 to 10000 (empty: 1).`,
    );
  }
  const { item_unit_price: price, item_unit_price_minor: priceMinor } = values;
  if (price !== undefined && priceMinor !== undefined) {
    throw invalid("invalid_amount", "Give item_unit_price or item_unit_price_minor, not both.");
  }
  if (price === undefined && priceMinor === undefined) {
    throw invalid("invalid_amount", "item_unit_price is empty: every line needs the item's unit price.");
  }
  const unitPrice =
    priceMinor !== undefined
      ? wholeMinor("item_unit_price_minor", priceMinor)
      : toMinorUnits("item_unit_price", price ?? "", currency, minorDigits(currency));
  const item = {
    sku: values.item_sku,
    name: values.item_name,
    category: values.item_category,
    brand: values.item_brand,
    quantity: Number(quantity),
    unit_price_minor: unitPrice,
  };
  try {
    return parseOrRefuse(ItemInput, item);
  } catch (error) {
    const column = (path: string) =>
      path === "unit_price_minor"
        ? priceMinor !== undefined
          ? "item_unit_price_minor"
          : "item_unit_price"
        : `item_${path}`;
    throw inCsvTerms(error, values, column);
  }
}

/**
 * The amount of a purchase with line items: the lines' total, or the amount the row gives when
 * it is that total. A different amount is refused: a line is missing, or one has the price before
 * a discount (the lines are what rules and stamp cards count, so they must be what was paid).
 */
function amountOfLines(values: Record<string, string>, items: LineItem[], currency: string): number {
  const total = items.reduce((sum, item) => sum + item.quantity * item.unit_price_minor, 0);
  if (values.amount === undefined && values.amount_minor === undefined) return total;
  const given = amountMinor(values, currency);
  if (given === total) return total;
  const [column, text, shown] =
    values.amount !== undefined
      ? [
          "amount",
          values.amount,
          `${formatMinor(total, minorDigits(currency), values.amount.includes(",") ? "," : ".")} ${currency}`,
        ]
      : ["amount_minor", values.amount_minor, String(total)];
  throw invalid(
    "amount_mismatch",
    `${column} "${text}" is not what the ${items.length === 1 ? "line adds" : `${items.length} lines add`} up to (${shown}). Give each line at the price paid, after any discount, or leave ${column} empty to take the lines' total.`,
  );
}

/**
 * An ISO date-time with an offset passes as it is; a date (`2024-05-01`, at noon) or a local
 * date-time (`2024-05-01 14:30`) is read on the business's clock.
 */
function occurredAt(value: string, timeZone: string): string {
  const local = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?$/.exec(value);
  if (!local) return value;
  const [year = 0, month = 0, day = 0] = local.slice(1, 4).map(Number);
  const [hour = 12, minute = 0, second = 0] = local[4] ? local.slice(4).map((p) => Number(p ?? 0)) : [];
  // Date.UTC reads years 0–99 as 1900–1999; such a year is left for the schema to refuse.
  if (year < 1900) return value;
  const calendar = new Date(Date.UTC(year, month - 1, day));
  const real = calendar.getUTCMonth() === month - 1 && calendar.getUTCDate() === day;
  // Not a real date or time: left as it is, so the schema refuses it with its own message.
  if (!real || hour > 23 || minute > 59 || second > 59) return value;
  const at = zonedTimeToUtc({ year, month, day, hour, minute }, timeZone);
  return new Date(at.getTime() + second * 1000).toISOString();
}

async function resolveMember(
  ctx: AppContext,
  businessId: string,
  ref: MemberRef,
): Promise<string | undefined> {
  if ("code" in ref) {
    const member = await lookupMember(ctx.db, businessId, parseOrRefuse(MemberLookup, { code: ref.code }));
    return member.id;
  }
  if ("email" in ref) {
    const member = await lookupMember(ctx.db, businessId, parseOrRefuse(MemberLookup, { email: ref.email }));
    return member.id;
  }
  const row = await ctx.db
    .selectFrom("members")
    .select("id")
    .where("business_id", "=", businessId)
    .where("external_id", "=", ref.external_id)
    .executeTakeFirst();
  if (!row) {
    throw new AppError(
      404,
      "member_not_found",
      `No member with external id ${ref.external_id} in this business.`,
    );
  }
  return row.id;
}

function parseCdnowLine(text: string, line: number): CdnowRow | Refusal {
  const record = [text];
  const fields = text.trim().split(/\s+/);
  const refuse = (message: string): Refusal => ({ line, code: "cdnow_malformed", message, record });
  if (fields.length !== 5) return refuse(`Expected 5 fields, found ${fields.length}.`);
  const [, customer = "", date = "", cds = "", dollars = ""] = fields;
  if (!/^\d+$/.test(customer)) return refuse(`Customer id "${customer}" is not a number.`);
  if (!/^(19|20)\d{2}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])$/.test(date)) {
    return refuse(`Date "${date}" is not YYYYMMDD.`);
  }
  if (!/^\d{1,6}$/.test(cds)) return refuse(`Number of CDs "${cds}" is not a whole number.`);
  const amount = /^(\d{1,10})(?:\.(\d{1,2}))?$/.exec(dollars);
  if (!amount) return refuse(`Dollar amount "${dollars}" is not a number with at most 2 decimals.`);
  return {
    line,
    record,
    customer,
    date,
    cds: Number(cds),
    amountMinor: Number(amount[1]) * 100 + Number((amount[2] ?? "").padEnd(2, "0")),
  };
}

/** Noon of a YYYYMMDD day on the business's clock, as an ISO instant. */
function noon(date: string, timeZone: string): string {
  return zonedTimeToUtc(
    {
      year: Number(date.slice(0, 4)),
      month: Number(date.slice(4, 6)),
      day: Number(date.slice(6, 8)),
      hour: 12,
    },
    timeZone,
  ).toISOString();
}

/**
 * Writes `<file>.rejects.csv` (line, error_code, error_message, then the row's own fields) when rows were
 * refused, and removes a stale one from an earlier run when none were. It is written as the input
 * was (`format`): the same separator, so the spreadsheet that saved the file opens it in columns,
 * and in UTF-8 with a byte-order mark when the input had one or was in another encoding, so
 * that spreadsheet reads its letters right.
 */
function writeRejects(
  file: string,
  columns: string[],
  refused: Refusal[],
  format?: FileFormat,
): string | null {
  const target = `${file}.rejects.csv`;
  if (refused.length === 0) {
    // A read-only folder keeps an old one; nothing to say about it when nothing was refused.
    try {
      rmSync(target, { force: true });
    } catch {}
    return null;
  }
  const separator = format?.separator ?? ",";
  const bom = format !== undefined && (format.bom || format.encoding !== "utf-8");
  // A rejects file imported again brings the last report's columns: they give way to this one's.
  const kept = columns.flatMap((column, i) => (REPORT_COLUMNS.test(column) ? [] : [i]));
  const rows = refused.map((r) => ({
    ...r,
    record: [...kept.map((i) => r.record[i] ?? ""), ...r.record.slice(columns.length)],
  }));
  const named = kept.map((i) => columns[i] ?? "");
  // Every line gets the same number of fields: short rows are padded, long rows name their extras.
  // Not Math.max(...): spreading a hundred thousand refusals into one call overflows the stack.
  const width = rows.reduce((most, r) => Math.max(most, r.record.length), named.length);
  const header = [...named, ...Array.from({ length: width - named.length }, (_, i) => `extra_${i + 1}`)];
  const lines = [
    ["line", "error_code", "error_message", ...header],
    ...rows.map((r) => [String(r.line), r.code, r.message, ...header.map((_, i) => r.record[i] ?? "")]),
  ];
  const text = lines.map((fields) => fields.map((f) => csvField(f, separator)).join(separator)).join("\n");
  // Beside the file, or, when its folder is read-only (a read-only mount or share), in the
  // temporary directory; the rows are imported by now, and the report must still reach the owner.
  for (const path of [target, join(tmpdir(), `${basename(file)}.rejects.csv`)]) {
    try {
      writeFileSync(path, `${bom ? "\uFEFF" : ""}${text}\n`);
      return path;
    } catch {}
  }
  return null;
}

function csvField(value: string, separator: Separator): string {
  return /["\r\n]/.test(value) || value.includes(separator) ? `"${value.replace(/"/g, '""')}"` : value;
}
