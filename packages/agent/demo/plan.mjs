// The demo pool's plan: prints progress over a few seconds and writes plan.json in its working
// directory, which the apply reads on the same pod. Payload: { durationMs = 4000, fail = false, steps = 5 }.
// Each progress line ends with `at <epoch ms>`, the moment it was printed, so a reader of the live
// log can tell how late it arrived.
import { writeFileSync } from "node:fs";
import { join } from "node:path";

const payload = JSON.parse(process.env.BERTH_PAYLOAD || "{}");
const durationMs = Number.isFinite(payload.durationMs) && payload.durationMs >= 0 ? payload.durationMs : 4000;
const steps = Number.isInteger(payload.steps) && payload.steps > 0 && payload.steps <= 100 ? payload.steps : 5;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const dir = process.cwd();

console.log(`planning task ${process.env.BERTH_TASK_ID} on ${process.env.BERTH_POD_NAME}, slot ${process.env.BERTH_SLOT}, in ${dir} at ${Date.now()}`);
const changes = [];
for (let i = 1; i <= steps; i++) {
  await sleep(durationMs / steps);
  changes.push(`resource_${i}`);
  console.log(`\x1b[32m+\x1b[0m resource_${i} will be created (${i}/${steps}) at ${Date.now()}`);
}
if (payload.fail === true) {
  console.error("plan failed on purpose (payload.fail)");
  writeFileSync(process.env.BERTH_RESULT_FILE, JSON.stringify({ error: "plan failed on purpose (payload.fail)" }));
  process.exit(1);
}
const plan = { task: process.env.BERTH_TASK_ID, pod: process.env.BERTH_POD_NAME, changes, at: new Date().toISOString() };
writeFileSync("plan.json", JSON.stringify(plan, null, 2));
console.log(`wrote ${join(dir, "plan.json")}`);
const summary = `Plan: ${changes.length} to add, 0 to change, 0 to destroy.`;
console.log(summary);
writeFileSync(process.env.BERTH_RESULT_FILE, JSON.stringify({ plan: summary, changes: changes.length }));
