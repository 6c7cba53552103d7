// GraphQL documents and shapes of the schedules pages (see the Schedules section of the README).

const ERROR = "... on Error { message } ... on ValidationError { field }";
const RUN = "id fireAt dueAt trigger status outcome note replica submittedAt submitDelayMs task { id status pool }";
const SCHEDULE = `id name cron timeZone pool taskType payload concurrencyKey timeoutSeconds overlap catchupWindowSeconds jitterSeconds
  startAt endAt maxRuns runCount pauseAfterFailures consecutiveFailures paused pausedBy pauseNote pausedAt updatedAt`;

export const SCHEDULES = /* GraphQL */ `
  query Schedules { schedules { ${SCHEDULE} nextFireTimes(count: 3) lastRun { ${RUN} } } }
`;

export const SCHEDULE_DETAIL = /* GraphQL */ `
  query Schedule($name: String!) { schedule(name: $name) { ${SCHEDULE} nextFireTimes(count: 5) } }
`;

export const SCHEDULE_RUNS = /* GraphQL */ `
  query ScheduleRuns($schedule: String!, $first: Int, $after: String) {
    scheduleRuns(schedule: $schedule, first: $first, after: $after) {
      edges { cursor node { ${RUN} } }
      pageInfo { hasNextPage endCursor }
    }
  }
`;

export const POOL_NAMES = /* GraphQL */ `
  query PoolNames { pools { name } }
`;

export const SCHEDULE_PREVIEW = /* GraphQL */ `
  query SchedulePreview($cron: String!, $timeZone: String, $startAt: DateTime, $endAt: DateTime, $count: Int) {
    schedulePreview(cron: $cron, timeZone: $timeZone, startAt: $startAt, endAt: $endAt, count: $count) {
      __typename
      ... on QuerySchedulePreviewSuccess { data }
      ${ERROR}
    }
  }
`;

const mutation = (name: string, signature: string, call: string, fields: string) => /* GraphQL */ `
  mutation ${name[0]!.toUpperCase()}${name.slice(1)}${signature} {
    ${name}${call} {
      __typename
      ... on Mutation${name[0]!.toUpperCase()}${name.slice(1)}Success { data { ${fields} } }
      ${ERROR}
    }
  }
`;

export const CREATE_SCHEDULE = mutation("createSchedule", "($input: CreateScheduleInput!)", "(input: $input)", "name");
export const UPDATE_SCHEDULE = mutation("updateSchedule", "($name: String!, $input: UpdateScheduleInput!)", "(name: $name, input: $input)", "name");
export const DELETE_SCHEDULE = mutation("deleteSchedule", "($name: String!)", "(name: $name)", "name");
export const PAUSE_SCHEDULE = mutation("pauseSchedule", "($name: String!, $note: String)", "(name: $name, note: $note)", "name paused pauseNote");
export const RESUME_SCHEDULE = mutation("resumeSchedule", "($name: String!)", "(name: $name)", "name paused");
export const TRIGGER_SCHEDULE = mutation("triggerSchedule", "($name: String!)", "(name: $name)", "id status note task { id }");
export const BACKFILL_SCHEDULE = mutation(
  "backfillSchedule",
  "($name: String!, $from: DateTime!, $to: DateTime!, $overlap: String)",
  "(name: $name, from: $from, to: $to, overlap: $overlap)",
  "fireTimes submitted buffered skipped alreadyRecorded",
);

export interface ScheduleRunView {
  id: string;
  fireAt: string;
  dueAt: string;
  trigger: string;
  status: string;
  outcome: string | null;
  note: string | null;
  replica: string;
  submittedAt: string | null;
  submitDelayMs: number | null;
  task: { id: string; status: string; pool: string } | null;
}

export interface ScheduleView {
  id: string;
  name: string;
  cron: string;
  timeZone: string;
  pool: string;
  taskType: string;
  payload: unknown;
  concurrencyKey: string | null;
  timeoutSeconds: number | null;
  overlap: string;
  catchupWindowSeconds: number;
  jitterSeconds: number;
  startAt: string | null;
  endAt: string | null;
  maxRuns: number | null;
  runCount: number;
  pauseAfterFailures: number | null;
  consecutiveFailures: number;
  paused: boolean;
  pausedBy: string | null;
  pauseNote: string | null;
  pausedAt: string | null;
  updatedAt: string;
  nextFireTimes: string[];
  lastRun?: ScheduleRunView | null;
}
