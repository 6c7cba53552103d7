import { describe, expect, it } from "vitest";
import { createAnsiParser } from "../app/(console)/tasks/[id]/ansi";
import { timelineOf } from "../app/(console)/tasks/[id]/steps";
import type { TaskDetail } from "../lib/types";

describe("task log colours", () => {
  it("styles text by its ANSI codes, as classes, without markup from the text", () => {
    const parse = createAnsiParser();
    expect(parse("\u001b[32mok\u001b[0m <b>plain</b>\n")).toEqual([
      { text: "ok", className: "ansi-green-fg", style: undefined },
      { text: " <b>plain</b>\n", className: "", style: undefined },
    ]);
  });

  it("a colour set in one chunk lasts into the next until it is reset", () => {
    const parse = createAnsiParser();
    expect(parse("\u001b[1;31merror: ").map((s) => s.className)).toEqual(["ansi-red-fg ansi-bold"]);
    expect(parse("disk full\n\u001b[0mnext\n")).toEqual([
      { text: "disk full\n", className: "ansi-red-fg ansi-bold", style: undefined },
      { text: "next\n", className: "", style: undefined },
    ]);
    expect(parse("plain\n")).toEqual([{ text: "plain\n", className: "", style: undefined }]);
  });
});

describe("task timeline", () => {
  const base: TaskDetail = {
    id: "t", type: "plan_and_apply", status: "succeeded", pool: "web", payload: {}, output: null, error: null, failureReason: null, attempts: 1,
    timeoutSeconds: 60, deadlineAt: null, createdAt: "2026-01-01T00:00:00Z", startedAt: "2026-01-01T00:00:01Z", acknowledgedAt: "2026-01-01T00:01:01Z",
    planReadyAt: "2026-01-01T00:00:30Z", approvedAt: "2026-01-01T00:01:00Z", finishedAt: "2026-01-01T00:02:00Z", stopRequestedAt: null,
    podName: "web-a", slotIndex: 2, pod: null, slot: null, reviewedBy: null, reviewedAt: null, reviewVerdict: null, reviewComment: null,
  };
  it("lists the steps of a plan approved and applied, in order, with where it ran", () => {
    expect(timelineOf(base).map((s) => [s.label, s.at])).toEqual([
      ["Submitted", base.createdAt],
      ["Placed", base.startedAt],
      ["Planned", base.planReadyAt],
      ["Approved", base.approvedAt],
      ["Apply started", base.acknowledgedAt],
      ["Applied", base.finishedAt],
    ]);
    expect(timelineOf(base)[1]!.detail).toBe("on web-a · slot #2");
  });
  it("says who approved, with their comment, and who rejected", () => {
    const approved = { ...base, reviewedBy: "alice", reviewedAt: base.approvedAt, reviewVerdict: "approved", reviewComment: "ship it" };
    expect(timelineOf(approved).find((s) => s.label === "Approved")!.detail).toBe("by alice, apply on web-a · slot #2: “ship it”");
    const rejected = { ...base, status: "cancelled", approvedAt: null, acknowledgedAt: null, reviewedBy: "bob", reviewedAt: "2026-01-01T00:01:00Z", reviewVerdict: "rejected", reviewComment: null };
    expect(timelineOf(rejected).find((s) => s.label === "Rejected")).toMatchObject({ at: rejected.reviewedAt, detail: "by bob", tone: "failed" });
  });
  it("a task that failed by its deadline says why", () => {
    const failed = { ...base, status: "failed", approvedAt: null, planReadyAt: null, error: "deadline_exceeded: ran too long", failureReason: "deadline_exceeded" };
    expect(timelineOf(failed).at(-1)).toMatchObject({ label: "Failed", tone: "failed", detail: "deadline_exceeded: ran too long (deadline_exceeded)" });
  });
});
