import { registry } from "../../src/metrics/index.js";

/**
 * Sum of the series of metric `name` whose labels include `labels` (0 when never recorded).
 * For a histogram, `series` picks `_count` or `_sum`.
 */
export async function metricValue(name: string, labels: Record<string, string> = {}, series = name): Promise<number> {
  const m = registry.getSingleMetric(name);
  if (!m) return 0;
  const { values } = await m.get();
  return values
    .filter((v) => ((v as { metricName?: string }).metricName ?? name) === series && Object.entries(labels).every(([k, x]) => v.labels[k] === x))
    .reduce((sum, v) => sum + v.value, 0);
}
