import { formatMoney } from "../i18n/format.ts";
import type { Translator } from "../i18n/index.tsx";
import type { PublicBusiness, PublicReward } from "./types.ts";

// Moved to ui/ (the counter shows it too); the wallet's screens import it from here.
export { rewardValue } from "../ui/reward-value.ts";

/** The program in one line: "Collect 10 stamps for a Free coffee · 1 point for every €1.00". */
export function programLine(t: Translator["t"], locale: string, business: PublicBusiness): string {
  const parts: string[] = [];
  for (const card of business.program.stamp_cards) {
    const reward = business.program.rewards.find((r) => r.stamp_card_id === card.id);
    parts.push(
      reward
        ? t("wallet.program.stampsFor", { count: card.stamps_required, reward: reward.name })
        : t("wallet.program.stamps", { count: card.stamps_required, card: card.name }),
    );
  }
  const points = business.program.points;
  if (points && points.earn_points > 0) {
    parts.push(
      t("wallet.program.points", {
        count: points.earn_points,
        amount: formatMoney(points.earn_per_minor, business.currency, locale),
      }),
    );
  }
  // A gym's "10 points every visit", from its rules (an older server does not send it).
  const perVisit = (points?.earn_per_visit as number | undefined) ?? 0;
  if (perVisit > 0) parts.push(t("wallet.program.pointsPerVisit", { count: perVisit }));
  const tiers = business.program.tiers;
  if (tiers) parts.push(t("wallet.program.tiers", { tiers: tiers.levels.map((l) => l.name).join(", ") }));
  return parts.join(" · ");
}

/**
 * What a reward costs: "150 points" or "a full Coffee card". `held`: the member's own stamp cards,
 * which name an archived card the program no longer lists.
 */
export function rewardCost(
  t: Translator["t"],
  business: PublicBusiness,
  reward: PublicReward,
  held: readonly { stamp_card_id: string; name: string; stamps_required: number }[] = [],
): string {
  if (reward.cost_points !== null) return t("wallet.reward.costPoints", { count: reward.cost_points });
  const card =
    business.program.stamp_cards.find((c) => c.id === reward.stamp_card_id) ??
    held
      .filter((c) => c.stamp_card_id === reward.stamp_card_id)
      .map((c) => ({ name: c.name, stamps_required: c.stamps_required }))[0];
  return t("wallet.reward.costCard", { card: card?.name ?? "", count: card?.stamps_required ?? 0 });
}
