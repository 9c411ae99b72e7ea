import { useCallback, useEffect, useRef, useState } from "react";
import { ApiError, newKey, PressKeys } from "../api.ts";
import { formatDateTime, formatFrom, formatMoney, formatNumber, pendingLines } from "../i18n/format.ts";
import { useT } from "../i18n/index.tsx";
import { CardLink } from "../ui/card-link.tsx";
import { ErrorMessage } from "../ui/components.tsx";
import { rewardValue } from "../ui/reward-value.ts";
import { stampCardView } from "../ui/stamps.ts";
import { mayRecordWithoutMember } from "./anonymous.ts";
import { call, focusSoon } from "./call.ts";
import { RecordWithoutMember } from "./no-member.tsx";
import { PurchaseForm, quickItems } from "./purchase-form.tsx";
import { type PurchaseQueue, stillSaved } from "./queue.ts";
import { fullText, isLocationGone, ProblemView, useOutbox } from "./shared.tsx";
import type {
  Business,
  Member,
  MemberSummary,
  Page,
  PurchaseBody,
  PurchaseItem,
  RedemptionResult,
  Reward,
  StampCard,
  Voucher,
} from "./types.ts";

/**
 * What the cashier may undo: the last purchase (by a full refund) or the last reward (by a void).
 * A sale without a member has no `memberId`.
 */
export type LastAction =
  | {
      kind: "purchase";
      at: number;
      memberId: string | null;
      who: string;
      purchase: { id: string; external_id: string; amount_minor: number };
    }
  | { kind: "voucher"; at: number; memberId: string; who: string; code: string; reward: string };

interface Earned {
  points: number;
  pointsAt: string | null;
  stamps: { card: string; stamps: number }[];
  rewards: string[];
  tier: string | null;
  tierLost: boolean;
}

type Notice =
  | { kind: "earned"; earned: Earned; amount: number }
  /** Saved on this device: told while it waits in the outbox (`key`), not once sent or cancelled. */
  | { kind: "queued"; key: string; amount: number; server: boolean }
  | { kind: "issued"; voucher: Voucher }
  | { kind: "confirmed"; voucher: Voucher };

export function displayName(member: Member, t: (key: string, values?: Record<string, string>) => string) {
  return member.name ?? member.email ?? member.phone ?? t("counter.member.anonymous", { code: member.code });
}

export function MemberPanel({
  member,
  business,
  locationId,
  cards,
  queue,
  refreshKey,
  onLocationGone,
  onAction,
  onConfirmed,
  onClose,
}: {
  member: Member;
  business: Business;
  locationId: string | null;
  cards: StampCard[];
  queue: PurchaseQueue;
  refreshKey: number;
  onLocationGone: () => void;
  onAction: (action: LastAction) => void;
  /** A voucher was confirmed: it can no longer be undone. */
  onConfirmed: (code: string) => void;
  onClose: () => void;
}) {
  const { t, locale } = useT();
  const [summary, setSummary] = useState<MemberSummary | null>(null);
  const [rewards, setRewards] = useState<Reward[] | null>(null);
  const [vouchers, setVouchers] = useState<Voucher[] | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [notice, setNotice] = useState<Notice | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [problem, setProblem] = useState<string | null>(null);
  /**
   * A purchase refused because the card was deleted while on screen (`member_erased`): nothing
   * more can be recorded on the card, and the panel offers to record the sale without a member.
   */
  const [erased, setErased] = useState<{ key: string; body: PurchaseBody; code: string } | null>(null);
  const outbox = useOutbox(queue);
  // Kept across retries of the same press: a failed redemption retried does not issue twice.
  const pressKeys = useRef(new PressKeys());
  // Press "Record" → result on screen, as a performance measure (read by the browser tests).
  const measure = useRef(false);
  useEffect(() => {
    if (notice && measure.current) {
      measure.current = false;
      performance.measure("counter:record", "counter:record");
    }
  }, [notice]);
  const who = displayName(member, t);
  const quick = quickItems(cards, locale);
  const cardName = (id: string) =>
    summary?.stamp_cards.find((c) => c.stamp_card_id === id)?.name ??
    cards.find((c) => c.id === id)?.name ??
    "";

  const load = useCallback(async () => {
    setLoadError(null);
    try {
      const [card, available, issued] = await Promise.all([
        call<MemberSummary>("GET", `/v1/members/${member.id}/card`),
        call<{ data: Reward[] }>("GET", `/v1/members/${member.id}/available-rewards`),
        call<Page<Voucher>>("GET", `/v1/members/${member.id}/vouchers?status=issued&limit=20`),
      ]);
      setSummary(card);
      setRewards(available.data);
      setVouchers(issued.data);
    } catch (caught) {
      setLoadError(caught);
    }
  }, [member.id]);

  useEffect(() => {
    void refreshKey;
    void load();
  }, [load, refreshKey]);

  const money = (minor: number) => formatMoney(minor, business.currency, locale);
  /** What a reward gives, for the cashier to take off or hand over: "€10.00 off". */
  const givenBy = (reward: { name: string; type: string; value?: Reward["value"] }) =>
    rewardValue(t, locale, business.currency, reward);

  const record = async (amountMinor: number, items: PurchaseItem[]): Promise<boolean> => {
    if (busy) return false;
    setError(null);
    setProblem(null);
    setNotice(null);
    setBusy("purchase");
    performance.mark("counter:record");
    const key = newKey();
    const body: PurchaseBody = {
      external_id: `counter-${key}`,
      member_id: member.id,
      amount_minor: amountMinor,
      currency: business.currency,
      items,
      ...(locationId ? { location_id: locationId } : {}),
      occurred_at: new Date().toISOString(),
    };
    const outcome = await queue.submit({ key, label: who, body });
    setBusy(null);
    if (outcome.kind === "sent") {
      const { result } = outcome;
      const earned: Earned = {
        points: result.earned.points.reduce((s, p) => s + p.points, 0),
        pointsAt:
          result.earned.points_available_at &&
          Date.parse(result.earned.points_available_at) > Date.now() + 60_000
            ? result.earned.points_available_at
            : null,
        stamps: result.earned.stamps
          .filter((s) => s.stamps > 0)
          .map((s) => ({ card: cardName(s.stamp_card_id), stamps: s.stamps })),
        rewards: [],
        tier: null,
        tierLost: false,
      };
      if (result.member) {
        const before = new Set((rewards ?? []).map((r) => r.id));
        earned.rewards = result.member.rewards_available.filter((r) => !before.has(r.id)).map((r) => r.name);
        if (result.member.tier_changed) {
          earned.tier = result.member.tier?.current?.name ?? null;
          earned.tierLost = earned.tier === null;
        }
        setSummary(result.member);
        setRewards(result.member.rewards_available);
      }
      measure.current = true;
      setNotice({ kind: "earned", earned, amount: amountMinor });
      onAction({
        kind: "purchase",
        at: Date.now(),
        memberId: member.id,
        who,
        purchase: {
          id: result.purchase.id,
          external_id: result.purchase.external_id,
          amount_minor: result.purchase.amount_minor,
        },
      });
      return true;
    }
    if (outcome.kind === "queued") {
      if (outcome.reason === "login") setProblem(t("counter.queue.needsLogin"));
      else
        setNotice({ kind: "queued", key, amount: amountMinor, server: outcome.reason.startsWith("server:") });
      return true;
    }
    if (outcome.kind === "full") setProblem(fullText(t, outcome.reason));
    else {
      setError(outcome.error);
      if (isLocationGone(outcome.error.code)) onLocationGone();
      // The card was deleted meanwhile: the same sale can still be recorded, without a member.
      if (outcome.error.code === "member_erased") setErased({ key, body, code: outcome.error.code });
    }
    return false;
  };

  const redeem = async (reward: Reward) => {
    if (busy) return;
    setBusy(`reward:${reward.id}`);
    setError(null);
    setProblem(null);
    setNotice(null);
    const press = `reward:${reward.id}`;
    const key = pressKeys.current.for(press);
    // A voucher issued on an earlier try whose answer was lost: its undo window began then.
    const pressedAt = pressKeys.current.since(press) ?? Date.now();
    try {
      const result = await call<RedemptionResult>(
        "POST",
        `/v1/members/${member.id}/redemptions`,
        { reward_id: reward.id },
        { idempotencyKey: key },
      );
      pressKeys.current.settle(press);
      setNotice({ kind: "issued", voucher: result.voucher });
      onAction({
        kind: "voucher",
        at: pressedAt,
        memberId: member.id,
        who,
        code: result.voucher.code,
        reward: result.voucher.reward.name,
      });
      await load();
      // The list was rebuilt (its button may be gone): the keyboard goes on from the result.
      focusSoon("counter-notice");
    } catch (caught) {
      pressKeys.current.settle(press, caught);
      setError(caught);
    } finally {
      setBusy(null);
    }
  };

  const confirm = async (voucher: Voucher) => {
    if (busy) return;
    setBusy(`voucher:${voucher.code}`);
    setError(null);
    setProblem(null);
    // A key of this press, not of the voucher: another counter confirming the same voucher must
    // hear that it was used, not replay this counter's success.
    const press = `voucher:${voucher.code}`;
    try {
      const confirmed = await call<Voucher>(
        "POST",
        `/v1/vouchers/${encodeURIComponent(voucher.code)}/redeem`,
        locationId ? { location_id: locationId } : {},
        { idempotencyKey: pressKeys.current.for(press) },
      );
      pressKeys.current.settle(press);
      setNotice({ kind: "confirmed", voucher: confirmed });
      onConfirmed(confirmed.code);
      await load();
      focusSoon("counter-notice");
    } catch (caught) {
      pressKeys.current.settle(press, caught);
      setError(caught);
      if (caught instanceof ApiError && isLocationGone(caught.code)) onLocationGone();
    } finally {
      setBusy(null);
    }
  };

  return (
    <section className="counter-member" aria-labelledby="counter-member-name">
      <div className="card counter-member-head">
        <div className="row counter-between">
          <div>
            <h2 id="counter-member-name" tabIndex={-1}>
              {who}
            </h2>
            <p className="muted counter-code">{t("counter.member.code", { code: member.code })}</p>
          </div>
          <button type="button" className="button ghost" onClick={onClose}>
            {t("counter.member.next")}
          </button>
        </div>
        {loadError ? (
          <>
            <ErrorMessage error={loadError} />
            <button type="button" className="button secondary" onClick={() => void load()}>
              {t("common.retry")}
            </button>
          </>
        ) : !summary ? (
          <p className="muted" aria-busy="true">
            {t("common.loading")}
          </p>
        ) : (
          memberFacts(summary)
        )}
      </div>

      <div aria-live="polite" className="counter-live">
        {notice && (notice.kind !== "queued" || stillSaved(notice.key, outbox)) ? noticeView(notice) : null}
        {problem ? <div className="alert warn">{problem}</div> : null}
      </div>
      {error ? <ProblemView error={error} /> : null}

      {erased === null ? (
        <>
          <PurchaseForm
            currency={business.currency}
            quick={quick}
            busy={busy === "purchase"}
            disabled={busy !== null}
            onRecord={record}
          />

          {rewards && rewards.length > 0 ? (
            <div className="card">
              <h3>{t("counter.rewards.title")}</h3>
              <ul className="counter-list">
                {rewards.map((r) => (
                  <li key={r.id} className="row counter-between">
                    <span>
                      <strong>{r.name}</strong>
                      {givenBy(r) ? <span className="counter-sub counter-value">{givenBy(r)}</span> : null}
                      <span className="counter-sub">
                        {r.cost_points !== null
                          ? t("counter.rewards.costPoints", { count: r.cost_points })
                          : t("counter.rewards.costCard", { card: cardName(r.stamp_card_id ?? "") })}
                      </span>
                    </span>
                    <button
                      type="button"
                      className="button"
                      disabled={busy !== null}
                      onClick={() => void redeem(r)}
                      aria-label={t("counter.rewards.redeemNamed", { reward: r.name })}
                    >
                      {t("counter.rewards.redeem")}
                    </button>
                  </li>
                ))}
              </ul>
            </div>
          ) : null}

          {vouchers && vouchers.length > 0 ? (
            <div className="card">
              <h3>{t("counter.vouchers.title")}</h3>
              <ul className="counter-list">
                {vouchers.map((v) => (
                  <li key={v.id} className="row counter-between">
                    <span>
                      <strong>{v.reward.name}</strong>
                      {givenBy(v.reward) ? (
                        <span className="counter-sub counter-value">{givenBy(v.reward)}</span>
                      ) : null}
                      <span className="counter-sub">
                        {t("counter.vouchers.line", {
                          code: v.code,
                          date: formatDateTime(v.expires_at, locale, business.timezone),
                        })}
                      </span>
                    </span>
                    <button
                      type="button"
                      className="button"
                      disabled={busy !== null}
                      onClick={() => void confirm(v)}
                      aria-label={t("counter.vouchers.confirmNamed", { reward: v.reward.name, code: v.code })}
                    >
                      {t("counter.vouchers.confirm")}
                    </button>
                  </li>
                ))}
              </ul>
            </div>
          ) : null}

          <CardLink memberId={member.id} />
        </>
      ) : (
        // Nothing can be recorded on the card any more: the sale itself still can be.
        <RecordWithoutMember
          key={erased.key}
          refused={erased}
          currency={business.currency}
          locationId={locationId}
          queue={queue}
          afterId="counter-member-name"
          onLocationGone={onLocationGone}
          onSent={onAction}
        />
      )}
    </section>
  );

  function noticeView(notice: Notice) {
    if (notice.kind === "queued") {
      return (
        <div className="alert warn" role="status">
          {t(notice.server ? "counter.purchase.queuedServer" : "counter.purchase.queued", {
            amount: money(notice.amount),
          })}
        </div>
      );
    }
    if (notice.kind === "issued") {
      const value = givenBy(notice.voucher.reward);
      return (
        <div className="alert ok" role="status" id="counter-notice" tabIndex={-1}>
          <strong>{t("counter.rewards.issued", { reward: notice.voucher.reward.name })}</strong>
          {value ? <div className="counter-value">{value}</div> : null}
          <div>{t("counter.rewards.issuedHint", { code: notice.voucher.code })}</div>
        </div>
      );
    }
    if (notice.kind === "confirmed") {
      const value = givenBy(notice.voucher.reward);
      return (
        <div className="alert ok" role="status" id="counter-notice" tabIndex={-1}>
          <strong>{t("counter.vouchers.confirmed", { reward: notice.voucher.reward.name })}</strong>
          {value ? <div className="counter-value">{value}</div> : null}
        </div>
      );
    }
    const { earned } = notice;
    return (
      <div className="alert ok counter-earned" role="status" data-testid="counter-result">
        <strong>{t("counter.result.recorded", { amount: money(notice.amount) })}</strong>
        <ul>
          {earned.points > 0 ? (
            <li>
              {earned.pointsAt
                ? t("counter.result.pointsPending", {
                    count: earned.points,
                    // With its time when it is not the start of a day, as the member's card says.
                    date: formatFrom(earned.pointsAt, locale, business.timezone).date,
                  })
                : t("counter.result.points", { count: earned.points })}
            </li>
          ) : null}
          {earned.stamps.map((s) => (
            <li key={s.card}>{t("counter.result.stamps", { count: s.stamps, card: s.card })}</li>
          ))}
          {earned.points === 0 && earned.stamps.length === 0 ? <li>{t("counter.result.nothing")}</li> : null}
          {earned.rewards.map((r) => (
            <li key={r} className="counter-new-reward">
              {t("counter.result.reward", { reward: r })}
            </li>
          ))}
          {earned.tier ? <li>{t("counter.result.tier", { tier: earned.tier })}</li> : null}
          {earned.tierLost ? <li>{t("counter.result.tierLost")}</li> : null}
        </ul>
      </div>
    );
  }

  /** "+20 points pending until 16 Mar": when the earliest pending points become spendable. */
  function pendingText(summary: MemberSummary): string {
    const { pending } = summary.points;
    const { lines, later } = pendingLines(summary.points, locale, business.timezone, 1);
    const [first] = lines;
    if (!first) return t("counter.member.pending", { count: pending });
    return later === 0
      ? t("counter.member.pendingUntil", { count: pending, date: first.date })
      : t("counter.member.pendingFirst", {
          count: pending,
          first: formatNumber(first.points, locale),
          date: first.date,
        });
  }

  function memberFacts(summary: MemberSummary) {
    return (
      <div className="counter-facts">
        <p className="row">
          <span className="counter-points">
            <span className="big">{formatNumber(summary.points.available, locale)}</span>{" "}
            {t("counter.member.pointsLabel", { count: summary.points.available })}
          </span>
          {summary.points.pending > 0 ? <span className="muted">{pendingText(summary)}</span> : null}
          {summary.tier?.current ? <span className="badge">{summary.tier.current.name}</span> : null}
        </p>
        {summary.stamp_cards.map((card) => {
          // As the customer's wallet draws it: a full card stays full until it is redeemed.
          const view = stampCardView(card);
          return (
            <div key={card.stamp_card_id} className="counter-card">
              <p>
                <strong>{card.name}</strong>{" "}
                <span className="muted">
                  {t("counter.member.stamps", { count: view.filled, required: card.stamps_required })}
                </span>
                {/* Its stamps still pay for its reward, but no purchase adds any. */}
                {view.archived ? (
                  <span className="badge archived">{t("counter.member.archived")}</span>
                ) : null}
                {view.full ? (
                  <span className="badge">{t("counter.member.fullCards", { count: view.fullCards })}</span>
                ) : null}
                {view.onNextCard > 0 ? (
                  <span className="muted">{t("counter.member.nextCard", { count: view.onNextCard })}</span>
                ) : null}
              </p>
              <div className={view.archived ? "stamps stamps-archived" : "stamps"} aria-hidden="true">
                {Array.from({ length: card.stamps_required }, (_, i) => (
                  // biome-ignore lint/suspicious/noArrayIndexKey: the stamp's position is its identity
                  <span key={i} className={`stamp${i < view.filled ? " filled" : ""}`}>
                    {i < view.filled ? "✓" : ""}
                  </span>
                ))}
              </div>
            </div>
          );
        })}
      </div>
    );
  }
}

/**
 * No connection and a card code: the member cannot be looked up, but purchases can still be
 * recorded for the card; they wait in the queue and the server credits them to the card's member.
 */
export function OfflineCardPanel({
  code,
  server,
  business,
  locationId,
  cards,
  queue,
  onLocationGone,
  onClose,
}: {
  code: string;
  /** The network is up but the server does not answer (a 5xx). */
  server: boolean;
  business: Business;
  locationId: string | null;
  cards: StampCard[];
  queue: PurchaseQueue;
  onLocationGone: () => void;
  onClose: () => void;
}) {
  const { t, locale } = useT();
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState<{
    key: string;
    sent: boolean;
    server: boolean;
    amount: number;
  } | null>(null);
  const outbox = useOutbox(queue);
  const [error, setError] = useState<unknown>(null);
  const [problem, setProblem] = useState<string | null>(null);
  /** A purchase refused because the card was deleted: to record without a member. */
  const [erased, setErased] = useState<{ key: string; body: PurchaseBody; code: string } | null>(null);
  const label = t("counter.member.code", { code });

  const record = async (amountMinor: number, items: PurchaseItem[]): Promise<boolean> => {
    setBusy(true);
    setError(null);
    setProblem(null);
    setNotice(null);
    const key = newKey();
    const body: PurchaseBody = {
      external_id: `counter-${key}`,
      member_code: code,
      amount_minor: amountMinor,
      currency: business.currency,
      items,
      ...(locationId ? { location_id: locationId } : {}),
      occurred_at: new Date().toISOString(),
    };
    const outcome = await queue.submit({ key, label, body });
    setBusy(false);
    if (outcome.kind === "rejected") {
      setError(outcome.error);
      if (isLocationGone(outcome.error.code)) onLocationGone();
      // The card was deleted, or no one has its code (the answer came after all): the sale can
      // be recorded without a member.
      if (mayRecordWithoutMember(outcome.error.code, body))
        setErased({ key, body, code: outcome.error.code });
      return false;
    }
    if (outcome.kind === "full") {
      setProblem(fullText(t, outcome.reason));
      return false;
    }
    setNotice({
      key,
      sent: outcome.kind === "sent",
      server: outcome.kind === "queued" && outcome.reason.startsWith("server:"),
      amount: amountMinor,
    });
    return true;
  };

  return (
    <section className="counter-member" aria-labelledby="counter-offline-card">
      <div className="card">
        <div className="row counter-between">
          <h2 id="counter-offline-card" className="counter-code" tabIndex={-1}>
            {label}
          </h2>
          <button type="button" className="button ghost" onClick={onClose}>
            {t("counter.member.next")}
          </button>
        </div>
        <p className="alert warn">
          {t(server ? "counter.offlineCard.bodyServer" : "counter.offlineCard.body")}
        </p>
      </div>
      <div aria-live="polite">
        {notice && (notice.sent || stillSaved(notice.key, outbox)) ? (
          <div className={`alert ${notice.sent ? "ok" : "warn"}`} role="status">
            {notice.sent
              ? t("counter.result.recorded", {
                  amount: formatMoney(notice.amount, business.currency, locale),
                })
              : t(notice.server ? "counter.purchase.queuedServer" : "counter.purchase.queued", {
                  amount: formatMoney(notice.amount, business.currency, locale),
                })}
          </div>
        ) : null}
      </div>
      {error ? <ProblemView error={error} /> : null}
      {problem ? (
        <div className="alert error" role="alert">
          {problem}
        </div>
      ) : null}
      {erased === null ? (
        <PurchaseForm
          currency={business.currency}
          quick={quickItems(cards, locale)}
          busy={busy}
          disabled={busy}
          onRecord={record}
        />
      ) : (
        <RecordWithoutMember
          key={erased.key}
          refused={erased}
          currency={business.currency}
          locationId={locationId}
          queue={queue}
          afterId="counter-offline-card"
          onLocationGone={onLocationGone}
        />
      )}
    </section>
  );
}
