// The browser thread platform (src/kernels/web-threads.ts) with stand-in workers: what it starts, waits
// for and installs, and how it fails. The real thing, Web Workers in Chromium splitting a product, is
// checked end to end in test/e2e/playground.test.ts.

import { afterEach, describe, expect, it } from "vitest";
import { getNumThreads, poolStats, setPoolPlatform, shutdownPool } from "../src/kernels/pool.js";
import { startWebThreads, type WebWorkerLike } from "../src/kernels/web-threads.js";

/** A stand-in Web Worker that loads after a tick and then says it is ready (or fails to load). */
function fakeWorker(fails = false): WebWorkerLike & { terminated: boolean; posted: unknown[] } {
  const w = {
    onmessage: null as WebWorkerLike["onmessage"],
    onerror: null as WebWorkerLike["onerror"],
    terminated: false,
    posted: [] as unknown[],
    postMessage(m: unknown) {
      w.posted.push(m);
    },
    terminate() {
      w.terminated = true;
    },
  };
  setTimeout(() => {
    if (fails) w.onerror?.({ message: "SyntaxError in pool-worker.js" });
    else w.onmessage?.({ data: "recurrent-pool-ready" });
  }, 1);
  return w;
}

afterEach(() => {
  shutdownPool();
  setPoolPlatform(null);
});

describe("startWebThreads", () => {
  it("starts threads - 1 workers, waits for each, and installs them as the pool's platform", async () => {
    const made: ReturnType<typeof fakeWorker>[] = [];
    const n = await startWebThreads(() => {
      const w = fakeWorker();
      made.push(w);
      return w;
    }, 3);
    expect(n).toBe(3);
    expect(made).toHaveLength(2);
    expect(getNumThreads()).toBe(3);
    expect(made.every((w) => w.onmessage === null && !w.terminated)).toBe(true);
  });

  it("with one thread starts nothing", async () => {
    let made = 0;
    expect(
      await startWebThreads(() => {
        made++;
        return fakeWorker();
      }, 1),
    ).toBe(1);
    expect(made).toBe(0);
    expect(getNumThreads()).toBe(1);
  });

  it("rejects when a worker fails to load, and stops the ones it started", async () => {
    const made: ReturnType<typeof fakeWorker>[] = [];
    let i = 0;
    await expect(
      startWebThreads(() => {
        const w = fakeWorker(i++ === 1);
        made.push(w);
        return w;
      }, 3),
    ).rejects.toThrow(/a pool worker failed to load: SyntaxError in pool-worker.js/);
    expect(made.map((w) => w.terminated)).toEqual([true, true]);
    expect(getNumThreads()).toBe(1); // nothing installed
  });

  it("rejects a thread count that is not a positive integer", async () => {
    await expect(startWebThreads(() => fakeWorker(), 0)).rejects.toThrow(/expected threads ≥ 1, got 0/);
    await expect(startWebThreads(() => fakeWorker(), 1.5)).rejects.toThrow(/expected threads ≥ 1, got 1.5/);
  });

  it("not in a worker, the pool does not block: calls stay on the calling thread", async () => {
    await startWebThreads(() => fakeWorker(), 2);
    const { matmul } = await import("../src/core/ops.js");
    const { randn } = await import("../src/core/creation.js");
    const before = poolStats().pooledCalls;
    matmul(randn(256, 512), randn(512, 256)); // large enough to split, but this thread may not block
    expect(poolStats().pooledCalls).toBe(before);
  });
});
