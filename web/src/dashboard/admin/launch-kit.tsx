import { useId, useMemo, useRef, useState } from "react";
import { encode } from "uqr";
import { api, FormKey, outcomeUnknown } from "../../api.ts";
import { formatDate, formatDateTime } from "../../i18n/format.ts";
import {
  LOCALE_NAMES,
  LOCALES,
  type Locale,
  supportedLocale,
  useT,
  useTranslatorFor,
} from "../../i18n/index.tsx";
import { Link } from "../../router.tsx";
import { ErrorMessage, Field } from "../../ui/components.tsx";
import { localOnly } from "../../ui/reachable.ts";
import { useSession } from "../session.tsx";
import { explain, FormError, roleAtLeast, useLoad, useOneAtATime } from "./shared.tsx";

interface LaunchBonus {
  rule_id: string;
  name: string;
  points: number;
  stamps: number;
  stamp_card_id: string | null;
  starts_at: string | null;
  ends_at: string;
}

interface LaunchKit {
  join_url: string;
  locale: Locale;
  headline: string;
  tiers_line: string | null;
  published_at: string | null;
  staff_script: string[];
  launch_bonus: LaunchBonus | null;
}

/** What the launch bonus form needs of the program: points on or off, and the active stamp cards. */
interface BonusOptions {
  points: boolean;
  cards: { id: string; name: string }[];
}

/** The windows a launch bonus can run for, in days from now. */
const BONUS_DAYS = [1, 3, 7, 14, 30] as const;
const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * The launch kit: the join link to share, a poster to print with its QR code, a script for the
 * staff at the counter (printed from the browser), and a launch bonus for the first days.
 */
export function LaunchKitPage() {
  const { t, locale } = useT();
  const { business, staff } = useSession();
  const [posterLocale, setPosterLocale] = useState<Locale>(supportedLocale(business.locale) ?? "en");
  const kit = useLoad(
    (signal) =>
      api<LaunchKit>("GET", `/v1/launch-kit?locale=${encodeURIComponent(posterLocale)}`, undefined, {
        signal,
      }),
    [posterLocale],
  );
  const [copied, setCopied] = useState<"yes" | "no" | null>(null);
  const linkId = useId();

  if (!roleAtLeast(staff.role, "manager")) {
    return (
      <div className="admin-page">
        <h1>{t("admin.kit.title")}</h1>
        <p className="alert warn">{t("admin.kit.managersOnly")}</p>
      </div>
    );
  }

  async function copy(text: string) {
    try {
      await navigator.clipboard.writeText(text);
      setCopied("yes");
    } catch {
      setCopied("no");
    }
  }

  const poster = (size: "a4" | "a5") =>
    `/v1/launch-kit/poster.pdf?size=${size}&locale=${encodeURIComponent(posterLocale)}`;
  const published = kit.data?.published_at ?? business.published_at;

  return (
    <div className="admin-page">
      <h1>{t("admin.kit.title")}</h1>
      <p className="muted">{t("admin.kit.lead")}</p>
      {published ? (
        <p className="alert ok">
          {t("admin.kit.live", { date: formatDate(published, locale, business.timezone) })}
        </p>
      ) : (
        <div className="alert warn">
          <p>{t("admin.kit.notPublished")}</p>
          <Link href="/app/onboarding" className="button secondary">
            {t("admin.kit.toOnboarding")}
          </Link>
        </div>
      )}
      <ErrorMessage error={kit.error} />
      {kit.data ? (
        <>
          <section className="card stack" aria-labelledby={`${linkId}-h`}>
            <h2 id={`${linkId}-h`}>{t("admin.kit.link")}</h2>
            <div className="row">
              <label htmlFor={linkId} className="visually-hidden">
                {t("admin.kit.link")}
              </label>
              <input
                id={linkId}
                className="admin-grow"
                readOnly
                value={kit.data.join_url}
                onFocus={(e) => e.target.select()}
              />
              <button
                type="button"
                className="button secondary"
                onClick={() => copy(kit.data?.join_url ?? "")}
              >
                {t("admin.kit.copy")}
              </button>
            </div>
            {localOnly(kit.data.join_url) ? (
              <p className="alert warn">
                {t("admin.kit.unreachable", { host: new URL(kit.data.join_url).host })}
              </p>
            ) : null}
            <p role="status" className="muted">
              {copied === "yes" ? t("admin.kit.copied") : copied === "no" ? t("admin.kit.copyFailed") : ""}
            </p>
          </section>
          <section className="card stack" aria-labelledby={`${linkId}-p`}>
            <h2 id={`${linkId}-p`}>{t("admin.kit.poster")}</h2>
            <Field label={t("admin.kit.posterLanguage")} hint={t("admin.kit.posterLanguageHint")}>
              {(p) => (
                <select
                  {...p}
                  value={posterLocale}
                  onChange={(e) => setPosterLocale(e.target.value as Locale)}
                >
                  {LOCALES.map((l) => (
                    <option key={l} value={l} lang={l}>
                      {LOCALE_NAMES[l]}
                    </option>
                  ))}
                </select>
              )}
            </Field>
            <figure className="admin-poster" lang={kit.data.locale}>
              <figcaption className="muted">{t("admin.kit.preview")}</figcaption>
              <p className="admin-poster-name">{business.name}</p>
              <p className="admin-poster-headline">{kit.data.headline}</p>
              {kit.data.tiers_line ? <p className="muted">{kit.data.tiers_line}</p> : null}
              <JoinQr url={kit.data.join_url} label={t("admin.kit.qr")} />
              <p className="admin-poster-url">{kit.data.join_url}</p>
            </figure>
            <div className="row">
              <a className="button" href={poster("a4")} download>
                {t("admin.kit.downloadA4")}
              </a>
              <a className="button secondary" href={poster("a5")} download>
                {t("admin.kit.downloadA5")}
              </a>
            </div>
          </section>
          <StaffScript kit={kit.data} />
          <LaunchBonusSection bonus={kit.data.launch_bonus} onCreated={kit.reload} />
        </>
      ) : null}
    </div>
  );
}

/**
 * The staff script: what to say at the counter, in the kit's language. Printing it prints this
 * section alone (styles.css, `html[data-print="staff-script"]`): a sheet for the till, from the
 * browser, which draws whatever the business wrote in any script; the poster stays for customers.
 */
function StaffScript({ kit }: { kit: LaunchKit }) {
  const { t } = useT();
  const id = useId();
  function print() {
    const root = document.documentElement;
    root.dataset.print = "staff-script";
    window.addEventListener("afterprint", () => delete root.dataset.print, { once: true });
    window.print();
  }
  return (
    <section className="card stack kit-script" aria-labelledby={id}>
      <h2 id={id}>{t("admin.kit.script")}</h2>
      <p className="muted">{t("admin.kit.scriptLead")}</p>
      <ol className="kit-script-lines" lang={kit.locale}>
        {kit.staff_script.map((line) => (
          <li key={line}>{line}</li>
        ))}
      </ol>
      <div>
        <button type="button" className="button secondary" onClick={print}>
          {t("admin.kit.scriptPrint")}
        </button>
      </div>
    </section>
  );
}

/**
 * The launch bonus: the one running (or to come), or a form that starts one — a signup rule with
 * `starts_at` now and `ends_at` some days on, created once however often Start is pressed.
 */
function LaunchBonusSection({ bonus, onCreated }: { bonus: LaunchBonus | null; onCreated(): void }) {
  const { t, locale } = useT();
  const { business } = useSession();
  const id = useId();
  const options = useLoad(
    async (signal): Promise<BonusOptions> => {
      const [program, cards] = await Promise.all([
        api<{ config: { points: { enabled: boolean } } }>("GET", "/v1/program", undefined, { signal }),
        api<{ data: { id: string; name: string }[] }>("GET", "/v1/stamp-cards", undefined, { signal }),
      ]);
      return { points: program.config.points.enabled, cards: cards.data };
    },
    [bonus?.rule_id],
  );
  const cardName = (cardId: string | null) =>
    options.data?.cards.find((c) => c.id === cardId)?.name ?? t("admin.kit.bonusCard");

  return (
    <section className="card stack" aria-labelledby={id}>
      <h2 id={id}>{t("admin.kit.bonus")}</h2>
      <p className="muted">{t("admin.kit.bonusLead")}</p>
      <ErrorMessage error={options.error} />
      {bonus ? (
        <div className="alert ok">
          <p>
            {t(
              bonus.starts_at && Date.parse(bonus.starts_at) > Date.now()
                ? "admin.kit.bonusScheduled"
                : "admin.kit.bonusActive",
              {
                gift:
                  bonus.points > 0
                    ? t("admin.kit.bonusGiftPoints", { count: bonus.points })
                    : t("admin.kit.bonusGiftStamps", {
                        count: bonus.stamps,
                        card: cardName(bonus.stamp_card_id),
                      }),
                start: bonus.starts_at ? formatDateTime(bonus.starts_at, locale, business.timezone) : "",
                date: formatDateTime(bonus.ends_at, locale, business.timezone),
              },
            )}
          </p>
          <Link href="/app/program/rules">{t("admin.kit.bonusEdit")}</Link>
        </div>
      ) : options.data ? (
        options.data.points || options.data.cards.length > 0 ? (
          <BonusForm options={options.data} onCreated={onCreated} />
        ) : (
          <p className="alert warn">{t("admin.kit.bonusUnavailable")}</p>
        )
      ) : null}
    </section>
  );
}

function BonusForm({ options, onCreated }: { options: BonusOptions; onCreated(): void }) {
  const { t } = useT();
  const { business } = useSession();
  // The rule's name is the reason members read in their history: in the business's language.
  const names = useTranslatorFor(supportedLocale(business.locale) ?? "en", "admin");
  const [gift, setGift] = useState<string>(options.points ? "points" : (options.cards[0]?.id ?? ""));
  const [amount, setAmount] = useState(gift === "points" ? "50" : "1");
  const [days, setDays] = useState<number>(7);
  const [error, setError] = useState<unknown>(null);
  const [busy, once] = useOneAtATime();
  const [key] = useState(() => new FormKey());
  // The body of a press whose answer was lost: pressing again with the same choices resends it
  // as it was (the same window, so the same idempotency key), never a second bonus.
  const pending = useRef<{ choice: string; body: unknown } | null>(null);
  const problems = explain(error, t);

  async function start() {
    const count = Number(amount);
    const choice = JSON.stringify({ gift, count, days });
    let body = pending.current?.choice === choice ? pending.current.body : null;
    if (body === null) {
      const now = Date.now();
      body = {
        name: names ? names("admin.kit.bonusRuleName") : t("admin.kit.bonusRuleName"),
        trigger: "signup",
        effect:
          gift === "points"
            ? { type: "fixed_points", points: count }
            : { type: "stamps", stamp_card_id: gift, stamps: count },
        starts_at: new Date(now).toISOString(),
        ends_at: new Date(now + days * DAY_MS).toISOString(),
      };
    }
    pending.current = { choice, body };
    try {
      await api("POST", "/v1/rules", body, { idempotencyKey: key.for(body) });
      key.settle();
      pending.current = null;
      setError(null);
      onCreated();
    } catch (e) {
      key.settle(e);
      if (!outcomeUnknown(e)) pending.current = null;
      setError(e);
    }
  }

  return (
    <form
      className="stack"
      onSubmit={(event) => {
        event.preventDefault();
        once(start);
      }}
    >
      <FormError text={problems.form} />
      <div className="grid">
        <Field label={t("admin.kit.bonusGift")}>
          {(p) => (
            <select
              {...p}
              value={gift}
              onChange={(e) => {
                setGift(e.target.value);
                setAmount(e.target.value === "points" ? "50" : "1");
              }}
            >
              {options.points ? <option value="points">{t("admin.kit.bonusPoints")}</option> : null}
              {options.cards.map((card) => (
                <option key={card.id} value={card.id}>
                  {t("admin.kit.bonusStampsOn", { card: card.name })}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label={t("admin.kit.bonusAmount")} error={problems.fields.effect}>
          {(p) => (
            <input
              {...p}
              type="number"
              inputMode="numeric"
              required
              min={1}
              max={gift === "points" ? 1_000_000 : 100}
              step={1}
              value={amount}
              onChange={(e) => setAmount(e.target.value)}
            />
          )}
        </Field>
        <Field label={t("admin.kit.bonusDays")} hint={t("admin.kit.bonusDaysHint")}>
          {(p) => (
            <select {...p} value={days} onChange={(e) => setDays(Number(e.target.value))}>
              {BONUS_DAYS.map((d) => (
                <option key={d} value={d}>
                  {t("admin.kit.bonusDaysOption", { count: d })}
                </option>
              ))}
            </select>
          )}
        </Field>
      </div>
      <div>
        <button type="submit" className="button" disabled={busy || names === null}>
          {t("admin.kit.bonusStart")}
        </button>
      </div>
    </form>
  );
}

/** The join link's QR code as the poster draws it: dark modules as squares, a quiet zone around. */
function JoinQr({ url, label }: { url: string; label: string }) {
  const { size, path } = useMemo(() => {
    const rows = encode(url, { ecc: "M", border: 0 }).data;
    let d = "";
    rows.forEach((row, y) => {
      row.forEach((dark, x) => {
        if (dark) d += `M${x + 4} ${y + 4}h1v1h-1z`;
      });
    });
    return { size: rows.length + 8, path: d };
  }, [url]);
  return (
    <svg className="admin-qr" viewBox={`0 0 ${size} ${size}`} role="img" aria-label={label}>
      <rect width={size} height={size} fill="#fff" />
      <path d={path} fill="#000" />
    </svg>
  );
}
