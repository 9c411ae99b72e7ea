import { defineConfig } from "vitest/config";

// Integration tests (`*.int.test.ts`) run twice: on embedded PGlite and on the PostgreSQL server
// named by TEST_DATABASE_URL (default: the local server). Unit tests run once, without a database.
export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // The files of a worker share one module graph: each still opens its own database (a PGlite
    // loaded from the template, or a database of its own on the server) and its own app, so what
    // they share is code, compiled once — and the PGlite WebAssembly with it. Isolating every file
    // cost three times the run's time in imports and cold code (215 s against 71 s for test/api).
    isolate: false,
    // Two files at a time on two cores (Vitest's default there is one): a file on the PostgreSQL
    // server, or one waiting for a command it started, leaves a core idle otherwise. The browser
    // tests too: a page mostly waits (for an answer, a timer, the next poll), and two browser files
    // at once took 190 s against 290 s one at a time, and passed with one or both cores kept busy
    // by other work (233 and 260 s).
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          include: ["src/**/*.test.ts", "test/**/*.test.ts"],
          exclude: ["**/*.int.test.ts", "**/*.e2e.test.ts", "**/node_modules/**"],
        },
      },
      {
        extends: true,
        test: {
          name: "pglite",
          include: ["src/**/*.int.test.ts", "test/**/*.int.test.ts"],
          env: { TEST_ENGINE: "pglite" },
          globalSetup: ["test/helpers/setup-pglite.ts"],
        },
      },
      {
        extends: true,
        test: {
          name: "postgres",
          include: ["src/**/*.int.test.ts", "test/**/*.int.test.ts"],
          env: { TEST_ENGINE: "postgres" },
          globalSetup: ["test/helpers/setup-postgres.ts"],
        },
      },
      {
        extends: true,
        test: {
          // The web app in Chromium, on the embedded database (the product's default).
          name: "e2e",
          // After the database tests: a browser on two shared cores next to them is slow to answer.
          sequence: { groupOrder: 1 },
          include: ["test/e2e/**/*.e2e.test.ts"],
          maxWorkers: 2,
          env: { TEST_ENGINE: "pglite" },
          globalSetup: ["test/helpers/setup-pglite.ts", "test/e2e/setup-web.ts"],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          // A page that is slow to show something, not one that never does: on a slow day this
          // machine took over a second (the default) to render a card.
          expect: { poll: { timeout: 10_000 } },
        },
      },
      {
        extends: true,
        test: {
          // The whole journey again on the PostgreSQL server, as production runs it.
          name: "e2e-postgres",
          // After the other browser tests, not next to them: one browser at a time.
          sequence: { groupOrder: 2 },
          include: ["test/e2e/journey.e2e.test.ts"],
          maxWorkers: 1,
          env: { TEST_ENGINE: "postgres" },
          globalSetup: ["test/helpers/setup-postgres.ts", "test/e2e/setup-web.ts"],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          expect: { poll: { timeout: 10_000 } },
        },
      },
    ],
  },
});
