export { startAgent, AGENT_SYNC, AGENT_ASSIGNMENTS, WORKDIR_MISSING, type Agent } from "./agent.js";
export { agentOptionsFromEnv, AgentConfigError, type AgentOptions } from "./config.js";
export { LogShipper, type LogSink, type LogShipperOptions } from "./log-shipper.js";
export { runCommand, type CommandOutcome, type CommandSpec } from "./command.js";
export { graphqlLogSink, APPEND_TASK_LOG } from "./sink.js";
export { WorkDirs } from "./workdir.js";
