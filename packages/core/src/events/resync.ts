import { isResync, type Resync } from "./types.js";

/**
 * A subscription that turns each Resync into the current truth: `snapshot()` is read and its
 * items delivered in the marker's place, so a consumer that applies every item converges even
 * when events were lost.
 */
export async function* withResync<T, S = T>(source: AsyncIterable<T | Resync>, snapshot: () => Promise<S[]>): AsyncGenerator<T | S> {
  for await (const event of source) {
    if (isResync(event)) yield* await snapshot();
    else yield event;
  }
}
