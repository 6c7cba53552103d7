import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startAgent, type Agent } from "../../../../../packages/agent/src/index.js";
import type { FakeKubeApi, FakePod } from "../../../../../packages/core/test/runtime/fake-kube-api.js";

export interface KubeletOptions {
  /** Where the agents reach the API: a Service in front of the replicas. */
  apiUrl: string;
  heartbeatMs?: number;
  /** How long a deleted pod's agent gets to finish its work before the kubelet kills it. */
  shutdownGraceMs?: number;
  log?: (line: string) => void;
}

/**
 * The node side of the fake Kubernetes cluster: for every pod the API server creates it starts
 * the pod's agent (@berth/agent, the agent pods run, in this process, with the env the pod spec
 * gives it and a working directory of its own under a temporary folder),
 * marks the pod Running, stops the agent gracefully when the pod is deleted (then tells the API
 * server the pod is gone), and can kill an agent the way a crashed container dies (the pod then
 * ends Failed, as with restartPolicy Never).
 */
export class FakeKubelet {
  readonly agents = new Map<string, Agent>();
  readonly killed = new Set<string>();
  readonly lines: string[] = [];
  private readonly options: KubeletOptions;
  /** The node's disk: `<workRoot>/<pod>` is each agent's BERTH_WORK_DIR; removed by killAll. */
  private readonly workRoot = mkdtempSync(join(tmpdir(), "berth-kubelet-"));

  constructor(
    private readonly api: FakeKubeApi,
    options: KubeletOptions,
  ) {
    this.options = options;
    api.kubelet = {
      started: (pod) => this.start(pod),
      terminating: (pod, stopped) => void this.stop(pod, stopped),
    };
  }

  /** The agent container's environment as the kubelet resolves it: values, the pod's name, and keys of Secrets. */
  private env(pod: FakePod): Record<string, string> {
    type EnvVar = { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string }; secretKeyRef?: { name: string; key: string } } };
    const spec = pod.spec as { containers?: { name: string; env?: EnvVar[] }[] };
    const container = spec.containers?.find((c) => c.name === "agent");
    const env: Record<string, string> = {};
    for (const e of container?.env ?? []) {
      if (e.value !== undefined) env[e.name] = e.value;
      else if (e.valueFrom?.fieldRef?.fieldPath === "metadata.name") env[e.name] = pod.metadata.name;
      else if (e.valueFrom?.secretKeyRef) {
        const data = this.api.secret(pod.metadata.namespace, e.valueFrom.secretKeyRef.name)?.data?.[e.valueFrom.secretKeyRef.key];
        if (data !== undefined) env[e.name] = Buffer.from(data, "base64").toString("utf8");
      }
    }
    return env;
  }

  private start(pod: FakePod): void {
    const env = this.env(pod);
    const name = pod.metadata.name;
    const log = this.options.log ?? ((line: string) => this.lines.length < 5000 && this.lines.push(line));
    const slots = Number(env.BERTH_SLOTS);
    const agent = startAgent({
      apiUrl: this.options.apiUrl,
      token: env.BERTH_AGENT_TOKEN ?? "",
      pod: name,
      slots: Number.isInteger(slots) && slots > 0 ? slots : 1,
      workDir: join(this.workRoot, name),
      heartbeatMs: this.options.heartbeatMs ?? Number(env.BERTH_HEARTBEAT_MS ?? 1000),
      shutdownGraceMs: this.options.shutdownGraceMs ?? 2000,
      retry: { initialMs: 100, maxMs: 1000 },
      log,
    });
    this.agents.set(name, agent);
    // The container is up.
    setTimeout(() => {
      if (this.api.pod(pod.metadata.namespace, name) && !this.killed.has(name)) this.api.setPhase(pod.metadata.namespace, name, "Running");
    }, 20);
    // An agent that exits on its own (its pod gone, Lost or deleted) ends its container.
    void agent.ended.then(() => {
      const now = this.api.pod(pod.metadata.namespace, name);
      if (now && !now.metadata.deletionTimestamp && !this.killed.has(name)) this.api.setPhase(pod.metadata.namespace, name, "Succeeded");
    });
  }

  private async stop(pod: FakePod, stopped: () => void): Promise<void> {
    const agent = this.agents.get(pod.metadata.name);
    if (agent) await agent.stop();
    stopped();
  }

  /** Kills a pod's agent as a crash would (nothing more is sent); the pod ends Failed. */
  kill(namespace: string, name: string): boolean {
    const agent = this.agents.get(name);
    if (!agent || this.killed.has(name)) return false;
    this.killed.add(name);
    agent.kill();
    if (this.api.pod(namespace, name)) this.api.setPhase(namespace, name, "Failed");
    return true;
  }

  /** Stops every agent at once (end of a test) and removes their working directories. */
  killAll(): void {
    for (const agent of this.agents.values()) agent.kill();
    this.api.kubelet = null;
    rmSync(this.workRoot, { recursive: true, force: true });
  }
}
