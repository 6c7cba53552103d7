import { createServer, connect, type Server, type Socket } from "node:net";
import { freePort } from "../../support/processes.js";
import { seeded } from "./seeded.js";

/**
 * A TCP proxy in front of a real Redis that loses some published events, as Redis pub/sub does
 * when a subscriber's connection drops: every PUBLISH whose channel contains `match` is, with
 * probability `dropRate` (seeded, so a run can be repeated), rewritten to a channel nobody
 * listens on. Redis still answers it (0 receivers), so the client sees nothing wrong, exactly
 * like a lost event. Everything else passes through unchanged, in both directions.
 */
export class LossyRedisProxy {
  private server!: Server;
  private readonly sockets = new Set<Socket>();
  dropped = 0;
  passed = 0;
  url = "";
  private random: () => number;

  constructor(
    private readonly upstream: { host: string; port: number },
    private readonly match: string,
    public dropRate: number,
    seed = 42,
  ) {
    this.random = seeded(seed);
  }

  async start(): Promise<this> {
    const port = await freePort();
    this.server = createServer((client) => {
      const server = connect(this.upstream.port, this.upstream.host);
      this.sockets.add(client).add(server);
      const parser = new RespCommandStream((command) => this.rewrite(command));
      client.on("data", (chunk: Buffer) => {
        for (const out of parser.push(chunk)) server.write(out);
      });
      server.pipe(client);
      const close = () => {
        client.destroy();
        server.destroy();
        this.sockets.delete(client);
        this.sockets.delete(server);
      };
      client.on("close", close).on("error", close);
      server.on("close", close).on("error", close);
    });
    await new Promise<void>((resolve) => this.server.listen(port, "127.0.0.1", resolve));
    this.url = `redis://127.0.0.1:${port}`;
    return this;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private rewrite(args: Buffer[]): Buffer[] {
    if (args.length !== 3 || args[0]!.toString("latin1").toUpperCase() !== "PUBLISH") return args;
    const channel = args[1]!.toString("latin1");
    if (!channel.includes(this.match)) return args;
    if (this.random() >= this.dropRate) {
      this.passed++;
      return args;
    }
    this.dropped++;
    return [args[0]!, Buffer.alloc(args[1]!.length, "x"), args[2]!];
  }
}

/** Splits a client's byte stream into RESP commands (arrays of bulk strings), rewrites each, and re-encodes it. */
class RespCommandStream {
  private buffer = Buffer.alloc(0);

  constructor(private readonly rewrite: (args: Buffer[]) => Buffer[]) {}

  push(chunk: Buffer): Buffer[] {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    const out: Buffer[] = [];
    for (;;) {
      const parsed = parseCommand(this.buffer);
      if (!parsed) break;
      this.buffer = this.buffer.subarray(parsed.length);
      out.push(parsed.args ? encode(this.rewrite(parsed.args)) : parsed.raw);
    }
    return out;
  }
}

function parseCommand(buffer: Buffer): { length: number; args: Buffer[] | null; raw: Buffer } | null {
  if (buffer.length === 0) return null;
  const lineEnd = buffer.indexOf("\r\n");
  if (lineEnd < 0) return null;
  if (buffer[0] !== 0x2a /* '*' */) {
    // An inline command: passed on as it is.
    return { length: lineEnd + 2, args: null, raw: buffer.subarray(0, lineEnd + 2) };
  }
  const count = Number(buffer.subarray(1, lineEnd).toString("latin1"));
  let offset = lineEnd + 2;
  const args: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const end = buffer.indexOf("\r\n", offset);
    if (end < 0 || buffer[offset] !== 0x24 /* '$' */) return null;
    const size = Number(buffer.subarray(offset + 1, end).toString("latin1"));
    const start = end + 2;
    if (buffer.length < start + size + 2) return null;
    args.push(buffer.subarray(start, start + size));
    offset = start + size + 2;
  }
  return { length: offset, args, raw: buffer.subarray(0, offset) };
}

function encode(args: Buffer[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`, "latin1")];
  for (const a of args) parts.push(Buffer.from(`$${a.length}\r\n`, "latin1"), a, Buffer.from("\r\n", "latin1"));
  return Buffer.concat(parts);
}

