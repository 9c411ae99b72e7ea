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

/**
 * Other names a spreadsheet's header gives the members' columns (Dutch, Polish, and what tills
 * and web shops export), read as the column. A header is compared in lower case, with spaces and
 * hyphens as underscores: "E-mail", "Email address" and "Telefoon" are email, email and phone.
 * Marketing consent has none: a column that says it must say so plainly.
 */
export const MEMBER_ALIASES: Readonly<Record<string, (typeof MEMBER_COLUMNS)[number]>> = {
  e_mail: "email",
  email_address: "email",
  e_mail_address: "email",
  mail: "email",
  emailadres: "email",
  e_mailadres: "email",
  mailadres: "email",
  adres_e_mail: "email",
  phone_number: "phone",
  telephone: "phone",
  tel: "phone",
  mobile: "phone",
  mobiel: "phone",
  telefoon: "phone",
  telefoonnummer: "phone",
  telefon: "phone",
  numer_telefonu: "phone",
  full_name: "name",
  naam: "name",
  imię_i_nazwisko: "name",
  imie_i_nazwisko: "name",
  date_of_birth: "birthday",
  birth_date: "birthday",
  birthdate: "birthday",
  geboortedatum: "birthday",
  data_urodzenia: "birthday",
  language: "locale",
  taal: "locale",
  język: "locale",
  jezyk: "locale",
  customer_id: "external_id",
  customer_number: "external_id",
  klantnummer: "external_id",
  klant_id: "external_id",
  numer_klienta: "external_id",
  member_since: "joined_at",
  lid_sinds: "joined_at",
};

/** Other names of the purchases' columns (see MEMBER_ALIASES). */
export const PURCHASE_ALIASES: Readonly<Record<string, (typeof PURCHASE_COLUMNS)[number]>> = {
  order_id: "external_id",
  transaction_id: "external_id",
  receipt_id: "external_id",
  bonnummer: "external_id",
  customer_id: "member_external_id",
  klantnummer: "member_external_id",
  email: "member_email",
  e_mail: "member_email",
  customer_email: "member_email",
  total: "amount",
  bedrag: "amount",
  kwota: "amount",
  currency_code: "currency",
  valuta: "currency",
  waluta: "currency",
  date: "occurred_at",
  datum: "occurred_at",
  timestamp: "occurred_at",
};

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
