import { useT } from "../i18n/index.tsx";

/**
 * What a member sees on their card, drawn from the program being set up, before it exists. The
 * card's texts take `t`, a translator in the card's language (the business's); without it, the
 * dashboard's.
 */

type Translate = (key: string, values?: Record<string, string | number>) => string;

/** The card's translator: `t` when given, else the dashboard reader's. */
function useCardT(t: Translate | undefined): Translate {
  const reader = useT().t;
  return t ?? reader;
}

export function StampsPreview({
  required,
  filled,
  reward,
  t: cardT,
}: {
  required: number;
  filled: number;
  reward: string;
  t?: Translate;
}) {
  const t = useCardT(cardT);
  const total = Math.max(1, Math.min(required, 30));
  const have = Math.max(0, Math.min(filled, total));
  return (
    <div className="stack">
      <div
        className="stamps preview-stamps"
        role="img"
        aria-label={t("dashboard.preview.stampsLabel", { filled: have, total })}
      >
        {Array.from({ length: total }, (_, i) => (
          // The circles are positions on a card: their index is their identity.
          // biome-ignore lint/suspicious/noArrayIndexKey: fixed positions
          <span key={i} className={i < have ? "stamp filled" : "stamp"} />
        ))}
      </div>
      <p className="big">{t("dashboard.preview.stampsToGo", { count: total - have, reward })}</p>
    </div>
  );
}

export function PointsPreview({
  balance,
  goal,
  reward,
  extra,
  t: cardT,
}: {
  balance: number;
  goal: number;
  reward: string;
  extra?: string | undefined;
  t?: Translate;
}) {
  const t = useCardT(cardT);
  const safeGoal = Math.max(1, goal);
  const percent = Math.min(100, Math.round((balance / safeGoal) * 100));
  return (
    <div className="stack">
      <p className="big">{t("dashboard.preview.points", { count: balance })}</p>
      <div
        className="progress"
        role="progressbar"
        aria-valuemin={0}
        aria-valuemax={safeGoal}
        aria-valuenow={Math.min(balance, safeGoal)}
        aria-label={t("dashboard.preview.towards", { reward })}
      >
        <div style={{ width: `${percent}%` }} />
      </div>
      <p>{t("dashboard.preview.pointsToGo", { count: Math.max(0, safeGoal - balance), reward })}</p>
      {extra ? <p className="muted">{extra}</p> : null}
    </div>
  );
}

export function TierPreview({
  tiers,
  current,
  progress,
  nextText,
  t: cardT,
}: {
  tiers: string[];
  current: number;
  /** 0–100 towards the next tier. */
  progress: number;
  nextText: string;
  t?: Translate;
}) {
  const t = useCardT(cardT);
  return (
    <div className="stack">
      <ol className="tier-ladder" aria-label={t("dashboard.preview.tiers")}>
        {tiers.map((name, i) => (
          <li
            // biome-ignore lint/suspicious/noArrayIndexKey: a tier's place on the ladder is its identity here
            key={`${i}-${name}`}
            className={i === current ? "current" : i < current ? "reached" : undefined}
          >
            {name || "—"}
          </li>
        ))}
      </ol>
      <div
        className="progress"
        role="progressbar"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={progress}
        aria-label={t("dashboard.preview.tierProgress")}
      >
        <div style={{ width: `${Math.max(0, Math.min(100, progress))}%` }} />
      </div>
      <p>{nextText}</p>
    </div>
  );
}

/**
 * The card frame: business name on top, the program's content inside. Its title is the
 * dashboard's; the card's face is in `lang`, the language of its texts.
 */
export function CardFrame({
  business,
  lang,
  children,
}: {
  business: string;
  lang?: string;
  children: React.ReactNode;
}) {
  const { t } = useT();
  return (
    <section className="card member-card-preview" aria-labelledby="preview-title">
      <h2 id="preview-title">{t("dashboard.preview.title")}</h2>
      <div className="member-card-face" lang={lang}>
        <p className="member-card-business">{business}</p>
        {children}
      </div>
    </section>
  );
}
