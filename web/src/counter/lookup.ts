/**
 * What the cashier typed or scanned, and how the counter looks it up: a card or voucher code, an
 * email or a whole phone number are looked up exactly (`GET /v1/members/lookup`, `/v1/vouchers`);
 * anything else of 3 characters or more (a name, a part of an email, the digits of a phone
 * number) is searched (`GET /v1/members?q=`), and the cashier picks the customer from the list.
 */

/** A member's card code is 8 characters, a voucher's 10 (the wallet's QR codes hold exactly those). */
export const MEMBER_CODE_LENGTH = 8;
export const VOUCHER_CODE_LENGTH = 10;

/** The server's rules for a cashier's search (src/http/routes/members.ts). */
export const SEARCH_MIN = 3;
export const SEARCH_PHONE_DIGITS_MIN = 6;
/** A cashier's search answers one page of at most this many members. */
export const SEARCH_PAGE = 20;

// The letters and digits of codes: no 0/O, 1/I/L, which are read aloud wrong (src/shared/ids.ts).
const CODE = /^[2-9A-HJKMNP-Z]+$/;
const FULL_EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const PHONE_LIKE = /^[+\d\s().\-/]+$/;

export type Lookup =
  | { kind: "code"; value: string }
  | { kind: "voucher"; value: string }
  | { kind: "email"; value: string }
  | { kind: "phone"; value: string }
  /** A name or a part of a contact detail: the members it finds are listed to pick from. */
  | { kind: "search"; value: string };

/**
 * What a scanned or typed text is: a card code, a voucher code, an email, a phone number, or a
 * search; null when it is too short to search with (or a phone number with too few digits).
 *
 * @example classify("K7QX2M9D") // { kind: "code", value: "K7QX2M9D" }
 * @example classify("Wójcik") // { kind: "search", value: "Wójcik" }
 */
export function classify(input: string): Lookup | null {
  const text = input.trim();
  if (!text) return null;
  if (text.includes("@")) return FULL_EMAIL.test(text) ? { kind: "email", value: text } : searched(text);
  const compact = text.replace(/[\s-]/g, "");
  if (/^(\+|00)\d/.test(compact) && /^[\d\s().+-]{7,}$/.test(text)) return { kind: "phone", value: text };
  // Codes never hold a 0 or a 1 (their alphabet leaves them out), so digits with one are a phone
  // number as dialled at home: "06 12345678" is as long as a voucher code.
  if (/^\d{7,}$/.test(compact) && /[01]/.test(compact)) return { kind: "phone", value: text };
  const upper = compact.toUpperCase();
  if (CODE.test(upper)) {
    if (upper.length === MEMBER_CODE_LENGTH) return { kind: "code", value: upper };
    if (upper.length === VOUCHER_CODE_LENGTH) return { kind: "voucher", value: upper };
  }
  if (/^[\d\s().+-]{7,}$/.test(text)) return { kind: "phone", value: text };
  return searched(text);
}

/** `text` as a search, when it is long enough to be one (a phone number by 6 digits or more). */
export function searched(text: string): Lookup | null {
  if (text.length < SEARCH_MIN) return null;
  if (PHONE_LIKE.test(text) && text.replace(/\D/g, "").length < SEARCH_PHONE_DIGITS_MIN) return null;
  return { kind: "search", value: text };
}

/**
 * A code that was not found may be a name that happens to look like one ("Schwartz" has 8 letters
 * of the codes' alphabet): then the counter searches it as a name.
 */
export function mayBeName(lookup: Lookup): boolean {
  return (lookup.kind === "code" || lookup.kind === "voucher") && /^[A-Za-z]+$/.test(lookup.value);
}

/** The search for `q`: one page, as a cashier gets. */
export function searchPath(q: string): string {
  return `/v1/members?${new URLSearchParams({ q, limit: String(SEARCH_PAGE) })}`;
}

/**
 * Whether more members matched than the page shows: its `next_cursor` (which a cashier cannot
 * page on with; the counter asks them to type more).
 */
export function moreMatched(page: { next_cursor: string | null }): boolean {
  return page.next_cursor !== null;
}
