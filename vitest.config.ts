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
    // The fault scenarios start several API processes each: they run after, one at a time
    // (vitest.faults.config.ts), so that they do not starve each other of two cores.
    exclude: ["**/node_modules/**", "apps/api/test/faults/**"],
    globalSetup: ["packages/core/test/support/global-setup.ts"],
    // Generous: PGlite compiles its WASM per database, slow when the two cores are busy.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    maxWorkers: 3,
  },
});
