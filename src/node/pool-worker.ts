// The entry of a kernel pool worker (see src/kernels/pool.ts), started by src/node/threads.ts. It runs the
// raw kernels of the backend each job names; it installs no thread platform, so it never splits work itself.
// A Web Worker entry is the same three lines with `self.onmessage = (e) => handler(e.data)`.

import { parentPort } from "node:worker_threads";
import { getKernels, setBackend } from "../kernels/backend.js";
import { servePool } from "../kernels/pool.js";

servePool(
  (handler) => parentPort!.on("message", handler),
  (name) => {
    setBackend(name);
    return getKernels();
  },
);
