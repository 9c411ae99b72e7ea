/**
 * What an import file may hold, and the errors about a file as a whole: apart from the importer
 * (src/cli/import.ts), so the command line's help and its error handling need not load the
 * engine behind it.
 */

export const MEMBER_COLUMNS = [
  "name",
  "email",
  "phone",
  "birthday",
  "locale",
  "marketing_consent",
  "external_id",
  "code",
  "joined_at",
] as const;

/**
 * The optional columns of a purchase's line items. A file with them has one row per line; the
 * rows of one purchase share its external id (see `importPurchases`).
 */
export const ITEM_COLUMNS = [
  "item_sku",
  "item_name",
  "item_category",
  "item_brand",
  "item_quantity",
  "item_unit_price",
  "item_unit_price_minor",
] as const;

export const PURCHASE_COLUMNS = [
  "external_id",
  "member_external_id",
  "member_code",
  "member_email",
  "amount",
  "amount_minor",
  "currency",
  "occurred_at",
  "location_id",
  ...ITEM_COLUMNS,
] as const;

/** A problem with the file as a whole (missing, too large, wrong header): nothing was imported. */
export class ImportFileError extends Error {
  override name = "ImportFileError";
}

/**
 * The import was asked for something that cannot be (an unknown business, CDNOW into a business
 * that does not use US dollars): nothing was imported. The command line exits 2 for it.
 */
export class ImportUsageError extends ImportFileError {
  override name = "ImportUsageError";
}
