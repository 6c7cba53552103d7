import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A Kubernetes Service in front of the API replicas, as pods reach the API in a cluster: each
 * request goes to the next replica, and one whose port refuses connections (a dead replica) is
 * skipped before anything was sent, so the request goes to a live one. Responses, server-sent
 * event streams included, are piped back as they come.
 */
export class ServiceProxy {
  private server!: Server;
  private next = 0;
  url = "";

  constructor(private readonly backends: () => string[]) {}

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.forward(req, res));
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async forward(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const backends = this.backends();
    for (let i = 0; i < backends.length; i++) {
      const target = new URL(backends[this.next++ % backends.length]!);
      const sent = await new Promise<boolean>((resolve) => {
        const upstream = request(
          { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host } },
          (answer) => {
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(res);
            res.on("close", () => answer.destroy());
            resolve(true);
          },
        );
        upstream.on("error", (error: NodeJS.ErrnoException) => {
          if (error.code === "ECONNREFUSED") resolve(false);
          else {
            if (!res.headersSent) res.writeHead(502);
            res.destroy();
            resolve(true);
          }
        });
        upstream.end(body);
      });
      if (sent) return;
    }
    res.writeHead(503, { "content-type": "application/json" });
    res.end(JSON.stringify({ errors: [{ message: "no API replica is up" }] }));
  }
}
