/*
 * Regulars wallet service worker: the customer's card opens without a connection.
 * - pages (/card/…, /join/…): network first (5 s at most), else the cached app shell;
 * - hashed files under /assets/: cache first (their content never changes);
 * - GET /v1/wallet/card: network first (7 s at most), else the last card read (marked with a header so the page
 *   can say "offline — last updated …").
 * Nothing else is touched: the dashboard and the counter go to the network as usual.
 */
const SHELL = "regulars-wallet-shell-v1";
const ASSETS = "regulars-wallet-assets-v1";
const CARDS = "regulars-wallet-cards-v1";
const FROM_CACHE = "x-regulars-from-cache";

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(SHELL)
      .then((cache) => cache.addAll(["/index.html", "/icon.svg"]))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  const keep = new Set([SHELL, ASSETS, CARDS]);
  event.waitUntil(
    caches
      .keys()
      .then((names) =>
        Promise.all(
          names.filter((n) => n.startsWith("regulars-wallet-") && !keep.has(n)).map((n) => caches.delete(n)),
        ),
      )
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("message", (event) => {
  const data = event.data;
  if (data?.type !== "cache-assets" || !Array.isArray(data.urls)) return;
  const urls = data.urls.filter((u) => typeof u === "string" && u.startsWith("/assets/"));
  event.waitUntil(
    caches
      .open(ASSETS)
      .then((cache) =>
        Promise.all(
          urls.map((url) =>
            cache.match(url).then((hit) => (hit ? undefined : cache.add(url).catch(() => undefined))),
          ),
        ),
      ),
  );
});

function isWalletPage(url) {
  return url.pathname.startsWith("/card/") || url.pathname.startsWith("/join/");
}

/**
 * The network's answer, or a failure after `ms`: on a connection that connects but carries nothing,
 * the phone shows what it keeps instead of waiting minutes for a timeout of the network's own.
 */
function withTimeout(promise, ms) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("timeout")), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/**
 * The kept card's key: the business and a digest of the card token, never the token itself. A
 * phone that opens another member's card link never shows the first member's kept card for it.
 */
function cardKey(request, url) {
  const business = encodeURIComponent(url.searchParams.get("business") || "");
  const token = new TextEncoder().encode(request.headers.get("authorization") || "");
  return crypto.subtle.digest("SHA-256", token).then((digest) => {
    const holder = Array.from(new Uint8Array(digest).slice(0, 12), (b) =>
      b.toString(16).padStart(2, "0"),
    ).join("");
    return `/v1/wallet/card?business=${business}&holder=${holder}`;
  });
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;

  if (request.mode === "navigate" && isWalletPage(url)) {
    event.respondWith(
      withTimeout(fetch(request), 5000)
        .then((response) => {
          if (response.ok) {
            const copy = response.clone();
            caches.open(SHELL).then((cache) => cache.put("/index.html", copy));
          }
          return response;
        })
        .catch(() =>
          caches.match("/index.html", { cacheName: SHELL }).then((hit) => hit || Response.error()),
        ),
    );
    return;
  }

  if (url.pathname.startsWith("/assets/")) {
    event.respondWith(
      caches.open(ASSETS).then((cache) =>
        cache.match(request).then(
          (hit) =>
            hit ||
            fetch(request).then((response) => {
              if (response.ok) cache.put(request, response.clone());
              return response;
            }),
        ),
      ),
    );
    return;
  }

  if (url.pathname === "/v1/wallet/card") {
    event.respondWith(
      cardKey(request, url).then((key) =>
        withTimeout(fetch(request), 7000)
          .then((response) => {
            if (response.ok) {
              const copy = response.clone();
              caches.open(CARDS).then((cache) => cache.put(key, copy));
            } else if (response.status === 401 || response.status === 410) {
              // A link that no longer works (401), or a card its member deleted (410): the copy goes.
              caches.open(CARDS).then((cache) => cache.delete(key));
            }
            return response;
          })
          .catch(() =>
            caches.match(key, { cacheName: CARDS }).then((hit) => {
              if (!hit) return Response.error();
              const headers = new Headers(hit.headers);
              headers.set(FROM_CACHE, "1");
              return hit.blob().then((body) => new Response(body, { status: 200, headers }));
            }),
          ),
      ),
    );
  }
});
