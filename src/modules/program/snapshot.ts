import type { Db, Tx } from "../../db/database.ts";
import { notFound } from "../../shared/errors.ts";
import type { Rule } from "../rules/schema.ts";
import type { StampCardRule } from "../stamps/ledger.ts";
import type { TierLevel } from "../tiers/qualify.ts";
import { ProgramConfig } from "./config.ts";

/**
 * Everything the engine needs to price a purchase: the business's clock and currency, the program
 * settings, and its active rules, stamp cards and tiers.
 *
 * Rules, cards and tiers change rarely and are read on every purchase, so they are cached per
 * business and keyed by `programs.version`, which every change of them increments in its own
 * transaction. Each purchase still reads the version (with the business row, in one query), so a
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
}

async function loadSnapshot(
  tx: Tx | Db,
  businessId: string,
  cache: Map<string, ProgramSnapshot>,
): Promise<ProgramSnapshot> {
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
  const [rules, stampCards, tiers] = await Promise.all([
    loadRules(tx, businessId),
    loadStampCards(tx, businessId),
    loadTiers(tx, businessId),
  ]);
  const snapshot = { ...base, config: ProgramConfig.parse(head.config), rules, stampCards, tiers };
  if (cache.size >= CACHE_MAX_BUSINESSES) cache.clear();
  cache.set(businessId, snapshot);
  return snapshot;
}

/** Marks the program as changed: the next purchase reloads rules, cards and tiers. */
export async function bumpProgramVersion(tx: Tx, businessId: string, now: Date): Promise<void> {
  await tx
    .updateTable("programs")
    .set((eb) => ({ version: eb("version", "+", 1), updated_at: now }))
    .where("business_id", "=", businessId)
    .execute();
}

async function loadRules(tx: Tx | Db, businessId: string): Promise<Rule[]> {
  const rows = await tx
    .selectFrom("earning_rules")
    .selectAll()
    .where("business_id", "=", businessId)
    .where("active", "=", true)
    .where("archived_at", "is", null)
    .orderBy("priority")
    .orderBy("created_at")
    .orderBy("id")
    .execute();
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    trigger: r.trigger,
    event_type: r.event_type,
    priority: r.priority,
    stop_processing: r.stop_processing,
    conditions: r.conditions as Rule["conditions"],
    effect: r.effect as Rule["effect"],
    cap: (r.cap ?? null) as Rule["cap"],
    starts_at: r.starts_at,
    ends_at: r.ends_at,
    active: r.active,
  }));
}

async function loadStampCards(tx: Tx | Db, businessId: string): Promise<StampCardRule[]> {
  const rows = await tx
    .selectFrom("stamp_cards")
    .select([
      "id",
      "name",
      "stamps_required",
      "earn_on",
      "min_spend_minor",
      "item_match",
      "max_stamps_per_purchase",
    ])
    .where("business_id", "=", businessId)
    .where("archived_at", "is", null)
    .orderBy("created_at")
    .execute();
  return rows.map((r) => ({ ...r, item_match: r.item_match as StampCardRule["item_match"] }));
}

async function loadTiers(tx: Tx | Db, businessId: string): Promise<TierLevel[]> {
  return tx
    .selectFrom("tiers")
    .select(["id", "name", "rank", "threshold", "earn_multiplier_bp"])
    .where("business_id", "=", businessId)
    .where("archived_at", "is", null)
    .orderBy("rank")
    .execute();
}
