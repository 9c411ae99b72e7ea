import { useT } from "./i18n/index.tsx";
import { Link } from "./router.tsx";
import { TopBar } from "./ui/components.tsx";

/** The start page: what Regulars is, and the doors to the dashboard and the counter. */
export function Home() {
  const { t } = useT();
  return (
    <>
      <TopBar />
      <main>
        <section className="hero">
          <h1>{t("common.home.title")}</h1>
          <p className="muted">{t("common.home.lead")}</p>
          <div className="row">
            <Link href="/signup" className="button large">
              {t("common.home.signup")}
            </Link>
            <Link href="/login" className="button large secondary">
              {t("common.home.login")}
            </Link>
            <Link href="/counter" className="button large ghost">
              {t("common.home.counter")}
            </Link>
          </div>
        </section>
      </main>
    </>
  );
}
