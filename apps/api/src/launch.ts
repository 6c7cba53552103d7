// `pnpm start`: the whole product on one machine — the API (with its background jobs and local
// pods) in this process, the console as a child process, the console built first if needed.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadConfigOrExit, runApi } from "./server.js";

const web = join(dirname(fileURLToPath(import.meta.url)), "../../web");
const config = loadConfigOrExit();

const build = spawnSync(process.execPath, [join(web, "scripts/ensure-build.mjs")], { stdio: "inherit" });
if (build.status !== 0) {
  process.stderr.write("berth: the console did not build; see the output above\n");
  process.exit(1);
}

function startConsole(apiUrl: string): ChildProcess {
  const child = spawn(process.execPath, [join(web, "node_modules/next/dist/bin/next"), "start", "-p", String(config.web.port), "-H", config.api.host], {
    cwd: web,
    stdio: ["ignore", "inherit", "inherit"],
    env: { ...process.env, API_URL: apiUrl, NEXT_TELEMETRY_DISABLED: "1" },
  });
  child.on("exit", (code, signal) => {
    if (!stopping) {
      process.stderr.write(`berth: the console exited (${signal ?? code}); stopping\n`);
      process.kill(process.pid, "SIGTERM");
    }
  });
  return child;
}

let stopping = false;
await runApi({
  onStarted: async (started) => {
    const child = startConsole(config.api.url);
    const host = config.api.host === "0.0.0.0" ? "127.0.0.1" : config.api.host;
    console.log(`berth: console on http://${host}:${config.web.port} (API ${started.url}/graphql)`);
    return async () => {
      stopping = true;
      if (child.exitCode === null) {
        child.kill("SIGTERM");
        await new Promise((resolve) => child.once("exit", resolve));
      }
    };
  },
});
