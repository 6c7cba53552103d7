import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DataDirInUseError, DatabaseUnavailableError, openDatabase, readMigrations } from "../../src/db/index.js";
import { backends, openTestDatabase, type TestDatabase } from "../support/databases.js";

describe.each(backends)("database on %s", (backend) => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await openTestDatabase(backend);
  });
  afterAll(() => t.drop());

  it("records every migration the way Prisma Migrate does, and applying again is a no-op", async () => {
    const rows = await t.db.prisma.$queryRaw<{ migration_name: string }[]>`SELECT migration_name FROM "_prisma_migrations" ORDER BY migration_name`;
    expect(rows.map((r) => r.migration_name)).toEqual((await readMigrations()).map((m) => m.name));
    expect(await t.db.migrate()).toEqual([]);
  });

  it("pool names are unique", async () => {
    await t.db.prisma.pool.create({ data: { name: "unique-a" } });
    await expect(t.db.prisma.pool.create({ data: { name: "unique-a" } })).rejects.toThrow();
    expect(await t.db.prisma.pool.count({ where: { name: "unique-a" } })).toBe(1);
  });

  it("(pod, index) is unique, a task holds at most one slot, an idle slot holds no task", async () => {
    const pool = await t.db.prisma.pool.create({ data: { name: "constraints" } });
    const pod = await t.db.prisma.pod.create({ data: { name: "constraints-a", poolId: pool.id } });
    await t.db.prisma.slot.create({ data: { podId: pod.id, index: 0 } });
    await expect(t.db.prisma.slot.create({ data: { podId: pod.id, index: 0 } })).rejects.toThrow();

    const task = await t.db.prisma.task.create({ data: { poolId: pool.id, type: "plan" } });
    const s1 = await t.db.prisma.slot.create({ data: { podId: pod.id, index: 1, state: "running", taskId: task.id } });
    await expect(t.db.prisma.slot.create({ data: { podId: pod.id, index: 2, state: "running", taskId: task.id } })).rejects.toThrow();
    await expect(t.db.prisma.slot.update({ where: { id: s1.id }, data: { state: "idle" } })).rejects.toThrow();
    await expect(t.db.prisma.slot.create({ data: { podId: pod.id, index: 3, state: "reserved", taskId: null } })).rejects.toThrow();
    const slots = await t.db.prisma.slot.findMany({ where: { podId: pod.id }, orderBy: { index: "asc" } });
    expect(slots.map((s) => [s.index, s.state, s.taskId])).toEqual([
      [0, "idle", null],
      [1, "running", task.id],
    ]);
  });

  it("pool limits are checked by the database too", async () => {
    await expect(t.db.prisma.pool.create({ data: { name: "bad-minmax", minPods: 3, maxPods: 1 } })).rejects.toThrow();
    await expect(t.db.prisma.pool.create({ data: { name: "bad-thresh", scaleDownAt: 0.9, scaleUpAt: 0.5 } })).rejects.toThrow();
    await expect(t.db.prisma.pool.create({ data: { name: "bad-slots", slotsPerPod: 65 } })).rejects.toThrow();
    expect(await t.db.prisma.pool.count({ where: { name: { startsWith: "bad-" } } })).toBe(0);
  });
});

describe("opening the database", () => {
  it("an unreachable DATABASE_URL gives one clear line, not a stack", async () => {
    const error = await openDatabase({ kind: "postgres", url: "postgresql://postgres@127.0.0.1:1/none" }).catch((e) => e);
    expect(error).toBeInstanceOf(DatabaseUnavailableError);
    expect(error.message).toBe("database unavailable: nothing listens at 127.0.0.1:1/none (connection refused)");
  });

  it("a second process cannot open the same embedded data directory", async () => {
    const dir = await mkdtemp(join(tmpdir(), "berth-db-"));
    try {
      const db = await openDatabase({ kind: "pglite", dataDir: dir });
      // Pretend another live process (our parent) holds it.
      const { writeFile } = await import("node:fs/promises");
      await db.close();
      await writeFile(join(dir, "berth.pid"), String(process.ppid));
      await expect(openDatabase({ kind: "pglite", dataDir: dir })).rejects.toBeInstanceOf(DataDirInUseError);
      // A stale pid file (dead process) is taken over.
      await writeFile(join(dir, "berth.pid"), "999999");
      const again = await openDatabase({ kind: "pglite", dataDir: dir });
      await again.migrate();
      await again.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!backends.includes("postgres"))("opening PostgreSQL with bad credentials", () => {
  it("names the failure in one line", async () => {
    const error = await openDatabase({ kind: "postgres", url: "postgresql://no_such_role@127.0.0.1:5432/test" }).catch((e) => e);
    expect(error).toBeInstanceOf(DatabaseUnavailableError);
    expect(error.message).toMatch(/^database unavailable: authentication failed at 127\.0\.0\.1:5432\/test: .*no_such_role/);
    expect(error.message).not.toContain("\n");
  });
});
