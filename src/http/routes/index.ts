import type { AppContext } from "../../context.ts";
import type { ZodApp } from "../app.ts";
import { businessRoutes } from "./business.ts";

/** Every /v1 route, grouped by module. */
export async function registerRoutes(app: ZodApp, ctx: AppContext): Promise<void> {
  await businessRoutes(app, ctx);
}
