// What the agent image runs: the reference agent bundled into one file (scripts/bundle-agent.mjs,
// as deploy/Dockerfile.agent does), started with plain node and nothing else on disk. It calls
// the API it is given with its token and stops cleanly on SIGTERM.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundleAgent, DEFAULT_AGENT_ENTRY } from "../../../../scripts/bundle-agent.mjs";
import { until } from "../runtime/wait.js";

let dir: string;
let agentFile: string;
let server: Server;
let apiUrl: string;
const received: { path: string; authorization?: string; body: string }[] = [];
const children: ChildProcess[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "berth-agent-image-"));
  agentFile = await bundleAgent(DEFAULT_AGENT_ENTRY, join(dir, "agent.mjs"));
  // Any API: it records what the agent sends and refuses everything, so the agent keeps retrying.
  server = createServer(async (req: IncomingMessage, res) => {
    let body = "";
    for await (const chunk of req) body += chunk;
    received.push({ path: req.url ?? "", authorization: req.headers.authorization, body });
    res.writeHead(503, { "content-type": "application/json" }).end(JSON.stringify({ errors: [{ message: "not now" }] }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const child of children) child.kill("SIGKILL");
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

function run(env: Record<string, string>) {
  // Only the bundle and node: the directory holds nothing else, and no node_modules is reachable from it.
  const child = spawn(process.execPath, [agentFile], { cwd: dir, env: { PATH: process.env.PATH ?? "", ...env }, stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  let output = "";
  child.stdout!.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, exited, output: () => output };
}

describe("the agent image's program", () => {
  it("is one file that calls the API with its token and pod name, and exits 0 on SIGTERM", async () => {
    expect(await readdir(dir)).toEqual(["agent.mjs"]);
    const agent = run({ BERTH_API_URL: apiUrl, BERTH_AGENT_TOKEN: "agent-token-of-the-pod", BERTH_POD_NAME: "ci-0a1b2", BERTH_HEARTBEAT_MS: "100" });
    await until(() => received.some((r) => r.body.includes("ci-0a1b2")), "the agent's first call", 20_000);
    const call = received.find((r) => r.body.includes("ci-0a1b2"))!;
    expect(call.path).toBe("/graphql");
    expect(call.authorization).toBe("Bearer agent-token-of-the-pod");
    agent.child.kill("SIGTERM");
    expect(await agent.exited).toBe(0);
  });

  it("exits 2 naming the variable when its configuration is missing", async () => {
    const agent = run({ BERTH_API_URL: apiUrl, BERTH_AGENT_TOKEN: "t" });
    expect(await agent.exited).toBe(2);
    expect(agent.output()).toContain("BERTH_POD_NAME");
  });
});
