import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const serverScript = fileURLToPath(new URL("../src/server.ts", import.meta.url));
const children = new Set<ChildProcess>();

interface Run {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

/** `node server.ts` with only the environment given (plus PATH), as an operator would start it. */
function startApi(env: Record<string, string>): Run {
  const child = spawn(process.execPath, ["--import", "tsx", serverScript], {
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(child);
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => {
      children.delete(child);
      resolve(code);
    }),
  );
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

async function waitFor(what: string, condition: () => boolean, timeoutMs: number, exited: Promise<unknown>): Promise<void> {
  let gone = false;
  void exited.then(() => (gone = true));
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (gone) throw new Error(`process exited while waiting for ${what}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

afterAll(() => {
  for (const child of children) child.kill("SIGKILL");
});

describe("server.ts as a process", () => {
  it("an unreachable DATABASE_URL exits 1 with exactly one line on stderr naming the reason", async () => {
    const run = startApi({ DATABASE_URL: "postgresql://postgres@127.0.0.1:1/none", BERTH_DATA_DIR: join(tmpdir(), "berth-unused") });
    expect(await run.exited).toBe(1);
    expect(run.stderr()).toBe("berth: database unavailable: nothing listens at 127.0.0.1:1/none (connection refused)\n");
  }, 120_000);

  it("API_PORT=abc exits 1 with one line naming API_PORT", async () => {
    const run = startApi({ API_PORT: "abc" });
    expect(await run.exited).toBe(1);
    expect(run.stderr()).toBe('berth: API_PORT="abc" is invalid: expected a TCP port 1-65535\n');
    expect(run.stdout()).toBe("");
  }, 120_000);

  it("starts on the embedded database, prints the new admin token once, and stops cleanly on SIGTERM", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "berth-process-test-"));
    try {
      const port = await freePort();
      const env = { BERTH_DATA_DIR: dataDir, API_PORT: String(port), API_HOST: "127.0.0.1", LOG_LEVEL: "error" };

      const first = startApi(env);
      await waitFor("the listening line", () => first.stdout().includes("API listening"), 90_000, first.exited);
      const lines = first.stdout().trim().split("\n");
      expect(lines[0]).toMatch(/^berth: cluster mode=local clustered=false /);
      expect(lines.at(-1)).toBe(`berth: API listening on http://127.0.0.1:${port}`);
      const token = /(berth_[A-Za-z0-9_-]{43})/.exec(first.stdout())?.[1];
      expect(token).toBeDefined();
      expect(first.stdout().match(/berth_[A-Za-z0-9_-]{43}/g)).toHaveLength(1);

      const me = await fetch(`http://127.0.0.1:${port}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: "{ me { name role } }" }),
      });
      expect(await me.json()).toEqual({ data: { me: { name: "bootstrap", role: "admin" } } });

      first.child.kill("SIGTERM");
      expect(await first.exited).toBe(0);
      expect(first.stderr()).toBe("");
      // The data directory lock was released: the next start may use it.
      expect(existsSync(join(dataDir, "db", "berth.pid"))).toBe(false);

      const second = startApi(env);
      await waitFor("the listening line", () => second.stdout().includes("API listening"), 90_000, second.exited);
      expect(second.stdout()).not.toMatch(/berth_[A-Za-z0-9_-]{43}/);
      const again = await fetch(`http://127.0.0.1:${port}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: "{ me { role } }" }),
      });
      expect(await again.json()).toEqual({ data: { me: { role: "admin" } } });
      second.child.kill("SIGINT");
      expect(await second.exited).toBe(0);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 240_000);
});
