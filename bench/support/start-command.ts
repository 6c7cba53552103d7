// The production start command of the API, as apps/api/package.json's `start:dist` script
// writes it (the Dockerfile runs the same): read from there so that what is measured and
// tested is what is shipped.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const API_DIR = fileURLToPath(new URL("../../apps/api/", import.meta.url));

/** `node` arguments of `start:dist`, to run with cwd `apps/api`. */
export function productionStartArgs(): { args: string[]; cwd: string } {
  const manifest = JSON.parse(readFileSync(`${API_DIR}package.json`, "utf8")) as { scripts: Record<string, string> };
  const [command, ...args] = manifest.scripts["start:dist"]!.trim().split(/\s+/);
  if (command !== "node") throw new Error(`start:dist must run node directly, found ${command}`);
  return { args, cwd: API_DIR };
}
