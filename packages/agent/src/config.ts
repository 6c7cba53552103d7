import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A variable of the agent is missing or malformed. */
export class AgentConfigError extends Error {
  constructor(
    readonly variable: string,
    readonly got: string | undefined,
  ) {
    super(`${variable}=${JSON.stringify(got ?? "")} is invalid or missing`);
    this.name = "AgentConfigError";
  }
}

export interface AgentOptions {
  apiUrl: string;
  token: string;
  pod: string;
  /** Slots of the pod (`BERTH_SLOTS`): working directories exist for these indexes only. */
  slots: number;
  /** Where each task gets its working directory, `<workDir>/<slot>/<taskId>`. */
  workDir: string;
  heartbeatMs?: number;
  /** On SIGTERM: how long running work may go on before it is stopped and reported `stopped`. */
  shutdownGraceMs?: number;
  /** A stopped command gets this long between SIGTERM and SIGKILL (capped by the pool's stopGraceSeconds). */
  killGraceMs?: number;
  /** Exit after this long without reaching the API, once nothing runs. Default: never. */
  orphanExitMs?: number;
  /** Delays between retries (registration, reports) and subscription reconnects. */
  retry?: { initialMs: number; maxMs: number };
  /** Listen to the assignments subscription as well as syncing (default true). */
  subscribe?: boolean;
  /** Log shipping: how often pending output is sent (default 200 ms). */
  logFlushMs?: number;
  log?: (line: string) => void;
}

/**
 * The environment the runtimes give an agent: BERTH_API_URL, BERTH_POD_NAME and
 * BERTH_AGENT_TOKEN or BERTH_AGENT_TOKEN_FILE (required), BERTH_SLOTS (default 3),
 * BERTH_WORK_DIR (default `<tmp>/berth-work/<pod>`), BERTH_HEARTBEAT_MS (5000),
 * BERTH_SHUTDOWN_GRACE_MS (3000), BERTH_KILL_GRACE_MS (10000), BERTH_ORPHAN_EXIT_SECONDS (never).
 */
export function agentOptionsFromEnv(env: Record<string, string | undefined>): AgentOptions {
  const need = (name: string) => {
    const value = env[name];
    if (!value) throw new AgentConfigError(name, value);
    return value;
  };
  const positive = (name: string, fallback: number | undefined, scale = 1) => {
    const value = env[name];
    if (value === undefined || value === "") return fallback;
    const n = Number(value);
    if (!Number.isInteger(n) || n <= 0) throw new AgentConfigError(name, value);
    return n * scale;
  };
  const apiUrl = need("BERTH_API_URL");
  if (!URL.canParse(apiUrl)) throw new AgentConfigError("BERTH_API_URL", apiUrl);
  let token = env.BERTH_AGENT_TOKEN;
  if (!token && env.BERTH_AGENT_TOKEN_FILE) {
    try {
      token = readFileSync(env.BERTH_AGENT_TOKEN_FILE, "utf8").trim();
    } catch {
      throw new AgentConfigError("BERTH_AGENT_TOKEN_FILE", env.BERTH_AGENT_TOKEN_FILE);
    }
  }
  if (!token) throw new AgentConfigError("BERTH_AGENT_TOKEN", token);
  const pod = need("BERTH_POD_NAME");
  const slots = positive("BERTH_SLOTS", 3)!;
  if (slots > 64) throw new AgentConfigError("BERTH_SLOTS", env.BERTH_SLOTS);
  return {
    apiUrl,
    token,
    pod,
    slots,
    workDir: env.BERTH_WORK_DIR || join(tmpdir(), "berth-work", pod),
    heartbeatMs: positive("BERTH_HEARTBEAT_MS", 5000),
    shutdownGraceMs: positive("BERTH_SHUTDOWN_GRACE_MS", 3000),
    killGraceMs: positive("BERTH_KILL_GRACE_MS", 10_000),
    orphanExitMs: positive("BERTH_ORPHAN_EXIT_SECONDS", undefined, 1000),
  };
}
