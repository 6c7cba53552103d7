// The fault scenarios (apps/api/test/faults): each starts API processes, pods and agents of its
// own and measures how they behave under a fault, so they run one file at a time.
import { defineConfig } from "vitest/config";
import base from "./vitest.config.js";

export default defineConfig({
  resolve: base.resolve,
  test: {
    ...base.test,
    include: ["apps/api/test/faults/**/*.test.ts"],
    exclude: ["**/node_modules/**"],
    fileParallelism: false,
    maxWorkers: 1,
  },
});
