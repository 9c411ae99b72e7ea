import { type FormEvent, useEffect, useId, useMemo, useRef, useState } from "react";
import { ApiError, newKey, PressKeys } from "../api.ts";
import { formatDate, formatDateTime, formatMoney } from "../i18n/format.ts";
import { useT } from "../i18n/index.tsx";
import { Field, TopBar } from "../ui/components.tsx";
import { localPhoneExample } from "../ui/phone.ts";
import { rewardValue } from "../ui/reward-value.ts";
import { mayRecordWithoutMember } from "./anonymous.ts";
import { call, focusSoon } from "./call.ts";
import {
  classify,
  type Lookup,
  mayBeName,
  moreMatched,
  SEARCH_PAGE,
  searched,
  searchPath,
} from "./lookup.ts";
import { displayName, type LastAction, MemberPanel, OfflineCardPanel } from "./member.tsx";
import { NoMemberPanel, RecordWithoutMember, type SaleNotice, SaleNoticeView } from "./no-member.tsx";
import {
  type CancelResult,
  isTransient,
  PurchaseQueue,
  type QueuedPurchase,
  type QueueState,
  stillSaved,
} from "./queue.ts";
import { Scanner } from "./scanner.tsx";
import { isLocationGone, ProblemView, problemText, useFocusKept } from "./shared.tsx";
import type { Location, Me, Member, Page, RedemptionResult, StampCard, Voucher } from "./types.ts";

/** The counter's working screen: identify a customer, then act for them. */

/** How long the last purchase can be undone (a full refund). */
export const PURCHASE_UNDO_MS = 5 * 60_000;
/** A cashier may void a voucher for 10 minutes after issue (the server's CASHIER_VOID_WINDOW_MS); a margin for the clock. */
export const VOUCHER_UNDO_MS = 10 * 60_000 - 20_000;

/**
 * `shown`: the number of this showing. A panel is keyed by it, so the same member or voucher found
 * again is loaded afresh, and a second voucher never keeps the first one's state.
 */
type View =
  | { kind: "idle" }
  | { kind: "scan" }
  | { kind: "member"; member: Member; shown: number }
  /** `server`: the network is up but the server does not answer (a 5xx, as during a deploy). */
  | { kind: "offline-card"; code: string; server: boolean; shown: number }
  | { kind: "voucher"; voucher: Voucher; shown: number }
  /** The members a search found, to pick the customer from; `more`: more matched than shown. */
  | { kind: "results"; query: string; members: Member[]; more: boolean; shown: number }
  /** A sale for a customer who is not a member (or would rather not say). */
  | { kind: "no-member"; shown: number };

export function Desk({
  me,
  location,
  locationId,
  canChangeLocation,
  onChangeLocation,
  onLocationGone,
  onLogout,
  onSessionLost,
}: {
  me: Me;
  location: Location | null;
  locationId: string | null;
  canChangeLocation: boolean;
  onChangeLocation: () => void;
  /** A refusal said the location is closed or gone: the counter's locations are read again. */
  onLocationGone: () => void;
  onLogout: () => void;
  onSessionLost: () => void;
}) {
  const { t } = useT();
  const business = me.business;
  // A number as dialled in the business's country, where the server reads one (else international).
  const phoneExample = localPhoneExample(business.timezone);
  const queue = useMemo(() => new PurchaseQueue(business.id), [business.id]);
  const [queueState, setQueueState] = useState<QueueState>(() => queue.state());
  const [view, setView] = useState<View>({ kind: "idle" });
  const [text, setText] = useState("");
  const [lookupError, setLookupError] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [cards, setCards] = useState<StampCard[]>([]);
  const [last, setLast] = useState<LastAction | null>(null);
  const [refreshKey, setRefreshKey] = useState(0);
  const [undone, setUndone] = useState<string | null>(null);
  const input = useRef<HTMLInputElement>(null);

  // A saved purchase refused later because its location was closed: the locations are read again
  // (once for each such refusal).
  const locationRefusals = useRef(new Set<string>());
  useEffect(() => {
    const fresh = queueState.rejected.filter(
      (r) => isLocationGone(r.code) && !locationRefusals.current.has(r.key),
    );
    for (const r of fresh) locationRefusals.current.add(r.key);
    if (fresh.length > 0) onLocationGone();
  }, [queueState, onLocationGone]);

  const [sentLater, setSentLater] = useState(0);
  const sentSeen = useRef(0);
  useEffect(() => {
    const unsubscribe = queue.subscribe((state) => {
      setQueueState(state);
      if (state.sentLater > sentSeen.current) {
        // Saved purchases went out: say so, and the balances on screen are out of date.
        const more = state.sentLater - sentSeen.current;
        setSentLater((n) => n + more);
        sentSeen.current = state.sentLater;
        setRefreshKey((k) => k + 1);
      }
    });
    const stop = queue.start();
    return () => {
      unsubscribe();
      stop();
    };
  }, [queue]);

  useEffect(() => {
    call<{ data: StampCard[] }>("GET", "/v1/stamp-cards")
      .then((page) => setCards(page.data))
      .catch(() => {});
  }, []);

  // Each lookup's number: only the latest one's answer is shown. A slow answer for a customer the
  // cashier gave up on must not replace the one scanned after it.
  const lookups = useRef(0);
  const shown = useRef(0);

  /**
   * Lists the members `q` finds, to pick the customer from (the text stays, to be made more
   * precise). None: `none`, or that no one matched. Throws what the call throws.
   */
  const showResults = async (q: string, mine: number, none?: string) => {
    const page = await call<Page<Member>>("GET", searchPath(q));
    if (mine !== lookups.current) return;
    if (page.data.length === 0) {
      setView({ kind: "idle" });
      setLookupError(none ?? t("counter.search.none", { query: q }));
      return;
    }
    setView({
      kind: "results",
      query: q,
      members: page.data,
      more: moreMatched(page),
      shown: ++shown.current,
    });
    focusSoon("counter-results-title");
  };

  const failed = (lookup: Lookup, caught: unknown) => {
    setView({ kind: "idle" });
    if (caught instanceof ApiError && caught.status === 401) onSessionLost();
    else if (lookup.kind === "code" && isTransient(caught)) {
      // No answer, a timeout or a server down (5xx, 429, 408): the purchases for the card can
      // still be taken; the queue keeps them until the server answers again.
      const server = caught instanceof ApiError && caught.status > 0;
      setView({ kind: "offline-card", code: lookup.value, server, shown: ++shown.current });
      setText("");
    } else if (caught instanceof ApiError && (caught.status >= 500 || caught.status === 408))
      setLookupError(t("counter.identify.serverDown"));
    else if (caught instanceof ApiError && caught.status === 404) setLookupError(notFound(lookup));
    else if (caught instanceof ApiError && lookup.kind === "search" && caught.status === 403)
      setLookupError(t("counter.search.tooShort"));
    else if (caught instanceof ApiError && caught.code === "validation_failed")
      setLookupError(t("counter.identify.unrecognized"));
    else setError(caught);
  };

  const notFound = (lookup: Lookup) =>
    lookup.kind === "voucher"
      ? t("counter.identify.unknownVoucher", { code: lookup.value })
      : lookup.kind === "code"
        ? t("counter.identify.unknownCode", { code: lookup.value })
        : t("counter.identify.unknownContact", { value: lookup.value });

  const find = async (raw: string) => {
    const mine = ++lookups.current;
    const lookup = classify(raw);
    setUndone(null);
    setSentLater(0);
    setLookupError(null);
    setError(null);
    if (!lookup) {
      setLookupError(t("counter.search.tooShort"));
      setView({ kind: "idle" });
      return;
    }
    setBusy(true);
    try {
      if (lookup.kind === "search") {
        await showResults(lookup.value, mine);
        return;
      }
      if (lookup.kind === "voucher") {
        const voucher = await call<Voucher>("GET", `/v1/vouchers/${encodeURIComponent(lookup.value)}`);
        if (mine !== lookups.current) return;
        setView({ kind: "voucher", voucher, shown: ++shown.current });
        focusSoon("counter-voucher-title");
      } else {
        const member = await call<Member>(
          "GET",
          `/v1/members/lookup?${new URLSearchParams({ [lookup.kind]: lookup.value })}`,
        );
        if (mine !== lookups.current) return;
        setView({ kind: "member", member, shown: ++shown.current });
        focusSoon("counter-member-name");
      }
      setText("");
    } catch (caught) {
      if (mine !== lookups.current) return;
      // A name that looks like a code ("Schwartz"), or the part of a phone number the cashier
      // remembers: searched, and listed to pick from.
      const search =
        caught instanceof ApiError &&
        ((caught.status === 404 && mayBeName(lookup)) ||
          (caught.code === "validation_failed" && lookup.kind === "phone" && searched(raw.trim()) !== null));
      if (!search) {
        failed(lookup, caught);
        return;
      }
      try {
        await showResults(
          raw.trim(),
          mine,
          caught.status === 404 ? notFound(lookup) : t("counter.identify.unrecognized"),
        );
      } catch (again) {
        if (mine === lookups.current) failed({ kind: "search", value: raw.trim() }, again);
      }
    } finally {
      if (mine === lookups.current) setBusy(false);
    }
  };

  /** The member picked from a search's list. */
  const pick = (member: Member) => {
    lookups.current++;
    setBusy(false);
    setLookupError(null);
    setText("");
    setView({ kind: "member", member, shown: ++shown.current });
    focusSoon("counter-member-name");
  };

  const submit = (event: FormEvent) => {
    event.preventDefault();
    void find(text);
  };

  /** A sale without a member: a lookup still under way is given up. */
  const withoutMember = () => {
    lookups.current++;
    setBusy(false);
    setLookupError(null);
    setError(null);
    setView({ kind: "no-member", shown: ++shown.current });
    focusSoon("counter-no-member-title");
  };

  const close = () => {
    lookups.current++;
    setBusy(false);
    setView({ kind: "idle" });
    setLookupError(null);
    setError(null);
    requestAnimationFrame(() => input.current?.focus());
  };

  return (
    <>
      <TopBar title={business.name} home="/counter">
        <span className="counter-who">
          {location ? (
            canChangeLocation ? (
              <button type="button" className="button ghost" onClick={onChangeLocation}>
                {t("counter.location.change", { location: location.name })}
              </button>
            ) : (
              <span>{location.name}</span>
            )
          ) : null}
          <button type="button" className="button ghost" onClick={onLogout}>
            {t("common.logout")}
          </button>
        </span>
      </TopBar>
      <main className="counter">
        <h1 className="visually-hidden">{t("counter.title")}</h1>
        <QueueBanner
          state={queueState}
          queue={queue}
          timezone={business.timezone}
          locationId={locationId}
          onLocationGone={onLocationGone}
          onLogin={onSessionLost}
        />
        <div aria-live="polite">
          {sentLater > 0 && queueState.pending.length === 0 ? (
            <div className="alert ok counter-sent">
              <span>{t("counter.queue.sent", { count: sentLater })}</span>
              <button type="button" className="button ghost" onClick={() => setSentLater(0)}>
                {t("common.close")}
              </button>
            </div>
          ) : null}
        </div>
        <div
          // A search's list keeps the form on screen (on a phone too): the cashier may type more.
          className={`counter-layout${view.kind === "idle" || view.kind === "scan" || view.kind === "results" ? "" : " counter-busy"}`}
        >
          <div className="counter-identify">
            {view.kind === "scan" ? (
              <Scanner
                onCode={(code) => {
                  setView({ kind: "idle" });
                  void find(code);
                }}
                onCancel={close}
              />
            ) : (
              <section className="card counter-find" aria-labelledby="counter-identify-title">
                <h2 id="counter-identify-title" tabIndex={-1}>
                  {t("counter.identify.title")}
                </h2>
                <button
                  type="button"
                  className="button large block counter-scan"
                  onClick={() => {
                    // A lookup still under way is given up: the scan decides who is served.
                    lookups.current++;
                    setBusy(false);
                    setLookupError(null);
                    setError(null);
                    setView({ kind: "scan" });
                  }}
                >
                  {t("counter.identify.scan")}
                </button>
                <form onSubmit={submit} className="counter-type" noValidate>
                  <Field
                    label={t("counter.identify.label")}
                    hint={`${
                      phoneExample
                        ? t("counter.identify.hintLocal", { example: phoneExample })
                        : t("counter.identify.hint")
                    } ${t("counter.identify.hintName")}`}
                    error={lookupError}
                  >
                    {(props) => (
                      <input
                        {...props}
                        ref={input}
                        value={text}
                        onChange={(e) => setText(e.target.value)}
                        autoCapitalize="characters"
                        autoCorrect="off"
                        autoComplete="off"
                        spellCheck={false}
                        enterKeyHint="search"
                      />
                    )}
                  </Field>
                  <button
                    type="submit"
                    className="button secondary large block"
                    // Not while a lookup runs: one that never answers must not block the next
                    // customer's (a new lookup replaces it; only the latest answer is shown).
                    disabled={!text.trim()}
                  >
                    {busy ? t("counter.identify.busy") : t("counter.identify.find")}
                  </button>
                </form>
                {error ? <ProblemView error={error} /> : null}
                <p className="muted">{t("counter.noMember.ask")}</p>
                <button type="button" className="button secondary block" onClick={withoutMember}>
                  {t("counter.noMember.start")}
                </button>
              </section>
            )}
            {last ? (
              <UndoBar
                last={last}
                currency={business.currency}
                onDone={(message, undoneAction) => {
                  // Only the action undone leaves: an undo that answers after the next purchase
                  // must not take that purchase's undo away.
                  setLast((l) => (l === undoneAction ? null : l));
                  setUndone(message);
                  setRefreshKey((k) => k + 1);
                }}
              />
            ) : null}
            <div aria-live="polite">{undone && !last ? <div className="alert ok">{undone}</div> : null}</div>
          </div>
          <div className="counter-main">
            {view.kind === "member" ? (
              <MemberPanel
                key={`${view.member.id}:${view.shown}`}
                member={view.member}
                business={business}
                locationId={locationId}
                cards={cards}
                queue={queue}
                refreshKey={refreshKey}
                onLocationGone={onLocationGone}
                onAction={(action) => {
                  setUndone(null);
                  setLast(action);
                }}
                onConfirmed={(code) => setLast((l) => (l?.kind === "voucher" && l.code === code ? null : l))}
                onClose={close}
              />
            ) : view.kind === "offline-card" ? (
              <OfflineCardPanel
                key={`${view.code}:${view.shown}`}
                code={view.code}
                server={view.server}
                business={business}
                locationId={locationId}
                cards={cards}
                queue={queue}
                onLocationGone={onLocationGone}
                onClose={close}
              />
            ) : view.kind === "voucher" ? (
              <VoucherPanel
                key={`${view.voucher.code}:${view.shown}`}
                voucher={view.voucher}
                me={me}
                locationId={locationId}
                onLocationGone={onLocationGone}
                onOpenMember={(member) => {
                  lookups.current++;
                  setBusy(false);
                  setView({ kind: "member", member, shown: ++shown.current });
                  focusSoon("counter-member-name");
                }}
                onConfirmed={(code) => setLast((l) => (l?.kind === "voucher" && l.code === code ? null : l))}
                onClose={close}
              />
            ) : view.kind === "results" ? (
              <SearchResults key={view.shown} view={view} onPick={pick} onClose={close} />
            ) : view.kind === "no-member" ? (
              <NoMemberPanel
                key={view.shown}
                business={business}
                joinUrl={me.join_url}
                locationId={locationId}
                cards={cards}
                queue={queue}
                onLocationGone={onLocationGone}
                onAction={(action) => {
                  setUndone(null);
                  setLast(action);
                }}
                onClose={close}
              />
            ) : (
              <div className="card counter-empty">
                <p className="muted">{t("counter.identify.empty")}</p>
              </div>
            )}
          </div>
        </div>
      </main>
    </>
  );
}

/**
 * The members a search found, to pick the customer from: name, then what tells two of the same
 * name apart (card code, email, phone). When more matched than the page shows, the cashier is told
 * to type more rather than left to pick from a list that may not hold the customer.
 */
function SearchResults({
  view,
  onPick,
  onClose,
}: {
  view: Extract<View, { kind: "results" }>;
  onPick: (member: Member) => void;
  onClose: () => void;
}) {
  const { t } = useT();
  return (
    <section className="card" aria-labelledby="counter-results-title">
      <h2 id="counter-results-title" tabIndex={-1}>
        {t("counter.search.title", { query: view.query })}
      </h2>
      {view.more ? (
        <div className="alert warn" role="status">
          {t("counter.search.more", { count: SEARCH_PAGE })}
        </div>
      ) : null}
      <ul className="counter-choices">
        {view.members.map((member) => (
          <li key={member.id}>
            <button type="button" className="button secondary large block" onClick={() => onPick(member)}>
              <span>
                {displayName(member, t)}
                <span className="counter-sub">
                  {[t("counter.member.code", { code: member.code }), member.email, member.phone]
                    .filter((part) => part && part !== displayName(member, t))
                    .join(" · ")}
                </span>
              </span>
            </button>
          </li>
        ))}
      </ul>
      <button type="button" className="button ghost block" onClick={onClose}>
        {t("common.close")}
      </button>
    </section>
  );
}

/** The desk's heading, always on screen: the keyboard goes on from it once what it was on is gone. */
const IDENTIFY_TITLE = "counter-identify-title";

function QueueBanner({
  state,
  queue,
  timezone,
  locationId,
  onLocationGone,
  onLogin,
}: {
  state: QueueState;
  queue: PurchaseQueue;
  /** The business's: times are the shop's, whatever the device's clock is set to. */
  timezone: string;
  /** The counter's location: a refused sale recorded without a member goes there if its own was closed. */
  locationId: string | null;
  onLocationGone: () => void;
  onLogin: () => void;
}) {
  const { t, locale } = useT();
  // What the last cancel did (the purchase's row may be gone by then): said in the language shown.
  const [cancelled, setCancelled] = useState<{ result: CancelResult; purchase: QueuedPurchase } | null>(null);
  // A refused sale recorded without a member: its refusal leaves the list, and this says what
  // became of the sale (saved on this device: until it is sent).
  const [noMember, setNoMember] = useState<{ notice: SaleNotice; currency: string; key: string } | null>(
    null,
  );
  const noMemberId = useId();
  const noMemberGone =
    noMember === null ||
    (noMember.notice.kind === "queued" && !stillSaved(noMember.notice.key, state.pending));
  const noMemberFocus = useFocusKept(noMemberGone, IDENTIFY_TITLE);
  if (state.pending.length === 0 && state.rejected.length === 0 && !cancelled && noMemberGone) return null;
  const amountOf = (p: { body: { amount_minor: number; currency: string } }) =>
    formatMoney(p.body.amount_minor, p.body.currency, locale);
  const cancel = (purchase: QueuedPurchase) => {
    setCancelled({ result: queue.cancel(purchase.key), purchase });
    // The button pressed is gone: the keyboard goes on from what happened.
    focusSoon("counter-queue-cancelled");
  };
  const cancelText = ({ result, purchase }: { result: CancelResult; purchase: QueuedPurchase }) => {
    const values = { who: purchase.label, amount: amountOf(purchase) };
    return {
      removed: t("counter.queue.cancelDone", values),
      refunding: t("counter.queue.cancelRefunding", values),
      gone: t("counter.queue.cancelGone", values),
      storage: t("counter.queue.cancelStorage", values),
    }[result];
  };
  return (
    <section className="counter-queue" aria-label={t("counter.queue.label")}>
      {state.pending.length > 0 ? (
        <div className="alert warn" role="status">
          <details>
            <summary>
              <strong>{t("counter.queue.waiting", { count: state.pending.length })}</strong>
            </summary>
            <ul>
              {state.pending.map((p) => (
                <li key={p.key}>
                  {t("counter.queue.item", {
                    who: p.label,
                    amount: amountOf(p),
                    time: formatDateTime(p.created_at, locale, timezone),
                  })}{" "}
                  {p.cancel ? (
                    <em>{t("counter.queue.cancelledItem")}</em>
                  ) : // The till is waiting for it on the member's screen: it can be cancelled
                  // once that screen has said it was saved.
                  state.waiting.includes(p.key) ? null : (
                    <button
                      type="button"
                      className="button secondary"
                      aria-label={t("counter.queue.cancelNamed", { who: p.label, amount: amountOf(p) })}
                      onClick={() => cancel(p)}
                    >
                      {t("counter.queue.cancel")}
                    </button>
                  )}
                </li>
              ))}
            </ul>
          </details>
          <p>{state.needsLogin ? t("counter.queue.needsLogin") : t("counter.queue.hint")}</p>
          {state.needsLogin ? (
            <button type="button" className="button secondary" onClick={onLogin}>
              {t("counter.queue.login")}
            </button>
          ) : (
            <button
              type="button"
              className="button secondary"
              disabled={state.sending}
              onClick={() => void queue.flush()}
            >
              {state.sending ? t("counter.queue.sending") : t("counter.queue.sendNow")}
            </button>
          )}
        </div>
      ) : null}
      <div aria-live="polite">
        {cancelled ? (
          <div
            className={`alert counter-sent ${cancelled.result === "removed" || cancelled.result === "refunding" ? "ok" : "error"}`}
          >
            <span id="counter-queue-cancelled" tabIndex={-1}>
              {cancelText(cancelled)}
            </span>
            <button type="button" className="button ghost" onClick={() => setCancelled(null)}>
              {t("common.close")}
            </button>
          </div>
        ) : null}
        {noMember && !noMemberGone ? (
          <div {...noMemberFocus}>
            <SaleNoticeView
              key={noMember.key}
              notice={noMember.notice}
              currency={noMember.currency}
              queue={queue}
              id={noMemberId}
              onClose={() => {
                setNoMember(null);
                focusSoon(IDENTIFY_TITLE);
              }}
            />
          </div>
        ) : null}
      </div>
      {state.rejected.map((r) => {
        const who = r.label;
        const amount = amountOf(r);
        return (
          <div key={r.key} className="alert error" role="alert">
            <p>
              {t(r.cancelled ? "counter.queue.cancelRefused" : "counter.queue.rejected", {
                who,
                amount,
                message: problemText(t, r.code, r.message),
              })}
            </p>
            {/* Saved for a card deleted (or a code no one has) before it was sent: the sale still stands. */}
            {!r.cancelled && mayRecordWithoutMember(r.code, r.body) ? (
              <RecordWithoutMember
                refused={r}
                currency={r.body.currency}
                locationId={locationId}
                queue={queue}
                afterId={IDENTIFY_TITLE}
                onLocationGone={onLocationGone}
                onTaken={(notice) => {
                  // Recorded or saved to be sent: the refusal is done with, and its offer must not
                  // come back (after a reload, say) to be pressed again.
                  queue.dismiss(r.key);
                  setNoMember(notice ? { notice, currency: r.body.currency, key: r.key } : null);
                  focusSoon(notice ? noMemberId : IDENTIFY_TITLE);
                }}
              />
            ) : null}
            <button type="button" className="button secondary" onClick={() => queue.dismiss(r.key)}>
              {t("counter.queue.dismiss")}
            </button>
          </div>
        );
      })}
    </section>
  );
}

function useNow(intervalMs: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs]);
  return now;
}

function UndoBar({
  last,
  currency,
  onDone,
}: {
  last: LastAction;
  currency: string;
  onDone: (message: string, undone: LastAction) => void;
}) {
  const { t, locale } = useT();
  const now = useNow(1000);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const key = useRef(newKey());
  const span = last.kind === "purchase" ? PURCHASE_UNDO_MS : VOUCHER_UNDO_MS;
  const left = Math.max(0, last.at + span - now);
  useEffect(() => {
    void last;
    setError(null);
    key.current = newKey();
  }, [last]);

  if (left === 0) return null;
  const minutes = Math.floor(left / 60_000);
  const seconds = Math.floor((left % 60_000) / 1000);
  const time = `${minutes}:${String(seconds).padStart(2, "0")}`;
  const what =
    last.kind === "voucher"
      ? t("counter.undo.voucher", { reward: last.reward, who: last.who })
      : last.memberId === null
        ? t("counter.undo.noMember", { amount: formatMoney(last.purchase.amount_minor, currency, locale) })
        : t("counter.undo.purchase", {
            amount: formatMoney(last.purchase.amount_minor, currency, locale),
            who: last.who,
          });

  const undo = async () => {
    // The action as it was pressed: by the answer, `last` may be the next purchase.
    const action = last;
    setBusy(true);
    setError(null);
    try {
      if (action.kind === "purchase") {
        await call(
          "POST",
          "/v1/refunds",
          {
            external_id: `undo-${action.purchase.external_id}`,
            purchase_id: action.purchase.id,
            amount_minor: action.purchase.amount_minor,
            reason: "Undone at the counter",
          },
          { idempotencyKey: key.current },
        );
        const amount = formatMoney(action.purchase.amount_minor, currency, locale);
        onDone(
          action.memberId === null
            ? t("counter.undo.noMemberDone", { amount })
            : t("counter.undo.purchaseDone", { amount, who: action.who }),
          action,
        );
      } else {
        await call<RedemptionResult>(
          "POST",
          `/v1/vouchers/${encodeURIComponent(action.code)}/void`,
          { reason: "Undone at the counter" },
          { idempotencyKey: key.current },
        );
        onDone(t("counter.undo.voucherDone", { reward: action.reward }), action);
      }
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="card counter-undo" aria-label={t("counter.undo.label")}>
      <p>{what}</p>
      <button type="button" className="button danger large block" disabled={busy} onClick={() => void undo()}>
        {t("counter.undo.button", { time })}
      </button>
      {error ? <ProblemView error={error} /> : null}
    </section>
  );
}

function VoucherPanel({
  voucher: initial,
  me,
  locationId,
  onLocationGone,
  onOpenMember,
  onConfirmed,
  onClose,
}: {
  voucher: Voucher;
  me: Me;
  locationId: string | null;
  onLocationGone: () => void;
  onOpenMember: (member: Member) => void;
  onConfirmed: (code: string) => void;
  onClose: () => void;
}) {
  const { t, locale } = useT();
  const [voucher, setVoucher] = useState(initial);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [member, setMember] = useState<Member | null>(null);
  const [confirmedHere, setConfirmedHere] = useState(false);
  const pressKeys = useRef(new PressKeys());
  const tz = me.business.timezone;
  const value = rewardValue(t, locale, me.business.currency, voucher.reward);

  useEffect(() => {
    call<Member>("GET", `/v1/members/${voucher.member_id}`)
      .then(setMember)
      .catch(() => {});
  }, [voucher.member_id]);

  const confirm = async () => {
    setBusy(true);
    setError(null);
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
      setVoucher(confirmed);
      setConfirmedHere(true);
      onConfirmed(confirmed.code);
      // The button is gone: the keyboard goes on from what happened.
      focusSoon("counter-voucher-status");
    } catch (caught) {
      pressKeys.current.settle(press, caught);
      setError(caught);
      if (caught instanceof ApiError && isLocationGone(caught.code)) onLocationGone();
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="card counter-voucher" aria-labelledby="counter-voucher-title">
      <div className="row counter-between">
        <h2 id="counter-voucher-title" tabIndex={-1}>
          {voucher.reward.name}
        </h2>
        <button type="button" className="button ghost" onClick={onClose}>
          {t("counter.member.next")}
        </button>
      </div>
      {/* What to take off or hand over: "€10.00 off". */}
      {value ? <p className="counter-value">{value}</p> : null}
      <p className="counter-code">{t("counter.voucher.code", { code: voucher.code })}</p>
      {member ? <p>{t("counter.voucher.for", { who: displayName(member, t) })}</p> : null}
      <div aria-live="polite">
        {voucher.status === "issued" ? (
          <p className="alert ok">
            {t("counter.voucher.valid", { date: formatDateTime(voucher.expires_at, locale, tz) })}
          </p>
        ) : voucher.status === "redeemed" && confirmedHere ? (
          <p className="alert ok" role="status" id="counter-voucher-status" tabIndex={-1}>
            {t("counter.vouchers.confirmed", { reward: voucher.reward.name })}
          </p>
        ) : voucher.status === "redeemed" && voucher.redeemed_at ? (
          <p className="alert warn" role="status">
            {t("counter.voucher.redeemed", { date: formatDateTime(voucher.redeemed_at, locale, tz) })}
          </p>
        ) : voucher.status === "voided" ? (
          <p className="alert error">{t("counter.voucher.voided")}</p>
        ) : voucher.status === "expired" ? (
          <p className="alert error">
            {t("counter.voucher.expired", { date: formatDate(voucher.expires_at, locale, tz) })}
          </p>
        ) : null}
      </div>
      {error ? <ProblemView error={error} /> : null}
      {voucher.status === "issued" ? (
        <button type="button" className="button large block" disabled={busy} onClick={() => void confirm()}>
          {t("counter.vouchers.confirm")}
        </button>
      ) : null}
      {member ? (
        <button type="button" className="button secondary block" onClick={() => onOpenMember(member)}>
          {t("counter.voucher.openMember")}
        </button>
      ) : null}
    </section>
  );
}
