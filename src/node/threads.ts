// Node's thread platform for the kernel pool (src/kernels/pool.ts): worker_threads Workers running
// src/node/pool-worker. Importing this module installs it; the thread count then defaults to
// os.availableParallelism(). Workers are unref'd (they never keep the process alive) and start lazily, on
// the first call large enough to split.
//
// Running from TypeScript sources (tests, tsx), the worker loads pool-worker.ts through tsx's API, since
// Node 20 does not pass loader hooks on to workers.

import { createRequire } from "node:module";
import { availableParallelism } from "node:os";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { type PoolPlatform, setPoolPlatform } from "../kernels/pool.js";
import "./relaxed-simd.js"; // Node 20: fused multiply-add in the kernels, for the workers too

/**
 * The expression a `new Worker(..., { eval: true })` script uses to load the module `name` of this
 * folder (pool-worker, member-worker): the .js beside this file, or from TypeScript sources (tests, tsx)
 * the .ts through tsx's API, since Node 20 does not pass loader hooks on to workers.
 */
export function workerImport(name: string): string {
  const here = import.meta.url;
  const fromTs = here.endsWith(".ts");
  const entry = new URL(fromTs ? `./${name}.ts` : `./${name}.js`, here).href;
  return fromTs
    ? `import(${JSON.stringify(
        pathToFileURL(
          createRequire(here)
            .resolve("tsx/esm/api")
            .replace(/\.cjs$/, ".mjs"),
        ).href,
      )})` + `.then((api) => api.tsImport(${JSON.stringify(entry)}, ${JSON.stringify(here)}))`
    : `import(${JSON.stringify(entry)})`;
}

function workerSource(): string {
  // a worker that fails to load says so in its status word, so the caller stops waiting for it
  return `const { workerData } = require("node:worker_threads");
${workerImport("pool-worker")}.catch((e) => {
  const c = new Int32Array(workerData.control);
  console.error("recurrent thread pool: worker failed to load:", e);
  Atomics.store(c, 0, 3);
  Atomics.notify(c, 0);
});`;
}

let source: string | null = null;

/** The platform: worker_threads, blocking allowed (Atomics.wait works on Node's main thread). */
export const nodeThreads: PoolPlatform = {
  cores: () => availableParallelism(),
  canBlock: () => true,
  createWorker(control) {
    source ??= workerSource();
    const w = new Worker(source, { eval: true, workerData: { control: control.buffer } });
    w.unref();
    w.on("error", (e) => {
      // the caller learns of it through the status word; keep the error from being uncaught
      console.error("recurrent thread pool: worker error:", e);
    });
    return {
      postMessage: (m) => w.postMessage(m),
      terminate: () => void w.terminate(),
    };
  },
};

setPoolPlatform(nodeThreads);
