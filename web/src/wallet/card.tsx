import { useCallback, useEffect, useRef, useState } from "react";
import { ApiError, api, PressKeys } from "../api.ts";
import {
  expiryLines,
  formatDate,
  formatDateTime,
  formatMoney,
  formatUntil,
  pendingLines,
} from "../i18n/format.ts";
import { LOCALES, type Locale, useT } from "../i18n/index.tsx";
import { Link } from "../router.tsx";
import { ErrorMessage, type KnownProblems, TopBar } from "../ui/components.tsx";
import { QrCode } from "../ui/qr.tsx";
import { stampCardView } from "../ui/stamps.ts";
import { groupHistory, type HistoryPart, lineParts } from "./history.ts";
import { JUST_JOINED } from "./join.tsx";
import { rewardCost, rewardValue } from "./program.tsx";
import { shownRewards, showsPoints } from "./rewards.ts";
import { CardErased, cardErased, MyData, MyDetails } from "./self-service.tsx";
import {
  adoptTokenFromAddress,
  cachedCard,
  cardLink,
  cardToken,
  dropLinkToken,
  forgetCard,
  forgetCardEverywhere,
  linkOutcome,
  linkToken,
  saveCachedCard,
  saveCardToken,
} from "./storage.ts";
import type { CardReward, Redemption, Voucher, WalletCard } from "./types.ts";

type Load =
  | { state: "loading" }
  | { state: "no-token" }
  | { state: "invalid" }
  /** The member deleted this card (here, or on another phone with the same link). */
  | { state: "erased" }
  | { state: "error"; error: unknown }
  /** A card link of another member than the card stored: the member chooses. */
  | { state: "ask"; link: WalletCard; linkToken: string; stored: WalletCard | null }
  | { state: "ready"; card: WalletCard; offline: boolean; checking?: boolean };

/**
 * How long the card may take before the phone shows the copy it keeps: at the counter, on a
 * connection that connects but carries nothing, a spinner is no answer.
 */
const CARD_TIMEOUT_MS = 8000;

/** Header the service worker sets on a card it answers from its cache (the phone is offline). */
const FROM_CACHE = "x-regulars-from-cache";

async function fetchCard(slug: string, token: string): Promise<{ card: WalletCard; offline: boolean }> {
  let response: Response;
  try {
    response = await fetch(`/v1/wallet/card?business=${encodeURIComponent(slug)}`, {
      headers: { accept: "application/json", authorization: `Bearer ${token}` },
      credentials: "omit",
      signal: AbortSignal.timeout(CARD_TIMEOUT_MS),
    });
  } catch {
    throw new ApiError(0, "network_error", "The server could not be reached.");
  }
  const body = (await response.json().catch(() => undefined)) as
    | (WalletCard & { error?: { code: string; message: string } })
    | undefined;
  if (!response.ok || !body) {
    throw new ApiError(response.status, body?.error?.code ?? "http_error", body?.error?.message ?? "");
  }
  return { card: body, offline: response.headers.get(FROM_CACHE) === "1" };
}

/** The first view: the copy this phone keeps, with its token, unless a card link is being opened. */
function firstView(slug: string): { load: Load; token: string | null } {
  const opening = location.hash.includes("t=") || linkToken(slug) !== null;
  const token = opening ? null : cardToken(slug);
  const cached = token ? cachedCard(slug) : null;
  return cached
    ? { load: { state: "ready", card: cached, offline: false, checking: true }, token }
    : { load: { state: "loading" }, token: null };
}

/** The server's answer for a token: the card, "refused" (401), or the failure. */
async function readCard(
  slug: string,
  token: string,
): Promise<{ card: WalletCard; offline: boolean } | "refused" | { error: unknown }> {
  try {
    return await fetchCard(slug, token);
  } catch (error) {
    // A deleted card's link opens nothing either.
    return (error instanceof ApiError && error.status === 401) || cardErased(error) ? "refused" : { error };
  }
}

export function CardPage({ slug }: { slug: string }) {
  const { t, locale, setLocale, chosen } = useT();
  // The copy this phone keeps shows at once, marked as being updated, while the card is read; not
  // when the address brings a card link, which may be another member's.
  const [first] = useState(() => firstView(slug));
  const [load, setLoad] = useState<Load>(first.load);
  const [justJoined] = useState(() => sessionStorage.getItem(JUST_JOINED) === slug);
  // The token of the card shown: in state, so that nothing is shown or sent without it.
  const [token, setToken] = useState<string | null>(first.token);
  /** A card link was opened that does not work: the card kept on the phone is shown, unchanged. */
  const [linkRefused, setLinkRefused] = useState(false);
  /** The card was deleted: that stays on screen, whatever a refresh would find on the phone now. */
  const erased = useRef(false);

  const showErased = useCallback(() => {
    erased.current = true;
    void forgetCardEverywhere(slug);
    setToken(null);
    setLinkRefused(false);
    setLoad({ state: "erased" });
  }, [slug]);

  const adopt = useCallback(
    (card: WalletCard, link: string) => {
      saveCardToken(slug, link);
      saveCachedCard(slug, card, link);
      dropLinkToken(slug);
      setLinkRefused(false);
      setToken(link);
      setLoad({ state: "ready", card, offline: false });
    },
    [slug],
  );

  const refresh = useCallback(async (): Promise<void> => {
    if (erased.current) return;
    const link = linkToken(slug);
    const current = cardToken(slug);
    if (link && link === current) dropLinkToken(slug);
    else if (link) {
      // A card link: the stored card stays until the link's card is proven, and another member's
      // card replaces it only when the member says so.
      const linkRead = await readCard(slug, link);
      if (linkRead !== "refused" && ("error" in linkRead || linkRead.offline)) {
        // No answer (the phone's kept copy proves nothing): the link waits for a retry.
        setToken(null);
        const unreachable = new ApiError(0, "network_error", "The server could not be reached.");
        setLoad({ state: "error", error: "error" in linkRead ? linkRead.error : unreachable });
        return;
      }
      const storedRead = current && linkRead !== "refused" ? await readCard(slug, current) : null;
      const stored =
        storedRead === null || storedRead === "refused"
          ? storedRead
          : "error" in storedRead
            ? (cachedCard(slug) ?? "unknown")
            : storedRead.card;
      const outcome = linkOutcome(slug, linkRead === "refused" ? "refused" : linkRead.card, stored);
      if (outcome === "adopt" && linkRead !== "refused") return adopt(linkRead.card, link);
      if (outcome === "ask" && linkRead !== "refused") {
        setToken(null);
        setLoad({
          state: "ask",
          link: linkRead.card,
          linkToken: link,
          stored: typeof stored === "object" ? stored : null,
        });
        return;
      }
      dropLinkToken(slug);
      if (!current) {
        setToken(null);
        setLoad({ state: "invalid" });
        return;
      }
      setLinkRefused(true);
    }
    if (!current) {
      setToken(null);
      setLoad({ state: "no-token" });
      return;
    }
    setToken(current);
    try {
      const { card, offline } = await fetchCard(slug, current);
      if (!offline) saveCachedCard(slug, card, current);
      setLoad({ state: "ready", card, offline });
    } catch (error) {
      if (cardErased(error)) return showErased();
      if (error instanceof ApiError && error.status === 401) {
        // Only the token refused: a link accepted in the meantime stays.
        forgetCard(slug, current);
        setLoad({ state: "invalid" });
        return;
      }
      // Unreachable, too slow, or a server in trouble (502 during a restart): the kept copy.
      const cached = cachedCard(slug);
      if (cached) setLoad({ state: "ready", card: cached, offline: true });
      else setLoad((previous) => (previous.state === "ready" ? previous : { state: "error", error }));
    }
  }, [slug, adopt, showErased]);

  useEffect(() => {
    adoptTokenFromAddress(slug);
    sessionStorage.removeItem(JUST_JOINED);
    void refresh();
    const onVisible = () => {
      if (document.visibilityState === "visible") void refresh();
    };
    window.addEventListener("focus", onVisible);
    document.addEventListener("visibilitychange", onVisible);
    window.addEventListener("online", onVisible);
    return () => {
      window.removeEventListener("focus", onVisible);
      document.removeEventListener("visibilitychange", onVisible);
      window.removeEventListener("online", onVisible);
    };
  }, [slug, refresh]);

  // The business's own web app manifest: "Add to home screen" installs this card.
  useEffect(() => {
    const link = document.createElement("link");
    link.rel = "manifest";
    link.href = `/v1/public/businesses/${encodeURIComponent(slug)}/manifest.webmanifest`;
    // iOS reads its home-screen icon from a link of its own.
    const touchIcon = document.createElement("link");
    touchIcon.rel = "apple-touch-icon";
    touchIcon.href = "/v1/public/wallet-icons/192.png";
    document.head.append(link, touchIcon);
    return () => {
      link.remove();
      touchIcon.remove();
    };
  }, [slug]);

  const card = load.state === "ready" ? load.card : null;
  // A member who chose no language speaks the business's (the API's null).
  const memberLocale = card ? (card.member.locale ?? card.business.locale) : null;
  // The member's language follows them from phone to phone, unless they picked one here.
  useEffect(() => {
    if (!card) return;
    const saved = (LOCALES as readonly string[]).includes(memberLocale ?? "")
      ? (memberLocale as Locale)
      : null;
    if (!chosen && saved && saved !== locale) setLocale(saved, { remember: false });
  }, [card, memberLocale, chosen, locale, setLocale]);
  useEffect(() => {
    if (!card || !chosen || load.state !== "ready" || load.offline || memberLocale === locale || !token)
      return;
    api("PATCH", "/v1/wallet/me", { locale }, { token })
      .then(() =>
        setLoad((previous) =>
          previous.state === "ready"
            ? { ...previous, card: { ...previous.card, member: { ...previous.card.member, locale } } }
            : previous,
        ),
      )
      .catch(() => {});
  }, [card, chosen, locale, memberLocale, load, token]);

  useEffect(() => {
    if (card) document.title = card.business.name;
  }, [card]);

  if (load.state === "loading") return <div className="loading" aria-busy="true" />;
  if (load.state === "ask") {
    return (
      <SwitchCard
        link={load.link}
        stored={load.stored}
        onKeep={() => {
          dropLinkToken(slug);
          setLoad({ state: "loading" });
          void refresh();
        }}
        onSwitch={() => adopt(load.link, load.linkToken)}
      />
    );
  }
  if (load.state === "erased") {
    return (
      <>
        <TopBar />
        <main className="phone wallet">
          <CardErased slug={slug} />
        </main>
      </>
    );
  }
  if (load.state !== "ready") {
    return (
      <>
        <TopBar />
        <main className="phone wallet">
          {load.state === "error" ? (
            <ErrorMessage error={load.error} />
          ) : (
            <>
              <h1>
                {load.state === "invalid" ? t("wallet.card.invalid.title") : t("wallet.card.none.title")}
              </h1>
              <p>{load.state === "invalid" ? t("wallet.card.invalid.body") : t("wallet.card.none.body")}</p>
              <Link className="button" href={`/join/${encodeURIComponent(slug)}`}>
                {t("wallet.card.none.join")}
              </Link>
            </>
          )}
        </main>
      </>
    );
  }
  return (
    <CardView
      card={load.card}
      offline={load.offline}
      checking={load.checking === true}
      token={token}
      linkRefused={linkRefused}
      justJoined={justJoined}
      onChange={refresh}
      onErased={showErased}
    />
  );
}

/** Asks before another member's card link replaces the card on this phone; keeping it comes first. */
function SwitchCard({
  link,
  stored,
  onKeep,
  onSwitch,
}: {
  link: WalletCard;
  /** The card on the phone, when it could be read or is kept. */
  stored: WalletCard | null;
  onKeep: () => void;
  onSwitch: () => void;
}) {
  const { t } = useT();
  const keep = useRef<HTMLButtonElement>(null);
  useEffect(() => keep.current?.focus(), []);
  const who = (member: WalletCard["member"]) =>
    member.name ? t("wallet.card.switch.who", { name: member.name, code: member.code }) : member.code;
  return (
    <>
      <TopBar title={link.business.name} />
      <main className="phone wallet stack">
        <h1>{t("wallet.card.switch.title")}</h1>
        <p>
          {stored
            ? t("wallet.card.switch.body", { current: who(stored.member), next: who(link.member) })
            : t("wallet.card.switch.bodyUnknown", { next: who(link.member) })}
        </p>
        <div className="row">
          <button ref={keep} type="button" className="button" onClick={onKeep}>
            {t("wallet.card.switch.keep")}
          </button>
          <button type="button" className="button secondary" onClick={onSwitch}>
            {t("wallet.card.switch.replace")}
          </button>
        </div>
      </main>
    </>
  );
}

function CardView({
  card,
  offline,
  checking,
  token,
  linkRefused,
  justJoined,
  onChange,
  onErased,
}: {
  card: WalletCard;
  offline: boolean;
  /** The kept copy, shown while the card is read. */
  checking: boolean;
  /** The card's token; null while it is not known (nothing is sent or shown then). */
  token: string | null;
  /** A card link opened just now does not work: this card stayed. */
  linkRefused: boolean;
  justJoined: boolean;
  onChange: () => Promise<void>;
  /** The member deleted the card. */
  onErased: () => void;
}) {
  const { t, locale } = useT();
  const { business, member } = card;
  const tz = business.timezone;
  const [shown, setShown] = useState<Voucher | null>(null);
  const active = card.vouchers.filter((v) => v.status === "issued");
  const past = card.vouchers.filter((v) => v.status !== "issued");
  return (
    <>
      <TopBar title={business.name} home={`/card/${encodeURIComponent(business.slug)}`} />
      <main className="phone wallet stack">
        {offline ? (
          <div className="alert warn" role="status">
            {t("wallet.card.offline", { time: formatDateTime(card.updated_at, locale, tz) })}
          </div>
        ) : checking ? (
          <p className="muted" role="status">
            {t("wallet.card.checking", { time: formatDateTime(card.updated_at, locale, tz) })}
          </p>
        ) : null}
        {linkRefused ? (
          <div className="alert warn" role="alert">
            {t("wallet.card.linkRefused")}
          </div>
        ) : null}
        {justJoined ? (
          <div className="alert ok" role="status">
            {t("wallet.card.welcome", { business: business.name })}
          </div>
        ) : null}
        <section className="card wallet-member" aria-labelledby="member-title">
          <h1 id="member-title">
            {member.name ? t("wallet.card.hello", { name: member.name }) : business.name}
          </h1>
          <p className="muted">{t("wallet.card.showAtCounter")}</p>
          <QrCode value={member.code} label={t("wallet.card.qrLabel", { code: member.code })} />
          <p className="wallet-code">
            <span className="visually-hidden">{t("wallet.card.codeLabel")}: </span>
            {member.code}
          </p>
        </section>

        {card.card.stamp_cards.map((stamps) => (
          <StampCard key={stamps.stamp_card_id} stamps={stamps} />
        ))}

        {showsPoints(card) ? <Points card={card} /> : null}
        {card.card.tier ? <Tier card={card} /> : null}

        <Rewards card={card} token={token} offline={offline} onRedeemed={setShown} onChange={onChange} />

        {active.length > 0 ? (
          <section className="card stack" aria-labelledby="vouchers-title">
            <h2 id="vouchers-title">{t("wallet.vouchers.title")}</h2>
            <ul className="wallet-list">
              {active.map((v) => (
                <li key={v.id} className="row">
                  <span className="wallet-grow">
                    <strong>{v.reward.name}</strong>
                    <br />
                    <span className="muted">
                      {t("wallet.vouchers.validUntil", { date: formatDateTime(v.expires_at, locale, tz) })}
                    </span>
                  </span>
                  <button type="button" className="button secondary" onClick={() => setShown(v)}>
                    {t("wallet.vouchers.show")}
                  </button>
                </li>
              ))}
            </ul>
          </section>
        ) : null}

        <History card={card} />

        {past.length > 0 ? (
          <section className="card stack" aria-labelledby="past-vouchers-title">
            <h2 id="past-vouchers-title">{t("wallet.vouchers.pastTitle")}</h2>
            <ul className="wallet-list">
              {past.map((v) => (
                <li key={v.id}>
                  {t("wallet.vouchers.past", {
                    reward: v.reward.name,
                    status: v.status,
                    // The day it was used or cancelled; for an expired one, the day it expired.
                    date: formatDate(v.redeemed_at ?? v.voided_at ?? v.expires_at, locale, tz),
                  })}
                </li>
              ))}
            </ul>
          </section>
        ) : null}

        <Settings card={card} token={token} offline={offline} justJoined={justJoined} onChange={onChange} />
        <MyDetails card={card} token={token} offline={offline} onSaved={onChange} onErased={onErased} />
        <MyData card={card} token={token} offline={offline} onErased={onErased} />
        {shown ? <VoucherDialog voucher={shown} card={card} onClose={() => setShown(null)} /> : null}
      </main>
    </>
  );
}

function StampCard({ stamps }: { stamps: WalletCard["card"]["stamp_cards"][number] }) {
  const { t } = useT();
  const { filled, toGo, fullCards, onNextCard, archived, closed } = stampCardView(stamps);
  return (
    <section
      className={archived ? "card stack card-archived" : "card stack"}
      aria-labelledby={`stamps-${stamps.stamp_card_id}`}
    >
      <h2 id={`stamps-${stamps.stamp_card_id}`}>{stamps.name}</h2>
      <div
        className="stamps wallet-stamps"
        role="img"
        aria-label={t("wallet.stamps.label", { count: filled, total: stamps.stamps_required })}
      >
        {Array.from({ length: stamps.stamps_required }, (_, i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: the stamps are positions on the card
          <span key={i} className={i < filled ? "stamp filled" : "stamp"} aria-hidden="true">
            {i < filled ? "✓" : i + 1}
          </span>
        ))}
      </div>
      <p className="big wallet-count">
        {t("wallet.stamps.count", { count: filled, total: stamps.stamps_required })}
      </p>
      {/* An archived card collects nothing more: never "N more to go"; a full one's reward is ready. */}
      <p>
        {closed
          ? t("wallet.stamps.archived", { count: filled })
          : toGo > 0
            ? t("wallet.stamps.toGo", { count: toGo })
            : t("wallet.stamps.full")}
      </p>
      {fullCards > 1 ? <p className="muted">{t("wallet.stamps.fullCards", { count: fullCards })}</p> : null}
      {/* A full card stays drawn full until it is redeemed; stamps beyond it are not lost. */}
      {onNextCard > 0 ? <p className="muted">{t("wallet.stamps.nextCard", { count: onNextCard })}</p> : null}
      {archived && !closed ? <p className="muted">{t("wallet.stamps.archivedFull")}</p> : null}
    </section>
  );
}

/** How many release times the wallet lists for pending points; the rest are "later". */
const PENDING_LINES_SHOWN = 3;

function Pending({ card }: { card: WalletCard }) {
  const { t, locale } = useT();
  const points = card.card.points;
  const { lines, later } = pendingLines(points, locale, card.business.timezone, PENDING_LINES_SHOWN);
  const [first] = lines;
  // A card kept from before release times were sent: only how many.
  if (!first) return <p className="muted">{t("wallet.points.pending", { count: points.pending })}</p>;
  if (lines.length === 1 && later === 0) {
    return (
      <p className="muted">{t("wallet.points.pendingFrom", { count: points.pending, date: first.date })}</p>
    );
  }
  return (
    <div className="muted wallet-pending">
      <p>{t("wallet.points.pendingSeveral", { count: points.pending })}</p>
      <ul>
        {lines.map((line) => (
          <li key={line.key}>{t("wallet.points.pendingLine", { count: line.points, date: line.date })}</li>
        ))}
        {later > 0 ? <li>{t("wallet.points.pendingLater", { count: later })}</li> : null}
      </ul>
    </div>
  );
}

function Points({ card }: { card: WalletCard }) {
  const { t, locale } = useT();
  const points = card.card.points;
  const cheapest = card.rewards
    .filter((r) => r.cost_points !== null && r.available)
    .sort((a, b) => (b.cost_points ?? 0) - (a.cost_points ?? 0))[0];
  return (
    <section className="card stack" aria-labelledby="points-title">
      <h2 id="points-title">{t("wallet.points.title")}</h2>
      <p className="big wallet-count">{t("wallet.points.available", { count: points.available })}</p>
      {cheapest ? <p>{t("wallet.points.enoughFor", { reward: cheapest.name })}</p> : null}
      {points.pending > 0 ? <Pending card={card} /> : null}
      {points.debt > 0 ? <p className="muted">{t("wallet.points.debt", { count: points.debt })}</p> : null}
      {points.expiring_soon.length > 0 ? (
        <div>
          <h3>{t("wallet.points.expiringTitle")}</h3>
          <ul className="wallet-list">
            {expiryLines(points.expiring_soon, locale, card.business.timezone).map((line) => (
              <li key={line.key}>
                {t(line.time ? "wallet.points.expiringAt" : "wallet.points.expiring", {
                  count: line.points,
                  date: line.date,
                })}
              </li>
            ))}
          </ul>
        </div>
      ) : null}
      {earningLines(t, locale, card.business).map((line) => (
        <p key={line} className="muted">
          {line}
        </p>
      ))}
    </section>
  );
}

/**
 * How a member earns points, as the card tells it under the balance: per amount spent, and per
 * visit from the rules (a gym's "10 points every visit"). A rate of 0 is not told: a program whose
 * points all come from rules would otherwise say "Earn 0 points for every €1.00 you spend".
 *
 * @example earningLines(t, "en", gym) // ["Earn 10 points every visit"]
 */
export function earningLines(
  t: (key: string, values?: Record<string, string | number>) => string,
  locale: string,
  business: WalletCard["business"],
): string[] {
  const points = business.program.points;
  if (!points) return [];
  const lines: string[] = [];
  if (points.earn_points > 0) {
    lines.push(
      t("wallet.program.points", {
        count: points.earn_points,
        amount: formatMoney(points.earn_per_minor, business.currency, locale),
      }),
    );
  }
  // A card kept on the phone from an older server has no per-visit points: nothing to tell.
  const perVisit = (points.earn_per_visit as number | undefined) ?? 0;
  if (perVisit > 0) lines.push(t("wallet.program.pointsPerVisit", { count: perVisit }));
  return lines;
}

function Tier({ card }: { card: WalletCard }) {
  const { t, locale } = useT();
  const tier = card.card.tier;
  if (!tier) return null;
  const next = tier.next;
  const percent =
    next && next.threshold > 0 ? Math.min(100, Math.round((tier.metric_value / next.threshold) * 100)) : 100;
  const remaining = next
    ? tier.metric === "spend"
      ? t("wallet.tier.toNextSpend", {
          amount: formatMoney(next.remaining, card.business.currency, locale),
          tier: next.name,
        })
      : tier.metric === "visits"
        ? t("wallet.tier.toNextVisits", { count: next.remaining, tier: next.name })
        : t("wallet.tier.toNextPoints", { count: next.remaining, tier: next.name })
    : t("wallet.tier.top");
  const until = tier.expires_at ? formatUntil(tier.expires_at, locale, card.business.timezone) : null;
  return (
    <section className="card stack" aria-labelledby="tier-title">
      <h2 id="tier-title">{t("wallet.tier.title")}</h2>
      <p className="big wallet-count">{tier.current ? tier.current.name : t("wallet.tier.none")}</p>
      {next ? (
        <div
          className="progress"
          role="progressbar"
          aria-label={t("wallet.tier.progress", { tier: next.name })}
          aria-valuemin={0}
          aria-valuemax={100}
          aria-valuenow={percent}
        >
          <div style={{ width: `${percent}%` }} />
        </div>
      ) : null}
      <p>{remaining}</p>
      {tier.current && until ? (
        <p className="muted">
          {t(until.time ? "wallet.tier.untilTime" : "wallet.tier.until", { date: until.date })}
        </p>
      ) : null}
      {tier.metric === "visits" ? null : (
        <p className="muted">
          {tier.metric === "spend"
            ? t("wallet.tier.metricSpend", {
                amount: formatMoney(tier.metric_value, card.business.currency, locale),
              })
            : t("wallet.tier.metricPoints", { count: tier.metric_value })}
        </p>
      )}
    </section>
  );
}

function availability(
  t: (key: string, values?: Record<string, string | number>) => string,
  reward: CardReward,
  levels: { id: string; name: string }[],
  archivedCards: ReadonlySet<string>,
) {
  if (reward.available) return t("wallet.rewards.ready");
  if (reward.blocked === "tier") {
    // Name the tiers it is for: "a higher level" misleads a Gold member about a Bronze-only reward.
    const names = levels.filter((l) => reward.eligible_tier_ids.includes(l.id)).map((l) => l.name);
    return names.length > 0
      ? t("wallet.rewards.tierNamed", { tiers: names.join(", ") })
      : t("wallet.rewards.tierOnly");
  }
  if (reward.blocked === "limit") return t("wallet.rewards.limit");
  if (reward.missing_stamps > 0) {
    // No more stamps can be earned on an archived card: never "N more stamps to go".
    return reward.stamp_card_id !== null && archivedCards.has(reward.stamp_card_id)
      ? t("wallet.rewards.cardArchived")
      : t("wallet.rewards.stampsToGo", { count: reward.missing_stamps });
  }
  return t("wallet.rewards.pointsToGo", { count: reward.missing_points });
}

function Rewards({
  card,
  token,
  offline,
  onRedeemed,
  onChange,
}: {
  card: WalletCard;
  token: string | null;
  offline: boolean;
  onRedeemed: (voucher: Voucher) => void;
  onChange: () => Promise<void>;
}) {
  const { t, locale } = useT();
  const [confirming, setConfirming] = useState<CardReward | null>(null);
  // Kept across dialogs: a redemption whose answer was lost, confirmed again after a Cancel,
  // repeats itself rather than issuing a second voucher.
  const pressKeys = useRef(new PressKeys());
  const rewards = shownRewards(card);
  if (rewards.length === 0) return null;
  const archivedCards = new Set(card.card.stamp_cards.filter((c) => c.archived).map((c) => c.stamp_card_id));
  return (
    <section className="card stack" aria-labelledby="rewards-title">
      <h2 id="rewards-title">{t("wallet.rewards.title")}</h2>
      <ul className="wallet-list">
        {rewards.map((reward) => {
          const value = rewardValue(t, locale, card.business.currency, reward);
          return (
            <li key={reward.id} className="wallet-reward">
              <div className="wallet-grow">
                <strong>{reward.name}</strong>
                {value && value !== reward.name ? <span className="muted"> — {value}</span> : null}
                {reward.description ? <p className="muted">{reward.description}</p> : null}
                <p className="wallet-small">
                  {rewardCost(t, card.business, reward, card.card.stamp_cards)} ·{" "}
                  <span className={reward.available ? "wallet-ready" : ""}>
                    {availability(t, reward, card.business.program.tiers?.levels ?? [], archivedCards)}
                  </span>
                </p>
              </div>
              {reward.available ? (
                <button
                  type="button"
                  className="button"
                  disabled={offline || !token}
                  onClick={() => setConfirming(reward)}
                  aria-label={t("wallet.rewards.redeemNamed", { reward: reward.name })}
                >
                  {t("wallet.rewards.redeem")}
                </button>
              ) : null}
            </li>
          );
        })}
      </ul>
      {confirming && token ? (
        <ConfirmRedeem
          reward={confirming}
          card={card}
          token={token}
          keys={pressKeys.current}
          onClose={() => setConfirming(null)}
          onFailed={() => void onChange()}
          onDone={(voucher) => {
            setConfirming(null);
            onRedeemed(voucher);
            void onChange();
          }}
        />
      ) : null}
    </section>
  );
}

/** A modal `<dialog>`: focus moves in, Escape closes, the page behind is inert. */
function Modal({
  labelledBy,
  onClose,
  children,
}: {
  labelledBy: string;
  onClose: () => void;
  children: React.ReactNode;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
    // No close() on cleanup: removing the element takes it out of the top layer, while close()
    // would fire "close" and close the next dialog too when React runs the effect again
    // (StrictMode in development does, on purpose).
  }, []);
  return (
    <dialog ref={ref} className="wallet-dialog" aria-labelledby={labelledBy} onClose={onClose}>
      {children}
    </dialog>
  );
}

function ConfirmRedeem({
  reward,
  card,
  token,
  keys,
  onClose,
  onFailed,
  onDone,
}: {
  reward: CardReward;
  card: WalletCard;
  token: string;
  keys: PressKeys;
  onClose: () => void;
  /** The card may have moved (spent elsewhere, or a voucher issued whose answer was lost): read it again. */
  onFailed: () => void;
  onDone: (voucher: Voucher) => void;
}) {
  const { t } = useT();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  async function redeem() {
    setBusy(true);
    setError(null);
    // One key per redemption until it has a definite answer: a retry after a lost answer, in this
    // dialog or a new one, gets the same voucher back.
    const press = `reward:${reward.id}`;
    try {
      const result = await api<Redemption>(
        "POST",
        "/v1/wallet/redemptions",
        { reward_id: reward.id },
        { token, idempotencyKey: keys.for(press) },
      );
      keys.settle(press);
      onDone(result.voucher);
    } catch (e) {
      keys.settle(press, e);
      setError(e);
      onFailed();
    } finally {
      setBusy(false);
    }
  }
  return (
    <Modal labelledBy="confirm-title" onClose={onClose}>
      <h2 id="confirm-title">{t("wallet.rewards.confirmTitle", { reward: reward.name })}</h2>
      <p>
        {t("wallet.rewards.confirmBody", {
          cost: rewardCost(t, card.business, reward, card.card.stamp_cards),
          days: reward.voucher_valid_days,
        })}
      </p>
      <ErrorMessage error={error} known={WALLET_PROBLEMS} />
      <div className="row">
        <button type="button" className="button" onClick={redeem} disabled={busy}>
          {busy ? t("wallet.rewards.redeeming") : t("wallet.rewards.confirm")}
        </button>
        <button type="button" className="button secondary" onClick={onClose}>
          {t("common.cancel")}
        </button>
      </div>
    </Modal>
  );
}

function VoucherDialog({
  voucher,
  card,
  onClose,
}: {
  voucher: Voucher;
  card: WalletCard;
  onClose: () => void;
}) {
  const { t, locale } = useT();
  return (
    <Modal labelledBy="voucher-title" onClose={onClose}>
      <div className="stack wallet-voucher">
        <h2 id="voucher-title">{voucher.reward.name}</h2>
        <p>{t("wallet.vouchers.showAtCounter")}</p>
        <QrCode
          value={voucher.code}
          label={t("wallet.vouchers.qrLabel", { code: voucher.code })}
          size={240}
        />
        <p className="wallet-code">
          <span className="visually-hidden">{t("wallet.vouchers.codeLabel")}: </span>
          {voucher.code}
        </p>
        <p className="muted">
          {t("wallet.vouchers.validUntil", {
            date: formatDateTime(voucher.expires_at, locale, card.business.timezone),
          })}
        </p>
        <button type="button" className="button block" onClick={onClose}>
          {t("common.close")}
        </button>
      </div>
    </Modal>
  );
}

function partText(
  t: (key: string, values?: Record<string, string | number>) => string,
  part: HistoryPart,
  card: WalletCard,
): string {
  const name =
    part.stampCardId === null
      ? ""
      : (card.business.program.stamp_cards.find((c) => c.id === part.stampCardId)?.name ??
        card.card.stamp_cards.find((c) => c.stamp_card_id === part.stampCardId)?.name ??
        "");
  return t(`wallet.history.${part.message}`, { count: part.count, card: name });
}

function History({ card }: { card: WalletCard }) {
  const { t, locale } = useT();
  return (
    <section className="card stack" aria-labelledby="history-title">
      <h2 id="history-title">{t("wallet.history.title")}</h2>
      {card.history.length === 0 ? (
        <p className="muted">{t("wallet.history.empty")}</p>
      ) : (
        <ul className="wallet-list">
          {groupHistory(card.history, card.business.timezone).map((lines) => (
            <li key={`${lines[0]?.type}-${lines[0]?.id}`} className="row">
              <span className="wallet-grow">
                {lineParts(lines)
                  .map((part) => partText(t, part, card))
                  .join(" · ")}
              </span>
              <span className="muted wallet-small">
                {formatDate(lines[0]?.occurred_at ?? card.updated_at, locale, card.business.timezone)}
              </span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function Settings({
  card,
  token,
  offline,
  justJoined,
  onChange,
}: {
  card: WalletCard;
  token: string | null;
  offline: boolean;
  justJoined: boolean;
  onChange: () => Promise<void>;
}) {
  const { t, locale } = useT();
  const [error, setError] = useState<unknown>(null);
  const [copied, setCopied] = useState(false);
  // Never a link without its token: it is shown once the token is known.
  const link = token ? cardLink(card.business.slug, token) : null;
  async function setConsent(value: boolean) {
    if (!token) return;
    setError(null);
    try {
      await api("PATCH", "/v1/wallet/me", { marketing_consent: value }, { token });
      await onChange();
    } catch (e) {
      setError(e);
    }
  }
  async function copy() {
    if (!link) return;
    try {
      await navigator.clipboard.writeText(link);
      setCopied(true);
    } catch {
      setCopied(false);
    }
  }
  return (
    <section className="card stack" aria-labelledby="settings-title">
      <h2 id="settings-title">{t("wallet.settings.title")}</h2>
      {link ? (
        <details open={justJoined}>
          <summary>{t("wallet.link.title")}</summary>
          <p>{t("wallet.link.body")}</p>
          <p className="wallet-link">
            <a href={link}>{link}</a>
          </p>
          <button type="button" className="button secondary" onClick={copy}>
            {copied ? t("wallet.link.copied") : t("wallet.link.copy")}
          </button>
        </details>
      ) : null}
      <label className="check">
        <input
          type="checkbox"
          checked={card.member.marketing_consent}
          disabled={offline || !token}
          onChange={(e) => void setConsent(e.target.checked)}
        />
        {t("wallet.settings.consent", { business: card.business.name })}
      </label>
      <ErrorMessage error={error} />
      <p className="muted wallet-small">
        {t("wallet.settings.memberSince", {
          date: formatDate(card.member.joined_at, locale, card.business.timezone),
        })}
      </p>
    </section>
  );
}

/** The refusals a member can meet when redeeming, told in the member's language. */
const WALLET_PROBLEMS: KnownProblems = {
  prefix: "wallet.problem",
  codes: new Set([
    "insufficient_points",
    "insufficient_stamps",
    "reward_out_of_stock",
    "reward_limit_reached",
    "reward_inactive",
    "reward_not_eligible",
    "rate_limited",
  ]),
};
