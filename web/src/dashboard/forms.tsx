import { type ReactNode, useCallback, useEffect, useId, useRef, useState } from "react";
import { ApiError, api, FormKey } from "../api.ts";
import { currencyDigits, formatMoney, formatNumber, parseMoney } from "../i18n/format.ts";
import { useT } from "../i18n/index.tsx";
import { detailValues, ErrorMessage, type KnownProblems } from "../ui/components.tsx";

export { isoToZoned, zonedToIso } from "./zoned.ts";

/** Small pieces the dashboard's forms share: loading, API errors per field, money and lists. */

interface Loaded<T> {
  data: T | undefined;
  error: unknown;
  reload: () => Promise<void>;
}

/** What `load(path)` gives, loaded on mount and whenever `path` changes; `reload()` loads again. */
function useLoaded<T>(path: string | null, load: (path: string) => Promise<T>): Loaded<T> {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<unknown>(null);
  const reload = useCallback(async () => {
    if (!path) return;
    try {
      setData(await load(path));
      setError(null);
    } catch (e) {
      setError(e);
    }
  }, [path, load]);
  useEffect(() => {
    void reload();
  }, [reload]);
  return { data, error, reload };
}

const getJson = (path: string): Promise<unknown> => api("GET", path);

/** Loads `path` from the API; `reload()` fetches again after a change. */
export function useApi<T>(path: string | null): Loaded<T> {
  return useLoaded(path, getJson as (path: string) => Promise<T>);
}

/** Every row of the list at `path`, page after page by its cursors (`{ data, next_cursor }`). */
async function allPages(path: string): Promise<{ data: unknown[] }> {
  const rows: unknown[] = [];
  let cursor: string | null = null;
  do {
    const sep = path.includes("?") ? "&" : "?";
    const page: { data: unknown[]; next_cursor?: string | null } = await api(
      "GET",
      cursor === null ? path : `${path}${sep}cursor=${encodeURIComponent(cursor)}`,
    );
    rows.push(...page.data);
    cursor = page.next_cursor ?? null;
  } while (cursor !== null);
  return { data: rows };
}

/**
 * Every row of a list, following its cursors: a catalog's active rows are bounded (500 rewards at
 * most), but more than one page of 200 can hold.
 */
export function useAllPages<T>(path: string): Loaded<{ data: T[] }> {
  return useLoaded(path, allPages as (path: string) => Promise<{ data: T[] }>);
}

/**
 * The state of an editor page's list (stamp cards, tiers, rules, rewards): its rows, the row
 * being edited (`"new"` for a new one), and archiving a row with `DELETE <path>/<id>`.
 *
 * Focus follows the editor: it opens with the focus on its title (`useFocusOnMount`), and when it
 * closes, saved or cancelled, the focus goes back to the button that opened it (the row's Edit), or
 * to the page's New button.
 *
 * @example const cards = useCatalog<StampCard>("/v1/stamp-cards"); cards.archive(card)
 */
export function useCatalog<T extends { id: string }>(path: string, query = "") {
  const list = useAllPages<T>(`${path}${query}`);
  const [editing, setEditingState] = useState<T | "new" | null>(null);
  const [error, setError] = useState<unknown>(null);
  const opener = useRef<HTMLElement | null>(null);
  const [closedAt, setClosedAt] = useState(0);
  useEffect(() => {
    if (closedAt === 0) return;
    const back = opener.current?.isConnected
      ? opener.current
      : document.querySelector<HTMLElement>("[data-catalog-new]");
    back?.focus();
  }, [closedAt]);
  function setEditing(row: T | "new" | null): void {
    if (row !== null) {
      if (editing === null) opener.current = document.activeElement as HTMLElement | null;
    } else if (editing !== null) setClosedAt((n) => n + 1);
    setEditingState(row);
  }
  async function archive(row: T): Promise<void> {
    setError(null);
    try {
      await api("DELETE", `${path}/${row.id}`);
      await list.reload();
    } catch (e) {
      setError(e);
    }
  }
  /** A form saved: close it and show the list as it is now. */
  async function saved(): Promise<void> {
    setEditing(null);
    await list.reload();
  }
  return { list, editing, setEditing, error, archive, saved };
}

/**
 * A form's create call, sent with an `Idempotency-Key` (`FormKey`): pressing Save again after a
 * lost answer gets the first answer back instead of creating a second copy.
 *
 * @example const create = useCreate(); await create("/v1/rewards", body)
 */
export function useCreate(): <T>(path: string, body: unknown) => Promise<T> {
  const [key] = useState(() => new FormKey());
  return useCallback(
    async <T,>(path: string, body: unknown) => {
      try {
        const created = await api<T>("POST", path, body, { idempotencyKey: key.for(body) });
        key.settle();
        return created;
      } catch (e) {
        key.settle(e);
        throw e;
      }
    },
    [key],
  );
}

/** A ref that gives its element the focus when it mounts (an editor's title as the editor opens). */
export function useFocusOnMount<E extends HTMLElement>() {
  const ref = useRef<E>(null);
  useEffect(() => {
    ref.current?.focus();
  }, []);
  return ref;
}

/** An editor page's title, with its "New …" button while no form is open. */
export function CatalogHeader({
  title,
  newLabel,
  editing,
  onNew,
}: {
  title: string;
  newLabel: string;
  editing: boolean;
  onNew: () => void;
}) {
  return (
    <div className="row between wrap">
      <h1>{title}</h1>
      {editing ? null : (
        <button type="button" className="button" onClick={onNew} data-catalog-new>
          {newLabel}
        </button>
      )}
    </div>
  );
}

/** A catalog row's actions: edit it, or archive it after a confirmation that names it. */
export function RowActions({
  name,
  onEdit,
  onArchive,
}: {
  name: string;
  onEdit: () => void;
  onArchive: () => void;
}) {
  const { t } = useT();
  return (
    <div className="row wrap">
      <button type="button" className="button secondary" onClick={onEdit}>
        {t("dashboard.edit")}
      </button>
      <ConfirmButton
        label={t("dashboard.archive")}
        confirmLabel={t("dashboard.archiveConfirm", { name })}
        onConfirm={onArchive}
      />
    </div>
  );
}

/**
 * The program editors' refusals the dashboard words itself (`dashboard.problem.<code>`, in the four
 * languages), next to the field a form maps them to or above the form.
 */
const WORDED_PROBLEMS = new Set([
  "condition_needs_event",
  "condition_needs_purchase",
  "event_type_not_allowed",
  "event_type_required",
  "invalid_cost",
  "invalid_date_range",
  "item_match_not_allowed",
  "item_match_required",
  "items_condition_required",
  "multiplier_needs_purchase",
  "points_per_spend_needs_purchase",
  "reward_catalog_full",
  "rule_limit_reached",
  "slug_taken",
  "stamp_card_limit_reached",
  "stamp_card_not_found",
  "tier_limit_reached",
  "tier_not_found",
  "tier_rank_taken",
  "tier_thresholds_not_increasing",
  // Settings: points must become spendable before they expire ({pending_days}, {expiry_days}).
  "pending_outlasts_expiry",
  // Rewards: a date sent that has already passed (worded without the API's UTC timestamp).
  "valid_until_in_past",
  "starts_at_in_past",
  // Archiving a tier members are in ({members}); changing a row archived meanwhile.
  "tier_in_use",
  "tier_archived",
  "stamp_card_archived",
  "rule_archived",
  "reward_archived",
  // Rules: a location they name is gone; a stamp rule capped by points.
  "location_not_found",
  "cap_points_on_stamps",
]);

/**
 * The refusals the dashboard words: for a page's own `<ErrorMessage known={DASHBOARD_PROBLEMS} />`
 * (archiving a tier members are in: `tier_in_use`), as `FormError` and `fieldErrors` use them.
 */
export const DASHBOARD_PROBLEMS: KnownProblems = { prefix: "dashboard.problem", codes: WORDED_PROBLEMS };

/** A refusal in the user's language, with the figures its details give (`{rank}`); else the API's text. */
function problemText(
  error: ApiError,
  t?: (key: string, values?: Record<string, string | number>) => string,
): string {
  if (!t || !WORDED_PROBLEMS.has(error.code)) return error.message;
  return t(`dashboard.problem.${error.code}`, detailValues(error));
}

/**
 * How a form's money fields are worded: their limits in `currency` as `locale` writes money
 * ("at most €1,000,000.00", not "at most 100000000"). A money field is one whose path ends in
 * `_minor` (`min_spend_minor`, `effect.per_minor`), as the API names amounts in minor units, or
 * one `also` names (a tier's `threshold` when the tiers count spend).
 *
 * Factor fields are worded too: the API takes a multiplier in basis points (`earn_multiplier_bp`,
 * `effect.factor_bp`: 15000 = ×1.5) and the owner types the factor, so their limits are factors
 * ("Enter 1 or more", "Enter more than 1", not "Enter 10001 or more"). A factor field is one whose
 * path ends in `_bp`, or one `factor` names.
 */
export interface MoneyFields {
  currency: string;
  locale: string;
  also?: ((path: string) => boolean) | undefined;
  factor?: ((path: string) => boolean) | undefined;
}

/** Whether the field at `path` holds money under `money`. */
function isMoneyPath(path: string, money: MoneyFields | undefined): boolean {
  if (!money) return false;
  const last = path.slice(path.lastIndexOf(".") + 1);
  return last.endsWith("_minor") || (money.also?.(path) ?? false);
}

/** Whether the field at `path` holds a factor in basis points (a multiplier the owner types as 1.5). */
function isFactorPath(path: string, units: MoneyFields | undefined): boolean {
  const last = path.slice(path.lastIndexOf(".") + 1);
  return last.endsWith("_bp") || (units?.factor?.(path) ?? false);
}

/** One factor is this many basis points: the API's 15000 is the ×1.5 the owner types. */
const BP_PER_FACTOR = 10_000;

/**
 * The API's errors by field: `validation_failed` issues by their path (`effect.points`), and
 * specific codes the form maps to the field they are about (`tier_rank_taken` → `rank`). With
 * `money`, a money field's limits are worded as amounts in the business's currency; a factor
 * field's (`*_bp`) limits are always worded as factors (10000 → "1").
 *
 * @example fieldErrors(error, {}, t, { currency: "EUR", locale }) // { min_spend_minor: "Enter at most €1,000,000.00." }
 * @example fieldErrors(error, {}, t) // { earn_multiplier_bp: "Enter 1 or more." }
 */
export function fieldErrors(
  error: unknown,
  codes: Record<string, string> = {},
  t?: (key: string, values?: Record<string, string | number>) => string,
  money?: MoneyFields,
): Record<string, string> {
  if (!(error instanceof ApiError)) return {};
  const out: Record<string, string> = {};
  const issues = (error.details?.issues ?? []) as Issue[];
  for (const issue of issues) {
    const path = issue.path ?? "";
    if (path in out) continue;
    const unit: Unit = isMoneyPath(path, money)
      ? { money: money as MoneyFields }
      : isFactorPath(path, money)
        ? { factor: money?.locale ?? null }
        : {};
    out[path] = (t && worded(issue, t, unit)) || issue.message || error.message;
  }
  const field = codes[error.code];
  if (field) out[field] = problemText(error, t);
  return out;
}

/** A validation issue as the API gives it: where, the API's words, and what a client words itself. */
interface Issue {
  path?: string;
  message?: string;
  code?: string;
  expected?: string;
  origin?: string;
  limit?: number;
}

/**
 * What a number field holds, for wording its limits: money (minor units of `money.currency`), a
 * factor in basis points (`factor`: the locale to write it in, or null for plain digits), or a
 * plain number.
 */
type Unit = { money?: MoneyFields; factor?: string | null };

/** A limit in basis points as the factor the owner types, written as `locale` writes numbers. */
const factorText = (bp: number, locale: string | null) =>
  locale ? formatNumber(bp / BP_PER_FACTOR, locale) : String(bp / BP_PER_FACTOR);

/** A rule's time window (`conditions.time_window`) and its ends (`.from`, `.to`). */
const TIME_WINDOW = /(^|\.)time_window$/;
const TIME_WINDOW_END = /(^|\.)time_window\.(from|to)$/;
/** The value of a member attribute or event property condition (`conditions.member_attributes.0.value`). */
const ATTRIBUTE_VALUE = /(^|\.)(member_attributes|event_properties)\.\d+\.value$/;

/**
 * The API's own checks whose text is English only (Zod's custom messages in
 * src/modules/rules/schema.ts), by where they sit and what they say, as message keys.
 */
function customIssueKey(issue: Issue): string | null {
  const path = issue.path ?? "";
  if (issue.code === "invalid_format" && TIME_WINDOW_END.test(path)) return "dashboard.error.time";
  if (issue.code !== "custom") return null;
  if (TIME_WINDOW.test(path)) return "dashboard.error.timeWindowSame";
  if (path === "cap" || path.endsWith(".cap")) return "dashboard.error.capNeedsLimit";
  if (ATTRIBUTE_VALUE.test(path)) {
    const message = issue.message ?? "";
    if (message.startsWith("in needs a list")) return "dashboard.error.listNeeded";
    if (message.endsWith("needs a value")) return "dashboard.error.required";
    if (message.includes("takes no value")) return "dashboard.error.noValue";
    if (message.includes("needs a single value")) return "dashboard.error.oneValue";
    if (message.includes("not true or false")) return "dashboard.error.notYesNo";
  }
  return null;
}

/**
 * The common issues in the user's language (a number expected, out of range, a text too short or
 * too long, a handle or an e-mail address not in its form, a rule's time or cap); else null. A
 * money field's limit (`unit.money`: the field holds minor units) is an amount in its currency; a
 * factor field's (`unit.factor`) is a factor, and a limit one basis point past a round factor is
 * "more than 1" rather than "1.0001 or more".
 */
function worded(
  issue: Issue,
  t: (key: string, values?: Record<string, string | number>) => string,
  unit: Unit = {},
): string | null {
  const limit = issue.limit;
  if (issue.code === "invalid_type" && (issue.expected === "number" || issue.expected === "int"))
    return t("dashboard.error.number");
  if (issue.origin === "number" && limit !== undefined) {
    if (unit.factor !== undefined) {
      const locale = unit.factor;
      if (issue.code === "too_small")
        return limit % 100 === 1
          ? t("dashboard.error.moreThan", { limit: factorText(limit - 1, locale) })
          : t("dashboard.error.atLeast", { limit: factorText(limit, locale) });
      if (issue.code === "too_big")
        return limit % 100 === 99
          ? t("dashboard.error.lessThan", { limit: factorText(limit + 1, locale) })
          : t("dashboard.error.atMost", { limit: factorText(limit, locale) });
    }
    const money = unit.money;
    const shown = money ? formatMoney(limit, money.currency, money.locale) : limit;
    if (issue.code === "too_small") return t("dashboard.error.atLeast", { limit: shown });
    if (issue.code === "too_big") return t("dashboard.error.atMost", { limit: shown });
  }
  const custom = customIssueKey(issue);
  if (custom) return t(custom);
  if (issue.origin === "string" && limit !== undefined) {
    // Below one character is an empty field; a longer minimum (a password's 10) says how long.
    if (issue.code === "too_small")
      return limit > 1 ? t("dashboard.error.tooShort", { limit }) : t("dashboard.error.required");
    if (issue.code === "too_big") return t("dashboard.error.tooLong", { limit });
  }
  // The texts with a form of their own: the business's handle (sign-up's `slug`) and an e-mail.
  if (issue.code === "invalid_format") {
    if (issue.path === "slug") return t("dashboard.error.slug");
    if (issue.path === "email" || issue.path?.endsWith(".email")) return t("dashboard.error.email");
  }
  return null;
}

/** The error for `path` or any field under it (`conditions.items` for `conditions.items.skus`). */
export function errorAt(errors: Record<string, string>, ...paths: string[]): string | undefined {
  for (const path of paths) {
    if (errors[path]) return errors[path];
    const nested = Object.keys(errors).find((k) => k.startsWith(`${path}.`));
    if (nested) return errors[nested];
  }
  return undefined;
}

/**
 * The reasons of checks across fields that the dashboard words (`dashboard.issue.<reason>`): a
 * template's tier ladder and welcome stamps, a reward's new type sent without its value.
 */
const ISSUE_REASONS = new Set(["threshold_not_above", "welcome_fills_card", "type_needs_value"]);

/**
 * The issues of a `validation_failed` that carry a reason and its figures (`params`: a template's
 * tier ladder, its welcome stamps), by field, in the user's language; an amount (`<name>_minor`
 * with `currency`) is written as money in `locale` ("Vul meer in dan € 500,00"). Apart from
 * `fieldErrors`, whose wording is for the issues every form meets: lay these over it.
 *
 * @example const errors = { ...fieldErrors(error, {}, t), ...reasonedIssues(error, t, locale) }
 */
export function reasonedIssues(
  error: unknown,
  t: (key: string, values?: Record<string, string | number>) => string,
  locale: string,
): Record<string, string> {
  if (!(error instanceof ApiError)) return {};
  const out: Record<string, string> = {};
  const issues = (error.details?.issues ?? []) as { path?: string; params?: Record<string, unknown> }[];
  for (const { path, params } of issues) {
    const reason = params?.reason;
    if (path === undefined || path in out || typeof reason !== "string" || !ISSUE_REASONS.has(reason))
      continue;
    const values: Record<string, string | number> = {};
    for (const [key, value] of Object.entries(params ?? {})) {
      if (key.endsWith("_minor") && typeof value === "number" && typeof params?.currency === "string") {
        values[key.slice(0, -"_minor".length)] = formatMoney(value, params.currency, locale);
      } else if (typeof value === "number" || typeof value === "string") values[key] = value;
    }
    out[path] = t(`dashboard.issue.${reason}`, values);
  }
  return out;
}

/** A form-level error: shown unless every problem already sits next to its field. */
export function FormError({ error, shown }: { error: unknown; shown: Record<string, string> }) {
  const { t } = useT();
  if (!error) return null;
  if (Object.keys(shown).length > 0) {
    return (
      <div className="alert error" role="alert">
        {t("dashboard.form.fixFields")}
      </div>
    );
  }
  return <ErrorMessage error={error} known={DASHBOARD_PROBLEMS} />;
}

/** Minor units as the text a person types ("4.50"), in the currency's decimals. */
export function moneyText(minor: number | null | undefined, currency: string): string {
  if (minor === null || minor === undefined) return "";
  const digits = currencyDigits(currency);
  return (minor / 10 ** digits).toFixed(digits);
}

/** Reads typed money; empty is `empty`, zero is 0, anything unreadable is NaN. */
export function readMoney(text: string, currency: string, empty: number | null = 0): number | null {
  const trimmed = text.trim();
  if (trimmed === "") return empty;
  if (/^0+([.,]0*)?$/.test(trimmed)) return 0;
  return parseMoney(trimmed, currency) ?? Number.NaN;
}

/**
 * Reads a typed factor ("1.5" or "1,5") as the basis points the API takes (15000); empty is
 * `empty` (a tier's multiplier: ×1, the API's default), anything else unreadable is NaN.
 *
 * @example readFactor("1,5") // 15000
 */
export function readFactor(text: string, empty: number | null = BP_PER_FACTOR): number | null {
  const trimmed = text.trim();
  if (trimmed === "") return empty;
  if (!/^\d+([.,]\d+)?$/.test(trimmed)) return Number.NaN;
  return Math.round(Number(trimmed.replace(",", ".")) * BP_PER_FACTOR);
}

/** Basis points as the factor a person types ("1.5" for 15000). */
export function factorInput(bp: number): string {
  return String(bp / BP_PER_FACTOR);
}

/** What a tier's threshold means under a tier metric: "€500.00", "10 visits", "1,000 points". */
export function tierThresholdText(
  threshold: number,
  metric: "spend" | "points" | "visits",
  currency: string,
  locale: string,
  t: (key: string, values?: Record<string, string | number>) => string,
): string {
  if (metric === "spend") return formatMoney(threshold, currency, locale);
  return t(metric === "visits" ? "dashboard.tiers.visits" : "dashboard.tiers.points", {
    count: threshold,
    value: formatNumber(threshold, locale),
  });
}

/** Reads a typed whole number; empty is `empty`, anything else unreadable is NaN. */
export function readInt(text: string, empty: number | null = null): number | null {
  const trimmed = text.trim();
  if (trimmed === "") return empty;
  return /^-?\d+$/.test(trimmed) ? Number(trimmed) : Number.NaN;
}

/** "a, b ,c" as ["a", "b", "c"]. */
export function readList(text: string): string[] {
  return text
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
}

/**
 * A group of fields with one error for the group (a card's products: name at least one): the
 * error and the hint describe the group (`aria-describedby`), so a screen reader says them on
 * entering it, and `data-invalid` lets `focusFirstInvalid` take the focus to its first control.
 */
export function FieldGroup({
  legend,
  hint,
  error,
  className = "stack",
  children,
}: {
  legend: ReactNode;
  hint?: string | undefined;
  error?: string | null | undefined;
  className?: string;
  children: ReactNode;
}) {
  const id = useId();
  const described = [hint ? `${id}-hint` : null, error ? `${id}-error` : null].filter(Boolean).join(" ");
  return (
    <fieldset
      className={className}
      {...(described ? { "aria-describedby": described } : {})}
      {...(error ? { "data-invalid": true } : {})}
    >
      <legend>{legend}</legend>
      {hint ? (
        <p id={`${id}-hint`} className="hint">
          {hint}
        </p>
      ) : null}
      {error ? (
        <p id={`${id}-error`} className="error">
          {error}
        </p>
      ) : null}
      {children}
    </fieldset>
  );
}

/** The controls a refused save points at: a field marked invalid, or the first control of a group. */
const INVALID = [
  '[aria-invalid="true"]',
  ...["input", "select", "textarea"].map((control) => `[data-invalid] ${control}`),
].join(", ");

/**
 * Gives the focus to the first field of `root` a refused save marked (`aria-invalid`, or a
 * `FieldGroup` with an error), so the keyboard and a screen reader land on what to correct; true
 * if there was one.
 */
export function focusFirstInvalid(root: ParentNode | null | undefined): boolean {
  const target = root?.querySelector<HTMLElement>(INVALID);
  target?.focus();
  return target !== null && target !== undefined;
}

/**
 * A form's ref that, after each refused save (`error` set anew), moves the focus to its first
 * marked field; the focus stays put when nothing in the form is marked (a form-level refusal,
 * which its alert announces).
 *
 * @example const form = useFocusOnRefusal(error); <form ref={form} …>
 */
export function useFocusOnRefusal(error: unknown) {
  const ref = useRef<HTMLFormElement>(null);
  useEffect(() => {
    if (error) focusFirstInvalid(ref.current);
  }, [error]);
  return ref;
}

/** A labelled checkbox, with the error that marks it (a confirmation still to give). */
export function Check({
  label,
  checked,
  onChange,
  hint,
  error,
}: {
  label: ReactNode;
  checked: boolean;
  onChange: (checked: boolean) => void;
  hint?: string;
  error?: string | null | undefined;
}) {
  const id = useId();
  const box = (
    <div className="check">
      <input
        id={id}
        type="checkbox"
        checked={checked}
        onChange={(e) => onChange(e.target.checked)}
        {...(error ? { "aria-invalid": true, "aria-describedby": `${id}-error` } : {})}
      />
      <label htmlFor={id}>
        {label}
        {hint ? <span className="hint"> — {hint}</span> : null}
      </label>
    </div>
  );
  if (!error) return box;
  return (
    <>
      {box}
      <p id={`${id}-error`} className="error">
        {error}
      </p>
    </>
  );
}

/** A button that asks once more before it does something that cannot be undone from here. */
export function ConfirmButton({
  label,
  confirmLabel,
  onConfirm,
  disabled,
}: {
  label: string;
  confirmLabel: string;
  onConfirm: () => void | Promise<void>;
  disabled?: boolean;
}) {
  const [asking, setAsking] = useState(false);
  const { t } = useT();
  const confirm = useRef<HTMLButtonElement>(null);
  const ask = useRef<HTMLButtonElement>(null);
  const wasAsking = useRef(false);
  // Keyboard users stay where they were: on the question once it appears, back on the button after.
  useEffect(() => {
    if (asking) confirm.current?.focus();
    else if (wasAsking.current) ask.current?.focus();
    wasAsking.current = asking;
  }, [asking]);
  if (!asking) {
    return (
      <button
        ref={ask}
        type="button"
        className="button secondary"
        disabled={disabled}
        onClick={() => setAsking(true)}
      >
        {label}
      </button>
    );
  }
  return (
    <span className="row">
      <button
        ref={confirm}
        type="button"
        className="button danger"
        onClick={() => {
          setAsking(false);
          void onConfirm();
        }}
      >
        {confirmLabel}
      </button>
      <button type="button" className="button ghost" onClick={() => setAsking(false)}>
        {t("common.cancel")}
      </button>
    </span>
  );
}

/** `value` as JSON with object keys sorted: equal for equal data whatever the keys' order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)),
        )
      : v,
  );
}

/**
 * The fields of an edit form's `body` that differ from what the form opened with (`stored`): what
 * a PATCH sends. An unchanged reference (a tier or card archived since) is then not checked again,
 * and a field someone else changed meanwhile is not written back.
 *
 * @example await api("PATCH", `/v1/rules/${rule.id}`, changedFields(body, rule))
 */
export function changedFields<T extends Record<string, unknown>>(
  body: T,
  stored: Readonly<Record<string, unknown>>,
): Partial<T> {
  return Object.fromEntries(
    Object.entries(body).filter(([key, value]) => canonical(value) !== canonical(stored[key] ?? null)),
  ) as Partial<T>;
}
