import { useState } from "react";
import { api } from "../api.ts";
import { formatDate } from "../i18n/format.ts";
import { useT } from "../i18n/index.tsx";
import { Link } from "../router.tsx";
import { ErrorMessage } from "../ui/components.tsx";
import { useAllPages, useApi } from "./forms.tsx";
import type { List, Reward, Rule, StampCard, Tier } from "./program/types.ts";
import { useSession } from "./session.tsx";

/** The dashboard's start page: is the program live, and what to do next. */
export function HomePage() {
  const { t, locale } = useT();
  const session = useSession();
  const { business, staff } = session;
  const cards = useApi<List<StampCard>>("/v1/stamp-cards");
  const tiers = useApi<List<Tier>>("/v1/tiers");
  const rules = useApi<List<Rule>>("/v1/rules");
  const rewards = useAllPages<Reward>("/v1/rewards?limit=200");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const counts = {
    cards: cards.data?.data.length ?? 0,
    tiers: tiers.data?.data.length ?? 0,
    rules: rules.data?.data.length ?? 0,
    rewards: rewards.data?.data.length ?? 0,
  };
  const hasProgram = counts.cards + counts.tiers + counts.rules + counts.rewards > 0;
  const live = business.published_at !== null;

  async function publish() {
    setBusy(true);
    setError(null);
    try {
      await api("POST", "/v1/program/publish");
      await session.refresh();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="stack">
      <h1>{t("dashboard.home.title", { name: staff.name })}</h1>
      <section className="card" aria-labelledby="status-title">
        <h2 id="status-title">{t("dashboard.home.status")}</h2>
        {live ? (
          <p>
            <span className="badge">{t("dashboard.home.live")}</span>{" "}
            {t("dashboard.home.liveSince", {
              date: formatDate(business.published_at ?? "", locale, business.timezone),
            })}
          </p>
        ) : (
          <p>
            <span className="badge draft">{t("dashboard.home.draft")}</span> {t("dashboard.home.draftBody")}
          </p>
        )}
        <ul className="dash-counts">
          <li>{t("dashboard.home.countCards", { count: counts.cards })}</li>
          <li>{t("dashboard.home.countTiers", { count: counts.tiers })}</li>
          <li>{t("dashboard.home.countRules", { count: counts.rules })}</li>
          <li>{t("dashboard.home.countRewards", { count: counts.rewards })}</li>
        </ul>
        <ErrorMessage error={cards.error ?? tiers.error ?? rules.error ?? rewards.error ?? error} />
      </section>
      <section className="card" aria-labelledby="next-title">
        <h2 id="next-title">{t("dashboard.home.next")}</h2>
        <ol className="dash-steps">
          <li className={hasProgram ? "done" : undefined}>
            <Link href="/app/onboarding">{t("dashboard.home.stepTemplate")}</Link>
            {hasProgram ? <span className="visually-hidden"> {t("dashboard.home.done")}</span> : null}
          </li>
          <li className={live ? "done" : undefined}>
            {live ? (
              <>
                {t("dashboard.home.stepPublish")}
                <span className="visually-hidden"> {t("dashboard.home.done")}</span>
              </>
            ) : staff.role === "owner" ? (
              <button
                type="button"
                className="button"
                disabled={busy || !hasProgram}
                onClick={() => void publish()}
              >
                {t("dashboard.home.publish")}
              </button>
            ) : (
              t("dashboard.home.ownerPublishes")
            )}
          </li>
          <li>
            <Link href="/app/launch-kit">{t("dashboard.home.stepLaunchKit")}</Link>
          </li>
          <li>
            <Link href="/app/settings">{t("dashboard.home.stepStaff")}</Link>
          </li>
          <li>
            <Link href="/counter">{t("dashboard.home.stepCounter")}</Link>
          </li>
        </ol>
      </section>
    </div>
  );
}
