import { lazy, StrictMode, Suspense } from "react";
import { createRoot } from "react-dom/client";
import { Home } from "./home.tsx";
import { I18nProvider, MessagesGate } from "./i18n/index.tsx";
import { match, useLocation } from "./router.tsx";
import { NotFound } from "./ui/components.tsx";
import "./ui/styles.css";

// Each face of the product is its own chunk: a customer opening the wallet never downloads the
// dashboard or the counter's scanner.
const Dashboard = lazy(() => import("./dashboard/index.tsx"));
const Counter = lazy(() => import("./counter/index.tsx"));
const Wallet = lazy(() => import("./wallet/index.tsx"));

function App() {
  const { path } = useLocation();
  let page: React.ReactNode;
  if (path === "/") page = <Home />;
  else if (match("/app/*", path) || path === "/login" || path === "/signup" || path === "/app")
    page = (
      <MessagesGate areas={["common", "dashboard", "admin"]}>
        <Dashboard />
      </MessagesGate>
    );
  else if (match("/counter/*", path) || path === "/counter")
    page = (
      <MessagesGate areas={["common", "counter"]}>
        <Counter />
      </MessagesGate>
    );
  else if (match("/join/:slug", path) || match("/card/*", path))
    page = (
      <MessagesGate areas={["common", "wallet"]}>
        <Wallet />
      </MessagesGate>
    );
  else page = <NotFound />;
  return (
    <MessagesGate areas={["common"]}>
      <Suspense fallback={<div className="loading" aria-busy="true" />}>{page}</Suspense>
    </MessagesGate>
  );
}

const root = document.getElementById("root");
if (root) {
  createRoot(root).render(
    <StrictMode>
      <I18nProvider>
        <App />
      </I18nProvider>
    </StrictMode>,
  );
}
