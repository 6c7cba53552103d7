/**
 * The chunks of a web stream as they arrive. Request bodies and uploaded files may come from a
 * fetch ponyfill, which Readable.fromWeb refuses, so they are read through their own reader.
 */
export async function* chunksOf(body: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = body.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}
