import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runJob } from "../../src/jobs/index.ts";
import { runBirthdays } from "../../src/use-cases/birthdays.ts";
import { startTestApp, type TestApp } from "../helpers/api.ts";

let t: TestApp;
beforeAll(async () => {
  // 23:30 UTC on 27 February 2027 is already 28 February in Amsterdam; 2027 is not a leap year.
  t = await startTestApp({ now: "2027-02-27T23:30:00Z" });
});
afterAll(async () => t?.close());

describe("birthday rewards", () => {
  it("give birthday members their treat once a year, on the business's date", async () => {
    const owner = await t.signup();
    const key = (await owner.call("POST", "/v1/api-keys", { name: "POS", role: "manager" })).body.key;
    const tenant = owner.as(key);
    const rule = await tenant.call("POST", "/v1/rules", {
      name: "Happy birthday",
      trigger: "birthday",
      effect: { type: "fixed_points", points: 100 },
    });
    expect(rule.status).toBe(201);
    const bad = await tenant.call("POST", "/v1/rules", {
      name: "x",
      trigger: "birthday",
      event_type: "x",
      effect: { type: "fixed_points", points: 1 },
    });
    expect(bad.body.error.code).toBe("event_type_not_allowed");
    const born = async (birthday: string) =>
      (await tenant.call("POST", "/v1/members", { birthday, marketing_consent: false })).body.id as string;
    const today = await born("1990-02-28");
    const leapling = await born("1992-02-29");
    const other = await born("1990-03-01");
    const points = async (id: string) =>
      (await tenant.call("GET", `/v1/members/${id}/card`)).body.points.available;

    // 27 Feb 23:30 UTC is 28 Feb 00:30 in Amsterdam: the 28th's members and, in 2027, the leapling.
    expect(await runBirthdays(t.ctx, t.clock.now())).toEqual({ members: 2 });
    expect([await points(today), await points(leapling), await points(other)]).toEqual([100, 100, 0]);
    expect(await runJob(t.ctx, "birthdays", "node-a")).toEqual({ members: 0 });
    expect(await points(today)).toBe(100);
    const history = await tenant.call("GET", `/v1/members/${today}/history`);
    expect(history.body.data[0]).toMatchObject({
      reason: "Happy birthday",
      actor: "system:birthdays",
      source_type: "birthday",
      source_id: "2027",
    });

    t.clock.set(new Date("2027-03-01T12:00:00Z"));
    expect(await runBirthdays(t.ctx, t.clock.now())).toEqual({ members: 1 });
    expect(await points(other)).toBe(100);
    t.clock.set(new Date("2028-02-28T12:00:00Z"));
    // 2028 is a leap year: the 28th's members only; the leapling waits for the 29th.
    expect(await runBirthdays(t.ctx, t.clock.now())).toEqual({ members: 1 });
    expect(await points(today)).toBe(200);
    expect(await points(leapling)).toBe(100);
  });
});
