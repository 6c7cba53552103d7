import { afterAll, beforeAll, expect, it } from "vitest";
import { createTestApi, STARTUP_TIMEOUT_MS, type TestApi } from "./support/api.js";

let api: TestApi;
beforeAll(async () => {
  api = await createTestApi({ backend: "pglite" });
}, STARTUP_TIMEOUT_MS);
afterAll(() => api?.close());

it("a manual scale records who asked (the token's name); the autoscaler's events name nobody", async () => {
  const me = (await api.gql("{ me { name } }")).data.me.name as string;
  expect(me).toBeTruthy();
  const created = await api.gql(`mutation { createPool(input: { name: "actor-pool", minPods: 0, maxPods: 2, autoscale: false }) { __typename } }`);
  expect(created.data.createPool.__typename).toMatch(/Success$/);
  const scaled = await api.gql(`mutation { scalePool(name: "actor-pool", pods: 1) { __typename } }`);
  expect(scaled.data.scalePool.__typename).toMatch(/Success$/);
  const events = (await api.gql(`{ pool(name: "actor-pool") { scalingEvents { kind actor } } }`)).data.pool.scalingEvents as { kind: string; actor: string | null }[];
  expect(events.filter((e) => e.kind === "manual_scale")).toEqual([{ kind: "manual_scale", actor: me }]);
  expect(events.filter((e) => e.kind !== "manual_scale").every((e) => e.actor === null)).toBe(true);
});
