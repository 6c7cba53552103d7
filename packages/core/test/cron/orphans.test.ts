import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCronScheduler, defineCronJob } from "../../src/cron/index.js";
import { createMemoryEventBus } from "../../src/events/index.js";
import { createMemoryLockService, createMemoryLockStore } from "../../src/locks/index.js";
import { openTestDatabase, type TestDatabase } from "../support/databases.js";

describe("a run left `running` by a replica that died", () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await openTestDatabase("pglite");
  });
  afterAll(() => t.drop());

  it("is closed as failed by the next run that takes the job's lock", async () => {
    const prisma = t.db.prisma;
    const scheduler = createCronScheduler({
      prisma,
      locks: createMemoryLockService({ replicaId: "survivor", store: createMemoryLockStore() }),
      events: createMemoryEventBus(),
      cluster: { clustered: true, replicaId: "survivor" },
    });
    await scheduler.register(defineCronJob({ name: "nightly", schedule: "0 0 3 * * *", run: async () => {} }));
    const orphan = await prisma.cronRun.create({
      data: { job: "nightly", replica: "dead", scheduledAt: new Date("2026-01-01T03:00:00Z"), startedAt: new Date("2026-01-01T03:00:00Z"), status: "running", fencingToken: "0" },
    });
    const run = await scheduler.trigger("nightly");
    expect(run).not.toBeNull();
    await scheduler.idle();
    expect(await prisma.cronRun.findUniqueOrThrow({ where: { id: orphan.id } })).toMatchObject({ status: "failed", error: expect.stringContaining("stopped before the run ended") });
    expect(await prisma.cronRun.findUniqueOrThrow({ where: { id: run!.id } })).toMatchObject({ status: "succeeded" });
    await scheduler.stop();
  });
});
