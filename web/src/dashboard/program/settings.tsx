import { type FormEvent, useEffect, useState } from "react";
import { ApiError, api } from "../../api.ts";
import { formatMoney } from "../../i18n/format.ts";
import { useT } from "../../i18n/index.tsx";
import { ErrorMessage, Field } from "../../ui/components.tsx";
import { Check, FormError, fieldErrors, moneyText, readInt, readMoney, useApi } from "../forms.tsx";
import { useSession } from "../session.tsx";
import type { ExpiryPolicy, Program, ProgramConfig } from "./types.ts";

/** Points, expiry, the pending period, tiers' metric and the refund policy: `GET/PUT /v1/program`. */
export default function ProgramSettingsPage() {
  const { t } = useT();
  const program = useApi<Program>("/v1/program");
  return (
    <div className="stack">
      <h1>{t("dashboard.settings.title")}</h1>
      <p className="muted">{t("dashboard.settings.lead")}</p>
      <ErrorMessage error={program.error} />
      {program.data ? <SettingsForm program={program.data} onSaved={program.reload} /> : null}
    </div>
  );
}

interface Text {
  enabled: boolean;
  earn: string;
  per: string;
  rounding: ProgramConfig["points"]["rounding"];
  pending: string;
  expiry: ExpiryPolicy["policy"];
  expiryAmount: string;
  negative: boolean;
  soon: string;
  metric: ProgramConfig["tiers"]["metric"];
  period: ProgramConfig["tiers"]["period"];
  reversePoints: boolean;
  reverseStamps: boolean;
}

function toText(config: ProgramConfig, currency: string): Text {
  const e = config.points.expiry;
  return {
    enabled: config.points.enabled,
    earn: String(config.points.earn_points),
    per: moneyText(config.points.earn_per_minor, currency),
    rounding: config.points.rounding,
    pending: String(config.points.pending_days),
    expiry: e.policy,
    expiryAmount:
      e.policy === "days_after_earn"
        ? String(e.days)
        : e.policy === "end_of_month"
          ? String(e.months_after)
          : e.policy === "end_of_year"
            ? String(e.years_after)
            : "",
    negative: config.points.allow_negative_balance,
    soon: String(config.points.expiring_soon_days),
    metric: config.tiers.metric,
    period: config.tiers.period,
    reversePoints: config.refunds.reverse_points,
    reverseStamps: config.refunds.reverse_stamps,
  };
}

function toConfig(text: Text, currency: string): ProgramConfig {
  const amount = readInt(text.expiryAmount) as number;
  const expiry: ExpiryPolicy =
    text.expiry === "days_after_earn"
      ? { policy: "days_after_earn", days: amount }
      : text.expiry === "end_of_month"
        ? { policy: "end_of_month", months_after: amount }
        : text.expiry === "end_of_year"
          ? { policy: "end_of_year", years_after: amount }
          : { policy: "never" };
  return {
    points: {
      enabled: text.enabled,
      earn_points: readInt(text.earn) as number,
      earn_per_minor: readMoney(text.per, currency) as number,
      rounding: text.rounding,
      pending_days: readInt(text.pending, 0) as number,
      expiry,
      allow_negative_balance: text.negative,
      expiring_soon_days: readInt(text.soon) as number,
    },
    tiers: { metric: text.metric, period: text.period },
    refunds: { reverse_points: text.reversePoints, reverse_stamps: text.reverseStamps },
  };
}

function SettingsForm({ program, onSaved }: { program: Program; onSaved: () => Promise<void> }) {
  const { t, locale } = useT();
  const { business, staff } = useSession();
  const currency = business.currency;
  const [text, setText] = useState(() => toText(program.config, currency));
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);
  const [changedMeanwhile, setChangedMeanwhile] = useState(false);
  useEffect(() => setText(toText(program.config, currency)), [program, currency]);
  const errors = fieldErrors(error, {}, t);
  const set = (patch: Partial<Text>) => {
    setText((x) => ({ ...x, ...patch }));
    setSaved(false);
  };
  const readOnly = staff.role === "cashier";

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setChangedMeanwhile(false);
    try {
      await api("PUT", "/v1/program", toConfig(text, currency), { ifMatch: String(program.version) });
      setSaved(true);
      await onSaved();
    } catch (e) {
      // Someone changed the settings since this page read them: show theirs, to check and save again.
      if (e instanceof ApiError && e.code === "program_changed") {
        setChangedMeanwhile(true);
        await onSaved();
      } else setError(e);
    } finally {
      setBusy(false);
    }
  }

  const earn = readInt(text.earn);
  const per = readMoney(text.per, currency);
  const summary =
    earn && per && !Number.isNaN(earn) && !Number.isNaN(per)
      ? t("dashboard.settings.rateSummary", { count: earn, amount: formatMoney(per, currency, locale) })
      : "";

  return (
    <form className="stack" onSubmit={submit} noValidate>
      <FormError error={error} shown={errors} />
      {changedMeanwhile ? (
        <div className="alert error" role="alert">
          {t("dashboard.settings.changedMeanwhile")}
        </div>
      ) : null}
      <fieldset className="card stack">
        <legend>{t("dashboard.settings.points")}</legend>
        <Check
          label={t("dashboard.settings.enabled")}
          checked={text.enabled}
          onChange={(enabled) => set({ enabled })}
        />
        <div className="grid">
          <Field label={t("dashboard.settings.earn")} error={errors["points.earn_points"]}>
            {(p) => (
              <input
                {...p}
                inputMode="numeric"
                value={text.earn}
                onChange={(e) => set({ earn: e.target.value })}
              />
            )}
          </Field>
          <Field label={t("dashboard.settings.per", { currency })} error={errors["points.earn_per_minor"]}>
            {(p) => (
              <input
                {...p}
                inputMode="decimal"
                value={text.per}
                onChange={(e) => set({ per: e.target.value })}
              />
            )}
          </Field>
          <Field label={t("dashboard.settings.rounding")} error={errors["points.rounding"]}>
            {(p) => (
              <select
                {...p}
                value={text.rounding}
                onChange={(e) => set({ rounding: e.target.value as Text["rounding"] })}
              >
                <option value="floor">{t("dashboard.settings.roundingFloor")}</option>
                <option value="round">{t("dashboard.settings.roundingRound")}</option>
                <option value="ceil">{t("dashboard.settings.roundingCeil")}</option>
              </select>
            )}
          </Field>
        </div>
        {summary ? <p className="muted">{summary}</p> : null}
        <Field
          label={t("dashboard.settings.pending")}
          hint={t("dashboard.settings.pendingHint")}
          error={errors["points.pending_days"]}
        >
          {(p) => (
            <input
              {...p}
              inputMode="numeric"
              value={text.pending}
              onChange={(e) => set({ pending: e.target.value })}
            />
          )}
        </Field>
      </fieldset>
      <fieldset className="card stack">
        <legend>{t("dashboard.settings.expiry")}</legend>
        <div className="grid">
          <Field label={t("dashboard.settings.expiryPolicy")} error={errors["points.expiry.policy"]}>
            {(p) => (
              <select
                {...p}
                value={text.expiry}
                onChange={(e) => {
                  const expiry = e.target.value as Text["expiry"];
                  set({
                    expiry,
                    expiryAmount:
                      expiry === "days_after_earn"
                        ? "365"
                        : expiry === "end_of_month"
                          ? "12"
                          : expiry === "never"
                            ? ""
                            : "1",
                  });
                }}
              >
                <option value="never">{t("dashboard.settings.expiryNever")}</option>
                <option value="days_after_earn">{t("dashboard.settings.expiryDays")}</option>
                <option value="end_of_month">{t("dashboard.settings.expiryMonth")}</option>
                <option value="end_of_year">{t("dashboard.settings.expiryYear")}</option>
              </select>
            )}
          </Field>
          {text.expiry !== "never" ? (
            <Field
              label={
                text.expiry === "days_after_earn"
                  ? t("dashboard.settings.expiryDaysAmount")
                  : text.expiry === "end_of_month"
                    ? t("dashboard.settings.expiryMonthsAmount")
                    : t("dashboard.settings.expiryYearsAmount")
              }
              error={
                errors["points.expiry.days"] ??
                errors["points.expiry.months_after"] ??
                errors["points.expiry.years_after"]
              }
              // With a pending period, a month or a year counts from when the points can be spent.
              hint={
                text.expiry !== "days_after_earn" && (readInt(text.pending, 0) ?? 0) > 0
                  ? t("dashboard.settings.expiryFromRelease")
                  : undefined
              }
            >
              {(p) => (
                <input
                  {...p}
                  inputMode="numeric"
                  value={text.expiryAmount}
                  onChange={(e) => set({ expiryAmount: e.target.value })}
                />
              )}
            </Field>
          ) : null}
          <Field
            label={t("dashboard.settings.soon")}
            hint={t("dashboard.settings.soonHint")}
            error={errors["points.expiring_soon_days"]}
          >
            {(p) => (
              <input
                {...p}
                inputMode="numeric"
                value={text.soon}
                onChange={(e) => set({ soon: e.target.value })}
              />
            )}
          </Field>
        </div>
      </fieldset>
      <fieldset className="card stack">
        <legend>{t("dashboard.settings.tiers")}</legend>
        <div className="grid">
          <Field label={t("dashboard.settings.metric")} error={errors["tiers.metric"]}>
            {(p) => (
              <select
                {...p}
                value={text.metric}
                onChange={(e) => set({ metric: e.target.value as Text["metric"] })}
              >
                <option value="spend">{t("dashboard.settings.metricSpend")}</option>
                <option value="points">{t("dashboard.settings.metricPoints")}</option>
                <option value="visits">{t("dashboard.settings.metricVisits")}</option>
              </select>
            )}
          </Field>
          <Field label={t("dashboard.settings.period")} error={errors["tiers.period"]}>
            {(p) => (
              <select
                {...p}
                value={text.period}
                onChange={(e) => set({ period: e.target.value as Text["period"] })}
              >
                <option value="calendar_year">{t("dashboard.settings.periodYear")}</option>
                <option value="rolling_12_months">{t("dashboard.settings.periodRolling")}</option>
              </select>
            )}
          </Field>
        </div>
      </fieldset>
      <fieldset className="card stack">
        <legend>{t("dashboard.settings.refunds")}</legend>
        <Check
          label={t("dashboard.settings.reversePoints")}
          checked={text.reversePoints}
          onChange={(reversePoints) => set({ reversePoints })}
        />
        <Check
          label={t("dashboard.settings.reverseStamps")}
          checked={text.reverseStamps}
          onChange={(reverseStamps) => set({ reverseStamps })}
        />
        <Check
          label={t("dashboard.settings.negative")}
          hint={t("dashboard.settings.negativeHint")}
          checked={text.negative}
          onChange={(negative) => set({ negative })}
        />
      </fieldset>
      {saved ? (
        <div className="alert ok" role="status">
          {t("common.saved")}
        </div>
      ) : null}
      <div>
        <button type="submit" className="button large" disabled={busy || readOnly}>
          {t("common.save")}
        </button>
      </div>
    </form>
  );
}
