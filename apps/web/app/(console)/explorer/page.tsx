import type { Metadata } from "next";
import { Explorer } from "./explorer";

export const metadata: Metadata = { title: "Explorer" };

/** A link may bring a document along (`/explorer?query=...`); longer ones are not taken. */
const MAX_QUERY_CHARS = 10_000;

/** GraphiQL, bundled with the console: it works offline and sends every request through the console's proxy. */
export default async function ExplorerPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const { query } = await searchParams;
  const initialQuery = typeof query === "string" && query.length <= MAX_QUERY_CHARS ? query : undefined;
  return (
    <div className="explorer-page">
      <h1 className="sr-only">GraphQL explorer</h1>
      <Explorer initialQuery={initialQuery} />
    </div>
  );
}
