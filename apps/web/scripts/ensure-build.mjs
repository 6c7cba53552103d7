// Builds the console when no build exists or a source file is newer than the last build,
// so that `pnpm start` works on a fresh clone and stays quick on later starts.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const sources = ["app", "components", "lib", "types", "proxy.ts", "next.config.ts", "package.json", "tsconfig.json"];

function newest(path) {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return readdirSync(path).reduce((max, name) => Math.max(max, newest(join(path, name))), stat.mtimeMs);
}

const buildId = join(root, ".next", "BUILD_ID");
const built = existsSync(buildId) ? statSync(buildId).mtimeMs : 0;
const changed = Math.max(...sources.map((s) => newest(join(root, s))));
if (built > 0 && built >= changed && process.env.BERTH_FORCE_WEB_BUILD !== "1") process.exit(0);

console.log(built ? "berth: console sources changed, rebuilding the console..." : "berth: building the console (first start only, about a minute)...");
const result = spawnSync(process.execPath, [join(root, "node_modules", "next", "dist", "bin", "next"), "build"], {
  cwd: root,
  stdio: ["ignore", "inherit", "inherit"],
  env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" },
});
process.exit(result.status ?? 1);
