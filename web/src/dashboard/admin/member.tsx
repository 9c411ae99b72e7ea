import { type FormEvent, useEffect, useId, useState } from "react";
import { ApiError, api, newKey } from "../../api.ts";
import {
  expiryLines,
  formatDate,
  formatDateTime,
  formatMoney,
  formatNumber,
  formatUntil,
  pendingLines,
} from "../../i18n/format.ts";
import { LOCALE_NAMES, LOCALES, useT } from "../../i18n/index.tsx";
import { reasonText } from "../../i18n/reason.ts";
import { Link } from "../../router.tsx";
import { CardLink } from "../../ui/card-link.tsx";
import { ErrorMessage, Field } from "../../ui/components.tsx";
import { stampCardView } from "../../ui/stamps.ts";
import { useSession } from "../session.tsx";
import { explain, FormError, mayListStaff, type Page, phoneHint, roleAtLeast, useLoad } from "./shared.tsx";
import type { HistoryItem, Member, MemberCard, Reward, StaffMember, TierChange, Voucher } from "./types.ts";

/** One member: balances, stamps, tier, vouchers, history that says why, details and corrections. */
export function MemberPage({ id }: { id: string }) {
  const { t, locale } = useT();
  const { business, staff } = useSession();
  const member = useLoad((signal) => api<Member>("GET", `/v1/members/${id}`, undefined, { signal }), [id]);
  const card = useLoad(
    (signal) => api<MemberCard>("GET", `/v1/members/${id}/card`, undefined, { signal }),
    [id],
  );
  const [historyVersion, setHistoryVersion] = useState(0);
  const refresh = () => {
    card.reload();
    setHistoryVersion((n) => n + 1);
  };

  if (member.error) {
    // An id that is not one of this business's members (or no id at all) is "not found".
    const missing =
      member.error instanceof ApiError && (member.error.status === 404 || member.error.status === 400);
    return (
      <div className="admin-page">
        <p>
          <Link href="/app/members">{t("admin.member.back")}</Link>
        </p>
        {missing ? (
          <>
            <h1>{t("admin.member.notFound")}</h1>
            <p>{t("admin.error.member_not_found")}</p>
          </>
        ) : (
          <ErrorMessage error={member.error} />
        )}
      </div>
    );
  }
  if (!member.data) return <div className="loading" aria-busy="true" />;
  const m = member.data;
  return (
    <div className="admin-page">
      <p>
        <Link href="/app/members">{t("admin.member.back")}</Link>
      </p>
      <div className="row admin-head">
        <h1>{m.name ?? t("admin.member.noName")}</h1>
        {card.data?.tier?.current ? <span className="badge">{card.data.tier.current.name}</span> : null}
      </div>
      <p className="muted">
        {t("admin.member.summary", {
          code: m.code,
          joined: formatDate(m.joined_at, locale, business.timezone),
        })}
      </p>
      <ErrorMessage error={card.error} />
      {/* Busy until the card is read: the correction form comes with it. */}
      {card.data ? (
        <Balances card={card.data} />
      ) : card.error ? null : (
        <p className="muted" aria-busy="true">
          {t("common.loading")}
        </p>
      )}
      <div className="admin-columns">
        <div>
          <Vouchers memberId={id} version={historyVersion} />
          <AvailableRewards memberId={id} version={historyVersion} />
          {roleAtLeast(staff.role, "manager") && card.data ? (
            <Adjustment memberId={id} card={card.data} onDone={refresh} />
          ) : null}
        </div>
        <div>
          {m.erased_at ? (
            <p className="alert ok" role="status">
              {t("admin.privacy.erased", { date: formatDate(m.erased_at, locale, business.timezone) })}
            </p>
          ) : (
            <>
              <EditMember member={m} onSaved={member.reload} />
              <CardLink memberId={m.id} />
            </>
          )}
          {roleAtLeast(staff.role, "manager") ? <PersonalData member={m} onErased={member.reload} /> : null}
        </div>
      </div>
      <History memberId={id} version={historyVersion} cards={card.data?.stamp_cards ?? []} />
      <TierChanges memberId={id} version={historyVersion} hasTiers={Boolean(card.data?.tier)} />
    </div>
  );
}

function Balances({ card }: { card: MemberCard }) {
  const { t, locale } = useT();
  const { business } = useSession();
  const points = card.points;
  // Every release time the card lists (at most ten), and what is released after them.
  const pending = pendingLines(points, locale, business.timezone, points.pending_until?.length ?? 0);
  return (
    <section className="grid" aria-label={t("admin.member.balances")}>
      <div className="card">
        <h2>{t("admin.member.points")}</h2>
        <p className="big" data-testid="points-available">
          {t("admin.member.pointsAvailable", { count: points.available })}
        </p>
        <p>{t("admin.member.pointsPending", { count: points.pending })}</p>
        {pending.lines.length > 0 ? (
          <ul>
            {pending.lines.map((line) => (
              <li key={line.key}>{t("admin.member.pendingFrom", { count: line.points, date: line.date })}</li>
            ))}
            {pending.later > 0 ? <li>{t("admin.member.pendingLater", { count: pending.later })}</li> : null}
          </ul>
        ) : null}
        {points.debt > 0 ? (
          <p className="alert warn">{t("admin.member.pointsDebt", { count: points.debt })}</p>
        ) : null}
        {points.expiring_soon.length > 0 ? (
          <>
            <h3>{t("admin.member.expiringSoon")}</h3>
            <ul>
              {expiryLines(points.expiring_soon, locale, business.timezone).map((line) => (
                <li key={line.key}>
                  {t(line.time ? "admin.member.expiresAt" : "admin.member.expiresOn", {
                    count: line.points,
                    date: line.date,
                  })}
                </li>
              ))}
            </ul>
          </>
        ) : (
          <p className="muted">{t("admin.member.nothingExpiring")}</p>
        )}
      </div>
      {card.stamp_cards.map((stampCard) => {
        // Drawn as the member sees it in the wallet: a full card stays full until it is redeemed.
        const view = stampCardView(stampCard);
        return (
          <div className={view.archived ? "card card-archived" : "card"} key={stampCard.stamp_card_id}>
            <h2>
              {stampCard.name}
              {view.archived ? (
                <>
                  {" "}
                  <span className="badge archived">{t("admin.member.archived")}</span>
                </>
              ) : null}
            </h2>
            <ol
              className="stamps"
              aria-label={t("admin.member.stampsOnCard", {
                count: view.filled,
                required: stampCard.stamps_required,
              })}
            >
              {Array.from({ length: stampCard.stamps_required }, (_, i) => (
                // biome-ignore lint/suspicious/noArrayIndexKey: the stamps of a card are positions
                <li key={i} className={i < view.filled ? "stamp filled" : "stamp"} />
              ))}
            </ol>
            <p>
              {view.full
                ? t("admin.member.rewardReady", { count: view.fullCards })
                : view.closed
                  ? t("admin.member.archivedStamps", { count: view.filled })
                  : t("admin.member.stampsToGo", { count: view.toGo })}
            </p>
            {view.onNextCard > 0 ? (
              <p className="muted">{t("admin.member.nextCard", { count: view.onNextCard })}</p>
            ) : null}
          </div>
        );
      })}
      {card.tier ? <TierProgress tier={card.tier} /> : null}
    </section>
  );
}

function TierProgress({ tier }: { tier: NonNullable<MemberCard["tier"]> }) {
  const { t, locale } = useT();
  const { business } = useSession();
  const amount = (value: number) =>
    tier.metric === "spend" ? formatMoney(value, business.currency, locale) : formatNumber(value, locale);
  const next = tier.next;
  const percent =
    next && next.threshold > 0 ? Math.min(100, Math.round((tier.metric_value / next.threshold) * 100)) : 100;
  const until = tier.expires_at ? formatUntil(tier.expires_at, locale, business.timezone) : null;
  return (
    <div className="card">
      <h2>{t("admin.member.tier")}</h2>
      <p className="big">{tier.current?.name ?? t("admin.members.noTier")}</p>
      {until ? (
        <p className="muted">
          {t(until.time ? "admin.member.tierUntilTime" : "admin.member.tierUntil", { date: until.date })}
        </p>
      ) : null}
      {next ? (
        <>
          <div
            className="progress"
            role="progressbar"
            aria-valuemin={0}
            aria-valuemax={100}
            aria-valuenow={percent}
            aria-label={t("admin.member.tierProgress", { tier: next.name })}
          >
            <div style={{ width: `${percent}%` }} />
          </div>
          <p>
            {t(`admin.member.tierRemaining.${tier.metric}`, {
              amount: amount(next.remaining),
              count: next.remaining,
              tier: next.name,
            })}
          </p>
        </>
      ) : (
        <p className="muted">{t("admin.member.tierTop")}</p>
      )}
    </div>
  );
}

function Vouchers({ memberId, version }: { memberId: string; version: number }) {
  const { t, locale } = useT();
  const headingId = useId();
  const { business } = useSession();
  const vouchers = useLoad(
    (signal) => api<Page<Voucher>>("GET", `/v1/members/${memberId}/vouchers?limit=50`, undefined, { signal }),
    [memberId, version],
  );
  return (
    <section className="card" aria-labelledby={headingId}>
      <h2 id={headingId}>{t("admin.member.vouchers")}</h2>
      <ErrorMessage error={vouchers.error} />
      {vouchers.data && vouchers.data.data.length === 0 ? (
        <p className="muted">{t("admin.member.noVouchers")}</p>
      ) : null}
      <ul className="admin-list">
        {vouchers.data?.data.map((voucher) => (
          <li key={voucher.id}>
            <strong>{voucher.reward.name}</strong>{" "}
            <span className="badge">{t(`admin.voucher.${voucher.status}`)}</span>
            <div className="muted">
              {voucher.code} ·{" "}
              {voucher.status === "redeemed" && voucher.redeemed_at
                ? t("admin.voucher.redeemedOn", {
                    date: formatDate(voucher.redeemed_at, locale, business.timezone),
                  })
                : voucher.status === "voided"
                  ? t("admin.voucher.voidedWhy", { reason: voucher.void_reason ?? "" })
                  : t("admin.voucher.expiresOn", {
                      date: formatDateTime(voucher.expires_at, locale, business.timezone),
                    })}
            </div>
          </li>
        ))}
      </ul>
    </section>
  );
}

function AvailableRewards({ memberId, version }: { memberId: string; version: number }) {
  const { t } = useT();
  const headingId = useId();
  const rewards = useLoad(
    (signal) =>
      api<{ data: Reward[] }>("GET", `/v1/members/${memberId}/available-rewards`, undefined, { signal }),
    [memberId, version],
  );
  return (
    <section className="card" aria-labelledby={headingId}>
      <h2 id={headingId}>{t("admin.member.availableRewards")}</h2>
      <ErrorMessage error={rewards.error} />
      {rewards.data && rewards.data.data.length === 0 ? (
        <p className="muted">{t("admin.member.noRewards")}</p>
      ) : null}
      <ul className="admin-list">
        {rewards.data?.data.map((reward) => (
          <li key={reward.id}>
            {reward.name}{" "}
            <span className="muted">
              {reward.cost_points !== null
                ? t("admin.member.costPoints", { count: reward.cost_points })
                : t("admin.member.costCard")}
            </span>
          </li>
        ))}
      </ul>
    </section>
  );
}

/** Who made an entry, in words: a staff member by name when the viewer may see staff, else the kind. */
function useActorName(): (actor: string) => string {
  const { t } = useT();
  const { staff } = useSession();
  const team = useLoad(
    (signal) =>
      mayListStaff(staff.role)
        ? api<Page<StaffMember>>("GET", "/v1/staff?limit=200", undefined, { signal })
        : Promise.resolve({ data: [], next_cursor: null }),
    [staff.role],
  );
  return (actor) => {
    const [kind = "", id = ""] = actor.split(":");
    if (kind === "staff") {
      const name = id === staff.id ? staff.name : team.data?.data.find((s) => s.id === id)?.name;
      return name ? t("admin.actor.staffNamed", { name }) : t("admin.actor.staff");
    }
    if (kind === "api_key") return t("admin.actor.apiKey");
    if (kind === "member") return t("admin.actor.member");
    if (kind === "system") return t("admin.actor.system");
    return actor;
  };
}

function History({
  memberId,
  version,
  cards,
}: {
  memberId: string;
  version: number;
  cards: MemberCard["stamp_cards"];
}) {
  const { t, locale } = useT();
  const { business } = useSession();
  const actorName = useActorName();
  const { first, items, cursor, more, moreError } = usePages<HistoryItem>(
    `/v1/members/${memberId}/history`,
    version,
  );
  const cardName = (id: string | null) => cards.find((c) => c.stamp_card_id === id)?.name ?? "";
  return (
    <section className="card" aria-labelledby="admin-history">
      <h2 id="admin-history">{t("admin.history.title")}</h2>
      <ErrorMessage error={first.error} />
      {first.data && items.length === 0 ? <p className="muted">{t("admin.history.empty")}</p> : null}
      {items.length > 0 ? (
        <div className="admin-table admin-stack">
          <table>
            <thead>
              <tr>
                <th scope="col">{t("admin.history.when")}</th>
                <th scope="col">{t("admin.history.change")}</th>
                <th scope="col">{t("admin.history.why")}</th>
                <th scope="col">{t("admin.history.who")}</th>
              </tr>
            </thead>
            <tbody>
              {items.map((item) => (
                <tr key={item.id}>
                  <td data-label={t("admin.history.when")}>
                    {formatDateTime(item.occurred_at, locale, business.timezone)}
                  </td>
                  <td
                    data-label={t("admin.history.change")}
                    className={Number(item.points ?? item.stamps) < 0 ? "admin-minus" : "admin-plus"}
                  >
                    {item.type === "points"
                      ? t("admin.history.points", { count: item.points ?? 0 })
                      : t("admin.history.stamps", {
                          count: item.stamps ?? 0,
                          card: cardName(item.stamp_card_id),
                        })}
                  </td>
                  <td data-label={t("admin.history.why")}>
                    <div>{reasonText(t, locale, item)}</div>
                    <div className="muted">
                      {t("admin.history.kind", { kind: item.kind })} ·{" "}
                      {t("admin.history.source", { source: item.source_type })}
                    </div>
                  </td>
                  <td data-label={t("admin.history.who")}>{actorName(item.actor)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <ErrorMessage error={moreError} />
      {cursor ? (
        <button type="button" className="button secondary" onClick={more}>
          {t("admin.history.more")}
        </button>
      ) : null}
    </section>
  );
}

/**
 * Every change of the member's tier, latest first: when, from which tier to which, and why, in the
 * reader's language ("Gold taken back: the refund of purchase till-1-0042 leaves €380.00 spent…").
 * Shown when the program has tiers, or when the member's tier ever changed (tiers since removed).
 */
function TierChanges({
  memberId,
  version,
  hasTiers,
}: {
  memberId: string;
  version: number;
  hasTiers: boolean;
}) {
  const { t, locale } = useT();
  const { business } = useSession();
  const headingId = useId();
  const { first, items, cursor, more, moreError } = usePages<TierChange>(
    `/v1/members/${memberId}/tier-changes`,
    version,
  );
  if (!hasTiers && items.length === 0) return null;
  const tierName = (tier: TierChange["from_tier"]) => tier?.name ?? t("admin.members.noTier");
  return (
    <section className="card" aria-labelledby={headingId}>
      <h2 id={headingId}>{t("admin.tierChanges.title")}</h2>
      <ErrorMessage error={first.error} />
      {first.data && items.length === 0 ? <p className="muted">{t("admin.tierChanges.empty")}</p> : null}
      {items.length > 0 ? (
        <div className="admin-table admin-stack">
          <table>
            <thead>
              <tr>
                <th scope="col">{t("admin.tierChanges.when")}</th>
                <th scope="col">{t("admin.tierChanges.change")}</th>
                <th scope="col">{t("admin.tierChanges.why")}</th>
              </tr>
            </thead>
            <tbody>
              {items.map((change) => (
                <tr key={change.id}>
                  <td data-label={t("admin.tierChanges.when")}>
                    {formatDateTime(change.created_at, locale, business.timezone)}
                  </td>
                  <td data-label={t("admin.tierChanges.change")}>
                    {t("admin.tierChanges.move", {
                      from: tierName(change.from_tier),
                      to: tierName(change.to_tier),
                    })}
                  </td>
                  <td data-label={t("admin.tierChanges.why")}>{reasonText(t, locale, change)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <ErrorMessage error={moreError} />
      {cursor ? (
        <button type="button" className="button secondary" onClick={more}>
          {t("admin.tierChanges.more")}
        </button>
      ) : null}
    </section>
  );
}

/**
 * A list read 25 at a time, latest first: its first page (again when `version` changes) and
 * "show older" after it.
 */
function usePages<T>(path: string, version: number) {
  const [extra, setExtra] = useState<T[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [moreError, setMoreError] = useState<unknown>(null);
  const first = useLoad(
    (signal) =>
      api<Page<T>>("GET", `${path}?limit=25`, undefined, { signal }).then((page) => {
        setExtra([]);
        setCursor(page.next_cursor);
        return page;
      }),
    [path, version],
  );
  async function more() {
    if (!cursor) return;
    try {
      const page = await api<Page<T>>("GET", `${path}?limit=25&cursor=${encodeURIComponent(cursor)}`);
      setExtra((previous) => [...previous, ...page.data]);
      setCursor(page.next_cursor);
      setMoreError(null);
    } catch (error) {
      setMoreError(error);
    }
  }
  return { first, items: [...(first.data?.data ?? []), ...extra], cursor, more, moreError };
}

/** A correction by hand: points or stamps up or down, with the reason that the history will show. */
function Adjustment({ memberId, card, onDone }: { memberId: string; card: MemberCard; onDone(): void }) {
  const { t } = useT();
  const [what, setWhat] = useState("points");
  const [amount, setAmount] = useState("");
  const [reason, setReason] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [key, setKey] = useState(newKey);
  const [local, setLocal] = useState<Record<string, string>>({});
  const problems = explain(error, t);
  const fields = { ...problems.fields, ...local };
  const amountError = fields.points ?? fields.stamps;
  const headingId = useId();
  // A card no longer listed (an archived card whose last stamps were just taken off): points.
  const target = card.stamp_cards.some((c) => c.stamp_card_id === what) ? what : "points";

  async function submit(event: FormEvent) {
    event.preventDefault();
    setDone(null);
    const value = Number(amount);
    const found: Record<string, string> = {};
    if (!/^[-+]?\d+$/.test(amount.trim()) || value === 0) found.points = t("admin.adjust.amountInvalid");
    if (reason.trim().length < 3) found.reason = t("admin.adjust.reasonRequired");
    setLocal(found);
    setError(null);
    if (Object.keys(found).length > 0) return;
    setBusy(true);
    try {
      const body =
        target === "points"
          ? { points: value, reason: reason.trim() }
          : { stamps: value, stamp_card_id: target, reason: reason.trim() };
      await api("POST", `/v1/members/${memberId}/adjustments`, body, { idempotencyKey: key });
      setDone(
        target === "points"
          ? t("admin.history.points", { count: value })
          : t("admin.history.stamps", {
              count: value,
              card: card.stamp_cards.find((c) => c.stamp_card_id === target)?.name ?? "",
            }),
      );
      setAmount("");
      setReason("");
      setKey(newKey());
      onDone();
    } catch (e) {
      setError(e);
      // A refused request changed nothing: the next try is a new operation. After a network
      // error the same key is kept, so a retry cannot count twice.
      if (e instanceof ApiError && e.status >= 400 && e.status < 500) setKey(newKey());
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="card stack" onSubmit={submit} noValidate aria-labelledby={headingId}>
      <h2 id={headingId}>{t("admin.adjust.title")}</h2>
      <p className="muted">{t("admin.adjust.lead")}</p>
      <FormError text={problems.form} />
      {done ? (
        <div className="alert ok" role="status">
          {t("admin.adjust.done", { change: done })}
        </div>
      ) : null}
      {card.stamp_cards.length > 0 ? (
        <Field label={t("admin.adjust.what")}>
          {(p) => (
            <select {...p} value={target} onChange={(e) => setWhat(e.target.value)}>
              <option value="points">{t("admin.member.points")}</option>
              {/* An archived card is listed while the member holds stamps on it, and can be corrected. */}
              {card.stamp_cards.map((c) => (
                <option key={c.stamp_card_id} value={c.stamp_card_id}>
                  {t(c.archived ? "admin.adjust.stampsOnArchived" : "admin.adjust.stampsOn", {
                    card: c.name,
                  })}
                </option>
              ))}
            </select>
          )}
        </Field>
      ) : null}
      <Field label={t("admin.adjust.amount")} hint={t("admin.adjust.amountHint")} error={amountError}>
        {(p) => (
          <input {...p} inputMode="numeric" value={amount} onChange={(e) => setAmount(e.target.value)} />
        )}
      </Field>
      <Field label={t("admin.adjust.reason")} hint={t("admin.adjust.reasonHint")} error={fields.reason}>
        {(p) => (
          <input {...p} required maxLength={500} value={reason} onChange={(e) => setReason(e.target.value)} />
        )}
      </Field>
      <div>
        <button type="submit" className="button" disabled={busy}>
          {t("admin.adjust.submit")}
        </button>
      </div>
    </form>
  );
}

/** The member's details and marketing choice; only changed fields are sent. */
function EditMember({ member, onSaved }: { member: Member; onSaved(): void }) {
  const { t, locale } = useT();
  const { business } = useSession();
  const [form, setForm] = useState(() => formOf(member));
  // The form starts again from the member as now stored after every save (the page reads it
  // again): a later save never writes back what someone else (the member, in the wallet) changed.
  useEffect(() => setForm(formOf(member)), [member]);
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);
  const problems = explain(error, t);
  const headingId = useId();
  const set = (field: keyof typeof form) => (value: string | boolean) => {
    setSaved(false);
    setForm((previous) => ({ ...previous, [field]: value }));
  };

  async function submit(event: FormEvent) {
    event.preventDefault();
    const patch: Record<string, string | boolean | null> = {};
    const text = (value: string) => (value.trim() === "" ? null : value.trim());
    for (const field of ["name", "email", "phone", "birthday", "locale"] as const) {
      if (text(form[field]) !== member[field]) patch[field] = text(form[field]);
    }
    if (form.marketing_consent !== member.marketing_consent) patch.marketing_consent = form.marketing_consent;
    if (Object.keys(patch).length === 0) {
      setSaved(true);
      return;
    }
    setBusy(true);
    try {
      await api("PATCH", `/v1/members/${member.id}`, patch);
      setError(null);
      setSaved(true);
      onSaved();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="card stack" onSubmit={submit} aria-labelledby={headingId}>
      <h2 id={headingId}>{t("admin.member.details")}</h2>
      <FormError text={problems.form} />
      <Field label={t("admin.member.field.name")} error={problems.fields.name}>
        {(p) => (
          <input {...p} value={form.name} maxLength={120} onChange={(e) => set("name")(e.target.value)} />
        )}
      </Field>
      <Field label={t("admin.member.field.email")} error={problems.fields.email}>
        {(p) => (
          <input {...p} type="email" value={form.email} onChange={(e) => set("email")(e.target.value)} />
        )}
      </Field>
      <Field
        label={t("admin.member.field.phone")}
        hint={phoneHint(t, business.timezone)}
        error={problems.fields.phone}
      >
        {(p) => <input {...p} type="tel" value={form.phone} onChange={(e) => set("phone")(e.target.value)} />}
      </Field>
      <Field label={t("admin.member.field.birthday")} error={problems.fields.birthday}>
        {(p) => (
          <input {...p} type="date" value={form.birthday} onChange={(e) => set("birthday")(e.target.value)} />
        )}
      </Field>
      <Field label={t("admin.member.field.language")} error={problems.fields.locale}>
        {(p) => (
          <select {...p} value={form.locale} onChange={(e) => set("locale")(e.target.value)}>
            <option value="">{t("admin.member.field.languageBusiness")}</option>
            {LOCALES.map((l) => (
              <option key={l} value={l} lang={l}>
                {LOCALE_NAMES[l]}
              </option>
            ))}
          </select>
        )}
      </Field>
      <label className="check">
        <input
          type="checkbox"
          checked={form.marketing_consent}
          onChange={(e) => set("marketing_consent")(e.target.checked)}
        />
        {t("admin.member.field.consentCheck")}
      </label>
      {member.consent_updated_at ? (
        <p className="muted">
          {t("admin.member.consentChanged", {
            date: formatDate(member.consent_updated_at, locale, business.timezone),
          })}
        </p>
      ) : null}
      {saved ? (
        <div className="alert ok" role="status">
          {t("common.saved")}
        </div>
      ) : null}
      <div>
        <button type="submit" className="button" disabled={busy}>
          {t("common.save")}
        </button>
      </div>
    </form>
  );
}

/**
 * The member's requests about their data: a download of everything held about them, and the
 * erasure of their personal data (their points, purchases and vouchers stay). Managers and owners.
 */
function PersonalData({ member, onErased }: { member: Member; onErased(): void }) {
  const { t } = useT();
  const [erasing, setErasing] = useState(false);
  const [reason, setReason] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const problems = explain(error, t);
  const headingId = useId();

  async function download() {
    setError(null);
    try {
      const data = await api<unknown>("GET", `/v1/members/${member.id}/export`);
      const url = URL.createObjectURL(
        new Blob([JSON.stringify(data, null, 2)], { type: "application/json" }),
      );
      const link = document.createElement("a");
      link.href = url;
      link.download = `member-${member.code}.json`;
      link.click();
      URL.revokeObjectURL(url);
    } catch (e) {
      setError(e);
    }
  }

  async function erase(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    try {
      await api("POST", `/v1/members/${member.id}/erase`, { reason: reason.trim() });
      setError(null);
      setErasing(false);
      onErased();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="card stack" aria-labelledby={headingId}>
      <h2 id={headingId}>{t("admin.privacy.title")}</h2>
      <p className="muted">{t("admin.privacy.body")}</p>
      <FormError text={problems.form} />
      <div className="row">
        <button type="button" className="button secondary" onClick={() => void download()}>
          {t("admin.privacy.download")}
        </button>
        {member.erased_at || erasing ? null : (
          <button type="button" className="button danger" onClick={() => setErasing(true)}>
            {t("admin.privacy.erase")}
          </button>
        )}
      </div>
      {erasing ? (
        <form className="stack" onSubmit={erase}>
          <p>{t("admin.privacy.warning")}</p>
          <Field label={t("admin.privacy.reason")} error={problems.fields.reason}>
            {(p) => (
              <input {...p} value={reason} maxLength={500} onChange={(e) => setReason(e.target.value)} />
            )}
          </Field>
          <div className="row">
            <button type="submit" className="button danger" disabled={busy || reason.trim().length < 3}>
              {t("admin.privacy.confirm")}
            </button>
            <button type="button" className="button secondary" onClick={() => setErasing(false)}>
              {t("common.cancel")}
            </button>
          </div>
        </form>
      ) : null}
    </section>
  );
}

/** A member's details as the form edits them: text fields as text, empty for none. */
function formOf(member: Member) {
  return {
    name: member.name ?? "",
    email: member.email ?? "",
    phone: member.phone ?? "",
    birthday: member.birthday ?? "",
    locale: member.locale ?? "",
    marketing_consent: member.marketing_consent,
  };
}
