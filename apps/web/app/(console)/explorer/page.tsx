import type { Metadata } from "next";
import { Explorer } from "./explorer";

export const metadata: Metadata = { title: "Explorer" };

/** GraphiQL, bundled with the console: it works offline and sends every request through the console's proxy. */
export default function ExplorerPage() {
  return (
    <div className="explorer-page">
      <h1 className="sr-only">GraphQL explorer</h1>
      <Explorer />
    </div>
  );
}
