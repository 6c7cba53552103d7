import type { AgentClient } from "@berth/core/runtime/agent-client";
import { GraphQLRequestError } from "@berth/core/runtime/agent-client";
import type { LogSink } from "./log-shipper.js";

export const APPEND_TASK_LOG = `mutation AppendTaskLog($input: AppendTaskLogInput!) {
  appendTaskLog(input: $input) {
    __typename
    ... on MutationAppendTaskLogSuccess { data { nextOffset } }
    ... on TaskLogGapError { message currentSize }
    ... on Error { message }
  }
}`;

/**
 * `appendTaskLog` on the API. An API without it (older than the agent) is detected once: the
 * log is then not shipped at all rather than retried forever.
 */
export function graphqlLogSink(client: AgentClient, onUnsupported: (message: string) => void): LogSink {
  let unsupported = false;
  return {
    async append(input, signal) {
      if (unsupported) return { refused: "this API keeps no task logs" };
      try {
        const result = await client.mutate<{ nextOffset: number }>("AppendTaskLog", APPEND_TASK_LOG, { input }, "appendTaskLog", signal);
        if (result.ok) return { nextOffset: result.data.nextOffset };
        if (result.typename === "TaskLogGapError" && typeof result.extra?.currentSize === "number") return { gap: result.extra.currentSize };
        return { refused: `${result.typename}: ${result.message}` };
      } catch (error) {
        if (error instanceof GraphQLRequestError && error.errors.some((e) => /appendTaskLog|AppendTaskLogInput/.test(e.message))) {
          unsupported = true;
          onUnsupported(error.message);
          return { refused: "this API keeps no task logs" };
        }
        throw error;
      }
    },
  };
}
