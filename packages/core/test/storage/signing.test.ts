import { describe, expect, it } from "vitest";
import {
  InvalidKeyError,
  keyFromFilesPath,
  objectVersion,
  shareLinkSignature,
  signShareLink,
  verifyShareLinkSignature,
} from "../../src/storage/index.js";

const secret = "a-test-secret-of-some-length";
const now = new Date("2026-01-01T00:00:00Z");
const nowSeconds = now.getTime() / 1000;

const version = "0123456789abcdef";

function parts(url: string) {
  const parsed = new URL(url);
  return { path: parsed.pathname, expires: parsed.searchParams.get("expires"), version: parsed.searchParams.get("v"), signature: parsed.searchParams.get("signature") };
}

describe("share links", () => {
  it("have the documented shape with each key segment encoded", () => {
    const url = signShareLink("https://berth.example/", "reports/Q1 résumé+#?.pdf", nowSeconds + 60, version, secret);
    expect(url).toMatch(/^https:\/\/berth\.example\/files\/reports\/Q1%20r%C3%A9sum%C3%A9%2B%23%3F\.pdf\?expires=\d+&v=0123456789abcdef&signature=[0-9a-f]{64}$/);
    expect(parts(url).expires).toBe(String(nowSeconds + 60));
  });

  it("verify for the key they were made for until they expire", () => {
    const key = "reports/Q1 résumé+#?.pdf";
    const { path, expires, version: v, signature } = parts(signShareLink("http://127.0.0.1:4000", key, nowSeconds + 60, version, secret));
    expect(keyFromFilesPath(path)).toBe(key);
    expect(verifyShareLinkSignature(key, expires, v, signature, secret, now)).toEqual({ valid: true });
    expect(verifyShareLinkSignature(key, expires, v, signature, secret, (nowSeconds + 59) * 1000)).toEqual({ valid: true });
    expect(verifyShareLinkSignature(key, expires, v, signature, secret, (nowSeconds + 60) * 1000)).toEqual({ valid: false, reason: "expired" });
  });

  it("are refused when the key, the expiry, the version, the signature or the secret differ", () => {
    const expires = nowSeconds + 60;
    const signature = shareLinkSignature("a.txt", expires, version, secret);
    expect(verifyShareLinkSignature("b.txt", expires, version, signature, secret, now)).toEqual({ valid: false, reason: "mismatch" });
    expect(verifyShareLinkSignature("a.txt", expires + 3600, version, signature, secret, now)).toEqual({ valid: false, reason: "mismatch" });
    expect(verifyShareLinkSignature("a.txt", expires, "fedcba9876543210", signature, secret, now)).toEqual({ valid: false, reason: "mismatch" });
    const flipped = (signature[0] === "0" ? "1" : "0") + signature.slice(1);
    expect(verifyShareLinkSignature("a.txt", expires, version, flipped, secret, now)).toEqual({ valid: false, reason: "mismatch" });
    expect(verifyShareLinkSignature("a.txt", expires, version, signature, "another-secret", now)).toEqual({ valid: false, reason: "mismatch" });
  });

  it("name the object's version: another etag or modification time is another version", () => {
    const at = new Date("2026-01-01T00:00:00Z");
    expect(objectVersion({ etag: "e1", lastModified: at })).toMatch(/^[0-9a-f]{16}$/);
    expect(objectVersion({ etag: "e1", lastModified: at })).toBe(objectVersion({ etag: "e1", lastModified: new Date(at) }));
    expect(objectVersion({ etag: "e2", lastModified: at })).not.toBe(objectVersion({ etag: "e1", lastModified: at }));
    expect(objectVersion({ etag: "e1", lastModified: new Date(at.getTime() + 1000) })).not.toBe(objectVersion({ etag: "e1", lastModified: at }));
  });

  it.each([
    [null, "0".repeat(64)],
    ["", "0".repeat(64)],
    ["12abc", "0".repeat(64)],
    ["-5", "0".repeat(64)],
    ["1e12", "0".repeat(64)],
    [String(nowSeconds + 60), null],
    [String(nowSeconds + 60), "abc"],
    [String(nowSeconds + 60), "Z".repeat(64)],
    [String(nowSeconds + 60), "0".repeat(65)],
  ])("expires=%j signature=%j is malformed", (expires, signature) => {
    expect(verifyShareLinkSignature("a.txt", expires, version, signature, secret, now)).toEqual({ valid: false, reason: "malformed" });
  });

  it.each([null, "", "xyz", "0123456789ABCDEF", "0123456789abcdef0"])("version=%j is malformed", (v) => {
    const expires = nowSeconds + 60;
    expect(verifyShareLinkSignature("a.txt", expires, v, shareLinkSignature("a.txt", expires, version, secret), secret, now)).toEqual({ valid: false, reason: "malformed" });
  });

  it("an expired but otherwise valid URL says expired, not mismatch", () => {
    const expires = nowSeconds - 1;
    expect(verifyShareLinkSignature("a.txt", expires, version, shareLinkSignature("a.txt", expires, version, secret), secret, now)).toEqual({
      valid: false,
      reason: "expired",
    });
  });
});

describe("keys from /files/ paths", () => {
  it.each([
    ["/files/a/b.txt", "a/b.txt"],
    ["/files/a%20b/c%2Bd.txt", "a b/c+d.txt"],
    ["a/b.txt", "a/b.txt"],
    ["/files/100%25.txt", "100%.txt"],
  ])("%s names %j", (path, key) => {
    expect(keyFromFilesPath(path)).toBe(key);
  });

  it.each(["/files/../x", "/files/a/%2e%2e/%2e%2e/x", "/files/%2e%2e%2fx", "/files/%252e%252e/x", "/files/a%5Cb", "/files/a%00", "/files/%", "/files/", "/files/a//b"])(
    "%s is an InvalidKeyError",
    (path) => {
      expect(() => keyFromFilesPath(path)).toThrow(InvalidKeyError);
    },
  );
});
