// The log shipper against a fake sink that keeps the offset rules appendTaskLog keeps: a chunk at
// an offset already stored is not stored twice, a chunk past the end (a gap) is refused.
import { describe, expect, it } from "vitest";
import { LogShipper, type LogSink } from "../src/log-shipper.js";

class FakeLogSink implements LogSink {
  log = Buffer.alloc(0);
  calls: { offset: number; bytes: number; at: number }[] = [];
  /** The next `failures` calls fail as a dropped connection would (after storing, when `lostAnswers`). */
  failures = 0;
  lostAnswers = false;
  down = false;

  async append(input: { taskId: string; pod: string; offset: number; data: string }): Promise<{ nextOffset: number } | { refused: string }> {
    const data = Buffer.from(input.data, "utf8");
    this.calls.push({ offset: input.offset, bytes: data.length, at: Date.now() });
    if (this.down) throw new Error("connection refused");
    if (this.failures > 0 && !this.lostAnswers) {
      this.failures--;
      throw new Error("connection reset");
    }
    if (input.offset > this.log.length) return { refused: `gap: the log has ${this.log.length} bytes` };
    // Idempotent by offset: what is already stored at these offsets is kept.
    const fresh = data.subarray(Math.min(data.length, this.log.length - input.offset));
    this.log = Buffer.concat([this.log, fresh]);
    if (this.failures > 0) {
      this.failures--;
      throw new Error("answer lost");
    }
    return { nextOffset: this.log.length };
  }
}

const retry = { initialMs: 5, maxMs: 20 };

describe("the log shipper", () => {
  it("ships output in order, in chunks of at most 64 KiB, never splitting a UTF-8 character", async () => {
    const sink = new FakeLogSink();
    const shipper = new LogShipper({ sink, taskId: "t", pod: "p", offset: 0, flushMs: 10, retry });
    const parts: Buffer[] = [];
    for (let i = 0; i < 300; i++) {
      const part = Buffer.from(`line ${i} ${"é".repeat(i % 700)}\n`, "utf8");
      parts.push(part);
      // Split across writes mid-character, as pipes do.
      shipper.write(part.subarray(0, 7));
      shipper.write(part.subarray(7));
    }
    const end = await shipper.close();
    const expected = Buffer.concat(parts);
    expect(sink.log.equals(expected)).toBe(true);
    expect(end).toBe(expected.length);
    expect(Math.max(...sink.calls.map((c) => c.bytes))).toBeLessThanOrEqual(64 * 1024);
    expect(sink.calls.length).toBeGreaterThanOrEqual(2);
  });

  it("retries a chunk whose answer was lost: it is stored once", async () => {
    const sink = new FakeLogSink();
    sink.failures = 2;
    sink.lostAnswers = true;
    const shipper = new LogShipper({ sink, taskId: "t", pod: "p", offset: 0, flushMs: 10, retry });
    shipper.write("first line\n");
    await new Promise((r) => setTimeout(r, 100));
    shipper.write("second line\n");
    await shipper.close();
    expect(sink.log.toString()).toBe("first line\nsecond line\n");
    expect(sink.calls.filter((c) => c.offset === 0).length).toBe(3);
  });

  it("continues a log at the offset it is given (an apply after its plan)", async () => {
    const sink = new FakeLogSink();
    const plan = new LogShipper({ sink, taskId: "t", pod: "p", offset: 0, flushMs: 10, retry });
    plan.write("plan\n");
    const offset = await plan.close();
    const apply = new LogShipper({ sink, taskId: "t", pod: "p", offset, flushMs: 10, retry });
    apply.write("apply\n");
    await apply.close();
    expect(sink.log.toString()).toBe("plan\napply\n");
  });

  it("sends at most every flush interval while output trickles in", async () => {
    const sink = new FakeLogSink();
    const shipper = new LogShipper({ sink, taskId: "t", pod: "p", offset: 0, flushMs: 200, retry });
    const started = Date.now();
    while (Date.now() - started < 1000) {
      shipper.write("tick\n");
      await new Promise((r) => setTimeout(r, 5));
    }
    await shipper.close();
    // About five sends in a second of output, not one per line.
    expect(sink.calls.length).toBeLessThanOrEqual(8);
    expect(sink.log.toString()).toBe(sink.log.toString().split("\n").filter(Boolean).map(() => "tick").join("\n") + "\n");
  });

  it("keeps at most maxPending bytes while the API is unreachable: head and tail, with a marker for the middle", async () => {
    const sink = new FakeLogSink();
    sink.down = true;
    const maxPending = 1024 * 1024;
    const shipper = new LogShipper({ sink, taskId: "t", pod: "p", offset: 0, flushMs: 5, maxPending, retry });
    const line = (i: number) => `${String(i).padStart(8, "0")} ${"x".repeat(90)}\n`;
    const total = 50_000; // ~5 MB
    for (let i = 0; i < total; i++) shipper.write(line(i));
    expect(shipper.droppedBytes).toBeGreaterThan(3 * 1024 * 1024);
    sink.down = false;
    await shipper.close(20_000);
    const text = sink.log.toString();
    expect(sink.log.length).toBeLessThanOrEqual(maxPending + 200);
    expect(text.startsWith(line(0))).toBe(true);
    expect(text.endsWith(line(total - 1))).toBe(true);
    expect(text).toMatch(/\[berth: \d+ bytes of output dropped/);
  });
});
