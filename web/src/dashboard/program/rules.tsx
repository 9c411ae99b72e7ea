import { type FormEvent, useState } from "react";
import { ApiError, api } from "../../api.ts";
import { formatDateTime, formatMoney, formatNumber } from "../../i18n/format.ts";
import { useT } from "../../i18n/index.tsx";
import { ErrorMessage, Field } from "../../ui/components.tsx";
import {
  CatalogHeader,
  Check,
  changedFields,
  DASHBOARD_PROBLEMS,
  errorAt,
  FieldGroup,
  FormError,
  fieldErrors,
  isoToZoned,
  moneyText,
  RowActions,
  readFactor,
  readInt,
  readList,
  readMoney,
  useAllPages,
  useApi,
  useCatalog,
  useCreate,
  useFocusOnMount,
  useFocusOnRefusal,
  zonedToIso,
} from "../forms.tsx";
import { useSession } from "../session.tsx";
import {
  type AttributeCondition,
  type Choice,
  choicesOf,
  type List,
  type Location,
  type Program,
  type Rule,
  type RuleConditions,
  type RuleEffect,
  type StampCard,
  type Tier,
} from "./types.ts";

/** Earning rules, built from conditions and one effect — never typed as code. */
export default function RulesPage() {
  const { t } = useT();
  const { list: rules, editing, setEditing, error, archive, saved } = useCatalog<Rule>("/v1/rules");
  const cards = useApi<List<StampCard>>("/v1/stamp-cards");
  // Archived tiers and locations too: a rule may still name them, and the form shows them so
  // they can be unticked.
  const tiers = useAllPages<Tier>("/v1/tiers?include_archived=true");
  const locations = useAllPages<Location>("/v1/locations");
  const program = useApi<Program>("/v1/program");

  return (
    <div className="stack">
      <CatalogHeader
        title={t("dashboard.rules.title")}
        newLabel={t("dashboard.rules.new")}
        editing={editing !== null}
        onNew={() => setEditing("new")}
      />
      <p className="muted">{t("dashboard.rules.lead")}</p>
      <ErrorMessage
        error={rules.error ?? cards.error ?? tiers.error ?? locations.error ?? error}
        known={DASHBOARD_PROBLEMS}
      />
      {editing !== null && cards.data && tiers.data && locations.data ? (
        <RuleForm
          key={editing === "new" ? "new" : editing.id}
          rule={editing === "new" ? null : editing}
          cards={cards.data.data}
          tiers={tiers.data.data}
          locations={locations.data.data}
          pointsOn={program.data?.config.points.enabled ?? true}
          onDone={saved}
          onCancel={() => setEditing(null)}
        />
      ) : null}
      {editing === null ? (
        <TryPurchase cards={cards.data?.data ?? []} locations={locations.data?.data ?? []} />
      ) : null}
      {rules.data?.data.length === 0 && editing === null ? <p>{t("dashboard.rules.empty")}</p> : null}
      <ul className="plain stack">
        {rules.data?.data.map((rule) => (
          <li key={rule.id} className="card">
            <h2>
              {rule.name}{" "}
              {rule.active ? null : <span className="badge draft">{t("dashboard.rules.paused")}</span>}
            </h2>
            <RuleSummary
              rule={rule}
              cards={cards.data?.data ?? []}
              tiers={tiers.data?.data ?? []}
              locations={locations.data?.data ?? []}
            />
            <RowActions name={rule.name} onEdit={() => setEditing(rule)} onArchive={() => archive(rule)} />
          </li>
        ))}
      </ul>
    </div>
  );
}

/**
 * The ISO weekdays (1 = Monday … 7 = Sunday) in the order a calendar of `locale` shows them: from
 * the locale's first day of the week (`Intl.Locale` week info: Sunday for en-US and pt-BR, Monday
 * for nl and pl), or from Monday where the runtime does not say. Only the order changes; the
 * numbers are the API's.
 *
 * @example weekOrder("pt-BR") // [7, 1, 2, 3, 4, 5, 6]
 */
export function weekOrder(locale: string): number[] {
  let first = 1;
  try {
    const info = new Intl.Locale(locale) as Intl.Locale & {
      getWeekInfo?: () => { firstDay?: number };
      weekInfo?: { firstDay?: number };
    };
    const day = (info.getWeekInfo?.() ?? info.weekInfo)?.firstDay;
    if (typeof day === "number" && Number.isInteger(day) && day >= 1 && day <= 7) first = day;
  } catch {
    // An unknown locale: Monday first, as ISO counts.
  }
  return Array.from({ length: 7 }, (_, i) => ((first - 1 + i) % 7) + 1);
}

/**
 * The locale whose week a calendar follows: the dashboard's language with the region of the
 * browser's matching language ("en" and a browser in en-GB: en-GB, Monday first), else the
 * dashboard's language as it is ("en": Sunday first, as CLDR has it for English).
 *
 * @example weekLocale("en", ["en-GB", "nl"]) // "en-GB"
 */
export function weekLocale(locale: string, preferred: readonly string[] = []): string {
  if (locale.includes("-")) return locale;
  const language = locale.toLowerCase();
  return preferred.find((p) => p.includes("-") && p.split("-")[0]?.toLowerCase() === language) ?? locale;
}

/** `days` in the order the week of `locale` runs. */
function inWeekOrder(days: readonly number[], locale: string): number[] {
  const order = weekOrder(locale);
  return [...days].sort((a, b) => order.indexOf(a) - order.indexOf(b));
}

/** The browser's languages, for the week's first day. */
const browserLanguages = (): readonly string[] =>
  typeof navigator === "undefined" ? [] : (navigator.languages ?? []);

/** 2024-01-01 was a Monday: day n of ISO week is 2024-01-0n. */
const weekday = (day: number, locale: string) =>
  new Intl.DateTimeFormat(locale, { weekday: "long", timeZone: "UTC" }).format(
    new Date(Date.UTC(2024, 0, day)),
  );

function RuleSummary({
  rule,
  cards,
  tiers,
  locations,
}: {
  rule: Rule;
  cards: StampCard[];
  tiers: Tier[];
  locations: Location[];
}) {
  const { t, locale } = useT();
  const { business } = useSession();
  const money = (minor: number) => formatMoney(minor, business.currency, locale);
  /** A tier or location by name, marked when archived. */
  const named = (rows: { id: string; name: string; archived: boolean }[], id: string) => {
    const row = rows.find((x) => x.id === id);
    if (!row) return "—";
    return row.archived ? t("dashboard.field.archived", { name: row.name }) : row.name;
  };
  const e = rule.effect;
  const effect =
    e.type === "fixed_points"
      ? t("dashboard.rules.sumFixed", { count: e.points })
      : e.type === "points_per_spend"
        ? t("dashboard.rules.sumPerSpend", { count: e.points, amount: money(e.per_minor) })
        : e.type === "multiplier"
          ? t("dashboard.rules.sumMultiplier", { factor: formatNumber(e.factor_bp / 10_000, locale) })
          : t("dashboard.rules.sumStamps", {
              count: e.stamps,
              card: cards.find((c) => c.id === e.stamp_card_id)?.name ?? "—",
            });
  const c = rule.conditions;
  const parts: string[] = [t(`dashboard.rules.trigger.${rule.trigger}`)];
  if (c.min_spend_minor) parts.push(t("dashboard.rules.sumMinSpend", { amount: money(c.min_spend_minor) }));
  if (c.items) {
    parts.push(
      t("dashboard.rules.sumItems", {
        items: [...(c.items.skus ?? []), ...(c.items.categories ?? []), ...(c.items.brands ?? [])].join(", "),
      }),
    );
  }
  if (c.days_of_week) {
    const week = weekLocale(locale, browserLanguages());
    parts.push(
      inWeekOrder(c.days_of_week, week)
        .map((d) => weekday(d, locale))
        .join(", "),
    );
  }
  if (c.time_window) parts.push(`${c.time_window.from}–${c.time_window.to}`);
  if (c.tier_ids) {
    const all = tiers.map((x) => ({ ...x, archived: x.archived_at !== null }));
    parts.push(c.tier_ids.map((id) => named(all, id)).join(", "));
  }
  if (c.location_ids) {
    parts.push(
      t("dashboard.rules.sumAt", { locations: c.location_ids.map((id) => named(locations, id)).join(", ") }),
    );
  }
  if (c.first_purchase === true) parts.push(t("dashboard.rules.firstOnly"));
  if (c.first_purchase === false) parts.push(t("dashboard.rules.notFirst"));
  if (rule.starts_at)
    parts.push(
      t("dashboard.rules.sumFrom", { date: formatDateTime(rule.starts_at, locale, business.timezone) }),
    );
  if (rule.ends_at)
    parts.push(
      t("dashboard.rules.sumUntil", { date: formatDateTime(rule.ends_at, locale, business.timezone) }),
    );
  return (
    <p>
      <strong>{effect}</strong> — {parts.join(" · ")}
    </p>
  );
}

type FirstPurchase = "any" | "only" | "never";
type CapChoice = "none" | "day" | "week" | "month" | "year" | "lifetime";

interface AttrRow {
  key: string;
  op: AttributeCondition["op"];
  value: string;
  /** The condition as stored, with the text it was shown as: unchanged, it is sent back as it was. */
  stored?: { op: AttributeCondition["op"]; text: string; value: AttributeCondition["value"] };
}

/** Stored attribute (or event property) conditions as the form's rows. */
function rowsOf(conditions: AttributeCondition[] | undefined): AttrRow[] {
  return (conditions ?? []).map((a) => {
    const value = Array.isArray(a.value) ? a.value.join(", ") : a.value === undefined ? "" : String(a.value);
    return { key: a.key, op: a.op, value, stored: { op: a.op, text: value, value: a.value } };
  });
}

/** The form's rows with a name as conditions; a value left as it was keeps its type. */
function conditionsOf(rows: AttrRow[]): AttributeCondition[] {
  return rows
    .filter((a) => a.key.trim())
    .map((a) => ({
      key: a.key.trim(),
      op: a.op,
      ...(a.op === "exists"
        ? {}
        : // A value left as it was keeps its type: "1012" stays text, 12 a number.
          a.stored && a.stored.op === a.op && a.stored.text === a.value
          ? { value: a.stored.value }
          : a.op === "in"
            ? { value: readList(a.value).map(scalar) }
            : { value: scalar(a.value.trim()) }),
    }));
}

/** Whether two lists hold the same numbers, in any order. */
const sameSet = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((x) => b.includes(x));

/** A group of checkboxes for references (tiers, locations), with its error tied to the group. */
function Choices({
  legend,
  choices,
  chosen,
  onToggle,
  error,
}: {
  legend: string;
  choices: Choice[];
  chosen: string[];
  onToggle: (id: string) => void;
  error: string | undefined;
}) {
  const { t } = useT();
  return (
    <FieldGroup legend={legend} error={error} className="">
      <div className="row wrap">
        {choices.map((choice) => (
          <Check
            key={choice.id}
            label={choice.archived ? t("dashboard.field.archived", { name: choice.name }) : choice.name}
            checked={chosen.includes(choice.id)}
            onChange={() => onToggle(choice.id)}
          />
        ))}
      </div>
    </FieldGroup>
  );
}

/** A list of attribute conditions (a member's details, an event's properties): name, test, value. */
function ConditionRows({
  legend,
  hint,
  rows,
  onChange,
  path,
  errors,
  keyLabel,
  addLabel,
  removeLabel,
}: {
  legend: string;
  hint?: string;
  rows: AttrRow[];
  onChange: (rows: AttrRow[]) => void;
  /** Where the API reports their issues: `conditions.member_attributes`. */
  path: string;
  errors: Record<string, string>;
  keyLabel: string;
  addLabel: string;
  removeLabel: (key: string) => string;
}) {
  const { t } = useT();
  const set = (i: number, change: Partial<AttrRow>) =>
    onChange(rows.map((x, j) => (j === i ? { ...x, ...change } : x)));
  return (
    <fieldset className="stack">
      <legend>{legend}</legend>
      {hint ? <p className="hint">{hint}</p> : null}
      {rows.map((a, i) => {
        // The API numbers the conditions sent: rows without a name are left out.
        const at = `${path}.${rows.slice(0, i).filter((r) => r.key.trim()).length}`;
        return (
          <div className="grid" key={`${path}-${i.toString()}`}>
            <Field label={keyLabel} error={errors[`${at}.key`]}>
              {(p) => <input {...p} value={a.key} onChange={(ev) => set(i, { key: ev.target.value })} />}
            </Field>
            <Field label={t("dashboard.rules.attrOp")} error={errors[`${at}.op`]}>
              {(p) => (
                <select
                  {...p}
                  value={a.op}
                  onChange={(ev) => set(i, { op: ev.target.value as AttrRow["op"] })}
                >
                  {(["eq", "neq", "in", "gt", "gte", "lt", "lte", "exists"] as const).map((op) => (
                    <option key={op} value={op}>
                      {t(`dashboard.rules.op.${op}`)}
                    </option>
                  ))}
                </select>
              )}
            </Field>
            {a.op !== "exists" ? (
              <Field label={t("dashboard.rules.attrValue")} error={errorAt(errors, `${at}.value`)}>
                {(p) => (
                  <input {...p} value={a.value} onChange={(ev) => set(i, { value: ev.target.value })} />
                )}
              </Field>
            ) : null}
            <div className="field end">
              <button
                type="button"
                className="button ghost dark"
                onClick={() => onChange(rows.filter((_, j) => j !== i))}
              >
                {removeLabel(a.key || String(i + 1))}
              </button>
            </div>
          </div>
        );
      })}
      <div>
        <button
          type="button"
          className="button secondary"
          onClick={() => onChange([...rows, { key: "", op: "eq", value: "" }])}
        >
          {addLabel}
        </button>
      </div>
    </fieldset>
  );
}

function RuleForm({
  rule,
  cards,
  tiers,
  locations,
  pointsOn,
  onDone,
  onCancel,
}: {
  rule: Rule | null;
  cards: StampCard[];
  /** Every tier, archived ones too. */
  tiers: Tier[];
  /** Every location, archived ones too. */
  locations: Location[];
  pointsOn: boolean;
  onDone: () => Promise<void>;
  onCancel: () => void;
}) {
  const { t, locale } = useT();
  const { business } = useSession();
  const currency = business.currency;
  const tz = business.timezone;
  const c = rule?.conditions ?? {};
  const e = rule?.effect;
  const [name, setName] = useState(rule?.name ?? "");
  const [description, setDescription] = useState(rule?.description ?? "");
  const [trigger, setTrigger] = useState<Rule["trigger"]>(rule?.trigger ?? "purchase");
  const [eventType, setEventType] = useState(rule?.event_type ?? "");
  const [minSpend, setMinSpend] = useState(moneyText(c.min_spend_minor ?? null, currency));
  const [skus, setSkus] = useState(c.items?.skus?.join(", ") ?? "");
  const [categories, setCategories] = useState(c.items?.categories?.join(", ") ?? "");
  const [brands, setBrands] = useState(c.items?.brands?.join(", ") ?? "");
  const [minQuantity, setMinQuantity] = useState(c.items?.min_quantity ? String(c.items.min_quantity) : "");
  const [days, setDays] = useState<number[]>(c.days_of_week ?? []);
  const [from, setFrom] = useState(c.time_window?.from ?? "");
  const [to, setTo] = useState(c.time_window?.to ?? "");
  const [tierIds, setTierIds] = useState<string[]>(c.tier_ids ?? []);
  const [locationIds, setLocationIds] = useState<string[]>(c.location_ids ?? []);
  const [first, setFirst] = useState<FirstPurchase>(
    c.first_purchase === true ? "only" : c.first_purchase === false ? "never" : "any",
  );
  const [attrs, setAttrs] = useState<AttrRow[]>(() => rowsOf(c.member_attributes));
  const [props, setProps] = useState<AttrRow[]>(() => rowsOf(c.event_properties));
  const [effectType, setEffectType] = useState<RuleEffect["type"]>(e?.type ?? "fixed_points");
  const [points, setPoints] = useState(
    e?.type === "fixed_points" || e?.type === "points_per_spend" ? String(e.points) : "10",
  );
  const [perMinor, setPerMinor] = useState(
    moneyText(e?.type === "points_per_spend" ? e.per_minor : 100, currency),
  );
  const [scope, setScope] = useState<"order" | "matching_items">(
    e?.type === "points_per_spend" ? e.scope : "order",
  );
  const [factor, setFactor] = useState(e?.type === "multiplier" ? String(e.factor_bp / 10_000) : "2");
  const [cardId, setCardId] = useState(e?.type === "stamps" ? e.stamp_card_id : (cards[0]?.id ?? ""));
  const [stamps, setStamps] = useState(e?.type === "stamps" ? String(e.stamps) : "1");
  const [capPeriod, setCapPeriod] = useState<CapChoice>(rule?.cap?.period ?? "none");
  const [capTimes, setCapTimes] = useState(rule?.cap?.max_times ? String(rule.cap.max_times) : "");
  const [capPoints, setCapPoints] = useState(rule?.cap?.max_points ? String(rule.cap.max_points) : "");
  const [priority, setPriority] = useState(String(rule?.priority ?? 100));
  const [stop, setStop] = useState(rule?.stop_processing ?? false);
  const [startsAt, setStartsAt] = useState(rule?.starts_at ? isoToZoned(rule.starts_at, tz) : "");
  const [endsAt, setEndsAt] = useState(rule?.ends_at ? isoToZoned(rule.ends_at, tz) : "");
  const [active, setActive] = useState(rule?.active ?? true);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const create = useCreate();
  const errors = fieldErrors(
    error,
    {
      event_type_required: "event_type",
      event_type_not_allowed: "event_type",
      multiplier_needs_purchase: "effect.type",
      items_condition_required: "conditions.items",
      invalid_date_range: "ends_at",
      stamp_card_not_found: "effect.stamp_card_id",
      tier_not_found: "conditions.tier_ids",
      location_not_found: "conditions.location_ids",
      rule_limit_reached: "name",
    },
    t,
    { currency, locale },
  );
  const purchase = trigger === "purchase";
  const week = weekOrder(weekLocale(locale, browserLanguages()));
  // The tiers and locations to tick: the active ones, and the archived ones the rule still names.
  const tierChoices = choicesOf(
    tiers.map((x) => ({ ...x, archived: x.archived_at !== null })),
    c.tier_ids ?? [],
  );
  const locationChoices = choicesOf(locations, c.location_ids ?? []);
  // 22:00–02:00 runs past midnight, and counts for the day it started on (the API's rule).
  const overnight = from !== "" && to !== "" && from > to;

  function conditions(): RuleConditions {
    const out: RuleConditions = {};
    if (locationIds.length) out.location_ids = locationIds;
    if (purchase && minSpend.trim()) out.min_spend_minor = readMoney(minSpend, currency) as number;
    if (purchase && (readList(skus).length || readList(categories).length || readList(brands).length)) {
      out.items = {
        ...(readList(skus).length ? { skus: readList(skus) } : {}),
        ...(readList(categories).length ? { categories: readList(categories) } : {}),
        ...(readList(brands).length ? { brands: readList(brands) } : {}),
        ...(minQuantity.trim() ? { min_quantity: readInt(minQuantity) as number } : {}),
      };
    }
    // The days as stored when they are the same days (a list the API was sent unsorted is then
    // not a change), else in ISO order.
    if (days.length) {
      out.days_of_week =
        c.days_of_week && sameSet(days, c.days_of_week) ? c.days_of_week : [...days].sort((a, b) => a - b);
    }
    if (from || to) out.time_window = { from, to };
    if (tierIds.length) out.tier_ids = tierIds;
    if (purchase && first !== "any") out.first_purchase = first === "only";
    const attributes = conditionsOf(attrs);
    if (attributes.length) out.member_attributes = attributes;
    const properties = trigger === "event" ? conditionsOf(props) : [];
    if (properties.length) out.event_properties = properties;
    return out;
  }

  function effect(): RuleEffect {
    switch (effectType) {
      case "fixed_points":
        return { type: "fixed_points", points: readInt(points) as number };
      case "points_per_spend":
        return {
          type: "points_per_spend",
          points: readInt(points) as number,
          per_minor: readMoney(perMinor, currency) as number,
          scope,
        };
      case "multiplier":
        // Empty is no number at all (the API says "Enter a number"), not ×0; NaN is sent as null.
        return { type: "multiplier", factor_bp: readFactor(factor, null) as number };
      case "stamps":
        return { type: "stamps", stamp_card_id: cardId, stamps: readInt(stamps) as number };
    }
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    const body = {
      name,
      description: description.trim() || null,
      trigger,
      event_type: trigger === "event" ? eventType.trim() : null,
      priority: readInt(priority, 100),
      stop_processing: stop,
      conditions: conditions(),
      effect: effect(),
      cap:
        capPeriod === "none"
          ? null
          : {
              period: capPeriod,
              ...(capTimes.trim() ? { max_times: readInt(capTimes) } : {}),
              ...(capPoints.trim() && effectType !== "stamps" ? { max_points: readInt(capPoints) } : {}),
            },
      starts_at: startsAt ? zonedToIso(startsAt, tz) : null,
      ends_at: endsAt ? zonedToIso(endsAt, tz) : null,
      active,
    };
    try {
      if (rule) {
        const patch = changedFields(body, rule as unknown as Record<string, unknown>);
        if (Object.keys(patch).length > 0) await api("PATCH", `/v1/rules/${rule.id}`, patch);
      } else await create("/v1/rules", body);
      await onDone();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  const toggle = <T,>(list: T[], value: T) =>
    list.includes(value) ? list.filter((x) => x !== value) : [...list, value];

  const title = useFocusOnMount<HTMLHeadingElement>();
  const form = useFocusOnRefusal(error);
  return (
    <form ref={form} className="card stack" onSubmit={submit} noValidate aria-labelledby="rule-form-title">
      <h2 id="rule-form-title" tabIndex={-1} ref={title}>
        {rule ? t("dashboard.rules.edit", { name: rule.name }) : t("dashboard.rules.new")}
      </h2>
      <FormError error={error} shown={errors} />
      <div className="grid">
        <Field label={t("dashboard.field.name")} error={errors.name}>
          {(p) => <input {...p} value={name} onChange={(ev) => setName(ev.target.value)} />}
        </Field>
        <Field label={t("dashboard.rules.when")} error={errors.trigger}>
          {(p) => (
            <select {...p} value={trigger} onChange={(ev) => setTrigger(ev.target.value as Rule["trigger"])}>
              <option value="purchase">{t("dashboard.rules.trigger.purchase")}</option>
              <option value="signup">{t("dashboard.rules.trigger.signup")}</option>
              <option value="birthday">{t("dashboard.rules.trigger.birthday")}</option>
              <option value="event">{t("dashboard.rules.trigger.event")}</option>
            </select>
          )}
        </Field>
        {trigger === "event" ? (
          <Field
            label={t("dashboard.rules.eventType")}
            hint={t("dashboard.rules.eventTypeHint")}
            error={errors.event_type}
          >
            {(p) => <input {...p} value={eventType} onChange={(ev) => setEventType(ev.target.value)} />}
          </Field>
        ) : null}
      </div>
      <Field label={t("dashboard.field.description")} error={errors.description}>
        {(p) => <input {...p} value={description} onChange={(ev) => setDescription(ev.target.value)} />}
      </Field>

      <fieldset className="stack">
        <legend>{t("dashboard.rules.effect")}</legend>
        <div className="grid">
          <Field label={t("dashboard.rules.effectType")} error={errors["effect.type"] ?? errors.effect}>
            {(p) => (
              <select
                {...p}
                value={effectType}
                onChange={(ev) => setEffectType(ev.target.value as RuleEffect["type"])}
              >
                <option value="fixed_points">{t("dashboard.rules.effect.fixed_points")}</option>
                <option value="points_per_spend">{t("dashboard.rules.effect.points_per_spend")}</option>
                <option value="multiplier">{t("dashboard.rules.effect.multiplier")}</option>
                <option value="stamps">{t("dashboard.rules.effect.stamps")}</option>
              </select>
            )}
          </Field>
          {effectType === "fixed_points" || effectType === "points_per_spend" ? (
            <Field label={t("dashboard.rules.points")} error={errors["effect.points"]}>
              {(p) => (
                <input
                  {...p}
                  inputMode="numeric"
                  value={points}
                  onChange={(ev) => setPoints(ev.target.value)}
                />
              )}
            </Field>
          ) : null}
          {effectType === "points_per_spend" ? (
            <>
              <Field label={t("dashboard.rules.perAmount", { currency })} error={errors["effect.per_minor"]}>
                {(p) => (
                  <input
                    {...p}
                    inputMode="decimal"
                    value={perMinor}
                    onChange={(ev) => setPerMinor(ev.target.value)}
                  />
                )}
              </Field>
              <Field label={t("dashboard.rules.scope")} error={errors["effect.scope"]}>
                {(p) => (
                  <select
                    {...p}
                    value={scope}
                    onChange={(ev) => setScope(ev.target.value as "order" | "matching_items")}
                  >
                    <option value="order">{t("dashboard.rules.scopeOrder")}</option>
                    <option value="matching_items">{t("dashboard.rules.scopeItems")}</option>
                  </select>
                )}
              </Field>
            </>
          ) : null}
          {effectType === "multiplier" ? (
            <Field
              label={t("dashboard.rules.factor")}
              hint={t("dashboard.rules.factorHint")}
              error={errors["effect.factor_bp"]}
            >
              {(p) => (
                <input
                  {...p}
                  inputMode="decimal"
                  value={factor}
                  onChange={(ev) => setFactor(ev.target.value)}
                />
              )}
            </Field>
          ) : null}
          {effectType === "stamps" ? (
            <>
              <Field label={t("dashboard.rules.card")} error={errors["effect.stamp_card_id"]}>
                {(p) => (
                  <select {...p} value={cardId} onChange={(ev) => setCardId(ev.target.value)}>
                    {cards.length === 0 ? <option value="">{t("dashboard.rules.noCards")}</option> : null}
                    {cards.map((card) => (
                      <option key={card.id} value={card.id}>
                        {card.name}
                      </option>
                    ))}
                  </select>
                )}
              </Field>
              <Field label={t("dashboard.rules.stamps")} error={errors["effect.stamps"]}>
                {(p) => (
                  <input
                    {...p}
                    inputMode="numeric"
                    value={stamps}
                    onChange={(ev) => setStamps(ev.target.value)}
                  />
                )}
              </Field>
            </>
          ) : null}
        </div>
        {!pointsOn && effectType !== "stamps" ? (
          <div className="alert warn">{t("dashboard.rules.pointsOff")}</div>
        ) : null}
      </fieldset>

      <fieldset className="stack">
        <legend>{t("dashboard.rules.conditions")}</legend>
        <p className="hint">{t("dashboard.rules.conditionsHint")}</p>
        {purchase ? (
          <>
            <div className="grid">
              <Field
                label={t("dashboard.field.minSpend", { currency })}
                hint={t("dashboard.field.emptyNone")}
                error={errors["conditions.min_spend_minor"]}
              >
                {(p) => (
                  <input
                    {...p}
                    inputMode="decimal"
                    value={minSpend}
                    onChange={(ev) => setMinSpend(ev.target.value)}
                  />
                )}
              </Field>
              <Field label={t("dashboard.rules.first")} error={errors["conditions.first_purchase"]}>
                {(p) => (
                  <select {...p} value={first} onChange={(ev) => setFirst(ev.target.value as FirstPurchase)}>
                    <option value="any">{t("dashboard.rules.firstAny")}</option>
                    <option value="only">{t("dashboard.rules.firstOnly")}</option>
                    <option value="never">{t("dashboard.rules.notFirst")}</option>
                  </select>
                )}
              </Field>
            </div>
            <FieldGroup
              legend={t("dashboard.field.items")}
              hint={t("dashboard.rules.itemsHint")}
              error={errorAt(errors, "conditions.items")}
            >
              <div className="grid">
                <Field label={t("dashboard.field.skus")}>
                  {(p) => <input {...p} value={skus} onChange={(ev) => setSkus(ev.target.value)} />}
                </Field>
                <Field label={t("dashboard.field.categories")}>
                  {(p) => (
                    <input {...p} value={categories} onChange={(ev) => setCategories(ev.target.value)} />
                  )}
                </Field>
                <Field label={t("dashboard.field.brands")}>
                  {(p) => <input {...p} value={brands} onChange={(ev) => setBrands(ev.target.value)} />}
                </Field>
                <Field label={t("dashboard.rules.minQuantity")}>
                  {(p) => (
                    <input
                      {...p}
                      inputMode="numeric"
                      value={minQuantity}
                      onChange={(ev) => setMinQuantity(ev.target.value)}
                    />
                  )}
                </Field>
              </div>
            </FieldGroup>
          </>
        ) : null}
        <FieldGroup
          legend={t("dashboard.rules.days")}
          error={errorAt(errors, "conditions.days_of_week")}
          className=""
        >
          <div className="row wrap">
            {week.map((d) => (
              <Check
                key={d}
                label={weekday(d, locale)}
                checked={days.includes(d)}
                onChange={() => setDays(toggle(days, d))}
              />
            ))}
          </div>
        </FieldGroup>
        <div className="grid">
          <Field
            label={t("dashboard.rules.timeFrom")}
            hint={t("dashboard.rules.timeHint", { timezone: tz })}
            error={errors["conditions.time_window.from"] ?? errors["conditions.time_window"]}
          >
            {(p) => <input {...p} type="time" value={from} onChange={(ev) => setFrom(ev.target.value)} />}
          </Field>
          <Field
            label={t("dashboard.rules.timeTo")}
            hint={overnight ? t("dashboard.rules.overnight", { to }) : undefined}
            error={errors["conditions.time_window.to"]}
          >
            {(p) => <input {...p} type="time" value={to} onChange={(ev) => setTo(ev.target.value)} />}
          </Field>
          <Field
            label={t("dashboard.rules.startsAt")}
            hint={t("dashboard.rules.timeHint", { timezone: tz })}
            error={errors.starts_at}
          >
            {(p) => (
              <input
                {...p}
                type="datetime-local"
                value={startsAt}
                onChange={(ev) => setStartsAt(ev.target.value)}
              />
            )}
          </Field>
          <Field
            label={t("dashboard.rules.endsAt")}
            hint={t("dashboard.rules.timeHint", { timezone: tz })}
            error={errors.ends_at}
          >
            {(p) => (
              <input
                {...p}
                type="datetime-local"
                value={endsAt}
                onChange={(ev) => setEndsAt(ev.target.value)}
              />
            )}
          </Field>
        </div>
        {tierChoices.length > 0 ? (
          <Choices
            legend={t("dashboard.rules.tiers")}
            choices={tierChoices}
            chosen={tierIds}
            onToggle={(id) => setTierIds(toggle(tierIds, id))}
            error={errorAt(errors, "conditions.tier_ids")}
          />
        ) : null}
        {locationChoices.length > 0 ? (
          <Choices
            legend={t("dashboard.rules.locations")}
            choices={locationChoices}
            chosen={locationIds}
            onToggle={(id) => setLocationIds(toggle(locationIds, id))}
            error={errorAt(errors, "conditions.location_ids")}
          />
        ) : null}
        <ConditionRows
          legend={t("dashboard.rules.attributes")}
          rows={attrs}
          onChange={setAttrs}
          path="conditions.member_attributes"
          errors={errors}
          keyLabel={t("dashboard.rules.attrKey")}
          addLabel={t("dashboard.rules.attrAdd")}
          removeLabel={(key) => t("dashboard.rules.attrRemove", { key })}
        />
        {trigger === "event" ? (
          <ConditionRows
            legend={t("dashboard.rules.properties")}
            hint={t("dashboard.rules.propertiesHint")}
            rows={props}
            onChange={setProps}
            path="conditions.event_properties"
            errors={errors}
            keyLabel={t("dashboard.rules.propKey")}
            addLabel={t("dashboard.rules.propAdd")}
            removeLabel={(key) => t("dashboard.rules.propRemove", { key })}
          />
        ) : null}
      </fieldset>

      <fieldset className="stack">
        <legend>{t("dashboard.rules.limits")}</legend>
        <div className="grid">
          <Field label={t("dashboard.rules.cap")} error={errors["cap.period"] ?? errors.cap}>
            {(p) => (
              <select {...p} value={capPeriod} onChange={(ev) => setCapPeriod(ev.target.value as CapChoice)}>
                <option value="none">{t("dashboard.rules.capNone")}</option>
                <option value="day">{t("dashboard.rules.capDay")}</option>
                <option value="week">{t("dashboard.rules.capWeek")}</option>
                <option value="month">{t("dashboard.rules.capMonth")}</option>
                <option value="year">{t("dashboard.rules.capYear")}</option>
                <option value="lifetime">{t("dashboard.rules.capLifetime")}</option>
              </select>
            )}
          </Field>
          {capPeriod !== "none" ? (
            <>
              <Field label={t("dashboard.rules.capTimes")} error={errors["cap.max_times"]}>
                {(p) => (
                  <input
                    {...p}
                    inputMode="numeric"
                    value={capTimes}
                    onChange={(ev) => setCapTimes(ev.target.value)}
                  />
                )}
              </Field>
              {effectType === "stamps" ? null : (
                <Field label={t("dashboard.rules.capPoints")} error={errors["cap.max_points"]}>
                  {(p) => (
                    <input
                      {...p}
                      inputMode="numeric"
                      value={capPoints}
                      onChange={(ev) => setCapPoints(ev.target.value)}
                    />
                  )}
                </Field>
              )}
            </>
          ) : null}
          <Field
            label={t("dashboard.rules.priority")}
            hint={t("dashboard.rules.priorityHint")}
            error={errors.priority}
          >
            {(p) => (
              <input
                {...p}
                inputMode="numeric"
                value={priority}
                onChange={(ev) => setPriority(ev.target.value)}
              />
            )}
          </Field>
        </div>
        <Check label={t("dashboard.rules.stop")} checked={stop} onChange={setStop} />
        <Check label={t("dashboard.rules.active")} checked={active} onChange={setActive} />
      </fieldset>
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

/**
 * A typed attribute value: numbers and true/false as such, anything else as text; digits with a
 * leading zero ("007", a store or card number) stay text.
 */
function scalar(text: string): string | number | boolean {
  if (text === "true") return true;
  if (text === "false") return false;
  if (/^-?(0|[1-9]\d*)(\.\d+)?$/.test(text)) return Number(text);
  return text;
}

interface Preview {
  points: { points: number; reason: string }[];
  stamps: { stamp_card_id: string; stamps: number; reason: string }[];
  total_points: number;
}

/**
 * "What would this purchase earn now?": the API's pricing of a purchase, with nothing written. One
 * product line (a code, category or brand, and how many), at a location, for a member by their
 * card's code or else for a new member.
 */
function TryPurchase({ cards, locations }: { cards: StampCard[]; locations: Location[] }) {
  const { t, locale } = useT();
  const { business } = useSession();
  const [amount, setAmount] = useState("");
  const [sku, setSku] = useState("");
  const [category, setCategory] = useState("");
  const [brand, setBrand] = useState("");
  const [quantity, setQuantity] = useState("1");
  const [locationId, setLocationId] = useState("");
  const [memberCode, setMemberCode] = useState("");
  const [result, setResult] = useState<Preview | null>(null);
  const [error, setError] = useState<unknown>(null);
  const open = locations.filter((l) => !l.archived);
  const errors = fieldErrors(
    error,
    { member_not_found: "member_code", location_not_found: "location_id", location_archived: "location_id" },
    t,
    { currency: business.currency, locale },
  );
  if (error instanceof ApiError && error.code === "member_not_found")
    errors.member_code = t("dashboard.rules.tryMemberUnknown");

  async function submit(event: FormEvent) {
    event.preventDefault();
    setError(null);
    setResult(null);
    const amount_minor = readMoney(amount, business.currency);
    const count = readInt(quantity, 1);
    const code = sku.trim() || category.trim() || brand.trim();
    try {
      setResult(
        await api<Preview>("POST", "/v1/purchases/preview", {
          amount_minor,
          currency: business.currency,
          items: code
            ? [
                {
                  sku: code,
                  ...(category.trim() ? { category: category.trim() } : {}),
                  ...(brand.trim() ? { brand: brand.trim() } : {}),
                  quantity: count,
                  // The amount shared over the units, so the line costs what the purchase does.
                  unit_price_minor:
                    typeof amount_minor === "number" && typeof count === "number" && count > 0
                      ? Math.round(amount_minor / count)
                      : amount_minor,
                },
              ]
            : [],
          ...(locationId ? { location_id: locationId } : {}),
          ...(memberCode.trim() ? { member_code: memberCode.trim() } : {}),
        }),
      );
    } catch (e) {
      setError(e);
    }
  }

  return (
    <section className="card" aria-labelledby="try-title">
      <h2 id="try-title">{t("dashboard.rules.tryTitle")}</h2>
      <form className="grid" onSubmit={submit} noValidate>
        <Field
          label={t("dashboard.rules.tryAmount", { currency: business.currency })}
          error={errors.amount_minor}
        >
          {(p) => (
            <input {...p} inputMode="decimal" value={amount} onChange={(e) => setAmount(e.target.value)} />
          )}
        </Field>
        <Field
          label={t("dashboard.rules.trySku")}
          hint={t("dashboard.field.optional")}
          error={errors["items.0.sku"] ?? errorAt(errors, "items")}
        >
          {(p) => <input {...p} value={sku} onChange={(e) => setSku(e.target.value)} />}
        </Field>
        <Field
          label={t("dashboard.rules.tryCategory")}
          hint={t("dashboard.field.optional")}
          error={errors["items.0.category"]}
        >
          {(p) => <input {...p} value={category} onChange={(e) => setCategory(e.target.value)} />}
        </Field>
        <Field
          label={t("dashboard.rules.tryBrand")}
          hint={t("dashboard.field.optional")}
          error={errors["items.0.brand"]}
        >
          {(p) => <input {...p} value={brand} onChange={(e) => setBrand(e.target.value)} />}
        </Field>
        <Field label={t("dashboard.rules.tryQuantity")} error={errors["items.0.quantity"]}>
          {(p) => (
            <input
              {...p}
              inputMode="numeric"
              value={quantity}
              onChange={(e) => setQuantity(e.target.value)}
            />
          )}
        </Field>
        {open.length > 0 ? (
          <Field label={t("dashboard.rules.tryLocation")} error={errors.location_id}>
            {(p) => (
              <select {...p} value={locationId} onChange={(e) => setLocationId(e.target.value)}>
                <option value="">{t("dashboard.rules.tryAnywhere")}</option>
                {open.map((l) => (
                  <option key={l.id} value={l.id}>
                    {l.name}
                  </option>
                ))}
              </select>
            )}
          </Field>
        ) : null}
        <Field
          label={t("dashboard.rules.tryMember")}
          hint={t("dashboard.rules.tryMemberHint")}
          error={errors.member_code}
        >
          {(p) => <input {...p} value={memberCode} onChange={(e) => setMemberCode(e.target.value)} />}
        </Field>
        <div className="field end">
          <button type="submit" className="button secondary">
            {t("dashboard.rules.tryButton")}
          </button>
        </div>
      </form>
      <FormError error={error} shown={errors} />
      {result ? (
        <div role="status">
          {result.points.length === 0 && result.stamps.length === 0 ? (
            <p>{t("dashboard.rules.tryNothing")}</p>
          ) : (
            <ul>
              {result.points.map((line, i) => (
                <li key={`p-${i.toString()}`}>
                  {t("dashboard.rules.sumFixed", { count: line.points })} — {line.reason}
                </li>
              ))}
              {result.stamps.map((line, i) => (
                <li key={`s-${i.toString()}`}>
                  {t("dashboard.rules.sumStamps", {
                    count: line.stamps,
                    card: cards.find((c) => c.id === line.stamp_card_id)?.name ?? line.reason,
                  })}{" "}
                  — {line.reason}
                </li>
              ))}
            </ul>
          )}
        </div>
      ) : null}
    </section>
  );
}
