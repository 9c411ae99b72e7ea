import { IntlMessageFormat } from "intl-messageformat";

/**
 * The launch kit's texts in the four customer languages (the poster's, and the staff script's), as ICU messages: plurals are chosen by the
 * language's own rules (Polish has one, few and many), never by concatenating words.
 */

export const POSTER_LOCALES = ["en", "nl", "pl", "pt-BR"] as const;
export type PosterLocale = (typeof POSTER_LOCALES)[number];

type Key =
  | "stamps_reward"
  | "stamps"
  | "points_reward"
  | "points"
  | "visit_points_reward"
  | "visit_points"
  | "points_and_visits_reward"
  | "points_and_visits"
  | "tiers_visits"
  | "tiers_spend"
  | "tiers_points"
  | "plain"
  | "tiers_line"
  | "scan"
  | "free"
  | "staff"
  | "script_invite"
  | "script_welcome"
  | "script_launch"
  | "script_join"
  | "script_visit_stamps"
  | "script_visit_points"
  | "script_visit"
  | "gift_points"
  | "gift_stamps";

const MESSAGES: Record<PosterLocale, Record<Key, string>> = {
  en: {
    stamps_reward: "Collect {count, plural, one {# stamp} other {# stamps}} and get {reward}.",
    stamps: "{card}: collect {count, plural, one {# stamp} other {# stamps}} on your card.",
    points_reward:
      "Earn {points, plural, one {# point} other {# points}} for every {amount} you spend and swap them for rewards such as {reward}.",
    points: "Earn {points, plural, one {# point} other {# points}} for every {amount} you spend.",
    visit_points_reward:
      "Earn {visit, plural, one {# point} other {# points}} every visit and swap them for rewards such as {reward}.",
    visit_points: "Earn {visit, plural, one {# point} other {# points}} every visit.",
    points_and_visits_reward:
      "Earn {points, plural, one {# point} other {# points}} for every {amount} you spend and {visit, plural, one {# point} other {# points}} every visit, and swap them for rewards such as {reward}.",
    points_and_visits:
      "Earn {points, plural, one {# point} other {# points}} for every {amount} you spend and {visit, plural, one {# point} other {# points}} every visit.",
    tiers_visits: "The more often you come, the higher your level: {tiers}.",
    tiers_spend: "The more you spend, the higher your level: {tiers}.",
    tiers_points: "The more points you earn, the higher your level: {tiers}.",
    plain: "Join our loyalty program and be rewarded for coming back.",
    tiers_line: "Reach {tiers} for extra benefits.",
    scan: "Scan with your phone camera to join",
    free: "Free, no app needed.",
    staff: "Questions? Just ask our staff.",
    script_invite: "Do you know our loyalty program? Joining is free, takes a minute and needs no app.",
    script_welcome: "When you join, you get {gift} as a welcome gift.",
    script_launch: "Join before {date} and you get {gift} as a launch gift.",
    script_join:
      "Just scan the QR code on our poster with your phone camera and fill in your name and your email or phone number.",
    script_visit_stamps: "Next time, show the QR code on your card at the counter and we add your stamps.",
    script_visit_points: "Next time, show the QR code on your card at the counter and we add your points.",
    script_visit: "Next time, show the QR code on your card at the counter and we record your visit.",
    gift_points: "{count, plural, one {# point} other {# points}}",
    gift_stamps: "{count, plural, one {# stamp} other {# stamps}}",
  },
  nl: {
    stamps_reward: "Verzamel {count, plural, one {# stempel} other {# stempels}} en krijg {reward}.",
    stamps: "{card}: verzamel {count, plural, one {# stempel} other {# stempels}} op je kaart.",
    points_reward:
      "Spaar {points, plural, one {# punt} other {# punten}} per {amount} die je besteedt en wissel ze in voor beloningen zoals {reward}.",
    points: "Spaar {points, plural, one {# punt} other {# punten}} per {amount} die je besteedt.",
    visit_points_reward:
      "Spaar {visit, plural, one {# punt} other {# punten}} per bezoek en wissel ze in voor beloningen zoals {reward}.",
    visit_points: "Spaar {visit, plural, one {# punt} other {# punten}} per bezoek.",
    points_and_visits_reward:
      "Spaar {points, plural, one {# punt} other {# punten}} per {amount} die je besteedt en {visit, plural, one {# punt} other {# punten}} per bezoek, en wissel ze in voor beloningen zoals {reward}.",
    points_and_visits:
      "Spaar {points, plural, one {# punt} other {# punten}} per {amount} die je besteedt en {visit, plural, one {# punt} other {# punten}} per bezoek.",
    tiers_visits: "Hoe vaker je komt, hoe hoger je niveau: {tiers}.",
    tiers_spend: "Hoe meer je besteedt, hoe hoger je niveau: {tiers}.",
    tiers_points: "Hoe meer punten je spaart, hoe hoger je niveau: {tiers}.",
    plain: "Word lid van ons spaarprogramma en word beloond als je terugkomt.",
    tiers_line: "Bereik {tiers} voor extra voordelen.",
    scan: "Scan met de camera van je telefoon om lid te worden",
    free: "Gratis, geen app nodig.",
    staff: "Vragen? Vraag het gerust aan ons team.",
    script_invite:
      "Ken je ons spaarprogramma al? Lid worden is gratis, duurt een minuutje en je hebt geen app nodig.",
    script_welcome: "Als je lid wordt, krijg je {gift} als welkomstcadeau.",
    script_launch: "Word je lid vóór {date}, dan krijg je {gift} als startcadeau.",
    script_join:
      "Scan de QR-code op onze poster met de camera van je telefoon en vul je naam en je e-mailadres of telefoonnummer in.",
    script_visit_stamps:
      "Laat de volgende keer de QR-code van je kaart aan de kassa zien, dan zetten we je stempels erop.",
    script_visit_points:
      "Laat de volgende keer de QR-code van je kaart aan de kassa zien, dan schrijven we je punten bij.",
    script_visit:
      "Laat de volgende keer de QR-code van je kaart aan de kassa zien, dan noteren we je bezoek.",
    gift_points: "{count, plural, one {# punt} other {# punten}}",
    gift_stamps: "{count, plural, one {# stempel} other {# stempels}}",
  },
  pl: {
    stamps_reward:
      "Zbierz {count, plural, one {# pieczątkę} few {# pieczątki} many {# pieczątek} other {# pieczątki}} i odbierz nagrodę: {reward}.",
    stamps:
      "{card}: zbierz {count, plural, one {# pieczątkę} few {# pieczątki} many {# pieczątek} other {# pieczątki}} na swojej karcie.",
    points_reward:
      "Zdobywaj {points, plural, one {# punkt} few {# punkty} many {# punktów} other {# punktu}} za każde wydane {amount} i wymieniaj je na nagrody, np.: {reward}.",
    points:
      "Zdobywaj {points, plural, one {# punkt} few {# punkty} many {# punktów} other {# punktu}} za każde wydane {amount}.",
    visit_points_reward:
      "Zdobywaj {visit, plural, one {# punkt} few {# punkty} many {# punktów} other {# punktu}} za każdą wizytę i wymieniaj je na nagrody, np.: {reward}.",
    visit_points:
      "Zdobywaj {visit, plural, one {# punkt} few {# punkty} many {# punktów} other {# punktu}} za każdą wizytę.",
    points_and_visits_reward:
      "Zdobywaj {points, plural, one {# punkt} few {# punkty} many {# punktów} other {# punktu}} za każde wydane {amount} i {visit, plural, one {# punkt} few {# punkty} many {# punktów} other {# punktu}} za każdą wizytę, a potem wymieniaj je na nagrody, np.: {reward}.",
    points_and_visits:
      "Zdobywaj {points, plural, one {# punkt} few {# punkty} many {# punktów} other {# punktu}} za każde wydane {amount} i {visit, plural, one {# punkt} few {# punkty} many {# punktów} other {# punktu}} za każdą wizytę.",
    tiers_visits: "Im częściej nas odwiedzasz, tym wyższy Twój poziom: {tiers}.",
    tiers_spend: "Im więcej wydajesz, tym wyższy Twój poziom: {tiers}.",
    tiers_points: "Im więcej punktów zdobywasz, tym wyższy Twój poziom: {tiers}.",
    plain: "Dołącz do naszego programu lojalnościowego i zbieraj nagrody za każdą wizytę.",
    tiers_line: "Zdobądź poziom {tiers} i ciesz się dodatkowymi korzyściami.",
    scan: "Zeskanuj aparatem telefonu, aby dołączyć",
    free: "Za darmo, bez instalowania aplikacji.",
    staff: "Masz pytania? Zapytaj naszą obsługę.",
    script_invite:
      "Czy znasz nasz program lojalnościowy? Dołączenie jest bezpłatne, trwa minutę i nie wymaga aplikacji.",
    script_welcome: "Po dołączeniu otrzymasz na powitanie {gift}.",
    script_launch: "Dołącz przed {date}, a na start otrzymasz {gift}.",
    script_join:
      "Wystarczy zeskanować aparatem telefonu kod QR z naszego plakatu i podać imię oraz adres e-mail lub numer telefonu.",
    script_visit_stamps:
      "Przy następnej wizycie pokaż przy kasie kod QR ze swojej karty, a dodamy Ci pieczątki.",
    script_visit_points:
      "Przy następnej wizycie pokaż przy kasie kod QR ze swojej karty, a dopiszemy Ci punkty.",
    script_visit: "Przy następnej wizycie pokaż przy kasie kod QR ze swojej karty, a zapiszemy Twoją wizytę.",
    gift_points: "{count, plural, one {# punkt} few {# punkty} many {# punktów} other {# punktu}}",
    gift_stamps:
      "{count, plural, one {# pieczątkę} few {# pieczątki} many {# pieczątek} other {# pieczątki}}",
  },
  "pt-BR": {
    stamps_reward: "Junte {count, plural, one {# selo} other {# selos}} e ganhe {reward}.",
    stamps: "{card}: junte {count, plural, one {# selo} other {# selos}} no seu cartão.",
    points_reward:
      "Ganhe {points, plural, one {# ponto} other {# pontos}} a cada {amount} em compras e troque por recompensas como {reward}.",
    points: "Ganhe {points, plural, one {# ponto} other {# pontos}} a cada {amount} em compras.",
    visit_points_reward:
      "Ganhe {visit, plural, one {# ponto} other {# pontos}} a cada visita e troque por recompensas como {reward}.",
    visit_points: "Ganhe {visit, plural, one {# ponto} other {# pontos}} a cada visita.",
    points_and_visits_reward:
      "Ganhe {points, plural, one {# ponto} other {# pontos}} a cada {amount} em compras e {visit, plural, one {# ponto} other {# pontos}} a cada visita, e troque por recompensas como {reward}.",
    points_and_visits:
      "Ganhe {points, plural, one {# ponto} other {# pontos}} a cada {amount} em compras e {visit, plural, one {# ponto} other {# pontos}} a cada visita.",
    tiers_visits: "Quanto mais você vem, mais alto o seu nível: {tiers}.",
    tiers_spend: "Quanto mais você compra, mais alto o seu nível: {tiers}.",
    tiers_points: "Quanto mais pontos você ganha, mais alto o seu nível: {tiers}.",
    plain: "Participe do nosso programa de fidelidade e seja recompensado por voltar.",
    tiers_line: "Alcance {tiers} e ganhe benefícios extras.",
    scan: "Aponte a câmera do celular para participar",
    free: "Grátis, sem precisar de aplicativo.",
    staff: "Dúvidas? É só perguntar à nossa equipe.",
    script_invite:
      "Você já conhece o nosso programa de fidelidade? Participar é grátis, leva um minuto e não precisa de aplicativo.",
    script_welcome: "Ao se cadastrar, você ganha {gift} de boas-vindas.",
    script_launch: "Cadastrando-se antes de {date}, você ganha {gift} de presente de lançamento.",
    script_join:
      "É só apontar a câmera do celular para o QR code do nosso cartaz e informar seu nome e seu e-mail ou telefone.",
    script_visit_stamps:
      "Na próxima visita, mostre o QR code do seu cartão no caixa e nós adicionamos seus selos.",
    script_visit_points:
      "Na próxima visita, mostre o QR code do seu cartão no caixa e nós adicionamos seus pontos.",
    script_visit: "Na próxima visita, mostre o QR code do seu cartão no caixa e nós registramos sua visita.",
    gift_points: "{count, plural, one {# ponto} other {# pontos}}",
    gift_stamps: "{count, plural, one {# selo} other {# selos}}",
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
