// The pure parts of schedules: fire-time planning (catch-up window, jitter, start/end), the
// overlap decision, the DST behaviour the README documents, and input checks.
import { describe, expect, it } from "vitest";
import { parseSchedule } from "../../src/cron/index.js";
import {
  checkScheduleSpec,
  decideOverlap,
  fireTimesInRange,
  InvalidScheduleError,
  jitterOffsetMs,
  MAX_MISSED_COUNTED,
  MAX_MISSED_LISTED,
  planFires,
  upcomingFireTimes,
  type ScheduleInput,
  type Timing,
} from "../../src/schedules/index.js";

const iso = (d: Date) => d.toISOString();
const timing = (expression: string, extra: Partial<Timing> = {}, timeZone = "UTC"): Timing => ({ cron: parseSchedule(expression, timeZone), jitterMs: 0, startAt: null, endAt: null, ...extra });
const at = (s: string) => new Date(s);

describe("planFires", () => {
  it("runs every fire time due since servedUntil, oldest first, when all are within the catch-up window", () => {
    const plan = planFires(timing("* * * * * *"), { servedUntil: at("2030-01-01T00:00:00Z"), now: at("2030-01-01T00:00:03.200Z"), catchupWindowMs: 60_000 });
    expect(plan.due.map((f) => iso(f.fireAt))).toEqual(["2030-01-01T00:00:01.000Z", "2030-01-01T00:00:02.000Z", "2030-01-01T00:00:03.000Z"]);
    expect(plan.missed).toEqual([]);
    expect(iso(plan.servedUntil)).toBe("2030-01-01T00:00:03.000Z");
  });

  it("records fire times older than the catch-up window as missed and runs the rest", () => {
    // Down from 00:00:00 to 00:00:10.5 with a 4 s window: 1..6 missed, 7..10 run late.
    const plan = planFires(timing("* * * * * *"), { servedUntil: at("2030-01-01T00:00:00Z"), now: at("2030-01-01T00:00:10.500Z"), catchupWindowMs: 4000 });
    expect(plan.missed.map((f) => f.fireAt.getUTCSeconds())).toEqual([1, 2, 3, 4, 5, 6]);
    expect(plan.due.map((f) => f.fireAt.getUTCSeconds())).toEqual([7, 8, 9, 10]);
    expect(plan.missedUnlisted).toBe(0);
  });

  it("lists the newest MAX_MISSED_LISTED missed fire times of a long gap and counts the older ones", () => {
    // Down 10 minutes with a 60 s window: fire times 1..539 s missed, 540..600 run.
    const plan = planFires(timing("* * * * * *"), { servedUntil: at("2030-01-01T00:00:00Z"), now: at("2030-01-01T00:10:00Z"), catchupWindowMs: 60_000 });
    expect(plan.missed).toHaveLength(MAX_MISSED_LISTED);
    expect(plan.missed.map((f) => iso(f.fireAt)).slice(-1)).toEqual(["2030-01-01T00:08:59.000Z"]);
    expect([plan.missedUnlisted, plan.missedCapped]).toEqual([539 - MAX_MISSED_LISTED, false]);
    expect(iso(plan.due[0]!.fireAt)).toBe("2030-01-01T00:09:00.000Z");
    expect(plan.due).toHaveLength(61);
    expect(iso(plan.servedUntil)).toBe("2030-01-01T00:10:00.000Z");
  });

  it("after a very long gap counts missed fire times only up to a cap, and still lists the newest and runs the window", () => {
    const plan = planFires(timing("* * * * * *"), { servedUntil: at("2030-01-01T00:00:00Z"), now: at("2030-01-03T00:00:00Z"), catchupWindowMs: 1000 });
    expect(plan.missedCapped).toBe(true);
    expect(plan.missedUnlisted).toBe(MAX_MISSED_COUNTED - MAX_MISSED_LISTED);
    expect(iso(plan.missed.at(-1)!.fireAt)).toBe("2030-01-02T23:59:58.000Z");
    expect(plan.due.map((f) => iso(f.fireAt))).toEqual(["2030-01-02T23:59:59.000Z", "2030-01-03T00:00:00.000Z"]);
  });

  it("waits for a jittered fire time until nominal time plus the offset", () => {
    const t = timing("0 * * * * *", { jitterMs: 7000 });
    expect(planFires(t, { servedUntil: at("2030-01-01T00:00:30Z"), now: at("2030-01-01T00:01:06Z"), catchupWindowMs: 60_000 }).due).toEqual([]);
    const plan = planFires(t, { servedUntil: at("2030-01-01T00:00:30Z"), now: at("2030-01-01T00:01:07Z"), catchupWindowMs: 60_000 });
    expect(plan.due).toEqual([{ fireAt: at("2030-01-01T00:01:00Z"), dueAt: at("2030-01-01T00:01:07Z") }]);
  });

  it("keeps to the start and end of the schedule's window", () => {
    const t = timing("* * * * * *", { startAt: at("2030-01-01T00:00:05Z"), endAt: at("2030-01-01T00:00:07Z") });
    const plan = planFires(t, { servedUntil: at("2030-01-01T00:00:00Z"), now: at("2030-01-01T00:00:20Z"), catchupWindowMs: 60_000 });
    expect(plan.due.map((f) => f.fireAt.getUTCSeconds())).toEqual([5, 6, 7]);
  });
});

describe("jitter", () => {
  it("is whole seconds within [0, jitterSeconds], the same for one schedule every time, and spreads schedules", () => {
    const ids = Array.from({ length: 50 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`);
    const offsets = ids.map((id) => jitterOffsetMs(id, 30));
    for (const o of offsets) {
      expect(o % 1000).toBe(0);
      expect(o).toBeGreaterThanOrEqual(0);
      expect(o).toBeLessThanOrEqual(30_000);
    }
    expect(ids.map((id) => jitterOffsetMs(id, 30))).toEqual(offsets);
    expect(new Set(offsets).size).toBeGreaterThan(10);
    expect(jitterOffsetMs(ids[0]!, 0)).toBe(0);
  });
});

describe("upcomingFireTimes", () => {
  it("gives the next fire times after now, jitter included, up to a run limit", () => {
    const t = timing("*/10 * * * * *", { jitterMs: 2000 });
    expect(upcomingFireTimes(t, at("2030-01-01T00:00:11Z"), 3).map((f) => iso(f.dueAt))).toEqual([
      "2030-01-01T00:00:12.000Z",
      "2030-01-01T00:00:22.000Z",
      "2030-01-01T00:00:32.000Z",
    ]);
    expect(upcomingFireTimes(t, at("2030-01-01T00:00:11Z"), 5, 2)).toHaveLength(2);
  });
});

describe("daylight saving time: a 02:30 daily schedule", () => {
  // Berlin springs forward on 2030-03-31 (02:00 CET → 03:00 CEST) and falls back on 2030-10-27
  // (03:00 CEST → 02:00 CET); New York on 2030-03-10 (02:00 → 03:00) and 2030-11-03 (02:00 → 01:00).
  /** "2030-03-31 03:00 +02:00": the wall-clock time in `timeZone` and its UTC offset. */
  const local = (d: Date, timeZone: string) => {
    const parts = Object.fromEntries(
      new Intl.DateTimeFormat("en-US", { timeZone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" })
        .formatToParts(d)
        .map((p) => [p.type, p.value]),
    );
    const wall = Date.UTC(+parts.year!, +parts.month! - 1, +parts.day!, +parts.hour!, +parts.minute!, +parts.second!);
    const offset = (wall - d.getTime()) / 60_000;
    const sign = offset < 0 ? "-" : "+";
    const hh = String(Math.floor(Math.abs(offset) / 60)).padStart(2, "0");
    const mm = String(Math.abs(offset) % 60).padStart(2, "0");
    return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute} ${sign}${hh}:${mm}`;
  };
  const days = (timeZone: string, from: string) => upcomingFireTimes(timing("30 2 * * *", {}, timeZone), at(from), 3).map((f) => local(f.fireAt, timeZone));

  it("Europe/Berlin, spring forward: 02:30 does not exist that day, so it fires once at 03:00 CEST", () => {
    expect(days("Europe/Berlin", "2030-03-29T12:00:00Z")).toEqual(["2030-03-30 02:30 +01:00", "2030-03-31 03:00 +02:00", "2030-04-01 02:30 +02:00"]);
  });

  it("Europe/Berlin, fall back: 02:30 happens twice that day, and it fires once, at the first (CEST)", () => {
    expect(days("Europe/Berlin", "2030-10-26T12:00:00Z")).toEqual(["2030-10-27 02:30 +02:00", "2030-10-28 02:30 +01:00", "2030-10-29 02:30 +01:00"]);
    // The second 02:30 (CET, 01:30 UTC) is not a fire time: after the first, the next is a day later.
    const after = upcomingFireTimes(timing("30 2 * * *", {}, "Europe/Berlin"), at("2030-10-27T00:30:00Z"), 1)[0]!;
    expect(iso(after.fireAt)).toBe("2030-10-28T01:30:00.000Z");
  });

  it("America/New_York: 03:00 EDT on the spring-forward day, and once on the fall-back day", () => {
    expect(days("America/New_York", "2030-03-09T12:00:00Z")).toEqual(["2030-03-10 03:00 -04:00", "2030-03-11 02:30 -04:00", "2030-03-12 02:30 -04:00"]);
    expect(days("America/New_York", "2030-11-02T12:00:00Z")).toEqual(["2030-11-03 02:30 -05:00", "2030-11-04 02:30 -05:00", "2030-11-05 02:30 -05:00"]);
  });

  it("the dispatcher, down across the spring-forward night, finds exactly one fire time that night", () => {
    const plan = planFires(timing("30 2 * * *", {}, "Europe/Berlin"), { servedUntil: at("2030-03-30T12:00:00Z"), now: at("2030-03-31T03:00:00Z"), catchupWindowMs: 86_400_000 });
    expect(plan.due.map((f) => iso(f.fireAt))).toEqual(["2030-03-31T01:00:00.000Z"]);
  });
});

describe("fireTimesInRange", () => {
  it("includes both ends and refuses a range over the cap", () => {
    const t = timing("*/15 * * * *");
    expect(fireTimesInRange(t, at("2030-01-01T00:00:00Z"), at("2030-01-01T01:00:00Z"), 10)!.map((f) => f.fireAt.getUTCMinutes())).toEqual([0, 15, 30, 45, 0]);
    expect(fireTimesInRange(t, at("2030-01-01T00:00:00Z"), at("2030-01-01T01:00:00Z"), 4)).toBeNull();
  });
});

describe("decideOverlap", () => {
  const idle = { active: 0, buffered: false };
  const busy = { active: 1, buffered: false };
  const busyAndBuffered = { active: 1, buffered: true };
  it.each([
    ["skip", idle, "submit"],
    ["skip", busy, "skip"],
    ["buffer_one", busy, "buffer"],
    ["buffer_one", busyAndBuffered, "skip"],
    ["allow_all", busyAndBuffered, "submit"],
    ["cancel_other", busy, "submit"],
  ] as const)("%s with %o: %s", (policy, state, action) => {
    expect(decideOverlap(policy, state).action).toBe(action);
  });
  it("cancel_other cancels only when something is active", () => {
    expect(decideOverlap("cancel_other", busy)).toEqual({ action: "submit", cancelActive: true });
    expect(decideOverlap("cancel_other", idle)).toEqual({ action: "submit", cancelActive: false });
  });
});

describe("checkScheduleSpec", () => {
  const now = at("2030-01-01T00:00:00Z");
  const good: ScheduleInput = { name: "nightly", cron: "0 2 * * *", timeZone: "Europe/Berlin", pool: "web", taskType: "plan" };
  const fieldOf = (input: Partial<ScheduleInput>) => {
    try {
      checkScheduleSpec({ ...good, ...input } as ScheduleInput, now);
      return null;
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidScheduleError);
      return (error as InvalidScheduleError).field;
    }
  };

  it("accepts a good definition and fills in the defaults", () => {
    expect(checkScheduleSpec(good, now)).toMatchObject({ overlap: "skip", catchupWindowSeconds: 60, jitterSeconds: 0, payload: {}, maxRuns: null });
  });

  it.each([
    [{ cron: "61 * * * *" }, "cron"],
    [{ cron: "every night" }, "cron"],
    [{ cron: "0 0 30 2 *" }, "cron"],
    [{ timeZone: "Mars/Olympus_Mons" }, "timeZone"],
    [{ name: "no spaces" }, "name"],
    [{ taskType: "bad type!" }, "taskType"],
    [{ overlap: "sometimes" }, "overlap"],
    [{ catchupWindowSeconds: 0 }, "catchupWindowSeconds"],
    [{ jitterSeconds: 3601 }, "jitterSeconds"],
    [{ payload: { big: "x".repeat(70_000) } }, "payload"],
    [{ endAt: at("2029-12-01T00:00:00Z") }, "endAt"],
    [{ startAt: at("2030-01-02T03:00:00Z"), endAt: at("2030-01-02T04:00:00Z") }, "endAt"],
    [{ startAt: at("2030-01-03T00:00:00Z"), endAt: at("2030-01-02T00:00:00Z") }, "endAt"],
    [{ maxRuns: 0 }, "maxRuns"],
    [{ pauseAfterFailures: 0 }, "pauseAfterFailures"],
    [{ timeoutSeconds: -5 }, "timeoutSeconds"],
    [{ concurrencyKey: "has space" }, "concurrencyKey"],
  ] as const)("%o is refused, naming %s", (input, field) => {
    expect(fieldOf(input as Partial<ScheduleInput>)).toBe(field);
  });

  it("a start/end window that holds a fire time is accepted", () => {
    expect(fieldOf({ startAt: at("2030-01-02T00:00:00Z"), endAt: at("2030-01-02T02:00:00Z") })).toBeNull();
  });
});
