import { describe, expect, it } from "vitest";
import { PoolSpecError, validatePoolSpec, withDefaults } from "../../src/pools/index.js";

describe("pool spec validation", () => {
  it("a kubernetes pool needs an image or a pod template", () => {
    const error = (() => {
      try {
        validatePoolSpec(withDefaults({ name: "k", runtime: "kubernetes" }), ["local", "kubernetes"]);
      } catch (e) {
        return e as PoolSpecError;
      }
    })();
    expect(error).toBeInstanceOf(PoolSpecError);
    expect(error!.field).toBe("image");
    expect(validatePoolSpec(withDefaults({ name: "k", runtime: "kubernetes", image: "worker:1" }), ["kubernetes"]).image).toBe("worker:1");
    expect(validatePoolSpec(withDefaults({ name: "k", runtime: "kubernetes", podTemplate: { spec: { containers: [] } } }), ["kubernetes"]).runtime).toBe("kubernetes");
  });

  it("fills the documented defaults", () => {
    expect(validatePoolSpec(withDefaults({ name: "web" }), ["local"])).toMatchObject({ slotsPerPod: 3, scaleUpAt: 0.8, scaleDownAt: 0.2, reservationTtlSeconds: 86_400, autoscale: true });
  });
});
