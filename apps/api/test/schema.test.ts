import { readFile } from "node:fs/promises";
import { getNamedType, isObjectType, validateSchema } from "graphql";
import { describe, expect, it } from "vitest";
import { schema } from "../src/schema/index.js";
import { printBerthSchema } from "../src/schema/print.js";

describe("the GraphQL schema", () => {
  it("is valid", () => {
    expect(validateSchema(schema).map(String)).toEqual([]);
  });

  it("matches the committed apps/api/schema.graphql (refresh: pnpm --filter @berth/api schema:print)", async () => {
    const committed = await readFile(new URL("../schema.graphql", import.meta.url), "utf8");
    expect(printBerthSchema()).toBe(committed);
  });

  it("every mutation returns the errors plugin's union: Mutation<Name>Success { data } beside types implementing Error", () => {
    const mutations = schema.getMutationType()?.getFields() ?? {};
    expect(Object.keys(mutations).length).toBeGreaterThan(0);
    for (const [name, field] of Object.entries(mutations)) {
      const union = getNamedType(field.type);
      expect(union.name, name).toBe(`Mutation${name[0]!.toUpperCase()}${name.slice(1)}Result`);
      const members = schema.getPossibleTypes(union as never).map((t) => t.name);
      expect(members, name).toContain(`Mutation${name[0]!.toUpperCase()}${name.slice(1)}Success`);
      for (const member of members.filter((m) => !m.endsWith("Success"))) {
        const type = schema.getType(member);
        expect(isObjectType(type) && type.getInterfaces().map((i) => i.name), `${name}: ${member}`).toContain("Error");
      }
      expect(members, name).toEqual(expect.arrayContaining(["ValidationError", "NotFoundError", "ConflictError", "ForbiddenError"]));
    }
  });
});
