import { type FormEvent, useState } from "react";
import { api } from "../../api.ts";
import { formatNumber } from "../../i18n/format.ts";
import { useT } from "../../i18n/index.tsx";
import { Link } from "../../router.tsx";
import { ErrorMessage, Field } from "../../ui/components.tsx";
import {
  CatalogHeader,
  changedFields,
  DASHBOARD_PROBLEMS,
  FormError,
  factorInput,
  fieldErrors,
  moneyText,
  RowActions,
  readFactor,
  readInt,
  readMoney,
  tierThresholdText,
  useApi,
  useCatalog,
  useCreate,
  useFocusOnMount,
  useFocusOnRefusal,
} from "../forms.tsx";
import { useSession } from "../session.tsx";
import type { Program, Tier } from "./types.ts";

/** Tiers: the ladder members climb by the program's tier metric. */
export default function TiersPage() {
  const { t, locale } = useT();
  const { business } = useSession();
  const { list: tiers, editing, setEditing, error, archive, saved } = useCatalog<Tier>("/v1/tiers");
  const program = useApi<Program>("/v1/program");
  // Unknown until the program is read: a threshold means money, points or visits by it.
  const metric = program.data?.config.tiers.metric;

  return (
    <div className="stack">
      <CatalogHeader
        title={t("dashboard.tiers.title")}
        newLabel={t("dashboard.tiers.new")}
        editing={editing !== null}
        onNew={() => setEditing("new")}
      />
      <p className="muted">
        {metric ? `${t("dashboard.tiers.lead", { metric })} ` : null}
        <Link href="/app/program">{t("dashboard.tiers.changeMetric")}</Link>
      </p>
      <ErrorMessage error={tiers.error ?? program.error ?? error} known={DASHBOARD_PROBLEMS} />
      {editing !== null && metric ? (
        <TierForm
          key={editing === "new" ? "new" : editing.id}
          tier={editing === "new" ? null : editing}
          metric={metric}
          nextRank={(tiers.data?.data.reduce((m, x) => Math.max(m, x.rank), 0) ?? 0) + 1}
          onDone={saved}
          onCancel={() => setEditing(null)}
        />
      ) : null}
      {tiers.data?.data.length === 0 && editing === null ? <p>{t("dashboard.tiers.empty")}</p> : null}
      <ol className="plain stack">
        {tiers.data?.data.map((tier) => (
          <li key={tier.id} className="card">
            <h2>{tier.name}</h2>
            {metric ? (
              <p>
                {t("dashboard.tiers.summary", {
                  rank: tier.rank,
                  threshold: tierThresholdText(tier.threshold, metric, business.currency, locale, t),
                  multiplier: formatNumber(tier.earn_multiplier_bp / 10_000, locale),
                })}
              </p>
            ) : null}
            {tier.benefits.length > 0 ? (
              <ul>
                {tier.benefits.map((b) => (
                  <li key={b}>{b}</li>
                ))}
              </ul>
            ) : null}
            <RowActions name={tier.name} onEdit={() => setEditing(tier)} onArchive={() => archive(tier)} />
          </li>
        ))}
      </ol>
    </div>
  );
}

function TierForm({
  tier,
  metric,
  nextRank,
  onDone,
  onCancel,
}: {
  tier: Tier | null;
  metric: "spend" | "points" | "visits";
  nextRank: number;
  onDone: () => Promise<void>;
  onCancel: () => void;
}) {
  const { t, locale } = useT();
  const { business } = useSession();
  const currency = business.currency;
  const [name, setName] = useState(tier?.name ?? "");
  const [rank, setRank] = useState(String(tier?.rank ?? nextRank));
  const [threshold, setThreshold] = useState(
    tier ? (metric === "spend" ? moneyText(tier.threshold, currency) : String(tier.threshold)) : "",
  );
  const [multiplier, setMultiplier] = useState(factorInput(tier?.earn_multiplier_bp ?? 10_000));
  const [benefits, setBenefits] = useState(tier?.benefits.join("\n") ?? "");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const create = useCreate();
  const errors = fieldErrors(
    error,
    {
      tier_rank_taken: "rank",
      tier_thresholds_not_increasing: "threshold",
      tier_limit_reached: "name",
    },
    t,
    // A threshold is an amount when tiers count spend; the multiplier (`_bp`) is a factor.
    { currency, locale, also: metric === "spend" ? (path) => path === "threshold" : undefined },
  );
  const form = useFocusOnRefusal(error);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    const body = {
      name,
      rank: readInt(rank),
      threshold: metric === "spend" ? readMoney(threshold, currency) : readInt(threshold, 0),
      // Empty is ×1, as the API's default.
      earn_multiplier_bp: readFactor(multiplier),
      benefits: benefits
        .split("\n")
        .map((b) => b.trim())
        .filter(Boolean),
    };
    try {
      if (tier) {
        // Only what this form changed: a benefit another manager added meanwhile stays.
        const patch = changedFields(body, tier as unknown as Record<string, unknown>);
        if (Object.keys(patch).length > 0) await api("PATCH", `/v1/tiers/${tier.id}`, patch);
      } else await create("/v1/tiers", body);
      await onDone();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  const title = useFocusOnMount<HTMLHeadingElement>();
  return (
    <form ref={form} className="card stack" onSubmit={submit} noValidate aria-labelledby="tier-form-title">
      <h2 id="tier-form-title" tabIndex={-1} ref={title}>
        {tier ? t("dashboard.tiers.edit", { name: tier.name }) : t("dashboard.tiers.new")}
      </h2>
      <FormError error={error} shown={errors} />
      <div className="grid">
        <Field label={t("dashboard.field.name")} error={errors.name}>
          {(p) => <input {...p} value={name} onChange={(e) => setName(e.target.value)} />}
        </Field>
        <Field label={t("dashboard.tiers.rank")} hint={t("dashboard.tiers.rankHint")} error={errors.rank}>
          {(p) => <input {...p} inputMode="numeric" value={rank} onChange={(e) => setRank(e.target.value)} />}
        </Field>
        <Field
          label={
            metric === "spend"
              ? t("dashboard.tiers.thresholdSpend", { currency })
              : metric === "visits"
                ? t("dashboard.tiers.thresholdVisits")
                : t("dashboard.tiers.thresholdPoints")
          }
          error={errors.threshold}
        >
          {(p) => (
            <input
              {...p}
              inputMode={metric === "spend" ? "decimal" : "numeric"}
              value={threshold}
              onChange={(e) => setThreshold(e.target.value)}
            />
          )}
        </Field>
        <Field
          label={t("dashboard.tiers.multiplier")}
          hint={t("dashboard.tiers.multiplierHint")}
          error={errors.earn_multiplier_bp}
        >
          {(p) => (
            <input
              {...p}
              inputMode="decimal"
              value={multiplier}
              onChange={(e) => setMultiplier(e.target.value)}
            />
          )}
        </Field>
      </div>
      <Field
        label={t("dashboard.tiers.benefits")}
        hint={t("dashboard.tiers.benefitsHint")}
        error={Object.entries(errors).find(([k]) => k.startsWith("benefits"))?.[1]}
      >
        {(p) => <textarea {...p} rows={3} value={benefits} onChange={(e) => setBenefits(e.target.value)} />}
      </Field>
      <div className="row wrap">
        <button type="submit" className="button" disabled={busy}>
          {t("common.save")}
        </button>
        <button type="button" className="button ghost dark" onClick={onCancel}>
          {t("common.cancel")}
        </button>
      </div>
    </form>
  );
}
