import { describe, expect, it } from "vitest";
import { agentTokenName } from "../src/domain.js";

describe("agent token names", () => {
  it("name the pool and the replica, and stay within a token name's 100 characters for any replica id", () => {
    expect(agentTokenName(true, "demo", "api-1")).toBe("local agents of demo on api-1");
    expect(agentTokenName(false, "demo", "berth-api-7d9f")).toBe("agents of demo on berth-api-7d9f");
    const pool = "p".repeat(63);
    const a = agentTokenName(true, pool, `berth-api-${"x".repeat(200)}-a`);
    const b = agentTokenName(true, pool, `berth-api-${"x".repeat(200)}-b`);
    expect(a.length).toBeLessThanOrEqual(100);
    expect(a).toMatch(new RegExp(`^local agents of ${pool} on #[0-9a-f]{16}$`));
    expect(a).not.toBe(b);
  });
});
