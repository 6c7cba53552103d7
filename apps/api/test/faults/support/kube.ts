import { writeFile } from "node:fs/promises";
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { FakeKubeApi } from "../../../../../packages/core/test/runtime/fake-kube-api.js";

export interface SharedKube {
  api: FakeKubeApi;
  /** KUBECONFIG for the API processes: every replica sees the same pods, as in a real cluster. */
  kubeconfig: string;
  stop(): Promise<void>;
}

/**
 * The Kubernetes API double behind a loopback proxy that holds every pod list for `listDelayMs`,
 * so that a reconcile pass (which lists each pool's pods) keeps its cron lock for that long: long
 * enough for a test to find the lock's holder and kill it in the middle of the pass.
 */
export async function startSharedKube(dir: string, listDelayMs = 0): Promise<SharedKube> {
  const api = await new FakeKubeApi().start();
  const proxy: Server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://proxy");
    const isList = req.method === "GET" && url.pathname.endsWith("/pods") && !url.searchParams.has("watch");
    const forward = () => {
      const upstream = request({ host: "127.0.0.1", port: api.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      upstream.on("error", () => res.destroy());
      req.pipe(upstream);
    };
    if (isList && listDelayMs > 0) setTimeout(forward, listDelayMs);
    else forward();
  });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  const port = (proxy.address() as AddressInfo).port;
  const kubeconfig = join(dir, "kubeconfig.json");
  // JSON is YAML: the client reads it through KUBECONFIG like any kubeconfig.
  await writeFile(
    kubeconfig,
    JSON.stringify({
      apiVersion: "v1",
      kind: "Config",
      // Plain HTTP on loopback: the client allows it only with TLS verification switched off.
      clusters: [{ name: "fake", cluster: { server: `http://127.0.0.1:${port}`, "insecure-skip-tls-verify": true } }],
      users: [{ name: "tester", user: { token: "fake-bearer-token" } }],
      contexts: [{ name: "fake", context: { cluster: "fake", user: "tester", namespace: "default" } }],
      "current-context": "fake",
    }),
  );
  return {
    api,
    kubeconfig,
    stop: async () => {
      proxy.closeAllConnections();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
      await api.stop();
    },
  };
}
