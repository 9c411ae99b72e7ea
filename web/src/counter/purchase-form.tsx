import { type FormEvent, useRef, useState } from "react";
import { formatMoney, parseMoney } from "../i18n/format.ts";
import { useT } from "../i18n/index.tsx";
import { Field } from "../ui/components.tsx";
import type { PurchaseItem, StampCard } from "./types.ts";

/** A quick item: one tap adds a line of a category (or sku) a stamp card counts. */
export interface QuickItem {
  id: string;
  /** What the button says: the category or sku as a person reads it ("hot_drinks" → "Hot drinks"). */
  label: string;
  /** The line sent: the category or sku itself, exactly as the card counts it. */
  line: Omit<PurchaseItem, "quantity">;
}

/**
 * A category or sku as the business wrote it in its card's rule ("coffee", "hot_drinks",
 * "flat-white"), readable on a button: underscores and dashes become spaces and the first letter
 * is capitalised in `locale`. The business's own word stays its own (no dictionary can know it).
 *
 * @example itemLabel("hot_drinks", "en") // "Hot drinks"
 */
export function itemLabel(code: string, locale?: string): string {
  const words = code.replace(/[_-]+/g, " ").replace(/\s+/g, " ").trim();
  if (words === "") return code;
  const first = String.fromCodePoint(words.codePointAt(0) ?? 0);
  return first.toLocaleUpperCase(locale) + words.slice(first.length);
}

/**
 * The quick items of the business: the categories and skus its item stamp cards count, labelled
 * for the cashier (`itemLabel`); the line sent is the category or sku as the card counts it.
 */
export function quickItems(cards: StampCard[], locale?: string): QuickItem[] {
  const items = new Map<string, QuickItem>();
  for (const card of cards) {
    if (card.earn_on !== "item" || !card.item_match) continue;
    for (const category of card.item_match.categories ?? []) {
      items.set(`c:${category}`, {
        id: `c:${category}`,
        label: itemLabel(category, locale),
        line: { sku: category, name: category, category, unit_price_minor: 0 },
      });
    }
    for (const sku of card.item_match.skus ?? []) {
      items.set(`s:${sku}`, {
        id: `s:${sku}`,
        label: itemLabel(sku, locale),
        line: { sku, name: sku, unit_price_minor: 0 },
      });
    }
  }
  return [...items.values()];
}

/**
 * The amount (a numeric keypad on phones) and the quick items, then one big "Record" button.
 * `onRecord` answers whether the purchase was taken (sent or queued): then the form clears and
 * the amount field is ready for the next one.
 */
export function PurchaseForm({
  currency,
  quick,
  busy,
  disabled,
  onRecord,
}: {
  currency: string;
  quick: QuickItem[];
  busy: boolean;
  disabled: boolean;
  onRecord: (amountMinor: number, items: PurchaseItem[]) => Promise<boolean>;
}) {
  const { t, locale } = useT();
  const [amount, setAmount] = useState("");
  const [amountError, setAmountError] = useState<string | null>(null);
  const [lines, setLines] = useState<Record<string, number>>({});
  const amountInput = useRef<HTMLInputElement>(null);
  // Set at the press itself, not at the next render: a double tap (or Enter pressed twice) in the
  // same moment finds it set, and the sale is taken once.
  const recording = useRef(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (busy || disabled || recording.current) return;
    const amountMinor = parseMoney(amount, currency);
    if (amountMinor === null) {
      setAmountError(
        amount.trim() ? t("counter.purchase.amountInvalid") : t("counter.purchase.amountRequired"),
      );
      amountInput.current?.focus();
      return;
    }
    setAmountError(null);
    const items: PurchaseItem[] = quick
      .filter((q) => (lines[q.id] ?? 0) > 0)
      .map((q) => ({ ...q.line, quantity: lines[q.id] ?? 1 }));
    recording.current = true;
    let taken: boolean;
    try {
      taken = await onRecord(amountMinor, items);
    } finally {
      recording.current = false;
    }
    if (taken) {
      setAmount("");
      setLines({});
      amountInput.current?.focus();
    }
  };

  const addItem = (id: string, delta: number) =>
    setLines((previous) => {
      const next = { ...previous, [id]: Math.max(0, (previous[id] ?? 0) + delta) };
      if (next[id] === 0) delete next[id];
      return next;
    });

  return (
    <form className="card counter-purchase" onSubmit={submit} noValidate>
      <h3>{t("counter.purchase.title")}</h3>
      <Field label={t("counter.purchase.amount", { currency })} error={amountError}>
        {(props) => (
          <input
            {...props}
            ref={amountInput}
            className="counter-amount"
            inputMode="decimal"
            autoComplete="off"
            enterKeyHint="done"
            placeholder={formatMoney(0, currency, locale)}
            value={amount}
            onChange={(e) => setAmount(e.target.value)}
          />
        )}
      </Field>
      {quick.length > 0 ? (
        <fieldset className="counter-items">
          <legend>{t("counter.purchase.items")}</legend>
          <div className="row">
            {quick.map((q) => {
              const count = lines[q.id] ?? 0;
              return (
                <span key={q.id} className="counter-item">
                  <button type="button" className="button secondary" onClick={() => addItem(q.id, 1)}>
                    {t("counter.purchase.addItem", { item: q.label })}
                  </button>
                  {count > 0 ? (
                    <>
                      <span className="badge" aria-live="polite">
                        {t("counter.purchase.itemCount", { item: q.label, count })}
                      </span>
                      <button
                        type="button"
                        className="button ghost"
                        aria-label={t("counter.purchase.removeItem", { item: q.label })}
                        onClick={() => addItem(q.id, -1)}
                      >
                        −
                      </button>
                    </>
                  ) : null}
                </span>
              );
            })}
          </div>
        </fieldset>
      ) : null}
      <button type="submit" className="button large block" disabled={busy || disabled}>
        {busy ? t("counter.purchase.busy") : t("counter.purchase.submit")}
      </button>
    </form>
  );
}
