import { TopBar } from "../ui/components.tsx";

/** Placeholder until the counter is built. */
export default function Counter() {
  return <TopBar />;
}
