/**
 * The pod policy a pool's pod template is held to before it is stored: what an operator may
 * ask Kubernetes to run. Modelled on the Pod Security Standards' "restricted" profile, with
 * Berth's own rules on service accounts, tokens and resources. Pure: a template in, the
 * violations out, each naming the input field at fault.
 */

/** Capabilities a container may add without an override (as the restricted profile allows). */
export const SAFE_CAPABILITIES: readonly string[] = ["NET_BIND_SERVICE"];

export interface PodPolicy {
  /** Service accounts a template may name (`serviceAccountName`). */
  serviceAccounts: readonly string[];
  /** Capabilities a container may add. Default: SAFE_CAPABILITIES. */
  capabilities?: readonly string[];
}

export interface PodPolicyViolation {
  /** The input field at fault, e.g. `podTemplate.spec.containers[1].securityContext.privileged`. */
  field: string;
  reason: string;
}

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === "object" && value !== null && !Array.isArray(value);
const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);

/** The pod spec of a template (`{ metadata, spec }` or a bare PodSpec) and the field path leading to it. */
export function templatePodSpec(template: Json): { spec: Json; path: string } {
  if (isObject(template.spec)) return { spec: template.spec, path: "podTemplate.spec" };
  return { spec: template, path: "podTemplate" };
}

const HOST_NAMESPACES = { hostNetwork: "the node's network", hostPID: "the node's process table", hostIPC: "the node's IPC namespace" };
const CONTAINER_LISTS = ["initContainers", "containers", "ephemeralContainers"] as const;

/** Every way `template` breaks `policy`, in field order; empty when it complies. */
export function podPolicyViolations(template: Json | null, policy: PodPolicy): PodPolicyViolation[] {
  if (!template) return [];
  const { spec, path } = templatePodSpec(template);
  const out: PodPolicyViolation[] = [];
  const add = (field: string, reason: string) => out.push({ field: `${path}.${field}`, reason });

  for (const [host, what] of Object.entries(HOST_NAMESPACES)) {
    if (spec[host] === true) add(host, `${host} gives the pod ${what}`);
  }
  list(spec.volumes).forEach((volume, i) => {
    if (isObject(volume) && volume.hostPath !== undefined) add(`volumes[${i}].hostPath`, "hostPath volumes mount the node's file system into the pod");
  });
  for (const field of ["serviceAccountName", "serviceAccount"] as const) {
    const name = spec[field];
    if (name !== undefined && name !== null && !(typeof name === "string" && policy.serviceAccounts.includes(name))) {
      add(field, `service account ${JSON.stringify(name)} is not one pools may use (allowed: ${policy.serviceAccounts.join(", ")})`);
    }
  }
  if (spec.automountServiceAccountToken === true) add("automountServiceAccountToken", "a pool's pods get no Kubernetes API token");
  checkSecurityContext(spec.securityContext, "securityContext", add);

  const capabilities = policy.capabilities ?? SAFE_CAPABILITIES;
  for (const kind of CONTAINER_LISTS) {
    list(spec[kind]).forEach((container, i) => {
      if (!isObject(container)) return;
      const at = `${kind}[${i}]`;
      const context = container.securityContext;
      checkSecurityContext(context, `${at}.securityContext`, add);
      if (isObject(context)) {
        if (context.privileged === true) add(`${at}.securityContext.privileged`, "privileged containers have every capability of the node");
        if (context.allowPrivilegeEscalation === true) add(`${at}.securityContext.allowPrivilegeEscalation`, "a process must not gain more privileges than its parent");
        const added = isObject(context.capabilities) ? list(context.capabilities.add) : [];
        added.forEach((capability, k) => {
          if (!(typeof capability === "string" && capabilities.includes(capability))) {
            add(`${at}.securityContext.capabilities.add[${k}]`, `capability ${JSON.stringify(capability)} is not in the safe list (${capabilities.join(", ")})`);
          }
        });
      }
      if (kind !== "ephemeralContainers") {
        const limits = isObject(container.resources) && isObject(container.resources.limits) ? container.resources.limits : {};
        for (const resource of ["cpu", "memory"] as const) {
          if (limits[resource] === undefined || limits[resource] === null || limits[resource] === "") {
            add(`${at}.resources.limits.${resource}`, `every container needs a ${resource} limit`);
          }
        }
      }
    });
  }
  return out;
}

/** runAsNonRoot: false and runAsUser: 0 ask for root, which the restricted profile refuses. */
function checkSecurityContext(context: unknown, at: string, add: (field: string, reason: string) => void): void {
  if (!isObject(context)) return;
  if (context.runAsNonRoot === false) add(`${at}.runAsNonRoot`, "containers run as a non-root user");
  if (context.runAsUser === 0) add(`${at}.runAsUser`, "containers run as a non-root user");
}
