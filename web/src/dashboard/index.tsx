import { TopBar } from "../ui/components.tsx";

/** Placeholder until the dashboard is built. */
export default function Dashboard() {
  return <TopBar />;
}
