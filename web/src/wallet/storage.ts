import type { WalletCard } from "./types.ts";

/**
 * What the phone keeps per business: the personal card token (the key to the card, never sent
 * anywhere but this server) and the last card read, shown when the phone is offline.
 */

const tokenKey = (slug: string) => `regulars.card.${slug}`;
const cacheKey = (slug: string) => `regulars.card-cache.${slug}`;

export function cardToken(slug: string): string | null {
  return localStorage.getItem(tokenKey(slug));
}

export function saveCardToken(slug: string, token: string): void {
  localStorage.setItem(tokenKey(slug), token);
}

/** Forgets the card stored for `slug`; with `only`, only if that is the token stored (the one refused). */
export function forgetCard(slug: string, only?: string): void {
  if (only !== undefined && cardToken(slug) !== only) return;
  localStorage.removeItem(tokenKey(slug));
  localStorage.removeItem(cacheKey(slug));
}

/** The service worker's cache of cards read (web/public/sw.js `CARDS`). */
const CARD_COPIES = "regulars-wallet-cards-v1";

/**
 * Forgets every card of `slug` this phone holds: the token, the copy kept here, and the copies
 * the service worker kept to show offline (which hold the member's name). For a card its member
 * deleted: nothing of it stays on the phone.
 */
export async function forgetCardEverywhere(slug: string): Promise<void> {
  forgetCard(slug);
  dropLinkToken(slug);
  try {
    if (typeof caches === "undefined" || !(await caches.has(CARD_COPIES))) return;
    const cache = await caches.open(CARD_COPIES);
    for (const request of await cache.keys()) {
      if (new URL(request.url).searchParams.get("business") === slug) await cache.delete(request);
    }
  } catch {
    // No cache storage (private mode, an old browser): nothing was kept there.
  }
}

/**
 * The card kept for the card token stored now: a card read with another token (another member's
 * link opened on this phone since) is never shown for it.
 */
export function cachedCard(slug: string): WalletCard | null {
  const text = localStorage.getItem(cacheKey(slug));
  const token = cardToken(slug);
  if (!text || !token) return null;
  try {
    const kept = JSON.parse(text) as { token?: string; card?: WalletCard };
    return kept.token === token && kept.card ? kept.card : null;
  } catch {
    return null;
  }
}

/** Keeps `card`, as read with `token`. */
export function saveCachedCard(slug: string, card: WalletCard, token: string): void {
  try {
    localStorage.setItem(cacheKey(slug), JSON.stringify({ token, card }));
  } catch {
    // Storage full or disabled: the card still works online.
  }
}

/** The personal card link: opening it on any phone stores the token there. */
export function cardLink(slug: string, token: string): string {
  return `${location.origin}/card/${encodeURIComponent(slug)}#t=${token}`;
}

const linkKey = (slug: string) => `regulars.card-link.${slug}`;
/** Where a link waits when the browser keeps no session storage: this page only. */
const linksInMemory = new Map<string, string>();

/**
 * Takes a token from the address (`/card/<slug>#t=<token>`) and removes it from the address bar
 * and history, so it is not shared by accident with a screenshot of the address. The token is not
 * stored as the card yet: it waits (in this tab, across a reload) until the server has accepted
 * it, so that a bad or old link never replaces the card this phone holds.
 */
export function adoptTokenFromAddress(slug: string): void {
  const match = /(?:^#|&)t=(rm_[A-Za-z0-9_-]+)/.exec(location.hash);
  if (!match?.[1]) return;
  try {
    sessionStorage.setItem(linkKey(slug), match[1]);
  } catch {
    linksInMemory.set(slug, match[1]);
  }
  history.replaceState(null, "", location.pathname + location.search);
}

/** The token of a card link opened in this tab and not yet accepted or refused, if any. */
export function linkToken(slug: string): string | null {
  try {
    return sessionStorage.getItem(linkKey(slug)) ?? linksInMemory.get(slug) ?? null;
  } catch {
    return linksInMemory.get(slug) ?? null;
  }
}

/** The opened card link is settled: stored as the card, refused, or turned down by the member. */
export function dropLinkToken(slug: string): void {
  linksInMemory.delete(slug);
  try {
    sessionStorage.removeItem(linkKey(slug));
  } catch {
    // Nothing kept there.
  }
}

/**
 * What to do with a card link, given the server's answer for its token (`link`: "refused" on a
 * 401, else the card) and for the token stored on the phone (`stored`: null when there is none,
 * "unknown" when it could not be read). "adopt": store the link's card (the phone held none, the
 * same member's, or one the server refuses now). "refuse": the link does not work, or is a card
 * of another business; the phone keeps its card. "ask": the link is another member's valid card
 * while the stored one may still work: only the member can say which card this phone is for.
 */
export function linkOutcome(
  slug: string,
  link: "refused" | Pick<WalletCard, "business" | "member">,
  stored: null | "refused" | "unknown" | Pick<WalletCard, "member">,
): "adopt" | "refuse" | "ask" {
  if (link === "refused" || link.business.slug !== slug) return "refuse";
  if (stored === null || stored === "refused") return "adopt";
  if (stored !== "unknown" && stored.member.id === link.member.id) return "adopt";
  return "ask";
}
