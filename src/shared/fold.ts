/**
 * Text folded for searching: what staff type ("lukasz", "wojcik", "jose") finds what was stored
 * ("Łukasz", "Wójcik", "José" in either Unicode form), and the other way round.
 */

// Letters that Unicode does not decompose into a base letter and a mark (NFKD leaves them whole),
// as people write them without the keyboard of their language.
const LETTERS: Record<string, string> = {
  ł: "l",
  ø: "o",
  ß: "ss",
  æ: "ae",
  œ: "oe",
  đ: "d",
  ð: "d",
  þ: "th",
  ħ: "h",
  ı: "i",
  ŧ: "t",
  ĸ: "k",
  // Greek final sigma: "ΟΔΟΣ" lowercases to "οδος", typed as "οδοσ".
  ς: "σ",
  // The middle dot of the Catalan "l·l" (NFKD writes ŀ as l and this dot).
  "\u00b7": "",
  // Apostrophes and dashes as word processors and phones write them: O’Brien is O'Brien.
  "\u2018": "'",
  "\u2019": "'",
  "\u02bc": "'",
  "`": "'",
  "\u2010": "-",
  "\u2011": "-",
  "\u2012": "-",
  "\u2013": "-",
  "\u2014": "-",
  "\u2212": "-",
};
const SPECIAL = new RegExp(`[${Object.keys(LETTERS).join("")}]`, "gu");
const MARKS = /\p{M}/gu;
// Invisible characters (zero-width space, soft hyphen, byte-order mark) and control characters.
const INVISIBLE = /[\p{Cf}\p{Cc}]/gu;
const SPACES = /\s+/gu;

/**
 * `text` lowercased, in Unicode compatibility form (NFKD) without its diacritics, with the letters
 * NFKD keeps whole spelled in plain Latin (ł→l, ø→o, ß→ss, æ→ae, đ→d…), typographic apostrophes and
 * dashes as ASCII ones, and every run of white space as one space, trimmed. Folding is stable:
 * `foldText(foldText(x)) === foldText(x)`, and any part of a folded text folds to itself.
 *
 * The search text of a member (`members.search`) is made of folded fields, and a search is folded
 * the same way before it is looked for in it; changing this function changes what is stored, so
 * it needs a migration that writes the column again (as 0023 did).
 *
 * @example foldText("  Łukasz WÓJCIK ") // "lukasz wojcik"
 * @example foldText("Jose\u0301") // "jose"
 */
export function foldText(text: string): string {
  const folded = text
    .toLowerCase()
    .normalize("NFKD")
    .replace(MARKS, "")
    .toLowerCase()
    .replace(SPECIAL, (c) => LETTERS[c] ?? c)
    .replace(INVISIBLE, (c) => (c === "\t" || c === "\n" || c === "\r" ? " " : ""));
  return folded.replace(SPACES, " ").trim();
}
