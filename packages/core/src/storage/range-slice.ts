import type { IncomingMessage } from "node:http";
import { Transform, type Readable, type TransformCallback } from "node:stream";
import type { ByteRange } from "./types.js";

/** Drops `skip` bytes, passes `take` bytes, then ends, whatever the source still sends. */
class Slice extends Transform {
  constructor(
    private toSkip: number,
    private toTake: number,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    if (this.toTake <= 0) return done();
    let part = chunk;
    if (this.toSkip > 0) {
      const dropped = Math.min(this.toSkip, part.length);
      this.toSkip -= dropped;
      part = part.subarray(dropped);
    }
    if (part.length > this.toTake) part = part.subarray(0, this.toTake);
    this.toTake -= part.length;
    if (part.length > 0) this.push(part);
    if (this.toTake <= 0) this.push(null);
    done();
  }
}

/**
 * Makes a ranged GET return exactly the bytes asked for. A server may answer a Range request
 * with the whole object (200), or with more than asked: s3rver treats "bytes=0-0" as "bytes=0-"
 * because it reads the end 0 as missing. The response's status and Content-Range tell what
 * was actually sent; the surplus is cut here, and nothing is cut when the server got it right.
 */
export function exactRange(response: Readable, range: ByteRange): Readable {
  const message = response as Partial<IncomingMessage>;
  const sent = /^bytes (\d+)-(\d+)\//.exec(String(message.headers?.["content-range"] ?? ""));
  const sentStart = message.statusCode === 206 && sent ? Number(sent[1]) : 0;
  const sentEnd = message.statusCode === 206 && sent ? Number(sent[2]) : Number.POSITIVE_INFINITY;
  const wantedEnd = Math.min(range.end, sentEnd);
  if (sentStart === range.start && sentEnd <= range.end) return response;
  if (sentStart > range.start) {
    response.destroy();
    throw new Error(`asked for bytes ${range.start}-${range.end}, the server sent ${sentStart}-${sentEnd}`);
  }
  const slice = new Slice(range.start - sentStart, wantedEnd - range.start + 1);
  response.once("error", (error) => slice.destroy(error));
  // Once the wanted bytes are out, the rest of the response is not worth downloading.
  slice.once("end", () => {
    response.destroy();
    slice.destroy();
  });
  slice.once("close", () => response.destroy());
  return response.pipe(slice);
}
