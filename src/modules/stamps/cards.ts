import { sql } from "kysely";
import { z } from "zod";
import type { Actor } from "../../context.ts";
import type { Db, Tx } from "../../db/database.ts";
import type { StampCardsTable } from "../../db/schema.ts";
import { conflict, invalid, notFound } from "../../shared/errors.ts";
import { newId } from "../../shared/ids.ts";
import { MAX_AMOUNT_MINOR } from "../../shared/money.ts";
import { decodeKeyCursor, type PageRequest, toPage } from "../../shared/pagination.ts";
import { audit } from "../audit/index.ts";
import { lockProgram } from "../program/index.ts";
import { ItemMatch } from "../rules/schema.ts";

/** Stamp cards: "N stamps → reward" cards a business runs, several at once. */

/** Most stamp cards a business can run at once; every purchase looks at each of them. */
export const MAX_ACTIVE_STAMP_CARDS = 50;

export const StampEarnOn = z
  .enum(["visit", "purchase", "item"])
  .describe(
    "visit: one stamp per purchase of any amount of at least min_spend_minor; purchase: one stamp per qualifying purchase of at least min_spend_minor (the same today); item: one stamp per unit of a matching item",
  );
export type StampEarnOn = z.infer<typeof StampEarnOn>;

const CardFields = {
  name: z.string().trim().min(1).max(120),
  stamps_required: z.int().min(1).max(100).describe("Stamps that complete the card"),
  earn_on: StampEarnOn,
  min_spend_minor: z
    .int()
    .min(0)
    .max(MAX_AMOUNT_MINOR)
    .describe("Least purchase amount, in minor units, that earns a stamp"),
  item_match: ItemMatch.nullable()
    .optional()
    .describe(
      "Required, with at least one sku, category or brand, when earn_on is item; not allowed otherwise",
    ),
  max_stamps_per_purchase: z.int().min(1).max(100),
};

/** The body that creates a stamp card. */
export const StampCardInput = z.strictObject({
  ...CardFields,
  min_spend_minor: CardFields.min_spend_minor.default(0),
  max_stamps_per_purchase: CardFields.max_stamps_per_purchase.default(10),
});
export type StampCardInput = z.infer<typeof StampCardInput>;

/** The body that changes some fields of a stamp card. */
export const StampCardPatch = z
  .strictObject(CardFields)
  .partial()
  .refine((p) => Object.keys(p).length > 0, { error: "send at least one field to change" });
export type StampCardPatch = z.infer<typeof StampCardPatch>;

/** An active stamp card as the stamp engine sees it. */
export interface StampCard {
  id: string;
  name: string;
  stamps_required: number;
  earn_on: StampEarnOn;
  min_spend_minor: number;
  /** What counts as a matching item; null unless earn_on is item. */
  item_match: ItemMatch | null;
  max_stamps_per_purchase: number;
  created_at: Date;
}

export interface StampCardDto extends Omit<StampCard, "created_at"> {
  archived_at: string | null;
  created_at: string;
  updated_at: string;
}

function toCard(row: StampCardsTable): StampCard {
  const match = ItemMatch.parse(row.item_match);
  return {
    id: row.id,
    name: row.name,
    stamps_required: row.stamps_required,
    earn_on: row.earn_on,
    min_spend_minor: row.min_spend_minor,
    item_match: row.earn_on === "item" && !isEmptyMatch(match) ? match : null,
    max_stamps_per_purchase: row.max_stamps_per_purchase,
    created_at: row.created_at,
  };
}

export function stampCardDto(row: StampCardsTable): StampCardDto {
  return {
    ...toCard(row),
    archived_at: row.archived_at?.toISOString() ?? null,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

function isEmptyMatch(match: ItemMatch | null | undefined): boolean {
  return !match?.skus?.length && !match?.categories?.length && !match?.brands?.length;
}

/**
 * The item_match to store: a card that earns per item must say which items; other cards keep none,
 * and refuse one sent explicitly, as it would never be used.
 */
function itemMatchFor(earnOn: StampEarnOn, match: ItemMatch | null | undefined, sent: boolean): ItemMatch {
  if (earnOn !== "item") {
    if (sent && !isEmptyMatch(match)) {
      throw invalid("item_match_not_allowed", `A card with earn_on ${earnOn} does not use item_match.`);
    }
    return {};
  }
  if (!match || isEmptyMatch(match)) {
    throw invalid(
      "item_match_required",
      "A card with earn_on item needs item_match with at least one sku, category or brand.",
    );
  }
  return match;
}

/**
 * The business's active stamp cards, oldest first, with item_match parsed.
 *
 * @example for (const card of await listActiveStampCards(tx, businessId)) { ... }
 */
export async function listActiveStampCards(tx: Db | Tx, businessId: string): Promise<StampCard[]> {
  return cardsOf(tx, businessId, { active: true });
}

/** The business's archived stamp cards, oldest first: what a member's summary shows of them. */
export async function listArchivedStampCards(
  tx: Db | Tx,
  businessId: string,
): Promise<{ id: string; name: string; stamps_required: number }[]> {
  return tx
    .selectFrom("stamp_cards")
    .select(["id", "name", "stamps_required"])
    .where("business_id", "=", businessId)
    .where("archived_at", "is not", null)
    .orderBy("created_at")
    .orderBy("id")
    .execute();
}

/**
 * The named stamp cards of the business, archived ones too (an archived card earns nothing, but
 * its stamps still pay for rewards, so a refund or a correction may still touch them).
 */
export async function stampCardsByIds(
  tx: Db | Tx,
  businessId: string,
  ids: readonly string[],
): Promise<StampCard[]> {
  return ids.length === 0 ? [] : cardsOf(tx, businessId, { ids });
}

/** The business's stamp cards, oldest first: the active ones, or the named ones. */
async function cardsOf(
  tx: Db | Tx,
  businessId: string,
  only: { active?: true; ids?: readonly string[] },
): Promise<StampCard[]> {
  let query = tx.selectFrom("stamp_cards").selectAll().where("business_id", "=", businessId);
  if (only.active) query = query.where("archived_at", "is", null);
  if (only.ids) query = query.where("id", "in", only.ids);
  const rows = await query.orderBy("created_at").orderBy("id").execute();
  return rows.map(toCard);
}

/** Every stamp card of the business, oldest first; archived ones only when asked. */
export async function listStampCards(
  db: Db | Tx,
  businessId: string,
  options: { includeArchived?: boolean },
  page: PageRequest,
): Promise<{ data: StampCardDto[]; next_cursor: string | null }> {
  let query = db.selectFrom("stamp_cards").selectAll().where("business_id", "=", businessId);
  if (!options.includeArchived) query = query.where("archived_at", "is", null);
  const scope = ["stamp_cards", businessId, options.includeArchived ?? false];
  const after = decodeKeyCursor(page.cursor, scope, ["time", "uuid"]);
  if (after !== undefined) {
    const [createdAt, id] = after;
    query = query.where(sql<boolean>`(created_at, id) > (${createdAt}::timestamptz, ${id}::uuid)`);
  }
  const rows = await query
    .orderBy("created_at")
    .orderBy("id")
    .limit(page.limit + 1)
    .execute();
  return toPage(rows, page.limit, stampCardDto, scope, (row) => [row.created_at.toISOString(), row.id]);
}

async function findRow(db: Db | Tx, businessId: string, id: string): Promise<StampCardsTable> {
  const row = await db
    .selectFrom("stamp_cards")
    .selectAll()
    .where("business_id", "=", businessId)
    .where("id", "=", id)
    .executeTakeFirst();
  if (!row) throw notFound("stamp_card", id);
  return row;
}

/** One stamp card of the business (archived too), or 404 `stamp_card_not_found`. */
export async function getStampCard(db: Db | Tx, businessId: string, id: string): Promise<StampCardDto> {
  return stampCardDto(await findRow(db, businessId, id));
}

/**
 * Creates a stamp card, audited, inside the caller's transaction (the route's, which also keeps
 * its idempotency key; a program template's, which creates several things at once).
 *
 * @example await createStampCardInTx(tx, actor, { name: "Coffee card", stamps_required: 10, earn_on: "visit", min_spend_minor: 0, max_stamps_per_purchase: 1 }, now)
 */
export async function createStampCardInTx(
  tx: Tx,
  actor: Actor,
  input: StampCardInput,
  now: Date,
): Promise<StampCardDto> {
  const itemMatch = itemMatchFor(input.earn_on, input.item_match, input.item_match != null);
  await lockProgram(tx, actor.businessId);
  const { count } = await tx
    .selectFrom("stamp_cards")
    .select((eb) => eb.fn.countAll<number>().as("count"))
    .where("business_id", "=", actor.businessId)
    .where("archived_at", "is", null)
    .executeTakeFirstOrThrow();
  if (Number(count) >= MAX_ACTIVE_STAMP_CARDS) {
    throw conflict(
      "stamp_card_limit_reached",
      `A business can run at most ${MAX_ACTIVE_STAMP_CARDS} stamp cards at once; archive one first.`,
    );
  }
  const row: StampCardsTable = {
    business_id: actor.businessId,
    id: newId(now.getTime()),
    name: input.name,
    stamps_required: input.stamps_required,
    earn_on: input.earn_on,
    min_spend_minor: input.min_spend_minor,
    item_match: itemMatch,
    max_stamps_per_purchase: input.max_stamps_per_purchase,
    archived_at: null,
    created_at: now,
    updated_at: now,
  };
  await tx
    .insertInto("stamp_cards")
    .values({ ...row, item_match: JSON.stringify(itemMatch) })
    .execute();
  await audit(tx, actor, now, {
    action: "stamp_card.created",
    targetType: "stamp_card",
    targetId: row.id,
    data: { ...input },
  });
  return stampCardDto(row);
}

/**
 * Changes some fields of an active stamp card, audited. Stamps already collected stay as they are.
 *
 * @example await updateStampCard(db, actor, cardId, { stamps_required: 8 }, now)
 */
export async function updateStampCard(
  db: Db,
  actor: Actor,
  id: string,
  patch: StampCardPatch,
  now: Date,
): Promise<StampCardDto> {
  return db.transaction().execute(async (tx) => {
    await lockProgram(tx, actor.businessId);
    const current = await findRow(tx, actor.businessId, id);
    if (current.archived_at) {
      throw conflict("stamp_card_archived", `Stamp card ${id} is archived and cannot change.`);
    }
    const earnOn = patch.earn_on ?? current.earn_on;
    const sent = patch.item_match != null;
    const match = patch.item_match === undefined ? ItemMatch.parse(current.item_match) : patch.item_match;
    const itemMatch = itemMatchFor(earnOn, match, sent);
    const { item_match: _ignored, ...fields } = patch;
    const row = await tx
      .updateTable("stamp_cards")
      .set({ ...fields, item_match: JSON.stringify(itemMatch), updated_at: now })
      .where("business_id", "=", actor.businessId)
      .where("id", "=", id)
      .returningAll()
      .executeTakeFirstOrThrow();
    await audit(tx, actor, now, {
      action: "stamp_card.updated",
      targetType: "stamp_card",
      targetId: id,
      data: { ...patch },
    });
    return stampCardDto(row);
  });
}

/**
 * Archives a stamp card: it earns no more stamps, while stamps already collected stay. Archiving
 * an archived card changes nothing.
 *
 * @example await archiveStampCard(db, actor, cardId, now)
 */
export async function archiveStampCard(db: Db, actor: Actor, id: string, now: Date): Promise<StampCardDto> {
  return db.transaction().execute(async (tx) => {
    // Moves the program's version: every node's snapshot drops it before its next purchase.
    await lockProgram(tx, actor.businessId);
    const current = await findRow(tx, actor.businessId, id);
    if (current.archived_at) return stampCardDto(current);
    const row = await tx
      .updateTable("stamp_cards")
      .set({ archived_at: now, updated_at: now })
      .where("business_id", "=", actor.businessId)
      .where("id", "=", id)
      .returningAll()
      .executeTakeFirstOrThrow();
    await audit(tx, actor, now, { action: "stamp_card.archived", targetType: "stamp_card", targetId: id });
    return stampCardDto(row);
  });
}
