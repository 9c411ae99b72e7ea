import { type FormEvent, useEffect, useMemo, useState } from "react";
import { ApiError, api, FormKey, setCsrfToken } from "../api.ts";
import { LOCALE_NAMES, LOCALES, type Locale, useT } from "../i18n/index.tsx";
import { Link, navigate } from "../router.tsx";
import { Field, TopBar } from "../ui/components.tsx";
import { errorAt, FormError, fieldErrors } from "./forms.tsx";

/** Sign-up and log-in: the two pages of the dashboard that need no session. */

const CURRENCIES = [
  "EUR",
  "PLN",
  "BRL",
  "USD",
  "GBP",
  "CHF",
  "SEK",
  "DKK",
  "NOK",
  "CZK",
  "HUF",
  "CAD",
  "AUD",
];

/** "Café De Gouden Boon" → "cafe-de-gouden-boon": lowercase ASCII, dashes, 3–40 characters. */
export function suggestSlug(name: string): string {
  const slug = name
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .replace(/ł/g, "l")
    .replace(/Ł/g, "l")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 40)
    .replace(/-+$/g, "");
  return slug.length >= 3 ? slug : slug ? `${slug}-shop`.slice(0, 40) : "";
}

function browserTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

function timeZones(current: string): string[] {
  const supported = (Intl as { supportedValuesOf?: (key: string) => string[] }).supportedValuesOf?.(
    "timeZone",
  );
  const zones = supported && supported.length > 0 ? [...supported] : [current, "UTC"];
  if (!zones.includes(current)) zones.unshift(current);
  return zones;
}

export function SignupPage() {
  const { t, locale } = useT();
  const [name, setName] = useState("");
  const [slug, setSlug] = useState("");
  const [slugEdited, setSlugEdited] = useState(false);
  const [currency, setCurrency] = useState(locale === "pl" ? "PLN" : locale === "pt-BR" ? "BRL" : "EUR");
  const [timezone, setTimezone] = useState(browserTimeZone);
  const [language, setLanguage] = useState<Locale>(locale);
  const [ownerName, setOwnerName] = useState("");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  // Pressing "Create my business" again after a lost answer logs the owner in to the business the
  // first press made, instead of telling them their own handle is taken.
  const [key] = useState(() => new FormKey());
  const zones = useMemo(() => timeZones(timezone), [timezone]);
  const errors = fieldErrors(error, { slug_taken: "slug" }, t);
  const shownSlug = slugEdited ? slug : suggestSlug(name);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    const body = {
      name,
      slug: shownSlug,
      currency,
      timezone,
      locale: language,
      owner: { name: ownerName, email, password },
      session: "cookie",
    };
    try {
      const result = await api<{ csrf_token?: string }>("POST", "/v1/businesses", body, {
        idempotencyKey: key.for(body),
      });
      key.settle();
      setCsrfToken(result.csrf_token);
      navigate("/app/onboarding");
    } catch (e) {
      key.settle(e);
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  return (
    <>
      <TopBar />
      <main className="narrow">
        <h1>{t("dashboard.signup.title")}</h1>
        <p className="muted">{t("dashboard.signup.lead")}</p>
        <form className="card stack" onSubmit={submit} noValidate>
          <FormError error={error} shown={errors} />
          <Field label={t("dashboard.signup.businessName")} error={errors.name}>
            {(p) => (
              <input
                {...p}
                value={name}
                onChange={(e) => setName(e.target.value)}
                required
                autoComplete="organization"
              />
            )}
          </Field>
          <Field label={t("dashboard.signup.slug")} hint={t("dashboard.signup.slugHint")} error={errors.slug}>
            {(p) => (
              <input
                {...p}
                value={shownSlug}
                onChange={(e) => {
                  setSlugEdited(true);
                  setSlug(e.target.value.toLowerCase());
                }}
                required
                autoCapitalize="none"
                spellCheck={false}
              />
            )}
          </Field>
          <div className="grid">
            <Field label={t("dashboard.signup.currency")} error={errors.currency}>
              {(p) => (
                <select {...p} value={currency} onChange={(e) => setCurrency(e.target.value)}>
                  {CURRENCIES.map((c) => (
                    <option key={c} value={c}>
                      {c}
                    </option>
                  ))}
                </select>
              )}
            </Field>
            <Field label={t("dashboard.signup.language")} error={errors.locale}>
              {(p) => (
                <select {...p} value={language} onChange={(e) => setLanguage(e.target.value as Locale)}>
                  {LOCALES.map((l) => (
                    <option key={l} value={l} lang={l}>
                      {LOCALE_NAMES[l]}
                    </option>
                  ))}
                </select>
              )}
            </Field>
          </div>
          <Field label={t("dashboard.signup.timezone")} error={errors.timezone}>
            {(p) => (
              <select {...p} value={timezone} onChange={(e) => setTimezone(e.target.value)}>
                {zones.map((z) => (
                  <option key={z} value={z}>
                    {z}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <h2>{t("dashboard.signup.owner")}</h2>
          <Field label={t("dashboard.signup.ownerName")} error={errors["owner.name"]}>
            {(p) => (
              <input
                {...p}
                value={ownerName}
                onChange={(e) => setOwnerName(e.target.value)}
                autoComplete="name"
              />
            )}
          </Field>
          <Field label={t("dashboard.auth.email")} error={errors["owner.email"]}>
            {(p) => (
              <input
                {...p}
                type="email"
                value={email}
                onChange={(e) => setEmail(e.target.value)}
                autoComplete="email"
              />
            )}
          </Field>
          <Field
            label={t("dashboard.auth.password")}
            hint={t("dashboard.signup.passwordHint")}
            error={errorAt(errors, "owner.password")}
          >
            {(p) => (
              <input
                {...p}
                type="password"
                value={password}
                onChange={(e) => setPassword(e.target.value)}
                autoComplete="new-password"
              />
            )}
          </Field>
          <button type="submit" className="button large block" disabled={busy}>
            {t("dashboard.signup.submit")}
          </button>
        </form>
        <p>
          {t("dashboard.signup.haveAccount")} <Link href="/login">{t("dashboard.login.title")}</Link>
        </p>
      </main>
    </>
  );
}

export function LoginPage() {
  const { t } = useT();
  const [business, setBusiness] = useState(() => localStorage.getItem("regulars.business") ?? "");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const errors = fieldErrors(error, {}, t);

  // Someone already logged in on this browser goes straight to their screen.
  useEffect(() => {
    const controller = new AbortController();
    api<{ staff: { role: string } | null }>("GET", "/v1/auth/me", undefined, { signal: controller.signal })
      .then((me) => {
        if (me.staff) navigate(me.staff.role === "cashier" ? "/counter" : "/app", { replace: true });
      })
      .catch(() => {});
    return () => controller.abort();
  }, []);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const result = await api<{ csrf_token?: string; staff: { role: string } }>("POST", "/v1/auth/login", {
        business: business.trim().toLowerCase(),
        email: email.trim(),
        password,
        session: "cookie",
      });
      localStorage.setItem("regulars.business", business.trim().toLowerCase());
      setCsrfToken(result.csrf_token);
      navigate(result.staff.role === "cashier" ? "/counter" : "/app");
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  const wrong = error instanceof ApiError && error.code === "invalid_credentials";
  const limited = error instanceof ApiError && error.code === "rate_limited";
  return (
    <>
      <TopBar />
      <main className="narrow">
        <h1>{t("dashboard.login.title")}</h1>
        <form className="card stack" onSubmit={submit} noValidate>
          {wrong ? (
            <div className="alert error" role="alert">
              {t("dashboard.login.wrong")}
            </div>
          ) : limited ? (
            <div className="alert error" role="alert">
              {t("dashboard.login.limited")}
            </div>
          ) : (
            <FormError error={error} shown={errors} />
          )}
          <Field
            label={t("dashboard.login.business")}
            hint={t("dashboard.login.businessHint")}
            error={errors.business}
          >
            {(p) => (
              <input
                {...p}
                value={business}
                onChange={(e) => setBusiness(e.target.value)}
                autoCapitalize="none"
                spellCheck={false}
                autoComplete="organization"
              />
            )}
          </Field>
          <Field label={t("dashboard.auth.email")} error={errors.email}>
            {(p) => (
              <input
                {...p}
                type="email"
                value={email}
                onChange={(e) => setEmail(e.target.value)}
                autoComplete="username"
              />
            )}
          </Field>
          <Field label={t("dashboard.auth.password")} error={errors.password}>
            {(p) => (
              <input
                {...p}
                type="password"
                value={password}
                onChange={(e) => setPassword(e.target.value)}
                autoComplete="current-password"
              />
            )}
          </Field>
          <button type="submit" className="button large block" disabled={busy}>
            {t("dashboard.login.submit")}
          </button>
        </form>
        <p>
          {t("dashboard.login.noAccount")} <Link href="/signup">{t("dashboard.signup.title")}</Link>
        </p>
      </main>
    </>
  );
}
