// The client side of the fan-out benchmark, in a process of its own so that the API process
// is measured alone: it holds the SSE subscribers, sends the mutations and times, on its one
// clock, each mutation until its event has reached every subscriber. Commands come over IPC.
import { Agent } from "node:http";
import { performance } from "node:perf_hooks";
import { Redis } from "ioredis";
import { parentChannel, type Message } from "./processes.js";
import { subscribe, type SseSubscription } from "./sse.js";

export interface FanoutSample {
  /** Until the mutation's HTTP response. */
  mutationMs: number;
  /** Until the event reached the first and the last subscriber. */
  firstMs: number;
  lastMs: number;
  /** Until a raw Redis subscriber of the bus's channel saw the message (when one listens). */
  rawMs?: number;
}

const SLOT_CHANGED = "subscription SlotChanged($pool: String!) { slotChanged(pool: $pool) { pool pod index state taskId at } }";
const SUBMIT = `mutation SubmitTask($input: SubmitTaskInput!) { submitTask(input: $input) { __typename ... on MutationSubmitTaskSuccess { data { id status } } ... on Error { message } } }`;
const CANCEL = `mutation CancelTask($id: ID!) { cancelTask(id: $id) { __typename ... on MutationCancelTaskSuccess { data { id status } } ... on Error { message } } }`;
const EVENT_TIMEOUT_MS = 10_000;
const SUBSCRIBE_BATCH = 50;

const agent = new Agent({ keepAlive: true, maxSockets: Infinity });
let subscribers: SseSubscription[] = [];
let raw: { redis: Redis; arrivals: number[] } | null = null;
/** The task holding the pool's slot: the next mutation cancels it (slot → idle), else submits one (slot → running). */
let heldTask: string | null = null;
let expectedStates: string[] = [];

async function gql(apiUrl: string, token: string, query: string, variables: Record<string, unknown>): Promise<Record<string, { __typename: string; data?: { id: string; status: string }; message?: string }>> {
  const response = await fetch(`${apiUrl}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: Record<string, { __typename: string; data?: { id: string; status: string }; message?: string }>; errors?: unknown };
  if (!body.data) throw new Error(`mutation failed: ${JSON.stringify(body.errors)}`);
  return body.data;
}

/** One mutation that changes exactly one slot of the pool, so each subscriber gets exactly one event. */
async function mutate(apiUrl: string, token: string, pool: string): Promise<void> {
  if (heldTask) {
    const { cancelTask } = await gql(apiUrl, token, CANCEL, { id: heldTask });
    if (cancelTask?.data?.status !== "cancelled") throw new Error(`cancelTask: ${JSON.stringify(cancelTask)}`);
    heldTask = null;
    expectedStates.push("idle");
  } else {
    const { submitTask } = await gql(apiUrl, token, SUBMIT, { input: { pool, type: "bench" } });
    if (submitTask?.data?.status !== "running") throw new Error(`submitTask did not start the task on a free slot: ${JSON.stringify(submitTask)}`);
    heldTask = submitTask.data.id;
    expectedStates.push("running");
  }
}

async function until(what: string, check: () => boolean): Promise<void> {
  const deadline = performance.now() + EVENT_TIMEOUT_MS;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

async function measure(command: { apiUrl: string; token: string; pool: string; mutations: number }): Promise<FanoutSample[]> {
  // Warm-up until every subscription is live at the server (each has seen an event since it opened).
  for (let i = 0; i < 20 && subscribers.some((s) => s.arrivals.length === 0); i++) {
    await mutate(command.apiUrl, command.token, command.pool);
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  if (subscribers.some((s) => s.arrivals.length === 0)) throw new Error("some subscriptions never received an event");
  const base = subscribers.map((s) => s.arrivals.length);
  const rawBase = raw?.arrivals.length ?? 0;
  const samples: FanoutSample[] = [];
  for (let k = 0; k < command.mutations; k++) {
    const sent = performance.now();
    await mutate(command.apiUrl, command.token, command.pool);
    const answered = performance.now();
    await until(`event ${k} at ${subscribers.length} subscribers`, () => subscribers.every((s, i) => s.arrivals.length > base[i]! + k) && (!raw || raw.arrivals.length > rawBase + k));
    const times = subscribers.map((s, i) => s.arrivals[base[i]! + k]!);
    samples.push({
      mutationMs: answered - sent,
      firstMs: Math.min(...times) - sent,
      lastMs: Math.max(...times) - sent,
      ...(raw ? { rawMs: raw.arrivals[rawBase + k]! - sent } : {}),
    });
    // Events of consecutive mutations do not overlap.
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  // Leave the slot idle for whatever runs next: one more, untimed change if a task still holds it.
  if (heldTask) {
    const before = subscribers.map((s) => s.arrivals.length);
    await mutate(command.apiUrl, command.token, command.pool);
    await until("the closing event", () => subscribers.every((s, i) => s.arrivals.length > before[i]!));
  }
  // The first subscriber keeps its events' data: they must be this pool's changes, in the order made.
  const seen = subscribers[0]!.data.map((d) => (JSON.parse(d) as { data: { slotChanged: { state: string; pool: string } } }).data.slotChanged);
  const states = seen.slice(-expectedStates.length).map((e) => e.state);
  if (seen.some((e) => e.pool !== command.pool) || states.join() !== expectedStates.slice(-states.length).join()) {
    throw new Error(`events out of order or of another pool: got ${states.join()}, expected ${expectedStates.join()}`);
  }
  return samples;
}

async function handle(message: Message): Promise<Message> {
  switch (message.type) {
    case "subscribe": {
      const { url, token, pool, count } = message as unknown as { url: string; token: string; pool: string; count: number };
      for (let opened = 0; opened < count; opened += SUBSCRIBE_BATCH) {
        const batch = Array.from({ length: Math.min(SUBSCRIBE_BATCH, count - opened) }, (_, i) =>
          subscribe({ url, token, query: SLOT_CHANGED, variables: { pool }, agent, keepData: subscribers.length === 0 && i === 0 && opened === 0 }),
        );
        subscribers.push(...(await Promise.all(batch)));
      }
      return { type: "subscribed", count: subscribers.length };
    }
    case "rawSubscribe": {
      const { redisUrl, channel } = message as unknown as { redisUrl: string; channel: string };
      const redis = new Redis(redisUrl);
      const arrivals: number[] = [];
      redis.on("message", () => arrivals.push(performance.now()));
      await redis.subscribe(channel);
      raw = { redis, arrivals };
      return { type: "rawSubscribed" };
    }
    case "measure":
      return { type: "measured", samples: await measure(message as unknown as Parameters<typeof measure>[0]) };
    case "rawPing": {
      // One-way latency of raw pub/sub between this process and the echo process: half a round trip.
      const { redisUrl, prefix, count } = message as unknown as { redisUrl: string; prefix: string; count: number };
      const publisher = new Redis(redisUrl);
      const listener = new Redis(redisUrl);
      let pongs = 0;
      listener.on("message", () => pongs++);
      await listener.subscribe(`${prefix}echo:pong`);
      const oneWayMs: number[] = [];
      for (let i = 0; i < count + 20; i++) {
        const sent = performance.now();
        const expected = pongs + 1;
        await publisher.publish(`${prefix}echo:ping`, String(i));
        await until("the echo", () => pongs >= expected);
        if (i >= 20) oneWayMs.push((performance.now() - sent) / 2);
      }
      listener.disconnect();
      publisher.disconnect();
      return { type: "pinged", oneWayMs };
    }
    case "reset": {
      for (const s of subscribers) s.close();
      subscribers = [];
      raw?.redis.disconnect();
      raw = null;
      heldTask = null;
      expectedStates = [];
      return { type: "reset" };
    }
    default:
      throw new Error(`unknown command ${message.type}`);
  }
}

const { send } = parentChannel();
let queue = Promise.resolve();
process.on("message", (message: Message) => {
  if (message.type === "stop") process.exit(0);
  queue = queue.then(() =>
    handle(message).then(
      (reply) => send(reply),
      (error: unknown) => send({ type: "error", message: String((error as Error)?.stack ?? error) }),
    ),
  );
});
await send({ type: "ready" });
