import { setTimeout as sleep } from "node:timers/promises";
import type { ClusterInfo } from "../cluster/index.js";
import type { CronRun, PrismaClient } from "../db/index.js";
import type { EventBus } from "../events/index.js";
import type { LockService } from "../locks/index.js";
import { defineCronJob, type CronJobDefinition, type CronTrigger, type OverlapPolicy } from "./define.js";
import { CronJobAlreadyRegisteredError, CronJobNotFoundError } from "./errors.js";
import { listCronRuns, pruneCronHistory, type CronRunPage, type CronRunQuery } from "./history.js";
import { cronExecutions } from "./metrics.js";
import { executeRun, type RunDeps } from "./run.js";
import { dueFireTime, fireTimesBetween, parseSchedule } from "./schedule.js";

export interface CronSchedulerOptions {
  prisma: PrismaClient;
  locks: LockService;
  events: EventBus;
  /** `clustered` decides whether runs take the job's lock; `replicaId` is written on every run. */
  cluster: Pick<ClusterInfo, "clustered" | "replicaId">;
  /** Finished runs kept per job by `pruneHistory()` (default 200), unless the job sets its own `historyKeep`. */
  historyKeep?: number;
  clock?: () => Date;
  /** How often the CronJob table is read for pause, resume and trigger requests (default 1 s). */
  pollMs?: number;
  /**
   * Fire times younger than this at start-up are left to replicas that may be running them
   * right now; only older unrecorded ones count as missed (default 10 s).
   */
  missedGraceMs?: number;
  /** How long `trigger()` waits for the requested run to start somewhere (default: the job's lock ttl). */
  triggerWaitMs?: number;
  /** Where a failed tick is reported (the next tick retries). */
  onError?: (error: unknown) => void;
}

export interface CronJobStatus {
  name: string;
  schedule: string;
  timeZone: string;
  overlap: OverlapPolicy;
  lockTtlMs: number;
  paused: boolean;
  /** Null while paused. */
  nextRunAt: Date | null;
  triggerRequestedAt: Date | null;
  lastRun: CronRun | null;
}

export interface CronScheduler {
  /** Stores the job's row (keeping its paused state) so that every replica and the console see it. */
  register(job: CronJobDefinition): Promise<void>;
  start(): Promise<void>;
  /** Stops firing, waits for running jobs to finish; their locks are released as they end. */
  stop(): Promise<void>;
  /** One pass: read pause/trigger state, record missed fire times once, start what is due. `start()` repeats it. */
  tick(): Promise<void>;
  /** Resolves when no run started by this scheduler is still going. */
  idle(): Promise<void>;
  pause(name: string): Promise<void>;
  resume(name: string): Promise<void>;
  /**
   * Runs the job once now, on whichever replica claims the stored request first (this one,
   * unless it is busy). Returns the run once started, or null if none started within the wait.
   */
  trigger(name: string): Promise<CronRun | null>;
  listJobs(): Promise<CronJobStatus[]>;
  listRuns(query: CronRunQuery): Promise<CronRunPage>;
  /** Applies `historyKeep`; the `prune-cron-history` built-in job calls it. */
  pruneHistory(): Promise<number>;
}

interface JobState {
  job: CronJobDefinition;
  paused: boolean;
  nextFireAt: Date | null;
  /** Start of the span in which unrecorded fire times count as missed; null once checked. */
  missedSince: Date | null;
  running: Promise<unknown> | null;
  /** overlap=wait: the one fire time queued behind the running one. */
  waiting: Date | null;
}

const sameDefinition = (row: { schedule: string; timeZone: string; overlap: string; lockTtlMs: number }, job: CronJobDefinition) =>
  row.schedule === job.schedule && row.timeZone === job.timeZone && row.overlap === job.overlap && row.lockTtlMs === job.lockTtlMs;

export function createCronScheduler(options: CronSchedulerOptions): CronScheduler {
  const { prisma, cluster } = options;
  const clock = options.clock ?? (() => new Date());
  const pollMs = options.pollMs ?? 1000;
  const missedGraceMs = options.missedGraceMs ?? 10_000;
  const historyKeep = options.historyKeep ?? 200;
  const onError = options.onError ?? ((error: unknown) => console.error("berth: cron tick failed:", error));
  const states = new Map<string, JobState>();
  const inFlight = new Set<Promise<unknown>>();
  const deps: RunDeps = { prisma, locks: options.locks, events: options.events, clock, replicaId: cluster.replicaId, clustered: cluster.clustered };
  let timer: NodeJS.Timeout | undefined;
  let started = false;
  let stopping = false;
  let ticking: Promise<void> | null = null;

  const labels = (job: string) => ({ task: job, replica: cluster.replicaId });

  /** Starts a run unless one is going; resolves with the run row once started (null when another replica has this fire time). */
  function launch(state: JobState, scheduledAt: Date, trigger: CronTrigger, claim?: () => Promise<boolean>): Promise<CronRun | null> {
    let reportStart!: (run: CronRun | null) => void;
    const startedRun = new Promise<CronRun | null>((resolve) => (reportStart = resolve));
    const whole = executeRun(deps, state.job, scheduledAt, trigger, reportStart, claim)
      .catch((error: unknown) => {
        reportStart(null);
        onError(error);
      })
      .finally(() => {
        inFlight.delete(whole);
        state.running = null;
        const queued = state.waiting;
        state.waiting = null;
        if (queued && !stopping) fire(state, queued);
      });
    state.running = whole;
    inFlight.add(whole);
    return startedRun;
  }

  function fire(state: JobState, fireAt: Date): void {
    if (state.running) {
      if (state.job.overlap === "wait" && state.waiting === null) state.waiting = fireAt;
      else cronExecutions.inc({ ...labels(state.job.name), status: "skipped" });
      return;
    }
    void launch(state, fireAt, "schedule");
  }

  /** Runs a stored trigger request here if this replica wins it; the claim happens only once the lock is ours. */
  function runRequested(state: JobState, requestedAt: Date): Promise<CronRun | null> {
    if (state.running) return Promise.resolve(null);
    const claim = async () =>
      (
        await prisma.cronJob.updateMany({
          where: { name: state.job.name, triggerRequestedAt: requestedAt },
          data: { triggerRequestedAt: null, updatedAt: clock() },
        })
      ).count === 1;
    return launch(state, requestedAt, "manual", claim);
  }

  async function recordMissed(state: JobState, now: Date): Promise<void> {
    const since = state.missedSince;
    state.missedSince = null;
    if (!since || state.paused) return;
    const latest = await prisma.cronRun.findFirst({ where: { job: state.job.name }, orderBy: { scheduledAt: "desc" } });
    // A run in progress means some replica is up and serving this job.
    if (latest?.status === "running") return;
    const marks = [since, latest?.scheduledAt, latest?.startedAt, latest?.finishedAt].filter((d): d is Date => d instanceof Date);
    const from = new Date(Math.max(...marks.map((d) => d.getTime())));
    const span = fireTimesBetween(state.job.cron, from, new Date(now.getTime() - missedGraceMs));
    if (!span) return;
    try {
      const row = await prisma.cronRun.create({
        data: {
          job: state.job.name,
          replica: cluster.replicaId,
          scheduledAt: span.first,
          trigger: "catch_up",
          status: "missed",
          finishedAt: now,
          error: `${span.count}${span.capped ? "+" : ""} fire time(s) from ${span.first.toISOString()} to ${span.last.toISOString()} passed while no replica ran this job; not run on catch-up`,
        },
      });
      cronExecutions.inc({ ...labels(state.job.name), status: "missed" });
      await options.events.publish("cronRun", { id: row.id, job: row.job, status: "missed", durationMs: null }).catch(() => {});
    } catch (error) {
      // Another replica starting at the same time recorded the same gap first.
      if ((error as { code?: string }).code !== "P2002") throw error;
    }
  }

  async function tickOnce(): Promise<void> {
    if (states.size === 0) return;
    const now = clock();
    const rows = await prisma.cronJob.findMany({ where: { name: { in: [...states.keys()] } }, select: { name: true, paused: true, triggerRequestedAt: true } });
    const byName = new Map(rows.map((r) => [r.name, r]));
    for (const state of states.values()) {
      const row = byName.get(state.job.name);
      state.paused = row?.paused ?? false;
      if (state.missedSince) await recordMissed(state, now);
      if (row?.triggerRequestedAt) void runRequested(state, row.triggerRequestedAt);
      if (state.nextFireAt === null) {
        state.nextFireAt = state.job.cron.next(now);
        continue;
      }
      const due = dueFireTime(state.job.cron, state.nextFireAt, now);
      state.nextFireAt = due.next;
      if (!due.fireAt) continue;
      if (state.paused) continue;
      if (due.passed > 0) cronExecutions.inc({ ...labels(state.job.name), status: "skipped" }, due.passed);
      fire(state, due.fireAt);
    }
  }

  function tick(): Promise<void> {
    // Overlapping ticks (timer plus a test's manual call) would read the same due fire time twice.
    ticking ??= tickOnce().finally(() => (ticking = null));
    return ticking;
  }

  function scheduleNextTick(): void {
    if (!started) return;
    const now = clock().getTime();
    let wake = now + pollMs;
    for (const s of states.values()) if (s.nextFireAt && !s.paused) wake = Math.min(wake, s.nextFireAt.getTime());
    // A few ms late rather than early, so the fire time is already due when the tick reads the clock.
    timer = setTimeout(loop, Math.max(0, wake - now) + 3);
  }

  function loop(): void {
    tick()
      .catch(onError)
      .finally(scheduleNextTick);
  }

  function stateOf(name: string): JobState {
    const state = states.get(name);
    if (!state) throw new CronJobNotFoundError(name);
    return state;
  }

  async function setPaused(name: string, paused: boolean): Promise<void> {
    const { count } = await prisma.cronJob.updateMany({ where: { name }, data: { paused, updatedAt: clock() } });
    if (count === 0) throw new CronJobNotFoundError(name);
    const state = states.get(name);
    if (state) state.paused = paused;
  }

  return {
    async register(input) {
      // Checked again: a definition may have been assembled by hand rather than by defineCronJob.
      const job = defineCronJob({ ...input, lockTtl: input.lockTtlMs, historyKeep: input.historyKeep });
      if (states.has(job.name)) throw new CronJobAlreadyRegisteredError(job.name);
      const now = clock();
      const existing = await prisma.cronJob.findUnique({ where: { name: job.name } });
      const definition = { schedule: job.schedule, timeZone: job.timeZone, overlap: job.overlap, lockTtlMs: job.lockTtlMs };
      let missedSince = now;
      if (!existing) {
        await prisma.cronJob.create({ data: { name: job.name, ...definition, createdAt: now, updatedAt: now } }).catch((error: unknown) => {
          if ((error as { code?: string }).code !== "P2002") throw error;
        });
      } else if (!sameDefinition(existing, job)) {
        await prisma.cronJob.update({ where: { name: job.name }, data: { ...definition, updatedAt: now } });
      } else {
        // Unchanged: fire times since the last change or run that nobody recorded were missed.
        missedSince = existing.updatedAt;
      }
      states.set(job.name, { job, paused: existing?.paused ?? false, nextFireAt: null, missedSince, running: null, waiting: null });
    },

    async start() {
      if (started) return;
      started = true;
      stopping = false;
      loop();
    },

    async stop() {
      started = false;
      stopping = true;
      clearTimeout(timer);
      await ticking?.catch(() => {});
      for (const s of states.values()) s.waiting = null;
      await Promise.allSettled([...inFlight]);
    },

    tick,

    async idle() {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },

    pause: (name) => setPaused(name, true),
    resume: (name) => setPaused(name, false),

    async trigger(name) {
      const state = stateOf(name);
      const now = clock();
      // One statement both reuses a request already pending (two clicks before it runs still run
      // it once) and makes one when there is none: reading it back separately could find it
      // claimed (cleared) by another replica in between, and then wait for a request that was
      // never stored.
      const [row] = await prisma.$queryRaw<{ requestedAt: Date }[]>`
        UPDATE "CronJob" SET "triggerRequestedAt" = COALESCE("triggerRequestedAt", ${now}::timestamp(3)), "updatedAt" = ${now}::timestamp(3)
        WHERE name = ${name} RETURNING "triggerRequestedAt" AS "requestedAt"`;
      if (!row) throw new CronJobNotFoundError(name);
      const requestedAt = row.requestedAt;
      const deadline = Date.now() + (options.triggerWaitMs ?? state.job.lockTtlMs);
      for (let attempt = 0; ; attempt++) {
        // While started, this replica's own ticks retry the claim; trying on every poll here would only inflate lock failures.
        if (attempt === 0 || !started) {
          const run = await runRequested(state, requestedAt);
          if (run) return run;
        }
        const elsewhere = await prisma.cronRun.findUnique({ where: { job_scheduledAt: { job: name, scheduledAt: requestedAt } } });
        if (elsewhere) return elsewhere;
        if (Date.now() >= deadline) return null;
        await (state.running ?? sleep(100)).catch(() => {});
      }
    },

    async listJobs() {
      const now = clock();
      const jobs = await prisma.cronJob.findMany({ orderBy: { name: "asc" } });
      return Promise.all(
        jobs.map(async (row) => {
          const lastRun = await prisma.cronRun.findFirst({ where: { job: row.name }, orderBy: [{ scheduledAt: "desc" }, { id: "desc" }] });
          let nextRunAt: Date | null = null;
          if (!row.paused) {
            try {
              nextRunAt = (states.get(row.name)?.job.cron ?? parseSchedule(row.schedule, row.timeZone)).next(now);
            } catch {
              // A row written by an older version with a schedule this one rejects: shown without a next run.
            }
          }
          return {
            name: row.name,
            schedule: row.schedule,
            timeZone: row.timeZone,
            overlap: row.overlap as OverlapPolicy,
            lockTtlMs: row.lockTtlMs,
            paused: row.paused,
            nextRunAt,
            triggerRequestedAt: row.triggerRequestedAt,
            lastRun,
          };
        }),
      );
    },

    listRuns: (query) => listCronRuns(prisma, query),
    pruneHistory: () =>
      pruneCronHistory(
        prisma,
        historyKeep,
        Object.fromEntries([...states.values()].flatMap((s) => (s.job.historyKeep === null ? [] : [[s.job.name, s.job.historyKeep]]))),
      ),
  };
}
