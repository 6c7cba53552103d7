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
  /** The token name of whoever scaled by hand. */
  actor?: string | null;
  at: string;
}

export interface CapacityWindow {
  cron: string;
  timeZone: string;
  durationSeconds: number;
  minPods: number | null;
  maxPods: number | null;
  blockScaleDown: boolean;
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
  scaleUpMaxStep: number | null;
  maxTasksPerPod: number | null;
  maxPodAgeSeconds: number | null;
  capacityWindows: CapacityWindow[];
  activeCapacityWindow: { index: number; startsAt: string; endsAt: string; window: Omit<CapacityWindow, "durationSeconds"> } | null;
  namespace?: string;
  podTemplate?: unknown;
  stabilizationWindowSeconds?: number;
  lostPodPolicy?: string;
  maxAttempts?: number;
  taskTimeoutSeconds?: number | null;
  timeoutPolicy?: string;
  stopGraceSeconds?: number;
  podPolicyOverride?: boolean;
  /** Why pending tasks wait: no free slot, behind their concurrency key, or held by the reserved-capacity cap. */
  pendingByReason?: { noSlot: number; keyBlocked: number; reservedCap: number };
  reservedSlotSeconds?: number;
  maxReservedFraction?: number;
  pods: Pod[];
  scalingEvents: ScalingEvent[];
}

export type UtilisationRange = "HOUR" | "DAY";

export interface UtilisationPoint {
  at: string;
  busySlots: number;
  reservedSlots: number;
  idleSlots: number;
  startingSlots: number;
  pendingTasks: number;
  podCount: number;
  pendingNoSlot: number;
  pendingKeyBlocked: number;
  pendingReservedCap: number;
}

export interface PoolUtilisation {
  range: UtilisationRange;
  from: string;
  to: string;
  stepSeconds: number;
  points: UtilisationPoint[];
  events: ScalingEvent[];
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
  /** Where the task runs or last ran, kept after it ended and after the pod is gone. */
  podName?: string | null;
  slotIndex?: number | null;
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
  /** schedule, manual or catch_up. */
  trigger?: string;
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

/** A task as the task lists show it. */
export interface TaskRow {
  id: string;
  type: string;
  status: string;
  pool: string;
  podName: string | null;
  idempotencyKey: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  error: string | null;
  output?: unknown;
  reviewedBy: string | null;
  reviewVerdict: string | null;
  pod: { name: string } | null;
  slot: { index: number; state: SlotState } | null;
}

export interface TaskConnection {
  edges: { node: TaskRow }[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
  countsByStatus: { status: string; count: number }[];
}

/** A plan waiting for approval. */
export interface Approval {
  id: string;
  type: string;
  pool: string;
  podName: string | null;
  createdAt: string;
  planReadyAt: string | null;
  output?: unknown;
  idempotencyKey: string | null;
  slot: { index: number; state: SlotState; reservedUntil: string | null } | null;
}

export interface AuditEntry {
  id: string;
  at: string;
  actor: string;
  role: string;
  operation: string;
  target: string | null;
  outcome: string;
}

export interface TaskDetail {
  id: string;
  type: string;
  status: string;
  pool: string;
  payload: unknown;
  output: unknown;
  error: string | null;
  failureReason: string | null;
  attempts: number;
  timeoutSeconds: number | null;
  deadlineAt: string | null;
  createdAt: string;
  startedAt: string | null;
  acknowledgedAt: string | null;
  planReadyAt: string | null;
  approvedAt: string | null;
  finishedAt: string | null;
  stopRequestedAt: string | null;
  podName: string | null;
  slotIndex: number | null;
  reviewedBy: string | null;
  reviewedAt: string | null;
  reviewVerdict: string | null;
  reviewComment: string | null;
  pod: { name: string } | null;
  slot: { index: number; state: SlotState; reservedUntil: string | null } | null;
}

export interface TaskLogPage {
  data: string;
  nextOffset: number;
  complete: boolean;
  truncated: boolean;
}

export interface ReplicaView {
  id: string;
  version: string;
  host: string;
  mode: string;
  startedAt: string;
  lastSeenAt: string;
  alive: boolean;
  self: boolean;
  locks: { key: string; fencingToken: string; expiresAt: string }[];
}

export interface ServiceStatusView {
  name: string;
  backend: string;
  status: "ok" | "down" | "unused";
  message: string;
  latencyMs: number | null;
}

export interface ClusterView {
  mode: string;
  clustered: boolean;
  replicaId: string;
  totalReplicas: number;
  configuredReplicas: number;
  reason: string;
  environment: string;
  replicas: ReplicaView[];
  services: ServiceStatusView[];
}
