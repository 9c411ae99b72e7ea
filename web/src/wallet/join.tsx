import { type FormEvent, useEffect, useRef, useState } from "react";
import { ApiError, api, newKey } from "../api.ts";
import { deviceLocale, LOCALE_NAMES, LOCALES, type Locale, useT } from "../i18n/index.tsx";
import { Link, navigate } from "../router.tsx";
import { ErrorMessage, Field, TopBar } from "../ui/components.tsx";
import { localPhoneExample } from "../ui/phone.ts";
import { type ContactErrors, ContactFields, type ContactValues, invalidContact } from "./contact-fields.tsx";
import { programLine } from "./program.tsx";
import { cardToken, saveCardToken } from "./storage.ts";
import type { PublicBusiness } from "./types.ts";

/** Marks that the card page should greet a new member and show their card link. */
export const JUST_JOINED = "regulars.just-joined";

type Errors = ContactErrors & { consent?: string };
const FIELD_ORDER = ["name", "contact", "email", "phone", "birthday", "consent"] as const;

export function JoinPage({ slug }: { slug: string }) {
  const { t, locale, setLocale, chosen } = useT();
  const [business, setBusiness] = useState<PublicBusiness | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [contact, setContact] = useState<ContactValues>({ name: "", email: "", phone: "", birthday: "" });
  const { name, email, phone, birthday } = contact;
  const [consent, setConsent] = useState<"yes" | "no" | null>(null);
  const [errors, setErrors] = useState<Errors>({});
  const [submitError, setSubmitError] = useState<unknown>(null);
  const [exists, setExists] = useState(false);
  const [busy, setBusy] = useState(false);
  const attempt = useRef<{ key: string; body: string } | null>(null);
  const member = cardToken(slug) !== null;
  // The controls an error can be about, in the order of the form: focus goes to the first invalid one.
  const controls = useRef<Partial<Record<keyof Errors, HTMLElement | null>>>({});
  const place = (field: keyof Errors) => (element: HTMLElement | null) => {
    controls.current[field] = element;
  };

  // After a refused submit, focus moves to the first invalid control: a screen reader says its
  // label and its error (tied with aria-describedby); the summary is announced as an alert.
  useEffect(() => {
    const first = FIELD_ORDER.find((field) => errors[field]);
    if (first) controls.current[first === "contact" ? "email" : first]?.focus();
  }, [errors]);

  useEffect(() => {
    api<PublicBusiness>("GET", `/v1/public/businesses/${encodeURIComponent(slug)}`)
      .then((b) => {
        setBusiness(b);
        document.title = b.name;
      })
      .catch(setLoadError);
  }, [slug]);

  // The phone's own language when Regulars speaks it, else the business's.
  useEffect(() => {
    if (business && !chosen && !deviceLocale())
      setLocale(
        (LOCALES as readonly string[]).includes(business.locale) ? (business.locale as Locale) : "en",
        { remember: false },
      );
  }, [business, chosen, setLocale]);

  if (loadError) {
    const missing = loadError instanceof ApiError && loadError.status === 404;
    return (
      <>
        <TopBar />
        <main className="phone">
          {missing ? (
            <>
              <h1>{t("wallet.join.notFound.title")}</h1>
              <p>{t("wallet.join.notFound.body")}</p>
            </>
          ) : (
            <ErrorMessage error={loadError} />
          )}
        </main>
      </>
    );
  }
  if (!business) return <div className="loading" aria-busy="true" />;
  // A number as dialled in the business's country, where the server reads one (else international).
  const phoneExample = localPhoneExample(business.timezone);

  async function submit(event: FormEvent) {
    event.preventDefault();
    const found: Errors = {};
    if (!name.trim()) found.name = t("wallet.join.error.name");
    if (!email.trim() && !phone.trim()) found.contact = t("wallet.join.error.contact");
    if (consent === null) found.consent = t("wallet.join.error.consent");
    setErrors(found);
    setSubmitError(null);
    setExists(false);
    if (Object.keys(found).length > 0) return;
    const body = {
      name: name.trim(),
      email: email.trim() || null,
      phone: phone.trim() || null,
      birthday: birthday || null,
      marketing_consent: consent === "yes",
      locale,
    };
    const text = JSON.stringify(body);
    // A retry of the same form (e.g. after a dropped connection) reuses its key: one member.
    if (attempt.current?.body !== text) attempt.current = { key: newKey(), body: text };
    setBusy(true);
    try {
      const result = await api<{ member_code: string; card_token: string }>(
        "POST",
        `/v1/public/businesses/${encodeURIComponent(slug)}/members`,
        body,
        { idempotencyKey: attempt.current.key },
      );
      saveCardToken(slug, result.card_token);
      sessionStorage.setItem(JUST_JOINED, slug);
      navigate(`/card/${encodeURIComponent(slug)}`);
    } catch (error) {
      if (error instanceof ApiError && error.code === "member_exists") setExists(true);
      else if (error instanceof ApiError && error.code === "validation_failed") {
        const path = String((error.details?.issues as { path?: string }[] | undefined)?.[0]?.path ?? "");
        const invalid =
          invalidContact(t, path, phoneExample) ??
          (/birthday/i.test(error.message) ? invalidContact(t, "birthday", phoneExample) : null);
        if (invalid) setErrors(invalid);
        else setSubmitError(error);
      } else setSubmitError(error);
    } finally {
      setBusy(false);
    }
  }

  const line = programLine(t, locale, business);
  return (
    <>
      <TopBar title={business.name} home={`/join/${encodeURIComponent(slug)}`} />
      <main className="phone wallet">
        <h1>{t("wallet.join.title", { business: business.name })}</h1>
        {line ? <p className="wallet-program">{line}</p> : null}
        {member ? (
          <div className="alert ok">
            {t("wallet.join.alreadyHere")}{" "}
            <Link href={`/card/${encodeURIComponent(slug)}`}>{t("wallet.join.openCard")}</Link>
          </div>
        ) : null}
        <form className="card stack" onSubmit={submit} noValidate>
          <ContactFields
            labels={{
              name: t("wallet.join.name"),
              email: t("wallet.join.email"),
              phone: t("wallet.join.phone"),
              birthday: t("wallet.join.birthday"),
            }}
            values={contact}
            onChange={(field, value) => setContact((c) => ({ ...c, [field]: value }))}
            errors={errors}
            phoneExample={phoneExample}
            contactHint={t("wallet.join.contactHint")}
            birthdayHint={t("wallet.join.birthdayHint")}
            controlRef={place}
          />
          <fieldset aria-describedby={errors.consent ? "consent-error" : undefined}>
            <legend>{t("wallet.join.consent", { business: business.name })}</legend>
            <label className="check">
              <input
                ref={place("consent")}
                type="radio"
                name="consent"
                checked={consent === "yes"}
                onChange={() => setConsent("yes")}
              />
              {t("wallet.join.consentYes")}
            </label>
            <label className="check">
              <input
                type="radio"
                name="consent"
                checked={consent === "no"}
                onChange={() => setConsent("no")}
              />
              {t("wallet.join.consentNo")}
            </label>
            {errors.consent ? (
              <span id="consent-error" className="error">
                {errors.consent}
              </span>
            ) : null}
          </fieldset>
          <Field label={t("wallet.join.language")}>
            {(props) => (
              <select {...props} value={locale} onChange={(e) => setLocale(e.target.value as Locale)}>
                {LOCALES.map((l) => (
                  <option key={l} value={l} lang={l}>
                    {LOCALE_NAMES[l]}
                  </option>
                ))}
              </select>
            )}
          </Field>
          {exists ? (
            <div className="alert warn" role="alert">
              {t("wallet.join.exists")}
            </div>
          ) : null}
          {Object.keys(errors).length > 0 ? (
            <p className="error" role="alert">
              {t("wallet.join.error.summary", { count: Object.keys(errors).length })}
            </p>
          ) : null}
          <ErrorMessage error={submitError} />
          <button type="submit" className="button large block" disabled={busy}>
            {busy ? t("wallet.join.joining") : t("wallet.join.submit")}
          </button>
        </form>
      </main>
    </>
  );
}
