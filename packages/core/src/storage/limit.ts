import { Transform, type TransformCallback } from "node:stream";
import { UploadSizeMismatchError, UploadTooLargeError } from "./errors.js";

/**
 * Passes bytes through while counting them, and fails the stream the moment the count passes
 * the limit (or the announced size), so an oversized upload is cut off while it streams instead
 * of after it has been stored.
 */
export class ByteLimit extends Transform {
  bytes = 0;

  constructor(
    private readonly key: string,
    private readonly limit: number,
    private readonly expectedSize?: number,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.limit) return done(new UploadTooLargeError(this.key, this.limit));
    if (this.expectedSize !== undefined && this.bytes > this.expectedSize) {
      return done(new UploadSizeMismatchError(this.key, this.expectedSize, this.bytes));
    }
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    if (this.expectedSize !== undefined && this.bytes !== this.expectedSize) {
      return done(new UploadSizeMismatchError(this.key, this.expectedSize, this.bytes));
    }
    done();
  }
}
