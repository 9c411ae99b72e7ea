#!/usr/bin/env node
// Runs the TypeScript CLI (src/cli/main.ts) through tsx, passing arguments, stdio, signals and
// the exit code through.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const main = fileURLToPath(new URL("../src/cli/main.ts", import.meta.url));
// Resolved from this package, not from the working directory, so `regulars` runs from anywhere.
const tsx = import.meta.resolve("tsx");
const child = spawn(process.execPath, ["--import", tsx, main, ...process.argv.slice(2)], {
  stdio: "inherit",
  cwd: process.cwd(),
});
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => {
  if (signal) {
    // Ends the same way, so whoever started it sees a command stopped, never one done (exit 0):
    // without its handler first, the signal would only reach the handler above.
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
  } else process.exit(code ?? 1);
});
