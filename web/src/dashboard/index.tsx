import { lazy, type ReactNode, Suspense, useCallback, useEffect, useMemo, useState } from "react";
import { ApiError, api, setCsrfToken } from "../api.ts";
import { supportedLocale, useT } from "../i18n/index.tsx";
import { Link, match, navigate, useLocation } from "../router.tsx";
import { ErrorMessage, NotFound, TopBar } from "../ui/components.tsx";
import { LoginPage, SignupPage } from "./auth.tsx";
import { HomePage } from "./home.tsx";
import { type Business, type Session, SessionContext, type Staff } from "./session.tsx";

/**
 * The merchant dashboard: sign-up and log-in, then everything under /app behind the cookie
 * session. Program pages and the admin pages (members, launch kit, settings) load on demand.
 */

const Onboarding = lazy(() => import("./onboarding.tsx"));
const ProgramSettingsPage = lazy(() => import("./program/settings.tsx"));
const StampCardsPage = lazy(() => import("./program/stamp-cards.tsx"));
const TiersPage = lazy(() => import("./program/tiers.tsx"));
const RulesPage = lazy(() => import("./program/rules.tsx"));
const RewardsPage = lazy(() => import("./program/rewards.tsx"));
const MembersPage = lazy(() => import("./admin/index.tsx").then((m) => ({ default: m.MembersPage })));
const MemberPage = lazy(() => import("./admin/index.tsx").then((m) => ({ default: m.MemberPage })));
const LaunchKitPage = lazy(() => import("./admin/index.tsx").then((m) => ({ default: m.LaunchKitPage })));
const SettingsPage = lazy(() => import("./admin/index.tsx").then((m) => ({ default: m.SettingsPage })));

export default function Dashboard() {
  const { path } = useLocation();
  if (path === "/signup") return <SignupPage />;
  if (path === "/login") return <LoginPage />;
  return <SignedIn />;
}

interface Me {
  business: Business;
  staff: Staff | null;
  csrf_token?: string;
}

/** Loads the session; without one the visitor goes to the log-in page, a cashier to the counter. */
function SignedIn() {
  const { t, chosen, setLocale } = useT();
  const [me, setMe] = useState<Me | null>(null);
  const [error, setError] = useState<unknown>(null);

  const refresh = useCallback(async () => {
    try {
      const next = await api<Me>("GET", "/v1/auth/me");
      setCsrfToken(next.csrf_token);
      if (!next.staff) throw new ApiError(401, "unauthorized", "Not a staff session.");
      if (next.staff.role === "cashier") {
        navigate("/counter", { replace: true });
        return;
      }
      setMe(next);
      setError(null);
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) navigate("/login", { replace: true });
      else setError(e);
    }
  }, []);

  useEffect(() => {
    void refresh();
  }, [refresh]);

  // The business's language is the default until the person picks one themselves.
  const businessLocale = me?.business.locale;
  useEffect(() => {
    const locale = supportedLocale(businessLocale);
    if (locale && !chosen) setLocale(locale, { remember: false });
  }, [businessLocale, chosen, setLocale]);

  const logout = useCallback(async () => {
    try {
      await api("POST", "/v1/auth/logout");
    } finally {
      setCsrfToken(null);
      navigate("/login");
    }
  }, []);

  const session = useMemo<Session | null>(
    () => (me?.staff ? { business: me.business, staff: me.staff, refresh, logout } : null),
    [me, refresh, logout],
  );

  if (error) {
    return (
      <>
        <TopBar />
        <main className="narrow">
          <ErrorMessage error={error} />
          <button type="button" className="button" onClick={() => void refresh()}>
            {t("common.retry")}
          </button>
        </main>
      </>
    );
  }
  if (!session) return <div className="loading" aria-busy="true" />;
  return (
    <SessionContext.Provider value={session}>
      <Shell session={session} />
    </SessionContext.Provider>
  );
}

const NAV: { href: string; key: string; exact?: boolean }[] = [
  { href: "/app", key: "dashboard.nav.overview", exact: true },
  { href: "/app/onboarding", key: "dashboard.nav.onboarding" },
  { href: "/app/program", key: "dashboard.nav.points", exact: true },
  { href: "/app/program/stamp-cards", key: "dashboard.nav.stampCards" },
  { href: "/app/program/tiers", key: "dashboard.nav.tiers" },
  { href: "/app/program/rules", key: "dashboard.nav.rules" },
  { href: "/app/program/rewards", key: "dashboard.nav.rewards" },
  { href: "/app/members", key: "dashboard.nav.members" },
  { href: "/app/launch-kit", key: "dashboard.nav.launchKit" },
  { href: "/app/settings", key: "dashboard.nav.settings" },
];

function Shell({ session }: { session: Session }) {
  const { t } = useT();
  const { path } = useLocation();
  const current = (href: string, exact?: boolean) =>
    exact ? path === href || path === `${href}/` : path === href || path.startsWith(`${href}/`);
  return (
    <div className="dash-shell">
      <TopBar title={session.business.name} home="/app">
        <span className="muted-on-dark">{session.staff.name}</span>
        <button type="button" className="button ghost" onClick={() => void session.logout()}>
          {t("common.logout")}
        </button>
      </TopBar>
      <div className="dash-layout">
        <nav className="dash-nav" aria-label={t("dashboard.nav.label")}>
          <ul>
            {NAV.map((item) => (
              <li key={item.href}>
                <Link href={item.href} aria-current={current(item.href, item.exact) ? "page" : undefined}>
                  {t(item.key)}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <main className="dash-main">
          <Suspense fallback={<div className="loading" aria-busy="true" />}>
            <Page path={path} />
          </Suspense>
        </main>
      </div>
    </div>
  );
}

function Page({ path }: { path: string }): ReactNode {
  if (path === "/app" || path === "/app/") return <HomePage />;
  if (path === "/app/onboarding") return <Onboarding />;
  if (path === "/app/program") return <ProgramSettingsPage />;
  if (path === "/app/program/stamp-cards") return <StampCardsPage />;
  if (path === "/app/program/tiers") return <TiersPage />;
  if (path === "/app/program/rules") return <RulesPage />;
  if (path === "/app/program/rewards") return <RewardsPage />;
  if (path === "/app/members") return <MembersPage />;
  const member = match("/app/members/:id", path);
  if (member?.id) return <MemberPage id={member.id} />;
  if (path === "/app/launch-kit") return <LaunchKitPage />;
  if (path === "/app/settings") return <SettingsPage />;
  return <NotFound />;
}
