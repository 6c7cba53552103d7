import type { Pod, Slot, Task } from "@berth/core/db";
import { slotsOfPod, type PodWithSlots } from "@berth/core/pools";
import { getTask } from "@berth/core/tasks";
import { builder } from "../builder.js";
import { TaskRef } from "./tasks.js";

export type SlotWithTask = Slot & { task?: Task | null };

export const SlotRef = builder.objectRef<SlotWithTask>("Slot").implement({
  fields: (t) => ({
    index: t.exposeInt("index"),
    state: t.exposeString("state", { description: "idle, running or reserved." }),
    reservedUntil: t.expose("reservedUntil", { type: "DateTime", nullable: true }),
    task: t.field({
      type: TaskRef,
      nullable: true,
      // Slots listed with their pods arrive with the task loaded.
      resolve: (slot, _a, ctx) => (slot.task !== undefined ? slot.task : slot.taskId ? getTask(ctx.services.core, slot.taskId).catch(() => null) : null),
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
    slots: t.field({
      type: [SlotRef],
      complexity: { field: 1, multiplier: 3 },
      // Pods listed with their pool arrive with slots loaded; a pod reached alone loads its own.
      resolve: (pod, _a, ctx) => ("slots" in pod ? pod.slots : slotsOfPod(ctx.services.core, pod.id)),
    }),
  }),
});
