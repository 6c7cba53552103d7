import { rm } from "node:fs/promises";

export default async function globalTeardown(): Promise<void> {
  const dir = process.env.BERTH_E2E_DATA_DIR;
  if (dir && !process.env.BERTH_E2E_KEEP_DATA) await rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
}
