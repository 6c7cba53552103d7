"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { useCallback, useEffect, useRef, useState } from "react";
import { clientGraphQL, subscribe } from "@/lib/client/graphql";
import { useNow } from "@/lib/client/use-now";
import { dateTime, heartbeat, relative } from "@/lib/format";
import { POOL, POOL_CHANGED, SLOT_CHANGED } from "@/lib/queries";
import { applySlotChange, countedPods, countSlots, knowsSlot, slotView, splitLost } from "@/lib/slots";
import type { Pod, PoolDetail, Slot, SlotChange } from "@/lib/types";
import { EmptyState } from "@/components/empty-state";
import { UtilizationBar } from "@/components/utilization-bar";
import { PodActions } from "./pod-actions";

type Connection = "connecting" | "live" | "interrupted";
interface Selection {
  pod: string;
  index: number;
}

/** The pod × slot grid, kept current from the slot subscription without reloading the page. */
export function LivePool({ initial, operator = false }: { initial: PoolDetail; operator?: boolean }) {
  const router = useRouter();
  const [pool, setPool] = useState(initial);
  const [seenInitial, setSeenInitial] = useState(initial);
  const [connection, setConnection] = useState<Connection>("connecting");
  const [selected, setSelected] = useState<Selection | null>(null);
  const now = useNow(5_000);

  // A server refresh brings a complete picture (task types, reservations); it replaces ours.
  if (initial !== seenInitial) {
    setSeenInitial(initial);
    setPool(initial);
  }

  const poolRef = useRef(pool);
  useEffect(() => {
    poolRef.current = pool;
  }, [pool]);

  const refreshTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const refetchTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);

  const refreshServerParts = useCallback(() => {
    clearTimeout(refreshTimer.current);
    refreshTimer.current = setTimeout(() => router.refresh(), 300);
  }, [router]);

  const refetchPool = useCallback(() => {
    clearTimeout(refetchTimer.current);
    refetchTimer.current = setTimeout(() => {
      clientGraphQL<{ pool: PoolDetail | null }>(POOL, { name: initial.name })
        .then(({ pool: fresh }) => {
          if (fresh) setPool(fresh);
        })
        .catch((error: unknown) => console.warn("pool refetch failed", error));
    }, 150);
  }, [initial.name]);

  useEffect(() => {
    const stopSlots = subscribe<{ slotChanged: SlotChange }>(SLOT_CHANGED, { pool: initial.name }, {
      next: ({ slotChanged: change }) => {
        setConnection("live");
        // A pod we have not drawn yet (just started) needs the whole pool; a known slot is patched in place.
        if (!knowsSlot(poolRef.current, change)) refetchPool();
        setPool((current) => applySlotChange(current, change));
        refreshServerParts();
      },
      opened: () => setConnection("live"),
      reconnecting: () => setConnection("interrupted"),
      reconnected: () => {
        setConnection("live");
        refetchPool();
      },
      error: () => setConnection("interrupted"),
    });
    const stopPools = subscribe<{ poolChanged: { name: string } }>(POOL_CHANGED, {}, {
      next: ({ poolChanged }) => {
        setConnection("live");
        if (poolChanged.name !== initial.name) return;
        refetchPool();
        refreshServerParts();
      },
      error: () => setConnection("interrupted"),
    });
    return () => {
      clearTimeout(refreshTimer.current);
      clearTimeout(refetchTimer.current);
      stopSlots();
      stopPools();
    };
  }, [initial.name, refetchPool, refreshServerParts]);

  const { active, lost } = splitLost(pool.pods);
  const counts = countSlots(active);
  const selectedPod = selected ? pool.pods.find((p) => p.name === selected.pod) : undefined;
  const selectedSlot = selectedPod?.slots.find((s) => s.index === selected?.index);

  return (
    <section className="card" aria-labelledby="slots-heading" data-testid="live-pool">
      <header className="card-header">
        <h2 id="slots-heading" className="card-title">
          Pods and slots
        </h2>
        <span className={`live live-${connection}`} data-testid="live-status" data-connection={connection}>
          {connection === "live" ? "Live" : connection === "connecting" ? "Connecting…" : "Reconnecting…"}
        </span>
        <Legend />
      </header>

      <UtilizationBar busy={counts.running} reserved={counts.reserved} total={counts.total} />
      <dl className="stats">
        <div>
          <dt>Pods</dt>
          <dd data-testid="pod-count">{countedPods(pool.pods).length}</dd>
        </div>
        <div>
          <dt>Running</dt>
          <dd data-testid="running-count">{counts.running}</dd>
        </div>
        <div>
          <dt>Reserved</dt>
          <dd data-testid="reserved-count">{counts.reserved}</dd>
        </div>
        <div>
          <dt>Idle</dt>
          <dd data-testid="idle-count">{counts.idle}</dd>
        </div>
        <div>
          <dt>Starting</dt>
          <dd data-testid="starting-count">{counts.starting}</dd>
        </div>
        <div>
          <dt>Pending tasks</dt>
          <dd>{pool.pendingTasks}</dd>
        </div>
        {pool.pendingByReason ? (
          <div>
            <dt>Waiting: slot · key · cap</dt>
            <dd data-testid="pending-by-reason" title="no free slot · behind their concurrency key · held by the reserved-capacity cap">
              {pool.pendingByReason.noSlot} · {pool.pendingByReason.keyBlocked} · {pool.pendingByReason.reservedCap}
            </dd>
          </div>
        ) : null}
        <div>
          <dt>Reserved slot-hours</dt>
          <dd data-testid="reserved-slot-hours">{((pool.reservedSlotSeconds ?? 0) / 3600).toFixed(1)}</dd>
        </div>
      </dl>

      {active.length === 0 ? (
        <EmptyState title="No pods yet" testId="pods-empty">
          {pool.minPods > 0
            ? "Pods are starting; each appears here as soon as it exists."
            : "Raise min pods below, or submit a task: a pool with no pods starts one at once."}
        </EmptyState>
      ) : (
        <div className="slot-layout">
          <div className="pods" role="list" aria-label="Pods">
            {active.map((pod) => (
              <PodRow key={pod.name} pool={pool.name} operator={operator} pod={pod} now={now} selected={selected} onSelect={setSelected} />
            ))}
          </div>
          <aside className="slot-panel" aria-live="polite" data-testid="slot-panel">
            {selectedPod && selectedSlot ? (
              <SlotDetails pod={selectedPod} slot={selectedSlot} now={now} />
            ) : (
              <p className="muted">Select a slot to see the task it holds.</p>
            )}
          </aside>
        </div>
      )}
      {lost.length > 0 && (
        <section className="lost-pods" aria-labelledby="lost-heading" data-testid="lost-pods">
          <h3 id="lost-heading" className="lost-heading">
            Lost pods <span className="muted small">(not counted: their agents stopped answering; kept a while for history)</span>
          </h3>
          <ul className="lost-list">
            {lost.map((pod) => (
              <li key={pod.name} className="lost-row" data-testid="lost-pod-row" data-pod={pod.name}>
                <span className="pod-name">{pod.name}</span>
                <span className="muted small" title={pod.lastHeartbeatAt ? `Last heartbeat ${dateTime(pod.lastHeartbeatAt)}` : undefined}>
                  {heartbeat(pod, now)}
                </span>
                {operator && <PodActions key={`${pod.name}-${pod.phase}`} pool={pool.name} pod={pod} />}
              </li>
            ))}
          </ul>
        </section>
      )}
    </section>
  );
}

function Legend() {
  return (
    <ul className="legend" aria-label="Slot states">
      <li>
        <span className="swatch slot-idle" /> idle
      </li>
      <li>
        <span className="swatch slot-running" /> running
      </li>
      <li>
        <span className="swatch slot-reserved" /> reserved (awaiting approval)
      </li>
      <li>
        <span className="swatch slot-starting" /> starting
      </li>
    </ul>
  );
}

interface PodRowProps {
  pool: string;
  operator: boolean;
  pod: Pod;
  now: number | null;
  selected: Selection | null;
  onSelect(selection: Selection): void;
}

function PodRow({ pool, operator, pod, now, selected, onSelect }: PodRowProps) {
  return (
    <div className="pod-row" role="listitem" data-testid="pod-row" data-pod={pod.name} data-phase={pod.phase}>
      <div className="pod-meta">
        <span className="pod-name">{pod.name}</span>
        <span className={`badge phase phase-${pod.phase.toLowerCase()}`}>{pod.phase}</span>
        <span className="muted small" title={pod.lastHeartbeatAt ? `Last heartbeat ${dateTime(pod.lastHeartbeatAt)}` : undefined}>
          {heartbeat(pod, now)}
        </span>
        {operator && <PodActions key={`${pod.name}-${pod.phase}`} pool={pool} pod={pod} />}
      </div>
      <div className="slots">
        {pod.slots.map((slot) => {
          const isSelected = selected?.pod === pod.name && selected.index === slot.index;
          const task = slot.task ? `${slot.task.type || "task"} ${slot.task.id}` : "";
          const view = slotView(pod, slot);
          return (
            <button
              key={slot.index}
              type="button"
              className={`slot slot-${view}`}
              data-testid="slot-cell"
              data-state={slot.state}
              data-view={view}
              data-pod={pod.name}
              data-index={slot.index}
              data-task-id={slot.task?.id ?? ""}
              aria-pressed={isSelected}
              title={`#${slot.index} ${view}${task ? ` · ${task}` : ""}`}
              onClick={() => onSelect({ pod: pod.name, index: slot.index })}
            >
              <span className="slot-index">#{slot.index}</span> <span className="slot-state">{view}</span>
              {slot.task?.type && <span className="slot-task"> {slot.task.type}</span>}
              <span className="sr-only">
                {" "}
                slot of {pod.name}
                {slot.task ? `, task ${slot.task.id}` : ""}
              </span>
            </button>
          );
        })}
      </div>
    </div>
  );
}

function SlotDetails({ pod, slot, now }: { pod: Pod; slot: Slot; now: number | null }) {
  return (
    <div>
      <h3 className="panel-title">
        {pod.name} · slot #{slot.index}
      </h3>
      <dl className="details">
        <dt>State</dt>
        <dd data-testid="panel-state">{slot.state}</dd>
        <dt>Task</dt>
        <dd data-testid="panel-task">
          {slot.task ? (
            <Link href={`/tasks/${encodeURIComponent(slot.task.id)}`} data-testid="panel-task-link">
              {slot.task.id}
            </Link>
          ) : (
            "none"
          )}
        </dd>
        {slot.task && (
          <>
            <dt>Type</dt>
            <dd>{slot.task.type || "–"}</dd>
            <dt>Status</dt>
            <dd>{slot.task.status || "–"}</dd>
          </>
        )}
        {slot.reservedUntil && (
          <>
            <dt>Reserved until</dt>
            <dd>
              {dateTime(slot.reservedUntil)}
              {now ? ` (${relative(slot.reservedUntil, now)})` : ""}
            </dd>
          </>
        )}
      </dl>
    </div>
  );
}
