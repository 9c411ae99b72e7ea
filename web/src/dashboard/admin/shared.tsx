import { type DependencyList, useCallback, useEffect, useRef, useState } from "react";
import { ApiError } from "../../api.ts";
import type { Translator } from "../../i18n/index.tsx";
import { localPhoneExample } from "../../ui/phone.ts";

/** What the admin pages share: loading data, API errors as field messages, the staff roles. */

export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

export type Role = "owner" | "manager" | "cashier";
const RANK: Record<Role, number> = { cashier: 1, manager: 2, owner: 3 };

/** True when `role` is at least `required`, as the API checks it (owner > manager > cashier). */
export function roleAtLeast(role: Role, required: Role): boolean {
  return RANK[role] >= RANK[required];
}

/**
 * Whether `role` may list the business's staff (`GET /v1/staff`), as the API decides it
 * (src/http/routes/staff.ts: managers and owners). A cashier would get a 403: it sees names only for
 * themselves.
 */
export function mayListStaff(role: Role): boolean {
  return role === "owner" || role === "manager";
}

export interface Loaded<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload(): void;
}

/**
 * Loads something on mount and whenever `deps` change; `reload()` fetches again. A newer load wins
 * over an older one that answers late.
 */
export function useLoad<T>(load: (signal: AbortSignal) => Promise<T>, deps: DependencyList): Loaded<T> {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  // biome-ignore lint/correctness/useExhaustiveDependencies: the caller names what the load depends on
  useEffect(() => {
    const controller = new AbortController();
    setLoading(true);
    load(controller.signal)
      .then((value) => {
        setData(value);
        setError(null);
      })
      .catch((e: unknown) => {
        if (!controller.signal.aborted) setError(e);
      })
      .finally(() => {
        if (!controller.signal.aborted) setLoading(false);
      });
    return () => controller.abort();
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((n) => n + 1), []);
  return { data, error, loading, reload };
}

/** Error codes the API returns for one field, and the field they belong to. */
const CODE_FIELDS: Record<string, string> = {
  member_email_taken: "email",
  member_phone_taken: "phone",
  member_external_id_taken: "external_id",
  staff_email_taken: "email",
  currency_locked: "currency",
  insufficient_points: "points",
  insufficient_stamps: "stamps",
  stamp_card_not_found: "stamp_card_id",
};

/** Codes with a message of their own in `admin.error.*`. */
const KNOWN_CODES = new Set([
  ...Object.keys(CODE_FIELDS),
  "forbidden",
  "last_owner",
  "own_owner_account",
  "member_not_found",
  "member_erased",
  "staff_not_found",
  "api_key_not_found",
  "location_not_found",
  "network_error",
  "unauthorized",
]);

/**
 * Splits an API error into messages per field (`validation_failed` issues and field-specific
 * codes such as `member_email_taken`) and one message for the rest of the form.
 *
 * @example const { fields, form } = explain(error, t); <Field error={fields.email} ...>
 */
export function explain(
  error: unknown,
  t: Translator["t"],
): { fields: Record<string, string>; form: string | null } {
  if (!error) return { fields: {}, form: null };
  if (!(error instanceof ApiError)) {
    return { fields: {}, form: t("admin.error.unexpected", { message: String(error) }) };
  }
  const fields: Record<string, string> = {};
  if (error.code === "validation_failed") {
    const issues = (error.details?.issues ?? []) as { path?: string; message?: string }[];
    for (const issue of issues) {
      const path = issue.path ?? "";
      const field = path.split(".")[0] ?? "";
      if (field && !fields[field])
        fields[field] = t("admin.error.invalidField", { message: issue.message ?? "" });
    }
    if (Object.keys(fields).length > 0) return { fields, form: null };
    return { fields, form: t("admin.error.invalid", { message: error.message }) };
  }
  const field = CODE_FIELDS[error.code];
  const text = KNOWN_CODES.has(error.code)
    ? t(`admin.error.${error.code}`)
    : t("admin.error.unexpected", { message: error.message });
  if (field) return { fields: { [field]: text }, form: null };
  return { fields, form: text };
}

/**
 * The hint by a member's phone field: a number as dialled in the business's country where the API
 * reads one (the Netherlands: 06 12345678), else the international form.
 */
export function phoneHint(t: Translator["t"], timeZone: string): string {
  const example = localPhoneExample(timeZone);
  return example ? t("admin.member.field.phoneHintLocal", { example }) : t("admin.member.field.phoneHint");
}

/** A form's messages: errors per field from the last failed request, or the form's own. */
export function FormError({ text }: { text: string | null }) {
  if (!text) return null;
  return (
    <div className="alert error" role="alert">
      {text}
    </div>
  );
}

/**
 * A form's submit, one at a time: a second press (a double click) while the first is under way
 * does nothing, and `busy` disables the button meanwhile. Without it, "Create key" made two keys.
 *
 * @example const [busy, once] = useOneAtATime(); <form onSubmit={(e) => once(() => add(e))}>
 */
export function useOneAtATime(): [boolean, (work: () => Promise<void>) => void] {
  const running = useRef(false);
  const [busy, setBusy] = useState(false);
  const once = (work: () => Promise<void>) => {
    if (running.current) return;
    running.current = true;
    setBusy(true);
    void work().finally(() => {
      running.current = false;
      setBusy(false);
    });
  };
  return [busy, once];
}
