/**
 * Where a log's kept bytes are, in offsets of the full log. A log of at most `capBytes` is kept
 * whole; past it, the first half of the cap (the head) and the last half (the tail) are kept,
 * and a marker stands for the bytes dropped between them.
 */
export interface LogLayout {
  size: number;
  /** Bytes [0, headEnd) are kept. */
  headEnd: number;
  /** Bytes [tailFrom, size) are kept; tailFrom > headEnd when bytes were dropped. */
  tailFrom: number;
}

export function logLayout(size: number, capBytes: number): LogLayout {
  const headLimit = Math.floor(capBytes / 2);
  const tailLimit = capBytes - headLimit;
  const headEnd = Math.min(size, headLimit);
  return { size, headEnd, tailFrom: Math.max(headEnd, size - tailLimit) };
}

export const droppedBytes = (layout: LogLayout) => layout.tailFrom - layout.headEnd;
export const isTruncated = (layout: LogLayout) => droppedBytes(layout) > 0;

/** What a reader sees where bytes were dropped. */
export function truncationMarker(dropped: number): string {
  return `\n… ${dropped} bytes truncated …\n`;
}

/** One page of a log: bytes [start, end) of the full log, after the marker when `marker` is set. */
export interface PagePlan {
  start: number;
  end: number;
  marker: string | null;
}

/**
 * The page that starts at `from`: at most `pageBytes` of one kept part (the head, or the tail
 * after the marker), so a page never spans the dropped bytes. Ends at `size` when `from` is past it.
 */
export function planPage(layout: LogLayout, from: number, pageBytes: number): PagePlan {
  const { size, headEnd, tailFrom } = layout;
  const at = Math.min(Math.max(0, from), size);
  if (at < headEnd) return { start: at, end: Math.min(at + pageBytes, isTruncated(layout) ? headEnd : size), marker: null };
  if (at < tailFrom) return { start: tailFrom, end: Math.min(tailFrom + pageBytes, size), marker: truncationMarker(droppedBytes(layout)) };
  return { start: at, end: Math.min(at + pageBytes, size), marker: null };
}

/** Where byte `offset` of the full log (a kept one) sits in the stored object: head, marker, tail. */
export function storedOffset(layout: LogLayout, offset: number): number {
  if (offset < layout.headEnd || !isTruncated(layout)) return offset;
  return layout.headEnd + Buffer.byteLength(truncationMarker(droppedBytes(layout))) + (offset - layout.tailFrom);
}

const isContinuation = (byte: number | undefined) => byte !== undefined && (byte & 0xc0) === 0x80;

/**
 * `bytes` (bytes [start, end) of the log) cut so that no UTF-8 character is split at the end of
 * the page, unless the page ends where the kept bytes end; skips a partial character at the start
 * of the tail. Returns the bytes and the offset just past them.
 */
export function wholeCharacters(bytes: Buffer, start: number, plan: { cutEnd: boolean; skipStart: boolean }): { bytes: Buffer; end: number } {
  let from = 0;
  if (plan.skipStart) while (from < 3 && isContinuation(bytes[from])) from++;
  let to = bytes.length;
  if (plan.cutEnd) {
    let back = to;
    // A lead byte whose character does not fit: cut before it.
    while (back > from && to - back < 4 && isContinuation(bytes[back - 1])) back--;
    if (back > from) {
      const lead = bytes[back - 1]!;
      const need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
      if (to - (back - 1) < need) to = back - 1;
    }
    if (to <= from) to = bytes.length; // a page of less than one character: give it as it is
  }
  return { bytes: bytes.subarray(from, to), end: start + to };
}
