import type { DocumentNode, OperationDefinitionNode } from "graphql";
import { isAsyncIterable, type Plugin } from "graphql-yoga";
import { Counter, Gauge, Histogram, metric, registry } from "@berth/core/metrics";

/** Distinct operation names kept as labels; later new names are counted as "other". */
export const MAX_OPERATION_NAMES = 100;
const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS"]);

const operations = metric(
  "berth_graphql_operations_total",
  () => new Counter({ name: "berth_graphql_operations_total", help: "GraphQL operations by name, type and outcome (ok, error, invalid)", labelNames: ["operation", "type", "outcome"], registers: [registry] }),
);
const operationSeconds = metric(
  "berth_graphql_operation_duration_seconds",
  () =>
    new Histogram({
      name: "berth_graphql_operation_duration_seconds",
      help: "Time to execute a GraphQL query or mutation (a subscription: until its first result stream opens)",
      labelNames: ["operation", "type", "outcome"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
);
const subscriptionsOpen = metric(
  "berth_graphql_subscriptions_open",
  () => new Gauge({ name: "berth_graphql_subscriptions_open", help: "GraphQL subscriptions (SSE and WebSocket) open on this replica", registers: [registry] }),
);
const httpRequests = metric(
  "berth_http_requests_total",
  () => new Counter({ name: "berth_http_requests_total", help: "HTTP requests by route template, method and status", labelNames: ["route", "method", "status"], registers: [registry] }),
);
const httpSeconds = metric(
  "berth_http_request_duration_seconds",
  () =>
    new Histogram({
      name: "berth_http_request_duration_seconds",
      help: "Time until the response starts (streams: until their headers), by route template and method",
      labelNames: ["route", "method"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
);

/** The route a path belongs to, never the path itself: `/files/<key>` is one label value. */
export function routeTemplate(pathname: string): string {
  if (pathname === "/graphql" || pathname === "/healthz" || pathname === "/readyz" || pathname === "/metrics") return pathname;
  if (pathname.startsWith("/files/")) return "/files/:key";
  return "other";
}

/**
 * Operation names come from clients: a name is a label only if it looks like one and is among the
 * first MAX_OPERATION_NAMES seen, so no client can grow the series without bound.
 */
export class OperationNames {
  private readonly known = new Set<string>();
  constructor(private readonly limit = MAX_OPERATION_NAMES) {}

  label(name: string | null | undefined): string {
    if (!name) return "anonymous";
    if (!NAME.test(name)) return "other";
    if (this.known.has(name)) return name;
    if (this.known.size >= this.limit) return "other";
    this.known.add(name);
    return name;
  }
}

function operationOf(document: DocumentNode, operationName?: string | null): OperationDefinitionNode | undefined {
  return document.definitions.find((d): d is OperationDefinitionNode => d.kind === "OperationDefinition" && (!operationName || d.name?.value === operationName));
}

/** Request metrics: GraphQL operations by name and outcome, HTTP routes, open subscriptions. */
export function requestMetrics(names = new OperationNames()): Plugin {
  const started = new WeakMap<Request, number>();
  const seconds = (from: number) => (performance.now() - from) / 1000;
  return {
    onRequest({ request }) {
      started.set(request, performance.now());
    },
    onResponse({ request, response }) {
      const route = routeTemplate(new URL(request.url, "http://berth.invalid").pathname);
      const method = METHODS.has(request.method) ? request.method : "other";
      httpRequests.inc({ route, method, status: String(response.status) });
      const from = started.get(request);
      if (from !== undefined) httpSeconds.observe({ route, method }, seconds(from));
    },
    onValidate({ params }) {
      const operation = operationOf(params.documentAST);
      const labels = () => ({ operation: names.label(operation?.name?.value), type: operation?.operation ?? "unknown", outcome: "invalid" });
      return ({ valid }) => {
        if (!valid) operations.inc(labels());
      };
    },
    onExecute({ args }) {
      const from = performance.now();
      const operation = operationOf(args.document, args.operationName);
      const name = names.label(operation?.name?.value);
      const type = operation?.operation ?? "unknown";
      return {
        onExecuteDone({ result }) {
          const outcome = !isAsyncIterable(result) && result.errors?.length ? "error" : "ok";
          operations.inc({ operation: name, type, outcome });
          operationSeconds.observe({ operation: name, type, outcome }, seconds(from));
        },
      };
    },
    onSubscribe({ args }) {
      const from = performance.now();
      const name = names.label(operationOf(args.document, args.operationName)?.name?.value);
      return {
        onSubscribeResult({ result }) {
          const opened = isAsyncIterable(result);
          const outcome = opened ? "ok" : "error";
          operations.inc({ operation: name, type: "subscription", outcome });
          operationSeconds.observe({ operation: name, type: "subscription", outcome }, seconds(from));
          if (!opened) return;
          subscriptionsOpen.inc();
          let ended = false;
          return {
            onEnd() {
              if (ended) return;
              ended = true;
              subscriptionsOpen.dec();
            },
          };
        },
      };
    },
  };
}
