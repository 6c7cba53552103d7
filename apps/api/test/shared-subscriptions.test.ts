import { createSubscriptionQueue } from "@berth/core/events";
import { GraphQLError } from "graphql";
import { createSchema, createYoga } from "graphql-yoga";
import { afterEach, describe, expect, it, vi } from "vitest";
import { sharedSubscriptions } from "../src/shared-subscriptions.js";
import { nextData, readSse } from "./support/contract.js";

/** Events for the test's subscriptions, with a count of sources open now. */
function hub() {
  const open = new Set<{ push(value: number): void }>();
  return {
    open,
    subscribe() {
      const queue = createSubscriptionQueue<number>(() => open.delete(queue));
      open.add(queue);
      return queue;
    },
    publish(value: number) {
      for (const q of open) q.push(value);
    },
  };
}

function server() {
  const events = hub();
  const resolved = vi.fn();
  type Context = { auth: { role: string; poolId: null } | null };
  const yoga = createYoga<Context>({
    schema: createSchema<Context>({
      typeDefs: /* GraphQL */ `
        type Query { ok: Boolean }
        type Subscription { tick(scale: Int!): String! }
      `,
      resolvers: {
        Subscription: {
          tick: {
            subscribe: (_root: unknown, args: { scale: number }) => {
              if (args.scale < 0) throw new GraphQLError("scale must not be negative");
              return events.subscribe();
            },
            resolve: (value: number, args: { scale: number }, ctx: Context) => {
              resolved();
              return `${value * args.scale} for ${ctx.auth?.role ?? "nobody"}`;
            },
          },
        },
      },
    }),
    context: ({ request }) => {
      const role = request.headers.get("x-role");
      return { auth: role ? { role, poolId: null } : null };
    },
    plugins: [sharedSubscriptions()],
    logging: false,
  });
  return { yoga, events, resolved };
}

type Server = ReturnType<typeof server>;
const controllers: AbortController[] = [];
afterEach(() => {
  for (const c of controllers.splice(0)) c.abort();
});

async function subscribe(s: Server, scale: number, role = "viewer") {
  const controller = new AbortController();
  controllers.push(controller);
  const response = await s.yoga.fetch("http://127.0.0.1/graphql", {
    method: "POST",
    headers: { "content-type": "application/json", accept: "text/event-stream", "x-role": role },
    body: JSON.stringify({ query: "subscription ($scale: Int!) { tick(scale: $scale) }", variables: { scale } }),
    signal: controller.signal,
  });
  const stream = readSse(response);
  return {
    stream,
    next: () => nextData<{ tick: string }>(stream).then((d) => d.tick),
    // Cancelling the body is how a client that goes away looks to the server.
    stop: async () => {
      if (response.body?.locked) return void (await stream.return(undefined));
      // Not read yet: read the opening ping first, as a client would have, then go.
      const reader = response.body!.getReader();
      await reader.read();
      await reader.cancel();
    },
  };
}

describe("shared subscriptions", () => {
  it("subscribers of the same document, variables and role get every event from one execution", async () => {
    const s = server();
    const subscribers = await Promise.all([subscribe(s, 2), subscribe(s, 2), subscribe(s, 2)]);
    expect(s.events.open.size).toBe(1);
    s.events.publish(1);
    s.events.publish(5);
    for (const sub of subscribers) {
      expect(await sub.next()).toBe("2 for viewer");
      expect(await sub.next()).toBe("10 for viewer");
    }
    expect(s.resolved).toHaveBeenCalledTimes(2);
  });

  it("other variables or another role get their own execution and only their own results", async () => {
    const s = server();
    const [double, triple, admin] = await Promise.all([subscribe(s, 2), subscribe(s, 3), subscribe(s, 2, "admin")]);
    expect(s.events.open.size).toBe(3);
    s.events.publish(1);
    expect(await double.next()).toBe("2 for viewer");
    expect(await triple.next()).toBe("3 for viewer");
    expect(await admin.next()).toBe("2 for admin");
    expect(s.resolved).toHaveBeenCalledTimes(3);
  });

  it("a subscription refused at subscribe gets its error alone; the others keep streaming", async () => {
    const s = server();
    const good = await subscribe(s, 2);
    const refused = await subscribe(s, -1);
    const first = await refused.stream.next();
    expect(JSON.stringify(first.value)).toContain("scale must not be negative");
    s.events.publish(4);
    expect(await good.next()).toBe("8 for viewer");
  });

  it("one subscriber leaving does not end the others; the last one leaving closes the source", async () => {
    const s = server();
    const [a, b] = await Promise.all([subscribe(s, 1), subscribe(s, 1)]);
    await a.stop();
    s.events.publish(7);
    expect(await b.next()).toBe("7 for viewer");
    expect(s.events.open.size).toBe(1);
    await b.stop();
    await vi.waitFor(() => expect(s.events.open.size).toBe(0));

    // A new subscriber after that starts a fresh stream.
    const c = await subscribe(s, 1);
    expect(s.events.open.size).toBe(1);
    s.events.publish(9);
    expect(await c.next()).toBe("9 for viewer");
  });
});
