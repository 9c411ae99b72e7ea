import { describe, expect, it } from "vitest";
import { AppError } from "./errors.ts";
import { clientNetwork, FailureLimit } from "./failure-limit.ts";

describe("clientNetwork", () => {
  it.each([
    ["203.0.113.9", "203.0.113.9"],
    ["::ffff:203.0.113.9", "203.0.113.9"],
    ["::ffff:cb00:7109", "203.0.113.9"],
    ["2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"],
    ["2001:0db8:0001:0002:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"],
    ["2001:db8::1", "2001:db8:0:0::/64"],
    ["::1", "0:0:0:0::/64"],
    ["fe80::1%eth0", "fe80:0:0:0::/64"],
    ["client-a", "client-a"],
    ["2001:db8::zz", "2001:db8::zz"],
  ])("%s is counted as %s", (address, network) => {
    expect(clientNetwork(address)).toBe(network);
  });
});

describe("FailureLimit", () => {
  const refused = new AppError(401, "unauthorized", "no");
  const now = new Date("2026-11-24T10:00:00Z");

  it("spares a credential noted as issued, by its token whatever the header's scheme, until it is refused", async () => {
    const limit = new FailureLimit(2);
    limit.noteValid("rs_good", now);
    for (let i = 0; i < 2; i++) {
      await expect(limit.guard("10.0.0.1", now, `bad-${i}`, () => Promise.reject(refused))).rejects.toBe(
        refused,
      );
    }
    await expect(limit.guard("10.0.0.1", now, "bad-3", async () => "x")).rejects.toMatchObject({
      status: 429,
    });
    await expect(limit.guard("10.0.0.1", now, "Bearer rs_good", async () => "ok")).resolves.toBe("ok");
    // Revoked meanwhile: refused once, it is no longer spared.
    await expect(limit.guard("10.0.0.1", now, "rs_good", () => Promise.reject(refused))).rejects.toBe(
      refused,
    );
    await expect(limit.guard("10.0.0.1", now, "rs_good", async () => "ok")).rejects.toMatchObject({
      status: 429,
    });
  });

  it("counts under the key it is given, and says what it counts", async () => {
    const limit = new FailureLimit(1, 15 * 60_000, "failed log-ins to this account", (a) => a);
    await expect(limit.guard("cafe a@b.test", now, undefined, () => Promise.reject(refused))).rejects.toBe(
      refused,
    );
    const error = await limit.guard("cafe a@b.test", now, undefined, async () => "ok").catch((e) => e);
    expect(error.message).toBe(
      "Too many failed log-ins to this account: this limit allows 1 in 15 minutes. Retry in 900 s.",
    );
    await expect(limit.guard("cafe c@d.test", now, undefined, async () => "ok")).resolves.toBe("ok");
  });
});
