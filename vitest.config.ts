import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: {
    // graphql ships CommonJS (main) and ESM (module) without an exports map: Node gives yoga and
    // Pothos the CommonJS build, Vite would give our sources the ESM one, and two copies of
    // graphql break its instanceof checks. Resolve ours the way Node does.
    alias: [{ find: /^graphql$/, replacement: "graphql/index.js" }],
  },
  test: {
    include: ["packages/*/test/**/*.test.ts", "apps/api/test/**/*.test.ts", "apps/web/test/**/*.test.ts", "prisma/**/*.test.ts"],
    globalSetup: ["packages/core/test/support/global-setup.ts"],
    // Generous: PGlite compiles its WASM per database, slow when the two cores are busy.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    maxWorkers: 3,
  },
});
