import { type FormEvent, useEffect, useId, useState } from "react";
import { ApiError, api, newKey } from "../../api.ts";
import { formatDate } from "../../i18n/format.ts";
import { useT } from "../../i18n/index.tsx";
import { Link, navigate } from "../../router.tsx";
import { ErrorMessage, Field } from "../../ui/components.tsx";
import { useSession } from "../session.tsx";
import { explain, FormError, type Page, phoneHint, useLoad } from "./shared.tsx";
import type { Member, Tier } from "./types.ts";

const PAGE_SIZE = 25;

/** Members: search by name, email, phone or card code; newest first, a page at a time; add one by hand. */
export function MembersPage() {
  const { t, locale } = useT();
  const { business } = useSession();
  const [typed, setTyped] = useState("");
  const [query, setQuery] = useState("");
  const [extra, setExtra] = useState<Member[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [more, setMore] = useState<{ loading: boolean; error: unknown }>({ loading: false, error: null });
  const [adding, setAdding] = useState(false);
  const searchId = useId();

  // Searching as one types, a moment after the last key.
  useEffect(() => {
    const timer = setTimeout(() => setQuery(typed.trim()), 300);
    return () => clearTimeout(timer);
  }, [typed]);

  const first = useLoad(
    (signal) =>
      api<Page<Member>>("GET", `/v1/members?${params(query, undefined)}`, undefined, { signal }).then(
        (page) => {
          setExtra([]);
          setCursor(page.next_cursor);
          return page;
        },
      ),
    [query],
  );
  const tiers = useLoad((signal) => api<{ data: Tier[] }>("GET", "/v1/tiers", undefined, { signal }), []);
  const tierName = (id: string | null) => tiers.data?.data.find((tier) => tier.id === id)?.name;
  const members = [...(first.data?.data ?? []), ...extra];

  async function loadMore() {
    if (!cursor) return;
    setMore({ loading: true, error: null });
    try {
      const page = await api<Page<Member>>("GET", `/v1/members?${params(query, cursor)}`);
      setExtra((previous) => [...previous, ...page.data]);
      setCursor(page.next_cursor);
      setMore({ loading: false, error: null });
    } catch (error) {
      setMore({ loading: false, error });
    }
  }

  return (
    <div className="admin-page">
      <div className="row admin-head">
        <h1>{t("admin.members.title")}</h1>
        <span className="spacer" />
        <button type="button" className="button" aria-expanded={adding} onClick={() => setAdding(!adding)}>
          {t("admin.members.add")}
        </button>
      </div>
      {adding ? <NewMember onCancel={() => setAdding(false)} /> : null}
      <search>
        <form
          className="field"
          onSubmit={(e) => {
            e.preventDefault();
            setQuery(typed.trim());
          }}
        >
          <label htmlFor={searchId}>{t("admin.members.search")}</label>
          <input
            id={searchId}
            type="search"
            value={typed}
            maxLength={100}
            autoComplete="off"
            onChange={(e) => setTyped(e.target.value)}
          />
        </form>
      </search>
      <ErrorMessage error={first.error} />
      <p className="muted" aria-live="polite">
        {first.loading
          ? t("admin.members.searching")
          : query
            ? t("admin.members.found", { count: members.length, query })
            : null}
      </p>
      {members.length > 0 ? (
        <div className="admin-table admin-stack">
          <table>
            <caption className="visually-hidden">{t("admin.members.title")}</caption>
            <thead>
              <tr>
                <th scope="col">{t("admin.members.col.name")}</th>
                <th scope="col">{t("admin.members.col.contact")}</th>
                <th scope="col">{t("admin.members.col.tier")}</th>
                <th scope="col">{t("admin.members.col.lastVisit")}</th>
                <th scope="col">{t("admin.members.col.joined")}</th>
              </tr>
            </thead>
            <tbody>
              {members.map((member) => (
                <tr key={member.id}>
                  <td data-label={t("admin.members.col.name")}>
                    <Link href={`/app/members/${member.id}`}>{member.name ?? t("admin.member.noName")}</Link>
                    <div className="muted admin-code">{member.code}</div>
                  </td>
                  <td data-label={t("admin.members.col.contact")}>
                    {member.email ? <div>{member.email}</div> : null}
                    {member.phone ? <div>{member.phone}</div> : null}
                  </td>
                  <td data-label={t("admin.members.col.tier")}>
                    {tierName(member.tier_id) ?? <span className="muted">{t("admin.members.noTier")}</span>}
                  </td>
                  <td data-label={t("admin.members.col.lastVisit")}>
                    {member.last_purchase_at ? (
                      formatDate(member.last_purchase_at, locale, business.timezone)
                    ) : (
                      <span className="muted">{t("admin.members.neverVisited")}</span>
                    )}
                  </td>
                  <td data-label={t("admin.members.col.joined")}>
                    {formatDate(member.joined_at, locale, business.timezone)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : !first.loading && !first.error ? (
        <p className="card">{query ? t("admin.members.noMatch", { query }) : t("admin.members.empty")}</p>
      ) : null}
      <ErrorMessage error={more.error} />
      {cursor ? (
        <button type="button" className="button secondary" disabled={more.loading} onClick={loadMore}>
          {more.loading ? t("common.loading") : t("admin.members.more")}
        </button>
      ) : null}
    </div>
  );
}

function params(query: string, cursor: string | undefined): string {
  const search = new URLSearchParams({ limit: String(PAGE_SIZE) });
  if (query) search.set("q", query);
  if (cursor) search.set("cursor", cursor);
  return search.toString();
}

/** Enrols a member by hand; the marketing choice must be made explicitly. */
function NewMember({ onCancel }: { onCancel(): void }) {
  const { t } = useT();
  const { business } = useSession();
  const [name, setName] = useState("");
  const [email, setEmail] = useState("");
  const [phone, setPhone] = useState("");
  const [birthday, setBirthday] = useState("");
  const [consent, setConsent] = useState<"yes" | "no" | "">("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [key, setKey] = useState(newKey);
  const problems = explain(error, t);
  const consentError = problems.fields.marketing_consent;
  const consentId = useId();

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!consent) {
      setError(null);
      return;
    }
    setBusy(true);
    try {
      const member = await api<Member>(
        "POST",
        "/v1/members",
        {
          ...(name.trim() ? { name: name.trim() } : {}),
          ...(email.trim() ? { email: email.trim() } : {}),
          ...(phone.trim() ? { phone: phone.trim() } : {}),
          ...(birthday ? { birthday } : {}),
          marketing_consent: consent === "yes",
        },
        { idempotencyKey: key },
      );
      navigate(`/app/members/${member.id}`);
    } catch (e) {
      setError(e);
      setBusy(false);
      // A refused enrolment created nothing; after a network error the key stays for the retry.
      if (e instanceof ApiError && e.status >= 400 && e.status < 500) setKey(newKey());
    }
  }

  return (
    <form className="card stack" onSubmit={submit} aria-labelledby={`${consentId}-title`}>
      <h2 id={`${consentId}-title`}>{t("admin.members.new.title")}</h2>
      <FormError text={problems.form} />
      <div className="grid">
        <Field label={t("admin.member.field.name")} error={problems.fields.name}>
          {(p) => <input {...p} value={name} maxLength={120} onChange={(e) => setName(e.target.value)} />}
        </Field>
        <Field label={t("admin.member.field.email")} error={problems.fields.email}>
          {(p) => <input {...p} type="email" value={email} onChange={(e) => setEmail(e.target.value)} />}
        </Field>
        <Field
          label={t("admin.member.field.phone")}
          hint={phoneHint(t, business.timezone)}
          error={problems.fields.phone}
        >
          {(p) => <input {...p} type="tel" value={phone} onChange={(e) => setPhone(e.target.value)} />}
        </Field>
        <Field label={t("admin.member.field.birthday")} error={problems.fields.birthday}>
          {(p) => <input {...p} type="date" value={birthday} onChange={(e) => setBirthday(e.target.value)} />}
        </Field>
      </div>
      <fieldset aria-describedby={consentError ? `${consentId}-error` : undefined}>
        <legend>{t("admin.member.field.consent")}</legend>
        <label className="check">
          <input
            type="radio"
            name="consent"
            required
            checked={consent === "yes"}
            onChange={() => setConsent("yes")}
          />
          {t("admin.member.consent.yes")}
        </label>
        <label className="check">
          <input type="radio" name="consent" checked={consent === "no"} onChange={() => setConsent("no")} />
          {t("admin.member.consent.no")}
        </label>
        {consentError ? (
          <span id={`${consentId}-error`} className="error">
            {consentError}
          </span>
        ) : null}
      </fieldset>
      <div className="row">
        <button type="submit" className="button" disabled={busy}>
          {t("admin.members.new.submit")}
        </button>
        <button type="button" className="button ghost" onClick={onCancel}>
          {t("common.cancel")}
        </button>
      </div>
    </form>
  );
}
