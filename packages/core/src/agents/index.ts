export { registerAgent, heartbeat, currentAssignments, findAgentPod, type AgentPod, type AgentScope, type CurrentAssignment } from "./registry.js";
export { syncAgent, MAX_ACTIVE_TASKS, type AgentSync, type AgentSyncInput, type ReservedWork } from "./sync.js";
export { detectLostPods, type LostPodOutcome } from "./lost.js";
export { PodNotFoundError, PodLostError, PodTerminatingError } from "./errors.js";
