import { describe, expect, it } from "vitest";
import { stampCardView } from "../../web/src/ui/stamps.ts";
import { groupHistory, type HistoryEntry, historyPart, lineParts } from "../../web/src/wallet/history.ts";

let next = 0;
function entry(
  at: string,
  source: string,
  kind: string,
  amount: number,
  type: "points" | "stamps" = "points",
): HistoryEntry {
  const [source_type = "", source_id = ""] = source.split(":");
  next += 1;
  return {
    id: `e${next}`,
    type,
    kind,
    points: type === "points" ? amount : null,
    stamps: type === "stamps" ? amount : null,
    stamp_card_id: type === "stamps" ? "card-1" : null,
    source_type,
    source_id,
    occurred_at: at,
  };
}

const ids = (groups: HistoryEntry[][]) => groups.map((g) => g.map((e) => `${e.source_type}:${e.kind}`));

describe("the wallet's history, one line per visit", () => {
  it("puts a purchase's points and stamps on one line", () => {
    const history = [
      entry("2026-03-02T14:00:00Z", "purchase:p1", "earn", 1, "stamps"),
      entry("2026-03-02T14:00:00Z", "purchase:p1", "earn", 35),
      entry("2026-03-01T09:00:00Z", "signup:m1", "earn", 50),
    ];
    expect(ids(groupHistory(history, "Europe/Amsterdam"))).toEqual([
      ["purchase:earn", "purchase:earn"],
      ["signup:earn"],
    ]);
  });

  it("keeps a voucher voided weeks after it was redeemed on two lines, each on its own day", () => {
    // Newest first: voided on 20 March, another purchase between, redeemed on 2 March.
    const apart = [
      entry("2026-03-20T10:00:00Z", "voucher:v1", "restore", 100),
      entry("2026-03-10T10:00:00Z", "purchase:p2", "earn", 20),
      entry("2026-03-02T10:00:00Z", "voucher:v1", "spend", -100),
    ];
    const groups = groupHistory(apart, "Europe/Amsterdam");
    expect(ids(groups)).toEqual([["voucher:restore"], ["purchase:earn"], ["voucher:spend"]]);
    expect(groups.map((g) => g[0]?.occurred_at.slice(0, 10))).toEqual([
      "2026-03-20",
      "2026-03-10",
      "2026-03-02",
    ]);
    // Neighbours too: nothing else happened between them.
    const neighbours = [apart[0], apart[2]] as HistoryEntry[];
    expect(ids(groupHistory(neighbours, "Europe/Amsterdam"))).toEqual([
      ["voucher:restore"],
      ["voucher:spend"],
    ]);
  });

  it("takes the day in the business's time zone", () => {
    // 23:30 and 00:30 in Amsterdam are two days, though both are 22:30/23:30 on 1 March in UTC.
    const history = [
      entry("2026-03-01T23:30:00Z", "voucher:v2", "restore", 10),
      entry("2026-03-01T22:30:00Z", "voucher:v2", "spend", -10),
    ];
    expect(groupHistory(history, "Europe/Amsterdam")).toHaveLength(2);
    expect(groupHistory(history, "UTC")).toHaveLength(1);
  });

  it("words a reversal that gives back as given back, and one that takes back as taken back", () => {
    expect(historyPart(entry("2026-03-20T10:00:00Z", "refund:r1", "reverse", 100))).toEqual({
      message: "points.restore",
      count: 100,
      stampCardId: null,
    });
    expect(historyPart(entry("2026-03-20T10:00:00Z", "refund:r1", "reverse", -100))).toEqual({
      message: "points.reverse",
      count: 100,
      stampCardId: null,
    });
    expect(historyPart(entry("2026-03-20T10:00:00Z", "refund:r1", "reverse", -1, "stamps"))).toEqual({
      message: "stamps.reverse",
      count: 1,
      stampCardId: "card-1",
    });
    expect(historyPart(entry("2026-03-20T10:00:00Z", "refund:r1", "reverse", 2, "stamps")).message).toBe(
      "stamps.restore",
    );
    // Corrections by hand have no message of their own: added or removed by their sign.
    expect(historyPart(entry("2026-03-20T10:00:00Z", "adjustment:a1", "adjust", 5)).message).toBe(
      "points.plus",
    );
    expect(historyPart(entry("2026-03-20T10:00:00Z", "adjustment:a1", "adjust", -5)).message).toBe(
      "points.minus",
    );
  });

  it("tells a refund that took from other lots and gave it back the same day as what happened, net", () => {
    // A refund takes 100 from the purchase's lot and 50 from another, then gives the 50 back.
    const line = [
      entry("2026-03-20T10:05:00Z", "refund:r1", "reverse", 50),
      entry("2026-03-20T10:00:00Z", "refund:r1", "reverse", -50),
      entry("2026-03-20T10:00:00Z", "refund:r1", "reverse", -100),
    ];
    expect(groupHistory(line, "Europe/Amsterdam")).toHaveLength(1);
    expect(lineParts(line)).toEqual([
      { message: "points.restore", count: 50, stampCardId: null },
      { message: "points.reverse", count: 150, stampCardId: null },
    ]);
  });
});

describe("a stamp card as the wallet, the counter and the dashboard draw it", () => {
  const card = (stamps: number, required = 10, archived = false) => ({
    stamps_required: required,
    full_cards: Math.floor(stamps / required),
    stamps_on_current_card: stamps % required,
    stamps_to_next_reward: required - (stamps % required),
    archived,
  });
  const active = { archived: false, closed: false };

  it("draws a full card full, with the reward ready, not as an empty one", () => {
    expect(stampCardView(card(10))).toEqual({
      filled: 10,
      full: true,
      fullCards: 1,
      onNextCard: 0,
      toGo: 0,
      ...active,
    });
  });

  it("keeps the full card drawn while stamps gather on the next one", () => {
    expect(stampCardView(card(13))).toEqual({
      filled: 10,
      full: true,
      fullCards: 1,
      onNextCard: 3,
      toGo: 0,
      ...active,
    });
    expect(stampCardView(card(25))).toEqual({
      filled: 10,
      full: true,
      fullCards: 2,
      onNextCard: 5,
      toGo: 0,
      ...active,
    });
  });

  it("counts down to the reward on a card that is not full", () => {
    expect(stampCardView(card(0))).toEqual({
      filled: 0,
      full: false,
      fullCards: 0,
      onNextCard: 0,
      toGo: 10,
      ...active,
    });
    expect(stampCardView(card(9))).toEqual({
      filled: 9,
      full: false,
      fullCards: 0,
      onNextCard: 0,
      toGo: 1,
      ...active,
    });
  });

  it("never counts down on an archived card, which collects no more stamps", () => {
    expect(stampCardView(card(7, 10, true))).toEqual({
      filled: 7,
      full: false,
      fullCards: 0,
      onNextCard: 0,
      toGo: 0,
      archived: true,
      closed: true,
    });
  });

  it("has the reward of a full archived card ready, as on any card", () => {
    expect(stampCardView(card(12, 10, true))).toEqual({
      filled: 10,
      full: true,
      fullCards: 1,
      onNextCard: 2,
      toGo: 0,
      archived: true,
      closed: false,
    });
  });

  it("takes a card without the flag (a card kept on the phone from before) for an active one", () => {
    const { archived: _, ...kept } = card(4);
    expect(stampCardView(kept)).toMatchObject({ toGo: 6, ...active });
  });
});
