import { Registry, collectDefaultMetrics } from "prom-client";

/** The one Prometheus registry of the process: every capability registers its metrics here. */
export const registry = new Registry();
collectDefaultMetrics({ register: registry });

export { Counter, Gauge, Histogram, Summary } from "prom-client";

/**
 * Returns the metric registered under `name`, creating it on first use, so that modules
 * loaded twice (tests, hot reload) never fail on a duplicate registration.
 */
export function metric<T>(name: string, create: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? create();
}
