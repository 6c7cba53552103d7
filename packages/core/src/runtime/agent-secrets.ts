import { ApiException, PatchStrategy, setHeaderOptions, type CoreV1Api, type V1Pod, type V1Secret } from "@kubernetes/client-node";
import { KubernetesApiError } from "./errors.js";
import { MANAGED_LABEL, POOL_LABEL, type RuntimePoolSpec } from "./types.js";

/** Which agent token of the pool's Secret is current (its key in the Secret's data). */
export const CURRENT_TOKEN_ANNOTATION = "berth.dev/agent-token";
/** A token minted this recently is never revoked by a prune: a replica may be about to start a pod with it. */
const PRUNE_GRACE_MS = 5 * 60_000;

/** Where the agent tokens of a pool's pods come from. Only hashes are stored: the secret exists once, in the Secret. */
export interface AgentTokenIssuer {
  /** A new agent token limited to the pool. */
  mint(pool: string): Promise<{ id: string; token: string }>;
  /** Whether the token with this id is still a valid agent token of the pool. */
  isValid(pool: string, id: string): Promise<boolean>;
  /** Revokes the pool's issued tokens that are not in `keep` and were minted before `mintedBefore`; returns the ids still valid. */
  revokeUnused(pool: string, keep: readonly string[], mintedBefore: Date): Promise<string[]>;
}

/** The Secret holding a pool's agent tokens, in the pool's namespace. */
export function agentSecretName(pool: string): string {
  return `berth-agent-${pool}`;
}

/**
 * A pool's agent tokens live in one Secret that Berth creates and labels, one data key per token
 * (the token's id), and each pod's `BERTH_AGENT_TOKEN` refers to the key of the token it was
 * started with. A process mints a fresh token the first time it starts a pod of a pool (so every
 * rollout of Berth rotates the tokens) and otherwise uses the Secret's current one while it is
 * valid; a prune revokes, and removes from the Secret, every token that is neither current nor
 * referred to by one of the pool's pods. No token appears in a pod spec, and none stays valid
 * once no pod can use it.
 */
export function createAgentSecrets(core: CoreV1Api, issuer: AgentTokenIssuer, now: () => Date = () => new Date()) {
  const rotated = new Set<string>();
  const pruning = new Map<string, Promise<number>>();
  const choosing = new Map<string, Promise<string>>();

  async function read(pool: RuntimePoolSpec): Promise<V1Secret | null> {
    try {
      return await core.readNamespacedSecret({ name: agentSecretName(pool.name), namespace: pool.namespace });
    } catch (error) {
      if (statusOf(error) === 404) return null;
      throw apiError("read secret", error);
    }
  }

  /** Adds the token to the Secret (creating it if missing) and makes it current. */
  async function write(pool: RuntimePoolSpec, minted: { id: string; token: string }): Promise<void> {
    const name = agentSecretName(pool.name);
    const metadata = {
      name,
      namespace: pool.namespace,
      labels: { [POOL_LABEL]: pool.name, [MANAGED_LABEL]: "true", "app.kubernetes.io/managed-by": "berth" },
      annotations: { [CURRENT_TOKEN_ANNOTATION]: minted.id },
    };
    const data = { [minted.id]: Buffer.from(minted.token).toString("base64") };
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await core.patchNamespacedSecret({ name, namespace: pool.namespace, body: { metadata, data } }, setHeaderOptions("Content-Type", PatchStrategy.MergePatch));
        return;
      } catch (error) {
        if (statusOf(error) !== 404) throw apiError("patch secret", error);
      }
      try {
        await core.createNamespacedSecret({ namespace: pool.namespace, body: { apiVersion: "v1", kind: "Secret", type: "Opaque", metadata, data } });
        return;
      } catch (error) {
        // Another replica created it meanwhile: patch that one.
        if (statusOf(error) !== 409) throw apiError("create secret", error);
      }
    }
    throw new KubernetesApiError("write secret", 409, "Conflict", `secret ${name} kept changing`);
  }

  async function pruneNow(pool: RuntimePoolSpec): Promise<number> {
    const secret = await read(pool);
    const current = secret?.metadata?.annotations?.[CURRENT_TOKEN_ANNOTATION];
    const pods = await core.listNamespacedPod({ namespace: pool.namespace, labelSelector: `${POOL_LABEL}=${pool.name},${MANAGED_LABEL}=true` }).catch((error: unknown) => {
      throw apiError("list pods", error);
    });
    const keep = new Set(pods.items.flatMap((pod) => tokenKeysOf(pod, agentSecretName(pool.name))));
    if (current) keep.add(current);
    const valid = new Set(await issuer.revokeUnused(pool.name, [...keep], new Date(now().getTime() - PRUNE_GRACE_MS)));
    const stale = Object.keys(secret?.data ?? {}).filter((key) => !valid.has(key));
    if (stale.length > 0) {
      const data = Object.fromEntries(stale.map((key) => [key, null]));
      await core
        .patchNamespacedSecret({ name: agentSecretName(pool.name), namespace: pool.namespace, body: { data } }, setHeaderOptions("Content-Type", PatchStrategy.MergePatch))
        .catch((error: unknown) => {
          if (statusOf(error) !== 404) throw apiError("patch secret", error);
        });
    }
    return stale.length;
  }

  /** One prune at a time per pool; a prune asked for while one runs follows it. */
  function prune(pool: RuntimePoolSpec): Promise<number> {
    const next = (pruning.get(pool.name) ?? Promise.resolve(0)).catch(() => 0).then(() => pruneNow(pool));
    pruning.set(pool.name, next);
    void next.finally(() => pruning.get(pool.name) === next && pruning.delete(pool.name)).catch(() => {});
    return next;
  }

  async function chooseKey(pool: RuntimePoolSpec): Promise<string> {
    const secret = await read(pool);
    const current = secret?.metadata?.annotations?.[CURRENT_TOKEN_ANNOTATION];
    if (rotated.has(pool.name) && current && secret?.data?.[current] && (await issuer.isValid(pool.name, current))) return current;
    const minted = await issuer.mint(pool.name);
    await write(pool, minted);
    rotated.add(pool.name);
    // The tokens this one replaces go as soon as no pod refers to them.
    void prune(pool).catch(() => {});
    return minted.id;
  }

  return {
    /** The Secret key of the token a new pod of the pool starts with; the Secret holds it when this returns. One at a time per pool. */
    tokenKey(pool: RuntimePoolSpec): Promise<string> {
      const next = (choosing.get(pool.name) ?? Promise.resolve("")).catch(() => "").then(() => chooseKey(pool));
      choosing.set(pool.name, next);
      void next.finally(() => choosing.get(pool.name) === next && choosing.delete(pool.name)).catch(() => {});
      return next;
    },

    /** Revokes and removes the tokens no pod of the pool refers to; returns how many keys it removed. */
    prune,

    /** Deletes the pool's Secret (its tokens go with the pool's database row). */
    async remove(pool: RuntimePoolSpec): Promise<void> {
      rotated.delete(pool.name);
      try {
        await core.deleteNamespacedSecret({ name: agentSecretName(pool.name), namespace: pool.namespace });
      } catch (error) {
        if (statusOf(error) !== 404) throw apiError("delete secret", error);
      }
    },
  };
}

export type AgentSecrets = ReturnType<typeof createAgentSecrets>;

/** The keys of `secret` that a pod's containers read their agent token from. */
function tokenKeysOf(pod: V1Pod, secret: string): string[] {
  const containers = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
  return containers.flatMap((c) => (c.env ?? []).map((e) => e.valueFrom?.secretKeyRef).filter((ref) => ref?.name === secret).map((ref) => ref!.key));
}

function statusOf(error: unknown): number | undefined {
  return error instanceof ApiException ? error.code : undefined;
}

function apiError(operation: string, error: unknown): unknown {
  if (!(error instanceof ApiException)) return error;
  let body: { reason?: string; message?: string } | undefined;
  try {
    body = typeof error.body === "string" ? JSON.parse(error.body) : (error.body as typeof body);
  } catch {
    body = undefined;
  }
  return new KubernetesApiError(operation, error.code, body?.reason, body?.message ?? `HTTP ${error.code}`);
}
