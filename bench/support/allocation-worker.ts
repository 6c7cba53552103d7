// One of the processes of the slot-allocation benchmark: `clients` concurrent loops (see
// allocation-steps.ts), started by the parent at a common moment and stopped at a common deadline.
import { allocationStep, runClients, warmUp, type StepConfig } from "./allocation-steps.js";
import { parentChannel, type Message } from "./processes.js";

export interface AllocationWorkerConfig extends StepConfig {
  warmupPerClient: number;
  maxPerClient: number;
}

export interface AllocationWorkerResult extends Message {
  type: "result";
  allocations: number;
  empty: number;
  errors: string[];
  latenciesMs: number[];
  finishedAt: number;
}

const { send, next } = parentChannel();
const config = JSON.parse(process.env.BENCH_WORKER_CONFIG ?? "{}") as AllocationWorkerConfig;
const go = next<{ type: "go"; startAt: number; deadline: number }>("go");
const step = await allocationStep(config);
await warmUp(step, config.clients, config.warmupPerClient);
await send({ type: "ready" });
const { startAt, deadline } = await go;
await new Promise((resolve) => setTimeout(resolve, Math.max(0, startAt - Date.now())));
const { latenciesMs, empty, errors } = await runClients(step, config.clients, { deadline, maxPerClient: config.maxPerClient });
const result: AllocationWorkerResult = { type: "result", allocations: latenciesMs.length, empty, errors, latenciesMs, finishedAt: Date.now() };
await send(result);
await step.close();
process.disconnect();
