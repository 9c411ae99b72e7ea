import { useEffect } from "react";
import { match, useLocation } from "../router.tsx";
import { NotFound } from "../ui/components.tsx";
import { CardPage } from "./card.tsx";
import { JoinPage } from "./join.tsx";

/**
 * The customer's wallet: `/join/<slug>` (join a business's program) and `/card/<slug>` (the
 * member's card with its QR code, installable and readable offline).
 */
export default function Wallet() {
  const { path } = useLocation();
  useEffect(registerServiceWorker, []);
  const join = match("/join/:slug", path);
  if (join?.slug) return <JoinPage key={join.slug} slug={join.slug} />;
  const card = match("/card/:slug", path);
  if (card?.slug) return <CardPage key={card.slug} slug={card.slug} />;
  return <NotFound />;
}

/**
 * The wallet's service worker (only the wallet registers it): keeps the app and the last card so
 * the card and its QR code open without a connection. The files this page already loaded are
 * handed to it, since they were fetched before it was running.
 */
function registerServiceWorker(): void {
  if (!("serviceWorker" in navigator)) return;
  navigator.serviceWorker
    .register("/sw.js", { scope: "/" })
    .then(() => navigator.serviceWorker.ready)
    .then((registration) => {
      const urls = performance
        .getEntriesByType("resource")
        .map((entry) => new URL(entry.name))
        .filter((url) => url.origin === location.origin && url.pathname.startsWith("/assets/"))
        .map((url) => url.pathname);
      registration.active?.postMessage({ type: "cache-assets", urls: [...new Set(urls)] });
    })
    .catch(() => {
      // No service worker (private mode, old browser): the card works online all the same.
    });
}
