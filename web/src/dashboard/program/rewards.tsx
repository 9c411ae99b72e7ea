import { type FormEvent, useState } from "react";
import { ApiError, api } from "../../api.ts";
import { formatDateTime, formatMoney } from "../../i18n/format.ts";
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
  readInt,
  readMoney,
  reasonedIssues,
  useAllPages,
  useApi,
  useCatalog,
  useCreate,
  useFocusOnMount,
  useFocusOnRefusal,
  zonedToIso,
} from "../forms.tsx";
import { useSession } from "../session.tsx";
import { choicesOf, type List, type Reward, type RewardType, type StampCard, type Tier } from "./types.ts";

const TYPES: RewardType[] = [
  "discount_amount",
  "discount_percent",
  "free_product",
  "experience",
  "perk",
  "donation",
];

/** The reward catalog: what members can redeem, for points or a full stamp card. */
export default function RewardsPage() {
  const { t } = useT();
  const {
    list: rewards,
    editing,
    setEditing,
    error,
    archive,
    saved,
  } = useCatalog<Reward>("/v1/rewards", "?limit=200");
  const cards = useApi<List<StampCard>>("/v1/stamp-cards");
  // Archived tiers too: a reward may still be for one, and the form shows it so it can be unticked.
  const tiers = useAllPages<Tier>("/v1/tiers?include_archived=true");

  return (
    <div className="stack">
      <CatalogHeader
        title={t("dashboard.rewards.title")}
        newLabel={t("dashboard.rewards.new")}
        editing={editing !== null}
        onNew={() => setEditing("new")}
      />
      <p className="muted">{t("dashboard.rewards.lead")}</p>
      <ErrorMessage error={rewards.error ?? cards.error ?? tiers.error ?? error} known={DASHBOARD_PROBLEMS} />
      {editing !== null && cards.data && tiers.data ? (
        <RewardForm
          key={editing === "new" ? "new" : editing.id}
          reward={editing === "new" ? null : editing}
          cards={cards.data.data}
          tiers={tiers.data.data}
          onDone={saved}
          onCancel={() => setEditing(null)}
        />
      ) : null}
      {rewards.data?.data.length === 0 && editing === null ? <p>{t("dashboard.rewards.empty")}</p> : null}
      <ul className="plain stack">
        {rewards.data?.data.map((reward) => (
          <li key={reward.id} className="card">
            <h2>
              {reward.name}{" "}
              {reward.active ? null : <span className="badge draft">{t("dashboard.rules.paused")}</span>}
            </h2>
            <RewardSummary reward={reward} cards={cards.data?.data ?? []} tiers={tiers.data?.data ?? []} />
            <RowActions
              name={reward.name}
              onEdit={() => setEditing(reward)}
              onArchive={() => archive(reward)}
            />
          </li>
        ))}
      </ul>
    </div>
  );
}

function RewardSummary({ reward, cards, tiers }: { reward: Reward; cards: StampCard[]; tiers: Tier[] }) {
  const { t, locale } = useT();
  const { business } = useSession();
  const parts = [t(`dashboard.rewards.type.${reward.type}`)];
  parts.push(
    reward.cost_points !== null
      ? t("dashboard.rewards.costPointsSummary", { count: reward.cost_points })
      : t("dashboard.rewards.costCardSummary", {
          card: cards.find((c) => c.id === reward.stamp_card_id)?.name ?? "—",
        }),
  );
  const v = reward.value;
  if (typeof v.amount_minor === "number") parts.push(formatMoney(v.amount_minor, business.currency, locale));
  if (typeof v.percent === "number") parts.push(`${v.percent}%`);
  if (reward.eligible_tier_ids.length) {
    const named = (id: string) => {
      const tier = tiers.find((x) => x.id === id);
      if (!tier) return "—";
      return tier.archived_at ? t("dashboard.field.archived", { name: tier.name }) : tier.name;
    };
    parts.push(reward.eligible_tier_ids.map(named).join(", "));
  }
  if (reward.stock !== null) parts.push(t("dashboard.rewards.stockSummary", { count: reward.stock }));
  if (reward.valid_until) {
    parts.push(
      t("dashboard.rules.sumUntil", { date: formatDateTime(reward.valid_until, locale, business.timezone) }),
    );
  }
  return <p>{parts.join(" · ")}</p>;
}

function RewardForm({
  reward,
  cards,
  tiers,
  onDone,
  onCancel,
}: {
  reward: Reward | null;
  cards: StampCard[];
  /** Every tier, archived ones too. */
  tiers: Tier[];
  onDone: () => Promise<void>;
  onCancel: () => void;
}) {
  const { t, locale } = useT();
  const { business } = useSession();
  const currency = business.currency;
  const tz = business.timezone;
  const v = reward?.value ?? {};
  const str = (key: string) => (typeof v[key] === "string" ? (v[key] as string) : "");
  const [type, setType] = useState<RewardType>(reward?.type ?? "free_product");
  const [name, setName] = useState(reward?.name ?? "");
  const [description, setDescription] = useState(reward?.description ?? "");
  const [amount, setAmount] = useState(
    moneyText(typeof v.amount_minor === "number" ? v.amount_minor : null, currency),
  );
  const [percent, setPercent] = useState(typeof v.percent === "number" ? String(v.percent) : "");
  const [maxDiscount, setMaxDiscount] = useState(
    moneyText(typeof v.max_discount_minor === "number" ? v.max_discount_minor : null, currency),
  );
  const [product, setProduct] = useState(str("product_name"));
  const [sku, setSku] = useState(str("sku"));
  const [startsAt, setStartsAt] = useState(str("starts_at") ? isoToZoned(str("starts_at"), tz) : "");
  const [place, setPlace] = useState(str("place"));
  const [perk, setPerk] = useState(str("perk") || "free_shipping");
  const [detail, setDetail] = useState(str("detail"));
  const [cause, setCause] = useState(str("cause"));
  const [payWith, setPayWith] = useState<"points" | "card">(reward?.stamp_card_id ? "card" : "points");
  const [cost, setCost] = useState(reward?.cost_points ? String(reward.cost_points) : "");
  const [cardId, setCardId] = useState(reward?.stamp_card_id ?? cards[0]?.id ?? "");
  const [tierIds, setTierIds] = useState<string[]>(reward?.eligible_tier_ids ?? []);
  // What the form opened with: vouchers issued meanwhile lower the stock, so an edit that leaves
  // the field alone must not write the old figure back (it would hand out those units again).
  const [openedStock] = useState(reward?.stock === null || !reward ? "" : String(reward.stock));
  const [stock, setStock] = useState(openedStock);
  const [limit, setLimit] = useState(reward?.per_member_limit ? String(reward.per_member_limit) : "");
  const [validFrom, setValidFrom] = useState(reward?.valid_from ? isoToZoned(reward.valid_from, tz) : "");
  const [validUntil, setValidUntil] = useState(reward?.valid_until ? isoToZoned(reward.valid_until, tz) : "");
  const [voucherDays, setVoucherDays] = useState(String(reward?.voucher_valid_days ?? 30));
  const [active, setActive] = useState(reward?.active ?? true);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const create = useCreate();
  const errors = {
    ...fieldErrors(
      error,
      {
        invalid_cost: payWith === "points" ? "cost_points" : "stamp_card_id",
        invalid_date_range: "valid_until",
        stamp_card_not_found: "stamp_card_id",
        tier_not_found: "eligible_tier_ids",
        reward_catalog_full: "name",
      },
      t,
      { currency, locale },
    ),
    // A new type sent without its value (`type_needs_value`), at the value's fields.
    ...reasonedIssues(error, t, locale),
    ...pastDates(),
  };
  // The tiers to tick: the active ones, and the archived ones the reward is still for.
  const tierChoices = choicesOf(
    tiers.map((x) => ({ ...x, archived: x.archived_at !== null })),
    reward?.eligible_tier_ids ?? [],
  );
  const zoneHint = `${t("dashboard.field.optional")} ${t("dashboard.rules.timeHint", { timezone: tz })}`;

  /** A date sent that has already passed, next to its field, as the business's clock shows it. */
  function pastDates(): Record<string, string> {
    if (!(error instanceof ApiError)) return {};
    const at = (key: string) => {
      const iso = error.details?.[key];
      return typeof iso === "string" ? formatDateTime(iso, locale, tz) : "";
    };
    if (error.code === "valid_until_in_past")
      return { valid_until: t("dashboard.rewards.validUntilPast", { date: at("valid_until") }) };
    if (error.code === "starts_at_in_past")
      return { "value.starts_at": t("dashboard.rewards.startsAtPast", { date: at("starts_at") }) };
    return {};
  }

  function value(): Record<string, unknown> {
    switch (type) {
      case "discount_amount":
        return { amount_minor: readMoney(amount, currency, null) };
      case "discount_percent":
        return {
          percent: readInt(percent),
          ...(maxDiscount.trim() ? { max_discount_minor: readMoney(maxDiscount, currency) } : {}),
        };
      case "free_product":
        return { product_name: product, ...(sku.trim() ? { sku: sku.trim() } : {}) };
      case "experience":
        return {
          ...(startsAt ? { starts_at: zonedToIso(startsAt, tz) } : {}),
          ...(place.trim() ? { place: place.trim() } : {}),
        };
      case "perk":
        return { perk, ...(detail.trim() ? { detail: detail.trim() } : {}) };
      case "donation":
        return { cause, amount_minor: readMoney(amount, currency, null) };
    }
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    const body = {
      name,
      description: description.trim() || null,
      type,
      value: value(),
      cost_points: payWith === "points" ? readInt(cost) : null,
      stamp_card_id: payWith === "card" ? cardId || null : null,
      eligible_tier_ids: tierIds,
      ...(reward && stock === openedStock ? {} : { stock: readInt(stock) }),
      per_member_limit: readInt(limit),
      valid_from: validFrom ? zonedToIso(validFrom, tz) : null,
      valid_until: validUntil ? zonedToIso(validUntil, tz) : null,
      voucher_valid_days: readInt(voucherDays),
      active,
    };
    try {
      if (reward) {
        const patch = changedFields(body, reward as unknown as Record<string, unknown>);
        if (Object.keys(patch).length > 0) await api("PATCH", `/v1/rewards/${reward.id}`, patch);
      } else await create("/v1/rewards", body);
      await onDone();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  const toggle = (id: string) =>
    setTierIds(tierIds.includes(id) ? tierIds.filter((x) => x !== id) : [...tierIds, id]);

  const title = useFocusOnMount<HTMLHeadingElement>();
  const form = useFocusOnRefusal(error);
  return (
    <form ref={form} className="card stack" onSubmit={submit} noValidate aria-labelledby="reward-form-title">
      <h2 id="reward-form-title" tabIndex={-1} ref={title}>
        {reward ? t("dashboard.rewards.edit", { name: reward.name }) : t("dashboard.rewards.new")}
      </h2>
      <FormError error={error} shown={errors} />
      <div className="grid">
        <Field label={t("dashboard.rewards.typeLabel")} error={errors.type}>
          {(p) => (
            <select {...p} value={type} onChange={(e) => setType(e.target.value as RewardType)}>
              {TYPES.map((x) => (
                <option key={x} value={x}>
                  {t(`dashboard.rewards.type.${x}`)}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label={t("dashboard.field.name")} error={errors.name}>
          {(p) => <input {...p} value={name} onChange={(e) => setName(e.target.value)} />}
        </Field>
      </div>
      <Field label={t("dashboard.field.description")} error={errors.description}>
        {(p) => <input {...p} value={description} onChange={(e) => setDescription(e.target.value)} />}
      </Field>
      <FieldGroup legend={t("dashboard.rewards.what")} error={errors.value}>
        <div className="grid">
          {type === "discount_amount" || type === "donation" ? (
            <Field label={t("dashboard.rewards.amount", { currency })} error={errors["value.amount_minor"]}>
              {(p) => (
                <input
                  {...p}
                  inputMode="decimal"
                  value={amount}
                  onChange={(e) => setAmount(e.target.value)}
                />
              )}
            </Field>
          ) : null}
          {type === "donation" ? (
            <Field label={t("dashboard.rewards.cause")} error={errors["value.cause"]}>
              {(p) => <input {...p} value={cause} onChange={(e) => setCause(e.target.value)} />}
            </Field>
          ) : null}
          {type === "discount_percent" ? (
            <>
              <Field label={t("dashboard.rewards.percent")} error={errors["value.percent"]}>
                {(p) => (
                  <input
                    {...p}
                    inputMode="numeric"
                    value={percent}
                    onChange={(e) => setPercent(e.target.value)}
                  />
                )}
              </Field>
              <Field
                label={t("dashboard.rewards.maxDiscount", { currency })}
                hint={t("dashboard.field.emptyNone")}
                error={errors["value.max_discount_minor"]}
              >
                {(p) => (
                  <input
                    {...p}
                    inputMode="decimal"
                    value={maxDiscount}
                    onChange={(e) => setMaxDiscount(e.target.value)}
                  />
                )}
              </Field>
            </>
          ) : null}
          {type === "free_product" ? (
            <>
              <Field label={t("dashboard.rewards.product")} error={errors["value.product_name"]}>
                {(p) => <input {...p} value={product} onChange={(e) => setProduct(e.target.value)} />}
              </Field>
              <Field
                label={t("dashboard.rewards.sku")}
                hint={t("dashboard.field.optional")}
                error={errors["value.sku"]}
              >
                {(p) => <input {...p} value={sku} onChange={(e) => setSku(e.target.value)} />}
              </Field>
            </>
          ) : null}
          {type === "experience" ? (
            <>
              <Field
                label={t("dashboard.rewards.startsAt")}
                hint={zoneHint}
                error={errors["value.starts_at"]}
              >
                {(p) => (
                  <input
                    {...p}
                    type="datetime-local"
                    value={startsAt}
                    onChange={(e) => setStartsAt(e.target.value)}
                  />
                )}
              </Field>
              <Field
                label={t("dashboard.rewards.place")}
                hint={t("dashboard.field.optional")}
                error={errors["value.place"]}
              >
                {(p) => <input {...p} value={place} onChange={(e) => setPlace(e.target.value)} />}
              </Field>
            </>
          ) : null}
          {type === "perk" ? (
            <>
              <Field label={t("dashboard.rewards.perk")} error={errors["value.perk"]}>
                {(p) => (
                  <select {...p} value={perk} onChange={(e) => setPerk(e.target.value)}>
                    <option value="free_shipping">{t("dashboard.rewards.perkShipping")}</option>
                    <option value="priority_service">{t("dashboard.rewards.perkPriority")}</option>
                    <option value="other">{t("dashboard.rewards.perkOther")}</option>
                  </select>
                )}
              </Field>
              <Field
                label={t("dashboard.rewards.detail")}
                hint={t("dashboard.field.optional")}
                error={errors["value.detail"]}
              >
                {(p) => <input {...p} value={detail} onChange={(e) => setDetail(e.target.value)} />}
              </Field>
            </>
          ) : null}
        </div>
      </FieldGroup>
      <fieldset className="stack">
        <legend>{t("dashboard.rewards.cost")}</legend>
        <div className="grid">
          <Field label={t("dashboard.rewards.payWith")}>
            {(p) => (
              <select
                {...p}
                value={payWith}
                onChange={(e) => setPayWith(e.target.value as "points" | "card")}
              >
                <option value="points">{t("dashboard.rewards.payPoints")}</option>
                <option value="card">{t("dashboard.rewards.payCard")}</option>
              </select>
            )}
          </Field>
          {payWith === "points" ? (
            <Field label={t("dashboard.rewards.costPoints")} error={errors.cost_points}>
              {(p) => (
                <input {...p} inputMode="numeric" value={cost} onChange={(e) => setCost(e.target.value)} />
              )}
            </Field>
          ) : (
            <Field label={t("dashboard.rules.card")} error={errors.stamp_card_id}>
              {(p) => (
                <select {...p} value={cardId} onChange={(e) => setCardId(e.target.value)}>
                  {cards.length === 0 ? <option value="">{t("dashboard.rules.noCards")}</option> : null}
                  {cards.map((card) => (
                    <option key={card.id} value={card.id}>
                      {card.name}
                    </option>
                  ))}
                </select>
              )}
            </Field>
          )}
        </div>
      </fieldset>
      <fieldset className="stack">
        <legend>{t("dashboard.rewards.availability")}</legend>
        {tierChoices.length > 0 ? (
          <FieldGroup
            legend={t("dashboard.rewards.tiers")}
            error={errorAt(errors, "eligible_tier_ids")}
            className=""
          >
            <div className="row wrap">
              {tierChoices.map((tier) => (
                <Check
                  key={tier.id}
                  label={tier.archived ? t("dashboard.field.archived", { name: tier.name }) : tier.name}
                  checked={tierIds.includes(tier.id)}
                  onChange={() => toggle(tier.id)}
                />
              ))}
            </div>
          </FieldGroup>
        ) : null}
        <div className="grid">
          <Field
            label={type === "experience" ? t("dashboard.rewards.capacity") : t("dashboard.rewards.stock")}
            hint={t("dashboard.field.emptyUnlimited")}
            error={errors.stock}
          >
            {(p) => (
              <input {...p} inputMode="numeric" value={stock} onChange={(e) => setStock(e.target.value)} />
            )}
          </Field>
          <Field
            label={t("dashboard.rewards.limit")}
            hint={t("dashboard.field.emptyUnlimited")}
            error={errors.per_member_limit}
          >
            {(p) => (
              <input {...p} inputMode="numeric" value={limit} onChange={(e) => setLimit(e.target.value)} />
            )}
          </Field>
          <Field label={t("dashboard.rewards.validFrom")} hint={zoneHint} error={errors.valid_from}>
            {(p) => (
              <input
                {...p}
                type="datetime-local"
                value={validFrom}
                onChange={(e) => setValidFrom(e.target.value)}
              />
            )}
          </Field>
          <Field label={t("dashboard.rewards.validUntil")} hint={zoneHint} error={errors.valid_until}>
            {(p) => (
              <input
                {...p}
                type="datetime-local"
                value={validUntil}
                onChange={(e) => setValidUntil(e.target.value)}
              />
            )}
          </Field>
          <Field label={t("dashboard.rewards.voucherDays")} error={errors.voucher_valid_days}>
            {(p) => (
              <input
                {...p}
                inputMode="numeric"
                value={voucherDays}
                onChange={(e) => setVoucherDays(e.target.value)}
              />
            )}
          </Field>
        </div>
        <Check label={t("dashboard.rewards.active")} checked={active} onChange={setActive} />
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
