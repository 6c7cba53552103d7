import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface ReceivedOperation {
  operationName: string;
  query: string;
  variables: Record<string, unknown>;
  authorization: string | undefined;
  accept: string | undefined;
}

export interface FakeAssignment {
  task: { id: string; type: string; status: string; payload: unknown; attempts?: number };
  slot: { index: number };
}

const HELD = new Set(["running", "apply_pending", "applying"]);

/**
 * The agent-facing part of Berth's GraphQL API: RegisterAgent, Heartbeat, ReportTask (union
 * results), SyncAgent (the pod's current assignments and what to stop), and the Assignments
 * subscription over SSE, which first sends the pod's current assignments and then each new one.
 * Assignments carry `definition: null`, as for a pool without task types (the agent then runs its
 * built-in `{ durationMs, fail }` behaviour). Records every operation. Like the real server it can lose events (`assign(..., { silent })`),
 * and it answers for pods that are Lost or Terminating as the real one does.
 */
export class FakeGraphQLApi {
  readonly operations: ReceivedOperation[] = [];
  readonly token = "agent-token-0123456789";
  /** RegisterAgent answers this many times with an Error member before it succeeds. */
  registerRefusals = 0;
  /** ReportTask answers with an Error member for these task ids. */
  readonly refuseReportsFor = new Set<string>();
  /** Pods the API answers as Lost (ConflictError POD_LOST) or being deleted (Terminating). */
  readonly lostPods = new Set<string>();
  readonly terminatingPods = new Set<string>();
  private readonly current = new Map<string, Map<string, FakeAssignment>>();
  private readonly streams = new Map<string, Set<ServerResponse>>();
  private server!: Server;
  url = "";

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.endStreams();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /**
   * Places (or updates) an assignment of `pod`, pushing it to the pod's open subscriptions, or
   * not (`silent`: the event is lost, as a Redis publish can be; only a sync tells the agent).
   */
  assign(pod: string, assignment: FakeAssignment, options: { silent?: boolean } = {}): void {
    const mine = this.current.get(pod) ?? new Map<string, FakeAssignment>();
    this.current.set(pod, mine);
    if (HELD.has(assignment.task.status)) mine.set(assignment.task.id, structuredClone(assignment));
    else mine.delete(assignment.task.id);
    if (!options.silent) for (const res of this.streams.get(pod) ?? []) send(res, assignment);
  }

  /** SyncAgent calls of `pod`: the `active` list each one sent. */
  syncs(pod: string): string[][] {
    return this.named("SyncAgent")
      .map((o) => o.variables.input as { pod: string; active: string[] })
      .filter((input) => input.pod === pod)
      .map((input) => input.active);
  }

  /** Ends the pod's (or every) subscription stream the way the server completes one. */
  endStreams(pod?: string): void {
    for (const [name, set] of this.streams) {
      if (pod !== undefined && name !== pod) continue;
      for (const res of set) res.end("event: complete\ndata:\n\n");
      set.clear();
    }
  }

  openStreams(pod: string): number {
    return this.streams.get(pod)?.size ?? 0;
  }

  named(operationName: string): ReceivedOperation[] {
    return this.operations.filter((o) => o.operationName === operationName);
  }

  /** ReportTask calls as `taskId:status`, in arrival order. */
  reports(taskId?: string): string[] {
    return this.named("ReportTask")
      .map((o) => o.variables.input as { taskId: string; status: string })
      .filter((input) => taskId === undefined || input.taskId === taskId)
      .map((input) => `${input.taskId}:${input.status}`);
  }

  reportInput(taskId: string, status: string): { taskId: string; status: string; output?: unknown } | undefined {
    return this.named("ReportTask")
      .map((o) => o.variables.input as { taskId: string; status: string; output?: unknown })
      .find((input) => input.taskId === taskId && input.status === status);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (req.method !== "POST" || req.url !== "/graphql") return json(res, 404, { errors: [{ message: "not found" }] });
    const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { operationName: string; query: string; variables?: Record<string, unknown> };
    const operation: ReceivedOperation = {
      operationName: body.operationName,
      query: body.query,
      variables: body.variables ?? {},
      authorization: req.headers.authorization,
      accept: req.headers.accept,
    };
    this.operations.push(operation);
    if (operation.authorization !== `Bearer ${this.token}`) return json(res, 401, { errors: [{ message: "unauthenticated" }] });
    const pod = String(operation.variables.pod ?? (operation.variables.input as { pod?: string } | undefined)?.pod ?? "");
    const refusal = this.lostPods.has(pod)
      ? { __typename: "ConflictError", message: `pod ${pod} was declared Lost`, code: "POD_LOST" }
      : this.terminatingPods.has(pod) && body.operationName === "RegisterAgent"
        ? { __typename: "ConflictError", message: `pod ${pod} is being deleted`, code: "POD_TERMINATING" }
        : null;

    switch (body.operationName) {
      case "Assignments": {
        if (!req.headers.accept?.includes("text/event-stream")) return json(res, 400, { errors: [{ message: "subscriptions need text/event-stream" }] });
        res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-cache", Connection: "keep-alive" });
        res.write(":\n\n");
        for (const assignment of this.current.get(pod)?.values() ?? []) send(res, assignment);
        const set = this.streams.get(pod) ?? new Set<ServerResponse>();
        this.streams.set(pod, set);
        set.add(res);
        res.on("close", () => set.delete(res));
        return;
      }
      case "SyncAgent": {
        if (refusal) return json(res, 200, { data: { syncAgent: refusal } });
        const active = ((operation.variables.input as { active?: string[] }).active ?? []).map(String);
        const mine = this.current.get(pod) ?? new Map<string, FakeAssignment>();
        const assignments = [...mine.values()]
          .filter((a) => a.task.status === "running" || a.task.status === "applying")
          .map((a) => ({ definition: null, ...a, action: a.task.status === "applying" ? "apply" : "run" }));
        const reserved = [...mine.values()].filter((a) => a.task.status === "apply_pending").map((a) => ({ reservedUntil: null, slot: a.slot, task: a.task }));
        const keep = new Set([...mine.keys()]);
        const data = {
          pod: { name: pod, phase: this.terminatingPods.has(pod) ? "Terminating" : "Ready" },
          draining: this.terminatingPods.has(pod),
          stop: active.filter((id) => !keep.has(id)),
          assignments,
          reserved,
        };
        return json(res, 200, { data: { syncAgent: { __typename: "MutationSyncAgentSuccess", data } } });
      }
      case "RegisterAgent":
        if (refusal) return json(res, 200, { data: { registerAgent: refusal } });
        if (this.registerRefusals > 0) {
          this.registerRefusals--;
          return json(res, 200, { data: { registerAgent: { __typename: "PodNotFoundError", message: `pod ${pod} is not known yet` } } });
        }
        return json(res, 200, { data: { registerAgent: { __typename: "MutationRegisterAgentSuccess", data: { pod: { name: pod, phase: "Ready" } } } } });
      case "Heartbeat":
        return json(res, 200, { data: { heartbeat: { __typename: "MutationHeartbeatSuccess", data: true } } });
      case "ReportTask": {
        const input = operation.variables.input as { taskId: string; status: string };
        if (this.refuseReportsFor.has(input.taskId)) {
          return json(res, 200, { data: { reportTask: { __typename: "InvalidTransitionError", message: `task ${input.taskId} cannot become ${input.status}` } } });
        }
        for (const mine of this.current.values()) {
          const held = mine.get(input.taskId);
          if (!held) continue;
          held.task.status = input.status;
          if (!HELD.has(input.status)) mine.delete(input.taskId);
        }
        return json(res, 200, { data: { reportTask: { __typename: "MutationReportTaskSuccess", data: { id: input.taskId, status: input.status } } } });
      }
      default:
        return json(res, 400, { errors: [{ message: `unknown operation ${body.operationName}` }] });
    }
  }
}

function send(res: ServerResponse, assignment: FakeAssignment): void {
  res.write(`event: next\ndata: ${JSON.stringify({ data: { assignments: { definition: null, ...assignment } } })}\n\n`);
}

function json(res: ServerResponse, code: number, body: unknown): void {
  res.writeHead(code, { "Content-Type": "application/json" });
  res.end(JSON.stringify(body));
}
