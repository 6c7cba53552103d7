import { describe, expect, it } from "vitest";
import { ago, bytes, duration, heartbeat, percent, relative, seconds, taskPlace } from "../lib/format";

describe("formatting", () => {
  it("spells out durations at a readable scale", () => {
    expect(duration(null)).toBe("–");
    expect(duration(250)).toBe("250 ms");
    expect(duration(1500)).toBe("1.50 s");
    expect(duration(125_000)).toBe("2 min 5 s");
  });

  it("formats sizes in binary units", () => {
    expect(bytes(512)).toBe("512 B");
    expect(bytes(1536)).toBe("1.5 KiB");
    expect(bytes(50 * 1024 * 1024)).toBe("50 MiB");
  });

  it("says how far a time is from now, either way", () => {
    const now = Date.parse("2026-01-01T00:00:00Z");
    expect(relative("2026-01-01T00:00:30Z", now)).toBe("in 30 s");
    expect(relative("2025-12-31T22:00:00Z", now)).toBe("2 h ago");
  });

  it("says how long ago something happened, and never that it will happen", () => {
    const now = Date.parse("2026-01-01T00:00:00Z");
    expect(ago("2025-12-31T23:59:55Z", now)).toBe("5 s ago");
    // A heartbeat stamped by the server a moment ahead of the browser's clock.
    expect(ago("2026-01-01T00:00:00.800Z", now)).toBe("just now");
    expect(ago("2025-12-31T23:59:59.500Z", now)).toBe("just now");
    expect(ago(null, now)).toBe("–");
  });

  it("rounds ratios to whole percent and seconds to the largest whole unit", () => {
    expect(percent(0.456)).toBe("46%");
    expect(percent(null)).toBe("–");
    expect(seconds(86_400)).toBe("1 d");
    expect(seconds(90)).toBe("90 s");
    expect(seconds(300)).toBe("5 min");
  });

  it("shows a pod's last real heartbeat, and never the epoch a restart left behind", () => {
    const now = Date.parse("2026-11-29T12:00:00Z");
    const pod = { createdAt: "2026-11-29T11:00:00Z", phase: "Lost" };
    expect(heartbeat({ ...pod, lastHeartbeatAt: "1970-01-01T00:00:00.000Z" }, now)).toBe("no heartbeat ever");
    expect(heartbeat({ ...pod, lastHeartbeatAt: null }, now)).toBe("no heartbeat ever");
    expect(heartbeat({ ...pod, lastHeartbeatAt: "2026-11-29T11:58:00Z" }, now)).toBe("last heartbeat 2 min ago");
    expect(heartbeat({ ...pod, phase: "Ready", lastHeartbeatAt: "2026-11-29T11:59:55Z" }, now)).toBe("heartbeat 5 s ago");
    expect(heartbeat({ ...pod, phase: "Starting", lastHeartbeatAt: null }, now)).toBe("no heartbeat yet");
  });
});

describe("where a task ran", () => {
  it("keeps the pod's name once the task has ended and the live pod link is gone", () => {
    expect(taskPlace({ pod: { name: "web-1" }, slot: { index: 2 }, podName: "web-1", slotIndex: 2 })).toBe("web-1 #2");
    expect(taskPlace({ pod: null, slot: null, podName: "web-1", slotIndex: 0 })).toBe("web-1 #0");
    expect(taskPlace({ pod: null, slot: null, podName: null })).toBe("–");
  });
});
