import { type FormEvent, useEffect, useState } from "react";
import { ApiError, api } from "../../api.ts";
import { formatMoney } from "../../i18n/format.ts";
import { useT } from "../../i18n/index.tsx";
import { Link } from "../../router.tsx";
import { ErrorMessage, Field } from "../../ui/components.tsx";
import {
  Check,
  DASHBOARD_PROBLEMS,
  FormError,
  fieldErrors,
  moneyText,
  readInt,
  readMoney,
  tierThresholdText,
  useAllPages,
  useApi,
  useFocusOnRefusal,
} from "../forms.tsx";
import { useSession } from "../session.tsx";
import type { ExpiryPolicy, Program, ProgramConfig, Tier } from "./types.ts";

/** Points, expiry, the pending period, tiers' metric and the refund policy: `GET/PUT /v1/program`. */
export default function ProgramSettingsPage() {
  const { t } = useT();
  const program = useApi<Program>("/v1/program");
  return (
    <div className="stack">
      <h1>{t("dashboard.settings.title")}</h1>
      <p className="muted">{t("dashboard.settings.lead")}</p>
      <ErrorMessage error={program.error} known={DASHBOARD_PROBLEMS} />
      {program.data ? <SettingsForm program={program.data} onSaved={program.reload} /> : null}
    </div>
  );
}

/** The settings as the form holds them: what a person typed and chose. */
export interface Text {
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

/**
 * The settings' parts a person changes as one, by the name of the label that shows them: the
 * rate ("N points per X": doubling one side and halving the other are the same change, and taken
 * from two people they would multiply), and the expiry's policy and its amount. (The pending
 * period stays apart: a mix the API refuses, pending outlasting expiry, is said at its field.)
 */
const PARTS = {
  enabled: ["enabled"],
  earn: ["earn", "per"],
  rounding: ["rounding"],
  pending: ["pending"],
  expiry: ["expiry", "expiryAmount"],
  soon: ["soon"],
  metric: ["metric"],
  period: ["period"],
  reversePoints: ["reversePoints"],
  reverseStamps: ["reverseStamps"],
  negative: ["negative"],
} as const satisfies Record<string, readonly (keyof Text)[]>;
export type SettingsPart = keyof typeof PARTS;

const sameValue = (a: Text[keyof Text], b: Text[keyof Text]) =>
  typeof a === "string" && typeof b === "string" ? a.trim() === b.trim() : a === b;
const samePart = (part: SettingsPart, a: Text, b: Text) => PARTS[part].every((k) => sameValue(a[k], b[k]));

/** What a save refused with `program_changed` becomes: the form to show, and what changed where. */
export interface Merged {
  text: Text;
  /** Changed by the other side only: their value is now in the form. */
  theirs: SettingsPart[];
  /** Changed here, and now different from what is saved: saving again writes them. */
  mine: SettingsPart[];
  /** Of `mine`, those the other side changed too (to something else): theirs is overwritten on a save. */
  both: SettingsPart[];
  /**
   * Every part this manager has changed since the page was read, across conflicts: a part typed
   * before an earlier conflict stays theirs to keep, even if it now equals the version read at it.
   */
  edited: SettingsPart[];
}

/**
 * The settings a manager typed (`mine`, on top of the version read: `base`), laid over the version
 * saved since by someone else (`theirs`): a part only the other side changed takes their value, a
 * part this manager changed keeps what they typed. Nothing typed is lost, and a save after it
 * writes back no part this manager left alone.
 *
 * @example mergeSettings(toText(read), typed, toText(current)).mine // ["pending"]
 */
export function mergeSettings(
  base: Text,
  mine: Text,
  theirs: Text,
  /** The parts this manager changed before an earlier conflict (`Merged.edited`). */
  edited: readonly SettingsPart[] = [],
): Merged {
  const text = { ...mine };
  const merged: Merged = { text, theirs: [], mine: [], both: [], edited: [] };
  for (const part of Object.keys(PARTS) as SettingsPart[]) {
    const changedHere = edited.includes(part) || !samePart(part, base, mine);
    if (changedHere) merged.edited.push(part);
    const changedThere = !samePart(part, base, theirs);
    if (!changedHere) {
      for (const key of PARTS[part]) Object.assign(text, { [key]: theirs[key] });
      if (changedThere) merged.theirs.push(part);
    } else if (!samePart(part, mine, theirs)) {
      merged.mine.push(part);
      if (changedThere) merged.both.push(part);
    }
  }
  return merged;
}

/** The label of a settings part, to name it in a list ("Points expire, Rounding"). */
function partLabel(
  part: SettingsPart,
  t: (key: string, values?: Record<string, string | number>) => string,
  currency: string,
): string {
  const key = {
    enabled: "enabled",
    earn: "earn",
    rounding: "rounding",
    pending: "pending",
    expiry: "expiryPolicy",
    soon: "soon",
    metric: "metric",
    period: "period",
    reversePoints: "reversePoints",
    reverseStamps: "reverseStamps",
    negative: "negative",
  }[part];
  return t(`dashboard.settings.${key}`, { currency });
}

function SettingsForm({ program, onSaved }: { program: Program; onSaved: () => Promise<void> }) {
  const { t, locale } = useT();
  const { business, staff } = useSession();
  const currency = business.currency;
  // The settings as last read: what a save's If-Match names, and what the typing is laid over.
  const [base, setBase] = useState(program);
  const [text, setText] = useState(() => toText(program.config, currency));
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);
  const [merged, setMerged] = useState<Merged | null>(null);
  // The parts typed since the page was read, kept across conflicts until a save goes through.
  const [edited, setEdited] = useState<SettingsPart[]>([]);
  const [metricConfirmed, setMetricConfirmed] = useState(false);
  // A save refused here for want of that confirmation: a new object each time, to move the focus.
  const [metricUnconfirmed, setMetricUnconfirmed] = useState<object | null>(null);
  // The active tiers, whose thresholds a change of the tier metric reads in another unit.
  const tiers = useAllPages<Tier>("/v1/tiers");
  useEffect(() => {
    setBase(program);
    setText(toText(program.config, currency));
  }, [program, currency]);
  const errors = fieldErrors(error, { pending_outlasts_expiry: "points.pending_days" }, t, {
    currency,
    locale,
  });
  const form = useFocusOnRefusal(error ?? metricUnconfirmed);
  const set = (patch: Partial<Text>) => {
    setText((x) => ({ ...x, ...patch }));
    setSaved(false);
  };
  const readOnly = staff.role === "cashier";
  const metricBefore = base.config.tiers.metric;
  const ladder = tiers.data?.data ?? [];
  const metricWarning = text.metric !== metricBefore && ladder.length > 0;

  async function submit(event: FormEvent) {
    event.preventDefault();
    setError(null);
    setMerged(null);
    if (metricWarning && !metricConfirmed) {
      setMetricUnconfirmed({});
      return;
    }
    setMetricUnconfirmed(null);
    setBusy(true);
    try {
      await api("PUT", "/v1/program", toConfig(text, currency), { ifMatch: String(base.version) });
      setSaved(true);
      setEdited([]);
      setMetricConfirmed(false);
      await onSaved();
    } catch (e) {
      // Someone changed the settings since this page read them: their changes come in, this
      // manager's typing stays, and the page says which is which before they save again.
      if (e instanceof ApiError && e.code === "program_changed") {
        try {
          const current = await api<Program>("GET", "/v1/program");
          const result = mergeSettings(
            toText(base.config, currency),
            text,
            toText(current.config, currency),
            edited,
          );
          setEdited(result.edited);
          setBase(current);
          setText(result.text);
          setMerged(result);
        } catch (reading) {
          setError(reading);
        }
      } else setError(e);
    } finally {
      setBusy(false);
    }
  }

  const names = (parts: SettingsPart[]) =>
    new Intl.ListFormat(locale, { type: "conjunction" }).format(parts.map((p) => partLabel(p, t, currency)));

  const earn = readInt(text.earn);
  const per = readMoney(text.per, currency);
  const summary =
    earn && per && !Number.isNaN(earn) && !Number.isNaN(per)
      ? t("dashboard.settings.rateSummary", { count: earn, amount: formatMoney(per, currency, locale) })
      : "";

  return (
    <form ref={form} className="stack" onSubmit={submit} noValidate>
      <FormError error={error} shown={errors} />
      {merged ? (
        <div className="alert error" role="alert">
          <p>{t("dashboard.settings.changedMeanwhile")}</p>
          {merged.theirs.length > 0 ? (
            <p>{t("dashboard.settings.changedTheirs", { fields: names(merged.theirs) })}</p>
          ) : null}
          {merged.mine.length > 0 ? (
            <p>{t("dashboard.settings.changedMine", { fields: names(merged.mine) })}</p>
          ) : null}
          {merged.both.length > 0 ? (
            <p>{t("dashboard.settings.changedBoth", { fields: names(merged.both) })}</p>
          ) : null}
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
                onChange={(e) => {
                  set({ metric: e.target.value as Text["metric"] });
                  setMetricConfirmed(false);
                }}
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
        {metricWarning ? (
          <div className="alert warn stack">
            <p>{t("dashboard.settings.metricWarning", { metric: text.metric })}</p>
            <ul>
              {ladder.map((tier) => (
                <li key={tier.id}>
                  {t("dashboard.settings.metricTier", {
                    name: tier.name,
                    before: tierThresholdText(tier.threshold, metricBefore, currency, locale, t),
                    after: tierThresholdText(tier.threshold, text.metric, currency, locale, t),
                  })}
                </li>
              ))}
            </ul>
            <Link href="/app/program/tiers">{t("dashboard.settings.metricTiersLink")}</Link>
            <Check
              label={t("dashboard.settings.metricConfirm")}
              checked={metricConfirmed}
              onChange={(confirmed) => {
                setMetricConfirmed(confirmed);
                if (confirmed) setMetricUnconfirmed(null);
              }}
              error={metricUnconfirmed ? t("dashboard.settings.metricConfirmNeeded") : null}
            />
          </div>
        ) : null}
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
