import { type FormEvent, useEffect, useId, useMemo, useState } from "react";
import { api } from "../../api.ts";
import { formatDate } from "../../i18n/format.ts";
import { LOCALE_NAMES, LOCALES, useT } from "../../i18n/index.tsx";
import { ErrorMessage, Field } from "../../ui/components.tsx";
import { ConfirmButton, useCreate } from "../forms.tsx";
import { useSession } from "../session.tsx";
import { explain, FormError, type Page, type Role, roleAtLeast, useLoad, useOneAtATime } from "./shared.tsx";
import type { ApiKey, Location, StaffMember } from "./types.ts";

/** Settings: the business profile, locations, staff and API keys — each for the roles that may. */
export function SettingsPage() {
  const { t } = useT();
  const { staff } = useSession();
  return (
    <div className="admin-page">
      <h1>{t("admin.settings.title")}</h1>
      {staff.role !== "owner" ? <p className="alert warn">{t("admin.settings.ownerOnly")}</p> : null}
      <Profile />
      {roleAtLeast(staff.role, "manager") ? <Locations /> : null}
      {staff.role === "owner" ? <Staff /> : null}
      {staff.role === "owner" ? <ApiKeys /> : null}
    </div>
  );
}

const COMMON_CURRENCIES = ["EUR", "PLN", "BRL", "USD", "GBP", "CHF", "SEK", "DKK", "NOK", "CZK"];

function timeZones(): string[] {
  const intl = Intl as unknown as { supportedValuesOf?: (key: string) => string[] };
  return intl.supportedValuesOf?.("timeZone") ?? [];
}

function Profile() {
  const { t } = useT();
  const session = useSession();
  const { business, staff } = session;
  const owner = staff.role === "owner";
  const [form, setForm] = useState({
    name: business.name,
    currency: business.currency,
    timezone: business.timezone,
    locale: business.locale,
  });
  // The profile as the server has it now (after a save, or another owner's change read since):
  // the form starts from it again, so a later save never writes an older value back.
  useEffect(() => {
    setForm({
      name: business.name,
      currency: business.currency,
      timezone: business.timezone,
      locale: business.locale,
    });
  }, [business]);
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);
  // Once a purchase exists its amounts are in this currency for good; the API refuses a change.
  const purchases = useLoad(
    (signal) => api<Page<{ id: string }>>("GET", "/v1/purchases?limit=1", undefined, { signal }),
    [],
  );
  const locked = (purchases.data?.data.length ?? 0) > 0;
  const zones = useMemo(() => {
    const all = timeZones();
    return all.includes(form.timezone) ? all : [form.timezone, ...all];
  }, [form.timezone]);
  const problems = explain(error, t);
  const headingId = useId();
  const set = (field: keyof typeof form) => (value: string) => {
    setSaved(false);
    setForm((previous) => ({ ...previous, [field]: value }));
  };

  async function submit(event: FormEvent) {
    event.preventDefault();
    const patch: Record<string, string> = {};
    if (form.name.trim() !== business.name) patch.name = form.name.trim();
    if (form.currency.trim().toUpperCase() !== business.currency)
      patch.currency = form.currency.trim().toUpperCase();
    if (form.timezone !== business.timezone) patch.timezone = form.timezone;
    if (form.locale !== business.locale) patch.locale = form.locale;
    if (Object.keys(patch).length === 0) {
      setSaved(true);
      return;
    }
    setBusy(true);
    try {
      await api("PATCH", "/v1/business", patch);
      await session.refresh();
      setError(null);
      setSaved(true);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="card stack" onSubmit={submit} aria-labelledby={headingId}>
      <h2 id={headingId}>{t("admin.profile.title")}</h2>
      <FormError text={problems.form} />
      <Field label={t("admin.profile.name")} error={problems.fields.name}>
        {(p) => (
          <input
            {...p}
            required
            maxLength={120}
            readOnly={!owner}
            value={form.name}
            onChange={(e) => set("name")(e.target.value)}
          />
        )}
      </Field>
      <Field
        label={t("admin.profile.currency")}
        hint={locked ? t("admin.profile.currencyLocked") : t("admin.profile.currencyHint")}
        error={problems.fields.currency}
      >
        {(p) => (
          <>
            <input
              {...p}
              list="admin-currencies"
              maxLength={3}
              autoCapitalize="characters"
              readOnly={!owner || locked}
              value={form.currency}
              onChange={(e) => set("currency")(e.target.value.toUpperCase())}
            />
            <datalist id="admin-currencies">
              {COMMON_CURRENCIES.map((c) => (
                <option key={c} value={c} />
              ))}
            </datalist>
          </>
        )}
      </Field>
      <Field
        label={t("admin.profile.timezone")}
        hint={t("admin.profile.timezoneHint")}
        error={problems.fields.timezone}
      >
        {(p) => (
          <select
            {...p}
            disabled={!owner}
            value={form.timezone}
            onChange={(e) => set("timezone")(e.target.value)}
          >
            {zones.map((zone) => (
              <option key={zone} value={zone}>
                {zone.replace(/_/g, " ")}
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field
        label={t("admin.profile.language")}
        hint={t("admin.profile.languageHint")}
        error={problems.fields.locale}
      >
        {(p) => (
          <select
            {...p}
            disabled={!owner}
            value={form.locale}
            onChange={(e) => set("locale")(e.target.value)}
          >
            {LOCALES.map((l) => (
              <option key={l} value={l} lang={l}>
                {LOCALE_NAMES[l]}
              </option>
            ))}
          </select>
        )}
      </Field>
      {saved ? (
        <div className="alert ok" role="status">
          {t("common.saved")}
        </div>
      ) : null}
      {owner ? (
        <div>
          <button type="submit" className="button" disabled={busy}>
            {t("common.save")}
          </button>
        </div>
      ) : null}
    </form>
  );
}

function Locations() {
  const { t } = useT();
  const locations = useLoad(
    (signal) => api<Page<Location>>("GET", "/v1/locations?limit=200", undefined, { signal }),
    [],
  );
  const [name, setName] = useState("");
  const [address, setAddress] = useState("");
  const [error, setError] = useState<unknown>(null);
  const problems = explain(error, t);
  const headingId = useId();

  const [adding, once] = useOneAtATime();
  const create = useCreate();

  async function add() {
    try {
      await create("/v1/locations", {
        name: name.trim(),
        ...(address.trim() ? { address: address.trim() } : {}),
      });
      setName("");
      setAddress("");
      setError(null);
      locations.reload();
    } catch (e) {
      setError(e);
    }
  }

  return (
    <section className="card stack" aria-labelledby={headingId}>
      <h2 id={headingId}>{t("admin.locations.title")}</h2>
      <ErrorMessage error={locations.error} />
      {locations.data && locations.data.data.length === 0 ? (
        <p className="muted">{t("admin.locations.empty")}</p>
      ) : null}
      <ul className="admin-list">
        {locations.data?.data.map((location) => (
          <LocationRow key={location.id} location={location} onChanged={locations.reload} />
        ))}
      </ul>
      <form
        className="stack"
        onSubmit={(event) => {
          event.preventDefault();
          once(add);
        }}
      >
        <h3>{t("admin.locations.add")}</h3>
        <FormError text={problems.form} />
        <div className="grid">
          <Field label={t("admin.locations.name")} error={problems.fields.name}>
            {(p) => (
              <input {...p} required maxLength={120} value={name} onChange={(e) => setName(e.target.value)} />
            )}
          </Field>
          <Field label={t("admin.locations.address")} error={problems.fields.address}>
            {(p) => (
              <input {...p} maxLength={300} value={address} onChange={(e) => setAddress(e.target.value)} />
            )}
          </Field>
        </div>
        <div>
          <button type="submit" className="button secondary" disabled={adding}>
            {t("admin.locations.addSubmit")}
          </button>
        </div>
      </form>
    </section>
  );
}

function LocationRow({ location, onChanged }: { location: Location; onChanged(): void }) {
  const { t } = useT();
  const [editing, setEditing] = useState(false);
  const [name, setName] = useState(location.name);
  const [error, setError] = useState<unknown>(null);
  const problems = explain(error, t);

  async function change(patch: Record<string, string | boolean>) {
    try {
      await api("PATCH", `/v1/locations/${location.id}`, patch);
      setError(null);
      setEditing(false);
      onChanged();
    } catch (e) {
      setError(e);
    }
  }

  return (
    <li>
      {editing ? (
        <form
          className="row"
          onSubmit={(e) => {
            e.preventDefault();
            void change({ name: name.trim() });
          }}
        >
          <Field label={t("admin.locations.newName", { name: location.name })} error={problems.fields.name}>
            {(p) => (
              <input {...p} required maxLength={120} value={name} onChange={(e) => setName(e.target.value)} />
            )}
          </Field>
          <button type="submit" className="button">
            {t("common.save")}
          </button>
          <button type="button" className="button ghost" onClick={() => setEditing(false)}>
            {t("common.cancel")}
          </button>
        </form>
      ) : (
        <div className="row">
          <span className="admin-grow">
            <strong>{location.name}</strong>
            {location.archived ? <span className="badge">{t("admin.locations.archived")}</span> : null}
            {location.address ? <span className="muted"> · {location.address}</span> : null}
          </span>
          <button
            type="button"
            className="button ghost"
            aria-label={t("admin.locations.renameNamed", { name: location.name })}
            onClick={() => setEditing(true)}
          >
            {t("admin.locations.rename")}
          </button>
          <button
            type="button"
            className="button ghost"
            aria-label={
              location.archived
                ? t("admin.locations.restoreNamed", { name: location.name })
                : t("admin.locations.archiveNamed", { name: location.name })
            }
            onClick={() => change({ archived: !location.archived })}
          >
            {location.archived ? t("admin.locations.restore") : t("admin.locations.archive")}
          </button>
        </div>
      )}
      <FormError text={problems.form} />
    </li>
  );
}

const ROLES: Role[] = ["owner", "manager", "cashier"];

function Staff() {
  const { t } = useT();
  const team = useLoad(
    (signal) => api<Page<StaffMember>>("GET", "/v1/staff?limit=200", undefined, { signal }),
    [],
  );
  const [form, setForm] = useState({ name: "", email: "", role: "cashier" as Role, password: "" });
  const [error, setError] = useState<unknown>(null);
  const [added, setAdded] = useState<string | null>(null);
  const problems = explain(error, t);
  const headingId = useId();

  const [inviting, once] = useOneAtATime();
  const create = useCreate();

  async function invite() {
    try {
      await create("/v1/staff", { ...form, name: form.name.trim(), email: form.email.trim() });
      setAdded(form.name.trim());
      setForm({ name: "", email: "", role: "cashier", password: "" });
      setError(null);
      team.reload();
    } catch (e) {
      setError(e);
      setAdded(null);
    }
  }

  return (
    <section className="card stack" aria-labelledby={headingId}>
      <h2 id={headingId}>{t("admin.staff.title")}</h2>
      <ErrorMessage error={team.error} />
      <ul className="admin-list">
        {team.data?.data.map((member) => (
          <StaffRow key={member.id} member={member} onChanged={team.reload} />
        ))}
      </ul>
      <form
        className="stack"
        onSubmit={(event) => {
          event.preventDefault();
          once(invite);
        }}
      >
        <h3>{t("admin.staff.invite")}</h3>
        <p className="muted">{t("admin.staff.inviteLead")}</p>
        <FormError text={problems.form} />
        {added ? (
          <div className="alert ok" role="status">
            {t("admin.staff.added", { name: added })}
          </div>
        ) : null}
        <div className="grid">
          <Field label={t("admin.staff.name")} error={problems.fields.name}>
            {(p) => (
              <input
                {...p}
                required
                maxLength={120}
                value={form.name}
                onChange={(e) => setForm({ ...form, name: e.target.value })}
              />
            )}
          </Field>
          <Field label={t("admin.staff.email")} error={problems.fields.email}>
            {(p) => (
              <input
                {...p}
                type="email"
                required
                autoComplete="off"
                value={form.email}
                onChange={(e) => setForm({ ...form, email: e.target.value })}
              />
            )}
          </Field>
          <Field label={t("admin.staff.role")} error={problems.fields.role}>
            {(p) => (
              <select
                {...p}
                value={form.role}
                onChange={(e) => setForm({ ...form, role: e.target.value as Role })}
              >
                {ROLES.map((role) => (
                  <option key={role} value={role}>
                    {t(`admin.role.${role}`)}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field
            label={t("admin.staff.password")}
            hint={t("admin.staff.passwordHint")}
            error={problems.fields.password}
          >
            {(p) => (
              <input
                {...p}
                type="password"
                required
                minLength={10}
                autoComplete="new-password"
                value={form.password}
                onChange={(e) => setForm({ ...form, password: e.target.value })}
              />
            )}
          </Field>
        </div>
        <div>
          <button type="submit" className="button secondary" disabled={inviting}>
            {t("admin.staff.inviteSubmit")}
          </button>
        </div>
      </form>
    </section>
  );
}

function StaffRow({ member, onChanged }: { member: StaffMember; onChanged(): void }) {
  const { t } = useT();
  const { staff: me } = useSession();
  const [error, setError] = useState<unknown>(null);
  const [resetting, setResetting] = useState(false);
  const [password, setPassword] = useState("");
  const [reset, setReset] = useState(false);
  const problems = explain(error, t);
  const roleId = useId();
  const self = member.id === me.id;

  async function change(patch: Record<string, string | boolean>) {
    try {
      await api("PATCH", `/v1/staff/${member.id}`, patch);
      setError(null);
      onChanged();
    } catch (e) {
      setError(e);
    }
  }

  async function resetPassword(event: FormEvent) {
    event.preventDefault();
    try {
      await api("POST", `/v1/staff/${member.id}/password`, { password });
      setPassword("");
      setResetting(false);
      setReset(true);
      setError(null);
    } catch (e) {
      setError(e);
    }
  }

  return (
    <li className="stack">
      <div className="row">
        <span className="admin-grow">
          <strong>{member.name}</strong> <span className="muted">{member.email}</span>
          {self ? <span className="badge">{t("admin.staff.you")}</span> : null}
          {member.disabled ? <span className="badge">{t("admin.staff.disabled")}</span> : null}
        </span>
        <label htmlFor={roleId} className="visually-hidden">
          {t("admin.staff.roleOf", { name: member.name })}
        </label>
        <select
          id={roleId}
          value={member.role}
          disabled={self}
          onChange={(e) => change({ role: e.target.value })}
        >
          {ROLES.map((role) => (
            <option key={role} value={role}>
              {t(`admin.role.${role}`)}
            </option>
          ))}
        </select>
        {!self ? (
          <button
            type="button"
            className="button ghost"
            onClick={() => change({ disabled: !member.disabled })}
          >
            {member.disabled
              ? t("admin.staff.enableNamed", { name: member.name })
              : t("admin.staff.disableNamed", { name: member.name })}
          </button>
        ) : null}
        {!self ? (
          <button
            type="button"
            className="button ghost"
            aria-expanded={resetting}
            onClick={() => setResetting(!resetting)}
          >
            {t("admin.staff.resetNamed", { name: member.name })}
          </button>
        ) : null}
      </div>
      {resetting ? (
        <form className="row" onSubmit={resetPassword}>
          <Field
            label={t("admin.staff.newPassword", { name: member.name })}
            hint={t("admin.staff.passwordHint")}
            error={problems.fields.password}
          >
            {(p) => (
              <input
                {...p}
                type="password"
                required
                minLength={10}
                autoComplete="new-password"
                value={password}
                onChange={(e) => setPassword(e.target.value)}
              />
            )}
          </Field>
          <button type="submit" className="button">
            {t("admin.staff.resetSubmit")}
          </button>
        </form>
      ) : null}
      {reset ? (
        <div className="alert ok" role="status">
          {t("admin.staff.resetDone", { name: member.name })}
        </div>
      ) : null}
      <FormError text={problems.form} />
    </li>
  );
}

function ApiKeys() {
  const { t, locale } = useT();
  const { business } = useSession();
  const keys = useLoad(
    (signal) => api<Page<ApiKey>>("GET", "/v1/api-keys?limit=200", undefined, { signal }),
    [],
  );
  const [name, setName] = useState("");
  const [role, setRole] = useState<"manager" | "cashier">("cashier");
  const [created, setCreated] = useState<(ApiKey & { key: string }) | null>(null);
  const [copied, setCopied] = useState<"yes" | "no" | null>(null);
  const [error, setError] = useState<unknown>(null);
  const problems = explain(error, t);
  const headingId = useId();
  const keyId = useId();

  const [creating, once] = useOneAtATime();

  async function create() {
    try {
      const key = await api<ApiKey & { key: string }>("POST", "/v1/api-keys", { name: name.trim(), role });
      setCreated(key);
      setCopied(null);
      setName("");
      setError(null);
      keys.reload();
    } catch (e) {
      setError(e);
    }
  }

  async function revoke(key: ApiKey) {
    try {
      await api("DELETE", `/v1/api-keys/${key.id}`);
      if (created?.id === key.id) setCreated(null);
      keys.reload();
    } catch (e) {
      setError(e);
    }
  }

  async function copy(text: string) {
    try {
      await navigator.clipboard.writeText(text);
      setCopied("yes");
    } catch {
      setCopied("no");
    }
  }

  return (
    <section className="card stack" aria-labelledby={headingId}>
      <h2 id={headingId}>{t("admin.keys.title")}</h2>
      <p className="muted">{t("admin.keys.lead")}</p>
      <ErrorMessage error={keys.error} />
      {created ? (
        <div className="alert warn stack" role="status">
          <p>
            <strong>{t("admin.keys.onceTitle", { name: created.name })}</strong>
          </p>
          <p>{t("admin.keys.onceWarning")}</p>
          <div className="row">
            <label htmlFor={keyId} className="visually-hidden">
              {t("admin.keys.secret")}
            </label>
            <input
              id={keyId}
              className="admin-grow admin-code"
              readOnly
              value={created.key}
              onFocus={(e) => e.target.select()}
            />
            <button type="button" className="button secondary" onClick={() => copy(created.key)}>
              {t("admin.keys.copy")}
            </button>
          </div>
          <p className="muted">
            {copied === "yes" ? t("admin.kit.copied") : copied === "no" ? t("admin.kit.copyFailed") : ""}
          </p>
          <div>
            <button type="button" className="button ghost" onClick={() => setCreated(null)}>
              {t("admin.keys.stored")}
            </button>
          </div>
        </div>
      ) : null}
      {keys.data && keys.data.data.length === 0 ? <p className="muted">{t("admin.keys.empty")}</p> : null}
      <ul className="admin-list">
        {keys.data?.data.map((key) => (
          <li key={key.id} className="row">
            <span className="admin-grow">
              <strong>{key.name}</strong> <span className="badge">{t(`admin.role.${key.role}`)}</span>{" "}
              <span className="muted admin-code">{key.prefix}…</span>
              <div className="muted">
                {key.revoked && key.revoked_at
                  ? t("admin.keys.revokedOn", { date: formatDate(key.revoked_at, locale, business.timezone) })
                  : key.last_used_at
                    ? t("admin.keys.lastUsed", {
                        date: formatDate(key.last_used_at, locale, business.timezone),
                      })
                    : t("admin.keys.neverUsed")}
              </div>
            </span>
            {!key.revoked ? (
              <ConfirmButton
                label={t("admin.keys.revokeNamed", { name: key.name })}
                confirmLabel={t("admin.keys.revokeConfirm", { name: key.name })}
                onConfirm={() => revoke(key)}
              />
            ) : null}
          </li>
        ))}
      </ul>
      <form
        className="stack"
        onSubmit={(event) => {
          event.preventDefault();
          once(create);
        }}
      >
        <h3>{t("admin.keys.create")}</h3>
        <FormError text={problems.form} />
        <div className="grid">
          <Field label={t("admin.keys.name")} hint={t("admin.keys.nameHint")} error={problems.fields.name}>
            {(p) => (
              <input {...p} required maxLength={120} value={name} onChange={(e) => setName(e.target.value)} />
            )}
          </Field>
          <Field label={t("admin.keys.role")} error={problems.fields.role}>
            {(p) => (
              <select {...p} value={role} onChange={(e) => setRole(e.target.value as "manager" | "cashier")}>
                <option value="cashier">{t("admin.role.cashier")}</option>
                <option value="manager">{t("admin.role.manager")}</option>
              </select>
            )}
          </Field>
        </div>
        <div>
          <button type="submit" className="button secondary" disabled={creating}>
            {t("admin.keys.createSubmit")}
          </button>
        </div>
      </form>
    </section>
  );
}
