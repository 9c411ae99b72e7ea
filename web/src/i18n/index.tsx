import { IntlMessageFormat } from "intl-messageformat";
import {
  createContext,
  type ReactNode,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useRef,
  useState,
} from "react";

/**
 * Translations: ICU messages (plurals, selects, numbers) per area and locale, loaded on demand so
 * the wallet never downloads the dashboard's texts. A missing message renders as `⟦key⟧` and is
 * reported on the console, so tests and translators see it at once.
 */

export const LOCALES = ["en", "nl", "pl", "pt-BR"] as const;
export type Locale = (typeof LOCALES)[number];
export type Area = "common" | "dashboard" | "admin" | "counter" | "wallet";
export type Messages = Record<string, string>;
export type Values = Record<string, string | number | Date | boolean | null | undefined>;

export const LOCALE_NAMES: Record<Locale, string> = {
  en: "English",
  nl: "Nederlands",
  pl: "Polski",
  "pt-BR": "Português (Brasil)",
};

const loaders = import.meta.glob<Messages>("./messages/*/*.json", { import: "default" });
const STORAGE_KEY = "regulars.locale";

/** The closest supported locale to a tag such as `nl-BE`, `pt` or `pl-PL`; English otherwise. */
export function supportedLocale(tag: string | null | undefined): Locale | null {
  if (!tag) return null;
  const lower = tag.toLowerCase();
  const exact = LOCALES.find((l) => l.toLowerCase() === lower);
  if (exact) return exact;
  const language = lower.split("-")[0];
  return LOCALES.find((l) => l.toLowerCase().split("-")[0] === language) ?? null;
}

/** The first of the device's languages that Regulars speaks, or null. */
export function deviceLocale(): Locale | null {
  for (const tag of navigator.languages ?? []) {
    const found = supportedLocale(tag);
    if (found) return found;
  }
  return null;
}

function initialLocale(): Locale {
  return supportedLocale(localStorage.getItem(STORAGE_KEY)) ?? deviceLocale() ?? "en";
}

const MISSING = (key: string) => `⟦${key}⟧`;

interface I18nState {
  locale: Locale;
  /** Whether the user picked the locale (then a business's default does not override it). */
  chosen: boolean;
  setLocale(locale: Locale, options?: { remember?: boolean }): void;
  messages: Map<string, Messages>;
  load(area: Area, locale: Locale): Promise<void>;
  /** Areas rendered now, counted by the gates that show them. */
  activeAreas: Map<Area, number>;
}

const I18nContext = createContext<I18nState | null>(null);

export function I18nProvider({ children }: { children: ReactNode }) {
  const [locale, setLocaleState] = useState<Locale>(initialLocale);
  const [chosen, setChosen] = useState(() => localStorage.getItem(STORAGE_KEY) !== null);
  const [messages, setMessages] = useState(() => new Map<string, Messages>());
  // The areas on screen: a new language is loaded for all of them before it is switched to, so a
  // screen never blanks (and loses what the user was doing) while its texts load.
  const [activeAreas] = useState(() => new Map<Area, number>());
  // The last language asked for wins, whichever language's texts finish loading first.
  const latest = useRef(0);

  const load = useCallback(async (area: Area, wanted: Locale) => {
    const id = `${area}/${wanted}`;
    const loader = loaders[`./messages/${id}.json`];
    if (!loader) throw new Error(`No messages for ${id}`);
    const loaded = await loader();
    setMessages((previous) => {
      if (previous.has(id)) return previous;
      const next = new Map(previous);
      next.set(id, loaded);
      return next;
    });
  }, []);

  const setLocale = useCallback(
    (next: Locale, options: { remember?: boolean } = {}) => {
      if (options.remember ?? true) {
        localStorage.setItem(STORAGE_KEY, next);
        setChosen(true);
      }
      const request = ++latest.current;
      const apply = () => {
        if (request === latest.current) setLocaleState(next);
      };
      void Promise.all([...activeAreas.keys()].map((area) => load(area, next))).then(apply, apply);
    },
    [activeAreas, load],
  );

  useEffect(() => {
    document.documentElement.lang = locale;
  }, [locale]);

  const value = useMemo(
    () => ({ locale, chosen, setLocale, messages, load, activeAreas }),
    [locale, chosen, setLocale, messages, load, activeAreas],
  );
  return <I18nContext.Provider value={value}>{children}</I18nContext.Provider>;
}

function useI18nState(): I18nState {
  const state = useContext(I18nContext);
  if (!state) throw new Error("useT outside <I18nProvider>");
  return state;
}

/**
 * Renders its children once the messages of `areas` are loaded in the current locale (and shows
 * a quiet placeholder meanwhile).
 */
export function MessagesGate({ areas, children }: { areas: Area[]; children: ReactNode }) {
  const { locale, messages, load, activeAreas } = useI18nState();
  const missing = areas.filter((area) => !messages.has(`${area}/${locale}`));
  const key = missing.join(",");
  const all = areas.join(",");
  useEffect(() => {
    const mine = all.split(",") as Area[];
    for (const area of mine) activeAreas.set(area, (activeAreas.get(area) ?? 0) + 1);
    return () => {
      for (const area of mine) {
        const count = (activeAreas.get(area) ?? 1) - 1;
        if (count > 0) activeAreas.set(area, count);
        else activeAreas.delete(area);
      }
    };
  }, [all, activeAreas]);
  useEffect(() => {
    if (!key) return;
    for (const area of key.split(",") as Area[]) void load(area, locale);
  }, [key, locale, load]);
  if (missing.length > 0) return <div className="loading" aria-busy="true" />;
  return <>{children}</>;
}

const formatCache = new Map<string, IntlMessageFormat>();

export interface Translator {
  locale: Locale;
  /** The message `key` with its `{placeholders}`, plurals and selects filled in. */
  t(key: string, values?: Values): string;
  setLocale(locale: Locale, options?: { remember?: boolean }): void;
  /** True when the user picked the language; a business's default must not override it. */
  chosen: boolean;
}

/** `key`'s message in `locale`, filled in; the missing-translation marker when there is none. */
function translate(messages: Map<string, Messages>, locale: Locale, key: string, values?: Values): string {
  const area = key.split(".")[0] ?? "";
  const message = messages.get(`${area}/${locale}`)?.[key];
  if (message === undefined) {
    console.error(`Missing translation: ${locale} ${key}`);
    return MISSING(key);
  }
  const cacheKey = `${locale}\u0000${key}`;
  let format = formatCache.get(cacheKey);
  if (!format) {
    format = new IntlMessageFormat(message, locale);
    formatCache.set(cacheKey, format);
  }
  return String(format.format(values as Record<string, string | number | Date>));
}

export function useT(): Translator {
  const { locale, messages, setLocale, chosen } = useI18nState();
  const t = useCallback(
    (key: string, values?: Values): string => translate(messages, locale, key, values),
    [locale, messages],
  );
  return { locale, t, setLocale, chosen };
}

/** A translator for another language than the screen's, with what became of loading its texts. */
export interface TranslatorFor {
  /** The translator; null until the texts are loaded. */
  t: Translator["t"] | null;
  /** Loading the texts failed (no connection, the server did not answer): `retry` loads them again. */
  failed: boolean;
  retry(): void;
}

/**
 * A translator for another language than the screen's, for texts a screen writes for someone
 * else: the names members will read, in the business's language, whatever language the owner
 * reads the dashboard in. Its `t` is null until that language's messages of `area` are loaded;
 * `failed` says when loading them failed, so the screen can offer to try again instead of
 * waiting for ever.
 */
export function useTranslatorLoad(locale: Locale, area: Area): TranslatorFor {
  const { messages, load } = useI18nState();
  const id = `${area}/${locale}`;
  const loaded = messages.has(id);
  // The texts whose load failed, and each "try again": a new attempt loads them again.
  const [failedId, setFailedId] = useState<string | null>(null);
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    void attempt;
    if (loaded) return;
    let current = true;
    load(area, locale).catch(() => {
      if (current) setFailedId(`${area}/${locale}`);
    });
    return () => {
      current = false;
    };
  }, [loaded, area, locale, load, attempt]);
  const t = useMemo(
    () => (loaded ? (key: string, values?: Values) => translate(messages, locale, key, values) : null),
    [loaded, messages, locale],
  );
  const retry = useCallback(() => {
    setFailedId(null);
    setAttempt((n) => n + 1);
  }, []);
  return { t, failed: !loaded && failedId === id, retry };
}

/**
 * `useTranslatorLoad`'s translator alone, for a screen that can do without it (it writes in the
 * screen's language meanwhile): null until the texts are loaded, or when they cannot be.
 */
export function useTranslatorFor(locale: Locale, area: Area): Translator["t"] | null {
  return useTranslatorLoad(locale, area).t;
}
