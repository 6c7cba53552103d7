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
      scaleUpMaxStep maxTasksPerPod maxPodAgeSeconds
      capacityWindows { cron timeZone durationSeconds minPods maxPods blockScaleDown }
      activeCapacityWindow { index startsAt endsAt window { cron timeZone minPods maxPods blockScaleDown } }
      namespace podTemplate stabilizationWindowSeconds lostPodPolicy maxAttempts taskTimeoutSeconds timeoutPolicy stopGraceSeconds podPolicyOverride
      ${CONDITIONS}
      pods {
        name phase createdAt lastHeartbeatAt
        slots { index state reservedUntil task { id type status } }
      }
      scalingEvents(last: 50) { kind fromPods toPods utilization reason actor at }
    }
  }
`;

export const POOL_UTILISATION = /* GraphQL */ `
  query PoolUtilisation($name: String!, $range: UtilisationRange!) {
    pool(name: $name) {
      utilisation(range: $range) {
        range from to stepSeconds
        points { at busySlots reservedSlots idleSlots startingSlots pendingTasks podCount pendingNoSlot pendingKeyBlocked pendingReservedCap }
        events { kind fromPods toPods utilization reason at }
      }
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

const podAction = (name: string) => /* GraphQL */ `
  mutation ${name[0]!.toUpperCase()}${name.slice(1)}($pool: String!, $pod: String!) {
    ${name}(pool: $pool, pod: $pod) {
      __typename
      ... on Mutation${name[0]!.toUpperCase()}${name.slice(1)}Success { data { pod phase } }
      ${ERROR}
    }
  }
`;
export const DRAIN_POD = podAction("drainPod");
export const DELETE_POD = podAction("deletePod");
export const CLEAR_LOST_POD = podAction("clearLostPod");

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
      id job replica status trigger scheduledAt startedAt finishedAt durationMs error fencingToken
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

export const MOVE_OBJECT = /* GraphQL */ `
  mutation MoveObject($from: String!, $to: String!) {
    moveObject(from: $from, to: $to) { __typename ... on MutationMoveObjectSuccess { data { key } } ${ERROR} }
  }
`;

export const CREATE_FOLDER = /* GraphQL */ `
  mutation CreateFolder($folder: String!) {
    createFolder(folder: $folder) { __typename ... on MutationCreateFolderSuccess { data } ${ERROR} }
  }
`;

export const DELETE_OBJECTS = /* GraphQL */ `
  mutation DeleteObjects($keys: [String!]!) {
    deleteObjects(keys: $keys) { __typename ... on MutationDeleteObjectsSuccess { data } ${ERROR} }
  }
`;

export const DELETE_FOLDER = /* GraphQL */ `
  mutation DeleteFolder($folder: String!) {
    deleteFolder(folder: $folder) { __typename ... on MutationDeleteFolderSuccess { data } ${ERROR} }
  }
`;

export const OBJECTS_UNDER = /* GraphQL */ `
  query ObjectsUnder($folder: String!) { objectsUnder(folder: $folder) { count more } }
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

const TASK_ROW = "id type status pool podName idempotencyKey createdAt startedAt finishedAt error output reviewedBy reviewVerdict pod { name } slot { index state }";

export const TASKS_CONNECTION = /* GraphQL */ `
  query TasksConnection($first: Int, $after: String, $last: Int, $before: String, $filter: TaskFilter) {
    tasksConnection(first: $first, after: $after, last: $last, before: $before, filter: $filter) {
      edges { node { ${TASK_ROW} } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      countsByStatus { status count }
    }
  }
`;

export const APPROVALS = /* GraphQL */ `
  query Approvals($first: Int) {
    approvals(first: $first) {
      id type pool podName createdAt planReadyAt output idempotencyKey
      slot { index state reservedUntil }
    }
    approvalsCount
  }
`;

export const APPROVALS_COUNT = /* GraphQL */ `
  query ApprovalsCount { approvalsCount }
`;

export const REVIEW_APPROVE = /* GraphQL */ `
  mutation ApproveTaskWithComment($id: ID!, $comment: String) {
    approveTask(id: $id, comment: $comment) {
      __typename
      ... on MutationApproveTaskSuccess { data { id status reviewedBy } }
      ${ERROR}
    }
  }
`;

export const REVIEW_REJECT = /* GraphQL */ `
  mutation RejectTask($id: ID!, $comment: String) {
    rejectTask(id: $id, comment: $comment) {
      __typename
      ... on MutationRejectTaskSuccess { data { id status reviewedBy } }
      ${ERROR}
    }
  }
`;

export const AUDIT_LOG = /* GraphQL */ `
  query AuditLog($first: Int, $after: String, $filter: AuditFilter) {
    auditLog(first: $first, after: $after, filter: $filter) {
      edges { node { id at actor role operation target outcome } }
      pageInfo { hasNextPage endCursor }
    }
  }
`;

export const TASK_DETAIL = /* GraphQL */ `
  query TaskDetail($id: ID!) {
    task(id: $id) {
      id type status pool payload output error failureReason attempts timeoutSeconds deadlineAt
      createdAt startedAt acknowledgedAt planReadyAt approvedAt finishedAt stopRequestedAt
      podName slotIndex reviewedBy reviewedAt reviewVerdict reviewComment
      pod { name } slot { index state reservedUntil }
    }
  }
`;

export const TASK_LOG = /* GraphQL */ `
  subscription TaskLog($id: ID!, $from: Float) {
    taskLog(id: $id, from: $from) { data nextOffset complete truncated }
  }
`;

export const CLUSTER_PAGE = /* GraphQL */ `
  query ClusterPage {
    cluster {
      mode clustered replicaId totalReplicas configuredReplicas reason environment
      replicas { id version host mode startedAt lastSeenAt alive self locks { key fencingToken expiresAt } }
      services { name backend status message latencyMs }
    }
  }
`;
