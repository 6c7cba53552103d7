import { Readable } from "node:stream";

/** Reads a stream to the end. */
export async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export const text = async (stream: Readable) => (await collect(stream)).toString();

/**
 * `total` bytes made on demand in chunks of `chunk`, each chunk filled with a byte that depends on
 * its offset; with `failAt`, the stream errors ("client went away") once that many bytes are out.
 */
export function generated(total: number, options: { chunk?: number; failAt?: number } = {}): Readable {
  const chunk = options.chunk ?? 64 * 1024;
  let sent = 0;
  return new Readable({
    read() {
      if (options.failAt !== undefined && sent >= options.failAt) return this.destroy(new Error("client went away"));
      if (sent >= total) return this.push(null);
      const size = Math.min(chunk, total - sent);
      this.push(Buffer.alloc(size, sent % 251));
      sent += size;
    },
  });
}
