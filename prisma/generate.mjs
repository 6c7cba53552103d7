// Generates the Prisma client offline. The CLI insists on locating a native
// schema engine even though `generate` never runs it; any executable will do.
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, "../packages/core/package.json"));
const cli = join(dirname(require.resolve("prisma/package.json")), "build/index.js");
const result = spawnSync(process.execPath, [cli, "generate", "--schema", join(here, "schema.prisma")], {
  stdio: "inherit",
  env: {
    ...process.env,
    PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? process.execPath,
    PRISMA_HIDE_UPDATE_MESSAGE: "1",
    CHECKPOINT_DISABLE: "1",
  },
});
process.exit(result.status ?? 1);
