import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../helpers/api.ts";

/** Creating the program's parts is a write a client retries: a key makes it count once. */
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => t?.close());

const BODIES: Record<string, [Record<string, unknown>, Record<string, unknown>]> = {
  "/v1/stamp-cards": [
    { name: "Coffee card", stamps_required: 10, earn_on: "visit" },
    { name: "Tea card", stamps_required: 8, earn_on: "visit" },
  ],
  "/v1/tiers": [
    { name: "Gold", rank: 1, threshold: 1000 },
    { name: "Silver", rank: 2, threshold: 2000 },
  ],
  "/v1/rules": [
    {
      name: "Review bonus",
      trigger: "event",
      event_type: "review_written",
      effect: { type: "fixed_points", points: 5 },
    },
    {
      name: "Survey bonus",
      trigger: "event",
      event_type: "survey_answered",
      effect: { type: "fixed_points", points: 5 },
    },
  ],
  "/v1/rewards": [
    { name: "Mug", type: "perk", value: { perk: "priority_service" }, cost_points: 100 },
    { name: "Tote", type: "perk", value: { perk: "priority_service" }, cost_points: 200 },
  ],
};

describe("creating the program's parts with an Idempotency-Key", () => {
  it.each(Object.keys(BODIES))(
    "%s: a retry gets the first one back, another body under the key is refused",
    async (path) => {
      const tenant = await t.signup();
      const [first, other] = BODIES[path] as [Record<string, unknown>, Record<string, unknown>];
      const key = { "idempotency-key": `create-${path}` };
      const created = await tenant.call("POST", path, first, key);
      expect(created.status).toBe(201);
      const again = await tenant.call("POST", path, first, key);
      expect([again.status, again.headers["idempotent-replayed"], again.body.id]).toEqual([
        200,
        "true",
        created.body.id,
      ]);
      const reused = await tenant.call("POST", path, other, key);
      expect([reused.status, reused.body.error.code]).toEqual([409, "idempotency_key_reused"]);
      const list = await tenant.call("GET", path);
      expect(list.body.data.map((row: { id: string }) => row.id)).toEqual([created.body.id]);
      // Without a key, each request creates.
      expect((await tenant.call("POST", path, other)).status).toBe(201);
      expect((await tenant.call("GET", path)).body.data).toHaveLength(2);
    },
  );
});
