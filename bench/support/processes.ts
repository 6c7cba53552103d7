// Child processes of a benchmark (API replicas, load workers): TypeScript modules run through
// tsx, talking over IPC. Every child is killed when the benchmark process exits, however it exits.
import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

export interface Message {
  type: string;
  [field: string]: unknown;
}

export interface Child {
  readonly pid: number;
  send(message: Message): void;
  /** The next message of `type` (kept if it arrived earlier); rejects if the child exits first or on timeout. */
  next<T extends Message = Message>(type: string, timeoutMs: number): Promise<T>;
  /** Sends `message` and waits for the reply of `replyType`; a reply of type `error` rejects with its message. */
  ask<T extends Message = Message>(message: Message, replyType: string, timeoutMs: number): Promise<T>;
  /** Asks the child to stop (message `stop`), then kills it if it has not exited in time. */
  stop(timeoutMs?: number): Promise<void>;
}

const live = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of live) child.kill("SIGKILL");
});

const TAIL_BYTES = 4096;

export function startChild(module: URL, env: Record<string, string> = {}): Child {
  const child = fork(fileURLToPath(module), [], {
    execArgv: ["--import", "tsx"],
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe", "ipc"],
  });
  live.add(child);
  // A message to a child that is already going fails with EPIPE; its exit is what counts.
  child.on("error", () => {});
  // Kept for the error message if the child dies; its output is otherwise not shown.
  let tail = "";
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString()).slice(-TAIL_BYTES);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);

  const inbox: Message[] = [];
  const waiters = new Set<{ type: string; resolve(m: Message): void; reject(e: Error): void }>();
  let asking: { replyType: string; resolve(m: Message): void; reject(e: Error): void } | null = null;
  let exited: Error | null = null;
  child.on("message", (raw) => {
    const message = raw as Message;
    if (asking && (message.type === asking.replyType || message.type === "error")) {
      const { resolve, reject } = asking;
      asking = null;
      if (message.type === "error") reject(new Error(`the child failed: ${String(message.message)}`));
      else resolve(message);
      return;
    }
    for (const w of waiters) {
      if (w.type === message.type) {
        waiters.delete(w);
        w.resolve(message);
        return;
      }
    }
    inbox.push(message);
  });
  const exitedPromise = new Promise<void>((resolve) =>
    child.once("exit", (code, signal) => {
      live.delete(child);
      exited = new Error(`child ${module.pathname.split("/").pop()} exited (${signal ?? code}); last output:\n${tail}`);
      for (const w of waiters) w.reject(exited);
      waiters.clear();
      asking?.reject(exited);
      asking = null;
      resolve();
    }),
  );

  return {
    pid: child.pid ?? -1,
    send: (message) => {
      child.send(message);
    },
    next<T extends Message>(type: string, timeoutMs: number): Promise<T> {
      const index = inbox.findIndex((m) => m.type === type);
      if (index >= 0) return Promise.resolve(inbox.splice(index, 1)[0] as T);
      if (exited) return Promise.reject(exited);
      return new Promise<T>((resolve, reject) => {
        const waiter = {
          type,
          resolve: (m: Message) => {
            clearTimeout(timer);
            resolve(m as T);
          },
          reject: (e: Error) => {
            clearTimeout(timer);
            reject(e);
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`no '${type}' message from the child within ${timeoutMs} ms; last output:\n${tail}`));
        }, timeoutMs);
        waiters.add(waiter);
      });
    },
    ask<T extends Message>(message: Message, replyType: string, timeoutMs: number): Promise<T> {
      if (exited) return Promise.reject(exited);
      if (asking) return Promise.reject(new Error("one question at a time"));
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => {
          asking = null;
          reject(new Error(`no '${replyType}' reply to '${message.type}' within ${timeoutMs} ms; last output:\n${tail}`));
        }, timeoutMs);
        asking = {
          replyType,
          resolve: (m) => {
            clearTimeout(timer);
            resolve(m as T);
          },
          reject: (e) => {
            clearTimeout(timer);
            reject(e);
          },
        };
        child.send(message);
      });
    },
    async stop(timeoutMs = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      if (child.connected) child.send({ type: "stop" }, () => {});
      const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
      await exitedPromise;
      clearTimeout(timer);
    },
  };
}

/** In a child: the messages from the parent, and a way to answer. */
export function parentChannel() {
  if (!process.send) throw new Error("this module runs as a child process of a benchmark");
  const send = (message: Message) =>
    new Promise<void>((resolve, reject) => process.send!(message, undefined, {}, (error) => (error ? reject(error) : resolve())));
  const next = <T extends Message = Message>(type: string) =>
    new Promise<T>((resolve) => {
      const listener = (raw: unknown) => {
        const message = raw as Message;
        if (message.type !== type) return;
        process.off("message", listener);
        resolve(message as T);
      };
      process.on("message", listener);
    });
  // The parent gone means nobody reads our results: stop rather than linger.
  process.on("disconnect", () => process.exit(0));
  return { send, next };
}
