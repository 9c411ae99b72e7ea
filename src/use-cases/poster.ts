import type { Actor, AppContext } from "../context.ts";
import { getBusiness } from "../modules/business/index.ts";
import {
  describeProgram,
  type PosterLocale,
  type PosterSize,
  type ProgramSentence,
  posterLocale,
  renderPoster,
} from "../modules/launch-kit/index.ts";
import { openRewards } from "./wallet.ts";

export interface LaunchKit extends ProgramSentence {
  /** The link customers open (or scan) to join: `<origin>/join/<slug>`. */
  join_url: string;
  locale: PosterLocale;
  /** When the program went live; the join link works only after that. */
  published_at: string | null;
}

/**
 * The join link and the program in one sentence, in `locale` (default: the business's language).
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
  // The rewards a new member can get now, as the join page the poster's QR code opens lists them.
  const rewards = await openRewards(ctx.db, actor.businessId, ctx.clock.now());
  const locale = posterLocale(options.locale ?? business.locale);
  const sentence = describeProgram(locale, {
    currency: business.currency,
    points: snapshot.config.points,
    stampCards: snapshot.stampCards,
    tiers: snapshot.tiers,
    rewards: rewards.map((r) => ({ ...r, active: true })),
  });
  return {
    ...sentence,
    join_url: `${options.origin}/join/${encodeURIComponent(business.slug)}`,
    locale,
    published_at: business.published_at?.toISOString() ?? null,
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
