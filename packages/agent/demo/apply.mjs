// The demo pool's apply: reads the plan.json its plan wrote in this working directory and prints
// what it applies. Alone (an `apply` task) it applies an empty plan. Payload: { durationMs = 2000, fail = false }.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const payload = JSON.parse(process.env.BERTH_PAYLOAD || "{}");
const durationMs = Number.isFinite(payload.durationMs) && payload.durationMs >= 0 ? payload.durationMs : 2000;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const file = join(process.cwd(), "plan.json");

const found = existsSync(file);
const plan = found ? JSON.parse(readFileSync(file, "utf8")) : { changes: [], pod: process.env.BERTH_POD_NAME };
if (found) console.log(`read ${file}, written by the plan of task ${plan.task} on ${plan.pod} at ${plan.at}`);
else console.log(`no plan.json in ${process.cwd()}: applying an empty plan`);
console.log(`applying ${plan.changes.length} change(s) from plan.json (planned on ${plan.pod}) on ${process.env.BERTH_POD_NAME}`);
for (const change of plan.changes) {
  await sleep(durationMs / Math.max(plan.changes.length, 1));
  console.log(`${change}: creation complete`);
}
if (payload.fail === true) {
  console.error("apply failed on purpose (payload.fail)");
  process.exit(1);
}
console.log(`Apply complete! Resources: ${plan.changes.length} added, 0 changed, 0 destroyed.`);
writeFileSync(process.env.BERTH_RESULT_FILE, JSON.stringify({ applied: plan.changes.length, plannedOn: plan.pod ?? null }));
