import type { Db, Tx } from "../../db/database.ts";
import { notFound } from "../../shared/errors.ts";
import { listActiveRules } from "../rules/index.ts";
import type { Rule } from "../rules/schema.ts";
import { listActiveStampCards, listArchivedStampCards } from "../stamps/cards.ts";
import type { StampCardRule } from "../stamps/ledger.ts";
import { listActiveTiers } from "../tiers/index.ts";
import type { TierLevel } from "../tiers/qualify.ts";
import { ProgramConfig } from "./config.ts";

/**
 * Everything the engine needs to price a purchase: the business's clock and currency, the program
 * settings, and its active rules, stamp cards and tiers.
 *
 * Rules, cards and tiers change rarely and are read on every purchase, so they are cached per
 * business and keyed by `programs.version`, which every change of them increments in its own
 * transaction (`lockProgram`). Each purchase still reads the version (with the business row, in one query), so a
 * change is seen by the very next purchase on every API node: the cache is never stale.
 */
export interface ProgramSnapshot {
  businessId: string;
  businessName: string;
  currency: string;
  timeZone: string;
  locale: string;
  version: number;
  config: ProgramConfig;
  rules: Rule[];
  stampCards: StampCardRule[];
  /**
   * The archived stamp cards, oldest first: they earn nothing, but a member's stamps on them still
   * pay for their rewards, so a member's summary shows them. Archiving moves the program's version.
   */
  archivedStampCards: { id: string; name: string; stamps_required: number }[];
  tiers: TierLevel[];
}

const CACHE_MAX_BUSINESSES = 10_000;

/** One per process (held by the AppContext); bounded, and never stale thanks to the version. */
export class SnapshotCache {
  private readonly entries = new Map<string, ProgramSnapshot>();

  /** Loads the snapshot inside `tx`, from cache when the program version has not moved. */
  async load(tx: Tx | Db, businessId: string): Promise<ProgramSnapshot> {
    return loadSnapshot(tx, businessId, this.entries);
  }

  /**
   * The snapshot last loaded, unchecked: a caller must compare its `version` with the program's
   * in the same statement that relies on it.
   */
  peek(businessId: string): ProgramSnapshot | undefined {
    return this.entries.get(businessId);
  }
}

async function loadSnapshot(
  tx: Tx | Db,
  businessId: string,
  cache: Map<string, ProgramSnapshot>,
): Promise<ProgramSnapshot> {
  // In a transaction, the program row stays share-locked until it ends: a change of the program
  // or of the clock (`lockProgram`, which a new time zone takes too) waits for what was priced on
  // the old ones to commit, so the change's follow-up finds it; or this waits for the change, and
  // the read after it (a statement of its own, so a snapshot of its own) sees what it made.
  if (tx.isTransaction) {
    await tx
      .selectFrom("programs")
      .select("version")
      .where("business_id", "=", businessId)
      .forShare()
      .execute();
  }
  const head = await tx
    .selectFrom("businesses as b")
    .innerJoin("programs as p", "p.business_id", "b.id")
    .select(["b.name", "b.currency", "b.timezone", "b.locale", "p.version", "p.config"])
    .where("b.id", "=", businessId)
    .executeTakeFirst();
  if (!head) throw notFound("business", businessId);
  const cached = cache.get(businessId);
  const base = {
    businessId,
    businessName: head.name,
    currency: head.currency,
    timeZone: head.timezone,
    locale: head.locale,
    version: head.version,
  };
  if (cached && cached.version === head.version) return { ...cached, ...base };
  const [rules, stampCards, archivedStampCards, tiers] = await Promise.all([
    loadRules(tx, businessId),
    loadStampCards(tx, businessId),
    listArchivedStampCards(tx, businessId),
    loadTiers(tx, businessId),
  ]);
  const snapshot = {
    ...base,
    config: ProgramConfig.parse(head.config),
    rules,
    stampCards,
    archivedStampCards,
    tiers,
  };
  if (cache.size >= CACHE_MAX_BUSINESSES) cache.clear();
  cache.set(businessId, snapshot);
  return snapshot;
}

async function loadRules(tx: Tx | Db, businessId: string): Promise<Rule[]> {
  const byTrigger = await Promise.all(
    (["purchase", "event", "signup", "birthday"] as const).map((t) => listActiveRules(tx, businessId, t)),
  );
  return byTrigger.flat();
}

async function loadStampCards(tx: Tx | Db, businessId: string): Promise<StampCardRule[]> {
  const cards = await listActiveStampCards(tx, businessId);
  return cards.map((c) => ({ ...c, item_match: c.item_match ?? {} }));
}

async function loadTiers(tx: Tx | Db, businessId: string): Promise<TierLevel[]> {
  return listActiveTiers(tx, businessId);
}
