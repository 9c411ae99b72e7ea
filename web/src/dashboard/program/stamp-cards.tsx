import { type FormEvent, useState } from "react";
import { api } from "../../api.ts";
import { formatMoney } from "../../i18n/format.ts";
import { useT } from "../../i18n/index.tsx";
import { Link } from "../../router.tsx";
import { ErrorMessage, Field } from "../../ui/components.tsx";
import {
  CatalogHeader,
  changedFields,
  DASHBOARD_PROBLEMS,
  errorAt,
  FieldGroup,
  FormError,
  fieldErrors,
  moneyText,
  RowActions,
  readInt,
  readList,
  readMoney,
  useAllPages,
  useCatalog,
  useCreate,
  useFocusOnMount,
  useFocusOnRefusal,
} from "../forms.tsx";
import { useSession } from "../session.tsx";
import type { Reward, StampCard } from "./types.ts";

/** What a new card allows per purchase, as the API's default: one stamp per croissant, up to 10. */
const DEFAULT_MAX_STAMPS = 10;

/** Stamp cards: list, create, change, archive. */
export default function StampCardsPage() {
  const { t, locale } = useT();
  const { business } = useSession();
  const {
    list: cards,
    editing,
    setEditing,
    error,
    archive,
    saved,
  } = useCatalog<StampCard>("/v1/stamp-cards");
  // Which rewards a full card pays for (one list for every card).
  const rewards = useAllPages<Reward>("/v1/rewards?limit=200");

  return (
    <div className="stack">
      <CatalogHeader
        title={t("dashboard.cards.title")}
        newLabel={t("dashboard.cards.new")}
        editing={editing !== null}
        onNew={() => setEditing("new")}
      />
      <p className="muted">{t("dashboard.cards.lead")}</p>
      <ErrorMessage error={cards.error ?? error} known={DASHBOARD_PROBLEMS} />
      {editing !== null ? (
        <CardForm
          key={editing === "new" ? "new" : editing.id}
          card={editing === "new" ? null : editing}
          onDone={saved}
          onCancel={() => setEditing(null)}
        />
      ) : null}
      {cards.data?.data.length === 0 && editing === null ? <p>{t("dashboard.cards.empty")}</p> : null}
      <ul className="plain stack">
        {cards.data?.data.map((card) => (
          <li key={card.id} className="card">
            <h2>{card.name}</h2>
            <p>
              {t("dashboard.cards.summary", {
                count: card.stamps_required,
                earn: card.earn_on,
              })}
              {card.min_spend_minor > 0
                ? ` ${t("dashboard.cards.minSpendSummary", {
                    amount: formatMoney(card.min_spend_minor, business.currency, locale),
                  })}`
                : ""}
              {card.earn_on === "item"
                ? ` ${t("dashboard.cards.maxSummary", { count: card.max_stamps_per_purchase })}`
                : ""}
            </p>
            {card.item_match ? (
              <p className="muted">
                {[
                  ...(card.item_match.skus ?? []),
                  ...(card.item_match.categories ?? []),
                  ...(card.item_match.brands ?? []),
                ].join(", ")}
              </p>
            ) : null}
            {rewards.data ? <CardRewards card={card} rewards={rewards.data.data} /> : null}
            <RowActions name={card.name} onEdit={() => setEditing(card)} onArchive={() => archive(card)} />
          </li>
        ))}
      </ul>
    </div>
  );
}

/** The rewards a full card pays for, or that none does yet (a card that fills up for nothing). */
function CardRewards({ card, rewards }: { card: StampCard; rewards: Reward[] }) {
  const { t, locale } = useT();
  const paid = rewards.filter((r) => r.stamp_card_id === card.id).map((r) => r.name);
  if (paid.length > 0) {
    const names = new Intl.ListFormat(locale, { type: "conjunction" }).format(paid);
    return <p className="muted">{t("dashboard.cards.paysFor", { rewards: names })}</p>;
  }
  return (
    <p className="muted">
      {t("dashboard.cards.noReward")}{" "}
      <Link href="/app/program/rewards">{t("dashboard.cards.addReward")}</Link>
    </p>
  );
}

function CardForm({
  card,
  onDone,
  onCancel,
}: {
  card: StampCard | null;
  onDone: () => Promise<void>;
  onCancel: () => void;
}) {
  const { t, locale } = useT();
  const { business } = useSession();
  const currency = business.currency;
  const [name, setName] = useState(card?.name ?? "");
  const [stamps, setStamps] = useState(String(card?.stamps_required ?? 10));
  const [earnOn, setEarnOn] = useState<StampCard["earn_on"]>(card?.earn_on ?? "visit");
  const [minSpend, setMinSpend] = useState(moneyText(card?.min_spend_minor || null, currency));
  const [skus, setSkus] = useState(card?.item_match?.skus?.join(", ") ?? "");
  const [categories, setCategories] = useState(card?.item_match?.categories?.join(", ") ?? "");
  const [brands, setBrands] = useState(card?.item_match?.brands?.join(", ") ?? "");
  const [max, setMax] = useState(String(card?.max_stamps_per_purchase ?? DEFAULT_MAX_STAMPS));
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const create = useCreate();
  const errors = fieldErrors(
    error,
    {
      item_match_required: "item_match",
      item_match_not_allowed: "item_match",
      stamp_card_limit_reached: "name",
    },
    t,
    { currency, locale },
  );
  const form = useFocusOnRefusal(error);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    const body = {
      name,
      stamps_required: readInt(stamps),
      earn_on: earnOn,
      min_spend_minor: readMoney(minSpend, currency),
      item_match:
        earnOn === "item"
          ? {
              ...(readList(skus).length ? { skus: readList(skus) } : {}),
              ...(readList(categories).length ? { categories: readList(categories) } : {}),
              ...(readList(brands).length ? { brands: readList(brands) } : {}),
            }
          : null,
      max_stamps_per_purchase: readInt(max),
    };
    try {
      if (card) {
        // Only what this form changed: a change another manager made meanwhile stays.
        const patch = changedFields(body, card as unknown as Record<string, unknown>);
        if (Object.keys(patch).length > 0) await api("PATCH", `/v1/stamp-cards/${card.id}`, patch);
      } else await create("/v1/stamp-cards", body);
      await onDone();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  const title = useFocusOnMount<HTMLHeadingElement>();
  return (
    <form ref={form} className="card stack" onSubmit={submit} noValidate aria-labelledby="card-form-title">
      <h2 id="card-form-title" tabIndex={-1} ref={title}>
        {card ? t("dashboard.cards.edit", { name: card.name }) : t("dashboard.cards.new")}
      </h2>
      <FormError error={error} shown={errors} />
      <Field label={t("dashboard.field.name")} error={errors.name}>
        {(p) => <input {...p} value={name} onChange={(e) => setName(e.target.value)} />}
      </Field>
      <div className="grid">
        <Field label={t("dashboard.cards.stampsRequired")} error={errors.stamps_required}>
          {(p) => (
            <input {...p} inputMode="numeric" value={stamps} onChange={(e) => setStamps(e.target.value)} />
          )}
        </Field>
        <Field
          label={t("dashboard.cards.earnOn")}
          hint={t("dashboard.cards.earnHint")}
          error={errors.earn_on}
        >
          {(p) => (
            <select {...p} value={earnOn} onChange={(e) => setEarnOn(e.target.value as StampCard["earn_on"])}>
              <option value="visit">{t("dashboard.cards.earnVisit")}</option>
              {/* "Purchase" stamps as "Visit" does: offered only to a card that has it already. */}
              {card?.earn_on === "purchase" ? (
                <option value="purchase">{t("dashboard.cards.earnPurchaseSame")}</option>
              ) : null}
              <option value="item">{t("dashboard.cards.earnItem")}</option>
            </select>
          )}
        </Field>
        <Field
          label={t("dashboard.field.minSpend", { currency })}
          hint={t("dashboard.field.emptyNone")}
          error={errors.min_spend_minor}
        >
          {(p) => (
            <input
              {...p}
              inputMode="decimal"
              value={minSpend}
              onChange={(e) => setMinSpend(e.target.value)}
            />
          )}
        </Field>
        {/* One stamp per visit or purchase whatever the maximum: it only limits matching products. */}
        {earnOn === "item" || errors.max_stamps_per_purchase ? (
          <Field
            label={t("dashboard.cards.max")}
            hint={t("dashboard.cards.maxHint")}
            error={errors.max_stamps_per_purchase}
          >
            {(p) => <input {...p} inputMode="numeric" value={max} onChange={(e) => setMax(e.target.value)} />}
          </Field>
        ) : null}
      </div>
      {earnOn === "item" ? (
        <FieldGroup
          legend={t("dashboard.field.items")}
          hint={t("dashboard.field.itemsHint")}
          error={errorAt(errors, "item_match")}
        >
          <div className="grid">
            <Field label={t("dashboard.field.skus")} error={errors["item_match.skus"]}>
              {(p) => <input {...p} value={skus} onChange={(e) => setSkus(e.target.value)} />}
            </Field>
            <Field label={t("dashboard.field.categories")} error={errors["item_match.categories"]}>
              {(p) => <input {...p} value={categories} onChange={(e) => setCategories(e.target.value)} />}
            </Field>
            <Field label={t("dashboard.field.brands")} error={errors["item_match.brands"]}>
              {(p) => <input {...p} value={brands} onChange={(e) => setBrands(e.target.value)} />}
            </Field>
          </div>
        </FieldGroup>
      ) : null}
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
