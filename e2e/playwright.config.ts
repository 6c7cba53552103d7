import { defineConfig } from "@playwright/test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ADMIN_TOKEN, API_PORT, WEB_PORT, WEB_URL } from "./tests/settings.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, "..");

// One fresh data directory per run, made once: workers load this file again and inherit the env.
process.env.BERTH_E2E_DATA_DIR ??= mkdtempSync(path.join(tmpdir(), "berth-e2e-"));

export default defineConfig({
  testDir: "./tests",
  outputDir: "../test-results",
  // The scenarios share one API and scale real (local) pods: one at a time keeps a 2-core machine honest.
  workers: 1,
  fullyParallel: false,
  retries: 0,
  timeout: 180_000,
  expect: { timeout: 30_000 },
  reporter: [["list"]],
  globalSetup: "./global-setup.ts",
  globalTeardown: "./global-teardown.ts",
  use: {
    baseURL: WEB_URL,
    viewport: { width: 1280, height: 900 },
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
    acceptDownloads: true,
  },
  projects: [
    {
      name: "chromium",
      use: {
        browserName: "chromium",
        launchOptions: {
          executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
          args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        },
      },
    },
  ],
  webServer: {
    command: "pnpm start",
    cwd: repoRoot,
    url: WEB_URL,
    // The first start builds the console, which takes minutes on a small machine.
    timeout: 600_000,
    reuseExistingServer: !process.env.CI,
    stdout: "pipe",
    stderr: "pipe",
    gracefulShutdown: { signal: "SIGTERM", timeout: 10_000 },
    env: {
      API_PORT: String(API_PORT),
      WEB_PORT: String(WEB_PORT),
      BERTH_DATA_DIR: process.env.BERTH_E2E_DATA_DIR,
      BERTH_ADMIN_TOKEN: ADMIN_TOKEN,
      NEXT_TELEMETRY_DISABLED: "1",
      // Utilisation samples every reconcile pass (5 s), so the pool page's chart gains points quickly.
      UTILISATION_SAMPLE_SECONDS: "2",
    },
  },
});
