import { Counter, metric, registry } from "../metrics/index.js";

/**
 * Live events that did not reach a subscriber, each counted once, by why:
 *   publish_failed       Redis refused or lost the publish: no replica's subscribers got it;
 *   subscriber_overflow  one subscriber fell behind and was closed: the events it had not read.
 * Subscribers converge from the database either way; this says how often they have to.
 */
export const eventsDropped = metric(
  "berth_events_dropped_total",
  () =>
    new Counter({
      name: "berth_events_dropped_total",
      help: "Live events that did not reach a subscriber, by reason (publish_failed, subscriber_overflow)",
      labelNames: ["reason"],
      registers: [registry],
    }),
);

/** Publishes Redis took only after the publisher stopped waiting: delivered, but late. */
export const eventsLate = metric(
  "berth_events_late_total",
  () => new Counter({ name: "berth_events_late_total", help: "Live events Redis accepted only after the 1 s a publisher waits", registers: [registry] }),
);

/** Times subscribers were told to re-read the truth because the bus reconnected (what was published meanwhile is gone). */
export const eventsResyncs = metric(
  "berth_events_resyncs_total",
  () => new Counter({ name: "berth_events_resyncs_total", help: "Times subscribers were told to re-read the truth after the event bus reconnected", registers: [registry] }),
);
