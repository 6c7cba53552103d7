import { Counter, metric, registry } from "../metrics/index.js";

export const taskMetrics = {
  superseded: metric(
    "berth_tasks_superseded_total",
    () => new Counter({ name: "berth_tasks_superseded_total", help: "Pending tasks cancelled because a later submission of their concurrency key superseded them", registers: [registry] }),
  ),
};
