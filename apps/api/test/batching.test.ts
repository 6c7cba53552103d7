// No field is N+1: the SQL statements (and storage calls) of a query do not grow with the number
// of pools, pods, slots, tasks or objects it returns. Pods, slots, tasks and scaling events are
// loaded in batches (Pothos loadables); a listing's content types need no call per object.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { countSqlStatements, type SqlCounter } from "../../../bench/support/sql-counter.js";
import { FakeRuntime } from "../../../packages/core/test/support/core.js";
import { postgresAvailable } from "../../../packages/core/test/support/services.js";
import { registry } from "@berth/core/metrics";
import { createTestApi, STARTUP_TIMEOUT_MS, type TestApi } from "./support/api.js";

const POOLS = `{ pools { name pods { name slots { index state task { id status } } } scalingEvents(last: 5) { kind } } }`;
const TASKS = `query($pool: String) { tasks(pool: $pool, first: 100) { id pool pod { name phase slots { index task { id } } } slot { index task { id pod { name } } } } }`;

describe.skipIf(!postgresAvailable)("batching: statements per query do not grow with the data", () => {
  let api: TestApi;
  let counter: SqlCounter;
  const runtime = new FakeRuntime();

  beforeAll(async () => {
    api = await createTestApi({ backend: "postgres", runtime, env: { RATE_LIMIT_PER_MINUTE: "100000" } });
    counter = countSqlStatements();
  }, STARTUP_TIMEOUT_MS);
  afterAll(async () => {
    counter?.restore();
    await api?.close();
  });

  /** Adds pools of two ready pods each, with a running task per pod and a scaling event. */
  const addPools = async (from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const name = `b${i}`;
      await api.services.pools.createPool({ name, minPods: 0, maxPods: 2, autoscale: false });
      await api.services.pools.scalePool(name, 2);
      const token = await api.tokenFor("agent", { name: `agent ${name}`, pool: name });
      for (const pod of (await runtime.list({ name } as never)).map((p) => p.name)) {
        const res = await api.gql("mutation($pod: String!) { registerAgent(pod: $pod) { __typename } }", { pod }, token);
        expect(res.data.registerAgent.__typename).toBe("MutationRegisterAgentSuccess");
      }
      for (let t = 0; t < 2; t++) {
        const res = await api.gql('mutation($pool: String!) { submitTask(input: { pool: $pool, type: "plan" }) { __typename } }', { pool: name });
        expect(res.data.submitTask.__typename).toBe("MutationSubmitTaskSuccess");
      }
    }
  };

  /**
 * DataLoader batches what is asked in the same tick; which parents resolve in the same tick may
 * vary by a batch from run to run. N+1 would add a statement per item (6 pools, 14 tasks more).
 */
const JITTER = 2;

/** Statements of one request, after a warm-up (the token's lastUsedAt, the pool count for costs). */
  const statementsOf = async (query: string, variables?: Record<string, unknown>) => {
    await api.gql(query, variables);
    counter.reset();
    const res = await api.gql(query, variables);
    expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
    return { count: counter.count, data: res.data, top: counter.top(5) };
  };

  it("pools with their pods, slots, tasks and scaling events", async () => {
    await addPools(0, 2);
    const small = await statementsOf(POOLS);
    expect(small.data.pools.flatMap((p: { pods: unknown[] }) => p.pods)).toHaveLength(4);
    await addPools(2, 8);
    const large = await statementsOf(POOLS);
    expect(large.data.pools.flatMap((p: { pods: { slots: { task: unknown }[] }[] }) => p.pods.flatMap((pod) => pod.slots.filter((s) => s.task)))).toHaveLength(16);
    console.log(`pools query: ${small.count} statements for 2 pools, ${large.count} for 8`);
    expect(large.count, JSON.stringify(large.top)).toBeLessThanOrEqual(small.count + JITTER);
  });

  it("tasks with their pool, pod, the pod's slots and their tasks, and the slot", async () => {
    const few = await statementsOf(TASKS, { pool: "b0" });
    expect(few.data.tasks).toHaveLength(2);
    const many = await statementsOf(TASKS, {});
    expect(many.data.tasks).toHaveLength(16);
    expect(many.data.tasks.every((t: { slot: { task: { id: string } } | null; id: string }) => t.slot?.task?.id === t.id)).toBe(true);
    console.log(`tasks query: ${few.count} statements for 2 tasks, ${many.count} for 16`);
    expect(many.count, JSON.stringify(many.top)).toBeLessThanOrEqual(few.count + JITTER);
  });
});

describe("batching: a listing page costs one storage call", () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await createTestApi({ backend: "pglite" });
    for (let i = 0; i < 40; i++) await api.services.storage.saveBuffer(Buffer.from(`file ${i}`), `docs/f${String(i).padStart(2, "0")}.txt`);
  }, STARTUP_TIMEOUT_MS);
  afterAll(() => api?.close());

  const operations = async () => {
    const metric = await registry.getSingleMetric("storage_operations_total")?.get();
    const byOperation: Record<string, number> = {};
    for (const v of metric?.values ?? []) byOperation[String(v.labels.operation)] = (byOperation[String(v.labels.operation)] ?? 0) + v.value;
    return byOperation;
  };

  it("objects with their content type, size and etag: one list call, no call per object", async () => {
    const before = await operations();
    const res = await api.gql('{ objects(prefix: "docs/", first: 40) { objects { key size contentType etag lastModified } } }');
    expect(res.errors).toBeUndefined();
    expect(res.data.objects.objects).toHaveLength(40);
    expect(res.data.objects.objects[0].contentType).toBe("text/plain");
    const after = await operations();
    const calls = Object.fromEntries(Object.entries(after).map(([op, n]) => [op, n - (before[op] ?? 0)]).filter(([, n]) => (n as number) > 0));
    expect(calls).toEqual({ list: 1 });
  });
});
