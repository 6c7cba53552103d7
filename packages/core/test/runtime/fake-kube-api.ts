import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { KubeConfig } from "@kubernetes/client-node";

/** One request as the fake API server received it. */
export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage["headers"];
  body: unknown;
}

type Pod = {
  apiVersion: "v1";
  kind: "Pod";
  metadata: {
    name: string;
    namespace: string;
    uid: string;
    resourceVersion: string;
    creationTimestamp: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    deletionTimestamp?: string;
    deletionGracePeriodSeconds?: number;
  };
  spec: unknown;
  status: { phase: string };
};

type WatchEvent = { type: "ADDED" | "MODIFIED" | "DELETED"; object: Pod; rv: number };
export type { Pod as FakePod };

/**
 * What the node's kubelet does with the pods of this fake cluster: told when a pod is created
 * and when its deletion begins. `stopped()` tells the API server the pod's containers have
 * ended (on deletion it then disappears; otherwise it ends with `phase`).
 */
export interface FakeKubelet {
  started(pod: Pod): void;
  terminating(pod: Pod, stopped: () => void): void;
}

export interface FakeKubeApiOptions {
  /**
   * Grace period of a DELETE that names none, as the real server's default (30 s). The pod stays
   * listed, with `deletionTimestamp`, until its kubelet says it stopped or the grace has passed.
   */
  defaultGracePeriodSeconds?: number;
}

type Secret = {
  apiVersion: "v1";
  kind: "Secret";
  type: string;
  metadata: { name: string; namespace: string; uid: string; resourceVersion: string; creationTimestamp: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  data?: Record<string, string>;
};

/**
 * A Kubernetes API server double that speaks the real wire format for the core/v1 pod calls the
 * runtime makes: list (labelSelector), read, create, delete, merge patch, and watch (newline-
 * delimited JSON events from a resourceVersion, `ERROR` 410 once that version is compacted).
 * Deletion is graceful, as on a real server: DELETE sets `deletionTimestamp` and
 * `deletionGracePeriodSeconds`, the pod stays in LIST and WATCH (MODIFIED) until the kubelet has
 * stopped it or the grace period has passed, and only then comes DELETED. Failures are `Status`
 * objects, as the real server sends them.
 */
export class FakeKubeApi {
  kubelet: FakeKubelet | null = null;
  private readonly defaultGrace: number;
  private readonly graceTimers = new Set<NodeJS.Timeout>();

  constructor(options: FakeKubeApiOptions = {}) {
    this.defaultGrace = options.defaultGracePeriodSeconds ?? 30;
  }

  readonly requests: RecordedRequest[] = [];
  private readonly pods = new Map<string, Pod>();
  private readonly secrets = new Map<string, Secret>();
  private readonly history: WatchEvent[] = [];
  private readonly watchers = new Set<{ res: ServerResponse; namespace: string; selector: Record<string, string> }>();
  private revision = 100;
  /** Resource versions below this are "compacted": a watch from them gets 410 Gone. */
  private compactedBelow = 0;
  private failNextWatches: number[] = [];
  private failNext: { method: string; code: number; reason: string }[] = [];
  private server!: Server;
  port = 0;

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        // A failure of the double itself: answered as the real server answers an internal error, and told.
        process.stderr.write(`fake Kubernetes API: ${req.method} ${req.url} failed: ${(error as Error)?.stack ?? error}\n`);
        if (!res.headersSent) status(res, 500, "InternalError", String((error as Error)?.message ?? error));
        else res.destroy();
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    for (const timer of this.graceTimers) clearTimeout(timer);
    for (const w of this.watchers) w.res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  kubeConfig(namespace = "default", token = "fake-bearer-token"): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: "fake", server: `http://127.0.0.1:${this.port}`, skipTLSVerify: true }],
      users: [{ name: "tester", token }],
      contexts: [{ name: "fake", cluster: "fake", user: "tester", namespace }],
      currentContext: "fake",
    });
    return kc;
  }

  /** Adds a pod as if something else had created it (not recorded as a request). */
  seed(namespace: string, name: string, labels: Record<string, string>): Pod {
    const pod = this.newPod(namespace, name, { metadata: { labels } });
    this.pods.set(`${namespace}/${name}`, pod);
    this.emit("ADDED", pod);
    return pod;
  }

  pod(namespace: string, name: string): Pod | undefined {
    return this.pods.get(`${namespace}/${name}`);
  }

  /** Forgets every pod and secret at once, as a fresh cluster (between tests that share one server). */
  clear(): void {
    for (const timer of this.graceTimers) clearTimeout(timer);
    this.graceTimers.clear();
    this.pods.clear();
    this.secrets.clear();
  }

  /** Every pod of the namespace, those being deleted included. */
  podsIn(namespace: string): Pod[] {
    return [...this.pods.values()].filter((p) => p.metadata.namespace === namespace);
  }

  secret(namespace: string, name: string): Secret | undefined {
    return this.secrets.get(`${namespace}/${name}`);
  }

  /** Every pod and secret stored, as the server would return them. */
  objects(): { pods: Pod[]; secrets: Secret[] } {
    return { pods: [...this.pods.values()], secrets: [...this.secrets.values()] };
  }

  /** Removes a pod at once, as the kubelet finally does (no request recorded). */
  remove(namespace: string, name: string): void {
    if (!this.pods.has(`${namespace}/${name}`)) throw new Error(`no pod ${namespace}/${name}`);
    this.removeKey(`${namespace}/${name}`);
  }

  setPhase(namespace: string, name: string, phase: string): void {
    const pod = this.pods.get(`${namespace}/${name}`);
    if (!pod) throw new Error(`no pod ${namespace}/${name}`);
    pod.status.phase = phase;
    pod.metadata.resourceVersion = String(++this.revision);
    this.emit("MODIFIED", pod);
  }

  /** Forgets the event history: a watch from a resourceVersion older than the newest gets 410 Gone. */
  compact(): void {
    this.compactedBelow = this.revision;
  }

  /** The next watch requests answer with these HTTP statuses instead of a stream. */
  failWatches(...statuses: number[]): void {
    this.failNextWatches.push(...statuses);
  }

  /** The next request with this method answers with this failure `Status`. */
  fail(method: string, code: number, reason: string): void {
    this.failNext.push({ method, code, reason });
  }

  /** Ends every open watch stream, as the server does when a watch call times out. */
  closeWatches(): void {
    for (const w of this.watchers) w.res.end();
    this.watchers.clear();
  }

  get openWatches(): number {
    return this.watchers.size;
  }

  requestsMatching(method: string, pathPrefix = ""): RecordedRequest[] {
    return this.requests.filter((r) => r.method === method && r.path.startsWith(pathPrefix));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://fake");
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString("utf8");
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      // kept as text
    }
    this.requests.push({ method: req.method ?? "", path: url.pathname, query: url.searchParams, headers: req.headers, body });

    if (req.headers.authorization !== "Bearer fake-bearer-token") return status(res, 401, "Unauthorized", "no valid bearer token");
    const failure = this.failNext.findIndex((f) => f.method === req.method);
    if (failure >= 0 && !url.searchParams.has("watch")) {
      const [f] = this.failNext.splice(failure, 1);
      return status(res, f!.code, f!.reason, `injected ${f!.reason}`);
    }
    const secretPath = /^\/api\/v1\/namespaces\/([^/]+)\/secrets(?:\/([^/]+))?$/.exec(url.pathname);
    if (secretPath) return this.handleSecret(req, res, decodeURIComponent(secretPath[1]!), secretPath[2] ? decodeURIComponent(secretPath[2]) : undefined, body);
    const match = /^\/api\/v1\/namespaces\/([^/]+)\/pods(?:\/([^/]+))?$/.exec(url.pathname);
    if (!match) return status(res, 404, "NotFound", `the server could not find the requested resource`);
    const namespace = decodeURIComponent(match[1]!);
    const name = match[2] ? decodeURIComponent(match[2]) : undefined;
    const key = `${namespace}/${name}`;

    if (!name && req.method === "GET") {
      const selector = parseSelector(url.searchParams.get("labelSelector"));
      if (url.searchParams.get("watch") === "true" || url.searchParams.get("watch") === "1") {
        return this.watch(res, namespace, selector, Number(url.searchParams.get("resourceVersion") ?? "0"));
      }
      const items = [...this.pods.values()].filter((p) => p.metadata.namespace === namespace && matches(p, selector));
      return json(res, 200, { kind: "PodList", apiVersion: "v1", metadata: { resourceVersion: String(this.revision) }, items });
    }
    if (!name && req.method === "POST") {
      const manifest = body as { metadata?: { name?: string } };
      const podName = manifest.metadata?.name ?? "";
      if (this.pods.has(`${namespace}/${podName}`)) {
        return status(res, 409, "AlreadyExists", `pods "${podName}" already exists`, { name: podName, kind: "pods" });
      }
      const pod = this.newPod(namespace, podName, manifest);
      this.pods.set(`${namespace}/${podName}`, pod);
      this.emit("ADDED", pod);
      json(res, 201, pod);
      this.kubelet?.started(pod);
      return;
    }
    const pod = this.pods.get(key);
    if (!pod) return status(res, 404, "NotFound", `pods "${name}" not found`, { name, kind: "pods" });
    if (req.method === "GET") return json(res, 200, pod);
    if (req.method === "DELETE") {
      const uid = (body as { preconditions?: { uid?: string } } | undefined)?.preconditions?.uid;
      if (uid !== undefined && uid !== pod.metadata.uid) {
        return status(res, 409, "Conflict", `Precondition failed: UID in precondition: ${uid}, UID in object meta: ${pod.metadata.uid}`);
      }
      if (pod.metadata.deletionTimestamp) return json(res, 200, pod);
      const options = body as { gracePeriodSeconds?: number } | undefined;
      const grace = Number(url.searchParams.get("gracePeriodSeconds") ?? options?.gracePeriodSeconds ?? this.defaultGrace);
      if (grace <= 0) {
        this.removeKey(key);
        return json(res, 200, pod);
      }
      pod.metadata.deletionTimestamp = new Date(Date.now() + grace * 1000).toISOString();
      pod.metadata.deletionGracePeriodSeconds = grace;
      pod.metadata.resourceVersion = String(++this.revision);
      this.emit("MODIFIED", pod);
      json(res, 200, pod);
      let done = false;
      const stopped = () => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.graceTimers.delete(timer);
        this.removeKey(key);
      };
      // Past the grace period the kubelet kills what is left.
      const timer = setTimeout(stopped, grace * 1000);
      this.graceTimers.add(timer);
      this.kubelet?.terminating(pod, stopped);
      return;
    }
    if (req.method === "PATCH") {
      const type = req.headers["content-type"];
      if (type !== "application/merge-patch+json" && type !== "application/strategic-merge-patch+json") {
        return status(res, 415, "UnsupportedMediaType", `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml`);
      }
      mergePatch(pod as unknown as Record<string, unknown>, body as Record<string, unknown>);
      pod.metadata.resourceVersion = String(++this.revision);
      this.emit("MODIFIED", pod);
      return json(res, 200, pod);
    }
    return status(res, 405, "MethodNotAllowed", `method ${req.method} not allowed`);
  }

  /** The pod's containers have ended and it is gone from the API. */
  private removeKey(key: string): void {
    const pod = this.pods.get(key);
    if (!pod) return;
    this.pods.delete(key);
    pod.metadata.resourceVersion = String(++this.revision);
    this.emit("DELETED", pod);
  }

  /** core/v1 secrets: read, create, JSON merge patch, delete (no list or watch: the runtime makes none). */
  private handleSecret(req: IncomingMessage, res: ServerResponse, namespace: string, name: string | undefined, body: unknown): void {
    if (!name && req.method === "POST") {
      const manifest = body as { metadata?: { name?: string; labels?: Record<string, string>; annotations?: Record<string, string> }; type?: string; data?: Record<string, string> };
      const secretName = manifest.metadata?.name ?? "";
      if (this.secrets.has(`${namespace}/${secretName}`)) return status(res, 409, "AlreadyExists", `secrets "${secretName}" already exists`, { name: secretName, kind: "secrets" });
      const secret: Secret = {
        apiVersion: "v1",
        kind: "Secret",
        type: manifest.type ?? "Opaque",
        metadata: { ...manifest.metadata, name: secretName, namespace, uid: randomUUID(), resourceVersion: String(++this.revision), creationTimestamp: new Date().toISOString() },
        data: { ...manifest.data },
      };
      this.secrets.set(`${namespace}/${secretName}`, secret);
      return json(res, 201, secret);
    }
    if (!name) return status(res, 405, "MethodNotAllowed", `method ${req.method} not allowed on the secrets collection here`);
    const secret = this.secrets.get(`${namespace}/${name}`);
    if (!secret) return status(res, 404, "NotFound", `secrets "${name}" not found`, { name, kind: "secrets" });
    if (req.method === "GET") return json(res, 200, secret);
    if (req.method === "DELETE") {
      this.secrets.delete(`${namespace}/${name}`);
      return json(res, 200, { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", details: { name, kind: "secrets", uid: secret.metadata.uid } });
    }
    if (req.method === "PATCH") {
      if (req.headers["content-type"] !== "application/merge-patch+json" && req.headers["content-type"] !== "application/strategic-merge-patch+json") {
        return status(res, 415, "UnsupportedMediaType", `the body of the request was in an unknown format`);
      }
      mergePatch(secret as unknown as Record<string, unknown>, body as Record<string, unknown>);
      secret.metadata.resourceVersion = String(++this.revision);
      return json(res, 200, secret);
    }
    return status(res, 405, "MethodNotAllowed", `method ${req.method} not allowed`);
  }

  private watch(res: ServerResponse, namespace: string, selector: Record<string, string>, from: number): void {
    const failure = this.failNextWatches.shift();
    if (failure !== undefined) return status(res, failure, failure === 410 ? "Expired" : "InternalError", "watch refused");
    res.writeHead(200, { "Content-Type": "application/json", "Transfer-Encoding": "chunked" });
    // The real server answers a watch at once, before any event.
    res.flushHeaders();
    if (from > 0 && from < this.compactedBelow) {
      const gone = { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: `too old resource version: ${from} (${this.compactedBelow})`, reason: "Expired", code: 410 };
      res.end(JSON.stringify({ type: "ERROR", object: gone }) + "\n");
      return;
    }
    for (const event of this.history) {
      if (event.rv > from && event.object.metadata.namespace === namespace && matches(event.object, selector)) {
        res.write(JSON.stringify({ type: event.type, object: event.object }) + "\n");
      }
    }
    const watcher = { res, namespace, selector };
    this.watchers.add(watcher);
    res.on("close", () => this.watchers.delete(watcher));
  }

  private newPod(namespace: string, name: string, manifest: { metadata?: Record<string, unknown>; spec?: unknown }): Pod {
    const metadata = (manifest.metadata ?? {}) as Pod["metadata"];
    return {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { ...metadata, name, namespace, uid: randomUUID(), resourceVersion: String(++this.revision), creationTimestamp: new Date().toISOString() },
      spec: manifest.spec ?? {},
      status: { phase: "Pending" },
    };
  }

  private emit(type: WatchEvent["type"], pod: Pod): void {
    const object = structuredClone(pod);
    this.history.push({ type, object, rv: Number(pod.metadata.resourceVersion) });
    for (const w of this.watchers) {
      if (w.namespace === pod.metadata.namespace && matches(pod, w.selector)) w.res.write(JSON.stringify({ type, object }) + "\n");
    }
  }
}

function parseSelector(value: string | null): Record<string, string> {
  const out: Record<string, string> = {};
  for (const term of (value ?? "").split(",").filter(Boolean)) {
    const [k, v] = term.split("=");
    out[k!] = v ?? "";
  }
  return out;
}

function matches(pod: Pod, selector: Record<string, string>): boolean {
  return Object.entries(selector).every(([k, v]) => pod.metadata.labels?.[k] === v);
}

function mergePatch(target: Record<string, unknown>, patch: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete target[k];
    else if (typeof v === "object" && !Array.isArray(v) && typeof target[k] === "object" && target[k] !== null) mergePatch(target[k] as Record<string, unknown>, v as Record<string, unknown>);
    else target[k] = structuredClone(v);
  }
}

function json(res: ServerResponse, code: number, body: unknown): void {
  res.writeHead(code, { "Content-Type": "application/json" });
  res.end(JSON.stringify(body));
}

function status(res: ServerResponse, code: number, reason: string, message: string, details?: Record<string, unknown>): void {
  json(res, code, { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, ...(details ? { details } : {}), code });
}
