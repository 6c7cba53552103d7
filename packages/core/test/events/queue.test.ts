import { describe, expect, it } from "vitest";
import { createSubscriptionQueue, DEFAULT_QUEUE_LIMIT, SubscriptionOverflowError } from "../../src/events/index.js";

describe("subscription queues are bounded", () => {
  it("a reader that falls `limit` events behind loses them and gets SubscriptionOverflowError, then the end", async () => {
    let ended = 0;
    const queue = createSubscriptionQueue<number>(() => ended++, { limit: 3 });
    for (let i = 0; i < 10; i++) queue.push(i);
    expect(ended).toBe(1);
    await expect(queue.next()).rejects.toBeInstanceOf(SubscriptionOverflowError);
    expect(await queue.next()).toEqual({ value: undefined, done: true });
  });

  it("with `overflowed`, the reader gets that marker in place of what it missed, then the end", async () => {
    const queue = createSubscriptionQueue<string>(() => {}, { limit: 2, overflowed: (limit) => `resync after ${limit}` });
    for (const v of ["a", "b", "c"]) queue.push(v);
    expect(await queue.next()).toEqual({ value: "resync after 2", done: false });
    expect(await queue.next()).toEqual({ value: undefined, done: true });
  });

  it("a reader that keeps up never overflows, however many events pass", async () => {
    const queue = createSubscriptionQueue<number>(() => {}, { limit: 2 });
    for (let i = 0; i < 1_000; i++) {
      const next = queue.next();
      queue.push(i);
      expect(await next).toEqual({ value: i, done: false });
    }
  });

  it("end() lets the reader take what is buffered; return() drops it", async () => {
    const ending = createSubscriptionQueue<number>(() => {});
    ending.push(1);
    ending.end();
    expect(await ending.next()).toEqual({ value: 1, done: false });
    expect(await ending.next()).toEqual({ value: undefined, done: true });
    const leaving = createSubscriptionQueue<number>(() => {});
    leaving.push(1);
    await leaving.return!();
    expect(await leaving.next()).toEqual({ value: undefined, done: true });
  });

  it("has a default limit", () => {
    let ended = false;
    const queue = createSubscriptionQueue<number>(() => (ended = true));
    for (let i = 0; i <= DEFAULT_QUEUE_LIMIT; i++) queue.push(i);
    expect(ended).toBe(true);
  });
});
