import { type FormEvent, useCallback, useEffect, useRef, useState } from "react";
import { ApiError, api, newKey } from "../api.ts";
import { formatDate, formatMoney, formatNumber, parseMoney } from "../i18n/format.ts";
import { useT } from "../i18n/index.tsx";
import { ErrorMessage, Field } from "../ui/components.tsx";
import type { PurchaseQueue } from "./queue.ts";
import type {
  Business,
  Member,
  MemberSummary,
  Page,
  PurchaseItem,
  RedemptionResult,
  Reward,
  StampCard,
  Voucher,
} from "./types.ts";

/** What the cashier may undo: the last purchase (by a full refund) or the last reward (by a void). */
export type LastAction =
  | {
      kind: "purchase";
      at: number;
      memberId: string;
      who: string;
      purchase: { id: string; external_id: string; amount_minor: number };
    }
  | { kind: "voucher"; at: number; memberId: string; who: string; code: string; reward: string };

/** A quick item: one tap adds a line of a category (or sku) a stamp card counts. */
export interface QuickItem {
  id: string;
  label: string;
  line: Omit<PurchaseItem, "quantity">;
}

/** The quick items of the business: the categories and skus its item stamp cards count. */
export function quickItems(cards: StampCard[]): QuickItem[] {
  const items = new Map<string, QuickItem>();
  for (const card of cards) {
    if (card.earn_on !== "item" || !card.item_match) continue;
    for (const category of card.item_match.categories ?? []) {
      items.set(`c:${category}`, {
        id: `c:${category}`,
        label: category,
        line: { sku: category, name: category, category, unit_price_minor: 0 },
      });
    }
    for (const sku of card.item_match.skus ?? []) {
      items.set(`s:${sku}`, { id: `s:${sku}`, label: sku, line: { sku, name: sku, unit_price_minor: 0 } });
    }
  }
  return [...items.values()];
}

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
  | { kind: "queued"; amount: number }
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
  const [amount, setAmount] = useState("");
  const [amountError, setAmountError] = useState<string | null>(null);
  const [lines, setLines] = useState<Record<string, number>>({});
  const [busy, setBusy] = useState<string | null>(null);
  const [notice, setNotice] = useState<Notice | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [problem, setProblem] = useState<string | null>(null);
  // Kept across retries of the same press: a failed redemption retried does not issue twice.
  const pendingKeys = useRef(new Map<string, string>());
  const amountInput = useRef<HTMLInputElement>(null);
  // Press "Record" → result on screen, as a performance measure (read by the browser tests).
  const measure = useRef(false);
  useEffect(() => {
    if (notice && measure.current) {
      measure.current = false;
      performance.measure("counter:record", "counter:record");
    }
  }, [notice]);
  const who = displayName(member, t);
  const quick = quickItems(cards);
  const cardName = (id: string) =>
    summary?.stamp_cards.find((c) => c.stamp_card_id === id)?.name ??
    cards.find((c) => c.id === id)?.name ??
    "";

  const load = useCallback(async () => {
    setLoadError(null);
    try {
      const [card, available, issued] = await Promise.all([
        api<MemberSummary>("GET", `/v1/members/${member.id}/card`),
        api<{ data: Reward[] }>("GET", `/v1/members/${member.id}/available-rewards`),
        api<Page<Voucher>>("GET", `/v1/members/${member.id}/vouchers?status=issued&limit=20`),
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

  const record = async (event: FormEvent) => {
    event.preventDefault();
    if (busy) return;
    const items: PurchaseItem[] = quick
      .filter((q) => (lines[q.id] ?? 0) > 0)
      .map((q) => ({ ...q.line, quantity: lines[q.id] ?? 1 }));
    const amountMinor = parseMoney(amount, business.currency);
    if (amountMinor === null) {
      setAmountError(
        amount.trim() ? t("counter.purchase.amountInvalid") : t("counter.purchase.amountRequired"),
      );
      amountInput.current?.focus();
      return;
    }
    setAmountError(null);
    setError(null);
    setProblem(null);
    setNotice(null);
    setBusy("purchase");
    performance.mark("counter:record");
    const key = newKey();
    const outcome = await queue.submit({
      key,
      label: who,
      body: {
        external_id: `counter-${key}`,
        member_id: member.id,
        amount_minor: amountMinor,
        currency: business.currency,
        items,
        ...(locationId ? { location_id: locationId } : {}),
        occurred_at: new Date().toISOString(),
      },
    });
    setBusy(null);
    if (outcome.kind === "sent") {
      const { result } = outcome;
      setAmount("");
      setLines({});
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
      measure.current = true;
    } else if (outcome.kind === "queued") {
      setAmount("");
      setLines({});
      if (outcome.reason === "login") setProblem(t("counter.queue.needsLogin"));
      else setNotice({ kind: "queued", amount: amountMinor });
    } else {
      setError(outcome.error);
    }
  };

  const redeem = async (reward: Reward) => {
    if (busy) return;
    setBusy(`reward:${reward.id}`);
    setError(null);
    setProblem(null);
    setNotice(null);
    const press = `reward:${reward.id}`;
    const key = pendingKeys.current.get(press) ?? newKey();
    pendingKeys.current.set(press, key);
    try {
      const result = await api<RedemptionResult>(
        "POST",
        `/v1/members/${member.id}/redemptions`,
        { reward_id: reward.id },
        { idempotencyKey: key },
      );
      pendingKeys.current.delete(press);
      setNotice({ kind: "issued", voucher: result.voucher });
      onAction({
        kind: "voucher",
        at: Date.now(),
        memberId: member.id,
        who,
        code: result.voucher.code,
        reward: result.voucher.reward.name,
      });
      await load();
    } catch (caught) {
      if (caught instanceof ApiError && caught.status < 500 && caught.code !== "network_error")
        pendingKeys.current.delete(press);
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
    try {
      const confirmed = await api<Voucher>(
        "POST",
        `/v1/vouchers/${encodeURIComponent(voucher.code)}/redeem`,
        locationId ? { location_id: locationId } : {},
        { idempotencyKey: `redeem-${voucher.code}` },
      );
      setNotice({ kind: "confirmed", voucher: confirmed });
      onConfirmed(confirmed.code);
      await load();
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(null);
    }
  };

  const addItem = (id: string, delta: number) =>
    setLines((previous) => {
      const next = { ...previous, [id]: Math.max(0, (previous[id] ?? 0) + delta) };
      if (next[id] === 0) delete next[id];
      return next;
    });

  return (
    <section className="counter-member" aria-labelledby="counter-member-name">
      <div className="card counter-member-head">
        <div className="row counter-between">
          <div>
            <h2 id="counter-member-name">{who}</h2>
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
        {notice ? noticeView(notice) : null}
        {problem ? <div className="alert warn">{problem}</div> : null}
      </div>
      {error ? <ProblemView error={error} /> : null}

      <form className="card counter-purchase" onSubmit={record} noValidate>
        <h3>{t("counter.purchase.title")}</h3>
        <Field label={t("counter.purchase.amount", { currency: business.currency })} error={amountError}>
          {(props) => (
            <input
              {...props}
              ref={amountInput}
              className="counter-amount"
              inputMode="decimal"
              autoComplete="off"
              enterKeyHint="done"
              placeholder={money(0)}
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
        <button type="submit" className="button large block" disabled={busy !== null}>
          {busy === "purchase" ? t("counter.purchase.busy") : t("counter.purchase.submit")}
        </button>
      </form>

      {rewards && rewards.length > 0 ? (
        <div className="card">
          <h3>{t("counter.rewards.title")}</h3>
          <ul className="counter-list">
            {rewards.map((r) => (
              <li key={r.id} className="row counter-between">
                <span>
                  <strong>{r.name}</strong>
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
                  <span className="counter-sub">
                    {t("counter.vouchers.line", {
                      code: v.code,
                      date: formatDate(v.expires_at, locale, business.timezone),
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
    </section>
  );

  function noticeView(notice: Notice) {
    if (notice.kind === "queued") {
      return (
        <div className="alert warn" role="status">
          {t("counter.purchase.queued", { amount: money(notice.amount) })}
        </div>
      );
    }
    if (notice.kind === "issued") {
      return (
        <div className="alert ok" role="status">
          <strong>{t("counter.rewards.issued", { reward: notice.voucher.reward.name })}</strong>
          <div>{t("counter.rewards.issuedHint", { code: notice.voucher.code })}</div>
        </div>
      );
    }
    if (notice.kind === "confirmed") {
      return (
        <div className="alert ok" role="status">
          <strong>{t("counter.vouchers.confirmed", { reward: notice.voucher.reward.name })}</strong>
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
                    date: formatDate(earned.pointsAt, locale, business.timezone),
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

  function memberFacts(summary: MemberSummary) {
    return (
      <div className="counter-facts">
        <p className="row">
          <span className="counter-points">
            <span className="big">{formatNumber(summary.points.available, locale)}</span>{" "}
            {t("counter.member.pointsLabel", { count: summary.points.available })}
          </span>
          {summary.points.pending > 0 ? (
            <span className="muted">{t("counter.member.pending", { count: summary.points.pending })}</span>
          ) : null}
          {summary.tier?.current ? <span className="badge">{summary.tier.current.name}</span> : null}
        </p>
        {summary.stamp_cards.map((card) => (
          <div key={card.stamp_card_id} className="counter-card">
            <p>
              <strong>{card.name}</strong>{" "}
              <span className="muted">
                {t("counter.member.stamps", {
                  count: card.stamps_on_current_card,
                  required: card.stamps_required,
                })}
              </span>
              {card.full_cards > 0 ? (
                <span className="badge">{t("counter.member.fullCards", { count: card.full_cards })}</span>
              ) : null}
            </p>
            <div className="stamps" aria-hidden="true">
              {Array.from({ length: card.stamps_required }, (_, i) => (
                // biome-ignore lint/suspicious/noArrayIndexKey: the stamp's position is its identity
                <span key={i} className={`stamp${i < card.stamps_on_current_card ? " filled" : ""}`}>
                  {i < card.stamps_on_current_card ? "✓" : ""}
                </span>
              ))}
            </div>
          </div>
        ))}
      </div>
    );
  }
}

/** A refused action in the cashier's words, with the API's own message as the detail. */
export function ProblemView({ error }: { error: unknown }) {
  const { t } = useT();
  if (error instanceof ApiError && error.code !== "network_error" && error.code !== "http_error") {
    const known = `counter.problem.${error.code}`;
    const text = KNOWN_PROBLEMS.has(error.code)
      ? t(known)
      : t("common.error.generic", { message: error.message });
    return (
      <div className="alert error" role="alert">
        {text}
      </div>
    );
  }
  return <ErrorMessage error={error} />;
}

const KNOWN_PROBLEMS = new Set([
  "member_not_found",
  "voucher_not_found",
  "voucher_already_redeemed",
  "voucher_voided",
  "voucher_expired",
  "insufficient_points",
  "insufficient_stamps",
  "reward_out_of_stock",
  "reward_limit_reached",
  "reward_inactive",
  "reward_not_eligible",
  "forbidden",
  "occurred_at_in_future",
  "location_archived",
  "location_not_found",
]);
