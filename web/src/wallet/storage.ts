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

export function forgetCard(slug: string): void {
  localStorage.removeItem(tokenKey(slug));
  localStorage.removeItem(cacheKey(slug));
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

/**
 * Takes a token from the address (`/card/<slug>#t=<token>`), stores it and removes it from the
 * address bar and history, so it is not shared by accident with a screenshot of the address.
 */
export function adoptTokenFromAddress(slug: string): void {
  const match = /(?:^#|&)t=(rm_[A-Za-z0-9_-]+)/.exec(location.hash);
  if (!match?.[1]) return;
  saveCardToken(slug, match[1]);
  history.replaceState(null, "", location.pathname + location.search);
}
