// Who may declare commands: on the local runtime they run on the API's machine (admin only); on
// Kubernetes inside the pool's pods (the pod policy governs those, so an operator may).
import { describe, expect, it } from "vitest";
import { admitTaskTypes, LocalCommandsForbiddenError, parseTaskTypes, resolveTaskType } from "../../src/pools/task-types.js";

const types = parseTaskTypes([{ name: "plan", command: ["terraform", "plan"], applyCommand: ["terraform", "apply"] }]);
const other = parseTaskTypes([{ name: "plan", command: ["rm", "-rf", "/"] }]);

describe("admitting task types", () => {
  it("lets an operator declare them on a kubernetes pool, and only an admin on a local one", () => {
    expect(() => admitTaskTypes({ name: "k", runtime: "kubernetes", taskTypes: types }, undefined, "operator")).not.toThrow();
    expect(() => admitTaskTypes({ name: "l", runtime: "local", taskTypes: types }, undefined, "operator")).toThrow(LocalCommandsForbiddenError);
    expect(() => admitTaskTypes({ name: "l", runtime: "local", taskTypes: types }, undefined, "admin")).not.toThrow();
    expect(() => admitTaskTypes({ name: "l", runtime: "local", taskTypes: null }, undefined, "operator")).not.toThrow();
  });

  it("refuses an operator who changes a local pool's commands, or moves a pool with commands to the local runtime", () => {
    expect(() => admitTaskTypes({ name: "l", runtime: "local", taskTypes: types }, { runtime: "local", taskTypes: types }, "operator")).not.toThrow();
    expect(() => admitTaskTypes({ name: "l", runtime: "local", taskTypes: other }, { runtime: "local", taskTypes: types }, "operator")).toThrow(LocalCommandsForbiddenError);
    expect(() => admitTaskTypes({ name: "l", runtime: "local", taskTypes: types }, { runtime: "kubernetes", taskTypes: types }, "operator")).toThrow(LocalCommandsForbiddenError);
    expect(() => admitTaskTypes({ name: "l", runtime: "local", taskTypes: types }, { runtime: "local", taskTypes: types }, undefined)).not.toThrow();
  });

  it("normalises: defaults filled in, an empty list is no declaration, and a type resolves by name", () => {
    expect(types).toEqual([{ name: "plan", command: ["terraform", "plan"], applyCommand: ["terraform", "apply"], shell: false, env: {}, timeoutSeconds: null, keep: "none" }]);
    expect(parseTaskTypes([])).toBeNull();
    expect(resolveTaskType(types, "plan")?.applyCommand).toEqual(["terraform", "apply"]);
    expect(resolveTaskType(types, "apply")).toBeNull();
    expect(resolveTaskType(null, "plan")).toBeNull();
  });
});
