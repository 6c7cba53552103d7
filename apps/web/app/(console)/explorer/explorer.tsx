"use client";

import { GraphiQL, type GraphiQLProps } from "graphiql";
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

const fetcher: GraphiQLProps["fetcher"] = async (params) => {
  const response = await fetch(PROXY_PATH, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json", [CONSOLE_HEADER]: "1" },
    credentials: "same-origin",
    body: JSON.stringify(params),
  });
  if (response.status === 401) window.location.assign("/sign-in?expired=1&next=/explorer");
  return response.json();
};

export function Explorer() {
  return (
    <div className="explorer" data-testid="explorer">
      <GraphiQL fetcher={fetcher} defaultQuery={DEFAULT_QUERY} />
    </div>
  );
}
