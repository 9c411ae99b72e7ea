import { formatMoney } from "../i18n/format.ts";

/** A reward's value as the API sends it; which fields are set depends on the reward's type. */
export interface RewardValue {
  amount_minor?: number;
  percent?: number;
  max_discount_minor?: number;
  product_name?: string;
  cause?: string;
  place?: string;
  starts_at?: string;
  perk?: string;
  detail?: string;
}

/**
 * What a reward gives, in words: "€5.00 off", "20% off, up to €10.00", or the product's name; null
 * when its name already says it all. The wallet shows it to the member, the counter to the cashier
 * who must take it off (its messages are in the "common" area, which both load).
 */
export function rewardValue(
  // Translator["t"] (from i18n/index.tsx, which plain .ts files outside web/ cannot import).
  t: (key: string, values?: Record<string, string | number>) => string,
  locale: string,
  currency: string,
  reward: { name: string; type: string; value?: RewardValue | null },
): string | null {
  const v = reward.value ?? {};
  const money = (minor: number) => formatMoney(minor, currency, locale);
  switch (reward.type) {
    case "discount_amount":
      return v.amount_minor ? t("common.reward.amountOff", { amount: money(v.amount_minor) }) : null;
    case "discount_percent":
      if (!v.percent) return null;
      return v.max_discount_minor
        ? t("common.reward.percentOffMax", { percent: v.percent, max: money(v.max_discount_minor) })
        : t("common.reward.percentOff", { percent: v.percent });
    case "free_product":
      // "Free coffee — Free: Coffee" says it twice when the names match.
      return v.product_name && v.product_name !== reward.name
        ? t("common.reward.free", { product: v.product_name })
        : null;
    case "donation":
      return v.cause && v.amount_minor
        ? t("common.reward.donation", { amount: money(v.amount_minor), cause: v.cause })
        : null;
    default:
      return v.detail ?? v.place ?? null;
  }
}
