// The agent process: `node --import tsx packages/agent/src/main.ts` (or its bundle, deploy/Dockerfile.agent).
// SIGTERM/SIGINT: no new work, running tasks get BERTH_SHUTDOWN_GRACE_MS, the rest are reported stopped.
import { startAgent, type Agent } from "./agent.js";
import { agentOptionsFromEnv } from "./config.js";

let agent: Agent;
try {
  agent = startAgent(agentOptionsFromEnv(process.env));
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(2);
}
const shutdown = () => void agent.stop();
process.once("SIGTERM", shutdown);
process.once("SIGINT", shutdown);
void agent.ended.then(() => process.exit(0));
