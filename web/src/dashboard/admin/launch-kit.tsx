import { useId, useMemo, useState } from "react";
import { encode } from "uqr";
import { api } from "../../api.ts";
import { formatDate } from "../../i18n/format.ts";
import { LOCALE_NAMES, LOCALES, type Locale, supportedLocale, useT } from "../../i18n/index.tsx";
import { Link } from "../../router.tsx";
import { ErrorMessage, Field } from "../../ui/components.tsx";
import { localOnly } from "../../ui/reachable.ts";
import { useSession } from "../session.tsx";
import { roleAtLeast, useLoad } from "./shared.tsx";

interface LaunchKit {
  join_url: string;
  locale: Locale;
  headline: string;
  tiers_line: string | null;
  published_at: string | null;
}

/** The launch kit: the join link to share, and a poster to print with its QR code. */
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
        </>
      ) : null}
    </div>
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
