// Loaded (--import) into every local pod's process: when the process that started it is gone,
// however it went (even SIGKILL, which runs no exit handler), the pod is told to stop as a
// Kubernetes pod would be, with SIGTERM, instead of living on as an orphan.
const stop = () => process.kill(process.pid, "SIGTERM");
// `send` exists only in a process started with an IPC channel, which the local runtime always opens.
if (typeof process.send === "function") {
  if (!process.connected || !process.channel) {
    // The parent died while this process was still booting: the channel is already closed.
    stop();
  } else {
    process.channel.unref();
    process.once("disconnect", stop);
  }
}
