// The client's types are generated from the API's printed schema and checked in. This regenerates
// them and compares: an operation the schema no longer accepts fails generation, and a schema
// change that alters the types without regenerating them fails the comparison.
import { generate } from "@graphql-codegen/cli";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { config } from "../codegen.js";

const dir = fileURLToPath(new URL("..", import.meta.url));

describe("@berth/client's generated types", () => {
  it("are what GraphQL Code Generator makes of apps/api/schema.graphql today (refresh: pnpm --filter @berth/client codegen)", async () => {
    const [target, output] = Object.entries(config.generates)[0]!;
    const absolute = {
      ...config,
      schema: resolve(dir, String(config.schema)),
      documents: resolve(dir, String(config.documents)),
      generates: { [resolve(dir, target)]: output },
      silent: true,
    };
    const [generated] = (await generate(absolute, false)) as { filename: string; content: string }[];
    expect(generated!.content).toBe(await readFile(resolve(dir, target), "utf8"));
  }, 60_000);
});
