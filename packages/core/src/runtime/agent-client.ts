import { EventSourceParserStream } from "eventsource-parser/stream";
import { createBackoff, sleep, type Backoff } from "./backoff.js";
import { deadlineSignal } from "./deadline.js";

// The agent's operations: those of Berth's public GraphQL contract (RegisterAgent asks for the
// conflict's code as well, to know when to exit), and the sync added beside them.
export const REGISTER_AGENT = `mutation RegisterAgent($pod: String!) {
  registerAgent(pod: $pod) {
    __typename
    ... on MutationRegisterAgentSuccess { data { pod { name phase } } }
    ... on ConflictError { message code }
    ... on Error { message }
  }
}`;

export const HEARTBEAT = `mutation Heartbeat($pod: String!) {
  heartbeat(pod: $pod) {
    __typename
    ... on MutationHeartbeatSuccess { data }
    ... on Error { message }
  }
}`;

export const REPORT_TASK = `mutation ReportTask($input: ReportTaskInput!) {
  reportTask(input: $input) {
    __typename
    ... on MutationReportTaskSuccess { data { id status } }
    ... on Error { message }
  }
}`;

/** The contract's Assignments, asking for the attempt too (a requeued task is new work). */
export const ASSIGNMENTS = `subscription Assignments($pod: String!) {
  assignments(pod: $pod) { task { id type status payload attempts } slot { index } }
}`;

/** The level-triggered sync an agent makes at every heartbeat (added beside the contract's operations). */
export const SYNC_AGENT = `mutation SyncAgent($input: SyncAgentInput!) {
  syncAgent(input: $input) {
    __typename
    ... on MutationSyncAgentSuccess {
      data {
        pod { name phase }
        draining
        stop
        assignments { action slot { index } task { id type status payload attempts deadlineAt } }
        reserved { reservedUntil slot { index } task { id type status } }
      }
    }
    ... on ConflictError { message code }
    ... on Error { message }
  }
}`;

/** A mutation's union result: its Success member's `data`, or one of its Error members. */
export type MutationResult<T> = { ok: true; data: T } | { ok: false; typename: string; message: string; code?: string | null; extra?: Record<string, unknown> };

/** The API refused the agent for good: its pod is gone, Lost or being deleted. It must exit. */
export function mustExit(result: MutationResult<unknown>): boolean {
  if (result.ok) return false;
  return result.typename === "NotFoundError" || result.code === "POD_LOST" || result.code === "POD_TERMINATING";
}

export interface AgentSyncAnswer {
  pod: { name: string; phase: string };
  draining: boolean;
  stop: string[];
  assignments: (AssignedTask & { action: "run" | "apply" })[];
  reserved: { reservedUntil: string | null; slot: { index: number }; task: { id: string; type: string; status: string } }[];
}

export interface AssignedTask {
  task: { id: string; type: string; status: string; payload: unknown; attempts?: number; deadlineAt?: string | null };
  slot: { index: number };
  /** What to run, when the pool declares task types (asked for by agents that run commands). */
  definition?: TaskDefinition | null;
}

/** A pool's declared task type as an assignment carries it. */
export interface TaskDefinition {
  type: { name: string; command: string[]; applyCommand: string[] | null; shell: boolean; env: Record<string, string>; timeoutSeconds: number | null; keep: string };
  stopGraceSeconds: number;
}

export type ReportedStatus = "running" | "apply_pending" | "succeeded" | "failed" | "stopped";

/** The API did not execute the operation (transport status, or GraphQL errors instead of data). */
export class GraphQLRequestError extends Error {
  constructor(
    readonly operationName: string,
    readonly status: number,
    readonly errors: { message: string }[],
  ) {
    super(`${operationName}: ${errors.length > 0 ? errors.map((e) => e.message).join("; ") : `HTTP ${status}`}`);
    this.name = "GraphQLRequestError";
  }
}

export interface AgentClientOptions {
  /** The API's base URL (`/graphql` is appended) or its GraphQL endpoint. */
  apiUrl: string;
  token: string;
  /** Delays between subscription reconnects. Default 500 ms doubling up to 15 s. */
  reconnect?: Backoff;
  /** Told why the subscription dropped before it reconnects. */
  onStreamError?: (error: unknown) => void;
  /** A mutation not answered within this is abandoned (and retried by its caller). Default 15 s. */
  requestTimeoutMs?: number;
  /** Documents asking for more than the defaults (same operation names and variables). */
  documents?: { syncAgent?: string; assignments?: string };
}

export function graphqlEndpoint(apiUrl: string): string {
  const url = new URL(apiUrl);
  if (!url.pathname.endsWith("/graphql")) url.pathname = `${url.pathname.replace(/\/$/, "")}/graphql`;
  return url.toString();
}

/**
 * What an agent needs from the API, in plain GraphQL over HTTP: mutations with `fetch`, the
 * assignments subscription over server-sent events (graphql-sse "distinct connections" mode).
 */
export class AgentClient {
  private readonly endpoint: string;

  constructor(private readonly options: AgentClientOptions) {
    this.endpoint = graphqlEndpoint(options.apiUrl);
  }

  registerAgent(pod: string, signal?: AbortSignal): Promise<MutationResult<{ pod: { name: string; phase: string } }>> {
    return this.mutate("RegisterAgent", REGISTER_AGENT, { pod }, "registerAgent", signal);
  }

  heartbeat(pod: string, signal?: AbortSignal): Promise<MutationResult<boolean>> {
    return this.mutate("Heartbeat", HEARTBEAT, { pod }, "heartbeat", signal);
  }

  reportTask(input: { taskId: string; status: ReportedStatus; output?: unknown }, signal?: AbortSignal): Promise<MutationResult<{ id: string; status: string }>> {
    return this.mutate("ReportTask", REPORT_TASK, { input }, "reportTask", signal);
  }

  /** Heartbeat and sync in one call: tells the API what runs here, answers with what should. */
  syncAgent(input: { pod: string; active: string[] }, signal?: AbortSignal): Promise<MutationResult<AgentSyncAnswer>> {
    return this.mutate("SyncAgent", this.options.documents?.syncAgent ?? SYNC_AGENT, { input }, "syncAgent", signal);
  }

  /**
   * The pod's assignments: its current ones first, then each new one. Reconnects with backoff
   * when the stream fails or the server ends it (a reconnect repeats the current ones); ends
   * only when `signal` aborts.
   */
  async *assignments(pod: string, signal: AbortSignal): AsyncGenerator<AssignedTask> {
    const backoff = createBackoff(this.options.reconnect ?? { initialMs: 500, maxMs: 15_000 });
    while (!signal.aborted) {
      try {
        for await (const assignment of this.subscribeOnce(pod, signal, () => backoff.reset())) yield assignment;
      } catch (error) {
        if (signal.aborted) return;
        this.options.onStreamError?.(error);
      }
      if (!(await sleep(backoff.take(), signal))) return;
    }
  }

  private async *subscribeOnce(pod: string, signal: AbortSignal, onConnected: () => void): AsyncGenerator<AssignedTask> {
    const response = await fetch(this.endpoint, {
      method: "POST",
      headers: this.headers("text/event-stream"),
      body: JSON.stringify({ operationName: "Assignments", query: this.options.documents?.assignments ?? ASSIGNMENTS, variables: { pod } }),
      signal,
    });
    if (!response.ok || !response.body || !response.headers.get("content-type")?.includes("text/event-stream")) {
      throw await requestError("Assignments", response);
    }
    onConnected();
    const events = response.body.pipeThrough(new TextDecoderStream()).pipeThrough(new EventSourceParserStream());
    for await (const event of events) {
      if (event.event === "complete") return;
      if ((event.event !== "next" && event.event !== undefined) || event.data === "") continue;
      const result = JSON.parse(event.data) as { data?: { assignments?: AssignedTask }; errors?: { message: string }[] };
      if (result.errors?.length || !result.data?.assignments) throw new GraphQLRequestError("Assignments", response.status, result.errors ?? []);
      yield result.data.assignments;
    }
  }

  /** Any mutation answering with the errors plugin's union, by its root field. */
  async mutate<T>(operationName: string, query: string, variables: Record<string, unknown>, field: string, signal?: AbortSignal): Promise<MutationResult<T>> {
    const deadline = deadlineSignal(this.options.requestTimeoutMs ?? 15_000, ...(signal ? [signal] : []));
    let response: Response;
    let body: { data?: Record<string, unknown> | null; errors?: { message: string }[] } | undefined;
    try {
      response = await fetch(this.endpoint, {
        method: "POST",
        headers: this.headers("application/graphql-response+json, application/json"),
        body: JSON.stringify({ operationName, query, variables }),
        signal: deadline.signal,
      });
      body = (await response.json().catch(() => undefined)) as typeof body;
    } finally {
      deadline.clear();
    }
    const result = body?.data?.[field] as ({ __typename: string; data?: T; message?: string; code?: string | null } | null | undefined);
    if (!result) throw new GraphQLRequestError(operationName, response.status, body?.errors ?? []);
    if (result.__typename.endsWith("Success")) return { ok: true, data: result.data as T };
    const { __typename, message, code, ...extra } = result;
    return { ok: false, typename: __typename, message: message ?? __typename, code: code ?? null, extra };
  }

  private headers(accept: string): Record<string, string> {
    return { "Content-Type": "application/json", Accept: accept, Authorization: `Bearer ${this.options.token}` };
  }
}

async function requestError(operationName: string, response: Response): Promise<GraphQLRequestError> {
  const body = (await response.json().catch(() => undefined)) as { errors?: { message: string }[] } | undefined;
  return new GraphQLRequestError(operationName, response.status, body?.errors ?? []);
}
