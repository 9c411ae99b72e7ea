import type { Actor, AppContext } from "../context.ts";
import { getBusiness } from "../modules/business/index.ts";
import {
  describeProgram,
  launchBonus,
  type PosterLocale,
  type PosterSize,
  type ProgramSentence,
  pointsPerVisit,
  posterLocale,
  renderPoster,
  signupGifts,
  staffScript,
} from "../modules/launch-kit/index.ts";
import { openRewards } from "./wallet.ts";

export interface LaunchKit extends ProgramSentence {
  /** The link customers open (or scan) to join: `<origin>/join/<slug>`. */
  join_url: string;
  locale: PosterLocale;
  /** When the program went live; the join link works only after that. */
  published_at: string | null;
  /** What staff say at the counter to invite a customer, sentence by sentence, in `locale`. */
  staff_script: string[];
  /** The launch bonus: a signup gift with an end date not yet reached; null without one. */
  launch_bonus: LaunchBonus | null;
}

/** A signup rule with an end date, as the launch kit shows it. */
export interface LaunchBonus {
  rule_id: string;
  name: string;
  /** Points for joining (0: stamps instead). */
  points: number;
  /** Stamps for joining on `stamp_card_id` (0: points instead). */
  stamps: number;
  stamp_card_id: string | null;
  starts_at: string | null;
  ends_at: string;
}

/**
 * The join link, the program in one sentence, the staff script and the launch bonus, in `locale`
 * (default: the business's language).
 * `origin` is where the web app is served, e.g. `https://loyalty.example.com`.
 *
 * @example await launchKit(ctx, actor, { origin: "https://regulars.example", locale: "pl" })
 */
export async function launchKit(
  ctx: AppContext,
  actor: Actor,
  options: { origin: string; locale?: string | undefined },
): Promise<LaunchKit> {
  const business = await getBusiness(ctx.db, actor.businessId);
  const snapshot = await ctx.snapshots.load(ctx.db, actor.businessId);
  const now = ctx.clock.now();
  // The rewards a new member can get now, as the join page the poster's QR code opens lists them.
  const rewards = await openRewards(ctx.db, actor.businessId, now);
  const locale = posterLocale(options.locale ?? business.locale);
  const points = snapshot.config.points;
  const perVisit = pointsPerVisit(snapshot.rules, points.enabled, now);
  const sentence = describeProgram(locale, {
    currency: business.currency,
    points,
    pointsPerVisit: perVisit,
    tierMetric: snapshot.config.tiers.metric,
    stampCards: snapshot.stampCards,
    tiers: snapshot.tiers,
    rewards: rewards.map((r) => ({ ...r, active: true })),
  });
  const program = { pointsEnabled: points.enabled, stampCardIds: snapshot.stampCards.map((c) => c.id) };
  const bonus = launchBonus(snapshot.rules, program, now);
  return {
    ...sentence,
    join_url: `${options.origin}/join/${encodeURIComponent(business.slug)}`,
    locale,
    published_at: business.published_at?.toISOString() ?? null,
    staff_script: staffScript(locale, sentence, {
      gifts: signupGifts(snapshot.rules, program, now),
      stamps: snapshot.stampCards.length > 0,
      points: points.enabled && (points.earn_points > 0 || perVisit > 0),
      timeZone: business.timezone,
    }),
    launch_bonus: bonus && {
      rule_id: bonus.rule_id,
      name: bonus.name,
      points: bonus.points,
      stamps: bonus.stamps,
      stamp_card_id: bonus.stamp_card_id,
      starts_at: bonus.starts_at?.toISOString() ?? null,
      // launchBonus returns only a bonus with an end.
      ends_at: (bonus.ends_at ?? now).toISOString(),
    },
  };
}

/**
 * The launch kit as a printable PDF poster.
 *
 * @example const pdf = await posterPdf(ctx, actor, { origin, size: "a5" })
 */
export async function posterPdf(
  ctx: AppContext,
  actor: Actor,
  options: { origin: string; size: PosterSize; locale?: string | undefined },
): Promise<Buffer> {
  const kit = await launchKit(ctx, actor, options);
  const business = await getBusiness(ctx.db, actor.businessId);
  return renderPoster({
    size: options.size,
    locale: kit.locale,
    businessName: business.name,
    headline: kit.headline,
    tiersLine: kit.tiers_line,
    joinUrl: kit.join_url,
    now: ctx.clock.now(),
  });
}
