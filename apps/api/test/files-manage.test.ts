// Folders, rename/move and bulk deletes through the API: typed errors name the input and change
// nothing; the bounded deletes say how many objects they touched.
import { readdir } from "node:fs/promises";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createTestApi, STARTUP_TIMEOUT_MS, type TestApi } from "./support/api.js";

const RESULT = `__typename ... on Error { message } ... on ValidationError { field }`;

describe("managing files through the API", () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await createTestApi({ backend: "pglite" });
  }, STARTUP_TIMEOUT_MS);
  afterAll(() => api?.close());

  const stored = async () =>
    (await readdir(api.config.storage.localPath, { recursive: true, withFileTypes: true }).catch(() => []))
      .filter((e) => e.isFile())
      .map((e) => `${e.parentPath.slice(api.config.storage.localPath.length + 1)}/${e.name}`.replace(/^\//, ""))
      .filter((p) => !p.startsWith(".berth-storage"))
      .sort();

  beforeEach(async () => {
    const { keys } = await api.services.storage.listUnder("m", 1000).catch(() => ({ keys: [] as string[] }));
    await api.services.storage.deleteMany(keys);
    for (const key of ["m/a.txt", "m/b.txt", "m/sub/c.txt"]) await api.services.storage.saveBuffer(Buffer.from(key), key);
  });

  it("moveObject renames an object; createFolder adds an empty folder", async () => {
    const moved = await api.gql(`mutation { moveObject(from: "m/a.txt", to: "m/renamed.txt") { ${RESULT} ... on MutationMoveObjectSuccess { data { key size } } } }`);
    expect(moved.data.moveObject).toEqual({ __typename: "MutationMoveObjectSuccess", data: { key: "m/renamed.txt", size: 7 } });
    const folder = await api.gql(`mutation { createFolder(folder: "m/empty") { ${RESULT} ... on MutationCreateFolderSuccess { data } } }`);
    expect(folder.data.createFolder.data).toBe("m/empty/");
    expect(await stored()).toEqual(["m/b.txt", "m/empty/.keep", "m/renamed.txt", "m/sub/c.txt"]);
  });

  it("refuses bad keys, an existing target and a missing source with typed errors, changing nothing", async () => {
    const before = await stored();
    for (const to of ["../escape.txt", "/etc/passwd", "m/%2e%2e/x", "m//x"]) {
      const refused = await api.gql(`mutation ($to: String!) { moveObject(from: "m/a.txt", to: $to) { ${RESULT} } }`, { to });
      expect(refused.data.moveObject).toMatchObject({ __typename: "ValidationError", field: "key" });
    }
    const exists = await api.gql(`mutation { moveObject(from: "m/a.txt", to: "m/b.txt") { ${RESULT} } }`);
    expect(exists.data.moveObject.__typename).toBe("ConflictError");
    const missing = await api.gql(`mutation { moveObject(from: "m/none.txt", to: "m/x.txt") { ${RESULT} } }`);
    expect(missing.data.moveObject.__typename).toBe("NotFoundError");
    for (const folder of ["..", "/abs", "", "a/../b"]) {
      const created = await api.gql(`mutation ($folder: String!) { createFolder(folder: $folder) { ${RESULT} } }`, { folder });
      expect(created.data.createFolder.__typename).toBe("ValidationError");
      const deleted = await api.gql(`mutation ($folder: String!) { deleteFolder(folder: $folder) { ${RESULT} } }`, { folder });
      expect(deleted.data.deleteFolder.__typename).toBe("ValidationError");
    }
    const many = await api.gql(`mutation { deleteObjects(keys: ["m/a.txt", "../m/b.txt"]) { ${RESULT} } }`);
    expect(many.data.deleteObjects).toMatchObject({ __typename: "ValidationError", field: "key" });
    expect(await stored()).toEqual(before);
  });

  it("objectsUnder counts what deleteFolder deletes; deleteObjects deletes a selection", async () => {
    const count = await api.gql(`{ objectsUnder(folder: "m/") { count more keys } }`);
    expect(count.data.objectsUnder).toMatchObject({ count: 3, more: false });
    const selection = await api.gql(`mutation { deleteObjects(keys: ["m/a.txt"]) { ${RESULT} ... on MutationDeleteObjectsSuccess { data } } }`);
    expect(selection.data.deleteObjects.data).toBe(1);
    const folder = await api.gql(`mutation { deleteFolder(folder: "m") { ${RESULT} ... on MutationDeleteFolderSuccess { data } } }`);
    expect(folder.data.deleteFolder.data).toBe(2);
    expect(await stored()).toEqual([]);
  });
});
