import { createContext, useContext } from "react";

/** The business and staff member of the dashboard's cookie session, as `GET /v1/auth/me` returns them. */
export interface Business {
  id: string;
  slug: string;
  name: string;
  currency: string;
  timezone: string;
  locale: string;
  published_at: string | null;
  created_at: string;
}

export interface Staff {
  id: string;
  email: string;
  name: string;
  role: "owner" | "manager" | "cashier";
  disabled: boolean;
  created_at: string;
}

export interface Session {
  business: Business;
  staff: Staff;
  /** Reloads `/v1/auth/me` (after the business profile or publishing changed). */
  refresh(): Promise<void>;
  logout(): Promise<void>;
}

export const SessionContext = createContext<Session | null>(null);

/** The logged-in session; only inside the dashboard's pages, which render after login. */
export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error("useSession outside the dashboard");
  return session;
}
