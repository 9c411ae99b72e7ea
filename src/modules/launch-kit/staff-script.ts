import { listOf, type PosterLocale, posterMessage } from "./messages.ts";
import type { SignupGift } from "./offers.ts";
import type { ProgramSentence } from "./program.ts";

/** What the staff script tells besides the poster's sentence. */
export interface ScriptFacts {
  /** The gifts for joining now (`signupGifts`): a welcome gift, or a launch bonus with its end. */
  gifts: readonly SignupGift[];
  /** The program has an active stamp card: a visit adds stamps. */
  stamps: boolean;
  /** The program earns points on purchases (per amount spent or per visit). */
  points: boolean;
  /** The business's time zone, for the launch bonus's end. */
  timeZone: string;
}

/**
 * A short script for the counter, line by line, in the customer's language: the invitation, what
 * the program gives (the poster's sentence), the gift for joining now and until when, how to join
 * and what to do next time. Each line is a sentence staff can read out as it is.
 *
 * @example staffScript("en", sentence, { gifts: [], stamps: true, points: false, timeZone: "Europe/Amsterdam" })
 * // ["Do you know our loyalty program? …", "Collect 8 stamps and get Free loaf.", "Just scan the QR code …", "Next time, … we add your stamps."]
 */
export function staffScript(locale: PosterLocale, sentence: ProgramSentence, facts: ScriptFacts): string[] {
  const lines = [posterMessage(locale, "script_invite"), sentence.headline];
  if (sentence.tiers_line) lines.push(sentence.tiers_line);
  const welcome = facts.gifts.filter((g) => g.ends_at === null);
  if (welcome.length > 0)
    lines.push(posterMessage(locale, "script_welcome", { gift: giftText(locale, welcome) }));
  // A launch bonus ends: one line per end, the soonest first.
  const ends = [...new Set(facts.gifts.flatMap((g) => (g.ends_at ? [g.ends_at.getTime()] : [])))].sort(
    (a, b) => a - b,
  );
  for (const end of ends) {
    const gifts = facts.gifts.filter((g) => g.ends_at?.getTime() === end);
    lines.push(
      posterMessage(locale, "script_launch", {
        gift: giftText(locale, gifts),
        date: new Intl.DateTimeFormat(locale, {
          dateStyle: "long",
          timeStyle: "short",
          timeZone: facts.timeZone,
        }).format(new Date(end)),
      }),
    );
  }
  lines.push(posterMessage(locale, "script_join"));
  lines.push(
    posterMessage(
      locale,
      facts.stamps ? "script_visit_stamps" : facts.points ? "script_visit_points" : "script_visit",
    ),
  );
  return lines;
}

/** "50 points", "2 stamps", "50 points and 2 stamps". */
function giftText(locale: PosterLocale, gifts: readonly SignupGift[]): string {
  const points = gifts.reduce((sum, g) => sum + g.points, 0);
  const stamps = gifts.reduce((sum, g) => sum + g.stamps, 0);
  const parts: string[] = [];
  if (points > 0) parts.push(posterMessage(locale, "gift_points", { count: points }));
  if (stamps > 0) parts.push(posterMessage(locale, "gift_stamps", { count: stamps }));
  return listOf(locale, parts);
}
