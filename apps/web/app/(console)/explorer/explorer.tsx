"use client";

import { GraphiQL, type GraphiQLProps } from "graphiql";
import { getOperationAST, parse } from "graphql";
import { createClient, type Client } from "graphql-sse";
import "graphiql/setup-workers/webpack";
import "graphiql/style.css";
import { CONSOLE_HEADER } from "@/lib/proxy-headers";
import { PROXY_PATH } from "@/lib/client/graphql";

const DEFAULT_QUERY = `# Requests go through the console with your session's token.
# Ctrl-Enter runs the query; the Docs panel shows the schema.
{
  pools {
    name
  }
}
`;

let streams: Client | undefined;

function isSubscription(query: string, operationName?: string | null): boolean {
  try {
    return getOperationAST(parse(query), operationName ?? undefined)?.operation === "subscription";
  } catch {
    return false; // the API answers a document that does not parse
  }
}

const fetcher: GraphiQLProps["fetcher"] = async (params) => {
  // Subscriptions stream over SSE through the same proxy; no retries: the person runs it again.
  if (isSubscription(params.query, params.operationName)) {
    streams ??= createClient({ url: PROXY_PATH, headers: { [CONSOLE_HEADER]: "1" }, credentials: "same-origin", retryAttempts: 0 });
    return streams.iterate({ query: params.query, operationName: params.operationName ?? undefined, variables: params.variables ?? undefined });
  }
  const response = await fetch(PROXY_PATH, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json", [CONSOLE_HEADER]: "1" },
    credentials: "same-origin",
    body: JSON.stringify(params),
  });
  if (response.status === 401) window.location.assign("/sign-in?expired=1&next=/explorer");
  return response.json();
};

export function Explorer({ initialQuery }: { initialQuery?: string }) {
  return (
    <div className="explorer" data-testid="explorer">
      <GraphiQL fetcher={fetcher} defaultQuery={DEFAULT_QUERY} initialQuery={initialQuery} />
    </div>
  );
}
