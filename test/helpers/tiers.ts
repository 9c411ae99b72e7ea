import type { Tenant } from "./api.ts";

async function ok(tenant: Tenant, method: "GET" | "POST" | "PUT", url: string, body?: unknown) {
  const res = await tenant.call(method, url, body);
  if (res.status >= 300) throw new Error(`${method} ${url} → ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/**
 * A boutique for the tier tests, set up by its owner: tiers by spend over `period`, Silver (×1.25
 * from 200.00) and Gold (×1.5 from 500.00), a Gold-only purchase rule (100 points), a Gold-only
 * event rule (`review_written`, 40 points) and a Gold-only reward. It answers through a manager's
 * API key, since tests that move the clock by months outlive an owner's session.
 */
export async function goldBoutique(
  owner: Tenant,
  period: "calendar_year" | "rolling_12_months" = "calendar_year",
): Promise<{ tenant: Tenant; silver: string; gold: string; lounge: string }> {
  const key = await ok(owner, "POST", "/v1/api-keys", { name: "Till", role: "manager" });
  const tenant = owner.as(key.key);
  const program = (await ok(tenant, "GET", "/v1/program")).config;
  await ok(tenant, "PUT", "/v1/program", { ...program, tiers: { metric: "spend", period } });
  const silver = await ok(tenant, "POST", "/v1/tiers", {
    name: "Silver",
    rank: 1,
    threshold: 20_000,
    earn_multiplier_bp: 12_500,
  });
  const gold = await ok(tenant, "POST", "/v1/tiers", {
    name: "Gold",
    rank: 2,
    threshold: 50_000,
    earn_multiplier_bp: 15_000,
  });
  await ok(tenant, "POST", "/v1/rules", {
    name: "Gold thank-you",
    trigger: "purchase",
    conditions: { tier_ids: [gold.id] },
    effect: { type: "fixed_points", points: 100 },
  });
  await ok(tenant, "POST", "/v1/rules", {
    name: "Gold review",
    trigger: "event",
    event_type: "review_written",
    conditions: { tier_ids: [gold.id] },
    effect: { type: "fixed_points", points: 40 },
  });
  const lounge = await ok(tenant, "POST", "/v1/rewards", {
    name: "Gold lounge",
    type: "free_product",
    value: { product_name: "Lounge visit" },
    cost_points: 10,
    eligible_tier_ids: [gold.id],
  });
  return { tenant, silver: silver.id, gold: gold.id, lounge: lounge.id };
}
