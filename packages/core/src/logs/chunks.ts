import type { CoreContext } from "../context.js";

/** Chunks read from the database at once. */
const CHUNKS_PER_READ = 16;

/** Bytes of a running log that are not in the database: its chunks moved to storage meanwhile. */
export class LogBytesMissingError extends Error {
  constructor(
    readonly taskId: string,
    readonly at: number,
  ) {
    super(`the log of task ${taskId} has no bytes at ${at} in the database`);
  }
}

/** Bytes [start, end) of a running log from its chunks, a few chunks at a time; throws LogBytesMissingError where one is missing. */
export async function* chunkBytes(ctx: CoreContext, taskId: string, start: number, end: number): AsyncGenerator<Buffer> {
  let at = start;
  while (at < end) {
    const rows = await ctx.prisma.$queryRawUnsafe<{ offset: bigint; data: Uint8Array }[]>(
      `SELECT "offset", data FROM "TaskLogChunk" WHERE "taskId" = $1::uuid AND "offset" + length(data) > $2::bigint AND "offset" < $3::bigint ORDER BY "offset" LIMIT ${CHUNKS_PER_READ}`,
      taskId,
      at,
      end,
    );
    if (rows.length === 0) throw new LogBytesMissingError(taskId, at);
    for (const row of rows) {
      const offset = Number(row.offset);
      if (offset > at) throw new LogBytesMissingError(taskId, at);
      const data = Buffer.from(row.data.buffer, row.data.byteOffset, row.data.byteLength);
      const piece = data.subarray(at - offset, Math.min(data.length, end - offset));
      if (piece.length > 0) yield piece;
      at += piece.length;
    }
  }
}
