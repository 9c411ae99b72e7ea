import { type FormEvent, useEffect, useRef, useState } from "react";
import { ApiError, api } from "../api.ts";
import { formatDate } from "../i18n/format.ts";
import { useT } from "../i18n/index.tsx";
import { Link } from "../router.tsx";
import { ErrorMessage, type KnownProblems } from "../ui/components.tsx";
import { localPhoneExample } from "../ui/phone.ts";
import { type ContactErrors, ContactFields, type ContactValues, invalidContact } from "./contact-fields.tsx";
import type { WalletCard } from "./types.ts";

/**
 * The customer's own data from their card (GDPR access, correction and erasure), without asking
 * at the counter: "My details" (see and correct name, email, phone, and a birthday not yet
 * given), "Download my data" (the business's whole record of them, as JSON), and "Delete my card"
 * after a confirmation that says what is lost.
 */

/** The member's details as `GET /v1/wallet/me/details` answers them. */
export interface WalletDetails {
  name: string | null;
  email: string | null;
  phone: string | null;
  birthday: string | null;
  /** Only while no birthday is given: after that the counter changes it. */
  birthday_editable: boolean;
}

/** The text the API wants to confirm an erasure (`POST /v1/wallet/me/erase`). */
const ERASE_CONFIRMATION = "ERASE";

/** Whether an error says that this card was deleted (on this phone or another). */
export function cardErased(error: unknown): boolean {
  return error instanceof ApiError && error.status === 410 && error.code === "card_erased";
}

/** "My details": the member's details, read when asked for, and a form to correct them. */
export function MyDetails({
  card,
  token,
  offline,
  onSaved,
  onErased,
}: {
  card: WalletCard;
  token: string | null;
  offline: boolean;
  /** The details changed: the card (its greeting) is read again. */
  onSaved: () => Promise<void>;
  onErased: () => void;
}) {
  const { t, locale } = useT();
  const [details, setDetails] = useState<WalletDetails | null>(null);
  const [editing, setEditing] = useState(false);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);

  async function show() {
    if (!token) return;
    setLoading(true);
    setError(null);
    try {
      setDetails(await api<WalletDetails>("GET", "/v1/wallet/me/details", undefined, { token }));
    } catch (e) {
      if (cardErased(e)) return onErased();
      setError(e);
    } finally {
      setLoading(false);
    }
  }

  const tz = card.business.timezone;
  return (
    <section className="card stack" aria-labelledby="details-title">
      <h2 id="details-title">{t("wallet.details.title")}</h2>
      {saved ? (
        <div className="alert ok" role="status">
          {t("wallet.details.saved")}
        </div>
      ) : null}
      {details && editing && token ? (
        <DetailsForm
          details={details}
          token={token}
          timeZone={tz}
          onCancel={() => setEditing(false)}
          onErased={onErased}
          onSaved={(next) => {
            setDetails(next);
            setEditing(false);
            setSaved(true);
            void onSaved();
          }}
        />
      ) : details ? (
        <>
          <ul className="wallet-list">
            {(
              [
                ["name", details.name],
                ["email", details.email],
                ["phone", details.phone],
                [
                  "birthday",
                  // A calendar date: shown as such, in no time zone's light.
                  details.birthday ? formatDate(`${details.birthday}T12:00:00Z`, locale, "UTC") : null,
                ],
              ] as const
            ).map(([field, value]) => (
              <li key={field}>
                <span className="muted wallet-small">{t(`wallet.details.${field}`)}</span>
                <br />
                {value ?? t("wallet.details.none")}
              </li>
            ))}
          </ul>
          <button
            type="button"
            className="button secondary"
            disabled={offline}
            onClick={() => {
              setSaved(false);
              setEditing(true);
            }}
          >
            {t("wallet.details.edit")}
          </button>
        </>
      ) : (
        <>
          <p className="muted">{t("wallet.details.intro", { business: card.business.name })}</p>
          <button
            type="button"
            className="button secondary"
            disabled={offline || !token || loading}
            onClick={() => void show()}
          >
            {t("wallet.details.show")}
          </button>
        </>
      )}
      <ErrorMessage error={error} known={PROBLEMS} />
    </section>
  );
}

function DetailsForm({
  details,
  token,
  timeZone,
  onCancel,
  onSaved,
  onErased,
}: {
  details: WalletDetails;
  token: string;
  timeZone: string;
  onCancel: () => void;
  onSaved: (details: WalletDetails) => void;
  onErased: () => void;
}) {
  const { t } = useT();
  const [contact, setContact] = useState<ContactValues>({
    name: details.name ?? "",
    email: details.email ?? "",
    phone: details.phone ?? "",
    birthday: details.birthday ?? "",
  });
  const { name, email, phone, birthday } = contact;
  const [errors, setErrors] = useState<ContactErrors>({});
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const first = useRef<HTMLInputElement>(null);
  useEffect(() => first.current?.focus(), []);
  const phoneExample = localPhoneExample(timeZone);

  async function save(event: FormEvent) {
    event.preventDefault();
    const found: ContactErrors = {};
    if (!name.trim()) found.name = t("wallet.join.error.name");
    if (!email.trim() && !phone.trim()) found.contact = t("wallet.details.error.contact");
    setErrors(found);
    setError(null);
    if (Object.keys(found).length > 0) return;
    // Only what changed: a field left as it was is not sent (nor audited as changed).
    const patch: Record<string, string | null> = {};
    if (name.trim() !== (details.name ?? "")) patch.name = name.trim();
    if (email.trim() !== (details.email ?? "")) patch.email = email.trim() || null;
    if (phone.trim() !== (details.phone ?? "")) patch.phone = phone.trim() || null;
    if (details.birthday_editable && birthday) patch.birthday = birthday;
    if (Object.keys(patch).length === 0) return onSaved(details);
    setBusy(true);
    try {
      onSaved(await api<WalletDetails>("PATCH", "/v1/wallet/me/details", patch, { token }));
    } catch (e) {
      if (cardErased(e)) return onErased();
      const code = e instanceof ApiError ? e.code : "";
      const path =
        e instanceof ApiError
          ? String((e.details?.issues as { path?: string }[] | undefined)?.[0]?.path ?? "")
          : "";
      const invalid = code === "validation_failed" ? invalidContact(t, path, phoneExample) : null;
      if (code === "member_email_taken") setErrors({ email: t("wallet.details.error.emailTaken") });
      else if (code === "member_phone_taken") setErrors({ phone: t("wallet.details.error.phoneTaken") });
      else if (code === "contact_required") setErrors({ contact: t("wallet.details.error.contact") });
      else if (code === "birthday_already_set") setErrors({ birthday: t("wallet.details.birthdayLocked") });
      else if (code === "validation_failed" && path === "name")
        setErrors({ name: t("wallet.join.error.name") });
      else if (invalid) setErrors(invalid);
      else setError(e);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="stack" onSubmit={save} noValidate>
      <ContactFields
        labels={{
          name: t("wallet.details.name"),
          email: t("wallet.details.email"),
          phone: t("wallet.details.phone"),
          birthday: t("wallet.details.birthday"),
        }}
        values={contact}
        onChange={(field, value) => setContact((c) => ({ ...c, [field]: value }))}
        errors={errors}
        phoneExample={phoneExample}
        // No summary of the errors here: the one about both contact fields is announced itself.
        announceContact
        birthdayHint={
          details.birthday_editable ? t("wallet.details.birthdayOnce") : t("wallet.details.birthdayLocked")
        }
        birthdayReadOnly={!details.birthday_editable}
        controlRef={(field) => (field === "name" ? first : undefined)}
      />
      <ErrorMessage error={error} known={PROBLEMS} />
      <div className="row">
        <button type="submit" className="button" disabled={busy}>
          {busy ? t("wallet.details.saving") : t("wallet.details.save")}
        </button>
        <button type="button" className="button secondary" onClick={onCancel}>
          {t("common.cancel")}
        </button>
      </div>
    </form>
  );
}

/** "Your data": download it all, or delete the card after saying what is lost. */
export function MyData({
  card,
  token,
  offline,
  onErased,
}: {
  card: WalletCard;
  token: string | null;
  offline: boolean;
  onErased: () => void;
}) {
  const { t } = useT();
  const [error, setError] = useState<unknown>(null);
  const [downloading, setDownloading] = useState(false);
  const [confirming, setConfirming] = useState(false);

  async function download() {
    if (!token) return;
    setDownloading(true);
    setError(null);
    try {
      let response: Response;
      try {
        response = await fetch("/v1/wallet/me/export", {
          headers: { accept: "application/json", authorization: `Bearer ${token}` },
          credentials: "omit",
        });
      } catch {
        throw new ApiError(0, "network_error", "The server could not be reached.");
      }
      if (!response.ok) {
        const body = (await response.json().catch(() => undefined)) as
          | { error?: { code: string; message: string } }
          | undefined;
        throw new ApiError(response.status, body?.error?.code ?? "http_error", body?.error?.message ?? "");
      }
      const blob = await response.blob();
      const named = /filename="([^"]+)"/.exec(response.headers.get("content-disposition") ?? "")?.[1];
      const url = URL.createObjectURL(blob);
      const a = document.createElement("a");
      a.href = url;
      a.download = named ?? `my-data-${card.member.code}.json`;
      document.body.append(a);
      a.click();
      a.remove();
      // After the browser took it: revoking at once can cancel the download in some browsers.
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
    } catch (e) {
      if (cardErased(e)) return onErased();
      setError(e);
    } finally {
      setDownloading(false);
    }
  }

  return (
    <section className="card stack" aria-labelledby="data-title">
      <h2 id="data-title">{t("wallet.data.title")}</h2>
      <p className="muted">{t("wallet.data.downloadBody", { business: card.business.name })}</p>
      <button
        type="button"
        className="button secondary"
        disabled={offline || !token || downloading}
        onClick={() => void download()}
      >
        {downloading ? t("wallet.data.downloading") : t("wallet.data.download")}
      </button>
      <ErrorMessage error={error} known={PROBLEMS} />
      {confirming && token ? (
        <ConfirmErase card={card} token={token} onCancel={() => setConfirming(false)} onErased={onErased} />
      ) : (
        <button
          type="button"
          className="button danger"
          disabled={offline || !token}
          onClick={() => setConfirming(true)}
        >
          {t("wallet.erase.start")}
        </button>
      )}
    </section>
  );
}

/** The confirmation step: what deleting the card takes away, counted from this card. */
function ConfirmErase({
  card,
  token,
  onCancel,
  onErased,
}: {
  card: WalletCard;
  token: string;
  onCancel: () => void;
  onErased: () => void;
}) {
  const { t } = useT();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  const points = card.card.points.available + card.card.points.pending;
  const stamps = card.card.stamp_cards.reduce((sum, c) => sum + c.stamps, 0);
  const vouchers = card.vouchers.filter((v) => v.status === "issued");
  async function erase() {
    setBusy(true);
    setError(null);
    try {
      // The same request again after a lost answer is answered as the first: no key needed.
      await api("POST", "/v1/wallet/me/erase", { confirm: ERASE_CONFIRMATION }, { token });
      onErased();
    } catch (e) {
      if (cardErased(e)) return onErased();
      setError(e);
    } finally {
      setBusy(false);
    }
  }
  return (
    <section className="alert warn stack" aria-labelledby="erase-title">
      <h3 id="erase-title" ref={heading} tabIndex={-1}>
        {t("wallet.erase.title")}
      </h3>
      <p>{t("wallet.erase.body")}</p>
      <ul>
        {points > 0 ? <li>{t("wallet.erase.points", { count: points })}</li> : null}
        {stamps > 0 ? <li>{t("wallet.erase.stamps", { count: stamps })}</li> : null}
        {points === 0 && stamps === 0 ? <li>{t("wallet.erase.balances")}</li> : null}
        {vouchers.length > 0 ? <li>{t("wallet.erase.vouchers", { count: vouchers.length })}</li> : null}
        <li>{t("wallet.erase.card")}</li>
      </ul>
      <p>{t("wallet.erase.downloadFirst")}</p>
      <ErrorMessage error={error} known={PROBLEMS} />
      <div className="row">
        <button type="button" className="button danger" onClick={() => void erase()} disabled={busy}>
          {busy ? t("wallet.erase.erasing") : t("wallet.erase.confirm")}
        </button>
        <button type="button" className="button secondary" onClick={onCancel} disabled={busy}>
          {t("common.cancel")}
        </button>
      </div>
    </section>
  );
}

/** The card after its member deleted it: nothing of it is kept on this phone any more. */
export function CardErased({ slug }: { slug: string }) {
  const { t } = useT();
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  return (
    <>
      <h1 ref={heading} tabIndex={-1}>
        {t("wallet.erased.title")}
      </h1>
      <p>{t("wallet.erased.body")}</p>
      <p className="muted">{t("wallet.erased.again")}</p>
      <Link className="button secondary" href={`/join/${encodeURIComponent(slug)}`}>
        {t("wallet.card.none.join")}
      </Link>
    </>
  );
}

/** Refusals told in the member's words. */
const PROBLEMS: KnownProblems = { prefix: "wallet.problem", codes: new Set(["rate_limited"]) };
