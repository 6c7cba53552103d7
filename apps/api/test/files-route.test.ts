// GET /files/<key>: share links are served so that no uploaded file can run script on the
// API's origin, and a link dies with the object it was made for.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApi, STARTUP_TIMEOUT_MS, type TestApi } from "./support/api.js";

describe("share links through GET /files/<key>", () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await createTestApi({ backend: "pglite" });
  }, STARTUP_TIMEOUT_MS);
  afterAll(() => api?.close());

  /** Uploads as a client could (any content type it likes), then follows a share link. */
  const shared = async (key: string, body: string, uploaderType: string) => {
    const put = await api.fetch(`/files/${key}`, { method: "PUT", headers: { authorization: `Bearer ${api.adminToken}`, "content-type": uploaderType }, body });
    expect(put.status).toBe(200);
    const link = new URL(await api.services.storage.getPresignedUrl(key, 60));
    return api.fetch(`${link.pathname}${link.search}`);
  };
  const script = "<html><body><script>fetch('/graphql')</script></body></html>";

  it.each([
    ["page.html", "text/html"],
    ["drawing.svg", "image/svg+xml"],
    ["app.js", "text/javascript"],
    ["page.xhtml", "application/xhtml+xml"],
    ["data.bin", "text/html"],
    ["noextension", "text/html"],
  ])("%s (uploaded as %s) is an attachment, with nosniff and a sandboxing CSP", async (key, uploaderType) => {
    const res = await shared(key, script, uploaderType);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-disposition")).toMatch(/^attachment; filename="/);
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("content-security-policy")).toMatch(/(^|;\s*)sandbox(;|$)/);
    expect(res.headers.get("content-security-policy")).toContain("default-src 'none'");
    expect(await res.text()).toBe(script);
  });

  it("the content type comes from the file name, never from the uploader", async () => {
    const png = await shared("pixel.png", script, "text/html");
    expect(png.headers.get("content-type")).toBe("image/png");
    expect(png.headers.get("content-disposition")).toMatch(/^inline; /);
    const html = await shared("index.html", script, "image/png");
    expect(html.headers.get("content-type")).toMatch(/^text\/html/);
    expect(html.headers.get("content-disposition")).toMatch(/^attachment; /);
    const unknown = await shared("blob.nothing-known", "x", "text/html");
    expect(unknown.headers.get("content-type")).toBe("application/octet-stream");
  });

  it("plain text and common images are shown inline, still with nosniff and the CSP", async () => {
    for (const [key, type] of [["notes.txt", /^text\/plain/], ["photo.jpg", /^image\/jpeg$/], ["anim.gif", /^image\/gif$/], ["pic.webp", /^image\/webp$/]] as const) {
      const res = await shared(key, "content", "application/octet-stream");
      expect(res.headers.get("content-type")).toMatch(type);
      expect(res.headers.get("content-disposition")).toMatch(/^inline; filename="/);
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(res.headers.get("content-security-policy")).toContain("sandbox");
    }
  });

  it("a link stops working once its object is deleted, and does not serve what is stored under the key later", async () => {
    const res = await shared("report.txt", "version one", "text/plain");
    expect(await res.text()).toBe("version one");
    const link = new URL(await api.services.storage.getPresignedUrl("report.txt", 60));
    await api.services.storage.delete("report.txt");
    expect((await api.fetch(`${link.pathname}${link.search}`)).status).toBe(404);
    await api.services.storage.saveBuffer(Buffer.from("version two, someone else's"), "report.txt");
    const after = await api.fetch(`${link.pathname}${link.search}`);
    expect(after.status).toBe(410);
    expect(await after.text()).not.toContain("version two");
  });
});
