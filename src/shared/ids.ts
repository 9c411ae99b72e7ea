import { hash, randomBytes, randomFillSync } from "node:crypto";

let lastMs = 0;
let sequence = 0;

// Random bytes for ids are drawn in blocks: one call into the system's generator per 512 ids
// instead of one per id (a purchase makes about seven).
const ID_RANDOM_BYTES = 8;
const pool = Buffer.alloc(ID_RANDOM_BYTES * 512);
let poolOffset = pool.length;

/**
 * A UUID version 7: time-ordered, so ids sort by creation and make stable pagination cursors.
 * Within one millisecond a 12-bit sequence keeps ids of this process in creation order too.
 *
 * @example newId() // "0193f1c2-7b4e-7c3a-9f2e-5a1b2c3d4e5f"
 */
export function newId(now: number = Date.now()): string {
  let ms = Math.max(now, lastMs);
  if (ms === lastMs) {
    sequence++;
    if (sequence > 0xfff) {
      ms++;
      sequence = 0;
    }
  } else {
    sequence = 0;
  }
  lastMs = ms;
  if (poolOffset === pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const bytes = Buffer.allocUnsafe(16);
  pool.copy(bytes, 8, poolOffset, poolOffset + ID_RANDOM_BYTES);
  poolOffset += ID_RANDOM_BYTES;
  bytes.writeUIntBE(ms, 0, 6);
  bytes[6] = 0x70 | (sequence >> 8);
  bytes[7] = sequence & 0xff;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytes.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

// Crockford-like alphabet without look-alikes (no 0/O, 1/I/L), easy to read aloud at a counter.
const CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ";

/**
 * A random human-friendly code of `length` characters, e.g. a member card code or a voucher code.
 *
 * @example randomCode(8) // "K7QX2M9D"
 */
export function randomCode(length: number): string {
  const bytes = randomBytes(length * 2);
  let out = "";
  for (let i = 0; i < length; i++) {
    const value = bytes.readUInt16BE(i * 2) % CODE_ALPHABET.length;
    out += CODE_ALPHABET[value];
  }
  return out;
}

/** A URL-safe secret with 256 bits of entropy, for API keys and session tokens. */
export function randomSecret(): string {
  return randomBytes(32).toString("base64url");
}

/** SHA-256 in hex: for high-entropy secrets (API keys, tokens) and request fingerprints. */
export function sha256(value: string): string {
  // The one-shot `hash` (Node 20.12+) takes half the time of a `createHash` object.
  return hash("sha256", value, "hex");
}

/** A stable fingerprint of a JSON value: object keys sorted, so key order does not matter. */
export function fingerprint(value: unknown): string {
  return sha256(stableStringify(value));
}

/**
 * JSON with every object's keys in sorted order and undefined properties left out. Loops and
 * string concatenation rather than arrays of entries: it runs on every recorded purchase.
 */
export function stableStringify(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) {
    let out = "[";
    for (let i = 0; i < value.length; i++) out += (i === 0 ? "" : ",") + stableStringify(value[i]);
    return `${out}]`;
  }
  const record = value as Record<string, unknown>;
  // The default sort orders by UTF-16 code units, as `<` does.
  const keys = Object.keys(record).sort();
  let out = "{";
  for (const key of keys) {
    const v = record[key];
    if (v === undefined) continue;
    out += `${out.length === 1 ? "" : ","}${JSON.stringify(key)}:${stableStringify(v)}`;
  }
  return `${out}}`;
}
