export declare const DEFAULT_AGENT_ENTRY: string;
/** Bundles `entry` (relative to the repository) into `outfile`; returns the absolute path written. */
export declare function bundleAgent(entry?: string, outfile?: string): Promise<string>;
