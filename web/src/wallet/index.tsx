import { TopBar } from "../ui/components.tsx";

/** Placeholder until the wallet is built. */
export default function Wallet() {
  return <TopBar />;
}
