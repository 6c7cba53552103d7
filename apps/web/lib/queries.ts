// GraphQL documents the console sends. Those named like the public contract keep its selection
// (plus fields the API offers beyond it) so the console exercises what outside clients rely on.

export const ME = /* GraphQL */ `
  query Me { me { name role } }
`;

const CONDITIONS = "conditions { type status reason message }";

export const POOLS = /* GraphQL */ `
  query Pools {
    pools {
      name runtime slotsPerPod minPods maxPods autoscale
      utilization podCount busySlots reservedSlots totalSlots pendingTasks
      ${CONDITIONS}
    }
  }
`;

export const POOL = /* GraphQL */ `
  query Pool($name: String!) {
    pool(name: $name) {
      name runtime image slotsPerPod minPods maxPods scaleUpAt scaleDownAt reservationTtlSeconds autoscale utilization
      podCount busySlots reservedSlots totalSlots pendingTasks
      pendingByReason { noSlot keyBlocked reservedCap } reservedSlotSeconds maxReservedFraction maxTasksPerPod
      scaleUpCooldownSeconds scaleDownCooldownSeconds maxStep newPodGraceSeconds
      ${CONDITIONS}
      pods {
        name phase createdAt lastHeartbeatAt
        slots { index state reservedUntil task { id type status } }
      }
      scalingEvents(last: 50) { kind fromPods toPods utilization reason at }
    }
  }
`;

export const TASKS = /* GraphQL */ `
  query Tasks($pool: String, $status: [String!], $first: Int) {
    tasks(pool: $pool, status: $status, first: $first) {
      id type status createdAt startedAt finishedAt error output
      pod { name } slot { index state }
    }
  }
`;

// Every mutation union carries ValidationError, whose `field` names the input at fault.
const ERROR = "... on Error { message } ... on ValidationError { field }";

export const CREATE_POOL = /* GraphQL */ `
  mutation CreatePool($input: CreatePoolInput!) {
    createPool(input: $input) {
      __typename
      ... on MutationCreatePoolSuccess { data { name slotsPerPod minPods maxPods } }
      ${ERROR}
    }
  }
`;

export const UPDATE_POOL = /* GraphQL */ `
  mutation UpdatePool($name: String!, $input: UpdatePoolInput!) {
    updatePool(name: $name, input: $input) {
      __typename
      ... on MutationUpdatePoolSuccess { data { name minPods maxPods scaleUpAt scaleDownAt autoscale } }
      ${ERROR}
    }
  }
`;

export const SCALE_POOL = /* GraphQL */ `
  mutation ScalePool($name: String!, $pods: Int!) {
    scalePool(name: $name, pods: $pods) {
      __typename
      ... on MutationScalePoolSuccess { data { requested applied blockedPods podCount } }
      ${ERROR}
    }
  }
`;

export const DELETE_POOL = /* GraphQL */ `
  mutation DeletePool($name: String!) {
    deletePool(name: $name) {
      __typename
      ... on MutationDeletePoolSuccess { data }
      ${ERROR}
    }
  }
`;

export const SUBMIT_TASK = /* GraphQL */ `
  mutation SubmitTask($input: SubmitTaskInput!) {
    submitTask(input: $input) {
      __typename
      ... on MutationSubmitTaskSuccess { data { id type status } }
      ${ERROR}
    }
  }
`;

export const APPROVE_TASK = /* GraphQL */ `
  mutation ApproveTask($id: ID!) {
    approveTask(id: $id) {
      __typename
      ... on MutationApproveTaskSuccess { data { id status pod { name } slot { index } } }
      ${ERROR}
    }
  }
`;

export const CANCEL_TASK = /* GraphQL */ `
  mutation CancelTask($id: ID!) {
    cancelTask(id: $id) {
      __typename
      ... on MutationCancelTaskSuccess { data { id status } }
      ${ERROR}
    }
  }
`;

export const SLOT_CHANGED = /* GraphQL */ `
  subscription SlotChanged($pool: String!) {
    slotChanged(pool: $pool) { pool pod index state taskId at }
  }
`;

export const POOL_CHANGED = /* GraphQL */ `
  subscription PoolChanged {
    poolChanged { name podCount utilization }
  }
`;

export const CRON_JOBS = /* GraphQL */ `
  query CronJobs {
    cronJobs { name schedule timeZone paused overlap nextRunAt lastRun { status startedAt durationMs replica } }
  }
`;

export const CRON_RUNS = /* GraphQL */ `
  query CronRunsPage($job: String, $status: String, $first: Int, $offset: Int) {
    cronRuns(job: $job, status: $status, first: $first, offset: $offset) {
      id job replica status scheduledAt startedAt finishedAt durationMs error fencingToken
    }
    cronRunCount(job: $job, status: $status)
  }
`;

export const TRIGGER_CRON_JOB = /* GraphQL */ `
  mutation TriggerCronJob($name: String!) {
    triggerCronJob(name: $name) {
      __typename
      ... on MutationTriggerCronJobSuccess { data { id status } }
      ${ERROR}
    }
  }
`;

export const PAUSE_CRON_JOB = /* GraphQL */ `
  mutation PauseCronJob($name: String!) {
    pauseCronJob(name: $name) {
      __typename
      ... on MutationPauseCronJobSuccess { data { name paused } }
      ${ERROR}
    }
  }
`;

export const RESUME_CRON_JOB = /* GraphQL */ `
  mutation ResumeCronJob($name: String!) {
    resumeCronJob(name: $name) {
      __typename
      ... on MutationResumeCronJobSuccess { data { name paused } }
      ${ERROR}
    }
  }
`;

export const CRON_RUN_UPDATED = /* GraphQL */ `
  subscription CronRunUpdated { cronRunUpdated { id job status durationMs } }
`;

export const LOCKS = /* GraphQL */ `
  query Locks { locks { key holder fencingToken acquiredAt expiresAt } }
`;

export const OBJECTS = /* GraphQL */ `
  query Objects($prefix: String!, $first: Int, $after: String) {
    objects(prefix: $prefix, first: $first, after: $after) {
      folders
      objects { key size contentType etag lastModified }
      nextAfter
    }
  }
`;

export const OBJECT_METADATA = /* GraphQL */ `
  query ObjectMetadata($key: String!) {
    object(key: $key) { key size contentType etag lastModified }
  }
`;

export const UPLOAD_OBJECT = /* GraphQL */ `
  mutation UploadObject($key: String!, $file: File!) {
    uploadObject(key: $key, file: $file) {
      __typename
      ... on MutationUploadObjectSuccess { data { key size contentType } }
      ${ERROR}
    }
  }
`;

export const DELETE_OBJECT = /* GraphQL */ `
  mutation DeleteObject($key: String!) {
    deleteObject(key: $key) {
      __typename
      ... on MutationDeleteObjectSuccess { data }
      ${ERROR}
    }
  }
`;

export const PRESIGNED_URL = /* GraphQL */ `
  query PresignedUrl($key: String!, $expiresIn: Int) { presignedUrl(key: $key, expiresIn: $expiresIn) }
`;

export const CLUSTER = /* GraphQL */ `
  query Cluster { cluster { mode replicaId totalReplicas environment } }
`;

export const API_TOKENS = /* GraphQL */ `
  query ApiTokens { apiTokens { id name role prefix createdAt lastUsedAt revokedAt } }
`;

export const CREATE_API_TOKEN = /* GraphQL */ `
  mutation CreateApiToken($name: String!, $role: String!) {
    createApiToken(name: $name, role: $role) {
      __typename
      ... on MutationCreateApiTokenSuccess { data { name role token } }
      ${ERROR}
    }
  }
`;

export const REVOKE_API_TOKEN = /* GraphQL */ `
  mutation RevokeApiToken($id: ID!) {
    revokeApiToken(id: $id) {
      __typename
      ${ERROR}
    }
  }
`;
