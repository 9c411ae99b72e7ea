import { type Kysely, sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { up as moveClientKeys } from "../../src/db/migrations/0014-client-keys.ts";
import { up as moveWalletKeys } from "../../src/db/migrations/0016-wallet-keys.ts";
import { runBirthdays } from "../../src/use-cases/birthdays.ts";
import { startTestApp, type TestApp } from "../helpers/api.ts";

/**
 * The keys clients send (`Idempotency-Key`) and the keys the server makes itself
 * (`purchase:<external id>`, `birthday:<member>:<year>`, …) never meet: a client may name its
 * requests any way it likes.
 */
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ now: "2026-03-02T09:00:00Z" });
});
afterAll(async () => t?.close());

describe("a client's Idempotency-Key", () => {
  it("named like a purchase's key does not take the purchase's place", async () => {
    const tenant = await t.signup();
    const enrolled = await tenant.call(
      "POST",
      "/v1/members",
      { name: "Ada", marketing_consent: false },
      { "idempotency-key": "purchase:till-1-0042" },
    );
    expect(enrolled.status).toBe(201);
    const bought = await tenant.call("POST", "/v1/purchases", {
      external_id: "till-1-0042",
      member_id: enrolled.body.id,
      amount_minor: 850,
      currency: "EUR",
    });
    expect(bought.status, JSON.stringify(bought.body)).toBe(201);
    // The client's key still replays its own request, and still refuses another under it.
    const again = await tenant.call(
      "POST",
      "/v1/members",
      { name: "Ada", marketing_consent: false },
      { "idempotency-key": "purchase:till-1-0042" },
    );
    expect([again.status, again.body.id]).toEqual([200, enrolled.body.id]);
    expect(again.headers["idempotent-replayed"]).toBe("true");
    const other = await tenant.call(
      "POST",
      "/v1/members",
      { name: "Bea", marketing_consent: false },
      { "idempotency-key": "purchase:till-1-0042" },
    );
    expect([other.status, other.body.error.code]).toEqual([409, "idempotency_key_reused"]);
    expect(other.body.error.message).toBe(
      'The key "purchase:till-1-0042" was already used for a different request. Use a new key for a new operation.',
    );
    expect(other.body.error.details).toEqual({ key: "purchase:till-1-0042" });
  });

  it("named like a birthday's key does not stop the member's birthday", async () => {
    t.clock.set(new Date("2026-07-01T10:00:00Z"));
    const tenant = await t.signup();
    await tenant.call("POST", "/v1/rules", {
      name: "Happy birthday",
      trigger: "birthday",
      effect: { type: "fixed_points", points: 100 },
    });
    const member = (
      await tenant.call("POST", "/v1/members", {
        name: "Kim",
        birthday: "1990-07-01",
        marketing_consent: false,
      })
    ).body.id as string;
    const adjusted = await tenant.call(
      "POST",
      `/v1/members/${member}/adjustments`,
      { points: 5, reason: "welcome" },
      { "idempotency-key": `birthday:${member}:2026` },
    );
    expect(adjusted.status).toBe(201);
    expect(await runBirthdays(t.ctx, t.clock.now())).toMatchObject({ members: expect.any(Number) });
    const card = await tenant.call("GET", `/v1/members/${member}/card`);
    expect(card.body.points.available).toBe(105);
  });
});

describe("migration 0014: client keys", () => {
  it("moves the keys clients sent into their namespace, so a retry after the upgrade replays; the server's stay", async () => {
    const tenant = await t.signup();
    const body = { name: "Ola", marketing_consent: false };
    const first = await tenant.call("POST", "/v1/members", body, { "idempotency-key": "enrol-ola" });
    expect(first.status).toBe(201);
    await tenant.call("POST", "/v1/purchases", {
      external_id: "p-1",
      member_id: first.body.id,
      amount_minor: 500,
      currency: "EUR",
    });
    const keys = async () =>
      (
        await sql<{
          key: string;
        }>`select key from idempotency_keys where business_id = ${tenant.businessId} order by key`.execute(
          t.database.db,
        )
      ).rows.map((r) => r.key);
    expect(await keys()).toEqual(["client:enrol-ola", "purchase:p-1"]);

    // As stored before the migration: the client's key as sent.
    await sql`update idempotency_keys set key = 'enrol-ola' where business_id = ${tenant.businessId} and key = 'client:enrol-ola'`.execute(
      t.database.db,
    );
    await moveClientKeys(t.database.db as unknown as Kysely<unknown>);
    expect(await keys()).toEqual(["client:enrol-ola", "purchase:p-1"]);
    const retry = await tenant.call("POST", "/v1/members", body, { "idempotency-key": "enrol-ola" });
    expect([retry.status, retry.body.id, retry.headers["idempotent-replayed"]]).toEqual([
      200,
      first.body.id,
      "true",
    ]);
  });
});

describe("migration 0016: the wallet's keys", () => {
  it("moves what 0014 made of a wallet's keys to where the wallet looks: a retried redemption or join replays", async () => {
    const tenant = await t.signup();
    expect((await tenant.call("POST", "/v1/program/publish")).status).toBe(200);
    const join = { name: "Ana", email: "ana@wallet.test", marketing_consent: false };
    const joined = await t.call("POST", `/v1/public/businesses/${tenant.slug}/members`, join, {
      "idempotency-key": "join-1",
    });
    expect(joined.status).toBe(201);
    const member = (await tenant.call("GET", `/v1/members/lookup?code=${joined.body.member_code}`)).body.id;
    await tenant.call("POST", `/v1/members/${member}/adjustments`, { points: 100, reason: "welcome gift" });
    const reward = await tenant.call("POST", "/v1/rewards", {
      name: "Coffee",
      type: "free_product",
      value: { product_name: "Coffee" },
      cost_points: 10,
    });
    expect(reward.status).toBe(201);
    const wallet = { authorization: `Bearer ${joined.body.card_token}`, "idempotency-key": "tap-1" };
    const redeemed = await t.call("POST", "/v1/wallet/redemptions", { reward_id: reward.body.id }, wallet);
    expect(redeemed.status).toBe(201);

    const keys = async () =>
      (
        await sql<{ key: string }>`select key from idempotency_keys
          where business_id = ${tenant.businessId} and operation in ('reward.redeem', 'member.create') order by key`.execute(
          t.database.db,
        )
      ).rows.map((r) => r.key);
    const today = [`join:client:join-1`, `wallet:${member}:client:tap-1`];
    expect(await keys()).toEqual(today);
    // As the code before 0014 stored them, then 0014, then 0016.
    await sql`update idempotency_keys set key = replace(key, 'client:', '') where business_id = ${tenant.businessId}
      and operation in ('reward.redeem', 'member.create')`.execute(t.database.db);
    await moveClientKeys(t.database.db as unknown as Kysely<unknown>);
    expect(await keys()).toEqual([`client:join:join-1`, `client:wallet:${member}:tap-1`]);
    await moveWalletKeys(t.database.db as unknown as Kysely<unknown>);
    expect(await keys()).toEqual(today);

    const retried = await t.call("POST", "/v1/wallet/redemptions", { reward_id: reward.body.id }, wallet);
    expect([retried.status, retried.headers["idempotent-replayed"], retried.body.voucher.code]).toEqual([
      200,
      "true",
      redeemed.body.voucher.code,
    ]);
    const rejoined = await t.call("POST", `/v1/public/businesses/${tenant.slug}/members`, join, {
      "idempotency-key": "join-1",
    });
    expect([rejoined.status, rejoined.body.member_code]).toEqual([200, joined.body.member_code]);
    const card = await tenant.call("GET", `/v1/members/${member}/card`);
    expect(card.body.points.available).toBe(90);
  });
});
