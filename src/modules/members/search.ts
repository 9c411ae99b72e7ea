/**
 * Member search: the text a member is found by (`members.search`, migration 0023) and what a
 * search text looks for in it. Both are folded by `foldText` (lowercase, without diacritics, ł→l,
 * ß→ss…), so "lukasz" finds "Łukasz" and "José" typed in either Unicode form finds both forms.
 * The database looks for the folded words as substrings, through a trigram index
 * (`members_search_idx`), so a search reads the members it finds, not every member.
 */
import { foldText } from "../../shared/fold.ts";
import { escapeLike } from "./fields.ts";
import { dialledAtHome, phoneSearchDigits, readPhone } from "./phone.ts";

/** The fields of a member that search finds it by. */
export interface SearchedFields {
  name: string | null;
  email: string | null;
  phone: string | null;
}

const NOT_WORD = /[^\p{L}\p{N}]+/u;

/**
 * What a member is found by, folded: the name, and its words apart (so "jansen" is also a word of
 * "Smit-Jansen"); the email whole, and its parts ("kowalski", "firma", "pl"); the phone as stored
 * (E.164, "+31612345678") and, for a country whose numbers are dialled with a trunk 0 at home, as
 * dialled there ("0612345678"). Words are separated by single spaces; the name comes first, so the
 * text also orders members by name. An erased member's text is empty: nothing of them is kept,
 * and a search finds them no more. The card code is not in it: a search matches it only whole.
 *
 * Every write of a member's name, email or phone writes this too (create, change, erasure; the
 * import enrols through create), and migration 0023 wrote it for the members before it.
 *
 * @example memberSearchText({ name: "Anne-Marie Smit", email: "am@firma.nl", phone: "+31612345678" })
 * // "anne-marie smit anne marie smit am@firma.nl am firma nl +31612345678 0612345678"
 */
export function memberSearchText(member: SearchedFields): string {
  const tokens: string[] = [];
  const add = (token: string) => {
    if (token && !tokens.includes(token)) tokens.push(token);
  };
  const words = (text: string) => text.split(NOT_WORD).filter(Boolean).join(" ");
  if (member.name) {
    const name = foldText(member.name);
    add(name);
    add(words(name));
  }
  if (member.email) {
    const email = foldText(member.email);
    add(email);
    add(words(email));
  }
  if (member.phone) {
    add(member.phone);
    add(dialledAtHome(member.phone) ?? "");
  }
  return tokens.join(" ");
}

/** A search shorter than this, of one word, matches the start of a word, not any part of one. */
export const SUBSTRING_MIN = 3;

/** What a search text looks for. */
export interface SearchTerms {
  /**
   * LIKE patterns on the search text, as alternatives: each alternative is a list of patterns that
   * must all match (the words of the search, each anywhere, in any order).
   */
  patterns: string[][];
  /** Exact matches, which come first: the card code, the email, the phone as E.164. */
  exact: { code?: string; email?: string; phone?: string };
}

/** Digits, `+` and the separators people write in phone numbers, only. */
const PHONE_LIKE = /^[+\d\s().\-/]+$/;
const CODE_LIKE = /^[A-Za-z0-9]{1,32}$/;

/**
 * What the search `q` (as typed) looks for in the members of a business in `timeZone`:
 *
 * - its folded words, each anywhere in the member's search text, in any order ("kowal firma" finds
 *   Jan Kowalski of jan@firma.pl); a single word shorter than 3 characters only at the start of a
 *   word ("jo" finds Johan and José, not Marjolein);
 * - a text of digits and phone separators only, as a phone number or part of one, by its digits
 *   (`phoneSearchDigits`): as dialled at home ("(030) 1234567", "06 1234" are "0301234567",
 *   "061234", never "06" somewhere and "1234" elsewhere), or, written with + or 00 and the country
 *   code ("+31 (0)6 12", "0031 6 12"), the start of the stored number;
 * - exactly: the card code, the email, and the phone number as lookup and enrolment read it in the
 *   business's country (`timeZone`; none without it). These come first.
 *
 * @example searchTerms("Wójcik Jan", undefined) // { patterns: [["%wojcik%", "%jan%"]], exact: {} }
 */
export function searchTerms(q: string, timeZone: string | undefined): SearchTerms {
  const text = q.trim();
  const folded = foldText(text);
  const words = folded.split(" ").filter(Boolean);
  const patterns: string[][] = [];
  const only = words[0];
  if (words.length === 1 && only !== undefined && only.length < SUBSTRING_MIN) {
    // The start of a word: of letters and digits only, which the index finds by the word's first
    // trigrams ("jo" by "  j" and " jo"); "-" or "@" would give it none.
    if (/^[\p{L}\p{N}]+$/u.test(only)) patterns.push([`${escapeLike(only)}%`], [`% ${escapeLike(only)}%`]);
  } else if (PHONE_LIKE.test(text)) {
    // A phone number or part of one: its digits (in the search text without separators), or,
    // with fewer than 3 digits, the text as written.
    const part = phoneSearchDigits(text) ?? folded;
    if (ALNUM.test(part)) patterns.push([`%${escapeLike(part)}%`]);
  } else if (words.some((word) => ALNUM.test(word))) {
    patterns.push([...new Set(words)].map((word) => `%${escapeLike(word)}%`));
  }
  // A text without a letter or a digit ("@@@", "___", "-") gives the trigram index nothing to
  // look for: as a substring it would read every member, to find no one by name. It finds exact
  // matches only.
  const exact: SearchTerms["exact"] = {};
  if (CODE_LIKE.test(text)) exact.code = text.toUpperCase();
  if (text.includes("@")) exact.email = text.toLowerCase();
  if (timeZone !== undefined && looksLikePhone(text)) {
    const read = readPhone(text, timeZone);
    if ("phone" in read) exact.phone = read.phone;
  }
  return { patterns, exact };
}

/**
 * Whether the trigram index can look for a LIKE pattern of a search: trigrams come from runs of
 * letters and digits, so it needs three in a row ("%jan%"), or a run whose start is known — at
 * the start of the pattern or after a separator ("jo%", "% jo%", "%a@b%"), which gives the
 * trigrams of a word's start ("  j", " jo"). A pattern without ("%a%", "%@@@%") gives none, and a
 * condition without trigrams reads the whole index.
 */
export function indexable(pattern: string): boolean {
  return /[\p{L}\p{N}]{3}/u.test(pattern) || /(?:^|[^%\p{L}\p{N}])[\p{L}\p{N}]/u.test(pattern);
}

const ALNUM = /[\p{L}\p{N}]/u;

/** Whether `q` may be a whole phone number: then `searchTerms` needs the business's time zone. */
export function looksLikePhone(q: string): boolean {
  return PHONE_LIKE.test(q.trim()) && q.replace(/\D/g, "").length >= 7;
}
