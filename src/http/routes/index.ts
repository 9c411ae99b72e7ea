import type { AppContext } from "../../context.ts";
import type { ZodApp } from "../app.ts";
import { apiKeyRoutes } from "./api-keys.ts";
import { auditRoutes } from "./audit.ts";
import { businessRoutes } from "./business.ts";
import { launchKitRoutes } from "./launch-kit.ts";
import { ledgerRoutes } from "./ledger.ts";
import { locationRoutes } from "./locations.ts";
import { memberRoutes } from "./members.ts";
import { programRoutes } from "./program.ts";
import { purchaseRoutes } from "./purchases.ts";
import { rewardRoutes } from "./rewards.ts";
import { ruleRoutes } from "./rules.ts";
import { staffRoutes } from "./staff.ts";
import { stampCardRoutes } from "./stamp-cards.ts";
import { templateRoutes } from "./templates.ts";
import { tierRoutes } from "./tiers.ts";
import { voucherRoutes } from "./vouchers.ts";
import { walletRoutes } from "./wallet.ts";

/** Every /v1 route, grouped by module. */
export async function registerRoutes(
  app: ZodApp,
  ctx: AppContext,
  settings: { publicUrl: string | null } = { publicUrl: null },
): Promise<void> {
  await businessRoutes(app, ctx, settings.publicUrl);
  await staffRoutes(app, ctx);
  await apiKeyRoutes(app, ctx);
  await locationRoutes(app, ctx);
  await auditRoutes(app, ctx);
  await memberRoutes(app, ctx);
  await programRoutes(app, ctx);
  await templateRoutes(app, ctx);
  await stampCardRoutes(app, ctx);
  await tierRoutes(app, ctx);
  await ruleRoutes(app, ctx);
  await purchaseRoutes(app, ctx);
  await ledgerRoutes(app, ctx);
  await rewardRoutes(app, ctx);
  await voucherRoutes(app, ctx);
  await walletRoutes(app, ctx, settings.publicUrl);
  await launchKitRoutes(app, ctx, settings.publicUrl);
}
