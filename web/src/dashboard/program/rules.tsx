import { type FormEvent, useState } from "react";
import { api } from "../../api.ts";
import { formatDateTime, formatMoney, formatNumber } from "../../i18n/format.ts";
import { useT } from "../../i18n/index.tsx";
import { ErrorMessage, Field } from "../../ui/components.tsx";
import {
  CatalogHeader,
  Check,
  changedFields,
  errorAt,
  FormError,
  fieldErrors,
  isoToZoned,
  moneyText,
  RowActions,
  readInt,
  readList,
  readMoney,
  useApi,
  useCatalog,
  useCreate,
  useFocusOnMount,
  zonedToIso,
} from "../forms.tsx";
import { useSession } from "../session.tsx";
import type {
  AttributeCondition,
  List,
  Program,
  Rule,
  RuleConditions,
  RuleEffect,
  StampCard,
  Tier,
} from "./types.ts";

/** Earning rules, built from conditions and one effect — never typed as code. */
export default function RulesPage() {
  const { t } = useT();
  const { list: rules, editing, setEditing, error, archive, saved } = useCatalog<Rule>("/v1/rules");
  const cards = useApi<List<StampCard>>("/v1/stamp-cards");
  const tiers = useApi<List<Tier>>("/v1/tiers");
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
      <ErrorMessage error={rules.error ?? cards.error ?? tiers.error ?? error} />
      {editing !== null && cards.data && tiers.data ? (
        <RuleForm
          key={editing === "new" ? "new" : editing.id}
          rule={editing === "new" ? null : editing}
          cards={cards.data.data}
          tiers={tiers.data.data}
          pointsOn={program.data?.config.points.enabled ?? true}
          onDone={saved}
          onCancel={() => setEditing(null)}
        />
      ) : null}
      {editing === null ? <TryPurchase cards={cards.data?.data ?? []} /> : null}
      {rules.data?.data.length === 0 && editing === null ? <p>{t("dashboard.rules.empty")}</p> : null}
      <ul className="plain stack">
        {rules.data?.data.map((rule) => (
          <li key={rule.id} className="card">
            <h2>
              {rule.name}{" "}
              {rule.active ? null : <span className="badge draft">{t("dashboard.rules.paused")}</span>}
            </h2>
            <RuleSummary rule={rule} cards={cards.data?.data ?? []} tiers={tiers.data?.data ?? []} />
            <RowActions name={rule.name} onEdit={() => setEditing(rule)} onArchive={() => archive(rule)} />
          </li>
        ))}
      </ul>
    </div>
  );
}

const DAYS = [1, 2, 3, 4, 5, 6, 7];
/** 2024-01-01 was a Monday: day n of ISO week is 2024-01-0n. */
const weekday = (day: number, locale: string) =>
  new Intl.DateTimeFormat(locale, { weekday: "long", timeZone: "UTC" }).format(
    new Date(Date.UTC(2024, 0, day)),
  );

function RuleSummary({ rule, cards, tiers }: { rule: Rule; cards: StampCard[]; tiers: Tier[] }) {
  const { t, locale } = useT();
  const { business } = useSession();
  const money = (minor: number) => formatMoney(minor, business.currency, locale);
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
  if (c.days_of_week) parts.push(c.days_of_week.map((d) => weekday(d, locale)).join(", "));
  if (c.time_window) parts.push(`${c.time_window.from}–${c.time_window.to}`);
  if (c.tier_ids) {
    parts.push(c.tier_ids.map((id) => tiers.find((x) => x.id === id)?.name ?? "—").join(", "));
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

function RuleForm({
  rule,
  cards,
  tiers,
  pointsOn,
  onDone,
  onCancel,
}: {
  rule: Rule | null;
  cards: StampCard[];
  tiers: Tier[];
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
  const [first, setFirst] = useState<FirstPurchase>(
    c.first_purchase === true ? "only" : c.first_purchase === false ? "never" : "any",
  );
  const [attrs, setAttrs] = useState<AttrRow[]>(
    (c.member_attributes ?? []).map((a) => {
      const value = Array.isArray(a.value)
        ? a.value.join(", ")
        : a.value === undefined
          ? ""
          : String(a.value);
      return { key: a.key, op: a.op, value, stored: { op: a.op, text: value, value: a.value } };
    }),
  );
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
      rule_limit_reached: "name",
    },
    t,
  );
  const purchase = trigger === "purchase";

  function conditions(): RuleConditions {
    // Conditions this form does not edit (locations, event properties set through the API) stay.
    const out: RuleConditions = {
      ...(c.location_ids ? { location_ids: c.location_ids } : {}),
      ...(c.event_properties && trigger === "event" ? { event_properties: c.event_properties } : {}),
    };
    if (purchase && minSpend.trim()) out.min_spend_minor = readMoney(minSpend, currency) as number;
    if (purchase && (readList(skus).length || readList(categories).length || readList(brands).length)) {
      out.items = {
        ...(readList(skus).length ? { skus: readList(skus) } : {}),
        ...(readList(categories).length ? { categories: readList(categories) } : {}),
        ...(readList(brands).length ? { brands: readList(brands) } : {}),
        ...(minQuantity.trim() ? { min_quantity: readInt(minQuantity) as number } : {}),
      };
    }
    if (days.length) out.days_of_week = [...days].sort();
    if (from || to) out.time_window = { from, to };
    if (tierIds.length) out.tier_ids = tierIds;
    if (purchase && first !== "any") out.first_purchase = first === "only";
    const attributes = attrs.filter((a) => a.key.trim());
    if (attributes.length) {
      out.member_attributes = attributes.map((a) => ({
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
      case "multiplier": {
        const f = Number(factor.replace(",", "."));
        return {
          type: "multiplier",
          factor_bp: Number.isFinite(f) ? Math.round(f * 10_000) : (null as unknown as number),
        };
      }
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
  return (
    <form className="card stack" onSubmit={submit} noValidate aria-labelledby="rule-form-title">
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
            <fieldset className="stack">
              <legend>{t("dashboard.field.items")}</legend>
              <p className="hint">{t("dashboard.rules.itemsHint")}</p>
              {errorAt(errors, "conditions.items") ? (
                <p className="error">{errorAt(errors, "conditions.items")}</p>
              ) : null}
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
            </fieldset>
          </>
        ) : null}
        <fieldset>
          <legend>{t("dashboard.rules.days")}</legend>
          <div className="row wrap">
            {DAYS.map((d) => (
              <Check
                key={d}
                label={weekday(d, locale)}
                checked={days.includes(d)}
                onChange={() => setDays(toggle(days, d))}
              />
            ))}
          </div>
          {errorAt(errors, "conditions.days_of_week") ? (
            <p className="error">{errorAt(errors, "conditions.days_of_week")}</p>
          ) : null}
        </fieldset>
        <div className="grid">
          <Field
            label={t("dashboard.rules.timeFrom")}
            hint={t("dashboard.rules.timeHint", { timezone: tz })}
            error={errors["conditions.time_window.from"] ?? errors["conditions.time_window"]}
          >
            {(p) => <input {...p} type="time" value={from} onChange={(ev) => setFrom(ev.target.value)} />}
          </Field>
          <Field label={t("dashboard.rules.timeTo")} error={errors["conditions.time_window.to"]}>
            {(p) => <input {...p} type="time" value={to} onChange={(ev) => setTo(ev.target.value)} />}
          </Field>
          <Field label={t("dashboard.rules.startsAt")} error={errors.starts_at}>
            {(p) => (
              <input
                {...p}
                type="datetime-local"
                value={startsAt}
                onChange={(ev) => setStartsAt(ev.target.value)}
              />
            )}
          </Field>
          <Field label={t("dashboard.rules.endsAt")} error={errors.ends_at}>
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
        {tiers.length > 0 ? (
          <fieldset>
            <legend>{t("dashboard.rules.tiers")}</legend>
            <div className="row wrap">
              {tiers.map((tier) => (
                <Check
                  key={tier.id}
                  label={tier.name}
                  checked={tierIds.includes(tier.id)}
                  onChange={() => setTierIds(toggle(tierIds, tier.id))}
                />
              ))}
            </div>
            {errorAt(errors, "conditions.tier_ids") ? (
              <p className="error">{errorAt(errors, "conditions.tier_ids")}</p>
            ) : null}
          </fieldset>
        ) : null}
        <fieldset className="stack">
          <legend>{t("dashboard.rules.attributes")}</legend>
          {attrs.map((a, i) => (
            <div className="grid" key={`attr-${i.toString()}`}>
              <Field
                label={t("dashboard.rules.attrKey")}
                error={errors[`conditions.member_attributes.${i}.key`]}
              >
                {(p) => (
                  <input
                    {...p}
                    value={a.key}
                    onChange={(ev) =>
                      setAttrs(attrs.map((x, j) => (j === i ? { ...x, key: ev.target.value } : x)))
                    }
                  />
                )}
              </Field>
              <Field
                label={t("dashboard.rules.attrOp")}
                error={errors[`conditions.member_attributes.${i}.op`]}
              >
                {(p) => (
                  <select
                    {...p}
                    value={a.op}
                    onChange={(ev) =>
                      setAttrs(
                        attrs.map((x, j) => (j === i ? { ...x, op: ev.target.value as AttrRow["op"] } : x)),
                      )
                    }
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
                <Field
                  label={t("dashboard.rules.attrValue")}
                  error={errorAt(errors, `conditions.member_attributes.${i}.value`)}
                >
                  {(p) => (
                    <input
                      {...p}
                      value={a.value}
                      onChange={(ev) =>
                        setAttrs(attrs.map((x, j) => (j === i ? { ...x, value: ev.target.value } : x)))
                      }
                    />
                  )}
                </Field>
              ) : null}
              <div className="field end">
                <button
                  type="button"
                  className="button ghost dark"
                  onClick={() => setAttrs(attrs.filter((_, j) => j !== i))}
                >
                  {t("dashboard.rules.attrRemove", { key: a.key || String(i + 1) })}
                </button>
              </div>
            </div>
          ))}
          <div>
            <button
              type="button"
              className="button secondary"
              onClick={() => setAttrs([...attrs, { key: "", op: "eq", value: "" }])}
            >
              {t("dashboard.rules.attrAdd")}
            </button>
          </div>
        </fieldset>
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

/** "What would this purchase earn now?": the API's pricing of a purchase, with nothing written. */
function TryPurchase({ cards }: { cards: StampCard[] }) {
  const { t } = useT();
  const { business } = useSession();
  const [amount, setAmount] = useState("");
  const [sku, setSku] = useState("");
  const [category, setCategory] = useState("");
  const [result, setResult] = useState<Preview | null>(null);
  const [error, setError] = useState<unknown>(null);
  const errors = fieldErrors(error, {}, t);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setError(null);
    setResult(null);
    const amount_minor = readMoney(amount, business.currency);
    const item = sku.trim() || category.trim();
    try {
      setResult(
        await api<Preview>("POST", "/v1/purchases/preview", {
          amount_minor,
          currency: business.currency,
          items: item
            ? [
                {
                  sku: sku.trim() || category.trim(),
                  ...(category.trim() ? { category: category.trim() } : {}),
                  quantity: 1,
                  unit_price_minor: amount_minor,
                },
              ]
            : [],
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
          error={errorAt(errors, "items")}
        >
          {(p) => <input {...p} value={sku} onChange={(e) => setSku(e.target.value)} />}
        </Field>
        <Field label={t("dashboard.rules.tryCategory")} hint={t("dashboard.field.optional")}>
          {(p) => <input {...p} value={category} onChange={(e) => setCategory(e.target.value)} />}
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
