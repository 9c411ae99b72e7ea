import { type FormEvent, useMemo, useState } from "react";
import { ApiError, api, newKey } from "../api.ts";
import { formatMoney } from "../i18n/format.ts";
import { supportedLocale, useT, useTranslatorLoad } from "../i18n/index.tsx";
import { Link, navigate } from "../router.tsx";
import { ErrorMessage, Field } from "../ui/components.tsx";
import {
  errorAt,
  FormError,
  fieldErrors,
  moneyText,
  readInt,
  readMoney,
  reasonedIssues,
  useApi,
} from "./forms.tsx";
import { CardFrame, PointsPreview, StampsPreview, TierPreview } from "./preview.tsx";
import type { List, Reward, Rule, StampCard, Tier } from "./program/types.ts";
import { useSession } from "./session.tsx";

/**
 * Onboarding: pick a template, adjust it in plain words while the member's card is drawn beside
 * it, then create the program with one call and publish it.
 */

type TemplateName = "cafe_stamp_card" | "bakery_points" | "boutique_tiers" | "gym_tiers";
const TEMPLATES: TemplateName[] = ["cafe_stamp_card", "bakery_points", "boutique_tiers", "gym_tiers"];

interface TierText {
  name: string;
  threshold: string;
}

interface Draft {
  cafe: {
    product: string;
    stamps: string;
    per: "visit" | "item";
    category: string;
    minSpend: string;
    welcome: string;
  };
  bakery: { earn: string; per: string; treat: string; cost: string; birthday: string; expiry: string };
  boutique: { tiers: TierText[]; earn: string; per: string; discount: string; cost: string };
  gym: { tiers: TierText[]; perVisit: string; session: string; cost: string };
}

/** The parameters `GET /v1/program/templates` gives each template, money in the business's currency. */
interface TemplateDefaults {
  cafe_stamp_card: {
    stamps_required: number;
    stamp_per: "visit" | "item";
    category: string;
    min_spend_minor: number;
    welcome_stamps: number;
  };
  bakery_points: {
    earn_points: number;
    earn_per_minor: number;
    treat_cost_points: number;
    birthday_points: number;
    expiry_months: number;
  };
  boutique_tiers: {
    tiers: { threshold: number }[];
    earn_points: number;
    earn_per_minor: number;
    discount_minor: number;
    discount_cost_points: number;
  };
  gym_tiers: { tiers: { threshold: number }[]; points_per_visit: number; session_cost_points: number };
}

export default function Onboarding() {
  const { t, locale } = useT();
  const { business } = useSession();
  // The names members will read (the card, the reward, the tiers, the rules) are in the business's
  // language, whatever language the owner reads the dashboard in: the form waits for its texts.
  const businessLocale = supportedLocale(business.locale) ?? locale;
  const namesLoad = useTranslatorLoad(businessLocale, "dashboard");
  const names = namesLoad.t;
  // The defaults come from the API, sized to what the business's currency is worth (a point per
  // 500 Ft, not per 1 Ft); the program's lists say whether a template can still start it.
  const templates = useApi<List<{ name: TemplateName; defaults: unknown }>>("/v1/program/templates");
  const cards = useApi<List<StampCard>>("/v1/stamp-cards");
  const tiers = useApi<List<Tier>>("/v1/tiers");
  const rules = useApi<List<Rule>>("/v1/rules");
  const rewards = useApi<List<Reward>>("/v1/rewards?limit=200");
  const [retrying, setRetrying] = useState(false);
  const loads = [templates, cards, tiers, rules, rewards];
  const failed = loads.find((load) => load.error)?.error;
  if (failed) {
    const retry = async () => {
      setRetrying(true);
      try {
        await Promise.all(loads.filter((load) => load.error).map((load) => load.reload()));
      } finally {
        setRetrying(false);
      }
    };
    return (
      <div className="stack">
        <h1>{t("dashboard.onboarding.title")}</h1>
        <ErrorMessage error={failed} />
        <p>
          <button type="button" className="button" disabled={retrying} onClick={() => void retry()}>
            {t("common.retry")}
          </button>
        </p>
      </div>
    );
  }
  if (namesLoad.failed) {
    // The texts in the business's language could not be loaded (no connection): said, with a way
    // to try again, rather than a form and a card preview that never come.
    return (
      <div className="stack">
        <h1>{t("dashboard.onboarding.title")}</h1>
        <div className="alert error" role="alert">
          {t("dashboard.onboarding.namesFailed", {
            language:
              new Intl.DisplayNames([locale], { type: "language" }).of(businessLocale) ?? businessLocale,
          })}
        </div>
        <p>
          <button type="button" className="button" onClick={namesLoad.retry}>
            {t("common.retry")}
          </button>
        </p>
      </div>
    );
  }
  if (!names || !templates.data || !cards.data || !tiers.data || !rules.data || !rewards.data) {
    return <div className="loading" aria-busy="true" />;
  }
  const defaults = Object.fromEntries(
    templates.data.data.map((entry) => [entry.name, entry.defaults]),
  ) as unknown as TemplateDefaults;
  const existing =
    cards.data.data.length + tiers.data.data.length + rules.data.data.length + rewards.data.data.length;
  return (
    <OnboardingForm names={names} namesLocale={businessLocale} defaults={defaults} existing={existing} />
  );
}

/** The form's first texts: the API's defaults as typed, the names in the business's language. */
function initialDraft(defaults: TemplateDefaults, currency: string, names: Translate): Draft {
  const cafe = defaults.cafe_stamp_card;
  const bakery = defaults.bakery_points;
  const boutique = defaults.boutique_tiers;
  const gym = defaults.gym_tiers;
  const threshold = (tiers: { threshold: number }[], i: number) => tiers[i]?.threshold ?? 0;
  return {
    cafe: {
      product: names("dashboard.onboarding.cafe.defaultProduct"),
      stamps: String(cafe.stamps_required),
      per: cafe.stamp_per,
      category: cafe.category,
      minSpend: cafe.min_spend_minor > 0 ? moneyText(cafe.min_spend_minor, currency) : "",
      welcome: String(cafe.welcome_stamps),
    },
    bakery: {
      earn: String(bakery.earn_points),
      per: moneyText(bakery.earn_per_minor, currency),
      treat: names("dashboard.onboarding.bakery.defaultTreat"),
      cost: String(bakery.treat_cost_points),
      birthday: String(bakery.birthday_points),
      expiry: String(bakery.expiry_months),
    },
    boutique: {
      tiers: ["silver", "gold", "platinum"].map((tier, i) => ({
        name: names(`dashboard.onboarding.tier.${tier}`),
        threshold: moneyText(threshold(boutique.tiers, i), currency),
      })),
      earn: String(boutique.earn_points),
      per: moneyText(boutique.earn_per_minor, currency),
      discount: moneyText(boutique.discount_minor, currency),
      cost: String(boutique.discount_cost_points),
    },
    gym: {
      tiers: ["regular", "committed", "champion"].map((tier, i) => ({
        name: names(`dashboard.onboarding.tier.${tier}`),
        threshold: String(threshold(gym.tiers, i)),
      })),
      perVisit: String(gym.points_per_visit),
      session: names("dashboard.onboarding.gym.defaultSession"),
      cost: String(gym.session_cost_points),
    },
  };
}

function OnboardingForm({
  names,
  namesLocale,
  defaults,
  existing,
}: {
  names: Translate;
  namesLocale: string;
  defaults: TemplateDefaults;
  existing: number;
}) {
  const { t, locale } = useT();
  const session = useSession();
  const { business } = session;
  const currency = business.currency;
  const [template, setTemplate] = useState<TemplateName>("cafe_stamp_card");
  const [draft, setDraft] = useState<Draft>(() => initialDraft(defaults, currency, names));
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState<"draft" | "live" | null>(null);
  // One key per attempt: a double click or a retry after a lost answer creates the program once.
  const [attemptKey, setAttemptKey] = useState(newKey);
  // A template's checks across fields (a tier's threshold, the welcome stamps) come with their
  // figures: worded here, with money in the currency, as are the money fields' limits (the
  // boutique's tiers count spend: their thresholds are money too).
  const money = {
    currency,
    locale,
    also: template === "boutique_tiers" ? (path: string) => /^tiers\.\d+\.threshold$/.test(path) : undefined,
  };
  const errors = { ...fieldErrors(error, {}, t, money), ...reasonedIssues(error, t, locale) };

  const body = useMemo(
    () => buildBody(template, draft, currency, names, namesLocale),
    [template, draft, currency, names, namesLocale],
  );

  function update<K extends keyof Draft>(key: K, patch: Partial<Draft[K]>) {
    setDraft((d) => ({ ...d, [key]: { ...d[key], ...patch } }));
    setAttemptKey(newKey());
  }
  function updateTier(key: "boutique" | "gym", index: number, patch: Partial<TierText>) {
    setDraft((d) => ({
      ...d,
      [key]: {
        ...d[key],
        tiers: d[key].tiers.map((tier, i) => (i === index ? { ...tier, ...patch } : tier)),
      },
    }));
    setAttemptKey(newKey());
  }

  async function create(publish: boolean) {
    setBusy(true);
    setError(null);
    try {
      await api("POST", `/v1/program/templates/${template}`, body, { idempotencyKey: attemptKey });
      if (publish) await api("POST", "/v1/program/publish");
      await session.refresh();
      setDone(publish ? "live" : "draft");
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  async function publishOnly() {
    setBusy(true);
    setError(null);
    try {
      await api("POST", "/v1/program/publish");
      await session.refresh();
      setDone("live");
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  const submit = (event: FormEvent) => {
    event.preventDefault();
    void create(session.staff.role === "owner");
  };

  if (done) {
    return (
      <div className="stack">
        <h1>
          {done === "live" ? t("dashboard.onboarding.liveTitle") : t("dashboard.onboarding.draftTitle")}
        </h1>
        <div className="alert ok" role="status">
          {done === "live" ? t("dashboard.onboarding.liveBody") : t("dashboard.onboarding.draftBody")}
        </div>
        <p className="row wrap">
          <Link className="button" href="/app/launch-kit">
            {t("dashboard.onboarding.toLaunchKit")}
          </Link>
          <Link className="button secondary" href="/app">
            {t("dashboard.nav.overview")}
          </Link>
        </p>
      </div>
    );
  }

  if (existing > 0 || (error instanceof ApiError && error.code === "program_not_empty")) {
    return (
      <div className="stack">
        <h1>{t("dashboard.onboarding.title")}</h1>
        <div className="alert warn">{t("dashboard.onboarding.notEmpty")}</div>
        <ul className="row wrap plain">
          <li>
            <Link href="/app/program/stamp-cards">{t("dashboard.nav.stampCards")}</Link>
          </li>
          <li>
            <Link href="/app/program/tiers">{t("dashboard.nav.tiers")}</Link>
          </li>
          <li>
            <Link href="/app/program/rules">{t("dashboard.nav.rules")}</Link>
          </li>
          <li>
            <Link href="/app/program/rewards">{t("dashboard.nav.rewards")}</Link>
          </li>
        </ul>
        {business.published_at === null && session.staff.role === "owner" ? (
          <button type="button" className="button large" disabled={busy} onClick={() => void publishOnly()}>
            {t("dashboard.onboarding.publish")}
          </button>
        ) : null}
        <FormError
          error={error instanceof ApiError && error.code === "program_not_empty" ? null : error}
          shown={{}}
        />
      </div>
    );
  }

  return (
    <div className="stack">
      <h1>{t("dashboard.onboarding.title")}</h1>
      <p className="muted">{t("dashboard.onboarding.lead")}</p>
      <fieldset className="template-picker">
        <legend>{t("dashboard.onboarding.pick")}</legend>
        {TEMPLATES.map((name) => (
          <label key={name} className={name === template ? "template-option selected" : "template-option"}>
            <input
              type="radio"
              name="template"
              value={name}
              checked={name === template}
              onChange={() => {
                setTemplate(name);
                setError(null);
                setAttemptKey(newKey());
              }}
            />
            <span>
              <strong>{t(`dashboard.onboarding.${name}.title`)}</strong>
              <span className="muted block">{t(`dashboard.onboarding.${name}.summary`)}</span>
            </span>
          </label>
        ))}
      </fieldset>
      <div className="onboarding-layout">
        <form className="card stack" onSubmit={submit} noValidate aria-labelledby="adjust-title">
          <h2 id="adjust-title">{t("dashboard.onboarding.adjust")}</h2>
          <FormError error={error} shown={errors} />
          {template === "cafe_stamp_card" ? (
            <>
              <div className="sentence">
                <Field label={t("dashboard.onboarding.cafe.per")} error={errors.stamp_per}>
                  {(p) => (
                    <select
                      {...p}
                      value={draft.cafe.per}
                      onChange={(e) => update("cafe", { per: e.target.value as "visit" | "item" })}
                    >
                      <option value="visit">{t("dashboard.onboarding.cafe.perVisit")}</option>
                      <option value="item">
                        {t("dashboard.onboarding.cafe.perItem", { product: draft.cafe.product })}
                      </option>
                    </select>
                  )}
                </Field>
                <Field
                  label={t("dashboard.onboarding.cafe.stamps")}
                  hint={t("dashboard.onboarding.cafe.stampsHint")}
                  error={errors.stamps_required}
                >
                  {(p) => (
                    <input
                      {...p}
                      inputMode="numeric"
                      className="short"
                      value={draft.cafe.stamps}
                      onChange={(e) => update("cafe", { stamps: e.target.value })}
                    />
                  )}
                </Field>
                <Field label={t("dashboard.onboarding.cafe.product")} error={errors.product}>
                  {(p) => (
                    <input
                      {...p}
                      value={draft.cafe.product}
                      onChange={(e) => update("cafe", { product: e.target.value })}
                    />
                  )}
                </Field>
              </div>
              <p className="muted">
                {t("dashboard.onboarding.cafe.sentence", {
                  count: readInt(draft.cafe.stamps) ?? 0,
                  product: draft.cafe.product,
                })}
              </p>
              {draft.cafe.per === "item" ? (
                <Field
                  label={t("dashboard.onboarding.cafe.category")}
                  hint={t("dashboard.onboarding.cafe.categoryHint")}
                  error={errors.category}
                >
                  {(p) => (
                    <input
                      {...p}
                      value={draft.cafe.category}
                      onChange={(e) => update("cafe", { category: e.target.value })}
                    />
                  )}
                </Field>
              ) : null}
              <div className="grid">
                <Field
                  label={t("dashboard.onboarding.cafe.minSpend", { currency })}
                  hint={t("dashboard.onboarding.cafe.minSpendHint")}
                  error={errors.min_spend_minor}
                >
                  {(p) => (
                    <input
                      {...p}
                      inputMode="decimal"
                      value={draft.cafe.minSpend}
                      onChange={(e) => update("cafe", { minSpend: e.target.value })}
                    />
                  )}
                </Field>
                <Field label={t("dashboard.onboarding.cafe.welcome")} error={errors.welcome_stamps}>
                  {(p) => (
                    <input
                      {...p}
                      inputMode="numeric"
                      value={draft.cafe.welcome}
                      onChange={(e) => update("cafe", { welcome: e.target.value })}
                    />
                  )}
                </Field>
              </div>
            </>
          ) : null}
          {template === "bakery_points" ? (
            <div className="grid">
              <Field label={t("dashboard.onboarding.points.earn")} error={errors.earn_points}>
                {(p) => (
                  <input
                    {...p}
                    inputMode="numeric"
                    value={draft.bakery.earn}
                    onChange={(e) => update("bakery", { earn: e.target.value })}
                  />
                )}
              </Field>
              <Field label={t("dashboard.onboarding.points.per", { currency })} error={errors.earn_per_minor}>
                {(p) => (
                  <input
                    {...p}
                    inputMode="decimal"
                    value={draft.bakery.per}
                    onChange={(e) => update("bakery", { per: e.target.value })}
                  />
                )}
              </Field>
              <Field label={t("dashboard.onboarding.bakery.treat")} error={errors.treat}>
                {(p) => (
                  <input
                    {...p}
                    value={draft.bakery.treat}
                    onChange={(e) => update("bakery", { treat: e.target.value })}
                  />
                )}
              </Field>
              <Field label={t("dashboard.onboarding.bakery.cost")} error={errors.treat_cost_points}>
                {(p) => (
                  <input
                    {...p}
                    inputMode="numeric"
                    value={draft.bakery.cost}
                    onChange={(e) => update("bakery", { cost: e.target.value })}
                  />
                )}
              </Field>
              <Field
                label={t("dashboard.onboarding.bakery.birthday")}
                hint={t("dashboard.onboarding.zeroNone")}
                error={errors.birthday_points}
              >
                {(p) => (
                  <input
                    {...p}
                    inputMode="numeric"
                    value={draft.bakery.birthday}
                    onChange={(e) => update("bakery", { birthday: e.target.value })}
                  />
                )}
              </Field>
              <Field
                label={t("dashboard.onboarding.bakery.expiry")}
                hint={t("dashboard.onboarding.bakery.expiryHint")}
                error={errors.expiry_months}
              >
                {(p) => (
                  <input
                    {...p}
                    inputMode="numeric"
                    value={draft.bakery.expiry}
                    onChange={(e) => update("bakery", { expiry: e.target.value })}
                  />
                )}
              </Field>
            </div>
          ) : null}
          {template === "boutique_tiers" || template === "gym_tiers" ? (
            <fieldset>
              <legend>
                {template === "boutique_tiers"
                  ? t("dashboard.onboarding.boutique.tiers", { currency })
                  : t("dashboard.onboarding.gym.tiers")}
              </legend>
              {(template === "boutique_tiers" ? draft.boutique : draft.gym).tiers.map((tier, i) => {
                const key = template === "boutique_tiers" ? "boutique" : "gym";
                return (
                  <div className="grid" key={`tier-${i.toString()}`}>
                    <Field
                      label={t("dashboard.onboarding.tierName", { rank: i + 1 })}
                      error={errors[`tiers.${i}.name`]}
                    >
                      {(p) => (
                        <input
                          {...p}
                          value={tier.name}
                          onChange={(e) => updateTier(key, i, { name: e.target.value })}
                        />
                      )}
                    </Field>
                    <Field
                      label={
                        key === "boutique"
                          ? t("dashboard.onboarding.boutique.threshold", { rank: i + 1, currency })
                          : t("dashboard.onboarding.gym.threshold", { rank: i + 1 })
                      }
                      error={errors[`tiers.${i}.threshold`]}
                    >
                      {(p) => (
                        <input
                          {...p}
                          inputMode={key === "boutique" ? "decimal" : "numeric"}
                          value={tier.threshold}
                          onChange={(e) => updateTier(key, i, { threshold: e.target.value })}
                        />
                      )}
                    </Field>
                  </div>
                );
              })}
            </fieldset>
          ) : null}
          {template === "boutique_tiers" ? (
            <div className="grid">
              <Field label={t("dashboard.onboarding.points.earn")} error={errors.earn_points}>
                {(p) => (
                  <input
                    {...p}
                    inputMode="numeric"
                    value={draft.boutique.earn}
                    onChange={(e) => update("boutique", { earn: e.target.value })}
                  />
                )}
              </Field>
              <Field label={t("dashboard.onboarding.points.per", { currency })} error={errors.earn_per_minor}>
                {(p) => (
                  <input
                    {...p}
                    inputMode="decimal"
                    value={draft.boutique.per}
                    onChange={(e) => update("boutique", { per: e.target.value })}
                  />
                )}
              </Field>
              <Field
                label={t("dashboard.onboarding.boutique.discount", { currency })}
                error={errors.discount_minor}
              >
                {(p) => (
                  <input
                    {...p}
                    inputMode="decimal"
                    value={draft.boutique.discount}
                    onChange={(e) => update("boutique", { discount: e.target.value })}
                  />
                )}
              </Field>
              <Field label={t("dashboard.onboarding.boutique.cost")} error={errors.discount_cost_points}>
                {(p) => (
                  <input
                    {...p}
                    inputMode="numeric"
                    value={draft.boutique.cost}
                    onChange={(e) => update("boutique", { cost: e.target.value })}
                  />
                )}
              </Field>
            </div>
          ) : null}
          {template === "gym_tiers" ? (
            <div className="grid">
              <Field label={t("dashboard.onboarding.gym.perVisit")} error={errors.points_per_visit}>
                {(p) => (
                  <input
                    {...p}
                    inputMode="numeric"
                    value={draft.gym.perVisit}
                    onChange={(e) => update("gym", { perVisit: e.target.value })}
                  />
                )}
              </Field>
              <Field label={t("dashboard.onboarding.gym.session")} error={errors.session_name}>
                {(p) => (
                  <input
                    {...p}
                    value={draft.gym.session}
                    onChange={(e) => update("gym", { session: e.target.value })}
                  />
                )}
              </Field>
              <Field label={t("dashboard.onboarding.gym.cost")} error={errors.session_cost_points}>
                {(p) => (
                  <input
                    {...p}
                    inputMode="numeric"
                    value={draft.gym.cost}
                    onChange={(e) => update("gym", { cost: e.target.value })}
                  />
                )}
              </Field>
            </div>
          ) : null}
          {errorAt(errors, "tiers") && !Object.keys(errors).some((k) => k.startsWith("tiers.")) ? (
            <p className="error">{errorAt(errors, "tiers")}</p>
          ) : null}
          {session.staff.role === "owner" ? (
            <div className="row wrap">
              <button type="submit" className="button large" disabled={busy}>
                {t("dashboard.onboarding.publish")}
              </button>
              <button
                type="button"
                className="button secondary"
                disabled={busy}
                onClick={() => void create(false)}
              >
                {t("dashboard.onboarding.saveDraft")}
              </button>
            </div>
          ) : (
            <>
              <p className="muted">{t("dashboard.home.ownerPublishes")}</p>
              <button type="submit" className="button large" disabled={busy}>
                {t("dashboard.onboarding.saveDraft")}
              </button>
            </>
          )}
        </form>
        <Preview
          template={template}
          draft={draft}
          currency={currency}
          businessName={business.name}
          names={names}
          namesLocale={namesLocale}
        />
      </div>
      <p>
        <button type="button" className="button ghost dark" onClick={() => navigate("/app/program")}>
          {t("dashboard.onboarding.skip")}
        </button>
      </p>
    </div>
  );
}

type Translate = (key: string, values?: Record<string, string | number>) => string;

function tierBody(tiers: TierText[], money: boolean, currency: string) {
  return tiers.map((tier) => ({
    name: tier.name,
    threshold: money ? readMoney(tier.threshold, currency) : readInt(tier.threshold, 0),
  }));
}

/** The template's parameters from what was typed; unreadable numbers are sent so the API names the field. */
function buildBody(
  template: TemplateName,
  draft: Draft,
  currency: string,
  t: Translate,
  locale: string,
): Record<string, unknown> {
  switch (template) {
    case "cafe_stamp_card": {
      const d = draft.cafe;
      return {
        product: d.product,
        stamps_required: readInt(d.stamps),
        stamp_per: d.per,
        ...(d.per === "item" ? { category: d.category } : {}),
        min_spend_minor: readMoney(d.minSpend, currency),
        welcome_stamps: readInt(d.welcome, 0),
        card_name: t("dashboard.onboarding.cafe.cardName", { product: d.product }).slice(0, 120),
        reward_name: t("dashboard.onboarding.freeProduct", { product: d.product }).slice(0, 120),
        rule_name: t("dashboard.onboarding.cafe.welcomeRule"),
      };
    }
    case "bakery_points": {
      const d = draft.bakery;
      return {
        earn_points: readInt(d.earn),
        earn_per_minor: readMoney(d.per, currency),
        treat: d.treat,
        treat_cost_points: readInt(d.cost),
        birthday_points: readInt(d.birthday, 0),
        expiry_months: readInt(d.expiry, 0),
        reward_name: t("dashboard.onboarding.freeProduct", { product: d.treat }).slice(0, 120),
        rule_name: t("dashboard.onboarding.bakery.birthdayRule"),
      };
    }
    case "boutique_tiers": {
      const d = draft.boutique;
      return {
        tiers: tierBody(d.tiers, true, currency),
        earn_points: readInt(d.earn),
        earn_per_minor: readMoney(d.per, currency),
        discount_minor: readMoney(d.discount, currency),
        discount_cost_points: readInt(d.cost),
        reward_name: t("dashboard.onboarding.boutique.rewardName", {
          amount: formatMoney(readMoney(d.discount, currency) || 0, currency, locale),
        }).slice(0, 120),
      };
    }
    case "gym_tiers": {
      const d = draft.gym;
      return {
        tiers: tierBody(d.tiers, false, currency),
        points_per_visit: readInt(d.perVisit),
        session_name: d.session,
        session_cost_points: readInt(d.cost),
        reward_name: d.session.slice(0, 120),
        rule_name: t("dashboard.onboarding.gym.visitRule"),
      };
    }
  }
}

/**
 * The member's card as it will look. Its texts are the card's: in the business's language (the
 * language a member's card starts in, and the one the names are created in), so "Gratis koffie"
 * here is "Gratis koffie" on the card, whatever language the owner reads the dashboard in.
 */
function Preview({
  template,
  draft,
  currency,
  businessName,
  names: t,
  namesLocale: locale,
}: {
  template: TemplateName;
  draft: Draft;
  currency: string;
  businessName: string;
  names: Translate;
  namesLocale: string;
}) {
  const num = (text: string, fallback: number) => {
    const n = readInt(text);
    return n === null || Number.isNaN(n) ? fallback : n;
  };
  const money = (text: string) => {
    const n = readMoney(text, currency);
    return n === null || Number.isNaN(n) ? 0 : n;
  };
  let content: React.ReactNode;
  if (template === "cafe_stamp_card") {
    const required = Math.max(1, num(draft.cafe.stamps, 1));
    content = (
      <StampsPreview
        t={t}
        required={required}
        filled={Math.min(required - 1, num(draft.cafe.welcome, 0) + 2)}
        reward={t("dashboard.onboarding.freeProduct", { product: draft.cafe.product })}
      />
    );
  } else if (template === "bakery_points") {
    const cost = Math.max(1, num(draft.bakery.cost, 100));
    const birthday = num(draft.bakery.birthday, 0);
    content = (
      <PointsPreview
        t={t}
        balance={Math.round(cost * 0.6)}
        goal={cost}
        reward={t("dashboard.onboarding.freeProduct", { product: draft.bakery.treat })}
        extra={birthday > 0 ? t("dashboard.preview.birthday", { count: birthday }) : undefined}
      />
    );
  } else {
    const boutique = template === "boutique_tiers";
    const tiers = boutique ? draft.boutique.tiers : draft.gym.tiers;
    const values = tiers.map((tier) => (boutique ? money(tier.threshold) : num(tier.threshold, 0)));
    const next = values[1] ?? 1;
    const progress = 60;
    const remaining = Math.max(0, Math.round(next * 0.4));
    content = (
      <TierPreview
        t={t}
        tiers={tiers.map((tier) => tier.name)}
        current={0}
        progress={progress}
        nextText={
          boutique
            ? t("dashboard.preview.spendToTier", {
                amount: formatMoney(remaining, currency, locale),
                tier: tiers[1]?.name ?? "",
              })
            : t("dashboard.preview.visitsToTier", { count: remaining, tier: tiers[1]?.name ?? "" })
        }
      />
    );
  }
  return (
    <div aria-live="polite">
      <CardFrame business={businessName} lang={locale}>
        {content}
      </CardFrame>
    </div>
  );
}
