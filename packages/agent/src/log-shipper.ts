import { createBackoff, sleep } from "@berth/core/runtime/backoff";

/** Where a task's log goes: `appendTaskLog` on the API, or a fake in tests. */
export interface LogSink {
  /**
   * Appends `data` at byte `offset` (UTF-8) of the task's log; the same chunk sent twice is kept
   * once. Resolves with the log's length after it (`nextOffset`). Rejects on transport trouble
   * (retried); resolves `{ gap }` with the log's size when the chunk starts past its end (it is
   * sent again from there), `{ refused }` when the API will not take it (not retried).
   */
  append(input: { taskId: string; pod: string; offset: number; data: string }, signal?: AbortSignal): Promise<{ nextOffset: number } | { gap: number } | { refused: string }>;
}

export interface LogShipperOptions {
  sink: LogSink;
  taskId: string;
  pod: string;
  /** Byte offset of this phase's first byte in the task's log (an apply continues its plan's log). */
  offset: number;
  /** Largest chunk sent, in bytes. Default 64 KiB. */
  maxChunk?: number;
  /** Pending output is sent this often at least. Default 200 ms. */
  flushMs?: number;
  /** Unsent output kept while the API is unreachable; beyond it the middle is dropped. Default 4 MiB. */
  maxPending?: number;
  retry?: { initialMs: number; maxMs: number };
  onProblem?: (message: string) => void;
}

const KIB = 1024;

/** Cuts `buf` at most `max` bytes in, never inside a UTF-8 character. */
function utf8Cut(buf: Buffer, max: number): number {
  if (buf.length <= max) return buf.length;
  let cut = max;
  while (cut > 0 && (buf[cut]! & 0xc0) === 0x80) cut--;
  return cut === 0 ? max : cut;
}

/**
 * Ships one task phase's output to the API in order, in chunks of at most 64 KiB, at most every
 * ~200 ms (or as soon as a full chunk waits), each at its byte offset, so a chunk retried after
 * a lost answer is stored once. Memory is bounded: while the API is unreachable at most
 * `maxPending` bytes wait; past that the middle of what waits is replaced by a marker.
 */
export class LogShipper {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private offsetNow: number;
  private dropped = 0;
  private readonly maxChunk: number;
  private readonly maxPending: number;
  private readonly flushMs: number;
  private wake?: () => void;
  private closing = false;
  private readonly stopped = new AbortController();
  private readonly loop: Promise<void>;

  constructor(private readonly options: LogShipperOptions) {
    this.offsetNow = options.offset;
    this.maxChunk = options.maxChunk ?? 64 * KIB;
    // The head kept when dropping always holds the chunk in flight.
    this.maxPending = Math.max(options.maxPending ?? 4096 * KIB, 4 * this.maxChunk);
    this.flushMs = options.flushMs ?? 200;
    this.loop = this.run();
  }

  /** The byte offset after everything the API has acknowledged. */
  get offset(): number {
    return this.offsetNow;
  }

  /** Bytes dropped because the API could not keep up (or was unreachable). */
  get droppedBytes(): number {
    return this.dropped;
  }

  write(chunk: Buffer | string): void {
    if (this.closing) return;
    const buf = typeof chunk === "string" ? Buffer.from(chunk, "utf8") : chunk;
    if (buf.length === 0) return;
    this.pending.push(buf);
    this.pendingBytes += buf.length;
    if (this.pendingBytes > this.maxPending) this.dropMiddle();
    if (this.pendingBytes >= this.maxChunk) this.wake?.();
  }

  /** Sends what is left (for at most `timeoutMs`), then stops. Resolves with the final offset. */
  async close(timeoutMs = 10_000): Promise<number> {
    this.closing = true;
    this.wake?.();
    const timer = setTimeout(() => this.stopped.abort(), timeoutMs);
    await this.loop;
    clearTimeout(timer);
    return this.offsetNow;
  }

  /** Keeps the head and the tail of what waits, with a marker saying how much is missing between. */
  private dropMiddle(): void {
    const all = Buffer.concat(this.pending);
    const keep = Math.floor(this.maxPending / 2) - 128;
    const head = all.subarray(0, utf8Cut(all, keep));
    let tailStart = all.length - keep;
    while (tailStart < all.length && (all[tailStart]! & 0xc0) === 0x80) tailStart++;
    const tail = all.subarray(tailStart);
    const lost = all.length - head.length - tail.length;
    this.dropped += lost;
    const marker = Buffer.from(`\n[berth: ${lost} bytes of output dropped: the API was not taking the log fast enough]\n`, "utf8");
    this.pending = [head, marker, tail];
    this.pendingBytes = head.length + marker.length + tail.length;
  }

  private async run(): Promise<void> {
    const backoff = createBackoff(this.options.retry ?? { initialMs: 200, maxMs: 5000 });
    while (!this.stopped.signal.aborted) {
      if (this.pendingBytes === 0) {
        if (this.closing) return;
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          setTimeout(resolve, this.flushMs);
        });
        this.wake = undefined;
        continue;
      }
      // Not a full chunk yet and not closing: wait for more, up to the flush interval.
      if (this.pendingBytes < this.maxChunk && !this.closing) {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          setTimeout(resolve, this.flushMs);
        });
        this.wake = undefined;
      }
      const all = Buffer.concat(this.pending);
      const cut = utf8Cut(all, this.maxChunk);
      const data = all.subarray(0, cut).toString("utf8");
      const offset = this.offsetNow;
      try {
        const answer = await this.options.sink.append({ taskId: this.options.taskId, pod: this.options.pod, offset, data }, this.stopped.signal);
        if ("gap" in answer && answer.gap < offset) {
          // The log is shorter than this agent thought (its offset file was lost): continue at its end.
          this.options.onProblem?.(`the log has ${answer.gap} bytes, not ${offset}: continuing there`);
          this.offsetNow = answer.gap;
          continue;
        }
        if ("gap" in answer || "refused" in answer) this.options.onProblem?.(`log chunk at ${offset} refused: ${"refused" in answer ? answer.refused : "gap"}`);
        // The decoded text's length, not the raw bytes': invalid UTF-8 became U+FFFD.
        const sent = Buffer.byteLength(data, "utf8");
        this.offsetNow = "nextOffset" in answer ? Math.max(offset + sent, answer.nextOffset) : offset + sent;
        // Output written meanwhile was appended behind what was sent: drop the sent bytes from the front.
        const now = Buffer.concat(this.pending).subarray(cut);
        this.pending = now.length ? [now] : [];
        this.pendingBytes = now.length;
        backoff.reset();
      } catch (error) {
        if (this.stopped.signal.aborted) return;
        this.options.onProblem?.(`log chunk at ${offset} not sent, retrying: ${error instanceof Error ? error.message : String(error)}`);
        await sleep(backoff.take(), this.stopped.signal);
      }
    }
  }
}
