import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Kind, parse, print, type OperationDefinitionNode } from "graphql";

const shared = fileURLToPath(new URL("../../../../../shared/contract/operations.graphql", import.meta.url));
const copy = fileURLToPath(new URL("../contract/operations.graphql", import.meta.url));

const document = parse(readFileSync(existsSync(shared) ? shared : copy, "utf8"));
const operations = new Map(
  document.definitions
    .filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION && d.name !== undefined)
    .map((d) => [d.name!.value, print(d)]),
);

/** The text of one operation of the public contract, exactly as clients send it. */
export function contractOperation(name: string): string {
  const text = operations.get(name);
  if (!text) throw new Error(`the contract has no operation ${name}`);
  return text;
}

export interface SseEvent {
  event: string;
  data: unknown;
}

/** Reads GraphQL-over-SSE frames (`event: next` / `data: ...`) from a streaming response. */
export async function* readSse(response: Response): AsyncGenerator<SseEvent> {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let end: number;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let event = "message";
        let data = "";
        for (const line of frame.split("\n")) {
          if (line.startsWith("event:")) event = line.slice(6).trim();
          else if (line.startsWith("data:")) data += line.slice(5).trim();
        }
        if (data) yield { event, data: JSON.parse(data) };
      }
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
}

/** Waits for the next `next` event's data, failing after `ms`. */
export async function nextData<T = Record<string, unknown>>(events: AsyncGenerator<SseEvent>, ms = 5000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no event within ${ms} ms`)), ms)));
  try {
    for (;;) {
      const result = await Promise.race([events.next(), timeout]);
      if (result.done) throw new Error("the stream ended");
      if (result.value.event === "next") return (result.value.data as { data: T }).data;
      if (result.value.event === "complete") throw new Error("the subscription completed");
    }
  } finally {
    clearTimeout(timer);
  }
}
