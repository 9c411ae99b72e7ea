import { IntlMessageFormat } from "intl-messageformat";

/**
 * The poster's texts in the four customer languages, as ICU messages: plurals are chosen by the
 * language's own rules (Polish has one, few and many), never by concatenating words.
 */

export const POSTER_LOCALES = ["en", "nl", "pl", "pt-BR"] as const;
export type PosterLocale = (typeof POSTER_LOCALES)[number];

type Key =
  | "stamps_reward"
  | "stamps"
  | "points_reward"
  | "points"
  | "tiers_only"
  | "plain"
  | "tiers_line"
  | "scan"
  | "free"
  | "staff";

const MESSAGES: Record<PosterLocale, Record<Key, string>> = {
  en: {
    stamps_reward: "Collect {count, plural, one {# stamp} other {# stamps}} and get {reward}.",
    stamps: "{card}: collect {count, plural, one {# stamp} other {# stamps}} for a reward.",
    points_reward:
      "Earn {points, plural, one {# point} other {# points}} for every {amount} you spend and swap them for rewards such as {reward}.",
    points:
      "Earn {points, plural, one {# point} other {# points}} for every {amount} you spend and swap them for rewards.",
    tiers_only: "The more often you come, the higher your level: {tiers}.",
    plain: "Join our loyalty program and be rewarded for coming back.",
    tiers_line: "Reach {tiers} for extra benefits.",
    scan: "Scan with your phone camera to join",
    free: "Free, no app needed.",
    staff: "Questions? Just ask our staff.",
  },
  nl: {
    stamps_reward: "Verzamel {count, plural, one {# stempel} other {# stempels}} en krijg {reward}.",
    stamps: "{card}: verzamel {count, plural, one {# stempel} other {# stempels}} voor een beloning.",
    points_reward:
      "Spaar {points, plural, one {# punt} other {# punten}} per {amount} die je besteedt en wissel ze in voor beloningen zoals {reward}.",
    points:
      "Spaar {points, plural, one {# punt} other {# punten}} per {amount} die je besteedt en wissel ze in voor beloningen.",
    tiers_only: "Hoe vaker je komt, hoe hoger je niveau: {tiers}.",
    plain: "Word lid van ons spaarprogramma en word beloond als je terugkomt.",
    tiers_line: "Bereik {tiers} voor extra voordelen.",
    scan: "Scan met de camera van je telefoon om lid te worden",
    free: "Gratis, geen app nodig.",
    staff: "Vragen? Vraag het gerust aan ons team.",
  },
  pl: {
    stamps_reward:
      "Zbierz {count, plural, one {# pieczątkę} few {# pieczątki} many {# pieczątek} other {# pieczątki}} i odbierz nagrodę: {reward}.",
    stamps:
      "{card}: zbierz {count, plural, one {# pieczątkę} few {# pieczątki} many {# pieczątek} other {# pieczątki}} i odbierz nagrodę.",
    points_reward:
      "Zdobywaj {points, plural, one {# punkt} few {# punkty} many {# punktów} other {# punktu}} za każde wydane {amount} i wymieniaj je na nagrody, np.: {reward}.",
    points:
      "Zdobywaj {points, plural, one {# punkt} few {# punkty} many {# punktów} other {# punktu}} za każde wydane {amount} i wymieniaj je na nagrody.",
    tiers_only: "Im częściej nas odwiedzasz, tym wyższy Twój poziom: {tiers}.",
    plain: "Dołącz do naszego programu lojalnościowego i zbieraj nagrody za każdą wizytę.",
    tiers_line: "Zdobądź poziom {tiers} i ciesz się dodatkowymi korzyściami.",
    scan: "Zeskanuj aparatem telefonu, aby dołączyć",
    free: "Za darmo, bez instalowania aplikacji.",
    staff: "Masz pytania? Zapytaj naszą obsługę.",
  },
  "pt-BR": {
    stamps_reward: "Junte {count, plural, one {# selo} other {# selos}} e ganhe {reward}.",
    stamps: "{card}: junte {count, plural, one {# selo} other {# selos}} e ganhe uma recompensa.",
    points_reward:
      "Ganhe {points, plural, one {# ponto} other {# pontos}} a cada {amount} em compras e troque por recompensas como {reward}.",
    points:
      "Ganhe {points, plural, one {# ponto} other {# pontos}} a cada {amount} em compras e troque por recompensas.",
    tiers_only: "Quanto mais você vem, mais alto o seu nível: {tiers}.",
    plain: "Participe do nosso programa de fidelidade e seja recompensado por voltar.",
    tiers_line: "Alcance {tiers} e ganhe benefícios extras.",
    scan: "Aponte a câmera do celular para participar",
    free: "Grátis, sem precisar de aplicativo.",
    staff: "Dúvidas? É só perguntar à nossa equipe.",
  },
};

/** The closest poster language to a tag (`pt` → pt-BR, `nl-BE` → nl); English otherwise. */
export function posterLocale(tag: string): PosterLocale {
  const lower = tag.toLowerCase();
  return (
    POSTER_LOCALES.find((l) => l.toLowerCase() === lower) ??
    POSTER_LOCALES.find((l) => l.toLowerCase().split("-")[0] === lower.split("-")[0]) ??
    "en"
  );
}

/**
 * One poster message, filled in.
 *
 * @example posterMessage("pl", "stamps_reward", { count: 5, reward: "Kawa" }) // "Zbierz 5 pieczątek i odbierz nagrodę: Kawa."
 */
export function posterMessage(
  locale: PosterLocale,
  key: Key,
  values: Record<string, string | number> = {},
): string {
  return String(new IntlMessageFormat(MESSAGES[locale][key], locale).format(values));
}

/** A list in the language's own way: "Silver and Gold", "Zilver en Goud", "Srebrny i Złoty". */
export function listOf(locale: PosterLocale, items: string[]): string {
  return new Intl.ListFormat(locale, { type: "conjunction" }).format(items);
}
