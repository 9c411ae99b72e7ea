import { describe, expect, it } from "vitest";
import { formatFrom, formatUntil, pendingLines, releaseLines } from "../../web/src/i18n/format.ts";
import { shownRewards } from "../../web/src/wallet/rewards.ts";
import type { CardReward, WalletCard } from "../../web/src/wallet/types.ts";

/** Intl separates a time from AM/PM with a narrow no-break space in some versions: compare words. */
const words = (text: string) => text.replace(/\s/g, " ");

describe("from when pending points can be spent, from the instant they are released", () => {
  it.each([
    // Released at the start of 16 March in Amsterdam: spendable that whole day.
    ["2026-03-15T23:00:00.000Z", "Europe/Amsterdam", "en-GB", "16 Mar 2026"],
    ["2026-03-15T23:00:00.000Z", "Europe/Amsterdam", "nl", "16 mrt 2026"],
    ["2026-03-15T23:00:00.000Z", "Europe/Warsaw", "pl", "16 mar 2026"],
    ["2026-03-16T03:00:00.000Z", "America/Sao_Paulo", "pt-BR", "16 de mar. de 2026"],
  ])("%s in %s (%s), the start of a day, is that day: %s", (iso, zone, locale, day) => {
    expect(formatFrom(iso, locale, zone)).toEqual({ date: day, time: false });
    // Unlike an end at the same instant, which is the last whole day before it.
    expect(formatUntil(iso, locale, zone).date).not.toBe(day);
  });

  it.each([
    // Bought at 15:00 on 2 March with a 14-day pending period: spendable from 15:00 on 16 March.
    ["2026-03-16T14:00:00.000Z", "Europe/Amsterdam", "en-GB", "16 Mar 2026, 15:00"],
    ["2026-03-16T14:00:00.000Z", "Europe/Amsterdam", "nl", "16 mrt 2026, 15:00"],
    ["2026-03-16T14:00:00.000Z", "Europe/Warsaw", "pl", "16 mar 2026, 15:00"],
    ["2026-03-16T14:00:00.000Z", "America/Sao_Paulo", "pt-BR", "16 de mar. de 2026, 11:00"],
    ["2026-03-16T14:05:40.000Z", "Europe/Amsterdam", "en-US", "Mar 16, 2026, 3:05 PM"],
    // Midnight in UTC is not midnight in Amsterdam.
    ["2026-03-16T00:00:00.000Z", "Europe/Amsterdam", "en-GB", "16 Mar 2026, 01:00"],
  ])("%s in %s (%s), another time of day, is told with its time: %s", (iso, zone, locale, shown) => {
    const from = formatFrom(iso, locale, zone);
    expect(from.time).toBe(true);
    expect(words(from.date)).toBe(shown);
  });

  it("takes the first hour of a day whose midnight a clock change skips for its start", () => {
    // 4 November 2018 in São Paulo began at 01:00.
    expect(formatFrom("2018-11-04T03:00:00.000Z", "pt-BR", "America/Sao_Paulo")).toEqual({
      date: "4 de nov. de 2018",
      time: false,
    });
  });
});

describe("the pending points, one line per release as it is shown", () => {
  it("adds up releases within one shown minute, keeps other times and days apart, earliest first", () => {
    const lines = releaseLines(
      [
        { available_at: "2026-03-17T08:30:00.000Z", points: 3 },
        // Two purchases at 15:00 on 2 March, seconds apart, and one released at midnight.
        { available_at: "2026-03-16T14:00:10.123Z", points: 5 },
        { available_at: "2026-03-16T14:00:50.456Z", points: 7 },
        { available_at: "2026-03-15T23:00:00.000Z", points: 2 },
      ],
      "en-GB",
      "Europe/Amsterdam",
    );
    expect(lines.map(({ date, time, points }) => ({ date: words(date), time, points }))).toEqual([
      { date: "16 Mar 2026", time: false, points: 2 },
      { date: "16 Mar 2026, 15:00", time: true, points: 12 },
      { date: "17 Mar 2026, 09:30", time: true, points: 3 },
    ]);
    expect(new Set(lines.map((l) => l.key)).size).toBe(3);
  });

  it("shows the first lines and counts the rest as later", () => {
    const points = {
      pending: 20,
      pending_until: [
        { available_at: "2026-03-16T14:00:00.000Z", points: 5 },
        { available_at: "2026-03-17T14:00:00.000Z", points: 6 },
        { available_at: "2026-03-18T14:00:00.000Z", points: 9 },
      ],
    };
    const one = pendingLines(points, "en-GB", "Europe/Amsterdam", 1);
    expect(one.lines.map((l) => [words(l.date), l.points])).toEqual([["16 Mar 2026, 15:00", 5]]);
    expect(one.later).toBe(15);
    const all = pendingLines(points, "en-GB", "Europe/Amsterdam", 3);
    expect(all.lines).toHaveLength(3);
    expect(all.later).toBe(0);
  });

  it("counts what the API leaves out (it lists the first ten release times) as later", () => {
    const pending_until = Array.from({ length: 10 }, (_, i) => ({
      available_at: new Date(Date.UTC(2026, 2, 16 + i, 14)).toISOString(),
      points: 2,
    }));
    // 25 pending in all: 20 in the ten release times listed, 5 released after them.
    const { lines, later } = pendingLines({ pending: 25, pending_until }, "nl", "Europe/Amsterdam", 10);
    expect(lines).toHaveLength(10);
    expect(later).toBe(5);
  });

  it("has no lines for a card kept from before release times were sent: everything is later", () => {
    expect(pendingLines({ pending: 12 }, "en-GB", "Europe/Amsterdam", 3)).toEqual({ lines: [], later: 12 });
    expect(pendingLines({ pending: 0, pending_until: [] }, "en-GB", "UTC", 3)).toEqual({
      lines: [],
      later: 0,
    });
  });
});

describe("the rewards the wallet shows", () => {
  const reward = (id: string, stampCardId: string | null): CardReward =>
    ({ id, name: id, stamp_card_id: stampCardId, cost_points: stampCardId ? null : 100 }) as CardReward;
  const held = (id: string, archived: boolean) => ({
    stamp_card_id: id,
    name: id,
    stamps: 3,
    stamps_required: 10,
    full_cards: 0,
    stamps_on_current_card: 3,
    stamps_to_next_reward: 7,
    archived,
  });
  const card = (rewards: CardReward[], cards: ReturnType<typeof held>[]) =>
    ({
      business: { program: { stamp_cards: [{ id: "active", name: "active", stamps_required: 10 }] } },
      card: { stamp_cards: cards },
      rewards,
    }) as unknown as WalletCard;

  it("keeps the reward of an archived card while the member holds stamps on it", () => {
    const rewards = [reward("points", null), reward("coffee", "active"), reward("old", "archived")];
    expect(
      shownRewards(card(rewards, [held("active", false), held("archived", true)])).map((r) => r.id),
    ).toEqual(["points", "coffee", "old"]);
  });

  it("leaves out the reward of an archived card with no stamps on it: it is out of reach", () => {
    const rewards = [reward("points", null), reward("coffee", "active"), reward("old", "archived")];
    expect(shownRewards(card(rewards, [held("active", false)])).map((r) => r.id)).toEqual([
      "points",
      "coffee",
    ]);
  });
});
