import { useId, useRef, useState } from "react";
import { api } from "../api.ts";
import { useT } from "../i18n/index.tsx";
import { ErrorMessage } from "./components.tsx";
import { QrCode } from "./qr.tsx";
import { localOnly } from "./reachable.ts";

/**
 * A new link to the member's card, as a QR code the customer scans with their phone: for a new
 * phone, cleared browser data, or a member enrolled at the counter or imported, who never had the
 * card. Issuing one ends the old link. The counter and the dashboard's member page show it.
 */
export function CardLink({ memberId }: { memberId: string }) {
  const { t } = useT();
  const headingId = useId();
  const [url, setUrl] = useState<string | null>(null);
  const [asking, setAsking] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  // A second click before the first answer would issue a second link and end the first one shown.
  const pending = useRef(false);

  async function issue() {
    if (pending.current) return;
    pending.current = true;
    setBusy(true);
    setError(null);
    try {
      const link = await api<{ card_url: string }>("POST", `/v1/members/${memberId}/card-link`);
      setUrl(link.card_url);
      setAsking(false);
    } catch (e) {
      setError(e);
    } finally {
      pending.current = false;
      setBusy(false);
    }
  }

  return (
    <section className="card stack" aria-labelledby={headingId}>
      <h3 id={headingId}>{t("common.cardLink.title")}</h3>
      {url ? (
        <>
          <QrCode value={url} label={t("common.cardLink.qr")} size={220} className="card-link-qr" />
          <p>{t("common.cardLink.scan")}</p>
          <p className="muted card-link-url">{url}</p>
          {localOnly(url) ? (
            <p className="alert warn">{t("common.cardLink.unreachable", { host: new URL(url).host })}</p>
          ) : null}
          <div className="row">
            <button type="button" className="button secondary" onClick={() => setUrl(null)}>
              {t("common.cardLink.done")}
            </button>
          </div>
        </>
      ) : (
        <>
          <p className="muted">{t("common.cardLink.lead")}</p>
          {asking ? (
            // Issuing ends the link the customer has now: a wrong click must not log their phone out.
            <>
              <p>{t("common.cardLink.confirmLabel")}</p>
              <div className="row">
                <button type="button" className="button" disabled={busy} onClick={() => void issue()}>
                  {t("common.cardLink.confirm")}
                </button>
                <button type="button" className="button ghost" onClick={() => setAsking(false)}>
                  {t("common.cancel")}
                </button>
              </div>
            </>
          ) : (
            <div className="row">
              <button type="button" className="button secondary" onClick={() => setAsking(true)}>
                {t("common.cardLink.issue")}
              </button>
            </div>
          )}
        </>
      )}
      <ErrorMessage error={error} />
    </section>
  );
}
