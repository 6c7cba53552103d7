import type { Pod, Slot, Task } from "@berth/core/db";
import { slotsOfPods, type PodWithSlots } from "@berth/core/pools";
import { tasksByIds } from "@berth/core/tasks";
import { builder } from "../builder.js";
import { requestLoader } from "../loaders.js";
import { TaskRef } from "./tasks.js";

/** A pod's slots with their tasks, for pods reached without them (a task's pod): one batch per request. */
const slotsLoader = requestLoader<string, (Slot & { task: Task | null })[]>(async (podIds, ctx) => {
  const byPod = await slotsOfPods(ctx.services.core, podIds);
  return podIds.map((id) => byPod.get(id) ?? []);
});

/** Tasks by id, for slots reached without their task (a task's slot). */
const tasksLoader = requestLoader<string, Task | null>(async (ids, ctx) => {
  const tasks = await tasksByIds(ctx.services.core, ids);
  return ids.map((id) => tasks.get(id) ?? null);
});

export type SlotWithTask = Slot & { task?: Task | null };

export const SlotRef = builder.objectRef<SlotWithTask>("Slot").implement({
  fields: (t) => ({
    index: t.exposeInt("index"),
    state: t.exposeString("state", { description: "idle, running or reserved." }),
    reservedUntil: t.expose("reservedUntil", { type: "DateTime", nullable: true }),
    task: t.field({
      type: TaskRef,
      nullable: true,
      // Slots listed with their pods arrive with the task loaded; others load theirs in one batch.
      resolve: (slot, _a, ctx) => (slot.task !== undefined ? slot.task : slot.taskId ? tasksLoader(ctx).load(slot.taskId) : null),
    }),
  }),
});

export const PodRef = builder.objectRef<Pod | PodWithSlots>("Pod").implement({
  fields: (t) => ({
    name: t.exposeString("name"),
    phase: t.exposeString("phase", { description: "Pending, Starting, Ready, Draining, Terminating or Lost." }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    readyAt: t.expose("readyAt", { type: "DateTime", nullable: true }),
    lastHeartbeatAt: t.expose("lastHeartbeatAt", { type: "DateTime", nullable: true }),
    tasksStarted: t.exposeInt("tasksStarted", { description: "Tasks ever placed on this pod (see the pool's maxTasksPerPod)." }),
    slots: t.field({
      type: [SlotRef],
      complexity: { field: 1, multiplier: 3 },
      // Pods listed with their pool arrive with slots loaded; pods reached otherwise load theirs in one batch.
      resolve: (pod, _a, ctx) => ("slots" in pod ? pod.slots : slotsLoader(ctx).load(pod.id)),
    }),
  }),
});
