import { describe, expect, it } from "vitest";
import { podPolicyViolations } from "../../src/pools/pod-policy.js";

const policy = { serviceAccounts: ["default", "ci-runner"] };
const limits = { limits: { cpu: "500m", memory: "256Mi" } };
const fields = (template: Record<string, unknown> | null) => podPolicyViolations(template, policy).map((v) => v.field);

describe("the pod policy", () => {
  it("accepts no template, and a template that keeps to it", () => {
    expect(fields(null)).toEqual([]);
    const compliant = {
      spec: {
        serviceAccountName: "ci-runner",
        automountServiceAccountToken: false,
        securityContext: { runAsNonRoot: true, runAsUser: 1000 },
        volumes: [{ name: "work", emptyDir: {} }],
        initContainers: [{ name: "fetch", image: "git:2", resources: limits }],
        containers: [{ name: "agent", image: "agent:1", resources: limits, securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"], add: ["NET_BIND_SERVICE"] } } }],
      },
    };
    expect(fields(compliant)).toEqual([]);
  });

  it("names every field that breaks it, in a bare PodSpec as in a PodTemplateSpec", () => {
    const spec = {
      hostNetwork: true,
      hostPID: true,
      hostIPC: true,
      serviceAccountName: "cluster-admin",
      automountServiceAccountToken: true,
      securityContext: { runAsUser: 0 },
      volumes: [{ name: "ok", emptyDir: {} }, { name: "docker", hostPath: { path: "/var/run/docker.sock" } }],
      initContainers: [{ name: "setup", image: "x", securityContext: { privileged: true }, resources: limits }],
      containers: [
        { name: "agent", image: "a", resources: { limits: { cpu: "1" } }, securityContext: { allowPrivilegeEscalation: true, runAsNonRoot: false, capabilities: { add: ["NET_BIND_SERVICE", "SYS_ADMIN"] } } },
      ],
      ephemeralContainers: [{ name: "debug", image: "busybox", securityContext: { capabilities: { add: ["NET_ADMIN"] } } }],
    };
    const expected = [
      "hostNetwork",
      "hostPID",
      "hostIPC",
      "volumes[1].hostPath",
      "serviceAccountName",
      "automountServiceAccountToken",
      "securityContext.runAsUser",
      "initContainers[0].securityContext.privileged",
      "containers[0].securityContext.runAsNonRoot",
      "containers[0].securityContext.allowPrivilegeEscalation",
      "containers[0].securityContext.capabilities.add[1]",
      "containers[0].resources.limits.memory",
      "ephemeralContainers[0].securityContext.capabilities.add[0]",
    ];
    expect(fields(spec)).toEqual(expected.map((f) => `podTemplate.${f}`));
    expect(fields({ metadata: {}, spec })).toEqual(expected.map((f) => `podTemplate.spec.${f}`));
  });

  it("refuses the deprecated serviceAccount alias the same way, and says why", () => {
    const [violation] = podPolicyViolations({ containers: [{ name: "agent", resources: limits }], serviceAccount: "builder" }, policy);
    expect(violation).toEqual({ field: "podTemplate.serviceAccount", reason: 'service account "builder" is not one pools may use (allowed: default, ci-runner)' });
  });
});
