import { contractOperation } from "../../support/contract.js";

/** One API process as the fault tests address it. */
export interface Endpoint {
  name: string;
  url: string;
}

/**
 * How a call failed. `refused`: nothing listened, so the request was certainly not handled and
 * may be sent elsewhere; `network`: the connection broke or timed out after the request may
 * have arrived; `graphql`: the API answered with errors or an error result.
 */
export type CallFailureKind = "refused" | "network" | "graphql";

export class CallFailedError extends Error {
  constructor(
    readonly endpoint: string,
    readonly operation: string,
    readonly kind: CallFailureKind,
    detail: string,
  ) {
    super(`${operation} on ${endpoint} failed (${kind}): ${detail}`);
    this.name = "CallFailedError";
  }
}

export interface CallRecord {
  endpoint: string;
  operation: string;
  at: number;
  ok: boolean;
  error?: string;
}

// Results are read field by field; typing every contract document would add nothing here.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = any;

function failureKind(error: unknown): CallFailureKind {
  const cause = (error as { cause?: { code?: string } }).cause;
  return cause?.code === "ECONNREFUSED" ? "refused" : "network";
}

/** Sends contract operations with the admin token (which may act as any agent) and records every outcome. */
export class Client {
  readonly log: CallRecord[] = [];

  constructor(
    private readonly token: string,
    private readonly timeoutMs = 15_000,
  ) {}

  /**
   * Runs contract operation `name`. A mutation's result union must be its Success member:
   * `field` names the root field whose `data` is returned.
   */
  async call(endpoint: Endpoint, name: string, variables: Record<string, unknown> = {}, field?: string): Promise<Loose> {
    const at = Date.now();
    try {
      const data = await this.send(endpoint, name, variables, field);
      this.log.push({ endpoint: endpoint.name, operation: name, at, ok: true });
      return data;
    } catch (error) {
      this.log.push({ endpoint: endpoint.name, operation: name, at, ok: false, error: (error as Error).message });
      throw error;
    }
  }

  /**
   * For operations that are safe to repeat: tries each endpoint in turn, from `start`, until one
   * answers, for at most `withinMs`.
   */
  async callAny(endpoints: Endpoint[], name: string, variables: Record<string, unknown> = {}, field?: string, start = 0, withinMs = 20_000): Promise<Loose> {
    const deadline = Date.now() + withinMs;
    let last: unknown;
    for (let i = start; Date.now() < deadline; i++) {
      try {
        return await this.call(endpoints[i % endpoints.length]!, name, variables, field);
      } catch (error) {
        last = error;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    throw last ?? new Error(`${name}: no endpoint answered within ${withinMs} ms`);
  }

  /** Like callAny, for a query of the test's own (not one of the contract's). */
  async callAnyQuery(endpoints: Endpoint[], query: string, variables: Record<string, unknown> = {}): Promise<Loose> {
    const deadline = Date.now() + 20_000;
    let last: unknown;
    for (let i = 0; Date.now() < deadline; i++) {
      const endpoint = endpoints[i % endpoints.length]!;
      try {
        const response = await fetch(`${endpoint.url}/graphql`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${this.token}` },
          body: JSON.stringify({ query, variables }),
          signal: AbortSignal.timeout(this.timeoutMs),
        });
        const body = (await response.json()) as { data?: Loose; errors?: { message: string }[] };
        if (body.errors?.length) throw new Error(body.errors.map((e) => e.message).join("; "));
        return body.data;
      } catch (error) {
        last = error;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    throw last ?? new Error("no endpoint answered within 20 s");
  }

  private async send(endpoint: Endpoint, name: string, variables: Record<string, unknown>, field?: string): Promise<Loose> {
    let response: Response;
    try {
      response = await fetch(`${endpoint.url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${this.token}` },
        body: JSON.stringify({ query: contractOperation(name), variables }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      throw new CallFailedError(endpoint.name, name, failureKind(error), String((error as Error).cause ?? error));
    }
    let body: { data?: Loose; errors?: { message: string }[] };
    try {
      body = (await response.json()) as typeof body;
    } catch (error) {
      throw new CallFailedError(endpoint.name, name, "network", `unreadable response ${response.status}: ${(error as Error).message}`);
    }
    if (body.errors?.length) throw new CallFailedError(endpoint.name, name, "graphql", body.errors.map((e) => e.message).join("; "));
    if (!field) return body.data;
    const result = body.data?.[field];
    if (!result?.__typename?.endsWith("Success")) throw new CallFailedError(endpoint.name, name, "graphql", `${result?.__typename}: ${result?.message}`);
    return result.data;
  }
}
