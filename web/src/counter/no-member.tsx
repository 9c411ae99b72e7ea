import { useEffect, useId, useRef, useState } from "react";
import { newKey } from "../api.ts";
import { formatMoney } from "../i18n/format.ts";
import { useT } from "../i18n/index.tsx";
import { QrCode } from "../ui/qr.tsx";
import { localOnly } from "../ui/reachable.ts";
import { joinLink, type Preview, saleWithoutMember, withoutMember, wouldEarn } from "./anonymous.ts";
import { call, focusSoon } from "./call.ts";
import type { LastAction } from "./member.tsx";
import { PurchaseForm, quickItems } from "./purchase-form.tsx";
import { type Outcome, type PurchaseQueue, stillSaved } from "./queue.ts";
import { fullText, isLocationGone, ProblemView, useFocusKept, useOutbox } from "./shared.tsx";
import type { Business, PurchaseBody, PurchaseItem, StampCard } from "./types.ts";

/**
 * Sales without a member at the counter: for a customer who is not a member (or would rather not
 * say), from the desk; and for a member whose card was deleted while the counter showed it, one
 * press after the refusal. They go through the purchase outbox as a member's purchase does: the
 * idempotency key is given at the press, the sale is saved on the device first and sent from
 * there, and a retry (or a second tap) counts once.
 */

/** What became of a sale: recorded, or saved on this device (`key`) and sent when it can be. */
export type SaleNotice =
  | { kind: "sent"; amount: number }
  | { kind: "queued"; key: string; amount: number; server: boolean };

/** A press's sale, recorded or saved to be sent (`taken`), and what to say about it. */
interface Taken {
  taken: boolean;
  /** None when nothing more is to be said here (it waits for a login, which the outbox says). */
  notice: SaleNotice | null;
}

/**
 * Records sales without a member through the outbox, one press at a time, and says what became of
 * each. `onSent`: a sale the server recorded, as the undo bar's last action.
 */
function useSaleWithoutMember(
  queue: PurchaseQueue,
  onLocationGone: () => void,
  onSent?: (action: LastAction) => void,
) {
  const { t } = useT();
  const [busy, setBusy] = useState(false);
  // Set at the press, not at the next render: a second tap in the same moment finds it set.
  const pressing = useRef(false);
  const [notice, setNotice] = useState<SaleNotice | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [problem, setProblem] = useState<string | null>(null);

  const label = t("counter.noMember.label");
  /** Pressed before and still waiting in the outbox (a press again after a reload): sent from there, once. */
  const submit = async ({ key, body }: { key: string; body: PurchaseBody }): Promise<Outcome> =>
    queue.pending().some((p) => p.key === key)
      ? { kind: "queued", reason: "network" }
      : await queue.submit({ key, label, body });

  /**
   * Records `sale`; refused because its location was closed meanwhile, the same sale (same key)
   * at `elsewhere`, when given: a refusal is not stored under the key, so another body may follow.
   */
  const record = async (
    sale: { key: string; body: PurchaseBody },
    elsewhere?: { key: string; body: PurchaseBody },
  ): Promise<Taken> => {
    const none: Taken = { taken: false, notice: null };
    if (pressing.current) return none;
    pressing.current = true;
    setBusy(true);
    setError(null);
    setProblem(null);
    setNotice(null);
    let sent = sale;
    let outcome = await submit(sale);
    if (elsewhere && outcome.kind === "rejected" && isLocationGone(outcome.error.code)) {
      onLocationGone();
      sent = elsewhere;
      outcome = await submit(elsewhere);
    }
    const { key, body } = sent;
    pressing.current = false;
    setBusy(false);
    if (outcome.kind === "sent") {
      const { purchase } = outcome.result;
      const recorded: SaleNotice = { kind: "sent", amount: body.amount_minor };
      setNotice(recorded);
      onSent?.({
        kind: "purchase",
        at: Date.now(),
        memberId: null,
        who: label,
        purchase: { id: purchase.id, external_id: purchase.external_id, amount_minor: purchase.amount_minor },
      });
      return { taken: true, notice: recorded };
    }
    if (outcome.kind === "queued") {
      if (outcome.reason === "login") {
        setProblem(t("counter.queue.needsLogin"));
        return { taken: true, notice: null };
      }
      const queued: SaleNotice = {
        kind: "queued",
        key,
        amount: body.amount_minor,
        server: outcome.reason.startsWith("server:"),
      };
      setNotice(queued);
      return { taken: true, notice: queued };
    }
    if (outcome.kind === "full") {
      setProblem(fullText(t, outcome.reason));
      return none;
    }
    setError(outcome.error);
    if (isLocationGone(outcome.error.code)) onLocationGone();
    return none;
  };

  return { busy, notice, error, problem, record };
}

/**
 * "Sale of €4.50 recorded without a member", or that it is saved on this device (while it is).
 * `id`: this notice's own (several can be on screen: the list of refused purchases' and a
 * member's screen's). `onClose`: a button to put it away.
 */
export function SaleNoticeView({
  notice,
  currency,
  queue,
  id,
  onClose,
}: {
  notice: SaleNotice;
  currency: string;
  queue: PurchaseQueue;
  id?: string;
  onClose?: () => void;
}) {
  const { t, locale } = useT();
  const outbox = useOutbox(queue);
  const amount = formatMoney(notice.amount, currency, locale);
  if (notice.kind === "queued" && !stillSaved(notice.key, outbox)) return null;
  const sent = notice.kind === "sent";
  return (
    <div
      className={`alert ${sent ? "ok" : "warn"}${onClose ? " counter-sent" : ""}`}
      role="status"
      id={id}
      tabIndex={-1}
      data-testid={sent ? "counter-no-member" : undefined}
    >
      {sent ? (
        <strong>{t("counter.noMember.recorded", { amount })}</strong>
      ) : (
        <span>
          {t(notice.server ? "counter.purchase.queuedServer" : "counter.purchase.queued", { amount })}
        </span>
      )}
      {onClose ? (
        <button type="button" className="button ghost" onClick={onClose}>
          {t("common.close")}
        </button>
      ) : null}
    </div>
  );
}

/**
 * A member's purchase refused because the card was deleted (`409 member_erased`), or saved offline
 * for a card code that finds no one (`member_not_found`): one press records the same sale (amount,
 * items, time, location) without a member, under a key of its own made from the refused
 * purchase's, so a double tap or a press again later records it once. `onTaken`: the sale, once
 * recorded or saved to be sent, is handed over with what to say about it (the list of refused
 * purchases drops the refusal, so the offer is not made again after a reload), rather than said
 * here.
 */
export function RecordWithoutMember({
  refused,
  currency,
  locationId,
  queue,
  afterId,
  onLocationGone,
  onSent,
  onTaken,
}: {
  refused: { key: string; body: PurchaseBody; code: string };
  currency: string;
  /** The counter's location: the sale's when the refused purchase's was closed meanwhile. */
  locationId: string | null;
  queue: PurchaseQueue;
  /** An element that stays on screen: the keyboard goes on from there once the notice is gone. */
  afterId: string;
  onLocationGone: () => void;
  onSent?: (action: LastAction) => void;
  onTaken?: (notice: SaleNotice | null) => void;
}) {
  const { t, locale } = useT();
  const noticeId = useId();
  const sale = useSaleWithoutMember(queue, onLocationGone, onSent);
  const outbox = useOutbox(queue);
  const amount = formatMoney(refused.body.amount_minor, currency, locale);
  // Saved on this device, then sent (or refused, and listed with the others) later: done here.
  const gone = sale.notice?.kind === "queued" && !stillSaved(sale.notice.key, outbox);
  const focus = useFocusKept(gone, afterId);

  const press = async () => {
    // Where the refused purchase was made, as at every press (the same key must carry the same
    // body); at the counter's location if that one was closed since.
    const own = refused.body.location_id ?? null;
    const { taken, notice } = await sale.record(
      withoutMember(refused),
      own !== null && own !== locationId ? withoutMember(refused, locationId) : undefined,
    );
    if (!taken) return;
    if (onTaken) onTaken(notice);
    // The button goes once the sale is taken: the keyboard goes on from what happened.
    else focusSoon(notice ? noticeId : afterId);
  };

  if (gone) return null;
  return (
    <section className="card stack" aria-label={t("counter.noMember.offerTitle")} {...focus}>
      {/* Once taken, what became of the sale says it all. */}
      {sale.notice ? null : <h3>{t("counter.noMember.offerTitle")}</h3>}
      <div aria-live="polite">
        {sale.notice && !onTaken ? (
          <SaleNoticeView notice={sale.notice} currency={currency} queue={queue} id={noticeId} />
        ) : null}
        {sale.problem ? <div className="alert warn">{sale.problem}</div> : null}
      </div>
      {sale.error ? <ProblemView error={sale.error} /> : null}
      {sale.notice ? null : (
        <>
          <p>{t("counter.noMember.offerBody", { amount })}</p>
          {/* The code may have been mistyped: the customer's right card may have the sale already. */}
          {refused.code === "member_not_found" ? <p>{t("counter.noMember.offerMistyped")}</p> : null}
          <button
            type="button"
            className="button large block"
            disabled={sale.busy}
            onClick={() => void press()}
          >
            {sale.busy ? t("counter.purchase.busy") : t("counter.noMember.offer")}
          </button>
        </>
      )}
    </section>
  );
}

/**
 * The desk's "Sale without a member": the purchase form (amount, quick items) for a customer who
 * is not a member, or would rather not say. After each sale, an invitation to join: what the sale
 * would have earned with a card, and the join page's QR code to scan.
 */
export function NoMemberPanel({
  business,
  joinUrl,
  locationId,
  cards,
  queue,
  onLocationGone,
  onAction,
  onClose,
}: {
  business: Business;
  /** `/v1/auth/me`'s `join_url`: the join page on the public address, when the server knows it. */
  joinUrl: string | null;
  locationId: string | null;
  cards: StampCard[];
  queue: PurchaseQueue;
  onLocationGone: () => void;
  onAction: (action: LastAction) => void;
  onClose: () => void;
}) {
  const { t, locale } = useT();
  const sale = useSaleWithoutMember(queue, onLocationGone, onAction);
  // The last sale taken, for the invitation (keyed by it: a new sale, a new invitation).
  const [last, setLast] = useState<{ key: string; body: PurchaseBody } | null>(null);

  const record = async (amountMinor: number, items: PurchaseItem[]): Promise<boolean> => {
    const key = newKey();
    const body = saleWithoutMember(key, {
      amount_minor: amountMinor,
      currency: business.currency,
      items,
      location_id: locationId,
      occurred_at: new Date().toISOString(),
    });
    const { taken } = await sale.record({ key, body });
    setLast(taken ? { key, body } : null);
    return taken;
  };

  return (
    <section className="counter-member" aria-labelledby="counter-no-member-title">
      <div className="card">
        <div className="row counter-between">
          <h2 id="counter-no-member-title" tabIndex={-1}>
            {t("counter.noMember.title")}
          </h2>
          <button type="button" className="button ghost" onClick={onClose}>
            {t("counter.member.next")}
          </button>
        </div>
        <p className="muted">{t("counter.noMember.lead")}</p>
      </div>
      <div aria-live="polite" className="counter-live">
        {sale.notice ? (
          <SaleNoticeView notice={sale.notice} currency={business.currency} queue={queue} />
        ) : null}
        {sale.problem ? <div className="alert warn">{sale.problem}</div> : null}
      </div>
      {sale.error ? <ProblemView error={sale.error} /> : null}
      <PurchaseForm
        currency={business.currency}
        quick={quickItems(cards, locale)}
        busy={sale.busy}
        disabled={sale.busy}
        onRecord={record}
      />
      {/* The join page opens once the program is live. */}
      {last && business.published_at ? (
        <JoinInvite
          key={last.key}
          sale={last.body}
          link={joinLink(joinUrl, window.location.origin, business.slug)}
          cards={cards}
        />
      ) : null}
    </section>
  );
}

/**
 * A gentle prompt after a sale without a member: what the sale would have earned with a card (the
 * server's preview for a new member; left out when it cannot be had, offline), and the join page's
 * QR code on request, for the customer to scan with their phone.
 */
function JoinInvite({ sale, link, cards }: { sale: PurchaseBody; link: string; cards: StampCard[] }) {
  const { t } = useT();
  const headingId = useId();
  const [earned, setEarned] = useState<ReturnType<typeof wouldEarn> | null>(null);
  const [showQr, setShowQr] = useState(false);

  useEffect(() => {
    let cancelled = false;
    const { amount_minor, currency, items, location_id, occurred_at } = sale;
    call<Preview>("POST", "/v1/purchases/preview", {
      amount_minor,
      currency,
      items,
      ...(location_id ? { location_id } : {}),
      occurred_at,
    })
      .then((preview) => {
        if (!cancelled) setEarned(wouldEarn(preview));
      })
      // Only a nudge: without it the invitation still stands.
      .catch(() => {});
    return () => {
      cancelled = true;
    };
  }, [sale]);

  const cardName = (id: string) => cards.find((c) => c.id === id)?.name ?? "";
  const something = earned !== null && (earned.points > 0 || earned.stamps.length > 0);

  return (
    <section className="card stack counter-invite" aria-labelledby={headingId}>
      <h3 id={headingId}>{t("counter.noMember.inviteTitle")}</h3>
      {something ? (
        <div>
          <p>{t("counter.noMember.wouldEarn")}</p>
          <ul>
            {earned.points > 0 ? <li>{t("counter.result.points", { count: earned.points })}</li> : null}
            {earned.stamps.map((s) => (
              <li key={s.cardId}>
                {t("counter.result.stamps", { count: s.stamps, card: cardName(s.cardId) })}
              </li>
            ))}
          </ul>
        </div>
      ) : null}
      <p className="muted">{t("counter.noMember.inviteLead")}</p>
      {showQr ? (
        <>
          <QrCode value={link} label={t("counter.noMember.qr")} size={220} className="card-link-qr" />
          <p>{t("counter.noMember.scan")}</p>
          <p className="muted card-link-url">{link}</p>
          {localOnly(link) ? (
            <p className="alert warn">{t("counter.noMember.unreachable", { host: new URL(link).host })}</p>
          ) : null}
        </>
      ) : null}
      <div className="row">
        <button
          type="button"
          className="button secondary"
          aria-expanded={showQr}
          onClick={() => setShowQr((shown) => !shown)}
        >
          {showQr ? t("counter.noMember.hideQr") : t("counter.noMember.showQr")}
        </button>
      </div>
    </section>
  );
}
