import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { describeVariables } from "../../src/cluster/index.js";

const readme = readFileSync(new URL("../../../../README.md", import.meta.url), "utf8");
const table = readme.slice(readme.indexOf("## Configuration"), readme.indexOf("## Layout"));
const documented = [...table.matchAll(/^\| `([A-Z0-9_]+)` \|/gm)].map((m) => m[1]);

describe("the README's configuration table", () => {
  it("documents every variable Berth reads, and no other", () => {
    expect([...documented].sort()).toEqual(describeVariables().map((v) => v.name).sort());
  });
});
