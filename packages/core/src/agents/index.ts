export { registerAgent, heartbeat, currentAssignments, type AgentScope, type CurrentAssignment } from "./registry.js";
export { detectLostPods, type LostPodOutcome } from "./lost.js";
export { PodNotFoundError, PodLostError } from "./errors.js";
