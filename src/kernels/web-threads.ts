// The thread pool's browser platform (see pool.ts): Web Workers sharing memory through SharedArrayBuffer,
// for a cross-origin-isolated page. Browser-safe: it touches no Node built-ins and uses only what the
// caller hands it.
//
// A browser starts a new worker only when the thread that created it returns to its event loop, so a pool
// worker created lazily by a blocking kernel call would never start. startWebThreads therefore starts the
// workers first, waits until each has loaded and said so, and only then installs the platform, which hands
// out those running workers. Blocking (Atomics.wait) is allowed in workers, not on a page's main thread: the
// pool splits calls made from a worker (the playground trains in one) and runs main-thread calls on one
// thread.
//
// In the page or worker that trains:   await startWebThreads(() => new Worker(poolUrl, { type: "module" }))
// In the pool worker script (poolUrl): serveWebPool()

import { getKernels, setBackend } from "./backend.js";
import { type PoolWorker, servePool, setPoolPlatform } from "./pool.js";

/** What startWebThreads needs of a Web Worker. */
export interface WebWorkerLike extends PoolWorker {
  onmessage: ((e: { data: unknown }) => void) | null;
  onerror: ((e: unknown) => void) | null;
}

interface WorkerScopeLike {
  onmessage: ((e: { data: unknown }) => void) | null;
  postMessage(message: unknown): void;
}

const READY = "recurrent-pool-ready";

/**
 * Starts `threads - 1` pool workers (default: navigator.hardwareConcurrency), waits until each is loaded,
 * and installs them as the thread pool's platform; resolves to the thread count in use. Needs
 * SharedArrayBuffer (crossOriginIsolated); without it, or with threads = 1, it installs nothing and
 * resolves to 1. Rejects when a worker fails to load, after stopping the others.
 */
export async function startWebThreads(makeWorker: () => WebWorkerLike, threads?: number): Promise<number> {
  const g = globalThis as { navigator?: { hardwareConcurrency?: number }; crossOriginIsolated?: boolean };
  const n = threads ?? Math.max(1, Math.floor(g.navigator?.hardwareConcurrency ?? 1));
  if (!Number.isInteger(n) || n < 1) throw new Error(`startWebThreads: expected threads ≥ 1, got ${threads}`);
  if (n === 1 || typeof SharedArrayBuffer === "undefined" || g.crossOriginIsolated === false) return 1;
  const started: WebWorkerLike[] = [];
  try {
    await Promise.all(
      Array.from(
        { length: n - 1 },
        () =>
          new Promise<void>((resolve, reject) => {
            const w = makeWorker();
            started.push(w);
            w.onmessage = (e) => {
              if (e.data !== READY) return;
              w.onmessage = null;
              w.onerror = null;
              resolve();
            };
            w.onerror = (e) => {
              const msg = (e as { message?: string }).message;
              reject(new Error(`startWebThreads: a pool worker failed to load${msg ? `: ${msg}` : ""}`));
            };
          }),
      ),
    );
  } catch (e) {
    for (const w of started) w.terminate();
    throw e;
  }
  const idle = [...started];
  setPoolPlatform({
    cores: () => n,
    // Atomics.wait is allowed in workers; a page's main thread may not block
    canBlock: () => typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope !== "undefined",
    createWorker(control) {
      const w = idle.shift();
      if (w !== undefined) return w;
      // asked for more workers than were started (setNumThreads above the count): this one is dead, so the
      // pool switches itself off instead of waiting for a worker that cannot start while it blocks
      Atomics.store(control, 0, 3);
      return { postMessage() {}, terminate() {} };
    },
  });
  return n;
}

/** The pool worker's side: serves kernel jobs from the pool, after telling startWebThreads it is ready. */
export function serveWebPool(): void {
  const scope = globalThis as unknown as WorkerScopeLike;
  servePool(
    (handler) => {
      scope.onmessage = (e) => handler(e.data);
    },
    (name) => {
      setBackend(name);
      return getKernels();
    },
  );
  scope.postMessage(READY);
}
