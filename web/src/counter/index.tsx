import { type FormEvent, useCallback, useEffect, useState } from "react";
import { ApiError, api, setCsrfToken } from "../api.ts";
import { useT } from "../i18n/index.tsx";
import { ErrorMessage, Field, TopBar } from "../ui/components.tsx";
import { Desk } from "./desk.tsx";
import type { Location, Me, Page } from "./types.ts";

/**
 * The counter screen at /counter: a cashier logs in on the shop's phone or tablet, picks the
 * location, then identifies customers (scan or type) and records purchases and rewards.
 */

const BUSINESS_KEY = "regulars.counter.business";
const locationKey = (businessId: string) => `regulars.counter.location.${businessId}`;

type Session = { state: "loading" } | { state: "out" } | { state: "offline" } | { state: "in"; me: Me };

export default function Counter() {
  const [session, setSession] = useState<Session>({ state: "loading" });
  const [locations, setLocations] = useState<Location[] | null>(null);
  const [locationId, setLocationId] = useState<string | null>(null);
  const [picking, setPicking] = useState(false);

  const resume = useCallback(async () => {
    try {
      const me = await api<Me>("GET", "/v1/auth/me");
      setCsrfToken(me.csrf_token);
      setSession({ state: "in", me });
    } catch (error) {
      setSession({ state: error instanceof ApiError && error.code === "network_error" ? "offline" : "out" });
    }
  }, []);

  useEffect(() => {
    void resume();
  }, [resume]);

  const businessId = session.state === "in" ? session.me.business.id : null;
  useEffect(() => {
    if (!businessId) return;
    let cancelled = false;
    api<Page<Location>>("GET", "/v1/locations?archived=false&limit=200")
      .then((page) => {
        if (cancelled) return;
        setLocations(page.data);
        const remembered = localStorage.getItem(locationKey(businessId));
        const only = page.data.length === 1 ? page.data[0] : undefined;
        const chosen = page.data.find((l) => l.id === remembered) ?? only ?? null;
        setLocationId(chosen?.id ?? null);
        setPicking(page.data.length > 0 && !chosen);
      })
      .catch(() => {
        // Offline at start: the remembered location still holds.
        if (!cancelled) {
          setLocations([]);
          setLocationId(localStorage.getItem(locationKey(businessId)));
        }
      });
    return () => {
      cancelled = true;
    };
  }, [businessId]);

  /**
   * A purchase or voucher was refused because the location was archived (or deleted) meanwhile:
   * the open locations are read again. The one this device uses stays if it is still open; else
   * the only one left is used, or none (recorded without a location), or the cashier picks one.
   */
  const reloadLocations = useCallback(async () => {
    if (!businessId) return;
    try {
      const page = await api<Page<Location>>("GET", "/v1/locations?archived=false&limit=200");
      setLocations(page.data);
      if (locationId && page.data.some((l) => l.id === locationId)) return;
      const only = page.data.length === 1 ? page.data[0] : undefined;
      if (only) localStorage.setItem(locationKey(businessId), only.id);
      else localStorage.removeItem(locationKey(businessId));
      setLocationId(only?.id ?? null);
      setPicking(page.data.length > 1);
    } catch {
      // No answer: the next refusal tries again.
    }
  }, [businessId, locationId]);

  const logout = async () => {
    await api("POST", "/v1/auth/logout").catch(() => {});
    setCsrfToken(null);
    setSession({ state: "out" });
    setLocations(null);
  };

  if (session.state === "loading") return <div className="loading" aria-busy="true" />;
  if (session.state === "out") return <Login onIn={resume} />;
  if (session.state === "offline") return <Offline onRetry={resume} />;
  // The desk waits for the locations: shown before them, it would flash by (and a lookup typed
  // into it be lost) when the cashier must first pick where they work.
  if (locations === null) return <div className="loading" aria-busy="true" />;
  const { me } = session;
  const location = locations?.find((l) => l.id === locationId) ?? null;

  if (picking && locations && locations.length > 0) {
    return (
      <LocationPicker
        me={me}
        locations={locations}
        current={locationId}
        onPick={(id) => {
          localStorage.setItem(locationKey(me.business.id), id);
          setLocationId(id);
          setPicking(false);
        }}
        onCancel={locationId ? () => setPicking(false) : null}
      />
    );
  }
  return (
    <Desk
      me={me}
      location={location}
      locationId={locationId}
      canChangeLocation={(locations?.length ?? 0) > 1}
      onChangeLocation={() => setPicking(true)}
      onLocationGone={() => void reloadLocations()}
      onLogout={logout}
      onSessionLost={() => setSession({ state: "out" })}
    />
  );
}

function Offline({ onRetry }: { onRetry: () => Promise<void> }) {
  const { t } = useT();
  useEffect(() => {
    const retry = () => void onRetry();
    window.addEventListener("online", retry);
    return () => window.removeEventListener("online", retry);
  }, [onRetry]);
  return (
    <>
      <TopBar title={t("counter.title")} home="/counter" />
      <main className="narrow counter">
        <h1>{t("counter.offline.title")}</h1>
        <p>{t("counter.offline.body")}</p>
        <button type="button" className="button large block" onClick={() => void onRetry()}>
          {t("common.retry")}
        </button>
      </main>
    </>
  );
}

function Login({ onIn }: { onIn: () => Promise<void> }) {
  const { t } = useT();
  const [business, setBusiness] = useState(() => localStorage.getItem(BUSINESS_KEY) ?? "");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const slug = business.trim().toLowerCase();
      const result = await api<{ csrf_token: string }>("POST", "/v1/auth/login", {
        business: slug,
        email: email.trim(),
        password,
        session: "cookie",
      });
      setCsrfToken(result.csrf_token);
      localStorage.setItem(BUSINESS_KEY, slug);
      await onIn();
    } catch (caught) {
      setError(caught);
      setBusy(false);
    }
  };

  const wrong = error instanceof ApiError && error.code === "invalid_credentials";
  return (
    <>
      <TopBar title={t("counter.title")} home="/counter" />
      <main className="narrow counter">
        <h1>{t("counter.login.title")}</h1>
        <p className="muted">{t("counter.login.lead")}</p>
        <form onSubmit={submit} className="card" noValidate>
          <Field label={t("counter.login.business")} hint={t("counter.login.businessHint")}>
            {(props) => (
              <input
                {...props}
                value={business}
                onChange={(e) => setBusiness(e.target.value)}
                autoCapitalize="none"
                autoCorrect="off"
                spellCheck={false}
                autoComplete="organization"
                required
              />
            )}
          </Field>
          <Field label={t("counter.login.email")}>
            {(props) => (
              <input
                {...props}
                type="email"
                value={email}
                onChange={(e) => setEmail(e.target.value)}
                autoComplete="username"
                required
              />
            )}
          </Field>
          <Field label={t("counter.login.password")}>
            {(props) => (
              <input
                {...props}
                type="password"
                value={password}
                onChange={(e) => setPassword(e.target.value)}
                autoComplete="current-password"
                required
              />
            )}
          </Field>
          {wrong ? (
            <div className="alert error" role="alert">
              {t("counter.login.wrong")}
            </div>
          ) : error instanceof ApiError && error.status === 429 ? (
            <div className="alert error" role="alert">
              {t("counter.login.rateLimited")}
            </div>
          ) : (
            <ErrorMessage error={error} />
          )}
          <button
            type="submit"
            className="button large block"
            disabled={busy || !business.trim() || !email.trim() || !password}
          >
            {busy ? t("counter.login.busy") : t("counter.login.submit")}
          </button>
        </form>
      </main>
    </>
  );
}

function LocationPicker({
  me,
  locations,
  current,
  onPick,
  onCancel,
}: {
  me: Me;
  locations: Location[];
  current: string | null;
  onPick: (id: string) => void;
  onCancel: (() => void) | null;
}) {
  const { t } = useT();
  return (
    <>
      <TopBar title={me.business.name} home="/counter" />
      <main className="narrow counter">
        <h1>{t("counter.location.title")}</h1>
        <p className="muted">{t("counter.location.lead")}</p>
        <ul className="counter-choices">
          {locations.map((l) => (
            <li key={l.id}>
              <button
                type="button"
                className={`button large block ${l.id === current ? "" : "secondary"}`}
                aria-pressed={l.id === current}
                onClick={() => onPick(l.id)}
              >
                <span>
                  {l.name}
                  {l.address ? <span className="counter-sub">{l.address}</span> : null}
                </span>
              </button>
            </li>
          ))}
        </ul>
        {onCancel ? (
          <button type="button" className="button ghost block" onClick={onCancel}>
            {t("common.cancel")}
          </button>
        ) : null}
      </main>
    </>
  );
}
