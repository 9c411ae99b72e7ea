import { type ReactNode, useId } from "react";
import { ApiError } from "../api.ts";
import { LOCALE_NAMES, LOCALES, type Locale, useT } from "../i18n/index.tsx";
import { Link } from "../router.tsx";

/** The app's few shared pieces: the top bar, the language picker, form fields, error messages. */

export function LanguagePicker() {
  const { locale, setLocale, t } = useT();
  const id = useId();
  return (
    <span className="row">
      <label htmlFor={id} className="visually-hidden">
        {t("common.language")}
      </label>
      <select id={id} value={locale} onChange={(e) => setLocale(e.target.value as Locale)}>
        {LOCALES.map((l) => (
          <option key={l} value={l} lang={l}>
            {LOCALE_NAMES[l]}
          </option>
        ))}
      </select>
    </span>
  );
}

export function TopBar({
  title,
  children,
  home = "/",
}: {
  title?: string;
  children?: ReactNode;
  home?: string;
}) {
  const { t } = useT();
  return (
    <header className="topbar">
      <Link href={home} className="brand">
        <img src="/icon.svg" alt="" width={28} height={28} />
        {title ?? t("common.appName")}
      </Link>
      <span className="spacer" />
      {children}
      <LanguagePicker />
    </header>
  );
}

export function Field({
  label,
  hint,
  error,
  children,
}: {
  label: string;
  hint?: string | undefined;
  error?: string | null | undefined;
  /** Receives the ids to put on the control: `id`, and `aria-describedby` for the hint/error. */
  children: (props: { id: string; "aria-describedby"?: string; "aria-invalid"?: boolean }) => ReactNode;
}) {
  const id = useId();
  const described = [hint ? `${id}-hint` : null, error ? `${id}-error` : null].filter(Boolean).join(" ");
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {children({
        id,
        ...(described ? { "aria-describedby": described } : {}),
        ...(error ? { "aria-invalid": true } : {}),
      })}
      {hint ? (
        <span id={`${id}-hint`} className="hint">
          {hint}
        </span>
      ) : null}
      {error ? (
        <span id={`${id}-error`} className="error">
          {error}
        </span>
      ) : null}
    </div>
  );
}

/**
 * Refusals a screen words itself: the codes it knows, under a prefix of its messages
 * (`wallet.problem.insufficient_points`).
 */
export interface KnownProblems {
  prefix: string;
  codes: ReadonlySet<string>;
}

/** An API error's details that a message may name (`{rank}`): its texts and numbers. */
export function detailValues(error: ApiError): Record<string, string | number> {
  const values: Record<string, string | number> = {};
  for (const [name, value] of Object.entries(error.details ?? {}))
    if (typeof value === "string" || typeof value === "number") values[name] = value;
  return values;
}

/**
 * An error from the API or the network as a message the user can act on: in the user's language
 * for the refusals the screen knows (`known`), else the API's own message.
 */
export function ErrorMessage({ error, known }: { error: unknown; known?: KnownProblems }) {
  const { t } = useT();
  if (!error) return null;
  const text =
    error instanceof ApiError
      ? error.code === "network_error"
        ? t("common.error.network")
        : known?.codes.has(error.code)
          ? t(`${known.prefix}.${error.code}`, detailValues(error))
          : t("common.error.generic", { message: error.message })
      : t("common.error.generic", { message: error instanceof Error ? error.message : String(error) });
  return (
    <div className="alert error" role="alert">
      {text}
    </div>
  );
}

export function NotFound() {
  const { t } = useT();
  return (
    <main className="narrow">
      <h1>{t("common.notFound.title")}</h1>
      <p>{t("common.notFound.body")}</p>
      <Link href="/">{t("common.notFound.home")}</Link>
    </main>
  );
}
