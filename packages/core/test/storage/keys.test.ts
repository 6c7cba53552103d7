import { describe, expect, it } from "vitest";
import { InvalidKeyError, validateKey, validatePrefix } from "../../src/storage/index.js";
import { hostileKeys } from "./hostile-keys.js";

function refusal(run: () => unknown): InvalidKeyError {
  try {
    run();
  } catch (error) {
    if (error instanceof InvalidKeyError) return error;
    throw error;
  }
  throw new Error("was accepted");
}

describe("key validation", () => {
  it.each(hostileKeys)("refuses %s with its reason", (_label, key, reason) => {
    const error = refusal(() => validateKey(key));
    expect(error.reason).toBe(reason);
    expect(error.key).toBe(key);
  });

  it.each([
    "a",
    "docs/report 2024.pdf",
    "ünïcødé/日本語.txt",
    "a+b=c&d.txt",
    "100%.txt",
    "50%off/deal",
    "..hidden",
    "a..b/c..",
    "...",
    ".env",
    "folder/.gitkeep",
    ".berth-storage-old/x",
    "kkkkkkkkk/".repeat(102) + "kkkk", // exactly 1024 bytes
    `a/${"s".repeat(255)}`,
  ])("accepts %j unchanged", (key) => {
    expect(validateKey(key)).toBe(key);
  });

  it('refuses "C:x", which Windows reads as relative to the current folder of drive C', () => {
    expect(refusal(() => validateKey("C:x")).reason).toBe("absolute");
  });

  it("refuses non-strings", () => {
    expect(refusal(() => validateKey(undefined)).reason).toBe("not-a-string");
    expect(refusal(() => validateKey(42)).reason).toBe("not-a-string");
  });
});

describe("prefix validation", () => {
  it.each(["", "docs/", "docs", "docs/20", "a/b/c/", ".berth-st"])("accepts %j", (prefix) => {
    expect(validatePrefix(prefix)).toBe(prefix);
  });

  it.each([
    ["../", "traversal"],
    ["a/../", "traversal"],
    ["/", "absolute"],
    ["/etc/", "absolute"],
    ["%2e%2e/", "encoded-traversal"],
    ["a//", "empty-segment"],
    ["a\\", "backslash"],
    [".berth-storage/", "reserved"],
    [".berth-storage/tmp/", "reserved"],
  ] as const)("refuses %j (%s)", (prefix, reason) => {
    expect(refusal(() => validatePrefix(prefix)).reason).toBe(reason);
  });
});
