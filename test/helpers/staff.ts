import type { Role } from "../../src/context.ts";
import type { Tenant, TestApp } from "./api.ts";

export const STAFF_PASSWORD = "staff password 123";

let address = 0;

/**
 * Logs a staff member in. Each call comes from its own client address, so the per-IP login rate
 * limit (10 a minute) does not trip files that log in more often than that.
 */
export async function logIn(
  t: TestApp,
  business: string,
  email: string,
  password: string,
): Promise<{ status: number; token: string | undefined; code: string | undefined }> {
  address += 1;
  const res = await t.app.inject({
    method: "POST",
    url: "/v1/auth/login",
    remoteAddress: `10.${(address >> 16) & 255}.${(address >> 8) & 255}.${address & 255}`,
    payload: { business, email, password },
  });
  const body = res.json<{ token?: string; error?: { code: string } }>();
  return { status: res.statusCode, token: body.token, code: body.error?.code };
}

export interface StaffMember {
  id: string;
  email: string;
  /** Calls the API as this staff member, through a session from POST /v1/auth/login. */
  session: Tenant;
}

/** Adds a staff member with `role` to the tenant's business (as its owner) and logs them in. */
export async function addStaff(
  t: TestApp,
  tenant: Tenant,
  role: Role,
  name = `A ${role}`,
): Promise<StaffMember> {
  address += 1;
  const email = `${role}-${address}@${tenant.slug}.test`;
  const res = await tenant.call("POST", "/v1/staff", { email, name, role, password: STAFF_PASSWORD });
  if (res.status !== 201) throw new Error(`adding staff failed: ${res.status} ${JSON.stringify(res.body)}`);
  const login = await logIn(t, tenant.slug, email, STAFF_PASSWORD);
  if (!login.token) throw new Error(`login failed: ${login.status} ${login.code}`);
  return { id: res.body.id, email, session: tenant.as(login.token) };
}

/** The id of the staff member or API key behind the tenant's current token. */
export async function actorId(tenant: Tenant): Promise<string> {
  const me = await tenant.call("GET", "/v1/auth/me");
  return me.body.actor.id;
}
