import { closeSync, openSync, readSync } from "node:fs";
import type { z } from "zod";
import type { Actor, AppContext } from "../context.ts";
import type { BusinessesTable } from "../db/schema.ts";
import {
  CreateMemberInput,
  checkDates,
  lookupMember,
  MemberLookup,
  type UpdateMemberInput,
  updateMember,
} from "../modules/members/index.ts";
import { dateTimeInput } from "../shared/date-time.ts";
import { AppError, conflict, invalid } from "../shared/errors.ts";
import { isCurrency, MAX_AMOUNT_MINOR, minorDigits } from "../shared/money.ts";
import { zonedParts, zonedTimeToUtc } from "../shared/time.ts";
import { enrollMember } from "../use-cases/member-points.ts";
import { PurchaseInput, recordPurchase } from "../use-cases/purchases.ts";
import { findBusinessBySlug } from "./businesses.ts";
import {
  type CsvRow,
  eachChunk,
  READ_BYTES,
  readableFile,
  readCsvFile,
  rowValues,
  splitCsv,
} from "./import-csv.ts";
import {
  ImportFileError,
  ImportUsageError,
  ITEM_COLUMNS,
  MEMBER_ALIASES,
  MEMBER_COLUMNS,
  PURCHASE_ALIASES,
  PURCHASE_COLUMNS,
} from "./import-format.ts";
import {
  HashIndex,
  hashText,
  IntList,
  NumberList,
  RecordStore,
  type Refusal,
  RefusalList,
  RejectsLog,
  Sets,
  sortedIndices,
  spread,
} from "./import-store.ts";
import { countryOfTimeZone, PHONE_COUNTRIES, toE164 } from "./phone.ts";
import type { Progress } from "./progress.ts";
import { type FileFormat, formatMinor, toMinorUnits } from "./spreadsheet.ts";

/**
 * CSV and CDNOW imports. Every row goes through the same use cases as the API (`enrollMember`,
 * `recordPurchase`) as the system actor `system:import`, so rules, the ledger, stamps and tiers
 * apply, and external ids make a re-run count nothing twice. A bad row is refused with an error
 * code and a reason in the file's terms (its line, columns and values) and never stops the import.
 *
 * The file is read as a stream (import-csv.ts), and each row is kept as its bytes and a few
 * numbers (import-store.ts) until it is imported, in time order for purchases: an import takes
 * about twice its file's size in memory, where holding the file's rows as objects took 35 times.
 */

export type { Refusal };

export interface ImportCounts {
  total: number;
  imported: number;
  /** Members an earlier run imported whose row now says something else, changed to that; absent when none. */
  updated?: number;
  /** Rows already imported by an earlier run (same external id) and unchanged, left as they were. */
  skipped: number;
  /** The refused rows, by line: all of them, or the first `refusalsListed` (see `unlisted`). */
  refused: Refusal[];
  /** How many refused rows `refused` leaves out (the rejects file has them); absent when none. */
  unlisted?: number;
}

export interface ImportReport {
  members?: ImportCounts;
  purchases?: ImportCounts;
  /** `<file>.rejects.csv` when rows were refused, else null. */
  rejectsFile: string | null;
  /** How a CSV file was read: its separator and encoding (absent for the CDNOW log). */
  format?: FileFormat;
  /** The file's columns this import does not know and did not read, as the header names them. */
  ignoredColumns?: string[];
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
  /** What the import takes on, when not the defaults (tests lower them). */
  limits?: Partial<ImportLimits>;
}

/** How much an import takes on at once. */
export interface ImportLimits {
  /** The largest file it reads (MAX_IMPORT_BYTES). */
  maxBytes: number;
  /** Bytes it reads at a time (a megabyte). */
  readBytes: number;
  /** Refused rows a report lists (REFUSALS_LISTED); the rejects file has every one. */
  refusalsListed: number;
}

export { ImportFileError, ImportUsageError, ITEM_COLUMNS, MEMBER_COLUMNS, PURCHASE_COLUMNS, splitCsv };

/**
 * Largest file an import reads: 512 MB, some 10 million lines of a till's export. The file is read
 * as a stream and a row costs about twice its bytes while the import runs (measured peaks, with
 * the process's own 200 MB, 430 MB on PGlite: a 100 MB file of 2.1 million purchases 530 MB on
 * PostgreSQL and 780 MB on PGlite; 500 MB 1.2 and 1.4 GB; docs/operations.md), so the largest
 * stays within 1.5 GB. A bigger file is split.
 */
export const MAX_IMPORT_BYTES = 512 * 1024 * 1024;

/** Refused rows a report lists: enough to read, few enough to hold when every row is refused. */
export const REFUSALS_LISTED = 1000;

function importLimits(options: ImportOptions): ImportLimits {
  const given = options.limits ?? {};
  return {
    maxBytes: given.maxBytes ?? MAX_IMPORT_BYTES,
    readBytes: given.readBytes ?? READ_BYTES,
    refusalsListed: given.refusalsListed ?? REFUSALS_LISTED,
  };
}

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
  const limits = importLimits(options);
  const actor = importActor(business);
  // The members this run enrolled, changed or found unchanged (a hash of each id; see `enrol`).
  const seen = new Set<number>();
  const phoneKey = (raw: string) => {
    const read = toE164(raw, country ?? undefined);
    return "phone" in read ? read.phone : raw;
  };
  const log = new RejectsLog(file);
  try {
    const refused = new Refused(log, limits.refusalsListed);
    const rows = new KeptRows();
    // Rows that name one member (by any of its keys) run in one lane, one after another.
    const sets = new LaneSets(laneCount(options));
    const csv = readCsvFile(
      file,
      {
        allowed: MEMBER_COLUMNS,
        aliases: MEMBER_ALIASES,
        required: ["marketing_consent"],
        encoding: options.encoding,
        maxBytes: limits.maxBytes,
        chunkBytes: limits.readBytes,
      },
      {
        header: (_columns, format, names) => log.start(names, format),
        row: ({ line, record, values }) => {
          const row = rows.add(line, record);
          sets.add();
          const { external_id: id, email, phone } = values;
          if (id) sets.key(`external_id:${id}`, row);
          if (email) sets.key(`email:${email.toLowerCase()}`, row);
          if (phone && sets.joining) sets.key(`phone:${phoneKey(phone)}`, row);
        },
        refuse: (refusal) => refused.add(refusal),
      },
    );
    const members = await runRows(
      "members",
      { size: rows.size, rows: rows.size, group: (i) => rows.row(i, csv.columns), set: (i) => sets.find(i) },
      options,
      async (row) => {
        try {
          const input = memberInput(row.values, country ?? undefined);
          // The row's own values first: the same reason whether or not the member is there yet.
          checkDates(input, business.timezone, ctx.clock.now());
          return await enrol(ctx, actor, input, { seen, update: true });
        } catch (error) {
          throw inCsvTerms(error, row.values);
        }
      },
      refused,
    );
    return {
      members,
      rejectsFile: log.finish(),
      format: csv.format,
      ...(csv.ignored.length > 0 ? { ignoredColumns: csv.ignored } : {}),
      ...(csv.columns.includes("phone")
        ? { phones: { country, from: chosen ? "option" : country ? "time zone" : "none" } as const }
        : {}),
    };
  } finally {
    log.close();
  }
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
  const limits = importLimits(options);
  const log = new RejectsLog(file);
  try {
    const refused = new Refused(log, limits.refusalsListed);
    const rows = new PurchaseRows(business.timezone, laneCount(options));
    // A line refused while the file is read (a decimal comma unquoted, a stray quote) leaves its
    // purchase short of it: the purchase is refused whole, never recorded without that line.
    let idColumn = -1;
    const brokenLines = new Map<string, { line: number; code: string }>();
    const csv = readCsvFile(
      file,
      {
        allowed: PURCHASE_COLUMNS,
        aliases: PURCHASE_ALIASES,
        // A purchase whose member's column were ignored would be recorded as anonymous.
        notIgnored: {
          test: (key) =>
            /^member_|^(customer|klant|klient)_?(id|nr|no|number|nummer|code|card|kaart|email|e_mail|mail)$/.test(
              key,
            ),
          why: "a purchase names its member by member_external_id (the customer's id in your till or shop), member_code (the code on their card) or member_email; rename the column to the one it holds.",
        },
        required: ["external_id", "currency", "occurred_at"],
        encoding: options.encoding,
        maxBytes: limits.maxBytes,
        chunkBytes: limits.readBytes,
      },
      {
        header: (columns, format, names) => {
          const priced = ["amount", "amount_minor", "item_unit_price", "item_unit_price_minor"];
          if (!columns.some((c) => priced.includes(c))) {
            throw new ImportFileError(
              `${file}: the header needs an amount or an amount_minor column (or item_unit_price with the item columns).`,
            );
          }
          log.start(names, format);
          rows.start(columns);
          idColumn = columns.indexOf("external_id");
        },
        row: (row) => rows.add(row),
        refuse: (refusal) => {
          const id = idColumn >= 0 ? refusal.record?.[idColumn]?.trim().replace(/^"(.*)"$/, "$1") : undefined;
          if (id && !brokenLines.has(id)) brokenLines.set(id, { line: refusal.line, code: refusal.code });
          refused.add(refusal);
        },
      },
    );
    const actor = importActor(business);
    const purchases = await runRows(
      "purchases",
      rows.inTimeOrder(),
      options,
      async (group) => {
        try {
          const broken = brokenLines.get(group.values.external_id ?? "");
          if (broken) {
            throw invalid(
              "purchase_line_refused",
              `line ${broken.line} of this purchase was refused (${broken.code}), so the purchase is not recorded without it: correct that line and import all of the purchase's lines again (the rejects file holds them together).`,
            );
          }
          const { input, member } = purchaseInput(group, business);
          const memberId = member ? await resolveMember(ctx, business.id, member) : undefined;
          return await recordImported(
            ctx,
            actor,
            { ...input, ...(memberId ? { member_id: memberId } : {}) },
            group.values.occurred_at,
          );
        } catch (error) {
          const todayDate = today(ctx, business.timezone);
          throw ofPurchase(
            group,
            purchaseRefusal(error, group, (id) => rows.firstLine(id), todayDate),
          );
        }
      },
      refused,
    );
    return {
      purchases,
      rejectsFile: log.finish(),
      format: csv.format,
      ...(csv.ignored.length > 0 ? { ignoredColumns: csv.ignored } : {}),
    };
  } finally {
    log.close();
  }
}

/**
 * Records a purchase of the file. One imported before is skipped, however long ago: once its
 * stored answer has been let go (ANSWER_RETENTION_DAYS) the same purchase again is a
 * `410 idempotency_answer_expired`, which still means it is there.
 */
async function recordImported(
  ctx: AppContext,
  actor: Actor,
  input: PurchaseInput,
  /** The file's own text of the time, as an earlier version sent it: see below. */
  written?: string,
): Promise<Outcome> {
  try {
    const { replayed } = await recordPurchase(ctx, actor, input);
    return replayed ? "skipped" : "imported";
  } catch (error) {
    if (error instanceof AppError && error.code === "idempotency_answer_expired") return "skipped";
    // A time with its offset is sent as its instant in UTC, so one instant written two ways is one
    // purchase. An earlier version sent such a time as written: a file it imported, imported
    // again, is still the same purchase under the text it was recorded with.
    if (
      error instanceof AppError &&
      error.code === "idempotency_key_reused" &&
      written !== undefined &&
      written !== input.occurred_at
    ) {
      return recordImported(ctx, actor, { ...input, occurred_at: written });
    }
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
  firstLine: (id: string) => number | undefined,
  todayDate: string,
): unknown {
  if (error instanceof AppError && error.code === "idempotency_key_reused") {
    const id = group.values.external_id;
    const first = (id === undefined ? undefined : firstLine(id)) ?? group.line;
    return conflict(
      "external_id_reused",
      first < group.line
        ? `Row ${group.line} repeats external_id ${id} of line ${first} with different values.`
        : first > group.line
          ? // Purchases are recorded oldest first: the later line held the earlier purchase.
            `Row ${group.line} has external_id ${id}, as line ${first} has with different values; line ${first} was recorded first, being the earlier purchase.`
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
/** The most line numbers a refusal of a purchase names. */
const MAX_LINES_NAMED = 10;

function ofPurchase(group: PurchaseGroup, error: unknown): unknown {
  if (!(error instanceof AppError) || group.lines.length < 2) return error;
  const lines = group.lines.map((l) => l.line);
  // A purchase of thousands of lines (a column of till numbers taken for external_id) names its
  // first lines and how many: the message is written for each of its lines.
  const named =
    lines.length <= MAX_LINES_NAMED
      ? `${lines.slice(0, -1).join(", ")} and ${lines.at(-1)}`
      : `${lines.slice(0, MAX_LINES_NAMED - 1).join(", ")}, … ${lines.at(-1)}: ${lines.length} lines`;
  return new AppError(
    error.status,
    error.code,
    `Purchase ${group.values.external_id} (lines ${named}): ${error.message}`,
    error.details,
  );
}

/**
 * The lines of a purchase in a file with item columns, as one purchase: its columns are taken
 * from whichever line fills them in (the first, in file order).
 */
function purchaseGroup(lines: CsvRow[]): PurchaseGroup {
  const [first] = lines as [CsvRow];
  const values: Record<string, string> = {};
  for (const line of lines) {
    for (const [column, value] of Object.entries(line.values)) {
      if (!(ITEM_COLUMNS as readonly string[]).includes(column)) values[column] ??= value;
    }
  }
  return { line: first.line, record: first.record, values, lines };
}

/**
 * When a purchase happened (ms), to import the purchases oldest first (a till's export is often
 * newest first): a member's first purchase, and whatever a rule gives for it, must be their
 * earliest, whatever the file's order. A time that cannot be read goes last, to be refused.
 */
function purchaseTime(value: string, timeZone: string): number {
  try {
    const time = Date.parse(occurredAt(value, timeZone));
    return Number.isNaN(time) ? Number.POSITIVE_INFINITY : time;
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

/** Rows of a CSV file kept until they are imported: their lines and fields, by number. */
class KeptRows {
  readonly #fields = new RecordStore();
  readonly #lines = new IntList();

  get size(): number {
    return this.#fields.size;
  }

  /** Keeps a row; returns its number (0, 1, 2 … in file order). */
  add(line: number, record: string[]): number {
    this.#lines.push(line);
    return this.#fields.add(record);
  }

  line(row: number): number {
    return this.#lines.get(row);
  }

  record(row: number): string[] {
    return this.#fields.get(row);
  }

  row(row: number, columns: readonly string[]): CsvRow {
    const record = this.#fields.get(row);
    return { line: this.#lines.get(row), record, values: rowValues(columns, record) };
  }
}

/**
 * The purchases of a file, as it is read: each row (KeptRows), the purchase it is a line of (in a
 * file with item columns, the rows of one external id are one purchase), when each purchase
 * happened, and the sets of purchases that share a member or an external id, which run in one
 * lane, in time order. A row costs its bytes and some 40 bytes more; `inTimeOrder` gives the
 * purchases to import.
 */
class PurchaseRows {
  readonly #rows = new KeptRows();
  readonly #timeZone: string;
  #columns: string[] = [];
  #idColumn = -1;
  #withItems = false;
  /** Per purchase: its time (ms; NaN while no line gave one), and its set. */
  readonly #time = new NumberList();
  readonly #sets: LaneSets;
  /** External id → purchase: the purchase of its lines (items), or the last row with it. */
  readonly #ids = new HashIndex();
  /** Items: per purchase its first and last row, per row the next row of its purchase (or -1). */
  readonly #first = new IntList();
  readonly #last = new IntList();
  readonly #next = new IntList();
  /** Without items: the row before a row with the same external id (few rows have one). */
  readonly #earlier = new Map<number, number>();
  readonly #firstLines = new Map<string, number>();
  /**
   * The columns members are named by in the file. Named by more than one (a till's export by card
   * code merged with a web shop's by email), one member's purchases may carry keys that join no
   * lane to the other's: the file is then imported in one lane, so that every member's purchases
   * are still recorded oldest first.
   */
  readonly #referencedBy = new Set<string>();

  constructor(timeZone: string, lanes: number) {
    this.#timeZone = timeZone;
    this.#sets = new LaneSets(lanes);
  }

  start(columns: string[]): void {
    this.#columns = columns;
    this.#idColumn = columns.indexOf("external_id");
    this.#withItems = columns.some((c) => (ITEM_COLUMNS as readonly string[]).includes(c));
  }

  add({ line, record, values }: CsvRow): void {
    const row = this.#rows.add(line, record);
    const id = values.external_id;
    const hash = id === undefined ? 0 : hashText(id);
    const sameId = (purchase: number) => this.#idOf(purchase) === id;
    let purchase = this.#withItems && id !== undefined ? this.#ids.get(hash, sameId) : -1;
    if (purchase >= 0) {
      this.#next.push(-1);
      this.#next.set(this.#last.get(purchase), row);
      this.#last.set(purchase, row);
      if (Number.isNaN(this.#time.get(purchase)) && values.occurred_at !== undefined) {
        this.#time.set(purchase, purchaseTime(values.occurred_at, this.#timeZone));
      }
    } else {
      const at = values.occurred_at;
      purchase = this.#time.push(at === undefined ? Number.NaN : purchaseTime(at, this.#timeZone));
      this.#sets.add();
      if (this.#withItems) {
        this.#next.push(-1);
        this.#first.push(row);
        this.#last.push(row);
      } else {
        const earlier = id === undefined ? -1 : this.#ids.get(hash, sameId);
        if (earlier >= 0) {
          this.#earlier.set(purchase, earlier);
          this.#sets.join(purchase, earlier);
        }
      }
      if (id !== undefined) this.#ids.set(hash, purchase, sameId);
    }
    const { member_external_id: member, member_code: code, member_email: email } = values;
    if (member) this.#sets.key(`external_id:${member}`, purchase);
    if (code) this.#sets.key(`code:${code.toUpperCase()}`, purchase);
    if (email) this.#sets.key(`email:${email.toLowerCase()}`, purchase);
    if (member) this.#referencedBy.add("external_id");
    if (code) this.#referencedBy.add("code");
    if (email) this.#referencedBy.add("email");
  }

  /** The purchases oldest first; equal times keep the file's order. */
  inTimeOrder(): Plan<PurchaseGroup> {
    const time = this.#time;
    const count = time.length;
    // A purchase no line gave a time goes last, with those whose time cannot be read.
    for (let p = 0; p < count; p++) if (Number.isNaN(time.get(p))) time.set(p, Number.POSITIVE_INFINITY);
    const order = sortedIndices(count, (a, b) => time.get(a) - time.get(b));
    return {
      size: count,
      rows: this.#rows.size,
      group: (i) => this.#purchase(order[i] as number),
      set: this.#referencedBy.size > 1 ? () => 0 : (i) => this.#sets.find(order[i] as number),
    };
  }

  /**
   * The line of the first purchase, in time order, with this external id, to name it when a
   * later one repeats it with other values; undefined when none has it.
   */
  firstLine(id: string): number | undefined {
    const known = this.#firstLines.get(id);
    if (known !== undefined) return known;
    let first = this.#ids.get(hashText(id), (purchase) => this.#idOf(purchase) === id);
    if (first === -1) return undefined;
    if (!this.#withItems) {
      for (let other = this.#earlier.get(first); other !== undefined; other = this.#earlier.get(other)) {
        const [a, b] = [this.#time.get(other), this.#time.get(first)];
        if (a < b || (a === b && other < first)) first = other;
      }
    }
    const line = this.#rows.line(this.#firstRow(first));
    this.#firstLines.set(id, line);
    return line;
  }

  #firstRow(purchase: number): number {
    return this.#withItems ? this.#first.get(purchase) : purchase;
  }

  #idOf(purchase: number): string | undefined {
    return this.#rows.record(this.#firstRow(purchase))[this.#idColumn];
  }

  #purchase(purchase: number): PurchaseGroup {
    if (!this.#withItems) {
      const row = this.#rows.row(purchase, this.#columns);
      return { ...row, lines: [row] };
    }
    const lines: CsvRow[] = [];
    for (let row = this.#first.get(purchase); row !== -1; row = this.#next.get(row)) {
      lines.push(this.#rows.row(row, this.#columns));
    }
    return purchaseGroup(lines);
  }
}

/** Lanes an import runs in: `concurrency`, at most 64. */
function laneCount(options: ImportOptions): number {
  return Math.max(1, Math.min(options.concurrency ?? 1, 64));
}

/**
 * The sets of groups (rows, purchases) that must run in one lane: those that share a key (a
 * member, an external id), directly or through others. In one lane (PGlite) every group runs in
 * order anyway, and nothing is kept.
 */
class LaneSets {
  readonly #sets: Sets | undefined;
  /** Key → a group that had it (by the key's hash: two keys of one hash only share a lane). */
  readonly #keys = new HashIndex();

  constructor(lanes: number) {
    this.#sets = lanes > 1 ? new Sets() : undefined;
  }

  /** Whether keys join anything (more than one lane). */
  get joining(): boolean {
    return this.#sets !== undefined;
  }

  /** A new group, numbered as the caller numbers them (0, 1, 2 …). */
  add(): void {
    this.#sets?.add();
  }

  join(a: number, b: number): void {
    this.#sets?.join(a, b);
  }

  /** Puts `group` in one set with the groups that had `key` before it. */
  key(key: string, group: number): void {
    if (!this.#sets) return;
    const hash = hashText(key);
    const other = this.#keys.get(hash);
    if (other === -1) this.#keys.set(hash, group);
    else this.#sets.join(group, other);
  }

  find(group: number): number {
    return this.#sets?.find(group) ?? 0;
  }
}

/** A phase's refused rows: in its report (the first few, by line) and in the rejects file (all). */
class Refused {
  readonly list: RefusalList;
  readonly #log: RejectsLog;

  constructor(log: RejectsLog, listed: number) {
    this.#log = log;
    this.list = new RefusalList(listed);
  }

  get count(): number {
    return this.list.count;
  }

  add(refusal: Refusal): void {
    this.list.add(refusal);
    this.#log.add(refusal);
  }
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
  const limits = importLimits(options);
  const source = readableFile(file, limits.maxBytes);
  const actor = importActor(business);
  const log = new RejectsLog(file);
  const rows = new CdnowRows(source.path);
  try {
    log.start(["record"]);
    const memberRefusals = new Refused(log, limits.refusalsListed);
    const purchaseRefusals = new Refused(log, limits.refusalsListed);
    rows.read(limits.readBytes, (refusal) => purchaseRefusals.add(refusal));
    const memberIds = new Map<string, string>();
    const members = await runRows(
      "members",
      rows.customers(),
      options,
      async (customer) => {
        const input = parseOrRefuse(CreateMemberInput, {
          external_id: `cdnow-${customer.id}`,
          marketing_consent: false,
          joined_at: noon(customer.date, business.timezone),
        });
        // The log says nothing of a customer's name or consent: a member there already is left be.
        return enrol(ctx, actor, input, { onMember: (id) => memberIds.set(customer.id, id) });
      },
      memberRefusals,
    );
    const legacy = await legacyCdnowPurchases(ctx, business.id);
    const purchases = await runRows(
      "purchases",
      rows.purchases(),
      options,
      async (row) => {
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
          external_id: row.externalId,
          member_id: memberId,
          amount_minor: row.amountMinor,
          currency: "USD",
          items: cdLines(row.amountMinor, row.cds),
          occurred_at: occurredAt,
        });
        return recordImported(ctx, actor, input);
      },
      purchaseRefusals,
    );
    return { members, purchases, rejectsFile: log.finish() };
  } finally {
    rows.close();
    log.close();
    source.remove();
  }
}

type Outcome = "imported" | "updated" | "skipped";

/** A row of the file: the line it starts on and its fields. */
interface FileRow {
  line: number;
  record: string[];
}

/**
 * A purchase and its rows (one without item columns; its lines with them): the first row's line
 * and fields, and the purchase's columns taken from whichever line fills them in.
 */
interface PurchaseGroup extends CsvRow {
  lines: CsvRow[];
}

/** A line of the CDNOW log. */
interface CdnowRow {
  customer: string;
  /** YYYYMMDD */
  date: string;
  cds: number;
  amountMinor: number;
}

/**
 * The CDNOW log as it is read: per purchase line its line number, where it is in the file (its
 * text is read again only to report it), customer, day, CDs and amount, some 40 bytes a line;
 * and per customer (a Map: customers are far fewer than lines) their earliest line.
 */
class CdnowRows {
  readonly #file: string;
  #fd: number | undefined;
  readonly #line = new IntList();
  readonly #offset = new NumberList();
  readonly #length = new IntList();
  readonly #customer = new IntList();
  readonly #date = new IntList();
  readonly #cds = new IntList();
  readonly #amount = new NumberList();
  /** The n-th line of its customer on its day (1, 2 …), in file order. */
  readonly #turn = new IntList();
  readonly #customers = new Map<string, number>();
  readonly #names: string[] = [];
  /** Per customer: their first line on their earliest day. */
  readonly #firstRow = new IntList();

  constructor(file: string) {
    this.#file = file;
  }

  /** Reads the log, `chunkBytes` at a time; a line that is not a purchase goes to `refuse`. */
  read(chunkBytes: number, refuse: (refusal: Refusal) => void): void {
    let line = 0;
    let offset = 0;
    let carried: Buffer[] = [];
    const take = (bytes: Buffer, start: number, ended: boolean) => {
      line++;
      // As split(/\r?\n/) reads it: the CR of a CRLF goes; a CR without its LF stays.
      const length = ended && bytes.at(-1) === 13 ? bytes.length - 1 : bytes.length;
      const text = bytes.toString("utf8", 0, length);
      if (text.trim() === "") return;
      const row = parseCdnowLine(text, line);
      if ("code" in row) refuse(row);
      else this.#add(row, line, start, length);
    };
    eachChunk(this.#file, chunkBytes, (chunk) => {
      let from = 0;
      for (let newline = chunk.indexOf(10); newline !== -1; newline = chunk.indexOf(10, from)) {
        const piece = chunk.subarray(from, newline);
        const bytes = carried.length ? Buffer.concat([...carried, piece]) : piece;
        take(bytes, offset - (bytes.length - piece.length) + from, true);
        carried = [];
        from = newline + 1;
      }
      if (from < chunk.length) carried.push(Buffer.from(chunk.subarray(from)));
      offset += chunk.length;
    });
    const rest = Buffer.concat(carried);
    take(rest, offset - rest.length, false);
    this.#countTurns();
  }

  /** One member per customer, in the order of their first line; joined on their earliest day. */
  customers(): Plan<FileRow & { id: string; date: string }> {
    return {
      size: this.#names.length,
      rows: this.#names.length,
      group: (customer) => {
        const row = this.#firstRow.get(customer);
        return this.#fileRow(row, { id: this.#names[customer] as string, date: String(this.#date.get(row)) });
      },
      set: (customer) => customer,
    };
  }

  /** The purchases in file order; a customer's run in one lane, one after another. */
  purchases(): Plan<FileRow & CdnowRow & { externalId: string }> {
    return {
      size: this.#line.length,
      rows: this.#line.length,
      group: (row) => {
        const customer = this.#names[this.#customer.get(row)] as string;
        const date = String(this.#date.get(row));
        return this.#fileRow(row, {
          customer,
          date,
          cds: this.#cds.get(row),
          amountMinor: this.#amount.get(row),
          externalId: `cdnow-${customer}-${date}-${this.#turn.get(row)}`,
        });
      },
      set: (row) => this.#customer.get(row),
    };
  }

  close(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }

  #add(row: CdnowRow, line: number, offset: number, length: number): void {
    let customer = this.#customers.get(row.customer);
    const index = this.#line.push(line);
    if (customer === undefined) {
      customer = this.#names.push(row.customer) - 1;
      this.#customers.set(row.customer, customer);
      this.#firstRow.push(index);
    } else if (Number(row.date) < this.#date.get(this.#firstRow.get(customer))) {
      this.#firstRow.set(customer, index);
    }
    this.#offset.push(offset);
    this.#length.push(length);
    this.#customer.push(customer);
    this.#date.push(Number(row.date));
    this.#cds.push(row.cds);
    this.#amount.push(row.amountMinor);
  }

  /** Numbers each customer's lines of a day 1, 2 … in file order. */
  #countTurns(): void {
    const count = this.#line.length;
    for (let i = 0; i < count; i++) this.#turn.push(0);
    const customer = (i: number) => this.#customer.get(i);
    const date = (i: number) => this.#date.get(i);
    const order = sortedIndices(count, (a, b) => customer(a) - customer(b) || date(a) - date(b));
    for (let k = 0; k < count; k++) {
      const row = order[k] as number;
      const before = order[k - 1];
      const same = before !== undefined && customer(before) === customer(row) && date(before) === date(row);
      this.#turn.set(row, same ? this.#turn.get(before) + 1 : 1);
    }
  }

  /** A line as the report names it: its number, and its text (read again when it is refused). */
  #fileRow<T extends object>(row: number, fields: T): FileRow & T {
    const line = this.#line.get(row);
    const text = () => this.#text(row);
    return {
      line,
      get record() {
        return [text()];
      },
      ...fields,
    };
  }

  #text(row: number): string {
    this.#fd ??= openSync(this.#file, "r");
    const bytes = Buffer.alloc(this.#length.get(row));
    readSync(this.#fd, bytes, 0, bytes.length, this.#offset.get(row));
    return bytes.toString("utf8");
  }
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

/**
 * The groups of a phase (rows, or purchases of several rows), in the order they are imported.
 * Groups of one set (the same member, the same external id) run in one lane, in that order.
 */
interface Plan<G> {
  size: number;
  /** The rows the groups hold: what the report counts. */
  rows: number;
  group: (i: number) => G;
  set: (i: number) => number;
}

/**
 * Runs `work` over the plan's groups, `concurrency` lanes at once. Groups of one set land in one
 * lane and run one after another in the plan's order, so a member's purchases count in order and
 * two rows never race for one key. An `AppError` refuses the group's rows; any other error (the
 * database went away) stops the import: rows done so far are committed, and a re-run skips them.
 * `refused` holds the rows refused as the file was read, and gets the others.
 */
async function runRows<G extends FileRow & { lines?: FileRow[] }>(
  label: string,
  plan: Plan<G>,
  options: ImportOptions,
  work: (group: G) => Promise<Outcome>,
  refused: Refused,
): Promise<ImportCounts> {
  // A purchase of several lines counts as its lines: the report is in rows of the file.
  const linesOf = (group: G): FileRow[] => group.lines ?? [group];
  const refusedBefore = refused.count;
  const counts = { total: plan.rows + refusedBefore, imported: 0, updated: 0, skipped: 0 };
  const lanes = laneCount(options);
  const laneOf = new Uint8Array(plan.size);
  for (let i = 0; i < plan.size; i++) laneOf[i] = spread(plan.set(i)) % lanes;
  // The bar counts what the report counts: the rows refused before this phase are done already.
  const progress = options.progress?.(label, counts.total);
  for (let i = 0; i < refusedBefore; i++) progress?.tick();
  let failed = false;
  const lanesDone = await Promise.allSettled(
    Array.from({ length: lanes }, async (_, lane) => {
      for (let i = 0; i < plan.size; i++) {
        if (laneOf[i] !== lane) continue;
        if (failed) return;
        const group = plan.group(i);
        try {
          counts[await work(group)] += linesOf(group).length;
        } catch (error) {
          if (!(error instanceof AppError)) {
            failed = true;
            throw error;
          }
          for (const { line, record } of linesOf(group)) {
            refused.add({ line, code: error.code, message: error.message, record });
          }
        }
        for (const _ of linesOf(group)) progress?.tick();
        // The embedded database answers through promises alone, so without a pause the process
        // would not get to a signal (Ctrl-C) or a timer until the import ends.
        await new Promise((resume) => setImmediate(resume));
      }
    }),
  );
  progress?.finish();
  // Every lane has stopped by now: the caller may close the database safely.
  const failure = lanesDone.find((lane) => lane.status === "rejected");
  if (failure) throw failure.reason;
  const { refused: listed, unlisted } = refused.list.result();
  const { updated, ...rest } = counts;
  return {
    ...rest,
    ...(updated > 0 ? { updated } : {}),
    refused: listed,
    ...(unlisted > 0 ? { unlisted } : {}),
  };
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
 * Zod's own wording of a limit or a choice, as the import's other messages say it:
 * `Invalid option: expected one of "en"|"nl"` is `must be en or nl`.
 */
function plainIssue(message: string): string {
  const options = /^Invalid option: expected one of (.+)$/.exec(message)?.[1];
  if (options) {
    const names = options.split("|").map((o) => o.replace(/^"(.*)"$/, "$1"));
    return `must be ${names.slice(0, -1).join(", ")}${names.length > 1 ? " or " : ""}${names.at(-1)}`;
  }
  const limit = /^Too (big|small): expected (\w+) to (?:be|have) ([<>]=?)(\d+)(?: (\w+))?$/.exec(message);
  if (limit) {
    const [, , , sign, n, unit] = limit;
    return `must be ${sign?.startsWith("<") ? "at most" : "at least"} ${n}${unit ? ` ${unit}` : ""}`;
  }
  return message;
}

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
  const message = (COLUMN_MESSAGES[column] ?? plainIssue(issue.message)).replace(/\.$/, "");
  return new AppError(
    error.status,
    error.code,
    // A value quoted as it came, up to 80 characters: a 20 MB name is not echoed to the terminal.
    `${column}${value === undefined ? "" : ` "${value.length > 80 ? `${value.slice(0, 77)}…` : value}"`}: ${message}.`,
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

/** The member fields a row of a members file can say, as the import compares them. */
const MEMBER_FIELDS = [
  "name",
  "email",
  "phone",
  "birthday",
  "locale",
  "marketing_consent",
  "joined_at",
] as const;
type MemberField = (typeof MEMBER_FIELDS)[number];

/**
 * The fields a row gives (a column left empty gives none) that differ from the stored member's,
 * in the forms both are stored in (email lowercased, phone as E.164).
 */
function changedFields(input: CreateMemberInput, stored: Record<MemberField, unknown>): MemberField[] {
  return MEMBER_FIELDS.filter((field) => {
    const given = input[field];
    if (given === undefined || given === null) return false;
    const now = stored[field];
    if (given instanceof Date) return !(now instanceof Date) || now.getTime() !== given.getTime();
    return given !== now;
  });
}

/**
 * Enrols a member through the API's use case (so the signup rules apply) unless one with the same
 * external id (or, without one, email or phone) exists. Rows with one key run one after another
 * (see `runRows`), so the check cannot race with another row of the file.
 *
 * An existing member the row agrees with is skipped. With `update` (a members file), one it
 * differs from is changed to what the row says, through the API's `updateMember` (audited as the
 * import); but an import never says yes to marketing for a member (consent comes from the member:
 * that row is refused), while a no is applied. A member an earlier row of this run named (`seen`,
 * a hash of each id: a few bytes a member) and this row contradicts is refused: one member, one row.
 */
async function enrol(
  ctx: AppContext,
  actor: Actor,
  input: CreateMemberInput,
  options: { onMember?: (memberId: string) => void; seen?: Set<number>; update?: boolean } = {},
): Promise<Outcome> {
  const field = input.external_id ? "external_id" : input.email ? "email" : "phone";
  const value = input[field];
  const existing = value
    ? await ctx.db
        .selectFrom("members")
        .select(["id", ...MEMBER_FIELDS])
        .where("business_id", "=", actor.businessId)
        .where(field, "=", value)
        .executeTakeFirst()
    : undefined;
  if (!existing) {
    const id = (await enrollMember(ctx, actor, input, undefined)).body.id;
    options.seen?.add(hashText(id));
    options.onMember?.(id);
    return "imported";
  }
  const differs = changedFields(input, existing);
  const key = hashText(existing.id);
  // An earlier row of the file named the same person, with other values (another name, the other
  // answer to marketing): one of the two rows is wrong, and neither may quietly win.
  if (differs.length > 0 && options.seen?.has(key)) {
    throw conflict(
      "member_row_repeated",
      `An earlier row of this file named the member with ${field} ${value}, with another ${differs.join(", ")}: one member, one row. Merge the two rows into one, then import the file again.`,
    );
  }
  options.seen?.add(key);
  options.onMember?.(existing.id);
  if (differs.length === 0 || !options.update) return "skipped";
  if (differs.includes("marketing_consent") && input.marketing_consent) {
    throw conflict(
      "marketing_consent_not_imported",
      `marketing_consent says yes, but the member with ${field} ${value} has not said yes to marketing, and an import cannot say it for them: consent comes from the member (on their card, the join page, or to staff). Nothing of this row was changed; give the member's own answer (no), then import it again.`,
    );
  }
  const patch = Object.fromEntries(differs.map((f) => [f, input[f]])) as UpdateMemberInput;
  try {
    await updateMember(ctx.db, actor, existing.id, patch, ctx.clock.now());
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    const taken = /^member_(email|phone)_taken$/.exec(error.code)?.[1];
    if (!taken) throw error;
    throw conflict(
      error.code,
      `${taken} ${input[taken as "email" | "phone"]}: another member of this business has it, so the member with ${field} ${value} was not changed.`,
    );
  }
  return "updated";
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
  // A code in small letters is the code (a payment provider's export writes "eur").
  const currency = (values.currency ?? "").toUpperCase();
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
  const minor =
    amount_minor !== undefined
      ? wholeMinor("amount_minor", amount_minor)
      : amount === undefined
        ? undefined
        : toMinorUnits("amount", amount, currency, minorDigits(currency));
  if (minor === undefined) throw invalid("invalid_amount", "The row has no amount.");
  if (minor > MAX_AMOUNT_MINOR) {
    const [column, given] = amount_minor !== undefined ? ["amount_minor", amount_minor] : ["amount", amount];
    const most =
      column === "amount_minor"
        ? String(MAX_AMOUNT_MINOR)
        : formatMinor(MAX_AMOUNT_MINOR, minorDigits(currency), ".");
    throw invalid("invalid_amount", `${column} "${given}" is more than a purchase can be: at most ${most}.`);
  }
  return minor;
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
  if (!local) {
    // With its offset (or Z): the instant in UTC, when the schema would take it as it is.
    const offset = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?(?:Z|[+-]\d{2}:\d{2})$/.test(
      value,
    );
    return offset && dateTimeInput().safeParse(value).success ? new Date(value).toISOString() : value;
  }
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
