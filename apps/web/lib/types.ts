// Shapes of the API's answers, as the console's documents select them.

export type Role = "admin" | "operator" | "viewer" | "agent";

export interface Me {
  name: string;
  role: Role;
}

export interface Condition {
  type: string;
  status: string;
  reason: string | null;
  message: string | null;
}

export interface PoolSummary {
  name: string;
  runtime: string;
  slotsPerPod: number;
  minPods: number;
  maxPods: number;
  autoscale: boolean;
  utilization: number;
  podCount: number;
  busySlots: number;
  reservedSlots: number;
  totalSlots: number;
  pendingTasks: number;
  conditions: Condition[];
}

export type SlotState = "idle" | "running" | "reserved";

export interface SlotTask {
  id: string;
  type: string;
  status: string;
}

export interface Slot {
  index: number;
  state: SlotState;
  reservedUntil: string | null;
  task: SlotTask | null;
}

export interface Pod {
  name: string;
  phase: string;
  createdAt: string;
  lastHeartbeatAt: string | null;
  slots: Slot[];
}

export interface ScalingEvent {
  kind: string;
  fromPods: number;
  toPods: number;
  utilization: number | null;
  reason: string | null;
  at: string;
}

export interface PoolDetail extends PoolSummary {
  image: string | null;
  scaleUpAt: number;
  scaleDownAt: number;
  reservationTtlSeconds: number;
  scaleUpCooldownSeconds: number;
  scaleDownCooldownSeconds: number;
  maxStep: number;
  newPodGraceSeconds: number;
  /** Why pending tasks wait: no free slot, behind their concurrency key, or held by the reserved-capacity cap. */
  pendingByReason?: { noSlot: number; keyBlocked: number; reservedCap: number };
  reservedSlotSeconds?: number;
  maxReservedFraction?: number;
  maxTasksPerPod?: number | null;
  pods: Pod[];
  scalingEvents: ScalingEvent[];
}

export interface Task {
  id: string;
  type: string;
  status: string;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  error: string | null;
  /** What the agent reported: the plan of an apply_pending task, results. */
  output?: unknown;
  pod: { name: string } | null;
  slot: { index: number; state: SlotState } | null;
}

export interface SlotChange {
  pool: string;
  pod: string;
  index: number;
  state: SlotState;
  taskId: string | null;
  at: string;
}

export interface CronRunSummary {
  status: string;
  startedAt: string | null;
  durationMs: number | null;
  replica: string | null;
}

export interface CronJob {
  name: string;
  schedule: string;
  timeZone: string | null;
  paused: boolean;
  overlap: string | null;
  nextRunAt: string | null;
  lastRun: CronRunSummary | null;
}

export interface CronRun {
  id: string;
  job: string;
  replica: string | null;
  status: string;
  scheduledAt: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  error: string | null;
  fencingToken: string | null;
}

export interface Lock {
  key: string;
  holder: string;
  fencingToken: string | null;
  acquiredAt: string;
  expiresAt: string;
}

export interface StoredObject {
  key: string;
  size: number;
  contentType: string | null;
  etag: string | null;
  lastModified: string | null;
}

export interface ObjectListing {
  folders: string[];
  objects: StoredObject[];
  /** Where the next page starts; null on the last page. */
  nextAfter: string | null;
}

export interface ApiToken {
  id: string;
  name: string;
  role: Role;
  prefix: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}
