import { describe, expect, it } from "vitest";
import { InvalidCronExpressionError, dueFireTime, fireTimesBefore, fireTimesBetween, parseSchedule } from "../../src/cron/index.js";

const at = (iso: string) => new Date(iso);

describe("parseSchedule", () => {
  it("reads 6-field expressions with seconds and 5-field ones with minute precision", () => {
    expect(parseSchedule("*/5 * * * * *").next(at("2030-01-01T00:00:00.500Z"))).toEqual(at("2030-01-01T00:00:05.000Z"));
    expect(parseSchedule("*/15 * * * *").next(at("2030-01-01T00:00:00.500Z"))).toEqual(at("2030-01-01T00:15:00.000Z"));
    expect(parseSchedule("@hourly").next(at("2030-01-01T00:00:00Z"))).toEqual(at("2030-01-01T01:00:00.000Z"));
  });

  it("fires in the job's time zone, across daylight saving time", () => {
    const nineInBerlin = parseSchedule("0 0 9 * * *", "Europe/Berlin");
    expect(nineInBerlin.next(at("2030-01-15T00:00:00Z"))).toEqual(at("2030-01-15T08:00:00Z"));
    expect(nineInBerlin.next(at("2030-07-15T00:00:00Z"))).toEqual(at("2030-07-15T07:00:00Z"));
    expect(parseSchedule("0 0 9 * * *").next(at("2030-07-15T00:00:00Z"))).toEqual(at("2030-07-15T09:00:00Z"));
  });

  it.each([
    ["not a cron", "UTC"],
    ["61 * * * *", "UTC"],
    ["0 0 0 1 1 * 2031", "UTC"],
    ["", "UTC"],
    ["0 0 30 2 *", "UTC"],
    ["* * * * *", "Mars/Olympus_Mons"],
    ["* * * * *", ""],
  ])("rejects %j in %j with a typed error naming both", (expression, timeZone) => {
    const error = (() => {
      try {
        parseSchedule(expression, timeZone);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(InvalidCronExpressionError);
    expect(error).toMatchObject({ field: "schedule", kind: "validation", expression, timeZone });
  });
});

describe("dueFireTime", () => {
  const everySecond = parseSchedule("* * * * * *");

  it("is nothing before the fire time and the fire time itself when the tick is on time", () => {
    expect(dueFireTime(everySecond, at("2030-01-01T00:00:05Z"), at("2030-01-01T00:00:04.990Z"))).toEqual({ fireAt: null, passed: 0, next: at("2030-01-01T00:00:05Z") });
    expect(dueFireTime(everySecond, at("2030-01-01T00:00:05Z"), at("2030-01-01T00:00:05.004Z"))).toEqual({
      fireAt: at("2030-01-01T00:00:05Z"),
      passed: 0,
      next: at("2030-01-01T00:00:06Z"),
    });
  });

  it("runs the latest fire time of a late tick and counts the ones that passed", () => {
    expect(dueFireTime(everySecond, at("2030-01-01T00:00:05Z"), at("2030-01-01T00:00:08.700Z"))).toEqual({
      fireAt: at("2030-01-01T00:00:08Z"),
      passed: 3,
      next: at("2030-01-01T00:00:09Z"),
    });
  });

  it("jumps to the latest fire time after a long sleep without walking every one", () => {
    const due = dueFireTime(everySecond, at("2030-01-01T00:00:05Z"), at("2030-01-03T07:30:12.250Z"));
    expect(due.fireAt).toEqual(at("2030-01-03T07:30:12Z"));
    expect(due.next).toEqual(at("2030-01-03T07:30:13Z"));
    expect(due.passed).toBeGreaterThanOrEqual(1000);
  });
});

describe("fireTimesBetween", () => {
  it("finds the first, last and number of fire times in (since, until]", () => {
    const everyMinute = parseSchedule("0 * * * * *");
    expect(fireTimesBetween(everyMinute, at("2030-01-01T00:00:00Z"), at("2030-01-01T00:10:30Z"))).toEqual({
      first: at("2030-01-01T00:01:00Z"),
      last: at("2030-01-01T00:10:00Z"),
      count: 10,
      capped: false,
    });
    expect(fireTimesBetween(everyMinute, at("2030-01-01T00:00:00Z"), at("2030-01-01T00:00:59Z"))).toBeNull();
  });

  it("stops counting at the cap but still reports the last fire time", () => {
    const span = fireTimesBetween(parseSchedule("* * * * * *"), at("2030-01-01T00:00:00Z"), at("2030-01-02T00:00:00Z"), 100);
    expect(span).toEqual({ first: at("2030-01-01T00:00:01Z"), last: at("2030-01-02T00:00:00Z"), count: 100, capped: true });
  });
});

describe("fireTimesBefore", () => {
  const iso = (dates: Date[]) => dates.map((d) => d.toISOString());
  it("gives the last n fire times not after a moment, oldest first, dense or sparse", () => {
    expect(iso(fireTimesBefore(parseSchedule("*/15 * * * *"), new Date("2030-01-01T01:00:00Z"), 3))).toEqual([
      "2030-01-01T00:30:00.000Z",
      "2030-01-01T00:45:00.000Z",
      "2030-01-01T01:00:00.000Z",
    ]);
    expect(iso(fireTimesBefore(parseSchedule("0 0 1 * *"), new Date("2030-03-15T00:00:00Z"), 2))).toEqual(["2030-02-01T00:00:00.000Z", "2030-03-01T00:00:00.000Z"]);
    expect(fireTimesBefore(parseSchedule("* * * * * *"), new Date("2030-01-01T00:00:00.500Z"), 250)).toHaveLength(250);
  });

  it("gives fewer when the schedule has fewer within 400 days", () => {
    expect(iso(fireTimesBefore(parseSchedule("0 0 29 2 *"), new Date("2029-01-01T00:00:00Z"), 3))).toEqual(["2028-02-29T00:00:00.000Z"]);
  });
});
