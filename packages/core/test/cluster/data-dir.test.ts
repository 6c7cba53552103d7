import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/cluster/index.js";

describe("the default data directory", () => {
  let checkout: string;
  beforeAll(async () => {
    checkout = await mkdtemp(join(tmpdir(), "berth-checkout-"));
    await writeFile(join(checkout, "pnpm-workspace.yaml"), "packages: []\n");
    await mkdir(join(checkout, "apps", "api"), { recursive: true });
  });
  afterAll(() => rm(checkout, { recursive: true, force: true }));

  it("is the checkout root's .berth both from the root and from apps/api", () => {
    expect(loadConfig({}, checkout).dataDir).toBe(join(checkout, ".berth"));
    expect(loadConfig({}, join(checkout, "apps", "api")).dataDir).toBe(join(checkout, ".berth"));
    expect(loadConfig({}, join(checkout, "apps", "api")).database).toEqual({ kind: "pglite", dataDir: join(checkout, ".berth", "db") });
  });

  it("BERTH_DATA_DIR still wins, relative to where the process runs", () => {
    expect(loadConfig({ BERTH_DATA_DIR: "./mine" }, join(checkout, "apps", "api")).dataDir).toBe(join(checkout, "apps", "api", "mine"));
  });
});
