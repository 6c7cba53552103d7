import { Counter, Gauge, metric, registry } from "../metrics/index.js";

export const lockAcquireTotal = metric(
  "lock_acquire_total",
  () => new Counter({ name: "lock_acquire_total", help: "Lock acquisitions by outcome (acquired, busy, timeout)", labelNames: ["key", "result"], registers: [registry] }),
);

export const lockHeld = metric("lock_held", () => new Gauge({ name: "lock_held", help: "Locks this process holds now", labelNames: ["key"], registers: [registry] }));

export const lockLostTotal = metric(
  "lock_lost_total",
  () => new Counter({ name: "lock_lost_total", help: "Locks lost while held (taken, gone or expired)", labelNames: ["key", "reason"], registers: [registry] }),
);
